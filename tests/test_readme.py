"""The README is tested: its configuration table is the one in config.py, and its Python blocks run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mockexchange_ccxt.config import ENV_VARS
from mockexchange_ccxt.engine import EmbeddedValkey
from mockexchange_ccxt.errors import ERRORS_BY_CODE
from mockexchange_ccxt.exchange.describe import EXCEPTIONS_BY_CODE

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)


def test_configuration_table_matches_settings() -> None:
    rows = dict(re.findall(r"^\| `([A-Z_]+)` \| (.+?) \|$", README, re.M))
    assert rows == {name: doc for name, (_field, doc) in ENV_VARS.items()}


def test_error_table_matches_the_codes() -> None:
    rows = re.findall(r"^\| ([A-Z_]+) \| (\d{3}) \| (\w+) \|$", README, re.M)
    assert sorted(rows) == sorted(
        (code, str(error.http_status), EXCEPTIONS_BY_CODE[code].__name__) for code, error in ERRORS_BY_CODE.items()
    )


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=[f"block{i}" for i in range(len(PYTHON_BLOCKS))])
def test_python_block_runs(block: str, valkey_server: EmbeddedValkey, tmp_path: Path) -> None:
    env = {**os.environ, "REDIS_URL": valkey_server.url, "ACCOUNT": "readme", "MOCKX_DATA_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", block], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
