"""Fixtures that give the same tests a MockExchange over both transports: in process and real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from servers import serving

from mockexchange_ccxt import Engine, MockExchange, Settings

API_KEY = "test-key-for-http"


@pytest.fixture(scope="session")
def http_url(valkey_server: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = Settings(redis_url=valkey_server.url, api_key=API_KEY, data_dir=tmp_path_factory.mktemp("unused"))  # type: ignore[attr-defined]
    with Engine(settings) as engine, serving(engine) as url:
        yield url


def exchange_config(transport: str, valkey_url: str, http_url: str) -> dict[str, object]:
    if transport == "http":
        return {"apiKey": API_KEY, "options": {"serverUrl": http_url}}
    return {"options": {"redisUrl": valkey_url}}


@pytest.fixture(params=["in-process", "http"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def exchange(transport: str, engine: Engine, valkey_server: object, http_url: str) -> MockExchange:
    """A MockExchange on a flushed Valkey (the ``engine`` fixture flushes it)."""
    return MockExchange(exchange_config(transport, valkey_server.url, http_url))  # type: ignore[attr-defined]


@pytest.fixture
def funded(exchange: MockExchange) -> MockExchange:
    """BTC/USDT at 50 000, ETH/USDT at 2 500, 100 000 USDT."""
    exchange.set_price("BTC/USDT", 50000)
    exchange.set_price("ETH/USDT", 2500)
    exchange.fund("USDT", 100000)
    exchange.load_markets(True)
    return exchange
