"""Outside price writes are noticed at once through keyspace notifications (the tick loop set to an hour, so it
cannot be what settles), recorded once whoever notices, and settled once however many processes subscribe;
where notifications cannot be turned on, the tick loop's pass records them instead.

A notification says which hash was written, not what: the subscriber records what the hash holds when it reads
it, so a write replaced before anyone read it is settled against but not in history (writes through the engine
are recorded in the same step). The tests below therefore wait for each write to be noticed."""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from tests_helpers import free_port, wait_for

from mockexchange_ccxt import Engine, Settings
from mockexchange_ccxt.engine import EmbeddedValkey, notifications

from .conftest import EngineFactory

T0 = 1_700_000_000_000
HOUR = 3600.0


def outside_write(engine: Engine, symbol: str, *fields: str) -> None:
    """What a foreign feed does: one HSET straight into the feed hash."""
    engine.store.call("HSET", engine.keys.price(symbol), *fields)


def traded(engine: Engine) -> Decimal:
    return sum((Decimal(row[5]) for row in engine.ohlcv("BTC/USDT", since=0)), Decimal(0))


def listening(factory: EngineFactory, **overrides: object) -> Engine:
    engine = factory(tick_loop_sec=HOUR, **overrides)
    engine.start_tick_loop()
    assert engine.notifications.subscribed.wait(10), engine.notifications.unavailable
    assert wait_for(lambda: engine.tick_loop.passes >= 1)  # its one pass at start is over; the next is an hour away
    return engine


def test_an_outside_write_settles_and_is_recorded_without_the_tick_loop(make_engine: EngineFactory) -> None:
    setup = make_engine()
    setup.set_price("BTC/USDT", "50000", timestamp=T0)
    setup.fund("USDT", "10000")
    order = setup.create_order("BTC/USDT", "buy", "limit", "0.1", "49000")
    engine = listening(make_engine)
    passes = engine.tick_loop.passes
    outside_write(engine, "BTC/USDT", "price", "48000", "timestamp", str(T0 + 90_000), "volume", "3")
    assert wait_for(lambda: engine.fetch_order(order["id"])["status"] == "closed", timeout=5)
    assert engine.tick_loop.passes == passes  # the notification did it, not the loop
    assert wait_for(lambda: len(engine.ohlcv("BTC/USDT", since=0)) == 2)
    assert engine.ohlcv("BTC/USDT", since=0)[-1][1:] == [Decimal(48000)] * 4 + [Decimal(3)]
    engine.stop_tick_loop()


def test_the_engines_own_writes_are_not_recorded_twice(make_engine: EngineFactory) -> None:
    engine = listening(make_engine)
    handled = engine.notifications.handled
    engine.set_price("ETH/USDT", "2500", timestamp=T0, volume="2")
    assert wait_for(lambda: engine.notifications.handled > handled)  # the subscriber saw the write...
    assert engine.ohlcv("ETH/USDT", since=0)[0][5] == Decimal(2)  # ...and recorded nothing more
    engine.stop_tick_loop()


def test_set_price_counts_every_fill_of_its_price_while_subscribers_listen(make_engine: EngineFactory) -> None:
    """A subscriber that hears ``set_price``'s own write leaves its settlement to ``set_price``: the count it
    returns is every order its price filled (on a cluster the write and the settlement are two steps, between
    which a subscriber used to fill first)."""
    engine = listening(make_engine)
    other = listening(make_engine)
    engine.set_price("BTC/USDT", "50000", timestamp=T0)
    engine.fund("USDT", "1000000")
    for step in range(1, 31):
        engine.create_order("BTC/USDT", "buy", "limit", "0.01", "49000")
        assert engine.set_price("BTC/USDT", "48900", timestamp=T0 + 2 * step) == 1
        assert engine.set_price("BTC/USDT", "50000", timestamp=T0 + 2 * step + 1) == 0
    engine.stop_tick_loop()
    other.stop_tick_loop()


def _subscriber(url: str, data_dir: str, ready: multiprocessing.Event, stop: multiprocessing.Event) -> None:
    with Engine(Settings(redis_url=url, data_dir=Path(data_dir), tick_loop_sec=HOUR)) as engine:
        engine.start_tick_loop()
        engine.notifications.subscribed.wait(10)
        ready.set()
        stop.wait(60)


def test_several_subscribers_never_fill_or_record_twice(
    make_engine: EngineFactory, settings: Settings, tmp_path: Path
) -> None:
    """Two engines in this process and two in other processes all hear every write; each order fills once,
    each write is recorded once."""
    setup = make_engine()
    setup.set_price("BTC/USDT", "50000", timestamp=T0)
    setup.fund("USDT", "100000")
    orders = [setup.create_order("BTC/USDT", "buy", "limit", "0.1", str(49000 - 100 * i)) for i in range(10)]
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    readies = [context.Event() for _ in range(2)]
    processes = [
        context.Process(target=_subscriber, args=(settings.redis_url, str(tmp_path), ready, stop)) for ready in readies
    ]
    for process in processes:
        process.start()
    try:
        assert all(ready.wait(30) for ready in readies)
        engines = [listening(make_engine), listening(make_engine)]
        for step in range(20):  # each write: 1 BTC traded, prices stepping down through every limit
            price = 49_050 - 50 * step
            outside_write(setup, "BTC/USDT", "price", str(price), "timestamp", str(T0 + step * 1000), "volume", "1")
            assert wait_for(lambda step=step: traded(setup) >= step + 1, timeout=10)
        assert wait_for(lambda: not setup.fetch_orders(status="open"), timeout=10)
    finally:
        stop.set()
        for process in processes:
            process.join(30)
    for engine in engines:
        engine.stop_tick_loop()
    assert traded(setup) == 20  # each write recorded once, by whichever subscriber came first
    balance = setup.fetch_balance()
    cost = sum(Decimal("0.1") * (49000 - 100 * i) for i in range(10))
    assert balance["BTC"] == {"free": Decimal(1), "used": Decimal(0), "total": Decimal(1)}
    assert balance["USDT"]["total"] == 100000 - cost - cost / 1000
    assert all(setup.fetch_order(o["id"])["filled"] == Decimal("0.1") for o in orders)


@pytest.fixture
def no_config_valkey(tmp_path: Path) -> Iterator[EmbeddedValkey]:
    """A Valkey like a managed service's: CONFIG is disabled, so notifications cannot be turned on."""
    disabled = ["--rename-command", "CONFIG", ""]
    server = EmbeddedValkey(tmp_path / "nc", persistent=False, port=free_port(), extra_args=disabled)
    server.start()
    yield server
    server.stop()


def test_without_notifications_the_tick_loop_records_outside_writes(
    no_config_valkey: EmbeddedValkey,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.WARNING, logger="mockexchange_ccxt.notifications")
    monkeypatch.setattr(notifications, "_warned_unavailable", False)
    with Engine(replace(settings, redis_url=no_config_valkey.url, tick_loop_sec=0.05)) as engine:
        engine.set_price("BTC/USDT", "50000", timestamp=T0)
        engine.start_tick_loop()
        assert wait_for(lambda: engine.notifications.unavailable is not None)
        outside_write(engine, "BTC/USDT", "price", "51000", "timestamp", str(T0 + 120_000), "volume", "4")
        assert wait_for(lambda: len(engine.ohlcv("BTC/USDT", since=0)) == 2)
        passes = engine.tick_loop.passes
        assert wait_for(lambda: engine.tick_loop.passes > passes + 3)
        assert engine.ohlcv("BTC/USDT", since=0)[-1][5] == Decimal(4)  # polled many times, recorded once
        engine.stop_tick_loop()
        engine.stop_tick_loop()
        engine.start_tick_loop()  # a second start does not say it again
        assert wait_for(lambda: not engine.notifications.running)
    warnings = [r for r in caplog.records if "cannot be turned on" in r.getMessage()]
    assert len(warnings) == 1
