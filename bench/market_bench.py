"""Market-data benchmark: what recording history costs set_price, fetch_ohlcv over a month of 1m history, and how
soon an outside price write is settled through keyspace notifications.

Run: python bench/market_bench.py [--quick] [--pin [same|split]]
Targets (issue 11): recording adds under 10% to set_price; fetch_ohlcv of 1000 candles from 30 days of 1m history
has p99 < 5 ms in process; an outside write is settled with p99 < 20 ms.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Figure, Group, Metric, Pin, RoundTrips, emit, parser, print_figures, throwaway_engine, timed

from mockexchange_ccxt import Engine, MockExchange, ReplayClock
from mockexchange_ccxt.engine.money import fmt

DAY_MS, MINUTE_MS = 86_400_000, 60_000
START_MS = 1_700_000_000_000 // DAY_MS * DAY_MS


@dataclass(frozen=True)
class Sizes:
    """Ticks per set_price round (six interleaved rounds each way), days of 1m history, fetches, outside writes."""

    ticks: int
    days: int
    fetches: int
    writes: int


FULL = Sizes(ticks=5_000, days=30, fetches=1_000, writes=500)
QUICK = Sizes(ticks=500, days=3, fetches=100, writes=50)

BARE = Metric(Group.MARKET, "set_price + settle without recording, one thread", "ticks/s", None)
RECORDED = Metric(Group.MARKET, "set_price + settle, recorded in 1m and 1h candles", "ticks/s", None)
OVERHEAD = Metric(Group.MARKET, "recording's cost on set_price (median of interleaved rounds)", "%", 10, False)
OHLCV = Metric(Group.MARKET, "MockExchange.fetch_ohlcv 1000 x 1m from {days} days of 1m history, p99", "ms", 5, False)
HOURS = Metric(Group.MARKET, "MockExchange.fetch_ohlcv 1h over {days} days (from the 1h level), p99", "ms", None, False)
SETTLED = Metric(Group.MARKET, "outside HSET to order settled via notifications, p99", "ms", 20, False)
METRICS = (BARE, RECORDED, OVERHEAD, OHLCV, HOURS, SETTLED)


def recording_cost(engine: Engine, ticks: int) -> dict[Metric, float]:
    """set_price as it is, against the same call whose price write is a plain HSET (no candles) beside the settle
    script, in interleaved rounds so that both see the same machine load."""
    engine.clock = ReplayClock()
    engine.fund("USDT", "1000000")
    engine.set_price("BTC/USDT", "50000", timestamp=START_MS)
    engine.create_order("BTC/USDT", "buy", "limit", "0.01", "30000")  # every tick settles against a resting order
    recorded = engine.history.publish_commands
    key = engine.keys.price("BTC/USDT")

    def bare(symbol: str, price: Any, timestamp: int, *rest: Any, settle: Any = None) -> list[tuple[Any, ...]]:
        write = ("HSET", key, "price", fmt(price), "timestamp", str(timestamp))
        return [write] if settle is None else [write, engine.store.eval_command("settle", *settle)]

    clock = [START_MS]

    def round_of(publish: Any) -> float:
        engine.history.publish_commands = publish  # type: ignore[method-assign]
        start = time.perf_counter()
        for i in range(ticks):
            clock[0] += 1000
            engine.set_price("BTC/USDT", 50000 + (i * 7919) % 1000, timestamp=clock[0], volume="0.01")
        return ticks / (time.perf_counter() - start)

    bare_rates, recorded_rates, costs = [], [], []
    for _ in range(6):
        b, r = round_of(bare), round_of(recorded)
        bare_rates.append(b)
        recorded_rates.append(r)
        costs.append((b / r - 1) * 100)
    engine.history.publish_commands = recorded  # type: ignore[method-assign]
    return {
        BARE: statistics.median(bare_rates),
        RECORDED: statistics.median(recorded_rates),
        OVERHEAD: max(statistics.median(costs), 0.0),
    }


def history_rows(minutes: int) -> list[list[Any]]:
    """Plausible 1m candles, the same every run: a random walk of cent prices (each open the previous close),
    volumes of four decimals."""
    rng = random.Random(11)
    rows, close = [], 200_000  # cents
    for minute in range(minutes):
        opening, close = close, max(100, close + rng.randint(-150, 150))
        high, low = max(opening, close) + rng.randint(0, 80), max(1, min(opening, close) - rng.randint(0, 80))
        volume = rng.randint(1, 5_000_000)
        cents = [f"{value // 100}.{value % 100:02d}" for value in (opening, high, low, close)]
        rows.append([START_MS + minute * MINUTE_MS, *cents, f"{volume // 10_000}.{volume % 10_000:04d}"])
    return rows


def fetch_latency(engine: Engine, days: int, fetches: int) -> dict[Metric, float]:
    """``days`` of 1m candles imported, then fetches of 1000 1m candles from random points, and of every 1h. One
    fetch of each first, unmeasured: the first read of a process loads its script into Valkey, once."""
    minutes = days * 1440
    engine.import_ohlcv("ETH/USDT", "1m", history_rows(minutes))
    exchange = MockExchange({"options": {"redisUrl": engine.store.url, "tickLoop": False}})
    exchange.load_markets()
    for frame in ("1m", "1h"):
        exchange.fetch_ohlcv("ETH/USDT", frame, START_MS, 1000)
    spans = []
    for i in range(fetches):
        since = START_MS + (i * 7919 % max(1, minutes - 1000)) * MINUTE_MS
        spans.append(timed(lambda s=since: exchange.fetch_ohlcv("ETH/USDT", "1m", s, 1000)))
    assert len(exchange.fetch_ohlcv("ETH/USDT", "1m", START_MS, 1000)) == min(1000, minutes)
    hours = [
        timed(lambda: exchange.fetch_ohlcv("ETH/USDT", "1h", START_MS, 1000)) for _ in range(max(10, fetches // 10))
    ]
    return {OHLCV: p99(spans) * 1000, HOURS: p99(hours) * 1000}


def settle_latency(engine: Engine, writes: int) -> float:
    """A resting buy, then an outside HSET that crosses it; the time until the order reads closed."""
    engine.clock = ReplayClock()
    engine.set_price("SOL/USDT", "200", timestamp=START_MS)
    engine.fund("USDT", "1000000")
    listener = Engine(engine.settings.with_overrides(tick_loop_sec=3600.0))
    listener.start_tick_loop()
    assert listener.notifications.subscribed.wait(10), listener.notifications.unavailable
    key = engine.keys.price("SOL/USDT")
    spans = []
    try:
        for i in range(writes):
            order = engine.create_order("SOL/USDT", "buy", "limit", "0.1", "150")
            stamp = START_MS + (i + 1) * 2000
            start = time.perf_counter()
            engine.store.call("HSET", key, "price", "149", "timestamp", str(stamp))
            while engine.fetch_order(order["id"])["status"] != "closed":
                if time.perf_counter() - start > 5:
                    raise AssertionError("the outside write was not settled within 5 s")
            spans.append(time.perf_counter() - start)
            engine.store.call("HSET", key, "price", "200", "timestamp", str(stamp + 1000))
    finally:
        listener.close()
    return p99(spans) * 1000


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def run(sizes: Sizes, pin: Pin | None) -> list[Figure]:
    with throwaway_engine(pin) as engine:
        trips = RoundTrips.measure(engine.store)
        values = recording_cost(engine, sizes.ticks)
    with throwaway_engine(pin) as engine:
        values.update(fetch_latency(engine, sizes.days, sizes.fetches))
    with throwaway_engine(pin) as engine:
        values[SETTLED] = settle_latency(engine, sizes.writes)
    floors = {
        BARE: trips.rate(),  # a price write and its settlement go in one round trip
        RECORDED: trips.rate(),
        OHLCV: trips.time(1e-3, script=False),  # a read of the candles
        HOURS: trips.time(1e-3, script=False),
        SETTLED: trips.time(1e-3),  # at the least the settling script, after the notification
    }
    return emit(METRICS, values, sizes, floors)


def main() -> None:
    args = parser(__doc__ or "").parse_args()
    print_figures("market-data benchmark", run(QUICK if args.quick else FULL, args.pin), args.pin)


if __name__ == "__main__":
    main()
