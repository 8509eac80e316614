"""The CLI's tests talk straight to the test Valkey, configured through the environment as a user would."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockexchange_ccxt import Engine
from mockexchange_ccxt.config import ENV_VARS
from mockexchange_ccxt.engine import EmbeddedValkey


@pytest.fixture
def cli_env(engine: Engine, valkey_server: EmbeddedValkey, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A flushed test Valkey (the ``engine`` fixture) configured through the environment, as a user would."""
    for var in [*ENV_VARS, "MOCKX_URL"]:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("REDIS_URL", valkey_server.url)
    monkeypatch.setenv("MOCKX_DATA_DIR", str(tmp_path / "never-used"))
