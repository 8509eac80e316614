"""python-binance's Client, a second and independent Binance client, does the basics against the mock: its
base URLs are the only thing set (it signs, encodes and parses on its own)."""

from __future__ import annotations

import pytest
from binance.client import Client
from binance.exceptions import BinanceAPIException

from mockexchange_ccxt import Engine

from .support import python_binance as client


def test_python_binance_basics(facade: tuple[str, Engine]) -> None:
    url, engine = facade
    api = client(url)
    assert api.ping() == {}
    assert api.get_server_time()["serverTime"] > 0
    assert [s["symbol"] for s in api.get_exchange_info()["symbols"]] == ["BTCUSDT", "ETHUSDT"]
    assert api.get_symbol_info("ETHUSDT")["quoteAsset"] == "USDT"
    assert api.get_symbol_ticker(symbol="BTCUSDT") == {"symbol": "BTCUSDT", "price": "50000.00000000"}
    assert api.get_ticker(symbol="ETHUSDT")["bidPrice"] == "2499.50000000"
    assert api.get_orderbook_ticker(symbol="ETHUSDT")["askPrice"] == "2500.50000000"
    assert api.get_asset_balance("USDT") == {"asset": "USDT", "free": "100000.00000000", "locked": "0.00000000"}

    bought = api.order_market_buy(symbol="BTCUSDT", quantity="0.1")
    assert (bought["status"], bought["executedQty"], bought["fills"][0]["commission"]) == (
        "FILLED",
        "0.10000000",
        "5.00000000",
    )
    assert bought["clientOrderId"].startswith(Client.SPOT_ORDER_PREFIX)
    resting = api.order_limit_sell(symbol="BTCUSDT", quantity="0.05", price="60000")
    assert resting["status"] == "NEW"
    assert api.get_order(symbol="BTCUSDT", orderId=resting["orderId"])["origQty"] == "0.05000000"
    assert [o["orderId"] for o in api.get_open_orders(symbol="BTCUSDT")] == [resting["orderId"]]
    engine.set_price("BTC/USDT", "60000")
    assert api.get_order(symbol="BTCUSDT", origClientOrderId=resting["clientOrderId"])["status"] == "FILLED"
    assert [o["status"] for o in api.get_all_orders(symbol="BTCUSDT")] == ["FILLED", "FILLED"]
    trades = api.get_my_trades(symbol="BTCUSDT")
    assert [(t["isBuyer"], t["isMaker"], t["price"]) for t in trades] == [
        (True, False, "50000.00000000"),
        (False, True, "60000.00000000"),
    ]
    dip = api.order_limit_buy(symbol="BTCUSDT", quantity="0.1", price="40000")
    assert api.cancel_order(symbol="BTCUSDT", orderId=dip["orderId"])["status"] == "CANCELED"
    assert api.create_test_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.01") == {}
    assert api.get_trade_fee(symbol="BTCUSDT") == [
        {"symbol": "BTCUSDT", "makerCommission": "0.001", "takerCommission": "0.001"}
    ]
    assert api.get_asset_balance("BTC")["free"] == "0.05000000"


def test_python_binance_order_types(facade: tuple[str, Engine]) -> None:
    """Its own spellings of the other types, of quoteOrderQty, of lookups by client id and of cancel-all."""
    url, engine = facade
    api = client(url)
    engine.fund("BTC", "1")
    ioc = api.order_limit_buy(symbol="BTCUSDT", quantity="0.1", price="49000", timeInForce=Client.TIME_IN_FORCE_IOC)
    assert (ioc["status"], ioc["executedQty"]) == ("EXPIRED", "0.00000000")
    maker = api.create_order(
        symbol="BTCUSDT", side="BUY", type=Client.ORDER_TYPE_LIMIT_MAKER, quantity="0.1", price="49000"
    )
    stop = api.create_order(
        symbol="BTCUSDT",
        side="SELL",
        type=Client.ORDER_TYPE_STOP_LOSS_LIMIT,
        timeInForce=Client.TIME_IN_FORCE_GTC,
        quantity="0.5",
        price="44000",
        stopPrice="45000",
        newClientOrderId="my-stop",
    )
    assert "status" not in maker and stop["clientOrderId"] == "my-stop"  # ACK: Binance's default for these types
    resting = api.get_order(symbol="BTCUSDT", origClientOrderId="my-stop")
    assert (resting["orderId"], resting["status"], resting["isWorking"]) == (stop["orderId"], "NEW", False)
    assert resting["stopPrice"] == "45000.00000000"
    sold = api.order_market_sell(symbol="BTCUSDT", quoteOrderQty="500")
    assert (sold["status"], sold["executedQty"], sold["cummulativeQuoteQty"]) == (
        "FILLED",
        "0.01000000",
        "500.00000000",
    )
    with pytest.raises(BinanceAPIException) as taking:
        api.create_order(symbol="BTCUSDT", side="BUY", type="LIMIT_MAKER", quantity="0.1", price="51000")
    assert (taking.value.code, taking.value.message) == (-2010, "Order would immediately match and take.")
    assert api.cancel_order(symbol="BTCUSDT", origClientOrderId="my-stop")["status"] == "CANCELED"
    canceled = api.cancel_all_open_orders(symbol="BTCUSDT")
    assert [(o["orderId"], o["status"]) for o in canceled] == [(maker["orderId"], "CANCELED")]
    assert api.get_open_orders(symbol="BTCUSDT") == []
    assert api.get_asset_balance("BTC") == {"asset": "BTC", "free": "0.99000000", "locked": "0.00000000"}


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda api: api.order_market_buy(symbol="BTCUSDT", quantity="5"), -2010),
        (lambda api: api.get_order(symbol="BTCUSDT", orderId=77), -2013),
        (lambda api: api.cancel_order(symbol="BTCUSDT", orderId=77), -2011),
        (lambda api: api.get_symbol_ticker(symbol="NOPEUSDT"), -1121),
    ],
)
def test_python_binance_errors(facade: tuple[str, Engine], call: object, code: int) -> None:
    url, _ = facade
    with pytest.raises(BinanceAPIException) as raised:
        call(client(url))  # type: ignore[operator]
    assert raised.value.code == code


def test_python_binance_wrong_secret(facade: tuple[str, Engine]) -> None:
    url, _ = facade
    with pytest.raises(BinanceAPIException) as raised:
        client(url, secret="wrong").get_account()
    assert (raised.value.status_code, raised.value.code) == (400, -1022)
