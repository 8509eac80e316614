"""The dialect served by a real HTTP server (the seed's REST app with the dialect beside it) over the test
session's Valkey, with the default account's key and secret."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from servers import serving

from mockexchange_ccxt import Engine, Settings

from .support import KEY, SECRET


@pytest.fixture(scope="session")
def served(valkey_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Engine]]:
    settings = Settings(
        redis_url=valkey_server.url, api_key=KEY, api_secret=SECRET, data_dir=tmp_path_factory.mktemp("x")
    )
    with Engine(settings) as engine, serving(engine) as url:
        yield url, engine


@pytest.fixture
def facade(engine: Engine, served: tuple[str, Engine]) -> tuple[str, Engine]:
    """A flushed Valkey (the ``engine`` fixture flushes it) with BTC/USDT at 50,000, ETH/USDT at 2,500 (bid
    2,499.5, ask 2,500.5) and 100,000 USDT; the server's URL and engine."""
    url, served_engine = served
    served_engine.set_price("BTC/USDT", "50000")
    served_engine.set_price("ETH/USDT", "2500", bid="2499.5", ask="2500.5")
    served_engine.fund("USDT", "100000")
    return url, served_engine
