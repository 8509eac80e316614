"""The order and trade lists through the ccxt class, both transports: ccxt's paging loops see every trade and
order once, a filled order lists its trades, and cancel_all_orders survives orders filling under it."""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial

import ccxt
import pytest
from engine.race_workers import cross_now_and_then
from tests_helpers import ccxt_pages, wait_at_gate

from mockexchange_ccxt import Engine, MockExchange, Settings


def test_ccxt_paging_loop_over_my_trades_misses_nothing(funded: MockExchange) -> None:
    """ccxt's loop (``since = last['timestamp'] + 1``) cannot tell apart trades of one millisecond at a page's
    edge, on any exchange: the trades here are a few milliseconds apart."""
    ids = []
    for _ in range(10):
        ids.append(funded.create_order("BTC/USDT", "market", "buy", 0.001)["id"])
        time.sleep(0.003)
    assert ccxt_pages(partial(funded.fetch_my_trades, "BTC/USDT"), 0, 3) == ids
    assert [t["id"] for t in funded.fetch_my_trades(limit=3)] == ids[-3:]


def test_a_filled_order_carries_its_trades(funded: MockExchange) -> None:
    order = funded.create_order("BTC/USDT", "market", "buy", 0.01)
    (trade,) = order["trades"]
    assert (trade["order"], trade["amount"], trade["cost"]) == (order["id"], 0.01, 500.0)
    assert funded.fetch_order(order["id"])["trades"] == order["trades"]
    assert funded.fetch_order_trades(order["id"]) == order["trades"]
    assert funded.fetch_my_trades("BTC/USDT") == order["trades"]


def test_a_trimmed_order_is_older_than_the_retention_and_lists_keep_the_rest(
    funded: MockExchange, settings: Settings
) -> None:
    ids = [funded.create_order("BTC/USDT", "market", "buy", 0.001)["id"] for _ in range(3)]
    with Engine(settings.with_overrides(order_retention_max=1)) as trimmer:
        assert trimmer.trim_orders() == 2
    with pytest.raises(ccxt.OrderNotFound, match=f"order {ids[0]} is older than the order retention"):
        funded.fetch_order(ids[0], "BTC/USDT")
    with pytest.raises(ccxt.OrderNotFound, match="order 424242 does not exist"):
        funded.fetch_order("424242", "BTC/USDT")
    assert [o["id"] for o in funded.fetch_orders("BTC/USDT", since=0)] == ids[2:]
    assert [t["order"] for t in funded.fetch_my_trades("BTC/USDT", since=0)] == ids[2:]


def test_an_order_is_found_by_its_client_order_id(funded: MockExchange) -> None:
    """ccxt's spelling (``fetch_order(None, symbol, {"clientOrderId": ...})``), through the engine's lookup:
    open, then filled; with an id too, both must name the same order."""
    resting = funded.create_order("BTC/USDT", "limit", "buy", 0.01, 40000, {"clientOrderId": "dip/1"})
    other = funded.create_order("BTC/USDT", "market", "buy", 0.01, None, {"clientOrderId": "entry"})
    found = funded.fetch_order(None, "BTC/USDT", {"clientOrderId": "dip/1"})
    assert (found["id"], found["status"], found["clientOrderId"]) == (resting["id"], "open", "dip/1")
    assert funded.fetch_order(resting["id"], None, {"clientOrderId": "dip/1"})["id"] == resting["id"]
    funded.set_price("BTC/USDT", 39000)
    assert funded.fetch_order("", "BTC/USDT", {"clientOrderId": "dip/1"})["status"] == "closed"
    with pytest.raises(ccxt.OrderNotFound):
        funded.fetch_order(other["id"], None, {"clientOrderId": "dip/1"})
    with pytest.raises(ccxt.OrderNotFound):
        funded.fetch_order(None, None, {"clientOrderId": "nobody"})


def test_open_orders_page_with_since_and_limit(funded: MockExchange) -> None:
    ids = [funded.create_order("BTC/USDT", "limit", "buy", 0.001, 40000 + i)["id"] for i in range(7)]
    assert [o["id"] for o in funded.fetch_open_orders("BTC/USDT", limit=3)] == ids[-3:]
    first = funded.fetch_open_orders("BTC/USDT", since=0, limit=3)
    assert [o["id"] for o in first] == ids[:3]
    assert len(funded.fetch_open_orders("BTC/USDT", since=first[0]["timestamp"])) == 7


@pytest.mark.slow
def test_cancel_all_orders_while_a_price_fills_some_of_them(funded: MockExchange, settings: Settings) -> None:
    """A process walks the price down through 300 resting buys (each step fills some) while the bot cancels all
    of them: the call never fails on an order that filled meanwhile, and afterwards none is left open."""
    for i in range(300):
        funded.create_order("BTC/USDT", "limit", "buy", 0.001, 49000 - i)
    prices = [str(49000 - i) for i in range(0, 300, 2)]
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    with pool:
        walker = pool.submit(cross_now_and_then, settings, "BTC/USDT", prices, 2)
        wait_at_gate(settings.redis_url or "", 2)
        canceled = funded.cancel_all_orders("BTC/USDT")
        filled = walker.result(timeout=120)["filled"]
    assert funded.fetch_open_orders("BTC/USDT") == []
    assert len(canceled) + filled == 300
    assert {o["status"] for o in canceled} == {"canceled"}
