"""Defects of the order engine found by an adversarial review, each reproduced (the race ones with real
processes on the real Valkey): int64 overflow, an uncovered order stopping its side, orders booked crossed,
trade and order paging, cancel-all, fill times, and a filled order's trades."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from books import check_books, check_orders_consistent
from tests_helpers import ccxt_pages, keyspace, outside_client

from mockexchange_ccxt import Engine, ReplayClock, Settings
from mockexchange_ccxt.errors import InsufficientFunds, InvalidOrder

from .conftest import EngineFactory
from .race_workers import STOP_KEY, count_open_in_book, fill_and_refill, place_buys, swing_and_watch

INT64_UNITS = 2**63 - 1
TEN_BILLION = 10**10  # the most one order may move


def _pool() -> ProcessPoolExecutor:
    return ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"))


# -- item 3: int64 overflow -------------------------------------------------------------------------------------


def test_a_resting_buy_whose_fill_could_overflow_is_refused_at_placement(engine: Engine) -> None:
    """Ten 1e10 buys of a token at 0.00001 would bring 1e11 tokens: more than int64 units hold (9.2e10). Nine
    rest; the tenth is refused with a clean 400 at once, not accepted to fail every later settlement."""
    engine.set_price("PEPE/USDT", "0.00002")
    engine.fund("USDT", "10000000")
    resting = [engine.create_order("PEPE/USDT", "buy", "limit", TEN_BILLION, "0.00001")["id"] for _ in range(9)]
    before = keyspace(engine)
    with pytest.raises(InvalidOrder, match="overflow the PEPE balance") as refused:
        engine.create_order("PEPE/USDT", "buy", "limit", TEN_BILLION, "0.00001")
    assert refused.value.http_status == 400
    assert keyspace(engine) == before
    verdict = engine.can_execute("PEPE/USDT", "buy", "limit", TEN_BILLION, "0.00001")
    assert (verdict["ok"], verdict["code"]) == (False, "INVALID_ORDER")
    assert engine.set_price("PEPE/USDT", "0.000005") == 9
    assert {engine.fetch_order(i)["status"] for i in resting} == {"closed"}
    assert engine.balance("PEPE")["total"] == 9 * TEN_BILLION
    check_books(engine, {"USDT": Decimal(10000000)})


def test_a_taker_order_that_would_overflow_is_a_clean_400_and_can_execute_agrees(engine: Engine) -> None:
    engine.set_price("PEPE/USDT", "0.00001")
    engine.fund("USDT", "10000000")
    for _ in range(9):
        engine.create_order("PEPE/USDT", "buy", "market", TEN_BILLION)
    before = keyspace(engine)
    verdict = engine.can_execute("PEPE/USDT", "buy", "market", TEN_BILLION)
    assert (verdict["ok"], verdict["code"]) == (False, "INVALID_ORDER")
    with pytest.raises(InvalidOrder, match="overflow"):
        engine.create_order("PEPE/USDT", "buy", "market", TEN_BILLION)
    assert keyspace(engine) == before


def test_a_fill_that_cannot_be_credited_is_skipped_and_the_batch_goes_on(engine: Engine) -> None:
    """A balance pushed to the edge of int64 from outside: the one buy whose fill would overflow it is skipped
    (open, cancelable, the reason in its info); every other crossing buy fills and leaves its book and the open
    index, and the symbol keeps settling (the sell fills on the next price)."""
    engine.set_price("PEPE/USDT", "0.00002")
    engine.fund("USDT", "1000000")
    engine.fund("PEPE", "1000")
    big = engine.create_order("PEPE/USDT", "buy", "limit", TEN_BILLION, "0.00001")["id"]
    small = [engine.create_order("PEPE/USDT", "buy", "limit", "1000", f"0.0000{i}")["id"] for i in (11, 12, 13)]
    sell = engine.create_order("PEPE/USDT", "sell", "limit", "1000", "0.00003")["id"]
    # an outside write brings PEPE to the edge: the big fill's credit no longer fits, the small ones do
    engine.store.call("HSET", engine.keys.balances, "free:PEPE", str(INT64_UNITS - TEN_BILLION * 10**8 + 1))
    assert engine.set_price("PEPE/USDT", "0.000005") == 3
    assert [engine.fetch_order(i)["status"] for i in small] == ["closed"] * 3
    assert engine.set_price("PEPE/USDT", "0.00004") == 1
    assert engine.fetch_order(sell)["status"] == "closed"
    skipped = engine.fetch_order(big)
    assert skipped["status"] == "open" and "OVERFLOW" in skipped["info"]["reason"]
    assert engine.store.read("ZRANGE", engine.keys.book("PEPE/USDT", "buy"), 0, -1) == [big]
    assert engine.store.read("ZRANGE", engine.keys.open_ids, 0, -1) == [big]
    assert engine.cancel_order(big)["status"] == "canceled"


# -- item 4: an uncovered order does not stop its side ---------------------------------------------------------


def test_an_uncovered_order_is_skipped_the_rest_of_its_side_fills_and_its_cancel_is_explained(btc: Engine) -> None:
    btc.fund("BTC", "1")
    big = btc.create_order("BTC/USDT", "buy", "limit", "1", "40000")["id"]  # the first one the walk meets
    smaller = [btc.create_order("BTC/USDT", "buy", "limit", "0.01", p)["id"] for p in ("41000", "42000", "43000")]
    sell = btc.create_order("BTC/USDT", "sell", "limit", "0.5", "51000")["id"]
    held = int(btc.store.read("HGET", btc.keys.balances, "held:USDT"))
    lowered = str(held // 2)  # an outside write: the big reservation is gone, the small ones still covered
    btc.store.call("HSET", btc.keys.balances, "used:USDT", lowered, "held:USDT", lowered)
    btc.store.call("HSET", "sym_BTC/USDT", "price", "39000", "timestamp", "1700000000")  # an outside feed
    assert btc.process_price_tick("BTC/USDT") == 3
    assert [btc.fetch_order(i)["status"] for i in smaller] == ["closed"] * 3
    assert btc.set_price("BTC/USDT", "52000") == 1
    assert btc.fetch_order(sell)["status"] == "closed"
    stuck = btc.fetch_order(big)
    assert stuck["status"] == "open" and "INSUFFICIENT_FUNDS used:USDT" in stuck["info"]["reason"]
    before = keyspace(btc)
    with pytest.raises(InsufficientFunds) as refused:
        btc.cancel_order(big)
    assert refused.value.message.startswith("insufficient USDT: needs 40040, used balance is ")
    assert "changed outside the engine" in refused.value.message
    assert keyspace(btc) == before
    btc.store.call("HINCRBY", btc.keys.balances, "used:USDT", held)  # the reservation comes back
    btc.store.call("HINCRBY", btc.keys.balances, "held:USDT", held)
    canceled = btc.cancel_order(big)
    assert canceled["status"] == "canceled" and "reason" not in canceled["info"]  # the owner ended it, not a skip


# -- item 5: a resting order is never booked crossed ------------------------------------------------------------


def test_an_order_planned_before_a_price_write_is_never_booked_crossed(btc: Engine) -> None:
    """The race, step by step: the plan reads ask 50,000 (a buy at 49,000 rests), a price write and its
    settlement land, then the order is booked. On Valkey Cluster (read, then script) it is settled at once at
    the new price; on a single node the placing script finds the feed moved, and the order is planned again at
    the new ask and takes it."""
    request, market = btc._request("BTC/USDT", "buy", "limit", "0.1", "49000", None, {})
    plan_at = btc._planner(request, market)
    quote = btc.feed.require_quote("BTC/USDT")
    btc.quote_memory.keep(quote)
    plan = plan_at(quote)
    assert plan.rests_in
    btc.set_price("BTC/USDT", "48000")
    if btc.store.cluster:
        order = btc._place(plan, quote)
        assert order["status"] == "closed" and order["average"] == Decimal(49000)
    else:
        order = btc.create_order("BTC/USDT", "buy", "limit", "0.1", "49000")
        assert order["status"] == "closed" and order["average"] == Decimal(48000)
    assert btc.fetch_orders(status="open") == []
    check_books(btc, {"USDT": Decimal(100000)})


@pytest.mark.slow
def test_orders_racing_price_writes_across_processes_never_stay_crossed(btc: Engine, settings: Settings) -> None:
    btc.fund("USDT", "10000000")
    with _pool() as pool:
        placer = pool.submit(place_buys, settings, "BTC/USDT", "49000", "0.001", 3000, 2)
        watcher = pool.submit(swing_and_watch, settings, "BTC/USDT", "50000", "48000", "49000", 150, 2)
        placed, crossed = placer.result(timeout=300), watcher.result(timeout=300)
    assert crossed == [], f"booked crossed and left open: {crossed[:10]}"
    assert len(placed) == 3000
    check_books(btc, {"USDT": Decimal(10100000)})
    check_orders_consistent(btc)


# -- item 7: trades paged with since and limit -----------------------------------------------------------------


T0 = 1_700_000_000_000


def one_order_a_second(make_engine: EngineFactory, count: int, *order: Any) -> tuple[Engine, list[str]]:
    """A replayed account placing ``order`` once a second from T0; the engine and the ids."""
    replay = make_engine(clock=ReplayClock())
    replay.set_price("BTC/USDT", "50000", timestamp=T0)
    replay.fund("USDT", "100000")
    ids = []
    for i in range(count):
        replay.set_price("BTC/USDT", "50000", timestamp=T0 + 1000 * i)
        ids.append(replay.create_order(*order)["id"])
    return replay, ids


def test_fetch_my_trades_since_limit_pages_like_ccxt_without_missing_one(make_engine: EngineFactory) -> None:
    replay, ids = one_order_a_second(make_engine, 10, "BTC/USDT", "buy", "market", "0.001")
    assert [t["id"] for t in replay.fetch_my_trades(limit=3)] == ids[-3:]  # without since: the newest
    assert [t["id"] for t in replay.fetch_my_trades(since=T0, limit=3)] == ids[:3]  # with since: the first
    assert ccxt_pages(partial(replay.fetch_my_trades, "BTC/USDT"), T0, 3) == ids


def test_trades_of_one_millisecond_are_cut_by_id(make_engine: EngineFactory) -> None:
    replay = make_engine(clock=ReplayClock())
    replay.set_price("BTC/USDT", "50000", timestamp=1_700_000_000_000)
    replay.fund("USDT", "100000")
    ids = [replay.create_order("BTC/USDT", "buy", "market", "0.001")["id"] for _ in range(12)]  # ids 1..12
    assert [t["id"] for t in replay.fetch_my_trades(limit=3)] == ids[-3:]
    assert [t["id"] for t in replay.fetch_my_trades(since=0, limit=3)] == ids[:3]
    assert [t["id"] for t in replay.fetch_my_trades(since=0, limit=11)] == ids[:11]


# -- item 8: orders paged by score ---------------------------------------------------------------------------


@pytest.mark.slow
def test_fetch_orders_pages_stay_exact_while_other_orders_come_and_go(btc: Engine, settings: Settings) -> None:
    """570 open orders that nobody touches, and a process placing and canceling newer ones all the while:
    every listing has each of the 570 exactly once (paging by rank lost some as the newer ones left)."""
    btc.fund("USDT", "10000000")
    stable = [btc.create_order("BTC/USDT", "buy", "limit", "0.001", "30000")["id"] for _ in range(570)]
    valkey = outside_client(settings.redis_url or "")
    with _pool() as pool:
        churn = pool.submit(fill_and_refill, settings, "BTC/USDT", 2)
        pool.submit(place_buys, settings, "ETH/USDT", "1000", "0.01", 0, 2).result(timeout=60)  # the gate
        try:
            for _ in range(30):
                listed = [o["id"] for o in btc.fetch_orders(status="open")]
                assert len(listed) == len(set(listed)), "an order listed twice"
                assert set(stable) <= set(listed), f"{len(set(stable) - set(listed))} open orders missing"
        finally:
            valkey.set(STOP_KEY, 1)
        assert churn.result(timeout=60) > 0


def test_fetch_orders_since_and_limit(make_engine: EngineFactory) -> None:
    replay, ids = one_order_a_second(make_engine, 6, "BTC/USDT", "buy", "limit", "0.001", "40000")
    assert [o["id"] for o in replay.fetch_orders(status="open", limit=2)] == ids[-2:]
    assert [o["id"] for o in replay.fetch_orders(status="open", since=T0 + 1000, limit=2)] == ids[1:3]
    assert [o["id"] for o in replay.fetch_orders(since=T0 + 4500)] == ids[5:]
    assert ccxt_pages(partial(replay.fetch_orders, "open"), T0, 4) == ids


# -- item 10: cancel_all_orders -------------------------------------------------------------------------------


def test_cancel_all_orders_cancels_what_is_open_and_leaves_what_filled(btc: Engine) -> None:
    btc.fund("BTC", "1")
    buys = [btc.create_order("BTC/USDT", "buy", "limit", "0.01", p)["id"] for p in ("40000", "45000", "49000")]
    sell = btc.create_order("BTC/USDT", "sell", "limit", "0.1", "60000")["id"]
    other = btc.create_order("ETH/USDT", "buy", "limit", "1", "2000")["id"]
    btc.set_price("BTC/USDT", "48000")  # the buy at 49,000 fills
    canceled = btc.cancel_all_orders("BTC/USDT")
    assert sorted(o["id"] for o in canceled) == sorted([buys[0], buys[1], sell])
    assert {o["status"] for o in canceled} == {"canceled"}
    assert btc.fetch_order(buys[2])["status"] == "closed"
    assert btc.fetch_order(other)["status"] == "open"
    assert [o["id"] for o in btc.cancel_all_orders()] == [other]
    assert btc.cancel_all_orders() == []
    assert btc.fetch_balance()["used"] == {"BTC": 0, "USDT": 0}
    check_books(btc, {"USDT": Decimal(100000), "BTC": Decimal(1)})


@pytest.mark.slow
def test_cancel_all_orders_of_a_symbol_is_atomic(btc: Engine, settings: Settings) -> None:
    """Another process reads the size of the book (one command) over and over: it sees all the orders or
    none, never some canceled and some not."""
    btc.fund("USDT", "10000000")
    for i in range(2000):
        btc.create_order("BTC/USDT", "buy", "limit", "0.001", 30000 + i)
    valkey = outside_client(settings.redis_url or "")
    with _pool() as pool:
        reader = pool.submit(count_open_in_book, settings, "BTC/USDT", 2)
        pool.submit(place_buys, settings, "ETH/USDT", "1000", "0.01", 0, 2).result(timeout=60)  # the gate
        try:
            assert len(btc.cancel_all_orders("BTC/USDT")) == 2000
        finally:
            valkey.set(STOP_KEY, 1)
        assert set(reader.result(timeout=60)) <= {0, 2000}


# -- item 11: a fill is never timed before its order ----------------------------------------------------------


def test_a_fill_from_a_feed_in_whole_seconds_is_not_timed_before_its_order(make_engine: EngineFactory) -> None:
    replay = make_engine(clock=ReplayClock(1_700_000_000_820))
    replay.set_price("BTC/USDT", "50000", timestamp=1_700_000_000_820)
    replay.fund("USDT", "100000")
    order = replay.create_order("BTC/USDT", "buy", "limit", "0.1", "49000")
    replay.store.call("HSET", "sym_BTC/USDT", "price", "48000", "timestamp", "1700000000")  # whole seconds
    assert replay.process_price_tick("BTC/USDT") == 1
    filled = replay.fetch_order(order["id"])
    assert filled["lastTradeTimestamp"] == order["timestamp"] == 1_700_000_000_820
    assert [t["id"] for t in replay.fetch_my_trades(since=order["timestamp"])] == [order["id"]]


# -- item 15: a filled order lists its trades -----------------------------------------------------------------


def test_a_filled_order_lists_its_trade_and_every_view_agrees(btc: Engine) -> None:
    taker = btc.create_order("BTC/USDT", "buy", "market", "0.01")
    resting = btc.create_order("BTC/USDT", "buy", "limit", "0.01", "49000")
    assert resting["trades"] == []
    btc.set_price("BTC/USDT", "48000")
    for order_id in (taker["id"], resting["id"]):
        order = btc.fetch_order(order_id)
        (trade,) = order["trades"]
        assert btc.order_trades(order_id) == order["trades"]
        assert [t for t in btc.fetch_my_trades() if t["order"] == order_id] == order["trades"]
        assert (trade["amount"], trade["cost"], trade["fee"]) == (order["filled"], order["cost"], order["fee"])
    assert taker["trades"] == btc.fetch_order(taker["id"])["trades"]
