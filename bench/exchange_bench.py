"""ccxt class benchmark: in-process create_order through MockExchange next to the Engine it wraps.

Run: python bench/exchange_bench.py [--quick] [--pin [same|split]]
Target: the class keeps >= 0.8 x the engine's throughput, so the Engine figure measured beside it is the class's
floor. Runs are interleaved so both see the same machine load.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Figure, Floor, Group, Metric, Pin, RoundTrips, emit, parser, print_figures, rate, throwaway_engine

from mockexchange_ccxt import MockExchange


@dataclass(frozen=True)
class Sizes:
    """Market orders per round; the best of three interleaved rounds counts."""

    orders: int


FULL = Sizes(orders=5_000)
QUICK = Sizes(orders=500)

ENGINE = Metric(Group.CLASS, "Engine.create_order (market), one thread, interleaved", "orders/s", None)
CLASS = Metric(Group.CLASS, "MockExchange.create_order (market), interleaved", "orders/s", 0.8, relative=True)
METRICS = (ENGINE, CLASS)


def run(sizes: Sizes, pin: Pin | None) -> list[Figure]:
    n = sizes.orders
    with throwaway_engine(pin) as engine:
        trips = RoundTrips.measure(engine.store)
        # no tick loop beside it, as none runs beside the Engine: the two differ by the class alone
        exchange = MockExchange({"options": {"redisUrl": engine.store.url, "tickLoop": False}})
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
    floors = {ENGINE: trips.rate(), CLASS: Floor(best_engine, "the Engine figure above")}
    return emit(METRICS, {ENGINE: best_engine, CLASS: best_class}, sizes, floors)


def main() -> None:
    args = parser(__doc__ or "").parse_args()
    print_figures("ccxt class benchmark", run(QUICK if args.quick else FULL, args.pin), args.pin)


if __name__ == "__main__":
    main()
