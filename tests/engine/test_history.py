"""Price history: candles equal an independent computation from the ticks written, paging is complete and
non-overlapping, timeframes align like Binance's, late prices land in their minute, retention is bounded, and
history survives a Valkey restart. Real Valkey, nothing mocked."""

from __future__ import annotations

import calendar
import time
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockexchange_ccxt import Engine, ReplayClock, Settings
from mockexchange_ccxt.engine import EmbeddedValkey
from mockexchange_ccxt.engine.candles import TIMEFRAMES
from mockexchange_ccxt.errors import BadRequest, BadSymbol

from .conftest import EngineFactory

T0 = 1_700_000_000_000  # 2023-11-14 22:13:20 UTC, a Tuesday
MINUTE, HOUR, DAY = 60_000, 3_600_000, 86_400_000


# -- the oracle: written from the rules, not from the engine's code -------------------------------------------


def window_start(frame: str, ts: int) -> int:
    """UTC alignment by the calendar: weeks on Monday, months on the 1st, the rest by length since 1970."""
    if frame == "1M":
        year, month = time.gmtime(ts / 1000)[:2]
        return calendar.timegm((year, month, 1, 0, 0, 0)) * 1000
    if frame == "1w":
        day = ts // DAY * DAY
        return day - time.gmtime(day / 1000).tm_wday * DAY  # tm_wday: Monday is 0
    unit = {"m": MINUTE, "h": HOUR, "d": DAY}[frame[-1]]
    length = int(frame[:-1]) * unit
    return ts // length * length


def oracle(ticks: list[tuple[int, Decimal, Decimal]], frame: str) -> list[list[object]]:
    """Candles from ticks (timestamp, price, volume) in the order they were written: the open is the earliest
    tick's price (the first written on a tie), the close the latest's (the last written on a tie)."""
    windows: dict[int, list[tuple[int, int, Decimal, Decimal]]] = {}
    for order, (ts, price, volume) in enumerate(ticks):
        windows.setdefault(window_start(frame, ts), []).append((ts, order, price, volume))
    candles = []
    for start in sorted(windows):
        group = windows[start]
        first = min(group, key=lambda tick: (tick[0], tick[1]))
        last = max(group, key=lambda tick: (tick[0], tick[1]))
        prices = [tick[2] for tick in group]
        candles.append([start, first[2], max(prices), min(prices), last[2], sum(tick[3] for tick in group)])
    return candles


prices = st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal("90000000"), places=8).filter(lambda p: p > 0)
# volumes of up to 8 decimals are added as integers of units, finer ones as decimal text: both, mixed
volumes = st.one_of(
    st.decimals(min_value=0, max_value=Decimal("1000000"), places=8),
    st.decimals(min_value=0, max_value=Decimal("1000"), places=12),
)
tick = st.tuples(st.integers(min_value=0, max_value=25 * DAY), prices, volumes)  # inside the 30 days kept


@pytest.fixture
def history_engine(make_engine: EngineFactory) -> Engine:
    return make_engine(clock=ReplayClock())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ticks=st.lists(tick, min_size=1, max_size=40), frame=st.sampled_from(sorted(TIMEFRAMES)))
def test_candles_equal_an_independent_computation(history_engine: Engine, ticks: list, frame: str) -> None:
    engine = history_engine
    engine.store.call("FLUSHALL")
    base = T0 - 20 * DAY
    written = [(base + offset, price, volume) for offset, price, volume in ticks]
    for ts, price, volume in written:
        engine.set_price("BTC/USDT", price, timestamp=ts, volume=volume)
    expected = oracle(written, frame)
    assert engine.ohlcv("BTC/USDT", frame, since=0, limit=1000) == expected
    assert engine.ohlcv("BTC/USDT", frame) == expected[-500:]
    # paging: since = the last open time + 1, two at a time, covers everything once, in order
    paged: list[list[object]] = []
    since = 0
    while page := engine.ohlcv("BTC/USDT", frame, since=since, limit=2):
        assert len(page) <= 2
        paged += page
        since = int(page[-1][0]) + 1  # type: ignore[call-overload]
    assert paged == expected


def test_limit_defaults_to_500_and_serves_at_most_1000(engine: Engine) -> None:
    for minute in range(1200):
        engine.set_price("BTC/USDT", 100 + minute, timestamp=T0 + minute * MINUTE)
    assert len(engine.ohlcv("BTC/USDT")) == 500
    newest = engine.ohlcv("BTC/USDT", limit=5000)
    assert len(newest) == 1000 and newest[-1][4] == Decimal(1299)  # the newest 1000, oldest first
    first = engine.ohlcv("BTC/USDT", since=0, limit=3)
    assert [row[4] for row in first] == [Decimal(100), Decimal(101), Decimal(102)]
    assert engine.ohlcv("BTC/USDT", since=T0 + 1, limit=1)[0][0] == (T0 // MINUTE + 1) * MINUTE  # inclusive


def test_gaps_are_left_out_and_weeks_and_months_align(engine: Engine) -> None:
    stamps = [T0, T0 + 5 * MINUTE, T0 + 3 * DAY, T0 + 40 * DAY]  # the last one opens a new retention window
    for index, ts in enumerate(stamps[:3]):
        engine.set_price("BTC/USDT", 10 + index, timestamp=ts)
    assert [row[0] for row in engine.ohlcv("BTC/USDT", "1m", since=0)] == [ts // MINUTE * MINUTE for ts in stamps[:3]]
    week = engine.ohlcv("BTC/USDT", "1w", since=0)
    assert len(week) == 1 and time.gmtime(week[0][0] / 1000).tm_wday == 0  # Monday 2023-11-13
    assert week[0][0] == calendar.timegm((2023, 11, 13, 0, 0, 0)) * 1000
    months = engine.ohlcv("BTC/USDT", "1M", since=0)
    assert [row[0] for row in months] == [calendar.timegm((2023, 11, 1, 0, 0, 0)) * 1000]
    assert months[0][1:5] == [Decimal(10), Decimal(12), Decimal(10), Decimal(12)]


def script_calls(engine: Engine) -> int:
    """Scripts Valkey has run so far, on every primary (every candle read is one): counted by the server, not
    timed."""
    calls = 0
    for info in engine.store.each_primary("INFO", "commandstats", writes=False):
        text = info if isinstance(info, str) else "\n".join(f"{k}:calls={v['calls']}" for k, v in info.items())
        for line in text.splitlines():
            if line.startswith(("cmdstat_evalsha:", "cmdstat_eval:")):
                calls += int(line.split("calls=", 1)[1].split(",", 1)[0])
    return calls


def test_a_small_limit_across_a_long_gap_reads_in_chunks(engine: Engine) -> None:
    """A since long before the history, or the newest two where the older one is weeks back, reads the gap in
    chunks of the level (a few round trips), never minute by minute (tens of thousands)."""
    engine.set_price("BTC/USDT", 10, timestamp=T0)
    engine.set_price("BTC/USDT", 11, timestamp=T0 + 20 * DAY)
    before = script_calls(engine)
    assert [row[4] for row in engine.ohlcv("BTC/USDT", since=5, limit=1)] == [Decimal(10)]
    assert [row[4] for row in engine.ohlcv("BTC/USDT", since=T0 + MINUTE, limit=1)] == [Decimal(11)]
    assert [row[4] for row in engine.ohlcv("BTC/USDT", limit=2)] == [Decimal(10), Decimal(11)]
    assert [row[4] for row in engine.ohlcv("BTC/USDT", "1h", limit=2)] == [Decimal(10), Decimal(11)]
    assert script_calls(engine) - before < 40  # minute by minute would be about 28,800 per read


def test_a_late_price_updates_its_minute_and_never_moves_the_last_price_back(engine: Engine) -> None:
    btc = engine
    btc.set_price("BTC/USDT", "50000", timestamp=T0 + 2 * MINUTE)
    btc.fund("USDT", "10000")
    btc.create_order("BTC/USDT", "buy", "limit", "0.1", "45000")
    assert btc.set_price("BTC/USDT", "40000", timestamp=T0) == 0  # late: recorded, but no price to fill at
    ticker = btc.ticker("BTC/USDT")
    assert ticker["last"] == Decimal(50000) and ticker["timestamp"] == T0 + 2 * MINUTE
    assert btc.fetch_orders(status="open")[0]["price"] == Decimal(45000)
    assert btc.ohlcv("BTC/USDT", since=T0 - MINUTE)[0][1:5] == [Decimal(40000)] * 4
    assert ticker["low"] == Decimal(40000)  # the 24 h statistics include it


def test_the_mocks_own_fills_are_not_market_volume(engine: Engine) -> None:
    btc = engine
    btc.set_price("BTC/USDT", "50000", timestamp=T0, volume="2")
    btc.fund("USDT", "100000")
    btc.create_order("BTC/USDT", "buy", "market", "1")
    btc.create_order("BTC/USDT", "buy", "limit", "0.1", "49000")
    btc.set_price("BTC/USDT", "48000", timestamp=T0 + 1000)
    assert btc.ohlcv("BTC/USDT", since=T0 - MINUTE)[-1][5] == Decimal(2)


def test_ticker_statistics_come_from_the_last_24_hours(engine: Engine) -> None:
    engine.set_price("BTC/USDT", "100", timestamp=T0 - 2 * DAY, volume="50")  # older than 24 h: left out
    engine.set_price("BTC/USDT", "200", timestamp=T0 - DAY + HOUR, volume="1")
    engine.set_price("BTC/USDT", "300", timestamp=T0 - 5 * HOUR, volume="2")
    engine.set_price("BTC/USDT", "150", timestamp=T0, volume="1")
    ticker = engine.ticker("BTC/USDT")
    assert (ticker["open"], ticker["high"], ticker["low"], ticker["last"]) == (200, 300, 150, 150)
    assert ticker["change"] == Decimal(-50) and ticker["percentage"] == Decimal(-25)
    assert ticker["average"] == Decimal(175)
    assert ticker["baseVolume"] == Decimal(4) and ticker["quoteVolume"] == Decimal(200 + 600 + 150)
    assert ticker["vwap"] == Decimal("237.5")
    engine.store.call("HSET", engine.keys.price("BTC/USDT"), "baseVolume", "10", "quoteVolume", "1600")
    fed = engine.tickers(["BTC/USDT"])["BTC/USDT"]  # the feed's 24 h volumes win
    assert (fed["baseVolume"], fed["quoteVolume"], fed["vwap"]) == (Decimal(10), Decimal(1600), Decimal(160))


def stats_oracle(ticks: list[tuple[int, Decimal, Decimal]], now: int) -> tuple[Decimal, ...]:
    """open, high, low, base and quote volume of the ticks in the minutes of the 24 h up to ``now``."""
    first, last = -(-(now - DAY) // MINUTE), now // MINUTE
    window = [(ts, order, p, v) for order, (ts, p, v) in enumerate(ticks) if first <= ts // MINUTE <= last]
    opening = min(window, key=lambda tick: (tick[0], tick[1]))[2]
    prices = [tick[2] for tick in window]
    return opening, max(prices), min(prices), sum(t[3] for t in window), sum(t[2] * t[3] for t in window)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    ticks=st.lists(st.tuples(st.integers(min_value=0, max_value=2 * DAY), prices, volumes), min_size=1, max_size=30),
    last_second=st.integers(min_value=0, max_value=59),
    end_of_hour=st.booleans(),
)
def test_ticker_statistics_equal_an_independent_computation(
    history_engine: Engine, ticks: list, last_second: int, end_of_hour: bool
) -> None:
    """Whatever the order of the writes; the newest price sometimes in the last minute of an hour, whose hour
    is then read whole from the hours while that minute is still open."""
    engine = history_engine
    engine.store.call("FLUSHALL")
    base = T0 // HOUR * HOUR - 10 * DAY
    newest = base + 2 * DAY + (HOUR - MINUTE if end_of_hour else 0) + last_second * 1000
    written = [(base + offset, price, volume) for offset, price, volume in ticks] + [(newest, Decimal(7), Decimal(1))]
    for ts, price, volume in written:
        engine.set_price("BTC/USDT", price, timestamp=ts, volume=volume)
    ticker = engine.ticker("BTC/USDT")
    assert ticker["timestamp"] == newest
    expected = stats_oracle(written, newest)
    got = (ticker["open"], ticker["high"], ticker["low"], ticker["baseVolume"], ticker["quoteVolume"])
    assert got == expected


def test_an_import_replaces_its_minutes_and_the_hours_follow(engine: Engine) -> None:
    """Prices in a minute, an import of that (still open) minute, more prices, a re-import: each import
    replaces what the minute held, 1m and 1h alike, and importing twice changes nothing."""
    minute = T0 // HOUR * HOUR + 5 * MINUTE
    for offset, price in ((0, 100), (10_000, 120), (20_000, 90)):
        engine.set_price("SOL/USDT", price, timestamp=minute + offset, volume="1")
    bar = [minute, "101", "130", "95", "110", "7"]
    assert engine.import_ohlcv("SOL/USDT", "1m", [bar]) == 1
    assert engine.ohlcv("SOL/USDT", "1m", since=minute)[0][1:] == [Decimal(v) for v in bar[1:]]
    assert engine.ohlcv("SOL/USDT", "1h", since=minute - 5 * MINUTE)[0][1:] == [Decimal(v) for v in bar[1:]]
    engine.set_price("SOL/USDT", "140", timestamp=minute + 30_000, volume="2")  # into the imported candle
    engine.set_price("SOL/USDT", "100", timestamp=minute + 2 * MINUTE, volume="1")  # a newer minute
    expected = [Decimal(101), Decimal(140), Decimal(95), Decimal(100), Decimal(10)]
    assert engine.ohlcv("SOL/USDT", "1h", since=minute - 5 * MINUTE)[0][1:] == expected
    assert engine.ohlcv("SOL/USDT", "15m", since=minute - 5 * MINUTE)[0][1:] == expected
    engine.import_ohlcv("SOL/USDT", "1m", [bar])
    engine.import_ohlcv("SOL/USDT", "1m", [bar])
    again = [Decimal(101), Decimal(130), Decimal(95), Decimal(100), Decimal(8)]
    assert engine.ohlcv("SOL/USDT", "1h", since=minute - 5 * MINUTE)[0][1:] == again
    hour_bar = [minute - 5 * MINUTE, "90", "200", "80", "150", "50"]  # an hour replaces what its minutes held
    engine.import_ohlcv("SOL/USDT", "1h", [hour_bar])
    assert engine.ohlcv("SOL/USDT", "1h", since=minute - 5 * MINUTE)[0][1:] == [Decimal(v) for v in hour_bar[1:]]
    engine.set_price("SOL/USDT", "210", timestamp=minute + 2 * MINUTE + 1000, volume="1")
    after = [Decimal(90), Decimal(210), Decimal(80), Decimal(210), Decimal(51)]
    assert engine.ohlcv("SOL/USDT", "1h", since=minute - 5 * MINUTE)[0][1:] == after


def test_an_outside_feed_finer_than_the_units_is_recorded_exactly(engine: Engine) -> None:
    """An outside writer's price and volume of 12 decimals, noticed, folded with the engine's own prices."""
    engine.set_price("XRP/USDT", "0.5", timestamp=T0, volume="100")
    key = engine.keys.price("XRP/USDT")
    engine.store.call("HSET", key, "price", "0.500000000001", "timestamp", str(T0 + 1000), "volume", "0.000000000003")
    engine.notice("XRP/USDT")
    engine.notice("XRP/USDT")  # the same snapshot twice: recorded once
    engine.set_price("XRP/USDT", "0.4", timestamp=T0 + 2000, volume="1")
    row = engine.ohlcv("XRP/USDT", since=T0 - MINUTE)[0]
    assert row[1:] == [Decimal(p) for p in ("0.5", "0.500000000001", "0.4", "0.4", "101.000000000003")]
    quote = Decimal(50) + Decimal("0.500000000001") * Decimal("0.000000000003") + Decimal("0.4")
    assert engine.ticker("XRP/USDT")["quoteVolume"] == quote


def stored(engine: Engine, symbol: str, level: str) -> int:
    """Records kept at a level (its hash also holds a few bookkeeping fields)."""
    return sum(field.isdigit() for field in engine.store.read("HKEYS", engine.keys.candles(symbol, level)))


def test_retention_is_bounded_in_the_datas_own_time(make_engine: EngineFactory) -> None:
    short = make_engine(history_days=1)
    for index in range(3 * 1440 // 10):  # three days, a price every 10 minutes
        short.set_price("ETH/USDT", 1000 + index, timestamp=T0 + index * 10 * MINUTE)
    assert stored(short, "ETH/USDT", "1m") <= 144
    assert stored(short, "ETH/USDT", "1h") <= 24
    kept = short.ohlcv("ETH/USDT", since=0, limit=1000)
    assert len(kept) == 144 and kept[-1][4] == Decimal(1000 + 3 * 144 - 1)
    short.set_price("ETH/USDT", "5", timestamp=T0)  # older than the window: not recorded
    assert short.ohlcv("ETH/USDT", since=0, limit=1000) == kept
    short.set_price("ETH/USDT", "7", timestamp=T0 + 400 * DAY)  # a jump past the whole window empties it
    assert stored(short, "ETH/USDT", "1m") == 1


def test_bad_input_is_refused(btc: Engine) -> None:
    for frame in ("7m", "", "1y", None, 5):
        with pytest.raises(BadRequest, match="timeframe"):
            btc.ohlcv("BTC/USDT", frame)
    for since in (-1, 2**63, 10**30, "x", 1.5, True):
        with pytest.raises(BadRequest, match="since"):
            btc.ohlcv("BTC/USDT", "1m", since)
    for limit in (0, -3, 10**30, "10", True):
        with pytest.raises(BadRequest, match="limit"):
            btc.ohlcv("BTC/USDT", "1m", None, limit)
    with pytest.raises(BadSymbol):
        btc.ohlcv("DOGE/USDT")
    with pytest.raises(BadSymbol):
        btc.ohlcv("BTCUSDT")
    for volume in ("-1", "nan", "1e31", "x"):
        with pytest.raises(BadRequest, match="volume"):
            btc.set_price("BTC/USDT", "1", volume=volume)


def test_a_since_after_now_finds_nothing_yet_so_paging_forward_ends(engine: Engine) -> None:
    """As on an exchange: the loop that asks from the last open + a period until a page comes back empty ends,
    also when its last ``since`` is past now (the open minute's successor)."""
    start = engine.now_ms() // MINUTE * MINUTE - 5 * MINUTE
    for minute in range(6):
        engine.set_price("BTC/USDT", str(50_000 + minute), timestamp=start + minute * MINUTE)
    pages, since = [], start
    while page := engine.ohlcv("BTC/USDT", "1m", since, 2):
        pages.append([row[0] for row in page])
        since = page[-1][0] + MINUTE
    assert pages == [
        [start, start + MINUTE],
        [start + 2 * MINUTE, start + 3 * MINUTE],
        [start + 4 * MINUTE, start + 5 * MINUTE],
    ]
    assert since > engine.now_ms() - MINUTE
    assert engine.ohlcv("BTC/USDT", "1h", engine.now_ms() + DAY) == []
    with pytest.raises(BadSymbol):
        engine.ohlcv("DOGE/USDT", "1m", engine.now_ms() + DAY)


def test_a_priced_symbol_without_history_has_no_candles(engine: Engine) -> None:
    engine.store.call("HSET", engine.keys.price("SOL/USDT"), "price", "150", "timestamp", str(T0))
    assert engine.ohlcv("SOL/USDT") == []
    assert engine.ticker("SOL/USDT")["open"] is None


@pytest.fixture
def persistent_valkey(tmp_path: Path) -> Iterator[EmbeddedValkey]:
    from tests_helpers import free_port

    server = EmbeddedValkey(tmp_path / "data", persistent=True, port=free_port())
    server.start()
    yield server
    server.stop()


def test_history_survives_a_valkey_restart(persistent_valkey: EmbeddedValkey, settings: Settings) -> None:
    config = replace(settings, redis_url=persistent_valkey.url)
    with Engine(config) as engine:
        for minute in range(30):
            engine.set_price("BTC/USDT", 100 + minute, timestamp=T0 + minute * MINUTE, volume="0.5")
        before = engine.ohlcv("BTC/USDT", "5m", since=0)
    persistent_valkey.stop()
    persistent_valkey.start()
    with Engine(config) as engine:
        assert engine.ohlcv("BTC/USDT", "5m", since=0) == before
        engine.set_price("BTC/USDT", 500, timestamp=T0 + 31 * MINUTE)  # and recording goes on
        assert engine.ohlcv("BTC/USDT", "1h", since=0)[-1][2] == Decimal(500)
