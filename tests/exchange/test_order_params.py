"""Every order parameter a bot sends through the ccxt class is honoured or refused, the same in process and over
HTTP: unknown params, ccxt's helper methods, Binance's stop types as freqtrade sends them, NaN and infinite
numbers, edit/create/cancel in batches, and a markets file seen through load_markets."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import ccxt
import pytest
import requests
from exchange.conftest import API_KEY, exchange_config
from servers import serving
from tests_helpers import keyspace

from mockexchange_ccxt import AsyncMockExchange, Engine, MockExchange, Settings


def test_an_unknown_param_is_refused_naming_it_and_nothing_is_stored(funded: MockExchange, engine: Engine) -> None:
    before = keyspace(engine)
    with pytest.raises(ccxt.NotSupported, match="icebergQty"):
        funded.create_order("BTC/USDT", "limit", "buy", 0.01, 40000, {"icebergQty": 0.001})
    with pytest.raises(ccxt.NotSupported, match="reduceOnly"):
        funded.create_order("BTC/USDT", "limit", "buy", 0.01, 40000, {"reduceOnly": True})
    with pytest.raises(ccxt.NotSupported, match="TakeProfitAndStopLoss"):
        funded.create_order_with_take_profit_and_stop_loss("BTC/USDT", "limit", "buy", 0.01, 40000, 60000, 30000)
    for call in (
        lambda: funded.fetch_my_trades("BTC/USDT", params={"fromId": 5}),
        lambda: funded.fetch_open_orders("BTC/USDT", params={"orderId": 5}),
        lambda: funded.cancel_all_orders("BTC/USDT", {"type": "spot"}),
    ):
        with pytest.raises(ccxt.NotSupported):
            call()
    assert keyspace(engine) == before


def test_neutral_flags_are_accepted(funded: MockExchange) -> None:
    order = funded.create_order(
        "BTC/USDT", "limit", "buy", 0.01, 40000, {"timeInForce": "GTC", "postOnly": False, "reduceOnly": False}
    )
    assert (order["status"], order["timeInForce"], order["postOnly"]) == ("open", "GTC", False)


def test_time_in_force_and_post_only(funded: MockExchange) -> None:
    ioc = funded.create_order("BTC/USDT", "limit", "buy", 0.01, 40000, {"timeInForce": "IOC"})
    assert (ioc["status"], ioc["filled"]) == ("canceled", 0.0)
    with pytest.raises(ccxt.OrderImmediatelyFillable):
        funded.create_post_only_order("BTC/USDT", "limit", "buy", 0.01, 50000)
    maker = funded.create_order("BTC/USDT", "limit_maker", "buy", 0.01, 49000)
    assert (maker["status"], maker["postOnly"], maker["timeInForce"]) == ("open", True, "PO")


def test_a_limit_that_fills_on_arrival_keeps_its_price(funded: MockExchange) -> None:
    """As ccxt's exchanges answer: ``price`` is the limit, ``average`` (and the trade's price) the fill."""
    order = funded.create_order("BTC/USDT", "limit", "buy", 0.01, 51000)
    assert (order["status"], order["price"], order["average"]) == ("closed", 51000, 50000)
    assert order["trades"][0]["price"] == 50000 and order["cost"] == 500
    assert funded.fetch_order(order["id"])["price"] == 51000


def test_ccxt_trigger_helpers(funded: MockExchange) -> None:
    funded.fund("BTC", 1)
    made = {
        "stop_loss": funded.create_stop_loss_order("BTC/USDT", "market", "sell", 0.01, None, 45000),
        "take_profit": funded.create_take_profit_order("BTC/USDT", "limit", "sell", 0.01, 56000, 55000),
        "trigger": funded.create_trigger_order("BTC/USDT", "market", "buy", 0.01, None, 52000),
        "stop": funded.create_stop_order("BTC/USDT", "market", "sell", 0.01, None, 44000),
        "stop_market": funded.create_stop_market_order("BTC/USDT", "buy", 0.01, 53000),
        "stop_limit": funded.create_stop_limit_order("BTC/USDT", "sell", 0.01, 42900, 43000),
    }
    for name, order in made.items():
        assert order["status"] == "open" and order["filled"] == 0, name
        assert order["triggerPrice"] == order["stopPrice"], name
    assert made["stop_loss"]["stopLossPrice"] == 45000.0 and made["stop_loss"]["type"] == "market"
    assert made["take_profit"]["takeProfitPrice"] == 55000.0 and made["take_profit"]["price"] == 56000.0
    assert made["stop_limit"]["triggerPrice"] == 43000.0 and made["stop_limit"]["type"] == "limit"
    assert {o["id"] for o in funded.fetch_open_orders("BTC/USDT")} == {o["id"] for o in made.values()}
    funded.set_price("BTC/USDT", 55000)  # fires the take-profit, the trigger and the stop-market buy
    fired = {name: funded.fetch_order(order["id"])["status"] for name, order in made.items()}
    assert fired == {
        "stop_loss": "open",
        "take_profit": "open",  # fired, then rests at its limit of 56,000
        "trigger": "closed",
        "stop": "open",
        "stop_market": "closed",
    } | {"stop_limit": "open"}


def test_freqtrades_stop_loss_on_exchange(funded: MockExchange) -> None:
    """freqtrade's Binance stop-loss: type stop_loss_limit, the trigger in params['stopPrice']."""
    funded.fund("BTC", 0.5)
    order = funded.create_order("BTC/USDT", "stop_loss_limit", "sell", 0.5, 44000, {"stopPrice": 45000})
    assert (order["type"], order["stopPrice"], order["price"], order["info"]["orderType"]) == (
        "limit",
        45000.0,
        44000.0,
        "stop_loss_limit",
    )
    funded.set_price("BTC/USDT", 44500)
    filled = funded.fetch_order(order["id"], "BTC/USDT")
    assert (filled["status"], filled["average"]) == ("closed", 44500.0)
    with pytest.raises(ccxt.OrderImmediatelyFillable):
        funded.create_order("BTC/USDT", "stop_loss", "sell", 0.01, None, {"stopPrice": 45000})


def test_market_orders_by_cost(funded: MockExchange) -> None:
    order = funded.create_market_buy_order_with_cost("BTC/USDT", 1000)
    assert (order["status"], order["amount"], order["cost"]) == ("closed", 0.02, 1000.0)
    by_param = funded.create_order("BTC/USDT", "market", "buy", None, None, {"cost": 500})
    assert by_param["amount"] == 0.01
    sold = funded.create_market_sell_order_with_cost("BTC/USDT", 750)
    assert (sold["side"], sold["status"], sold["amount"], sold["cost"]) == ("sell", "closed", 0.015, 750.0)
    by_side = funded.create_market_order_with_cost("BTC/USDT", "sell", 250, {"clientOrderId": "by-cost"})
    assert (by_side["amount"], by_side["clientOrderId"], by_side["info"]["quoteOrderQty"]) == (0.005, "by-cost", "250")
    assert funded.fetch_balance()["BTC"]["total"] == 0.01


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), "abc", None, True, [1]])
def test_nan_infinite_and_non_numeric_numbers_are_invalid_orders(
    funded: MockExchange, engine: Engine, bad: Any
) -> None:
    before = keyspace(engine)
    if bad is not None:
        with pytest.raises(ccxt.InvalidOrder):
            funded.create_order("BTC/USDT", "limit", "buy", bad, 40000)
    with pytest.raises(ccxt.InvalidOrder):
        funded.create_order("BTC/USDT", "limit", "buy", 0.01, bad)
    if bad is not None:  # a param given as None is a param not given, as everywhere in ccxt
        with pytest.raises(ccxt.InvalidOrder):
            funded.create_order("BTC/USDT", "market", "sell", 0.01, None, {"stopLossPrice": bad})
    assert keyspace(engine) == before


def test_edit_and_batch_create_are_refused_cancel_orders_is_all_or_nothing(
    funded: MockExchange, engine: Engine
) -> None:
    a = funded.create_order("BTC/USDT", "limit", "buy", 0.01, 40000)["id"]
    b = funded.create_order("BTC/USDT", "limit", "buy", 0.01, 41000)["id"]
    filled = funded.create_order("BTC/USDT", "market", "buy", 0.01)["id"]
    before = keyspace(engine)
    with pytest.raises(ccxt.NotSupported):
        funded.edit_order(a, "BTC/USDT", "limit", "buy", 0.02, 40000)
    with pytest.raises(ccxt.NotSupported):
        funded.create_orders([{"symbol": "BTC/USDT", "type": "market", "side": "buy", "amount": 0.01}])
    with pytest.raises(ccxt.InvalidOrder, match=filled):
        funded.cancel_orders([a, filled, b])
    assert keyspace(engine) == before
    canceled = funded.cancel_orders([a, b], "BTC/USDT")
    assert [(o["id"], o["status"]) for o in canceled] == [(a, "canceled"), (b, "canceled")]
    assert funded.fetch_open_orders() == []


def test_rest_refuses_an_unknown_body_field_with_501(engine: Engine, http_url: str) -> None:
    engine.set_price("BTC/USDT", "50000")
    body = {"symbol": "BTC/USDT", "side": "buy", "amount": "0.01", "icebergQty": "0.001"}
    answer = requests.post(http_url + "/orders", json=body, headers={"x-api-key": API_KEY}, timeout=10)
    assert answer.status_code == 501
    assert answer.json()["error"]["code"] == "NOT_SUPPORTED" and "icebergQty" in answer.json()["error"]["message"]
    assert engine.fetch_orders() == []


RULES = {"BTC/USDT": {"precision": {"price": "0.1", "amount": "0.001"}, "limits": {"amount": {"min": "0.001"}}}}


def _rules_exchange(kind: str, valkey_url: str, tmp_path: Path) -> Any:
    if kind == "options-dict":
        return MockExchange({"options": {"redisUrl": valkey_url, "markets": RULES}}), None
    path = tmp_path / "markets.json"
    path.write_text(json.dumps(RULES))
    if kind == "options-path":
        return MockExchange({"options": {"redisUrl": valkey_url, "markets": str(path)}}), None
    served = Engine(Settings(redis_url=valkey_url, api_key=API_KEY, data_dir=tmp_path, markets_file=str(path)))
    return served, served


@pytest.mark.parametrize("kind", ["options-dict", "options-path", "server-file"])
def test_load_markets_reports_the_rules_and_orders_round_to_them(
    engine: Engine, valkey_server: Any, tmp_path: Path, kind: str
) -> None:
    engine.set_price("BTC/USDT", "50000")
    engine.fund("USDT", "100000")
    exchange, served = _rules_exchange(kind, valkey_server.url, tmp_path)
    if served is not None:
        with served, serving(served) as url:
            _check_rules(MockExchange({"apiKey": API_KEY, "options": {"serverUrl": url}}))
    else:
        _check_rules(exchange)


def _check_rules(exchange: MockExchange) -> None:
    market = exchange.load_markets(True)["BTC/USDT"]
    assert market["precision"] == {"amount": 0.001, "price": 0.1, "cost": 1e-8, "base": 1e-8, "quote": 1e-8}
    assert market["limits"]["amount"]["min"] == 0.001
    assert exchange.amount_to_precision("BTC/USDT", 0.123456) == "0.123"
    order = exchange.create_order("BTC/USDT", "limit", "buy", 0.0123456, 40000.04)
    assert (order["amount"], order["price"]) == (0.012, 40000.0)
    with pytest.raises(ccxt.InvalidOrder):
        exchange.create_order("BTC/USDT", "limit", "buy", 0.0009, 40000)


def test_the_async_class_honours_and_refuses_the_same(
    transport: str, engine: Engine, valkey_server: Any, http_url: str
) -> None:
    engine.set_price("BTC/USDT", "50000")
    engine.fund("BTC", "1")

    async def run() -> None:
        exchange = AsyncMockExchange(exchange_config(transport, valkey_server.url, http_url))
        try:
            stop = await exchange.create_stop_loss_order("BTC/USDT", "market", "sell", 0.1, None, 45000)
            assert (stop["status"], stop["stopLossPrice"]) == ("open", 45000.0)
            with pytest.raises(ccxt.NotSupported):
                await exchange.edit_order(stop["id"], "BTC/USDT", "market", "sell", 0.2)
            with pytest.raises(ccxt.NotSupported, match="foo"):
                await exchange.create_order("BTC/USDT", "market", "sell", 0.1, None, {"foo": 1})
            assert [o["id"] for o in await exchange.cancel_all_orders("BTC/USDT")] == [stop["id"]]
        finally:
            await exchange.close()

    asyncio.run(run())
