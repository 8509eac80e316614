"""Binance's order types, time in force, quote amounts, lookups by client id, cancel-all and market filters
through the dialect, raw and through ccxt.binance: each the engine's own behaviour, said the way Binance says
it."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import ccxt
import pytest
from servers import serving
from tests_helpers import keyspace

from mockexchange_ccxt import Engine, Settings

from .support import KEY, MODES, SECRET, binance, error_of, in_mode, run, send

ORDER = {"symbol": "BTCUSDT", "quantity": "0.1"}


def place(url: str, **params: Any) -> Any:
    merged = {"newOrderRespType": "RESULT", **ORDER, **params}
    merged = {name: value for name, value in merged.items() if value is not None}
    response = send(url, "POST", "/api/v3/order", merged)
    assert response.status_code == 200, response.text
    return response.json()


def order_of(url: str, **params: Any) -> Any:
    response = send(url, "GET", "/api/v3/order", {"symbol": "BTCUSDT", **params})
    assert response.status_code == 200, response.text
    return response.json()


def test_every_type_is_listed(facade: tuple[str, Engine]) -> None:
    url, _ = facade
    info = send(url, "GET", "/api/v3/exchangeInfo", {"symbol": "BTCUSDT"}, signed=False).json()["symbols"][0]
    assert info["orderTypes"] == [
        "LIMIT",
        "LIMIT_MAKER",
        "MARKET",
        "STOP_LOSS",
        "STOP_LOSS_LIMIT",
        "TAKE_PROFIT",
        "TAKE_PROFIT_LIMIT",
    ]
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
    assert order_of(url, orderId=expired["orderId"])["status"] == "EXPIRED"
    fok = place(url, side="BUY", type="LIMIT", timeInForce="FOK", price="48000")
    assert (fok["status"], fok["timeInForce"]) == ("EXPIRED", "FOK")
    filled = place(url, side="BUY", type="LIMIT", timeInForce="FOK", price="51000")
    assert (filled["status"], filled["executedQty"]) == ("FILLED", "0.10000000")
    assert (filled["price"], filled["cummulativeQuoteQty"]) == ("51000.00000000", "5000.00000000")  # limit; at 50,000
    with_tif = send(
        url,
        "POST",
        "/api/v3/order",
        {**ORDER, "side": "BUY", "type": "LIMIT_MAKER", "price": "1", "timeInForce": "GTC"},
    )
    assert error_of(with_tif)[:2] == (400, -1106)
    engine.set_price("BTC/USDT", "48500")  # the maker order fills at its limit; the ended ones stay as they are
    assert [order_of(url, orderId=o["orderId"])["status"] for o in (maker, expired, fok)] == [
        "FILLED",
        "EXPIRED",
        "EXPIRED",
    ]


def test_stop_orders(facade: tuple[str, Engine]) -> None:
    url, engine = facade
    engine.fund("BTC", "1")
    stop = place(
        url,
        side="SELL",
        type="STOP_LOSS_LIMIT",
        timeInForce="GTC",
        price="44000",
        stopPrice="45000",
        newOrderRespType="FULL",
    )
    assert (stop["type"], stop["status"], stop["stopPrice"], stop["fills"]) == (
        "STOP_LOSS_LIMIT",
        "NEW",
        "45000.00000000",
        [],
    )
    assert stop["workingTime"] == -1  # not working until it fires
    resting = order_of(url, orderId=stop["orderId"])
    assert (resting["stopPrice"], resting["isWorking"], resting["workingTime"]) == ("45000.00000000", False, -1)
    take_profit_limit = place(
        url, side="SELL", type="TAKE_PROFIT_LIMIT", timeInForce="GTC", price="52000", stopPrice="52500"
    )
    buy_stop = place(url, side="BUY", type="STOP_LOSS", stopPrice="55000")  # a buy stop fires on the way up
    engine.set_price("BTC/USDT", "44900")  # the stop fires and its limit sells at once
    fired = order_of(url, orderId=stop["orderId"])
    assert (fired["status"], fired["isWorking"], fired["executedQty"]) == ("FILLED", True, "0.10000000")
    assert fired["workingTime"] >= fired["time"]
    before = keyspace(engine)
    crossed = send(url, "POST", "/api/v3/order", {**ORDER, "side": "SELL", "type": "STOP_LOSS", "stopPrice": "46000"})
    assert error_of(crossed) == (400, -2010, "Stop price would trigger immediately.")
    no_stop = send(url, "POST", "/api/v3/order", {**ORDER, "side": "SELL", "type": "TAKE_PROFIT"})
    assert error_of(no_stop)[:2] == (400, -1102)
    no_tif = {**ORDER, "side": "SELL", "type": "STOP_LOSS_LIMIT", "price": "40000", "stopPrice": "41000"}
    assert error_of(send(url, "POST", "/api/v3/order", no_tif))[:2] == (400, -1102)
    assert keyspace(engine) == before
    take_profit = place(url, side="SELL", type="TAKE_PROFIT", stopPrice="47000")
    assert (take_profit["type"], take_profit["status"], take_profit["price"]) == ("TAKE_PROFIT", "NEW", "0.00000000")
    engine.set_price("BTC/USDT", "56000")
    statuses = [order_of(url, orderId=o["orderId"])["status"] for o in (take_profit, take_profit_limit, buy_stop)]
    assert statuses == ["FILLED", "FILLED", "FILLED"]
    assert order_of(url, orderId=buy_stop["orderId"])["cummulativeQuoteQty"] == "5600.00000000"


def test_quote_order_qty(facade: tuple[str, Engine]) -> None:
    """A MARKET order by quote amount, either side: as much as the amount buys at the ask, or as much as sells
    for at most the amount at the bid (whole steps), as Binance sizes it."""
    url, engine = facade
    bought = place(url, side="BUY", type="MARKET", quantity=None, quoteOrderQty="1000")
    assert (bought["origQuoteOrderQty"], bought["executedQty"], bought["cummulativeQuoteQty"]) == (
        "1000.00000000",
        "0.02000000",
        "1000.00000000",
    )
    engine.fund("ETH", "1")
    sold = place(url, symbol="ETHUSDT", side="SELL", type="MARKET", quantity=None, quoteOrderQty="1000")
    assert (sold["status"], sold["executedQty"], sold["cummulativeQuoteQty"]) == (
        "FILLED",
        "0.40008001",  # 1000 / 2499.5 (the bid), down to a step
        "999.99998499",
    )
    assert engine.fetch_balance()["ETH"]["free"] == Decimal("0.59991999")
    both = send(url, "POST", "/api/v3/order", {**ORDER, "side": "BUY", "type": "MARKET", "quoteOrderQty": "10"})
    assert error_of(both)[:2] == (400, -1106)
    on_a_stop = {**ORDER, "side": "SELL", "type": "STOP_LOSS", "stopPrice": "1", "quoteOrderQty": "10"}
    assert error_of(send(url, "POST", "/api/v3/order", on_a_stop))[:2] == (400, -1106)


def test_cancel_all_open_orders_of_a_symbol(facade: tuple[str, Engine]) -> None:
    """``DELETE openOrders`` is the engine's cancel-all: every open order of the symbol, resting or waiting for
    its trigger, canceled at once, each reservation released; other symbols untouched."""
    url, engine = facade
    engine.fund("BTC", "1")
    limit = place(url, side="BUY", type="LIMIT", timeInForce="GTC", price="40000", newClientOrderId="dip")
    stop = place(url, side="SELL", type="STOP_LOSS", stopPrice="45000")
    other = place(url, symbol="ETHUSDT", side="BUY", type="LIMIT", timeInForce="GTC", price="2000")
    canceled = send(url, "DELETE", "/api/v3/openOrders", {"symbol": "BTCUSDT"})
    assert canceled.status_code == 200, canceled.text
    answers = {o["orderId"]: o for o in canceled.json()}
    assert sorted(answers) == sorted([limit["orderId"], stop["orderId"]])
    assert {o["status"] for o in answers.values()} == {"CANCELED"}
    assert answers[limit["orderId"]]["origClientOrderId"] == "dip" == answers[limit["orderId"]]["clientOrderId"]
    assert answers[stop["orderId"]]["stopPrice"] == "45000.00000000"
    assert [o["orderId"] for o in send(url, "GET", "/api/v3/openOrders", {}).json()] == [other["orderId"]]
    balance = engine.fetch_balance()
    assert (balance["BTC"]["used"], balance["USDT"]["used"]) == (0, Decimal("200.2"))  # only the ETH buy holds
    again = send(url, "DELETE", "/api/v3/openOrders", {"symbol": "BTCUSDT"})
    assert error_of(again) == (400, -2011, "Unknown order sent.")


def test_orders_by_client_id(facade: tuple[str, Engine]) -> None:
    """``origClientOrderId`` is the engine's lookup by clientOrderId (unique per account): open, filled or
    canceled; never an order of another symbol; with ``orderId`` both must name the same order."""
    url, _ = facade
    filled = place(url, side="BUY", type="MARKET", newClientOrderId="entry-1")
    resting = place(url, side="BUY", type="LIMIT", timeInForce="GTC", price="40000", newClientOrderId="dip-1")
    assert order_of(url, origClientOrderId="entry-1")["orderId"] == filled["orderId"]
    assert order_of(url, orderId=resting["orderId"], origClientOrderId="dip-1")["status"] == "NEW"
    for params in (
        {"origClientOrderId": "nobody"},
        {"origClientOrderId": "dip-1", "symbol": "ETHUSDT"},
        {"orderId": filled["orderId"], "origClientOrderId": "dip-1"},
    ):
        assert error_of(send(url, "GET", "/api/v3/order", {"symbol": "BTCUSDT", **params})) == (
            400,
            -2013,
            "Order does not exist.",
        )
    cancel = send(url, "DELETE", "/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": "dip-1"})
    assert (cancel.json()["orderId"], cancel.json()["status"]) == (resting["orderId"], "CANCELED")
    assert order_of(url, origClientOrderId="dip-1")["status"] == "CANCELED"
    unknown = send(url, "DELETE", "/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": "nobody"})
    assert error_of(unknown) == (400, -2011, "Unknown order sent.")


@pytest.mark.parametrize("mode", MODES)
def test_ccxt_binance_order_types(facade: tuple[str, Engine], mode: str) -> None:
    """Every type ccxt.binance sends for spot, its fetches and its cancels, against the dialect."""
    url, engine = facade
    engine.fund("BTC", "2")

    async def scenario(ex: Any) -> None:
        await run(ex, "load_markets")

        async def create(*args: Any) -> Any:
            return await run(ex, "create_order", "BTC/USDT", *args)

        with pytest.raises(ccxt.OrderImmediatelyFillable):
            await create("limit", "buy", 0.1, 51000, {"postOnly": True})
        post_only = await create("limit", "buy", 0.1, 49000, {"postOnly": True, "clientOrderId": "maker-1"})
        assert (post_only["postOnly"], post_only["status"], post_only["info"]["type"]) == (True, "open", "LIMIT_MAKER")
        ioc = await create("limit", "buy", 0.1, 49000, {"timeInForce": "IOC"})
        assert (ioc["status"], ioc["filled"], ioc["timeInForce"]) == ("expired", 0.0, "IOC")
        fok = await create("limit", "buy", 0.1, 51000, {"timeInForce": "FOK"})
        assert (fok["status"], fok["filled"], fok["average"]) == ("closed", 0.1, 50000.0)
        stop_limit = await create("limit", "sell", 0.5, 44000, {"stopLossPrice": 45000})
        stop_market = await create("market", "sell", 0.1, None, {"stopLossPrice": 46000})
        trigger = await create("market", "sell", 0.1, None, {"triggerPrice": 45500})  # ccxt sends STOP_LOSS
        freqtrade_style = await create("stop_loss_limit", "sell", 0.1, 44500, {"stopPrice": 45000})
        take_profit = await create("market", "sell", 0.1, None, {"takeProfitPrice": 60000})
        take_profit_limit = await create("limit", "sell", 0.1, 59000, {"takeProfitPrice": 60000})
        triggers = (stop_limit, stop_market, trigger, freqtrade_style, take_profit, take_profit_limit)
        assert [o["info"]["type"] for o in triggers] == [
            "STOP_LOSS_LIMIT",
            "STOP_LOSS",
            "STOP_LOSS",
            "STOP_LOSS_LIMIT",
            "TAKE_PROFIT",
            "TAKE_PROFIT_LIMIT",
        ]
        assert [o["triggerPrice"] for o in triggers] == [45000, 46000, 45500, 45000, 60000, 60000]
        with pytest.raises(ccxt.OrderImmediatelyFillable):
            await create("market", "sell", 0.1, None, {"stopLossPrice": 51000})
        by_cost = await run(ex, "create_market_buy_order_with_cost", "BTC/USDT", 500)
        sold_by_cost = await run(ex, "create_market_sell_order_with_cost", "BTC/USDT", 500)
        given_a_price = await create("market", "buy", 0.01, 50000)  # ccxt sends quoteOrderQty = 500
        for order in (by_cost, sold_by_cost, given_a_price):
            assert (order["status"], order["filled"], order["cost"]) == ("closed", 0.01, 500.0)

        fetched = await run(ex, "fetch_order", stop_limit["id"], "BTC/USDT")
        assert (fetched["status"], fetched["triggerPrice"], fetched["price"]) == ("open", 45000.0, 44000.0)
        by_client_id = await run(ex, "fetch_order", None, "BTC/USDT", {"clientOrderId": "maker-1"})
        assert by_client_id["id"] == post_only["id"]
        assert len(await run(ex, "fetch_open_orders", "BTC/USDT")) == 7
        assert (await run(ex, "cancel_order", take_profit["id"], "BTC/USDT"))["status"] == "canceled"
        by_client = await run(ex, "cancel_order", None, "BTC/USDT", {"clientOrderId": "maker-1"})
        assert (by_client["id"], by_client["status"]) == (post_only["id"], "canceled")

        engine.set_price("BTC/USDT", "44950")  # the stop-losses and the trigger fire and sell at the bid
        for order in (stop_limit, stop_market, trigger, freqtrade_style):
            fired = await run(ex, "fetch_order", order["id"], "BTC/USDT")
            assert (fired["status"], fired["average"]) == ("closed", 44950.0)
        filled = (fok, stop_limit, stop_market, trigger, freqtrade_style, by_cost, sold_by_cost, given_a_price)
        closed = await run(ex, "fetch_closed_orders", "BTC/USDT")  # ccxt.binance: filled ones only
        assert sorted(o["id"] for o in closed) == sorted(o["id"] for o in filled)
        canceled = await run(ex, "fetch_canceled_orders", "BTC/USDT")
        assert sorted(o["id"] for o in canceled) == sorted([post_only["id"], take_profit["id"]])
        [rest] = await run(ex, "fetch_open_orders", "BTC/USDT")
        assert rest["id"] == take_profit_limit["id"]
        all_canceled = await run(ex, "cancel_all_orders", "BTC/USDT")
        assert [(o["id"], o["status"]) for o in all_canceled] == [(take_profit_limit["id"], "canceled")]
        assert await run(ex, "fetch_open_orders", "BTC/USDT") == []

    in_mode(mode, url, scenario)
    balance = engine.fetch_balance()
    assert balance["BTC"]["used"] == balance["USDT"]["used"] == 0


def test_market_filters(engine: Engine, valkey_server: Any, tmp_path: Any) -> None:
    """The engine's market rules as Binance's filters, and a breach as Binance's -1013 with its own text."""
    limits = {"amount": {"min": "0.001"}, "cost": {"min": "100"}}
    rules = {
        "BTC/USDT": {"precision": {"price": "0.01", "amount": "0.0001"}, "limits": limits},
        "OLD/USDT": {"active": False},
    }
    settings = Settings(redis_url=valkey_server.url, api_key=KEY, api_secret=SECRET, data_dir=tmp_path)
    served = Engine(settings.with_overrides(markets_file=json.dumps(rules)))
    with served, serving(served) as url:
        served.set_price("BTC/USDT", "50000")
        served.set_price("OLD/USDT", "1")
        served.fund("USDT", "1000")
        info = send(url, "GET", "/api/v3/exchangeInfo", {"symbol": "BTCUSDT"}, signed=False).json()["symbols"][0]
        filters = {f["filterType"]: f for f in info["filters"]}
        assert (filters["PRICE_FILTER"]["tickSize"], filters["LOT_SIZE"]["stepSize"]) == ("0.01000000", "0.00010000")
        assert (filters["NOTIONAL"]["minNotional"], filters["LOT_SIZE"]["minQty"]) == ("100.00000000", "0.00100000")
        old = send(url, "GET", "/api/v3/exchangeInfo", {"symbol": "OLDUSDT"}, signed=False).json()["symbols"][0]
        assert old["status"] == "BREAK"
        before = keyspace(served)
        market = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET"}
        limit = {**market, "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.002"}
        for params, failure in (
            ({**market, "quantity": "0.00015"}, "Filter failure: LOT_SIZE"),
            ({**limit, "price": "40000.005"}, "Filter failure: PRICE_FILTER"),
            ({**market, "quantity": "0.0011"}, "Filter failure: NOTIONAL"),
            ({**market, "symbol": "OLDUSDT", "quantity": "1"}, "Market is closed."),
        ):
            assert error_of(send(url, "POST", "/api/v3/order", params)) == (400, -1013, failure)
            assert error_of(send(url, "POST", "/api/v3/order/test", params)) == (400, -1013, failure)
        assert keyspace(served) == before
        ex = binance(url)
        ex.load_markets()
        assert ex.markets["BTC/USDT"]["precision"]["amount"] == 0.0001
        assert ex.markets["OLD/USDT"]["active"] is False
        with pytest.raises(ccxt.InvalidOrder):  # LOT_SIZE: below the minimum amount
            ex.create_order("BTC/USDT", "limit", "buy", 0.0005, 40000)
        with pytest.raises(ccxt.BadRequest):  # NOTIONAL: ccxt's class for -1013, as against Binance
            ex.create_order("BTC/USDT", "market", "buy", 0.001)
        with pytest.raises(ccxt.MarketClosed):
            ex.create_order("OLD/USDT", "market", "buy", 1)
        assert keyspace(served) == before


def test_a_number_more_precise_than_its_asset_is_1111(facade: tuple[str, Engine]) -> None:
    """Binance refuses a quantity, price or stop price with more decimals than the asset's precision (eight)
    with -1111 before any filter is looked at; the engine changes nothing."""
    url, engine = facade
    engine.fund("BTC", "1")
    before = engine.fetch_balance()["total"]
    for params in (
        {"side": "BUY", "type": "MARKET", "quantity": "0.123456789"},
        {"side": "BUY", "type": "MARKET", "quoteOrderQty": "10.000000001"},
        {"side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.001", "price": "40000.000000001"},
        {"side": "SELL", "type": "STOP_LOSS", "quantity": "0.001", "stopPrice": "45000.123456789"},
    ):
        sent = {"symbol": "BTCUSDT", **params}
        for path in ("/api/v3/order", "/api/v3/order/test"):
            assert error_of(send(url, "POST", path, sent)) == (
                400,
                -1111,
                "Precision is over the maximum defined for this asset.",
            )
    assert engine.fetch_balance()["total"] == before and engine.fetch_orders() == []
