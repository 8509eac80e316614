"""In-process engine benchmark: the floor (PING and EVALSHA round trips), orders/s, settlement of 10,000 crossed
limits (with 10,000 trigger orders resting beside them), firing 10,000 triggers, idle ticks, back-test replay.

Run: python bench/engine_bench.py [--quick] [--pin [same|split]]
Prints one line per figure with its floor, its ratio to the floor and its target (DESIGN.md section 9).
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    Figure,
    Group,
    Metric,
    Pin,
    RoundTrips,
    emit,
    parser,
    print_figures,
    rate,
    throwaway_engine,
    timed,
)

from mockexchange_ccxt import Engine, ReplayClock


@dataclass(frozen=True)
class Sizes:
    """How many orders and ticks each figure takes; FULL holds the sizes DESIGN.md section 9 names."""

    orders: int
    settle: int
    triggers: int
    idle_book: int
    ticks: int
    batch: int


FULL = Sizes(orders=10_000, settle=10_000, triggers=10_000, idle_book=100_000, ticks=10_000, batch=100)
QUICK = Sizes(orders=1000, settle=1000, triggers=1000, idle_book=5000, ticks=1000, batch=100)

PING = Metric(Group.FLOOR, "PING round trip (median of 1,000)", "us", None, False)
EVALSHA = Metric(Group.FLOOR, "EVALSHA of a no-op script, round trip (median of 1,000)", "us", None, False)
MARKET = Metric(Group.ENGINE, "market orders + fill, one thread (Engine)", "orders/s", 0.6, relative=True)
SCRIPT = Metric(Group.ENGINE, "the same orders' placing script alone, planned once, sent in turn", "orders/s", None)
PLACE = Metric(Group.ENGINE, "resting limit placements, one thread", "orders/s", None)
SETTLE = Metric(
    Group.SETTLEMENT,
    "settle {settle:,} resting limits crossed by one tick, {triggers:,} trigger orders resting beside",
    "s",
    0.3,
    False,
)
FIRE = Metric(Group.SETTLEMENT, "fire {triggers:,} stop-loss sells (market) reached by one tick", "s", None, False)
IDLE = Metric(
    Group.TICKS,
    "tick with no crossing, {idle_book:,} resting limits and {triggers:,} triggers (median)",
    "ms",
    1.0,
    False,
)
TICKS = Metric(Group.BACKTEST, "back-test ticks with settlement, one set_price per tick", "ticks/s", None)
BATCHED = Metric(
    Group.BACKTEST,
    "back-test ticks with settlement, replayed in batches of {batch} (Engine.set_prices)",
    "ticks/s",
    3,
    relative=True,
)
METRICS = (PING, EVALSHA, MARKET, SCRIPT, PLACE, SETTLE, FIRE, IDLE, TICKS, BATCHED)


def place_resting(engine: Engine, symbol: str, count: int, low: int, spread: int) -> None:
    """``count`` resting buys below the market, prices spread over ``spread`` ticks of 0.01."""
    for i in range(count):
        engine.create_order(symbol, "buy", "limit", "0.001", f"{low + (i % spread) / 100:.2f}")


def place_triggers(engine: Engine, symbol: str, count: int, low: int, spread: int) -> None:
    """``count`` stop-loss sells (market) with triggers spread over ``spread`` ticks of 0.01 from ``low``."""
    for i in range(count):
        engine.create_order(symbol, "sell", "market", "0.001", stop_loss_price=f"{low + (i % spread) / 100:.2f}")


def order_rates(engine: Engine, n: int) -> dict[Metric, float]:
    """Market orders alternate sides so that neither balance runs out; the limits rest far below the market."""
    engine.set_price("BTC/USDT", "50000")
    engine.fund("USDT", "1000000000")
    engine.fund("BTC", "1000000")
    sides = ("buy", "sell")
    return {
        MARKET: rate(n, lambda i: engine.create_order("BTC/USDT", sides[i % 2], "market", "0.001")),
        SCRIPT: script_rate(engine, n),
        PLACE: rate(n, lambda i: engine.create_order("BTC/USDT", "buy", "limit", "0.001", "40000")),
    }


def script_rate(engine: Engine, n: int) -> float:
    """The placing scripts of the market buy and sell above, planned once and sent in turn through the store's
    own send and read (the path the PING floor takes): an order's round trip with no validation, planning or
    view around it, which is as close to the PING floor as the Engine's orders can come."""
    quote = engine.quote_memory.read("BTC/USDT")
    commands = []
    for side in ("buy", "sell"):
        request, market = engine._request("BTC/USDT", side, "market", "0.001", None, None, {})
        commands.append(engine._place_command(engine._planner(request, market)(quote), expect=quote))
    return rate(n, lambda i: engine.store.call(*commands[i % 2]))


def settle_seconds(engine: Engine, resting: int, triggers: int) -> float:
    """Seconds for one price to cross ``resting`` buys, all of which must fill, while ``triggers`` stop-loss
    sells rest below it, none of which it reaches."""
    engine.reset()
    engine.fund("USDT", "1000000000")
    engine.fund("ETH", "1000000")
    engine.set_price("ETH/USDT", "3000")
    place_resting(engine, "ETH/USDT", resting, 2000, 500)
    place_triggers(engine, "ETH/USDT", triggers, 1000, 500)
    seconds = timed(lambda: engine.set_price("ETH/USDT", "1999"))
    assert len(engine.fetch_orders(status="open", symbol="ETH/USDT")) == triggers, "every limit should have filled"
    return seconds


def fire_seconds(engine: Engine, triggers: int) -> float:
    """Seconds for one price to reach ``triggers`` stop-loss sells, each of which fires and fills at once."""
    engine.reset()
    engine.fund("BNB", "1000000")
    engine.set_price("BNB/USDT", "600")
    place_triggers(engine, "BNB/USDT", triggers, 500, 500)
    seconds = timed(lambda: engine.set_price("BNB/USDT", "499"))
    assert not engine.fetch_orders(status="open", symbol="BNB/USDT", tail=1), "every trigger should have fired"
    return seconds


def idle_tick_ms(engine: Engine, resting: int, triggers: int) -> float:
    """Median of 300 ticks that cross none of ``resting`` buys and reach none of ``triggers`` stop-loss sells:
    the tick loop's cost per symbol."""
    engine.reset()
    engine.fund("USDT", "1000000000")
    engine.fund("SOL", "1000000")
    engine.set_price("SOL/USDT", "200")
    place_resting(engine, "SOL/USDT", resting, 100, 5000)
    place_triggers(engine, "SOL/USDT", triggers, 50, 5000)
    return statistics.median(timed(lambda: engine.process_price_tick("SOL/USDT")) for _ in range(300)) * 1000


Tick = tuple[int, int]  # (timestamp ms, price)


def replay_batch(engine: Engine, symbol: str, ticks: Sequence[Tick]) -> None:
    """The one place where a back-test hands the engine a batch of ticks (what a strategy sees between two of its
    decisions), each settled as if written alone: ``Engine.set_prices``, one round trip for the batch when no
    tick of it meets an order."""
    engine.set_prices(symbol, ticks)


def backtest_rates(engine: Engine, ticks: int, batch: int) -> dict[Metric, float]:
    """Replayed ticks per second, each settling against one resting order that never fills: written one
    ``set_price`` at a time, then in batches through ``replay_batch`` (a price series of the same shape)."""
    engine.clock = ReplayClock()
    engine.fund("USDT", "1000000")
    engine.set_price("BTC/USDT", "50000", timestamp=1)
    engine.create_order("BTC/USDT", "buy", "limit", "0.01", "30000")
    series = [(1_700_000_000_000 + i * 1000, 50000 + (i * 7919) % 1000) for i in range(2 * ticks)]
    one_by_one, batched = series[:ticks], series[ticks:]
    per_tick = rate(ticks, lambda i: engine.set_price("BTC/USDT", one_by_one[i][1], timestamp=one_by_one[i][0]))
    batches = [batched[start : start + batch] for start in range(0, ticks, batch)]
    seconds = timed(lambda: [replay_batch(engine, "BTC/USDT", part) for part in batches])
    return {TICKS: per_tick, BATCHED: ticks / seconds}


def run(sizes: Sizes, pin: Pin | None) -> list[Figure]:
    with throwaway_engine(pin) as engine:
        trips = RoundTrips.measure(engine.store)
        values = {PING: trips.ping_s * 1e6, EVALSHA: trips.evalsha_s * 1e6}
        values.update(order_rates(engine, sizes.orders))
        values[SETTLE] = settle_seconds(engine, sizes.settle, sizes.triggers)
        values[FIRE] = fire_seconds(engine, sizes.triggers)
        values[IDLE] = idle_tick_ms(engine, sizes.idle_book, sizes.triggers)
        # the fewest script calls that settle them: full batches of settle_batch, the last one fills the rest
        settle_calls = -(-sizes.settle // engine.settings.settle_batch)
    with throwaway_engine(pin) as engine:
        values.update(backtest_rates(engine, sizes.ticks, sizes.batch))
    floors = {
        MARKET: trips.rate(),
        SCRIPT: trips.rate(),
        PLACE: trips.rate(),
        SETTLE: trips.time(1, settle_calls),
        IDLE: trips.time(1e-3),
        TICKS: trips.rate(),
        BATCHED: trips.rate(),
    }
    return emit(METRICS, values, sizes, floors)


def main() -> None:
    args = parser(__doc__ or "").parse_args()
    print_figures("engine benchmark", run(QUICK if args.quick else FULL, args.pin), args.pin)


if __name__ == "__main__":
    main()
