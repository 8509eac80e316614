"""In-process engine benchmark: orders/s, settlement of 10,000 crossed limits, idle ticks, back-test replay.

Run: python bench/engine_bench.py [--quick] [--pin]
Prints one line per figure with its target (DESIGN.md section 9) and the ratio.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Figure, machine, parser, rate, throwaway_engine, timed

from mockexchange_ccxt import Engine


def place_resting(engine: Engine, symbol: str, count: int, low: int, spread: int) -> None:
    """``count`` resting buys below the market, prices spread over ``spread`` ticks of 0.01."""
    for i in range(count):
        engine.create_order(symbol, "buy", "limit", "0.001", f"{low + (i % spread) / 100:.2f}")


def run(quick: bool, pin: bool) -> list[Figure]:
    n_orders = 1000 if quick else 10_000
    n_settle = 1000 if quick else 10_000
    n_idle_book = 5000 if quick else 100_000
    n_ticks = 1000 if quick else 10_000
    figures: list[Figure] = []
    with throwaway_engine(pin) as engine:
        engine.set_price("BTC/USDT", "50000")
        engine.fund("USDT", "1000000000")
        engine.fund("BTC", "1000000")
        sides = ("buy", "sell")
        per_s = rate(n_orders, lambda i: engine.create_order("BTC/USDT", sides[i % 2], "market", "0.001"))
        figures.append(Figure("market orders + fill, one thread", per_s, "orders/s", 10_000))
        per_s = rate(n_orders, lambda i: engine.create_order("BTC/USDT", "buy", "limit", "0.001", "40000"))
        figures.append(Figure("resting limit placements, one thread", per_s, "orders/s", None))

        engine.reset()
        engine.fund("USDT", "1000000000")
        engine.set_price("ETH/USDT", "3000")
        place_resting(engine, "ETH/USDT", n_settle, 2000, 500)
        seconds = timed(lambda: engine.set_price("ETH/USDT", "1999"))
        assert not engine.fetch_orders(status="open", symbol="ETH/USDT", tail=1), "every order should have filled"
        figures.append(Figure(f"settle {n_settle:,} resting limits crossed by one tick", seconds, "s", 0.3, False))

        engine.reset()
        engine.fund("USDT", "1000000000")
        engine.set_price("SOL/USDT", "200")
        place_resting(engine, "SOL/USDT", n_idle_book, 100, 5000)
        samples = []
        for _ in range(300):
            start = time.perf_counter()
            engine.process_price_tick("SOL/USDT")
            samples.append(time.perf_counter() - start)
        figures.append(
            Figure(
                f"tick with no crossing, {n_idle_book:,} resting orders (median)",
                statistics.median(samples) * 1000,
                "ms",
                1.0,
                False,
            )
        )
    with throwaway_engine(pin) as engine:
        from mockexchange_ccxt import ReplayClock

        engine.clock = ReplayClock()
        engine.fund("USDT", "1000000")
        engine.set_price("BTC/USDT", "50000", timestamp=1)
        engine.create_order("BTC/USDT", "buy", "limit", "0.01", "30000")
        start_ms = 1_700_000_000_000
        per_s = rate(
            n_ticks,
            lambda i: engine.set_price("BTC/USDT", 50000 + (i * 7919) % 1000, timestamp=start_ms + i * 1000),
        )
        figures.append(Figure("back-test set_price ticks with settlement", per_s, "ticks/s", 10_000))
    return figures


def main() -> None:
    args = parser(__doc__ or "").parse_args()
    print(f"engine benchmark on {machine()}{' (pinned to one CPU)' if args.pin else ''}")
    for figure in run(args.quick, args.pin):
        print(figure.line())


if __name__ == "__main__":
    main()
