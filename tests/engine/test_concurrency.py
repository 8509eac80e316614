"""Concurrency: threads and processes (spawned and forked), each with its own Engine, trade, cancel, fund and
move prices on one account at once; afterwards the books are exact to the last unit."""

from __future__ import annotations

import multiprocessing
import threading
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
from books import check_books, check_orders_consistent

from mockexchange_ccxt import Engine, Settings

from .support import trading_worker

OPERATIONS = 300
WORKERS = 5  # three threads and two processes


@pytest.mark.slow
def test_threads_and_processes_trading_at_once_keep_the_books_exact(btc: Engine, settings: Settings) -> None:
    funded: dict[str, Decimal] = defaultdict(Decimal, {"USDT": Decimal(100000)})
    for asset, amount in (("USDT", Decimal(900000)), ("BTC", Decimal(20)), ("ETH", Decimal(400))):
        btc.fund(asset, amount)
        funded[asset] += amount

    pools = [ProcessPoolExecutor(1, mp_context=multiprocessing.get_context(kind)) for kind in ("spawn", "fork")]
    futures = [pool.submit(trading_worker, settings, 100 + i, OPERATIONS, WORKERS) for i, pool in enumerate(pools)]
    thread_results: list[dict[str, Any]] = []
    failures: list[BaseException] = []

    def in_thread(seed: int) -> None:
        try:
            thread_results.append(trading_worker(settings, seed, OPERATIONS, WORKERS))
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=in_thread, args=(seed,)) for seed in (1, 2, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results = thread_results + [future.result(timeout=120) for future in futures]
    for pool in pools:
        pool.shutdown()
    assert failures == []
    assert len(results) == WORKERS

    created = [order_id for result in results for order_id in result["created"]]
    canceled = {order_id for result in results for order_id in result["canceled"]}
    for result in results:
        for asset, amount in result["funded"].items():
            funded[asset] += Decimal(amount)
    assert len(created) == len(set(created)), "an order id was handed out twice"
    orders = {order["id"]: order for order in btc.fetch_orders()}
    assert set(orders) == set(created)
    for order_id in created:
        assert btc.fetch_order(order_id) == orders[order_id]
    assert {orders[i]["status"] for i in canceled} <= {"canceled"}, "a canceled order also filled"
    statuses = {order["status"] for order in orders.values()}
    assert statuses == {"open", "closed", "canceled"}  # every path was taken
    check_orders_consistent(btc)
    check_books(btc, funded)  # nothing negative; used == reservations of open orders; conservation
    raw = btc.store.read("HGETALL", btc.keys.balances)
    for asset in ("USDT", "BTC", "ETH"):
        assert raw.get(f"held:{asset}", "0") == raw.get(f"used:{asset}", "0")

    for order in btc.fetch_orders(status="open"):
        btc.cancel_order(order["id"])
    assert all(value == 0 for value in btc.fetch_balance()["used"].values())
    check_books(btc, funded)
