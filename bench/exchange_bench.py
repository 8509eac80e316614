"""ccxt class benchmark: in-process create_order through MockExchange next to the Engine it wraps.

Run: python bench/exchange_bench.py [--quick] [--pin]
Target (issue: the class keeps >= 70% of the engine's throughput). Runs are interleaved so both see the
same machine load.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Figure, Group, Metric, emit, parser, print_figures, rate, throwaway_engine

from mockexchange_ccxt import MockExchange


@dataclass(frozen=True)
class Sizes:
    """Market orders per round; the best of three interleaved rounds counts."""

    orders: int


FULL = Sizes(orders=5_000)
QUICK = Sizes(orders=500)

ENGINE = Metric(Group.CLASS, "Engine.create_order (market), one thread, interleaved", "orders/s", 10_000)
CLASS = Metric(Group.CLASS, "MockExchange.create_order (market), interleaved", "orders/s", None)
SHARE = Metric(Group.CLASS, "MockExchange / Engine throughput", "%", 70)
METRICS = (ENGINE, CLASS, SHARE)


def run(sizes: Sizes, pin: bool) -> list[Figure]:
    n = sizes.orders
    with throwaway_engine(pin) as engine:
        exchange = MockExchange({"options": {"redisUrl": engine.store.url}})
        engine.set_price("BTC/USDT", "50000")
        engine.fund("USDT", "1000000000")
        engine.fund("BTC", "1000000")
        exchange.load_markets()
        sides = ("buy", "sell")
        engine_rates, class_rates = [], []
        for _ in range(3):
            engine_rates.append(rate(n, lambda i: engine.create_order("BTC/USDT", sides[i % 2], "market", "0.001")))
            class_rates.append(rate(n, lambda i: exchange.create_order("BTC/USDT", "market", sides[i % 2], 0.001)))
        best_engine, best_class = max(engine_rates), max(class_rates)
    values = {ENGINE: best_engine, CLASS: best_class, SHARE: best_class / best_engine * 100}
    return emit(METRICS, values, sizes)


def main() -> None:
    args = parser(__doc__ or "").parse_args()
    print_figures("ccxt class benchmark", run(QUICK if args.quick else FULL, args.pin), args.pin)


if __name__ == "__main__":
    main()
