"""Batched prices (``Engine.set_prices``, ``Engine.replay``) leave every stored byte a tick-by-tick replay leaves:
the same series is played both ways on two key prefixes of one server, with a strategy acting between batches,
resting limits and triggers of several accounts, under both fill models, and both keyspaces are read whole."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import pytest

from mockexchange_ccxt import Engine, ReplayClock
from mockexchange_ccxt.errors import BadRequest

from .conftest import EngineFactory

START = 1_699_999_980_000  # a minute's start
SYMBOL = "BTC/USDT"


def keyspace(engine: Engine) -> dict[str, Any]:
    """Every key of the engine's two prefixes, by name with the prefixes taken out, and its whole value."""
    store, keys = engine.store, engine.keys
    found: dict[str, Any] = {}
    for prefix in (keys.prefix, keys.price_prefix):
        for name in store.scan_iter(prefix.replace("{", "\\{") + "*"):
            kind = store.read("TYPE", name)
            if kind == "hash":
                value: Any = store.read("HGETALL", name)
            elif kind == "zset":
                value = store.read("ZRANGE", name, 0, -1, "WITHSCORES")
            elif kind == "set":
                value = sorted(store.read("SMEMBERS", name))
            else:
                value = store.read("GET", name)
            found[name.replace(keys.prefix, "P:").replace(keys.price_prefix, "F:")] = (kind, value)
    return found


def series(count: int, seed: int) -> list[tuple[int, str, str | None]]:
    """A random walk around 50,000 with volumes, a late tick now and then, and minute and hour changes."""
    rng = random.Random(seed)
    ticks: list[tuple[int, str, str | None]] = []
    price, stamp = 50_000.0, START
    for i in range(count):
        stamp += rng.choice((700, 15_000, 61_000, 3_600_000)) if i % 50 else 0
        price = max(100.0, price + rng.uniform(-400, 400))
        late = rng.random() < 0.03
        volume = None if rng.random() < 0.3 else f"{rng.randint(1, 10**6) / 10**4}"
        ticks.append((stamp - 5_000 if late else stamp, f"{price:.2f}", volume))
    return ticks


def prepare(engine: Engine) -> list[Engine]:
    """Two accounts with resting limits on both sides, stop-losses and take-profits."""
    engine.set_price(SYMBOL, "50000", timestamp=START - 1)
    accounts = [engine, engine.for_account("alice")]
    for offset, account in enumerate(accounts):
        account.fund("USDT", "10000000")
        account.fund("BTC", "100")
        for step in range(1, 6):
            account.create_order(SYMBOL, "buy", "limit", "0.3", str(50_000 - 700 * step - 90 * offset))
            account.create_order(SYMBOL, "sell", "limit", "0.3", str(50_000 + 700 * step + 90 * offset))
        account.create_order(SYMBOL, "sell", "market", "0.2", stop_loss_price=str(48_000 - 100 * offset))
        account.create_order(SYMBOL, "sell", "limit", "0.2", "53000", take_profit_price=str(52_500 + 50 * offset))
        account.create_order(SYMBOL, "buy", "market", "0.1", stop_loss_price=str(52_000 + 100 * offset))
    return accounts


def decide(accounts: list[Engine], round_: int) -> None:
    """The strategy, between two batches: a new resting order near the price, alternately per account."""
    account = accounts[round_ % 2]
    last = Decimal(account.ticker(SYMBOL)["last"])
    side, limit = ("buy", last - 150) if round_ % 3 else ("sell", last + 150)
    account.create_order(SYMBOL, side, "limit", "0.05", str(int(limit)))


Play = Callable[[Engine, Sequence[tuple[int, str, str | None]]], int]


def one_by_one(engine: Engine, ticks: Sequence[tuple[int, str, str | None]]) -> int:
    return sum(engine.set_price(SYMBOL, price, timestamp, volume=volume) for timestamp, price, volume in ticks)


def batched(engine: Engine, ticks: Sequence[tuple[int, str, str | None]]) -> int:
    return engine.set_prices(SYMBOL, ticks)


def play(engine: Engine, ticks: list[tuple[int, str, str | None]], write: Play, batch: int) -> int:
    accounts = prepare(engine)
    filled = 0
    for round_, start in enumerate(range(0, len(ticks), batch)):
        filled += write(engine, ticks[start : start + batch])
        decide(accounts, round_)
    return filled


def pair(make_engine: EngineFactory, **overrides: Any) -> tuple[Engine, Engine]:
    made = []
    for name in ("a", "b"):
        made.append(
            make_engine(
                clock=ReplayClock(START - 10), key_prefix=f"{name}x:", price_key_prefix=f"{name}sym_", **overrides
            )
        )
    return made[0], made[1]


@pytest.mark.parametrize(
    "model", [{}, {"fill_model": "book", "book_level_notional": Decimal(3000), "book_step_bps": Decimal(5)}]
)
def test_batches_store_what_ticks_store(
    make_engine: EngineFactory, model: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    ticks = series(600, seed=15)
    tick_engine, batch_engine = pair(make_engine, **model)
    filled = play(tick_engine, ticks, one_by_one, 37)
    alone: list[Any] = []  # the ticks the batches left to set_price: those that settle something, or late ones
    original = Engine.set_price

    def counted(self: Engine, *args: Any, **kwargs: Any) -> int:
        alone.append(args)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Engine, "set_price", counted)
    assert play(batch_engine, ticks, batched, 37) == filled
    monkeypatch.undo()
    assert len(alone) < len(ticks) / 4  # the batches did the rest
    assert filled > 10  # the series crossed limits and fired triggers (partially, under the book model)
    assert keyspace(batch_engine) == keyspace(tick_engine)
    assert batch_engine.clock.now_ms() == tick_engine.clock.now_ms()
    closed = tick_engine.fetch_orders(status="closed") + tick_engine.for_account("alice").fetch_orders(status="closed")
    assert {order["info"].get("triggerTimestamp") is not None for order in closed} == {True, False}


def test_replay_batches_like_ticks(make_engine: EngineFactory) -> None:
    """``Engine.replay`` at speed 0 goes in batches; the same candles tick by tick (speed > 0 writes one by one,
    here fast enough not to wait) leave the same keyspace."""
    rng = random.Random(7)
    rows, close = [], 50_000
    for minute in range(400):
        opening, close = close, close + rng.randint(-300, 300)
        high, low = max(opening, close) + rng.randint(0, 200), min(opening, close) - rng.randint(0, 200)
        rows.append([START + minute * 60_000, opening, high, low, close, rng.randint(0, 50)])
    tick_engine, batch_engine = pair(make_engine)
    done = []
    for engine, speed in ((tick_engine, 1e9), (batch_engine, 0.0)):
        prepare(engine)
        done.append(engine.replay(SYMBOL, rows, speed=speed))
    assert done[0] == done[1] and done[0]["filled"] > 0
    assert keyspace(batch_engine) == keyspace(tick_engine)


def test_bad_tick_changes_nothing(engine: Engine) -> None:
    engine.set_price(SYMBOL, "50000", timestamp=START)
    before = keyspace(engine)
    for bad in ([(START + 1, "50001"), (START + 2, "-1")], [(START + 1, "1"), (0, "2")], [(START, "1", "-2")]):
        with pytest.raises(BadRequest, match="tick"):
            engine.set_prices(SYMBOL, bad)
    assert keyspace(engine) == before


def test_a_holder_joining_is_seen(make_engine: EngineFactory) -> None:
    """An account that joins the symbol's holders after the engine last looked is settled all the same: the
    batch finds the set grown, and is sent again with it."""
    engine = make_engine(clock=ReplayClock(START))
    other = make_engine(clock=ReplayClock(START), account="bob")
    engine.set_prices(SYMBOL, [(START + 1, "50000")])
    other.fund("USDT", "100000")
    order = other.create_order(SYMBOL, "buy", "limit", "1", "49000")
    assert engine.set_prices(SYMBOL, [(START + 2, "49500"), (START + 3, "48999"), (START + 4, "49800")]) == 1
    assert other.fetch_order(order["id"])["status"] == "closed"


def test_an_idle_symbol_is_forgotten_as_tick_by_tick(make_engine: EngineFactory) -> None:
    """An account listing the symbol as active with no order left on it (written by hand here) loses it at the
    first price, as each price's settlement does tick by tick; the same series leaves the same keyspace."""
    tick_engine, batch_engine = pair(make_engine)
    ticks = [(START + i * 1000, str(50_000 + i), None) for i in range(20)]
    for engine in (tick_engine, batch_engine):
        engine.set_price(SYMBOL, "50000", timestamp=START - 1)
        engine.store.call("SADD", engine.keys.active_symbols, SYMBOL)
    one_by_one(tick_engine, ticks)
    batched(batch_engine, ticks)
    assert keyspace(batch_engine) == keyspace(tick_engine)
    assert SYMBOL not in batch_engine.store.read("SMEMBERS", batch_engine.keys.active_symbols)
