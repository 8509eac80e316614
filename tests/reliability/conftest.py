"""Fixtures shared by the fault and failover tests: an account seeded on the test's own Valkey (``store_url``,
which each module defines), and ``mockexchange serve`` with two workers on it."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from servers import Server, start_server

from mockexchange_ccxt import Engine, Settings

KEY = "reliability-test-key"
FUNDS = {"USDT": Decimal(10_000_000), "BTC": Decimal(100)}


@pytest.fixture
def books(store_url: str, tmp_path: Path) -> Iterator[Engine]:
    """An engine on the test's Valkey: seeds the account and reads the books back."""
    with Engine(Settings(redis_url=store_url, data_dir=tmp_path / "unused")) as engine:
        engine.set_price("BTC/USDT", "50000")
        for asset, amount in FUNDS.items():
            engine.fund(asset, amount)
        yield engine


@pytest.fixture
def served(store_url: str, books: Engine, tmp_path: Path) -> Iterator[Server]:
    env = {"REDIS_URL": store_url, "API_KEY": KEY, "TICK_LOOP_SEC": "0.01"}
    server = start_server(tmp_path / "serve.log", env, KEY, workers=2)
    try:
        yield server
    finally:
        code = server.stop()
    assert code == 0, server.output()
