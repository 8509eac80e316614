"""Memory benchmark: what Valkey itself says an order, a candle and an account cost (``INFO memory``'s
``used_memory``, the figure ``maxmemory`` limits), and what retention gives back.

Run: python bench/memory_bench.py [--quick] [--pin [same|split]]
Each figure is the growth of ``used_memory`` over a run of the same thing, divided by the count: orders are
measured past a warm-up of WARMUP orders, so that the account's hash and sorted sets already have the encoding a
busy account's have (a small account's compact encodings cost less). The console also prints, per account key,
its share by ``MEMORY USAGE`` (exact, every element sampled). Targets (issue 18): at most 600 bytes per resting
order (record and indexes) and 450 per finished order with its trade. Memory does not depend on the machine's
load: a quick run measures the same bytes per order.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Figure, Group, Metric, Pin, emit, parser, print_figures, throwaway_engine
from market_bench import history_rows

from mockexchange_ccxt import Engine
from mockexchange_ccxt.engine.store import Store

#: Orders placed before measuring: past Valkey's compact-encoding thresholds (512 hash fields, 128 zset members).
WARMUP = 1000
SYMBOL = "BTC/USDT"


@dataclass(frozen=True)
class Sizes:
    """Orders measured per figure, days of 1m candles of one symbol, accounts."""

    orders: int
    days: int
    accounts: int


FULL = Sizes(orders=20_000, days=30, accounts=1_000)
QUICK = Sizes(orders=2_000, days=2, accounts=200)

RESTING = Metric(
    Group.MEMORY, "resting limit order: record and indexes ({orders:,} orders, no clientOrderId)", "bytes", 600, False
)
FINISHED = Metric(
    Group.MEMORY, "finished order with its trade: record and indexes ({orders:,} market orders)", "bytes", 450, False
)
TRIMMED = Metric(
    Group.MEMORY, "still held per finished order once trimmed (table slots kept for the next)", "bytes", None, False
)
CANDLE = Metric(
    Group.MEMORY, "1m candle of history, with its share of the 1h level ({days} days, one symbol)", "bytes", None, False
)
ACCOUNT = Metric(
    Group.MEMORY,
    "account: registry, trading key, two funded assets, one filled order ({accounts:,} accounts)",
    "bytes",
    None,
    False,
)
METRICS = (RESTING, FINISHED, TRIMMED, CANDLE, ACCOUNT)


def used_memory(store: Store) -> int:
    """``used_memory`` of ``INFO memory``, summed over every primary (one, or a cluster's)."""
    total = 0
    for info in store.each_primary("INFO", "memory", writes=False):
        fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
        total += int(fields["used_memory"])
    return total


def key_usage(engine: Engine) -> dict[str, int]:
    """``MEMORY USAGE`` (every element sampled) of each key of the account and its symbol."""
    keys = engine.keys
    names = [*keys.account_keys([SYMBOL]), keys.sequence]
    usage = {}
    for name in names:
        size = engine.store.read("MEMORY", "USAGE", name, "SAMPLES", 0)
        if size:
            usage[name.removeprefix(keys.prefix)] = int(size)
    return usage


@dataclass
class Growth:
    """Bytes per item of one measured run: ``used_memory`` and each key's ``MEMORY USAGE``."""

    per_item: float
    keys: dict[str, float]


def growth(engine: Engine, count: int, action: Callable[[int], object]) -> Growth:
    """Run ``action(i)`` ``count`` times; the growth per item."""
    before, keys_before = settled_memory(engine.store), key_usage(engine)
    for i in range(count):
        action(i)
    after, keys_after = settled_memory(engine.store), key_usage(engine)
    per_key = {name: (size - keys_before.get(name, 0)) / count for name, size in keys_after.items()}
    return Growth((after - before) / count, {name: size for name, size in per_key.items() if size})


def settled_memory(store: Store) -> int:
    """``used_memory`` once the server's background work (resizing tables after deletes) had a moment."""
    time.sleep(0.3)
    return used_memory(store)


def resting_orders(engine: Engine, count: int) -> Growth:
    engine.fund("USDT", "100000000")
    engine.set_price(SYMBOL, "50000")

    def place(i: int) -> object:
        return engine.create_order(SYMBOL, "buy", "limit", "0.001", f"{40000 - (i % 5000) * 0.5:.2f}")

    for i in range(WARMUP):
        place(i)
    return growth(engine, count, place)


def finished_orders(engine: Engine, count: int) -> tuple[Growth, float]:
    """Market orders (each filled at once, with its trade); then what is left once retention trimmed them."""
    engine.fund("USDT", "100000000")
    engine.set_price(SYMBOL, "50000")

    def place(_: int) -> object:
        return engine.create_order(SYMBOL, "buy", "market", "0.001")

    for i in range(WARMUP):
        place(i)
    base = settled_memory(engine.store)
    measured = growth(engine, count, place)
    trimmer = Engine(engine.settings.with_overrides(order_retention_max=WARMUP))
    try:
        while trimmer.trim_orders():
            pass
    finally:
        trimmer.close()
    left = (settled_memory(engine.store) - base) / count
    return measured, left


def candles(engine: Engine, days: int) -> Growth:
    """``days`` of plausible 1m candles (the market bench's) imported for one symbol, after a day of another (its
    scripts loaded)."""
    rows = history_rows(days * 1440)
    engine.import_ohlcv("SOL/USDT", "1m", rows[:1440])
    return growth(engine, len(rows), lambda i: None if i else engine.import_ohlcv("ETH/USDT", "1m", rows))


def accounts(engine: Engine, count: int) -> Growth:
    """Accounts opened one after the other, after a few opened first (their scripts loaded)."""
    engine.set_price(SYMBOL, "50000")

    def open_account(i: int) -> object:
        name = f"trader{i}"
        engine.accounts.create(name)
        view = engine.for_account(name)
        view.fund("USDT", "1000")
        view.fund("BTC", "1")
        return view.create_order(SYMBOL, "buy", "market", "0.001")

    for i in range(count, count + 20):
        open_account(i)
    return growth(engine, count, open_account)


def run(sizes: Sizes, pin: Pin | None, detail: dict[str, Growth] | None = None) -> list[Figure]:
    """Each figure on a fresh Valkey; ``detail`` receives the per-key shares of the order figures."""
    with throwaway_engine(pin) as engine:
        resting = resting_orders(engine, sizes.orders)
    with throwaway_engine(pin) as engine:
        finished, left = finished_orders(engine, sizes.orders)
    with throwaway_engine(pin) as engine:
        candle = candles(engine, sizes.days)
    with throwaway_engine(pin) as engine:
        account = accounts(engine, sizes.accounts)
    if detail is not None:
        detail.update(resting=resting, finished=finished)
    values = {
        RESTING: resting.per_item,
        FINISHED: finished.per_item,
        TRIMMED: max(left, 0.0),
        CANDLE: candle.per_item,
        ACCOUNT: account.per_item,
    }
    return emit(METRICS, values, sizes)


def main() -> None:
    args = parser(__doc__ or "").parse_args()
    detail: dict[str, Growth] = {}
    print_figures("memory benchmark", run(QUICK if args.quick else FULL, args.pin, detail), args.pin)
    for what, measured in detail.items():
        shares = ", ".join(f"{name} {size:.0f}" for name, size in sorted(measured.keys.items(), key=lambda kv: -kv[1]))
        print(f"  {what} order, MEMORY USAGE per order by key: {shares}")


if __name__ == "__main__":
    main()
