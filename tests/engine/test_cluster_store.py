"""The store on the local Valkey Cluster itself: routing by slot, pipelines over several primaries, MOVED after
the slot map went stale, ASK while a slot migrates, and what reaches every primary."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from mockexchange_ccxt.engine.cluster import SLOTS, SlotMap, slot_of
from mockexchange_ccxt.engine.local_cluster import LocalCluster
from mockexchange_ccxt.engine.store import Store

#: Three keys whose slots lie on the three primaries (ranges 0-5460, 5461-10922, 10923-16383).
SPREAD = ["{alice}:k", "{bob}:k", "{main}:k"]


@pytest.fixture
def valkey_cluster(request: pytest.FixtureRequest) -> LocalCluster:
    """The session's cluster, unless this run is on a single Valkey only (``--store single``)."""
    if request.config.getoption("--store") == "single":
        pytest.skip("--store single: no cluster in this run")
    cluster: LocalCluster = request.getfixturevalue("valkey_cluster")
    return cluster


@pytest.fixture
def store(valkey_cluster: LocalCluster) -> Iterator[Store]:
    store = Store(valkey_cluster.url)
    store.call("FLUSHALL")
    yield store
    store.close()


def test_a_node_url_finds_the_cluster_and_every_primary(store: Store, valkey_cluster: LocalCluster) -> None:
    assert store.cluster
    assert sorted(store.primary_urls()) == sorted(node.url for node in valkey_cluster.nodes)
    assert len(store.each_primary("PING")) == 3
    other = Store(valkey_cluster.nodes[2].url)  # any node will do
    assert other.cluster and sorted(other.primary_urls()) == sorted(store.primary_urls())
    other.close()


def test_a_pipeline_over_three_primaries_keeps_its_order(store: Store) -> None:
    commands = [cmd for key in SPREAD for cmd in (("SET", key, key.upper()), ("GET", key))]
    assert store.pipeline(commands) == [reply for key in SPREAD for reply in ("OK", key.upper())]
    assert sorted(store.read("KEYS", "*")) == sorted(SPREAD)  # KEYS is the union over the primaries
    assert sorted(store.scan_iter("{*")) == sorted(SPREAD)
    store.call("FLUSHALL")  # and FLUSHALL reaches each
    assert list(store.scan_iter("*")) == []


def test_a_stale_slot_map_is_corrected_by_moved(store: Store) -> None:
    store.pipeline([("SET", key, "v") for key in SPREAD])
    assert store._slots is not None
    first = store._slots.primaries[0]
    store._slots = SlotMap((first,) * SLOTS, store._slots.primaries, store._slots.replicas)  # all on one node
    assert store.pipeline([("GET", key) for key in SPREAD]) == ["v", "v", "v"]  # two MOVED, resent
    assert store._slots.owners[slot_of(SPREAD[1])] != first  # the map was read again
    fund = ["free:USDT", "used:USDT", "C", "free:USDT", 5]
    assert store.run("fund", ["{bob}:balances"], fund) == ["5", None]  # scripts follow too
    assert store.read("HGET", "{bob}:balances", "free:USDT") == "5"


def test_ask_during_a_slot_migration(store: Store, valkey_cluster: LocalCluster) -> None:
    """A slot half-way from one primary to another: a key not yet on the source is served by the target after
    ASKING; the store follows that once, without moving the slot in its map."""
    key = "{carol}:k"
    slot = slot_of(key)
    source = valkey_cluster.primary_of(key)
    target = next(node for node in valkey_cluster.nodes if node.port != source.port)
    with redis.Redis.from_url(source.url) as on_source, redis.Redis.from_url(target.url) as on_target:
        source_id, target_id = (n.execute_command("CLUSTER", "MYID") for n in (on_source, on_target))
        on_target.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", source_id)
        on_source.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", target_id)
        try:
            assert store.call("SET", key, "asked") == "OK"  # ASK: the key is not on the source
            on_target.execute_command("ASKING")  # the flag holds for the next command on this connection
            assert on_target.get(key) == b"asked"
        finally:
            on_target.execute_command("ASKING")
            on_target.delete(key)
            for node in (on_source, on_target):
                node.execute_command("CLUSTER", "SETSLOT", slot, "STABLE")
    valkey_cluster.wait_healthy()
    assert store.call("SET", key, "home") == "OK" and store.read("GET", key) == "home"


def test_a_primary_without_the_functions_reruns_only_its_own_scripts(
    store: Store, valkey_cluster: LocalCluster
) -> None:
    """One primary lost the library (restarted without persistence, FUNCTION FLUSH): a pipeline of scripts on
    every primary loads it and sends again only that primary's scripts and the reads, so each deposit lands
    once."""
    store.load_scripts()
    balances = [f"{{{name}}}:balances" for name in ("alice", "bob", "main")]
    with redis.Redis.from_url(valkey_cluster.primary_of(balances[1]).url) as bare:
        bare.function_flush()
    deposit = ["free:USDT", "used:USDT", "C", "free:USDT", 5]
    commands = [store.eval_command("fund", [key], deposit) for key in balances]
    reads = [("HGET", key, "free:USDT") for key in balances]
    assert store.run_pipelined([*commands, *reads]) == [["5", None]] * 3 + ["5"] * 3
    assert [store.read("HGET", key, "free:USDT") for key in balances] == ["5"] * 3
