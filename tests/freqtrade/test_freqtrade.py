"""freqtrade, unmodified, trading in LIVE mode against ``mockexchange serve`` while ``mockexchange replay`` drives
the price, in two ways: through the mock's own ccxt class (the example's launcher registers it, ``config.json``)
and as ``"name": "binance"`` through Binance's dialect (stock ccxt.binance, no launcher, ``config_binance.json``).
Each runs the example's config and strategy (examples/freqtrade/), with only the server's address, key, secret,
database and freqtrade's own REST API filled in.

freqtrade lives in its own virtual environment (``.ci/freqtrade-venv``: it pins its own ccxt and brings pandas
and TA-Lib), created from PyPI on first use. The test checks that trades opened and closed, and that freqtrade's
view of the wallet, and its own records of every order, agree with the mock's balances to the last unit.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from servers import Server, start_server
from tests_helpers import free_port, wait_for

from mockexchange_ccxt import Engine
from mockexchange_ccxt.engine import EmbeddedValkey

pytestmark = pytest.mark.freqtrade

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "freqtrade"
API_KEY = "freqtrade-test-key"
API_SECRET = "freqtrade-test-secret"
#: The address the example configs name, replaced by the test server's.
EXAMPLE_URL = "http://127.0.0.1:8000"
FUNDS = Decimal(1000)
#: How long freqtrade may trade before the test gives up waiting for a closed trade.
DEADLINE_SEC = 240


@dataclass(frozen=True)
class Case:
    """One way freqtrade reaches the mock: the example config it runs, and how it starts."""

    config: str
    launcher: bool  # through examples/freqtrade/launcher.py (register()), else ``python -m freqtrade``

    def argv(self, python: str) -> list[str]:
        return [python, str(EXAMPLE / "launcher.py")] if self.launcher else [python, "-m", "freqtrade"]


CASES = {
    "mockexchange": Case("config.json", launcher=True),
    "binance": Case("config_binance.json", launcher=False),
}


@pytest.fixture(scope="module")
def freqtrade_python() -> str:
    """The python of the freqtrade environment (created on first use: about a minute)."""
    done = subprocess.run([str(ROOT / ".ci" / "freqtrade-venv")], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture
def mock_server(engine: Engine, valkey_server: EmbeddedValkey, tmp_path: Path) -> Iterator[Server]:
    env = {"REDIS_URL": valkey_server.url, "API_KEY": API_KEY, "API_SECRET": API_SECRET}
    server = start_server(tmp_path / "serve.log", env, API_KEY)
    yield server
    server.stop()


def cli(server: Server, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MOCKX_URL": server.url, "API_KEY": API_KEY}
    return subprocess.run([sys.executable, "-m", "mockexchange_ccxt", *argv], env=env, capture_output=True, text=True)


#: The falling price's first close, and how much lower each minute opens and closes.
TOP, GAP, DROP = 52_000, 5, 10


def write_candles(path: Path, start_ms: int, first: int, count: int) -> Path:
    """1m candles ``first`` to ``first + count - 1`` of one steadily falling price: every price of a candle is
    below the close before it, so the dip-buying strategy sees a dip at its first look, whichever minute it
    starts in and however much of the current candle the replay has written; its trades leave on its 20 s
    time exit. No minute is spent waiting for a signal."""
    lines = []
    for i in range(first, first + count):
        opened = TOP - i * (GAP + DROP) - GAP
        closed = opened - DROP
        lines.append(f"{start_ms + (i - first) * 60_000},{opened},{opened},{closed},{closed},2")
    path.write_text("\n".join(lines) + "\n")
    return path


def freqtrade_config(case: Case, server: Server, tmp_path: Path, api_port: int) -> Path:
    """The example config as it is, but for the server's address, the key and secret, and the paths."""
    config = json.loads((EXAMPLE / case.config).read_text().replace(EXAMPLE_URL, server.url))
    config["exchange"]["key"] = API_KEY
    if config["exchange"]["secret"]:  # the dialect signs with the key's secret; the mock's class needs none
        config["exchange"]["secret"] = API_SECRET
    config["strategy_path"] = str(EXAMPLE / "strategies")
    config["db_url"] = f"sqlite:///{tmp_path / 'freqtrade.sqlite'}"
    config["api_server"] = {
        "enabled": True,
        "listen_ip_address": "127.0.0.1",
        "listen_port": api_port,
        "username": "test",
        "password": "test",
        "jwt_secret_key": "a" * 32,
        "ws_token": "b" * 24,
        "CORS_origins": [],
        "verbosity": "error",
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return path


def units(value: Any) -> Decimal:
    """freqtrade's floats, to the mock's unit (1e-8)."""
    return Decimal(repr(float(value))).quantize(Decimal("0.00000001"))


@pytest.mark.parametrize("case", CASES.values(), ids=CASES)
def test_freqtrade_trades_live_against_the_mock(
    case: Case, freqtrade_python: str, mock_server: Server, engine: Engine, tmp_path: Path
) -> None:
    minute = int(time.time() * 1000) // 60_000 * 60_000
    history = write_candles(tmp_path / "history.csv", minute - 60 * 60_000, 0, 60)
    assert cli(mock_server, "import-ohlcv", str(history), "--symbol", "BTC/USDT", "--timeframe", "1m").returncode == 0
    assert cli(mock_server, "fund", "USDT", str(FUNDS)).returncode == 0
    future = write_candles(tmp_path / "replay.csv", minute, 60, 60)
    replay_argv = ["replay", str(future), "--symbol", "BTC/USDT", "--from-now", "--speed", "1"]
    replay = subprocess.Popen(  # speed 1: freqtrade reads candles by its own clock, the data's must match it
        [sys.executable, "-m", "mockexchange_ccxt", *replay_argv],
        env={**os.environ, "MOCKX_URL": mock_server.url, "API_KEY": API_KEY},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    api_port = free_port()
    config = freqtrade_config(case, mock_server, tmp_path, api_port)
    api = f"http://127.0.0.1:{api_port}/api/v1"
    auth = ("test", "test")

    def closed_trades() -> list[dict[str, Any]]:
        try:
            answer = requests.get(f"{api}/trades", auth=auth, timeout=5).json()
        except (requests.RequestException, ValueError):
            return []
        return [trade for trade in answer.get("trades", []) if not trade["is_open"]]

    argv = [*case.argv(freqtrade_python), "trade", "--config", str(config), "--userdir", str(tmp_path)]
    with open(tmp_path / "freqtrade.log", "wb") as log:
        bot = subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            traded = wait_for(lambda: len(closed_trades()) >= 1, timeout=DEADLINE_SEC)
            requests.post(f"{api}/stopentry", auth=auth, timeout=5)  # no new trades while we compare
            time.sleep(3)  # one more loop: freqtrade syncs its wallet after its last order
            ft_balance = requests.get(f"{api}/balance", auth=auth, timeout=5).json()
            trades = requests.get(f"{api}/trades", auth=auth, timeout=5).json()["trades"]
        finally:
            os.killpg(bot.pid, signal.SIGINT)
            bot.wait(60)
            replay.terminate()
            replay.wait(30)
    output = (tmp_path / "freqtrade.log").read_text(errors="replace")
    assert traded, output[-5000:]

    mock = engine.fetch_balance()
    seen = {row["currency"]: row for row in ft_balance["currencies"]}
    for asset, balance in mock["total"].items():
        if asset not in seen:  # freqtrade lists no empty balances
            assert balance == 0, (asset, mock[asset], seen)
            continue
        assert units(seen[asset]["free"]) == mock[asset]["free"], (asset, seen[asset], mock[asset])
        assert units(seen[asset]["used"]) == mock[asset]["used"]
        assert units(seen[asset]["balance"]) == balance

    # every order freqtrade recorded, summed, is exactly what the mock's wallet shows
    usdt, btc = FUNDS, Decimal(0)
    for trade in trades:
        for order in trade["orders"]:
            if order["filled"]:
                cost, amount = units(order["cost"]), units(order["filled"])
                fee = units(trade["fee_open_cost"] if order["ft_order_side"] == "buy" else trade["fee_close_cost"])
                if order["ft_order_side"] == "buy":
                    usdt, btc = usdt - cost - fee, btc + amount
                else:
                    usdt, btc = usdt + cost - fee, btc - amount
    assert usdt == mock["total"]["USDT"] and btc == mock["total"].get("BTC", Decimal(0))
    assert "ERROR" not in output, [line for line in output.splitlines() if "ERROR" in line][:5]
    if json.loads(config.read_text())["order_types"]["stoploss_on_exchange"]:
        check_stops_on_exchange(tmp_path / "freqtrade.sqlite", engine)


def check_stops_on_exchange(database: Path, engine: Engine) -> None:
    """freqtrade's stop-loss on exchange (Binance's STOP_LOSS_LIMIT with a stopPrice): each closed trade had its
    stop order resting on the mock, and freqtrade canceled it before its exit (the price never fell to it), as
    freqtrade's own records (its database: its API lists no canceled order) and the mock's both say."""
    with closing(sqlite3.connect(database)) as db:
        closed = {row[0] for row in db.execute("SELECT id FROM trades WHERE is_open = 0")}
        rows = db.execute(
            "SELECT ft_trade_id, order_id, status, filled, stop_price FROM orders WHERE ft_order_side = ?",
            ("stoploss",),
        )
        stops = [row for row in rows if row[0] in closed]
    assert closed and sorted(row[0] for row in stops) == sorted(closed), stops
    on_mock = {order["id"]: order for order in engine.fetch_orders() if order["triggerPrice"] is not None}
    for _, order_id, status, filled, stop_price in stops:
        assert (status, filled) == ("canceled", 0)
        mocked = on_mock[order_id]
        assert (mocked["status"], mocked["info"]["orderType"], mocked["filled"]) == ("canceled", "stop_loss_limit", 0)
        assert abs(mocked["triggerPrice"] - units(stop_price)) <= Decimal("0.00000001")
