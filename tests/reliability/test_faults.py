"""Faults under load, against ``mockexchange serve`` with two workers on its own persistent Valkey:

- Valkey stopped and started again while orders stream in: requests answer 503 (``ExchangeNotAvailable`` in
  ccxt, over HTTP and in process) while it is down, nothing is half-applied, the keyspace after the restart is
  the keyspace before, and the same server processes serve again;
- a worker killed with SIGKILL mid-load: granian replaces it, the other keeps serving, the books stay exact;
- the price hash of a symbol with resting orders deleted or corrupted: nothing moves, errors are clean 4xx,
  and the tick loop settles the orders once a valid price returns.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ccxt
import pytest
import requests
from books import check_books, check_fills, check_orders_consistent
from servers import Server
from tests_helpers import free_port, keyspace, wait_for

from mockexchange_ccxt import Engine, MockExchange, Settings
from mockexchange_ccxt.engine import EmbeddedValkey

from .clients import HttpLoad
from .conftest import FUNDS, KEY

OUTAGE_SEC = 1.0  # how long Valkey stays down (times --heavy's scale)

pytestmark = pytest.mark.slow


@pytest.fixture
def valkey(tmp_path: Path) -> Iterator[EmbeddedValkey]:
    """A persistent Valkey of this test alone (append-only file in the test's directory), on a TCP port."""
    server = EmbeddedValkey(tmp_path / "valkey", persistent=True, port=free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def store_url(valkey: EmbeddedValkey) -> str:
    return valkey.url


def check_all_books(engine: Engine) -> None:
    check_orders_consistent(engine)
    check_fills(engine)
    check_books(engine, dict(FUNDS))


def keyspace_of_copy(data_dir: Path, copy: Path) -> dict[str, Any]:
    """The keyspace that a Valkey started on a copy of ``data_dir`` loads (its own port, then stopped)."""
    shutil.copytree(data_dir, copy, ignore=shutil.ignore_patterns("*.sock", "*.lock"))
    with (
        EmbeddedValkey(copy, persistent=True, port=free_port()) as server,
        Engine(Settings(redis_url=server.url, data_dir=copy)) as engine,
    ):
        return keyspace(engine)


def test_valkey_restart_under_load(
    valkey: EmbeddedValkey, books: Engine, served: Server, tmp_path: Path, load_scale: int
) -> None:
    workers = served.worker_pids()
    over_http = MockExchange({"apiKey": KEY, "options": {"serverUrl": served.url}})
    in_process = MockExchange({"options": {"redisUrl": valkey.url}})
    with HttpLoad(served.url, KEY) as load:
        assert wait_for(lambda: load.statuses()[201] >= 50 * load_scale, 30), "waited in vain until orders flow"
        # Freeze writes (scripts included) so the keyspace we record is the last one before the stop.
        books.store.call("CLIENT", "PAUSE", 30_000, "WRITE")
        frozen_at = time.monotonic()
        before = keyspace(books)
        valkey.stop()  # SIGTERM: a clean shutdown that flushes the append-only file

        assert wait_for(lambda: load.statuses(since=frozen_at)[503] >= 20, 30), (
            "waited in vain until requests fail with 503"
        )
        time.sleep(OUTAGE_SEC * load_scale)  # a real outage, not a blip
        answer = requests.get(served.url + "/balance", headers={"x-api-key": KEY}, timeout=10)
        assert answer.status_code == 503 and answer.json()["error"]["code"] == "STORE_UNAVAILABLE"
        for exchange in (over_http, in_process):
            with pytest.raises(ccxt.ExchangeNotAvailable):
                exchange.fetch_balance()

        # What a restart loads is exactly what was there: read it from a copy of the stopped server's files,
        # since the load resumes the moment the real one is back.
        assert keyspace_of_copy(valkey.data_dir, tmp_path / "copy") == before, "the restart lost or changed data"
        restarted_at = time.monotonic()  # the moment before it answers again
        valkey.start()
        assert wait_for(lambda: load.statuses(since=restarted_at)[201] >= 50 * load_scale, 30), (
            "waited in vain until orders flow again"
        )
    assert over_http.fetch_balance()["USDT"]["total"] > 0 and in_process.fetch_balance()["USDT"]["total"] > 0

    while_down = load.statuses(since=frozen_at, until=restarted_at)
    everything = load.statuses()
    print(f"\nValkey frozen or down {restarted_at - frozen_at:.2f} s: {dict(while_down)}; in all: {dict(everything)}")
    applied_before = set(before[books.keys.orders][1])
    for outcome in load.outcomes:
        if frozen_at <= outcome.at <= restarted_at and outcome.status != 503:  # answered late: ran before
            assert outcome.status in (400, 409) or outcome.order_id in applied_before, outcome
    assert while_down[503] >= 20
    assert set(everything) <= {200, 201, 400, 409, 503}, everything  # 400: funds; 409: cancel of a filled order
    assert served.process.poll() is None and served.worker_pids() == workers, "the server was restarted"
    stored = {order["id"] for order in books.fetch_orders()}
    assert stored == set(load.created()), "an order was applied without its answer, or answered and lost"
    check_all_books(books)


def test_a_worker_killed_mid_load(books: Engine, served: Server, load_scale: int) -> None:
    victim, survivor = served.worker_pids()
    with HttpLoad(served.url, KEY) as load:
        assert wait_for(lambda: load.statuses()[201] >= 50 * load_scale, 30), "waited in vain until orders flow"
        os.kill(victim, signal.SIGKILL)
        killed_at = time.monotonic()
        assert wait_for(lambda: len(served.worker_pids()) == 2 and victim not in served.worker_pids(), 30), (
            "waited in vain until a new worker"
        )
        assert wait_for(lambda: served.output().count("Started worker") == 3, 30), (
            "waited in vain until the new worker serves"
        )
        replaced_at = time.monotonic()
        assert wait_for(lambda: load.statuses(since=replaced_at)[201] >= 50 * load_scale, 30), (
            "waited in vain until orders flow again"
        )
    statuses = load.statuses()
    print(f"\nworker replaced in {replaced_at - killed_at:.2f} s; outcomes: {dict(statuses)}")
    assert served.process.poll() is None and survivor in served.worker_pids()
    assert set(statuses) <= {200, 201, 400, 409, None}, statuses
    # A request the dead worker was serving got no answer (None): it may or may not have been applied, but
    # whole or not at all, and never more orders than unanswered requests.
    stored = {order["id"] for order in books.fetch_orders()}
    accepted = set(load.created())
    assert accepted <= stored
    assert len(stored - accepted) <= statuses[None]
    check_all_books(books)


CORRUPTIONS: list[tuple[str, ...]] = [
    ("DEL",),
    ("HSET", "price", "garbage", "timestamp", "1700000000000"),
    ("HSET", "price", "-5", "timestamp", "1700000000000"),
    ("HSET", "price", "0", "timestamp", "1700000000000"),
    ("HSET", "price", "nan", "timestamp", "1700000000000"),
    ("HSET", "price", "1e400", "timestamp", "1700000000000"),
    ("HSET", "price", "45000", "timestamp", "yesterday"),
    ("HSET", "timestamp", "1700000000000"),
    ("SET", "45000"),
    ("RPUSH", "45000", "55000"),
    ("SADD", "45000"),
    ("ZADD", "1", "45000"),
]


def test_a_price_hash_deleted_or_corrupted_while_orders_rest(books: Engine, served: Server) -> None:
    headers = {"x-api-key": KEY}
    feed = books.keys.price("BTC/USDT")
    buy = books.create_order("BTC/USDT", "buy", "limit", "0.5", "49000")["id"]
    sell = books.create_order("BTC/USDT", "sell", "limit", "0.5", "51000")["id"]
    account = {name: value for name, value in keyspace(books).items() if name != feed}
    for command, *args in CORRUPTIONS:
        books.store.call("DEL", feed)
        if command != "DEL":
            books.store.call(command, feed, *args)
        time.sleep(0.15)  # a dozen tick passes of every worker
        assert {k: v for k, v in keyspace(books).items() if k != feed} == account, command
        for method, path, body in (
            ("GET", "/tickers/BTC%2FUSDT", None),
            ("POST", "/orders", {"symbol": "BTC/USDT", "side": "buy", "amount": "0.01"}),
        ):
            answer = requests.request(method, served.url + path, json=body, headers=headers, timeout=10)
            assert answer.status_code == 400 and answer.json()["error"]["code"] in ("BAD_SYMBOL", "INVALID_ORDER")
        assert requests.get(served.url + "/status", headers=headers, timeout=10).status_code == 200
    assert {k: v for k, v in keyspace(books).items() if k != feed} == account

    books.store.call("DEL", feed)
    books.store.call("HSET", feed, "price", "48000", "timestamp", str(int(time.time() * 1000)))
    assert wait_for(lambda: books.fetch_order(buy)["status"] == "closed", 5), (
        "waited in vain until the tick loop fills the buy"
    )
    books.store.call("HSET", feed, "price", "52000")
    assert wait_for(lambda: books.fetch_order(sell)["status"] == "closed", 5), (
        "waited in vain until the tick loop fills the sell"
    )
    check_all_books(books)
    assert "Traceback" not in served.output()
