"""``mockexchange serve`` as a real process (granian + the WSGI app): the seed's curl workflow over HTTP, auth,
the CLI with ``--url``, and a generated API key with the embedded Valkey."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from servers import Server, generated_key, start_server
from tests_helpers import wait_for

from mockexchange_ccxt import Engine, Settings
from mockexchange_ccxt.cli import main
from mockexchange_ccxt.config import ENV_VARS, PLACEHOLDER_API_KEY
from mockexchange_ccxt.engine import EmbeddedValkey
from mockexchange_ccxt.serve import needs_generated_key

API_KEY = "some-key"


@pytest.fixture(scope="module")
def server(valkey_server: EmbeddedValkey, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    running = start_server(log, {"REDIS_URL": valkey_server.url, "API_KEY": API_KEY}, API_KEY)
    try:
        yield running
    finally:
        assert running.stop() == 0, running.output()


def post(server: Server, path: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(server.url + path, json=body, headers={"x-api-key": API_KEY}, timeout=10)


def get(server: Server, path: str) -> requests.Response:
    return requests.get(server.url + path, headers={"x-api-key": API_KEY}, timeout=10)


def test_seed_curl_workflow(server: Server, engine: Engine) -> None:
    fund = post(server, "/admin/fund", {"asset": "USDT", "amount": 100000})
    assert fund.status_code == 200, fund.text
    assert fund.json() == {"asset": "USDT", "free": "100000", "used": "0", "total": "100000"}
    balance = get(server, "/balance").json()
    assert balance["USDT"] == {"free": "100000", "used": "0", "total": "100000"}

    assert post(server, "/admin/price", {"symbol": "BTC/USDT", "price": "50000"}).json() == {
        "symbol": "BTC/USDT",
        "filled": 0,
    }
    order = {"symbol": "BTC/USDT", "side": "buy", "amount": 0.05}
    verdict = post(server, "/orders/can_execute", order)
    assert verdict.status_code == 200
    assert verdict.json()["ok"] is True and verdict.json()["required"] == {"asset": "USDT", "amount": "2502.5"}

    placed = post(server, "/orders", order)
    assert placed.status_code == 201, placed.text
    assert (placed.json()["status"], placed.json()["type"], placed.json()["filled"]) == ("closed", "market", "0.05")

    balance = get(server, "/balance").json()
    assert balance["USDT"] == {"free": "97497.5", "used": "0", "total": "97497.5"}
    assert balance["BTC"] == {"free": "0.05", "used": "0", "total": "0.05"}
    assert get(server, "/tickers/BTC%2FUSDT").json()["last"] == "50000"


@pytest.mark.parametrize("headers", [{}, {"x-api-key": "wrong"}, {"x-api-key": PLACEHOLDER_API_KEY}])
def test_requests_without_the_key_are_refused(server: Server, headers: dict[str, str]) -> None:
    for path in ("/status", "/balance"):
        answer = requests.get(server.url + path, headers=headers, timeout=10)
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "AUTHENTICATION"


def test_cli_over_http(
    server: Server, engine: Engine, valkey_server: EmbeddedValkey, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    def cli(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    for var in ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("MOCKX_URL", raising=False)
    remote = ("--url", server.url, "--api-key", API_KEY)
    assert cli(*remote, "fund", "USDT", "100000")[0] == 0
    assert cli(*remote, "price", "BTC/USDT", "50000")[0] == 0
    code, out, _ = cli(*remote, "can-execute", "buy", "BTC/USDT", "0.05")
    assert code == 0 and out.startswith("yes: taker at 50000")
    code, out, _ = cli(*remote, "order", "buy", "BTC/USDT", "0.05", "--client-order-id", "cli-1")
    assert code == 0 and "closed" in out.splitlines()[1].split()
    code, out, _ = cli(*remote, "order", "sell", "BTC/USDT", "0.01", "--price", "60000", "--json")
    resting = json.loads(out)
    assert code == 0 and resting["status"] == "open"

    code, out, _ = cli(*remote, "balance")
    assert code == 0
    assert out.splitlines()[1:] == ["BTC       0.04  0.01     0.05", "USDT   97497.5     0  97497.5"]

    # the environment variables work as the flags do
    monkeypatch.setenv("MOCKX_URL", server.url)
    monkeypatch.setenv("API_KEY", API_KEY)
    code, out, _ = cli("--json", "balance", "BTC")
    assert (code, json.loads(out)) == (0, {"asset": "BTC", "free": "0.04", "used": "0.01", "total": "0.05"})

    # both transports give the same JSON
    over_http = cli("--json", "orders")
    monkeypatch.delenv("MOCKX_URL")
    monkeypatch.setenv("REDIS_URL", valkey_server.url)
    direct = cli("--json", "orders")
    assert over_http == direct and over_http[0] == 0 and len(json.loads(over_http[1])) == 2

    # errors keep their codes over HTTP
    assert cli(*remote, "cancel", resting["id"])[0] == 0
    code, _, err = cli(*remote, "cancel", resting["id"])
    assert code == 2 and err.startswith("error ORDER_NOT_OPEN: ")
    code, _, err = cli(*remote, "cancel", "424242")
    assert code == 3 and err.startswith("error ORDER_NOT_FOUND: ")
    code, _, err = cli("--url", server.url, "--api-key", "wrong", "balance")
    assert (code, err) == (4, "error AUTHENTICATION: missing or wrong x-api-key header\n")
    code, _, err = cli(*remote, "order", "buy", "BTC/USDT", "1000")
    assert code == 2 and err.startswith("error INSUFFICIENT_FUNDS: ")


def test_generated_key_with_embedded_valkey(tmp_path: Path) -> None:
    """No API_KEY and no REDIS_URL: serve starts its own Valkey, prints a fresh key, and stops Valkey on exit."""
    data_dir = tmp_path / "data"
    running = start_server(tmp_path / "serve.log", {"MOCKX_DATA_DIR": str(data_dir)}, None)
    try:
        key = generated_key(running)
        assert key is not None and len(key) >= 32
        secret = re.search(r"^API secret: (\S+)$", running.output(), re.MULTILINE)  # beside the key, as API_SECRET
        assert secret is not None and len(secret.group(1)) >= 32 and secret.group(1) != key
        assert f"Serving mockexchange on {running.url}" in running.output()
        assert requests.get(running.url + "/balance", headers={"x-api-key": key}, timeout=10).status_code == 200
        placeholder = requests.get(running.url + "/balance", headers={"x-api-key": PLACEHOLDER_API_KEY}, timeout=10)
        assert placeholder.status_code == 401
        assert EmbeddedValkey(data_dir).answers()
    finally:
        code = running.stop()
    assert code == 0, running.output()
    assert not EmbeddedValkey(data_dir).answers()


def test_address_in_use_is_a_clean_error(valkey_server: EmbeddedValkey) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
        result = subprocess.run(
            [sys.executable, "-m", "mockexchange_ccxt", "serve", "--port", str(port)],
            env={**env, "REDIS_URL": valkey_server.url, "API_KEY": API_KEY},
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 5, result.stderr
    assert f"error SERVE: cannot serve on 127.0.0.1:{port}: " in result.stderr
    assert "Traceback" not in result.stderr and "backtrace" not in result.stderr


def test_when_a_key_is_generated() -> None:
    assert needs_generated_key(Settings())
    assert needs_generated_key(Settings(api_key=""))
    assert not needs_generated_key(Settings(api_key="chosen"))
    assert not needs_generated_key(Settings(test_env=True))


BOT = """
import sys
from mockexchange_ccxt import MockExchange

exchange = MockExchange()  # in process: owns the embedded Valkey of MOCKX_DATA_DIR
exchange.fund("USDT", 1234)
print("ready", flush=True)
sys.stdin.readline()  # runs until told to stop
"""


def test_serve_joined_to_a_bot_keeps_serving_after_the_bot_exits(tmp_path: Path) -> None:
    """``mockexchange serve`` joins the embedded Valkey of an in-process bot; when the bot exits (and its
    server with it), serve takes the server over instead of answering 503 forever."""
    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    bot = subprocess.Popen(
        [sys.executable, "-c", BOT],
        env={**env, "MOCKX_DATA_DIR": str(data_dir)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert bot.stdout is not None and bot.stdout.readline() == "ready\n"
        running = start_server(tmp_path / "serve.log", {"MOCKX_DATA_DIR": str(data_dir), "API_KEY": API_KEY}, API_KEY)
    except BaseException:
        bot.kill()
        raise
    try:
        assert get(running, "/balance").json()["USDT"]["total"] == "1234"
        assert bot.stdin is not None
        bot.stdin.close()  # the bot exits: its engine stops the server it owns
        assert bot.wait(30) == 0

        def serves() -> bool:
            answer = get(running, "/balance")
            return answer.status_code == 200 and answer.json()["USDT"]["total"] == "1234"

        assert wait_for(serves, timeout=20), get(running, "/balance").text
        assert post(running, "/admin/fund", {"asset": "USDT", "amount": 1}).status_code == 200
    finally:
        code = running.stop()
    assert code == 0, running.output()
    assert not EmbeddedValkey(data_dir).answers()  # serve owned the server it restarted, and stopped it


def test_a_second_server_on_a_port_in_use_refuses_to_start(server: Server, valkey_server: EmbeddedValkey) -> None:
    """granian binds with SO_REUSEPORT, so a second ``serve`` on the same port used to start anyway and take
    half of the connections."""
    port = server.url.rsplit(":", 1)[1]
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    result = subprocess.run(
        [sys.executable, "-m", "mockexchange_ccxt", "serve", "--port", port],
        env={**env, "REDIS_URL": valkey_server.url, "API_KEY": "other-key"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 5, result.stderr
    assert f"error SERVE: cannot serve on 127.0.0.1:{port}: address in use" in result.stderr
    assert "Serving mockexchange" not in result.stdout  # refused before starting any worker
    for _ in range(20):  # the first server still answers every request
        assert get(server, "/status").status_code == 200


def test_workers_end_with_a_killed_serve_and_free_the_port(tmp_path: Path) -> None:
    """``kill -9`` of serve: its embedded Valkey goes with it, and so do its workers (no orphan keeps the port and
    answers 503 from a Valkey that is gone), so serve can start again on that port."""
    data_dir = tmp_path / "data"
    env = {"MOCKX_DATA_DIR": str(data_dir), "API_KEY": API_KEY}
    running = start_server(tmp_path / "serve.log", env, API_KEY, workers=2)
    workers: list[int] = []
    try:
        workers = running.worker_pids()
        assert len(workers) >= 2
        assert requests.post(
            running.url + "/admin/fund",
            json={"asset": "USDT", "amount": "5"},
            headers={"x-api-key": API_KEY},
            timeout=10,
        ).ok
        os.kill(running.process.pid, signal.SIGKILL)
        running.process.wait()
        assert wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers), 30), "orphaned workers"
        port = int(running.url.rsplit(":", 1)[1])
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0  # nothing listens there any more
    finally:
        for pid in [running.process.pid, *workers]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
