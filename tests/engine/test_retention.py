"""Retention of finished orders (issue: memory that stays bounded): finished orders and their trades are trimmed
by count and by age, per account, whole, in small batches, from the tick loop or on demand; open orders never;
a trimmed id says it is older than the retention, an unknown one that it does not exist; the books still add
up over what is kept plus what was trimmed; a back-test keeps everything unless asked."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from books import check_books, check_fills, check_orders_consistent
from tests_helpers import keyspace, wait_for

from mockexchange_ccxt import Engine, ReplayClock
from mockexchange_ccxt.engine import retention
from mockexchange_ccxt.engine.clock import WallClock
from mockexchange_ccxt.engine.queries import scores_of
from mockexchange_ccxt.engine.retention import DEFAULT_DAYS, DEFAULT_MAX, Retention
from mockexchange_ccxt.errors import OrderNotFound

from .conftest import EngineFactory

DAY = 86_400_000
T0 = 1_700_000_000_000
FUNDS = {"USDT": Decimal(100_000)}


def seeded(engine: Engine) -> Engine:
    engine.set_price("BTC/USDT", "50000", timestamp=T0)
    engine.fund("USDT", FUNDS["USDT"])
    return engine


def traces(engine: Engine, order_id: str) -> list[str]:
    """Every place an order id is still found in its account: record, indexes, trades, clientOrderId."""
    keys, found = engine.keys, []
    if engine.store.read("HEXISTS", keys.orders, order_id):
        found.append("record")
    sets = [keys.all_ids, keys.symbol_ids("BTC/USDT"), keys.fills, keys.symbol_fills("BTC/USDT"), keys.finished_ids]
    found += [key for key in sets if engine.store.read("ZSCORE", key, order_id) is not None]
    found += [f"client id {c}" for c, i in engine.store.read("HGETALL", keys.client_ids).items() if i == order_id]
    return found


def test_count_keeps_the_newest_finished_orders_and_every_open_one(make_engine: EngineFactory) -> None:
    engine = seeded(make_engine(ReplayClock(), order_retention_max=3))
    resting = engine.create_order("BTC/USDT", "buy", "limit", "0.01", "40000", client_order_id="rest")
    done = []
    for i in range(5):  # each finishes a minute after the previous one
        engine.set_price("BTC/USDT", "50000", timestamp=T0 + (i + 1) * 60_000)
        done.append(engine.create_order("BTC/USDT", "buy", "market", "0.001", client_order_id=f"m{i}")["id"])
    engine.set_price("BTC/USDT", "50000", timestamp=T0 + 10 * 60_000)
    canceled = engine.create_order("BTC/USDT", "sell", "limit", "0.001", "60000")["id"]
    engine.cancel_order(canceled)
    assert engine.fetch_order(done[0])["status"] == "closed"  # nothing goes before a trim runs

    assert engine.trim_orders() == 3  # six finished, three kept: the newest by when they finished
    for order_id in done[:3]:
        with pytest.raises(OrderNotFound, match=f"order {order_id} is older than the order retention") as caught:
            engine.fetch_order(order_id)
        assert "at most 3 per account" in caught.value.message and "ORDER_RETENTION_MAX" in caught.value.message
        with pytest.raises(OrderNotFound, match="older than the order retention"):
            engine.order_trades(order_id)
        with pytest.raises(OrderNotFound, match="older than the order retention"):
            engine.cancel_order(order_id)
        assert traces(engine, order_id) == []  # the order, its trade and every index entry went together
    kept = [order["id"] for order in engine.fetch_orders(since=0)]  # a since older than the retention: the kept
    assert kept == [resting["id"], *done[3:], canceled]
    assert [trade["order"] for trade in engine.fetch_my_trades(since=0)] == done[3:]
    assert engine.fetch_order(resting["id"])["status"] == "open"
    assert engine.trimmed()["orders"] == 3 and engine.trimmed()["trades"] == 3
    check_books(engine, FUNDS)  # the trimmed buys' BTC and their cost stay in the balances
    check_orders_consistent(engine)
    check_fills(engine)
    assert engine.trim_orders() == 0  # nothing more to trim
    engine.create_order("BTC/USDT", "buy", "market", "0.001", client_order_id="m0")  # a trimmed clientOrderId


def test_an_id_that_never_existed_still_does_not_exist(make_engine: EngineFactory) -> None:
    engine = seeded(make_engine(ReplayClock(), order_retention_max=1))
    for _ in range(3):
        engine.create_order("BTC/USDT", "buy", "market", "0.001")
    engine.trim_orders()
    bob = engine.for_account("bob")
    bob.fund("USDT", "1000")
    bobs = bob.create_order("BTC/USDT", "buy", "market", "0.001")["id"]
    for unknown in ("4", "999999", "01", bobs):  # beyond the counter, a spelling never issued, another account's
        with pytest.raises(OrderNotFound, match=f"order {unknown} does not exist"):
            engine.fetch_order(unknown)
    with pytest.raises(OrderNotFound, match="order 1 does not exist"):  # bob's counter 1 was not trimmed
        bob.fetch_order("1")
    with pytest.raises(OrderNotFound, match="order 1 is older than the order retention"):
        engine.fetch_order("1")
    engine.reset()  # the ledger goes with the books: an id wiped by a reset does not exist
    assert engine.trimmed() == {"orders": 0, "trades": 0, "net": {}}
    with pytest.raises(OrderNotFound, match="order 1 does not exist"):
        engine.fetch_order("1")


def test_age_is_counted_in_the_accounts_own_time(make_engine: EngineFactory) -> None:
    """A back-test on a ReplayClock that asks for a retention gets it in the data's time: orders that finished
    more than a day before the account's newest finished order go, an order open all along stays."""
    engine = seeded(make_engine(ReplayClock(), order_retention_days=Decimal(1)))
    resting = engine.create_order("BTC/USDT", "buy", "limit", "0.01", "40000")
    done = []
    for day in range(4):
        engine.set_price("BTC/USDT", "50000", timestamp=T0 + day * DAY + 1)
        done.append(engine.create_order("BTC/USDT", "buy", "market", "0.001")["id"])
    assert engine.trim_orders() == 2  # day 0 and day 1; day 2 finished exactly a day before the newest: kept
    assert [order["id"] for order in engine.fetch_orders()] == [resting["id"], *done[2:]]
    engine.set_price("BTC/USDT", "39000", timestamp=T0 + 5 * DAY)  # fills the order that rested since day 0
    assert engine.trim_orders() == 2  # days 2 and 3 are now more than a day older than the newest finish
    assert [order["status"] for order in engine.fetch_orders()] == ["closed"]  # the one that rested 5 days
    check_books(engine, FUNDS)
    check_orders_consistent(engine)


def test_a_far_future_finish_does_not_sweep_the_account(make_engine: EngineFactory) -> None:
    """Age counts back from the newest finish or from now, whichever is earlier: a fill timed in the future by a
    bad feed timestamp leaves the orders of the last days alone."""
    engine = make_engine(WallClock(), order_retention_days=Decimal(1))
    engine.set_price("BTC/USDT", "50000")
    engine.fund("USDT", "1000")
    kept = engine.create_order("BTC/USDT", "buy", "market", "0.001")["id"]
    engine.create_order("BTC/USDT", "buy", "limit", "0.001", "40000")
    engine.set_price("BTC/USDT", "30000", timestamp=engine.now_ms() + 800 * DAY)  # fills it 800 days ahead
    assert engine.store.read("ZCARD", engine.keys.finished_ids) == 2
    assert engine.trim_orders() == 0
    assert engine.fetch_order(kept)["status"] == "closed"


def test_a_back_test_keeps_everything_unless_asked(make_engine: EngineFactory) -> None:
    engine = seeded(make_engine(ReplayClock()))
    for day in range(3):
        engine.set_price("BTC/USDT", "50000", timestamp=T0 + 40 * day * DAY)  # a replay of 80 days
        engine.create_order("BTC/USDT", "buy", "market", "0.001")
    assert engine.retention == Retention(None, None)
    assert engine.trim_orders() == 0 and len(engine.fetch_orders()) == 3
    asked = make_engine(ReplayClock(), order_retention_max=2)
    assert asked.retention == Retention(None, 2)
    assert make_engine(WallClock()).retention == Retention(DEFAULT_DAYS, DEFAULT_MAX)
    assert (DEFAULT_DAYS, DEFAULT_MAX) == (30, 100_000)


def test_every_way_an_order_finishes_lands_in_the_finished_index(make_engine: EngineFactory) -> None:
    engine = seeded(make_engine(ReplayClock(), order_retention_max=1))
    engine.fund("BTC", "1")
    finished: dict[str, Any] = {}
    at = T0 + 1000
    engine.set_price("BTC/USDT", "50000", timestamp=at)
    finished["market"] = engine.create_order("BTC/USDT", "buy", "market", "0.001")["id"]
    finished["ioc"] = engine.create_order("BTC/USDT", "buy", "limit", "0.001", "40000", time_in_force="IOC")["id"]
    finished["canceled"] = engine.create_order("BTC/USDT", "buy", "limit", "0.001", "40000")["id"]
    engine.cancel_order(finished["canceled"])
    finished["filled"] = engine.create_order("BTC/USDT", "buy", "limit", "0.001", "49000")["id"]
    finished["stop"] = engine.create_order("BTC/USDT", "sell", "market", "0.001", stop_loss_price="48000")["id"]
    engine.set_price("BTC/USDT", "47000", timestamp=at + 5000)  # fills the limit and fires the stop
    finished["all"] = engine.create_order("BTC/USDT", "buy", "limit", "0.001", "30000")["id"]
    engine.cancel_all_orders()
    scores = scores_of(engine.store.read("ZRANGE", engine.keys.finished_ids, 0, -1, "WITHSCORES"))
    assert scores.keys() == set(finished.values())
    assert {name: scores[oid] for name, oid in finished.items()} == {
        "market": at,
        "ioc": at,
        "canceled": at,
        "filled": at + 5000,
        "stop": at + 5000,
        "all": at + 5000,
    }
    assert engine.trim_orders() == 5
    check_books(engine, {"USDT": FUNDS["USDT"], "BTC": Decimal(1)})
    check_orders_consistent(engine)


def test_trimming_goes_in_small_batches_until_done(make_engine: EngineFactory) -> None:
    engine = seeded(make_engine(order_retention_max=5))
    calls = []
    run = engine.store.run

    def counting(name: str, keys: list[str], args: list[Any]) -> Any:
        if name == "trim_orders":
            calls.append(args)
        return run(name, keys, args)

    engine.store.run = counting  # type: ignore[method-assign]
    count = 2 * retention.BATCH + 30
    for _ in range(count):
        engine.create_order("BTC/USDT", "buy", "market", "0.00001")
    assert engine.trim_orders() == count - 5
    assert len(calls) == 3  # batches of BATCH orders
    assert len(engine.fetch_orders()) == 5
    check_books(engine, FUNDS)


def test_two_trimmers_at_once_remove_each_order_once(make_engine: EngineFactory) -> None:
    first = seeded(make_engine(order_retention_max=10))
    second = make_engine(order_retention_max=10)
    for _ in range(300):
        first.create_order("BTC/USDT", "buy", "market", "0.00001")
    removed: list[int] = []
    start = threading.Barrier(2)

    def trim(engine: Engine) -> None:
        start.wait()
        removed.append(engine.trim_orders())

    threads = [threading.Thread(target=trim, args=(engine,)) for engine in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(removed) == 290 == first.trimmed()["orders"] == first.trimmed()["trades"]
    assert len(first.fetch_orders()) == 10
    check_books(first, FUNDS)


def test_a_plan_another_trimmer_applied_first_writes_nothing(make_engine: EngineFactory) -> None:
    engine = seeded(make_engine(order_retention_max=1))
    for i in range(3):
        engine.create_order("BTC/USDT", "buy", "market", "0.001", client_order_id=f"c{i}")
    run = engine.store.run
    replays: list[Any] = []

    def twice(name: str, keys: list[str], args: list[Any]) -> Any:
        reply = run(name, keys, args)
        if name == "trim_orders":
            before = keyspace(engine)
            replays.append(run(name, keys, args))  # the same plan again, as a second trimmer would send it
            assert keyspace(engine) == before
        return reply

    engine.store.run = twice  # type: ignore[method-assign]
    assert engine.trim_orders() == 2
    assert replays == [["STALE"]]
    assert engine.trimmed()["orders"] == 2
    check_books(engine, FUNDS)


def test_the_tick_loop_trims_every_account(make_engine: EngineFactory) -> None:
    engine = seeded(make_engine(order_retention_max=2, tick_loop_sec=0.05))
    bob = engine.for_account("bob")
    bob.fund("USDT", "1000")
    for trader in (engine, bob):
        for _ in range(6):
            trader.create_order("BTC/USDT", "buy", "market", "0.00001")
        trader.create_order("BTC/USDT", "buy", "limit", "0.00001", "40000")  # open: never trimmed
    engine.start_tick_loop()
    try:
        wait_for(lambda: all(len(t.fetch_orders()) == 3 for t in (engine, bob)), timeout=10)
    finally:
        engine.stop_tick_loop()
    for trader, funded in ((engine, FUNDS), (bob, {"USDT": Decimal(1000)})):
        assert trader.trimmed()["orders"] == 4
        assert [order["status"] for order in trader.fetch_orders()] == ["closed", "closed", "open"]
        check_books(trader, funded)


def test_trimming_under_the_book_model_removes_every_trade_of_an_order(make_engine: EngineFactory) -> None:
    """Under FILL_MODEL=book an order may have many trades (a walk, or a resting order filled over passes), each
    later one with an id of its own and an owner entry: trimming removes them all and the books still add up."""
    engine = make_engine(ReplayClock(), fill_model="book", order_retention_max=1)
    engine.fund("USDT", FUNDS["USDT"])
    asks = [["100", "0.3"], ["101", "0.5"], ["102", "2"]]
    engine.set_price("BTC/USDT", "99", timestamp=T0, bid="99", ask="100", bids=[["99", "1"]], asks=asks)
    walk = engine.create_order("BTC/USDT", "buy", "market", "1")
    assert len(walk["trades"]) == 3
    resting = engine.create_order("BTC/USDT", "buy", "limit", "1", "98")
    for i, size in enumerate(("0.4", "0.6")):  # the resting buy fills in two passes, then is finished
        stamp = T0 + (i + 1) * 60_000
        engine.set_price("BTC/USDT", "98", timestamp=stamp, bid="97", ask="98", bids=[["97", "1"]], asks=[["98", size]])
    assert engine.fetch_order(resting["id"])["status"] == "closed"
    owners = engine.store.read("HGETALL", engine.keys.trade_orders)
    assert set(owners.values()) == {walk["id"], resting["id"]}  # the later trades of both have ids of their own

    assert engine.trim_orders() == 1  # the walk, the older finished order, goes with its three trades
    assert traces(engine, walk["id"]) == []
    assert set(engine.store.read("HGETALL", engine.keys.trade_orders).values()) == {resting["id"]}
    assert [trade["order"] for trade in engine.fetch_my_trades(since=0)] == [resting["id"]] * 2
    assert engine.trimmed()["orders"] == 1 and engine.trimmed()["trades"] == 3
    check_books(engine, FUNDS)
    check_orders_consistent(engine)
    check_fills(engine)
