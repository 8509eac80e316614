"""Accounts in the engine: numbers and order ids unique across accounts, one price settling every account,
and isolation under concurrency (threads and processes trading, funding and resetting different accounts)."""

from __future__ import annotations

import multiprocessing
import threading
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from books import check_books, check_orders_consistent
from tests_helpers import keyspace, outside_client

from mockexchange_ccxt import Engine, Settings
from mockexchange_ccxt.engine.every_account import delete_account
from mockexchange_ccxt.errors import AccountExists, AccountNotFound, BadRequest

from .conftest import EngineFactory
from .support import trading_worker


def test_ids_are_the_account_number_and_its_own_counter(btc: Engine) -> None:
    assert [btc.create_order("BTC/USDT", "buy", "market", "0.001")["id"] for _ in range(3)] == ["1", "2", "3"]
    btc.accounts.create("alice")
    btc.accounts.create("bob")
    alice, bob = btc.for_account("alice"), btc.for_account("bob")
    for view in (alice, bob):
        view.fund("USDT", "1000")
    assert alice.create_order("BTC/USDT", "buy", "limit", "0.001", "40000")["id"] == "1000000000001"
    assert bob.create_order("BTC/USDT", "buy", "limit", "0.001", "40000")["id"] == "2000000000001"
    assert alice.create_order("BTC/USDT", "buy", "market", "0.001")["id"] == "1000000000002"
    # each account's sorted sets are scored by its own counter, exact whatever the number
    assert btc.store.read("ZRANGE", alice.keys.all_ids, 0, -1, "WITHSCORES") == [
        ["1000000000001", 1.0],
        ["1000000000002", 2.0],
    ]
    assert [o["id"] for o in alice.fetch_orders()] == ["1000000000001", "1000000000002"]
    with pytest.raises(AccountExists):
        btc.accounts.create("alice")


def test_a_number_is_given_once_and_kept_across_delete(btc: Engine, make_engine: EngineFactory) -> None:
    btc.accounts.create("alice")
    alice = btc.for_account("alice")
    alice.fund("USDT", "1000")
    first = alice.create_order("BTC/USDT", "buy", "market", "0.001")["id"]
    delete_account(btc, "alice")
    with pytest.raises(AccountNotFound):
        btc.accounts.require("alice")
    btc.accounts.create("alice")
    again = btc.for_account("alice")
    again.fund("USDT", "1000")
    second = again.create_order("BTC/USDT", "buy", "market", "0.001")["id"]
    assert first == "1000000000001" and second == "1000000000002"  # same number, ids never repeat
    # an engine configured for an account in process registers it on first use
    carol = make_engine(account="carol")
    carol.fund("USDT", "10")
    assert carol.create_order("BTC/USDT", "buy", "market", "0.0001")["id"] == "2000000000001"
    assert btc.accounts.names() == ["alice", "carol", "main"]


@pytest.mark.parametrize("name", ["", "x" * 33, "a b", "a:b", "{a}", "é"])
def test_account_names_are_checked(btc: Engine, name: str) -> None:
    before = keyspace(btc)
    with pytest.raises(BadRequest):
        btc.accounts.create(name)
    with pytest.raises(BadRequest):
        btc.for_account(name)
    with pytest.raises(ValueError, match="account must be"):
        Settings(account=name)
    assert keyspace(btc) == before


def _three_accounts_with_resting_orders(btc: Engine) -> list[Engine]:
    views = [btc]
    for name in ("alice", "bob"):
        btc.accounts.create(name)
        views.append(btc.for_account(name))
    for view in views[1:]:
        view.fund("USDT", "10000")
    for view in views:
        view.create_order("BTC/USDT", "buy", "limit", "0.01", "49000")
        view.create_order("BTC/USDT", "buy", "limit", "0.01", "45000")  # not crossed
    return views


def test_set_price_settles_every_account(btc: Engine) -> None:
    views = _three_accounts_with_resting_orders(btc)
    assert views[1].set_price("BTC/USDT", "48000") == 3  # from any account's view
    for view in views:
        assert [o["status"] for o in view.fetch_orders()] == ["closed", "open"]
        check_orders_consistent(view)


def _primary_port(engine: Engine, key: str) -> int:
    slot = engine.store.read("CLUSTER", "KEYSLOT", key)
    return next(int(p[1]) for start, end, p, *_ in engine.store.read("CLUSTER", "SLOTS") if start <= slot <= end)


def test_an_outside_write_settles_every_account(btc: Engine, settings: Settings) -> None:
    views = _three_accounts_with_resting_orders(btc)
    if btc.store.cluster:  # main, alice and bob live on the three primaries: the loop must reach each
        assert len({_primary_port(btc, view.keys.balances) for view in views}) == 3
    outside_client(settings.redis_url or "").hset(btc.keys.price("BTC/USDT"), "price", "48000")
    assert btc.process_price_tick("BTC/USDT") == 3
    for view in views:
        assert [o["status"] for o in view.fetch_orders()] == ["closed", "open"]
    outside_client(settings.redis_url or "").hset(btc.keys.price("BTC/USDT"), "price", "44000")
    assert views[2].tick_loop.run_once() == 3  # the tick loop too, over every registered account


@pytest.mark.slow
def test_accounts_trading_at_once_never_touch_each_other(btc: Engine, settings: Settings) -> None:
    """Two processes and two threads trade in four accounts while the test funds and resets a fifth; a sixth,
    with resting orders no price reaches, does not change by one unit; every account's books balance."""
    names = ["p1", "p2", "t1", "t2"]
    for name in [*names, "churn", "quiet"]:
        btc.accounts.create(name)
    funded: dict[str, dict[str, Decimal]] = {}
    for name in names:
        view = btc.for_account(name)
        funded[name] = defaultdict(Decimal, {"USDT": Decimal(500000), "BTC": Decimal(10), "ETH": Decimal(200)})
        for asset, amount in funded[name].items():
            view.fund(asset, amount)
    quiet = btc.for_account("quiet")
    quiet.fund("USDT", "1000")
    quiet.fund("BTC", "1")
    quiet.create_order("BTC/USDT", "buy", "limit", "0.01", "1000")
    quiet.create_order("BTC/USDT", "sell", "limit", "0.01", "900000")
    quiet_before = {k: v for k, v in keyspace(btc).items() if "{quiet}" in k}

    participants = len(names)
    spawn = multiprocessing.get_context("spawn")
    results: dict[str, dict[str, Any]] = {}
    failures: list[BaseException] = []

    def in_thread(name: str, seed: int) -> None:
        try:
            results[name] = trading_worker(replace(settings, account=name), seed, 200, participants)
        except BaseException as exc:  # reported below
            failures.append(exc)

    with ProcessPoolExecutor(2, mp_context=spawn) as pool:
        futures = {
            name: pool.submit(trading_worker, replace(settings, account=name), seed, 200, participants)
            for seed, name in enumerate(names[:2])
        }
        threads = [threading.Thread(target=in_thread, args=(name, 10 + i)) for i, name in enumerate(names[2:])]
        for thread in threads:
            thread.start()
        churn = btc.for_account("churn")
        while any(thread.is_alive() for thread in threads) or not all(f.done() for f in futures.values()):
            churn.fund("USDT", "5")
            churn.create_order("BTC/USDT", "buy", "limit", "0.0001", "1000")
            churn.reset()
        for thread in threads:
            thread.join()
        results.update({name: future.result(timeout=120) for name, future in futures.items()})
    assert failures == []

    every_id = [order_id for result in results.values() for order_id in result["created"]]
    assert len(every_id) == len(set(every_id)), "an order id was handed out twice across accounts"
    for name in names:
        view = btc.for_account(name)
        for asset, amount in results[name]["funded"].items():
            funded[name][asset] += Decimal(amount)
        assert {order["id"] for order in view.fetch_orders()} == set(results[name]["created"])
        check_orders_consistent(view)
        check_books(view, funded[name])
    assert {k: v for k, v in keyspace(btc).items() if "{quiet}" in k} == quiet_before
