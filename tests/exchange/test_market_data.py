"""fetch_ohlcv and fetch_order_book through the ccxt class, sync and async, in process and over real HTTP: the
same answers, ccxt's own validators pass, and ``timeframes`` lists exactly what is served."""

from __future__ import annotations

import asyncio
from typing import Any

from ccxt.test.exchange.base.test_ohlcv import test_ohlcv as check_ohlcv
from ccxt.test.exchange.base.test_order_book import test_order_book as check_order_book
from ccxt.test.exchange.base.test_ticker import test_ticker as check_ticker
from conftest import exchange_config

from mockexchange_ccxt import AsyncMockExchange, Engine, MockExchange
from mockexchange_ccxt.engine.candles import TIMEFRAMES

T0 = 1_700_000_000_000
MINUTE = 60_000


def seed_history(exchange: MockExchange) -> None:
    for minute in range(120):
        price = 50_000 + (minute * 37) % 500
        exchange.set_price("BTC/USDT", price, timestamp=T0 + minute * MINUTE + 1_000, volume=0.25)


def test_ohlcv_through_the_class(exchange: MockExchange) -> None:
    seed_history(exchange)
    assert exchange.has["fetchOHLCV"] is True
    assert set(exchange.timeframes) == set(TIMEFRAMES)
    now = exchange.milliseconds()
    candles = exchange.fetch_ohlcv("BTC/USDT", "1m", since=0)
    assert len(candles) == 120 and len(exchange.fetch_ohlcv("BTC/USDT", "1m", since=T0)) == 119  # T0 is 20 s in
    for candle in candles:
        check_ohlcv(exchange, {}, "fetchOHLCV", candle, "BTC/USDT", now)
        assert all(isinstance(value, float) for value in candle[1:]) and isinstance(candle[0], int)
    hours = exchange.fetch_ohlcv("BTC/USDT", "1h", since=0)
    assert [c[0] for c in hours] == [T0 // 3_600_000 * 3_600_000 + i * 3_600_000 for i in range(3)]
    assert sum(c[5] for c in hours) == 30.0
    assert exchange.fetch_ohlcv("BTC/USDT", "5m", limit=3) == exchange.fetch_ohlcv("BTC/USDT", "5m")[-3:]
    ticker = exchange.fetch_ticker("BTC/USDT")
    check_ticker(exchange, {}, "fetchTicker", ticker, "BTC/USDT")
    assert ticker["baseVolume"] == 30.0 and ticker["open"] == 50_000.0 and ticker["vwap"] is not None


def test_feed_depth_and_the_synthetic_book(exchange: MockExchange) -> None:
    exchange.set_price("ETH/USDT", 2500, bids=[["2499.5", "1.5"], [2499, 3]], asks=[[2500.5, 2], ["2502", "0.1"]])
    book = exchange.fetch_order_book("ETH/USDT")
    check_order_book(exchange, {}, "fetchOrderBook", book, "ETH/USDT")
    assert book["bids"] == [[2499.5, 1.5], [2499.0, 3.0]] and book["asks"] == [[2500.5, 2.0], [2502.0, 0.1]]
    assert book["info"] == {"synthetic": False}
    assert exchange.fetch_order_book("ETH/USDT", 1)["asks"] == [[2500.5, 2.0]]
    exchange.set_price("ETH/USDT", 2500, bid=2499, ask=2501)  # a write without depth clears it
    synthetic = exchange.fetch_l2_order_book("ETH/USDT", 5)
    check_order_book(exchange, {}, "fetchL2OrderBook", synthetic, "ETH/USDT")
    assert synthetic["info"] == {"synthetic": True}
    assert synthetic["bids"][0][0] == 2499.0 and synthetic["asks"][0][0] == 2501.0
    assert len(synthetic["bids"]) == 5 and abs(synthetic["asks"][0][1] * 2501 - 10_000) < 0.01


def _same(sync_answer: Any, async_answer: Any) -> None:
    assert sync_answer == async_answer


def test_async_answers_the_same(transport: str, engine: Engine, valkey_server: Any, http_url: str) -> None:
    config = exchange_config(transport, valkey_server.url, http_url)
    sync = MockExchange(config)
    seed_history(sync)

    async def run() -> tuple[Any, Any]:
        ex = AsyncMockExchange(config)
        try:
            return await ex.fetch_ohlcv("BTC/USDT", "15m", T0), await ex.fetch_order_book("BTC/USDT", 3)
        finally:
            await ex.close()

    candles, book = asyncio.run(run())
    _same(sync.fetch_ohlcv("BTC/USDT", "15m", T0), candles)
    assert book == sync.fetch_order_book("BTC/USDT", 3)
