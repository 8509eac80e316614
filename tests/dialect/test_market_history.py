"""Candles, depth and 24 h statistics in Binance's dialect, from the engine's own (``ohlcv``, ``order_book`` and
the tickers of the route table), raw and through ccxt.binance."""

from __future__ import annotations

import time
from typing import Any

import pytest
from ccxt.test.exchange.base.test_ohlcv import test_ohlcv as check_ohlcv
from ccxt.test.exchange.base.test_order_book import test_order_book as check_order_book

from mockexchange_ccxt import Engine
from mockexchange_ccxt.routes import ROUTES_BY_NAME

from .support import MODES, error_of, in_mode, run, send

pytestmark = pytest.mark.skipif(
    "ohlcv" not in ROUTES_BY_NAME or "order_book" not in ROUTES_BY_NAME,
    reason="candles and depth come with the engine's market data (issue 11)",
)

MINUTE = 60_000


def public(url: str, path: str, **params: Any) -> Any:
    response = send(url, "GET", path, params, signed=False, key=None)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def history(facade: tuple[str, Engine]) -> tuple[str, Engine, int]:
    """Four minutes of BTC/USDT prices ending two minutes ago: open, high, low, close per minute."""
    url, engine = facade
    first = (int(time.time() * 1000) // MINUTE - 6) * MINUTE
    for minute in range(4):
        for offset, price in (
            (0, 50_000 + minute),
            (10_000, 50_100 + minute),
            (20_000, 49_900 + minute),
            (30_000, 50_050),
        ):
            engine.set_price("BTC/USDT", str(price), timestamp=first + minute * MINUTE + offset, volume="0.5")
    return url, engine, first


def test_klines(history: tuple[str, Engine, int]) -> None:
    url, engine, first = history
    rows = public(url, "/api/v3/klines", symbol="BTCUSDT", interval="1m")
    assert len(rows) >= 4
    assert rows[0] == [
        first,
        "50000.00000000",
        "50100.00000000",
        "49900.00000000",
        "50050.00000000",
        "2.00000000",
        first + MINUTE - 1,
        "0.00000000",
        0,
        "0.00000000",
        "0.00000000",
        "0",
    ]
    assert [row[0] for row in rows[:4]] == [first + i * MINUTE for i in range(4)]
    assert public(url, "/api/v3/uiKlines", symbol="BTCUSDT", interval="1m") == rows
    paged = public(url, "/api/v3/klines", symbol="BTCUSDT", interval="1m", startTime=first + MINUTE, limit=2)
    assert [row[0] for row in paged] == [first + MINUTE, first + 2 * MINUTE]
    until = public(url, "/api/v3/klines", symbol="BTCUSDT", interval="1m", endTime=first + 2 * MINUTE, limit=2)
    assert [row[0] for row in until] == [first + MINUTE, first + 2 * MINUTE]
    engine_rows = engine.ohlcv("BTC/USDT", "1m")
    assert [[r[0], *map(float, r[1:])] for r in engine_rows] == [[r[0], *map(float, r[1:6])] for r in rows]
    bad = send(url, "GET", "/api/v3/klines", {"symbol": "BTCUSDT", "interval": "7m"}, signed=False)
    assert error_of(bad) == (400, -1120, "Invalid interval.")


def test_depth(facade: tuple[str, Engine]) -> None:
    url, engine = facade
    engine.set_price("ETH/USDT", "2500", bids=[["2499.5", "3"], ["2499", "10"]], asks=[["2500.5", "1.25"]])
    book = public(url, "/api/v3/depth", symbol="ETHUSDT")
    assert book["bids"] == [["2499.50000000", "3.00000000"], ["2499.00000000", "10.00000000"]]
    assert book["asks"] == [["2500.50000000", "1.25000000"]]
    assert isinstance(book["lastUpdateId"], int)
    assert len(public(url, "/api/v3/depth", symbol="ETHUSDT", limit=1)["bids"]) == 1
    synthetic = public(url, "/api/v3/depth", symbol="BTCUSDT")
    assert synthetic["bids"] and synthetic["asks"] and synthetic["bids"][0][0] < synthetic["asks"][0][0]
    too_deep = send(url, "GET", "/api/v3/depth", {"symbol": "ETHUSDT", "limit": 5001}, signed=False)
    assert error_of(too_deep)[:2] == (400, -1130)


@pytest.mark.parametrize("mode", MODES)
def test_ccxt_binance_reads_candles_book_and_statistics(history: tuple[str, Engine, int], mode: str) -> None:
    url, engine, first = history

    async def scenario(ex: Any) -> None:
        await run(ex, "load_markets")
        candles = await run(ex, "fetch_ohlcv", "BTC/USDT", "1m", first, 4)
        assert [c[0] for c in candles] == [first + i * MINUTE for i in range(4)]
        assert candles[0][1:] == [50000.0, 50100.0, 49900.0, 50050.0, 2.0]
        for candle in candles:
            check_ohlcv(ex, {}, "fetchOHLCV", candle, "BTC/USDT", int(time.time() * 1000))
        book = await run(ex, "fetch_order_book", "BTC/USDT", 5)
        check_order_book(ex, {}, "fetchOrderBook", book, "BTC/USDT")
        ticker = await run(ex, "fetch_ticker", "BTC/USDT")
        unified = engine.ticker("BTC/USDT")
        assert [ticker[k] for k in ("open", "high", "low")] == [float(unified[k]) for k in ("open", "high", "low")]
        assert ticker["baseVolume"] == float(unified["baseVolume"])

    in_mode(mode, url, scenario)
