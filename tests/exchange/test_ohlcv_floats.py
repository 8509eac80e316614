"""The ccxt class's candles in process are built as floats straight from the stored records (``floats=True``):
they must be exactly the floats of the engine's exact rows, and what the class answers over HTTP, for every
form a record takes and every timeframe."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from conftest import exchange_config

from mockexchange_ccxt import Engine, MockExchange
from mockexchange_ccxt.engine.candles import TIMEFRAMES

T0 = 1_700_000_000_000 // 86_400_000 * 86_400_000
MINUTE = 60_000


def seed(engine: Engine) -> None:
    """Ticks with gaps and volumes of every kind (none, in units, finer than a unit, beyond 28 digits of units),
    5m candles imported at the 1m level, and 1m candles imported beside them."""
    rng = random.Random(7)
    stamp = T0
    volumes = [None, "0.01", "0.000000001", "1234.5678", "123456789012345678901234567.5"]
    for _ in range(400):
        stamp += rng.choice([1_000, 20_000, MINUTE, 10 * MINUTE])
        price = Decimal(rng.randint(1, 9 * 10**7)).scaleb(-rng.randint(0, 8))  # up to 8 decimals
        engine.set_price("BTC/USDT", price, timestamp=stamp, volume=rng.choice(volumes))
    engine.import_ohlcv(
        "ETH/USDT", "5m", [[T0 + i * 5 * MINUTE, "10.1", "12.3", "9.99", "11", "1.1"] for i in range(60)]
    )
    later = T0 + 600 * MINUTE
    engine.import_ohlcv("ETH/USDT", "1m", [[later + i * MINUTE, "0.3", "0.3", "0.1", "0.2", "7"] for i in range(90)])


def floats_of(rows: list[list[Any]]) -> list[list[str]]:
    """Rows as the text of ``float()`` of each number (repr tells 0.1 from 0.1000000000000000055...)."""
    return [[repr(row[0]), *(repr(float(value)) for value in row[1:])] for row in rows]


def test_float_rows_are_the_floats_of_the_exact_rows(engine: Engine) -> None:
    seed(engine)
    for symbol in ("BTC/USDT", "ETH/USDT"):
        for frame in TIMEFRAMES:
            for since, limit in [(None, None), (None, 1000), (T0, 1000), (T0 + 7 * 3_600_000 + 5, 3), (0, 10)]:
                exact = engine.ohlcv(symbol, frame, since, limit)
                floats = engine.ohlcv(symbol, frame, since, limit, floats=True)
                assert [[repr(value) for value in row] for row in floats] == floats_of(exact), (symbol, frame, since)
                assert all(type(row[0]) is int and all(type(v) is float for v in row[1:]) for row in floats)


def test_the_class_answers_the_same_in_process_and_over_http(engine: Engine, valkey_server: Any, http_url: str) -> None:
    seed(engine)
    local = MockExchange(exchange_config("in-process", valkey_server.url, http_url))
    remote = MockExchange(exchange_config("http", valkey_server.url, http_url))
    for frame in ("1m", "5m", "1h", "1d"):
        for symbol in ("BTC/USDT", "ETH/USDT"):
            rows = local.fetch_ohlcv(symbol, frame, T0, 1000)
            assert rows and rows == remote.fetch_ohlcv(symbol, frame, T0, 1000)
            assert floats_of(rows) == floats_of(engine.ohlcv(symbol, frame, T0, 1000))
