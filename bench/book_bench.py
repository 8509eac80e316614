"""Fills against the book (FILL_MODEL=book) next to the touch model, measured in the same run: a market order
walking 20 levels, and the settlement of 10,000 resting limits against a 20-level book.

Run: python bench/book_bench.py [--quick] [--pin [same|split]]
Targets (issue 13): each book figure within 2x of its touch figure, which is therefore its floor. The two models
run on one Valkey in interleaved rounds (the best round of each counts), so both see the same machine load.
Every market order meets a fresh snapshot whose 20 ask levels it walks to the end (the snapshot is written before
the order and is not timed); the touch model gets the same writes and fills at the touch.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Figure, Floor, Group, Metric, Pin, RoundTrips, emit, run_alone, throwaway_engine, timed

from mockexchange_ccxt import Engine


@dataclass(frozen=True)
class Sizes:
    """Market orders per round, resting limits settled per round, levels a side, interleaved rounds."""

    orders: int
    settle: int
    levels: int
    rounds: int


FULL = Sizes(orders=2_000, settle=10_000, levels=20, rounds=2)
QUICK = Sizes(orders=100, settle=500, levels=20, rounds=1)

TOUCH_MARKET = Metric(Group.FILLS, "market orders at the touch (FILL_MODEL=touch), one thread", "orders/s", None)
BOOK_MARKET = Metric(
    Group.FILLS, "market orders walking {levels} levels (FILL_MODEL=book), one thread", "orders/s", 0.5, relative=True
)
TOUCH_SETTLE = Metric(Group.FILLS, "settle {settle:,} resting limits crossed by one price (touch)", "s", None, False)
BOOK_SETTLE = Metric(
    Group.FILLS,
    "settle {settle:,} resting limits against a {levels}-level book (FILL_MODEL=book)",
    "s",
    0.5,
    False,
    relative=True,
)
METRICS = (TOUCH_MARKET, BOOK_MARKET, TOUCH_SETTLE, BOOK_SETTLE)

SYMBOL, RESTING = "BTC/USDT", "ETH/USDT"


def _asks(levels: int, start: float, amount: str) -> list[list[str]]:
    return [[f"{start + k * 0.5:.2f}", amount] for k in range(levels)]


def market_rate(engine: Engine, n: int, levels: int, stamp: list[int]) -> float:
    """Market buys, each of exactly the ``levels`` ask levels of a fresh snapshot; only the orders are timed."""
    asks = _asks(levels, 50_000, "0.0001")
    spent = 0.0
    for _ in range(n):
        stamp[0] += 1
        engine.set_price(SYMBOL, "49999", timestamp=stamp[0], bids=[["49999", "1"]], asks=asks)
        start = time.perf_counter()
        engine.create_order(SYMBOL, "buy", "market", f"{0.0001 * levels:.4f}")
        spent += time.perf_counter() - start
    return n / spent


def settle_seconds(engine: Engine, resting: int, levels: int, stamp: list[int]) -> float:
    """Seconds for one price to settle ``resting`` buys of 0.001 at 2000 to 2004.99; the book's ``levels`` asks
    below them hold enough for all of them (the touch model fills them at the touch anyway)."""
    engine.reset()
    engine.fund("USDT", "1000000000")
    stamp[0] += 1
    engine.set_price(RESTING, "3000", timestamp=stamp[0], bids=[["2999", "1"]], asks=[["3001", "1"]])
    for i in range(resting):
        engine.create_order(RESTING, "buy", "limit", "0.001", f"{2000 + (i % 500) / 100:.2f}")
    per_level = f"{resting * 0.001 / levels * 1.1:.4f}"
    stamp[0] += 1
    depth: dict[str, Any] = {"bids": [["1989", "1"]], "asks": _asks(levels, 1990, per_level)}
    seconds = timed(lambda: engine.set_price(RESTING, "1989.5", timestamp=stamp[0], **depth))
    assert not engine.fetch_orders(status="open", symbol=RESTING, tail=1), "every limit should have filled"
    return seconds


def run(sizes: Sizes, pin: Pin | None) -> list[Figure]:
    with throwaway_engine(pin) as touch:
        book = Engine(touch.settings.with_overrides(fill_model="book"))
        try:
            trips = RoundTrips.measure(touch.store)
            stamp = [1_700_000_000_000]
            for engine in (touch, book):
                engine.fund("USDT", "1000000000")
            markets: dict[str, list[float]] = {"touch": [], "book": []}
            settles: dict[str, list[float]] = {"touch": [], "book": []}
            for _ in range(sizes.rounds):
                for name, engine in (("touch", touch), ("book", book)):
                    markets[name].append(market_rate(engine, sizes.orders, sizes.levels, stamp))
                for name, engine in (("touch", touch), ("book", book)):
                    settles[name].append(settle_seconds(engine, sizes.settle, sizes.levels, stamp))
        finally:
            book.close()
    values = {
        TOUCH_MARKET: max(markets["touch"]),
        BOOK_MARKET: max(markets["book"]),
        TOUCH_SETTLE: min(settles["touch"]),
        BOOK_SETTLE: min(settles["book"]),
    }
    settle_calls = -(-sizes.settle // touch.settings.settle_batch)
    floors = {
        TOUCH_MARKET: trips.rate(),
        BOOK_MARKET: Floor(values[TOUCH_MARKET], "the touch figure above"),
        TOUCH_SETTLE: trips.time(1, settle_calls),
        BOOK_SETTLE: Floor(values[TOUCH_SETTLE], "the touch figure above"),
    }
    return emit(METRICS, values, sizes, floors)


if __name__ == "__main__":
    run_alone("fills against the book benchmark", __doc__, run, QUICK, FULL)
