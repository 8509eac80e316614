"""Valkey Cluster failover under load: a primary killed while two workers serve orders.

The cluster (three primaries, a replica each) promotes the dead primary's replica; meanwhile every request that
needs the lost slots answers 503 STORE_UNAVAILABLE (ccxt ``ExchangeNotAvailable``, over HTTP and in process);
afterwards the same server processes serve again, with no restart, and the books balance to the last unit.
Replication is asynchronous, so the last writes the dead primary acknowledged may be gone with it; each script's
writes replicate as one unit, so what survives is whole.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import ccxt
import pytest
import redis
import requests
from books import check_books, check_fills, check_orders_consistent
from servers import Server
from tests_helpers import wait_for

from mockexchange_ccxt import Engine, MockExchange, Settings
from mockexchange_ccxt.engine.local_cluster import LocalCluster
from mockexchange_ccxt.engine.scripts import library
from mockexchange_ccxt.keys import Keys

from .clients import HttpLoad
from .conftest import FUNDS, KEY

pytestmark = pytest.mark.slow

T0 = 1_700_000_000_000


@pytest.fixture
def cluster(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[LocalCluster]:
    if request.config.getoption("--store") == "single":
        pytest.skip("--store single: no cluster in this run")
    with LocalCluster(tmp_path / "cluster", primaries=3, replicas=1) as formed:
        yield formed


@pytest.fixture
def store_url(cluster: LocalCluster) -> str:
    """The URL of the primary the test kills: the server and the books must find the others by themselves."""
    return cluster.primary_of(Keys().balances).url


def test_a_primary_killed_under_load_fails_over_and_the_books_balance(
    cluster: LocalCluster, store_url: str, books: Engine, served: Server, load_scale: int
) -> None:
    workers = served.worker_pids()
    victim = cluster.primary_of(books.keys.balances)
    assert victim.url == store_url  # the very node whose URL everyone was given
    over_http = MockExchange({"apiKey": KEY, "options": {"serverUrl": served.url}})
    in_process = MockExchange({"options": {"redisUrl": next(n for n in cluster.nodes if n is not victim).url}})
    with HttpLoad(served.url, KEY) as load:
        assert wait_for(lambda: load.statuses()[201] >= 50 * load_scale, 30), "waited in vain until orders flow"
        assert victim.process is not None
        victim.process.kill()  # SIGKILL: no goodbye to the cluster
        killed_at = time.monotonic()
        assert wait_for(lambda: load.statuses(since=killed_at)[503] >= 20, 30), "waited in vain for 503s"
        answer = requests.get(served.url + "/balance", headers={"x-api-key": KEY}, timeout=10)
        promoted_already = answer.status_code == 200
        if not promoted_already:
            assert answer.status_code == 503 and answer.json()["error"]["code"] == "STORE_UNAVAILABLE"
            for exchange in (over_http, in_process):
                with pytest.raises(ccxt.ExchangeNotAvailable):
                    exchange.fetch_balance()
        cluster.wait_healthy(30)  # the replica took over the dead primary's slots
        healed_at = time.monotonic()
        assert cluster.primary_of(books.keys.balances) is not victim
        assert wait_for(lambda: load.statuses(since=healed_at)[201] >= 50 * load_scale, 30), (
            "waited in vain until orders flow again"
        )
    statuses = load.statuses()
    print(f"\nfailover took {healed_at - killed_at:.2f} s; outcomes: {dict(statuses)}")
    assert set(statuses) <= {200, 201, 400, 409, 503}, statuses
    assert set(load.codes(400)) <= {"INSUFFICIENT_FUNDS"} and set(load.codes(409)) <= {"ORDER_NOT_OPEN"}
    assert set(load.codes(503)) == {"STORE_UNAVAILABLE"}
    assert served.process.poll() is None and served.worker_pids() == workers, "the server was restarted"
    assert over_http.fetch_balance()["USDT"]["total"] > 0 and in_process.fetch_balance()["USDT"]["total"] > 0
    stored = {order["id"] for order in books.fetch_orders()}
    answered_503 = sum(1 for o in load.outcomes if o.action == "create" and o.status == 503)
    assert len(stored - set(load.created())) <= answered_503, "orders stored that nobody asked for"
    check_orders_consistent(books)
    check_fills(books)
    check_books(books, dict(FUNDS))


def test_notifications_follow_a_failover_to_the_promoted_replica(cluster: LocalCluster, tmp_path: Path) -> None:
    """A feed hash whose primary dies: the subscriber finds the replica that took over (a new address) and an
    outside write there settles at once, with the tick loop an hour away."""
    feed_key = Keys().price("BTC/USDT")
    victim = cluster.primary_of(feed_key)
    seed = next(node for node in cluster.nodes if node is not victim)
    settings = Settings(redis_url=seed.url, data_dir=tmp_path / "unused", tick_loop_sec=3600.0)
    with Engine(settings) as engine:
        engine.set_price("BTC/USDT", "50000", timestamp=T0)
        engine.fund("USDT", "10000")
        engine.start_tick_loop()
        assert engine.notifications.subscribed.wait(10), engine.notifications.unavailable
        assert wait_for(lambda: engine.tick_loop.passes >= 1)
        assert victim.process is not None
        victim.process.kill()
        assert wait_for(lambda: not engine.notifications.subscribed.is_set(), 10), "the lost primary went unnoticed"
        cluster.wait_healthy(30)
        promoted = cluster.primary_of(feed_key)
        assert promoted is not victim
        with redis.Redis.from_url(promoted.url, decode_responses=True) as node:  # the scripts came by replication
            assert node.execute_command("FUNCTION", "LIST", "LIBRARYNAME", library().name)
        assert engine.notifications.subscribed.wait(30), "no subscriber on the promoted replica"
        order = engine.create_order("BTC/USDT", "buy", "limit", "0.1", "49000")
        passes = engine.tick_loop.passes
        with redis.Redis.from_url(promoted.url, decode_responses=True) as outside:
            outside.hset(feed_key, mapping={"price": "48000", "timestamp": str(T0 + 60_000), "volume": "2"})
        assert wait_for(lambda: engine.fetch_order(order["id"])["status"] == "closed", 10)
        assert engine.tick_loop.passes == passes  # the notification did it, not the loop
        assert engine.ohlcv("BTC/USDT", since=T0)[-1][1:] == [Decimal(48000)] * 4 + [Decimal(2)]
        engine.stop_tick_loop()
