"""Binance's order types, time in force, quote amounts and market filters through the dialect, raw and through
ccxt.binance: each the engine's own behaviour (issue 12), said the way Binance says it."""

from __future__ import annotations

import json
from typing import Any

import ccxt
import pytest
from servers import serving
from tests_helpers import keyspace

from mockexchange_ccxt import Engine, Settings
from mockexchange_ccxt.binance.order_types import HONOURS_TIME_IN_FORCE, SERVED_TYPES, TAKES_QUOTE_AMOUNT

from .support import KEY, MODES, SECRET, binance, error_of, in_mode, run, send

pytestmark = pytest.mark.skipif(
    not (HONOURS_TIME_IN_FORCE and TAKES_QUOTE_AMOUNT and len(SERVED_TYPES) == 7),
    reason="time in force, triggers and quote amounts come with the engine's order types (issue 12)",
)

ORDER = {"symbol": "BTCUSDT", "quantity": "0.1"}


def place(url: str, **params: Any) -> Any:
    merged = {"newOrderRespType": "RESULT", **ORDER, **params}
    merged = {name: value for name, value in merged.items() if value is not None}
    response = send(url, "POST", "/api/v3/order", merged)
    assert response.status_code == 200, response.text
    return response.json()


def test_every_type_is_listed(facade: tuple[str, Engine]) -> None:
    url, _ = facade
    info = send(url, "GET", "/api/v3/exchangeInfo", {"symbol": "BTCUSDT"}, signed=False).json()["symbols"][0]
    assert sorted(info["orderTypes"]) == sorted(
        ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"]
    )
    assert info["quoteOrderQtyMarketAllowed"] is True


def test_limit_maker_and_time_in_force(facade: tuple[str, Engine]) -> None:
    url, engine = facade
    maker = place(url, side="BUY", type="LIMIT_MAKER", price="49000")
    assert (maker["type"], maker["status"], maker["timeInForce"]) == ("LIMIT_MAKER", "NEW", "GTC")
    before = keyspace(engine)
    taking = send(url, "POST", "/api/v3/order", {**ORDER, "side": "BUY", "type": "LIMIT_MAKER", "price": "51000"})
    assert error_of(taking) == (400, -2010, "Order would immediately match and take.")
    assert keyspace(engine) == before
    expired = place(url, side="BUY", type="LIMIT", timeInForce="IOC", price="49000")
    assert (expired["status"], expired["executedQty"], expired["timeInForce"]) == ("EXPIRED", "0.00000000", "IOC")
    filled = place(url, side="BUY", type="LIMIT", timeInForce="FOK", price="51000")
    assert (filled["status"], filled["executedQty"]) == ("FILLED", "0.10000000")
    with_tif = send(
        url,
        "POST",
        "/api/v3/order",
        {**ORDER, "side": "BUY", "type": "LIMIT_MAKER", "price": "1", "timeInForce": "GTC"},
    )
    assert error_of(with_tif)[:2] == (400, -1106)


def test_stop_orders(facade: tuple[str, Engine]) -> None:
    url, engine = facade
    engine.fund("BTC", "1")
    stop = place(url, side="SELL", type="STOP_LOSS_LIMIT", timeInForce="GTC", price="44000", stopPrice="45000")
    assert (stop["type"], stop["status"]) == ("STOP_LOSS_LIMIT", "NEW")
    resting = send(url, "GET", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": stop["orderId"]}).json()
    assert (resting["stopPrice"], resting["isWorking"], resting["workingTime"]) == ("45000.00000000", False, -1)
    engine.set_price("BTC/USDT", "44900")  # the stop fires and its limit sells at once
    fired = send(url, "GET", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": stop["orderId"]}).json()
    assert (fired["status"], fired["isWorking"]) == ("FILLED", True) and fired["workingTime"] > 0
    before = keyspace(engine)
    crossed = send(url, "POST", "/api/v3/order", {**ORDER, "side": "SELL", "type": "STOP_LOSS", "stopPrice": "46000"})
    assert error_of(crossed) == (400, -2010, "Stop price would trigger immediately.")
    no_stop = send(url, "POST", "/api/v3/order", {**ORDER, "side": "SELL", "type": "TAKE_PROFIT"})
    assert error_of(no_stop)[:2] == (400, -1102)
    assert keyspace(engine) == before
    take_profit = place(url, side="SELL", type="TAKE_PROFIT", stopPrice="47000")
    assert (take_profit["type"], take_profit["status"]) == ("TAKE_PROFIT", "NEW")
    engine.set_price("BTC/USDT", "47000")
    assert (
        send(url, "GET", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": take_profit["orderId"]}).json()["status"]
        == "FILLED"
    )


def test_quote_order_qty(facade: tuple[str, Engine]) -> None:
    url, _ = facade
    bought = place(url, side="BUY", type="MARKET", quantity=None, quoteOrderQty="1000")
    assert (bought["origQuoteOrderQty"], bought["executedQty"], bought["cummulativeQuoteQty"]) == (
        "1000.00000000",
        "0.02000000",
        "1000.00000000",
    )
    both = send(url, "POST", "/api/v3/order", {**ORDER, "side": "BUY", "type": "MARKET", "quoteOrderQty": "10"})
    assert error_of(both)[:2] == (400, -1106)


@pytest.mark.parametrize("mode", MODES)
def test_ccxt_binance_order_types(facade: tuple[str, Engine], mode: str) -> None:
    url, engine = facade
    engine.fund("BTC", "1")

    async def scenario(ex: Any) -> None:
        await run(ex, "load_markets")
        with pytest.raises(ccxt.OrderImmediatelyFillable):
            await run(ex, "create_order", "BTC/USDT", "limit", "buy", 0.1, 51000, {"postOnly": True})
        post_only = await run(ex, "create_order", "BTC/USDT", "limit", "buy", 0.1, 49000, {"postOnly": True})
        assert post_only["postOnly"] and post_only["status"] == "open"
        ioc = await run(ex, "create_order", "BTC/USDT", "limit", "buy", 0.1, 49000, {"timeInForce": "IOC"})
        assert (ioc["status"], ioc["filled"]) == ("expired", 0.0)
        stop = await run(ex, "create_order", "BTC/USDT", "limit", "sell", 0.5, 44000, {"stopLossPrice": 45000})
        assert (await run(ex, "fetch_order", stop["id"], "BTC/USDT"))["triggerPrice"] == 45000.0
        with pytest.raises(ccxt.OrderImmediatelyFillable):
            await run(ex, "create_order", "BTC/USDT", "market", "sell", 0.1, None, {"stopLossPrice": 51000})
        by_cost = await run(ex, "create_order", "BTC/USDT", "market", "buy", None, None, {"cost": 500})
        assert (by_cost["filled"], by_cost["cost"]) == (0.01, 500.0)
        engine.set_price("BTC/USDT", "44950")
        assert (await run(ex, "fetch_order", stop["id"], "BTC/USDT"))["status"] == "closed"

    in_mode(mode, url, scenario)


def test_market_filters(engine: Engine, valkey_server: Any, tmp_path: Any) -> None:
    """The engine's market rules as Binance's filters, and a breach as Binance's -1013."""
    limits = {"amount": {"min": "0.001"}, "cost": {"min": "100"}}
    rules = {"BTC/USDT": {"precision": {"price": "0.01", "amount": "0.0001"}, "limits": limits}}
    settings = Settings(redis_url=valkey_server.url, api_key=KEY, api_secret=SECRET, data_dir=tmp_path)
    served = Engine(settings.with_overrides(markets_file=json.dumps(rules)))
    with served, serving(served) as url:
        served.set_price("BTC/USDT", "50000")
        served.fund("USDT", "1000")
        info = send(url, "GET", "/api/v3/exchangeInfo", {"symbol": "BTCUSDT"}, signed=False).json()["symbols"][0]
        filters = {f["filterType"]: f for f in info["filters"]}
        assert (filters["PRICE_FILTER"]["tickSize"], filters["LOT_SIZE"]["stepSize"]) == ("0.01000000", "0.00010000")
        assert (filters["NOTIONAL"]["minNotional"], filters["LOT_SIZE"]["minQty"]) == ("100.00000000", "0.00100000")
        lot = send(url, "POST", "/api/v3/order", {**ORDER, "side": "BUY", "type": "MARKET", "quantity": "0.00015"})
        code, status_code, msg = error_of(lot)[1], lot.status_code, error_of(lot)[2]
        assert (status_code, code) == (400, -1013) and msg.startswith("Filter failure: LOT_SIZE")
        ex = binance(url)
        ex.load_markets()
        assert ex.markets["BTC/USDT"]["precision"]["amount"] == 0.0001
        with pytest.raises(ccxt.InvalidOrder):  # LOT_SIZE: below the minimum amount
            ex.create_order("BTC/USDT", "limit", "buy", 0.0005, 40000)
        with pytest.raises(ccxt.BadRequest):  # NOTIONAL: ccxt's class for -1013, as against Binance
            ex.create_order("BTC/USDT", "market", "buy", 0.001)
