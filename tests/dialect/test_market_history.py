"""Candles, depth and 24 h statistics in Binance's dialect, from the engine's own (``ohlcv``, ``order_book`` and
the tickers of the route table), raw, through ccxt.binance (sync and async) and through python-binance."""

from __future__ import annotations

import calendar
import time
from typing import Any

import pytest
from ccxt.test.exchange.base.test_ohlcv import test_ohlcv as check_ohlcv
from ccxt.test.exchange.base.test_order_book import test_order_book as check_order_book

from mockexchange_ccxt import Engine

from .support import MODES, error_of, in_mode, python_binance, run, send

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
    later = int(time.time() * 1000) + 3 * 3_600_000  # a start after now finds nothing yet; an end after now ends now
    assert public(url, "/api/v3/klines", symbol="BTCUSDT", interval="1m", startTime=later) == []
    newest = public(url, "/api/v3/klines", symbol="BTCUSDT", interval="1m", endTime=later, limit=1)
    assert newest == rows[-1:]
    engine_rows = engine.ohlcv("BTC/USDT", "1m")
    assert [[r[0], *map(float, r[1:])] for r in engine_rows] == [[r[0], *map(float, r[1:6])] for r in rows]
    bad = send(url, "GET", "/api/v3/klines", {"symbol": "BTCUSDT", "interval": "7m"}, signed=False)
    assert error_of(bad) == (400, -1120, "Invalid interval.")
    month = public(url, "/api/v3/klines", symbol="BTCUSDT", interval="1M")[-1]
    year, number = time.gmtime((first + 3 * MINUTE) // 1000)[:2]  # the month of the newest candle
    next_month = calendar.timegm((year + number // 12, number % 12 + 1, 1, 0, 0, 0)) * 1000
    assert (month[0], month[6]) == (calendar.timegm((year, number, 1, 0, 0, 0)) * 1000, next_month - 1)
    assert public(url, "/api/v3/klines", symbol="BTCUSDT", interval="1M", endTime=next_month - 1, limit=3) == [month]
    seconds = send(url, "GET", "/api/v3/klines", {"symbol": "BTCUSDT", "interval": "1s"}, signed=False)
    assert error_of(seconds) == (400, -1120, "Invalid interval.")  # the engine's candles start at one minute


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
        # Binance's spot depth carries no time (ccxt leaves timestamp and datetime None), its update id does
        check_order_book(ex, {"timestamp": True, "datetime": True}, "fetchOrderBook", book, "BTC/USDT")
        assert book["nonce"] == engine.book("BTC/USDT").timestamp
        ticker = await run(ex, "fetch_ticker", "BTC/USDT")
        unified = engine.ticker("BTC/USDT")
        assert [ticker[k] for k in ("open", "high", "low")] == [float(unified[k]) for k in ("open", "high", "low")]
        assert ticker["baseVolume"] == float(unified["baseVolume"])

    in_mode(mode, url, scenario)


def test_python_binance_reads_candles_and_book(history: tuple[str, Engine, int]) -> None:
    url, engine, first = history
    api = python_binance(url)
    rows = api.get_klines(symbol="BTCUSDT", interval="1m", startTime=first, limit=4)
    assert [(row[0], row[1], row[4], row[5]) for row in rows] == [
        (first + i * MINUTE, f"{50_000 + i}.00000000", "50050.00000000", "2.00000000") for i in range(4)
    ]
    assert api.get_ui_klines(symbol="BTCUSDT", interval="1m", startTime=first, limit=4) == rows
    # the whole history from a date: python-binance first asks for the earliest candle (startTime=0, limit=1)
    assert api.get_historical_klines("BTCUSDT", "1m", first - 60 * MINUTE)[:4] == rows
    assert api.get_historical_klines("BTCUSDT", "1m", first, first + 3 * MINUTE - 1) == rows[:3]
    book = api.get_order_book(symbol="BTCUSDT", limit=5)
    expected = engine.order_book("BTC/USDT", 5)
    assert [[float(p), float(a)] for p, a in book["bids"]] == [[float(p), float(a)] for p, a in expected["bids"]]
    assert [[float(p), float(a)] for p, a in book["asks"]] == [[float(p), float(a)] for p, a in expected["asks"]]
    assert api.get_recent_trades(symbol="BTCUSDT") == [] and api.get_aggregate_trades(symbol="BTCUSDT") == []
