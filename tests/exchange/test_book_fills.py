"""FILL_MODEL=book through the ccxt class (``options['fillModel']``, ``options['maxSlippageBps']`` in process; the
server's FILL_MODEL over HTTP): orders that walk the book and fill partly pass ccxt's own validators, with their
trades, as numbers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from ccxt.test.exchange.base.test_order import test_order as check_order
from ccxt.test.exchange.base.test_trade import test_trade as check_trade
from servers import serving

from mockexchange_ccxt import Engine, MockExchange, Settings

API_KEY = "book-fills-key"

ASKS = [[50000, 0.02], [50010, 0.03], [50100, 1], [60000, 5]]


@pytest.fixture(params=["in-process", "http"])
def book_exchange(request: pytest.FixtureRequest, engine: Engine, valkey_server: Any, tmp_path: Any) -> Iterator[Any]:
    if request.param == "in-process":
        options = {"redisUrl": valkey_server.url, "fillModel": "book", "maxSlippageBps": 100, "tickLoop": False}
        yield MockExchange({"options": options})
        return
    settings = Settings(
        redis_url=valkey_server.url, api_key=API_KEY, data_dir=tmp_path, fill_model="book", max_slippage_bps=100
    )
    with Engine(settings) as served, serving(served) as url:
        yield MockExchange({"apiKey": API_KEY, "options": {"serverUrl": url}})


def test_walks_and_partial_fills_pass_ccxts_checks(book_exchange: MockExchange) -> None:
    exchange = book_exchange
    exchange.fund("USDT", 200000)
    exchange.set_price("BTC/USDT", 49990, bid=49990, ask=50000, bids=[[49990, 1]], asks=ASKS)
    exchange.load_markets(True)
    now = exchange.milliseconds()
    market = exchange.create_order("BTC/USDT", "market", "buy", 2)  # 1 % of 50,000 reaches 50,500: not 60,000
    check_order(exchange, {}, "createOrder", market, "BTC/USDT", now)
    assert (market["status"], market["filled"], market["remaining"]) == ("canceled", 1.05, 0.95)
    assert [(t["price"], t["amount"]) for t in market["trades"]] == [(50000, 0.02), (50010, 0.03), (50100, 1)]
    assert isinstance(market["average"], float) and 50000 < market["average"] < 50100
    limit = exchange.create_order("BTC/USDT", "limit", "buy", 1, 49000)
    exchange.set_price("BTC/USDT", 48990, bid=48990, ask=48995, bids=[[48990, 1]], asks=[[48995, 0.4]])
    partly = exchange.fetch_order(limit["id"])
    check_order(exchange, {}, "fetchOrder", partly, "BTC/USDT", now)
    assert (partly["status"], partly["filled"], partly["remaining"], partly["price"]) == ("open", 0.4, 0.6, 49000)
    trades = exchange.fetch_my_trades("BTC/USDT")
    assert len(trades) == 4 and len({t["id"] for t in trades}) == 4
    for trade in trades:
        check_trade(exchange, {}, "fetchMyTrades", trade, "BTC/USDT", now, False)
    assert trades[-1]["takerOrMaker"] == "maker" and trades[-1]["price"] == 49000
    assert exchange.fetch_balance()["USDT"]["used"] == pytest.approx(0.6 * 49000 * 1.001)
