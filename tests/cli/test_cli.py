"""The CLI in-process (``main([...])``), talking straight to the test Valkey: every command, ``--json``, and
the exit code of each kind of error."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests_helpers import free_port

from mockexchange_ccxt import Engine
from mockexchange_ccxt.cli import main

pytestmark = pytest.mark.usefixtures("cli_env")


ORDER_COLUMNS = ("ID", "DATETIME", "SYMBOL", "SIDE", "TYPE", "STATUS", "AMOUNT", "PRICE", "FILLED", "COST", "FEE")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code, out, err = run(capsys, "--json", *argv)
    assert (code, err) == (0, "")
    return json.loads(out)


def test_fund_and_balance(capsys: pytest.CaptureFixture[str], engine: Engine) -> None:
    code, out, _ = run(capsys, "fund", "USDT", "100000.5")
    assert code == 0
    assert out.split("\n")[:2] == ["ASSET      FREE  USED     TOTAL", "USDT   100000.5     0  100000.5"]
    assert engine.balance("USDT")["free"] == Decimal("100000.5")

    code, out, _ = run(capsys, "balance")
    assert code == 0
    assert "USDT   100000.5     0  100000.5" in out

    answer = run_json(capsys, "balance")
    assert answer["USDT"] == {"free": "100000.5", "used": "0", "total": "100000.5"}
    assert answer["total"] == {"USDT": "100000.5"}
    assert run_json(capsys, "balance", "USDT") == {
        "asset": "USDT",
        "free": "100000.5",
        "used": "0",
        "total": "100000.5",
    }


def test_empty_views(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "balance") == (0, "(no balances)\n", "")
    assert run(capsys, "tickers") == (0, "(no prices)\n", "")
    assert run(capsys, "orders") == (0, "(no orders)\n", "")
    assert run_json(capsys, "orders") == []


def test_prices_and_tickers(capsys: pytest.CaptureFixture[str], engine: Engine) -> None:
    assert run(capsys, "price", "BTC/USDT", "50000") == (0, "BTC/USDT price set to 50000; 0 order(s) filled\n", "")
    assert run_json(capsys, "price", "ETH/USDT", "2500") == {"symbol": "ETH/USDT", "filled": 0}
    assert engine.ticker("BTC/USDT")["last"] == Decimal("50000")

    code, out, _ = run(capsys, "price", "BTC/USDT")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["SYMBOL", "LAST", "BID", "ASK", "DATETIME"]
    assert lines[1].split()[:4] == ["BTC/USDT", "50000", "50000", "50000"]

    code, out, _ = run(capsys, "tickers")
    assert [line.split()[0] for line in out.splitlines()] == ["SYMBOL", "BTC/USDT", "ETH/USDT"]
    tickers = run_json(capsys, "tickers")
    assert sorted(tickers) == ["BTC/USDT", "ETH/USDT"]
    assert tickers["ETH/USDT"]["last"] == "2500"


def test_market_order_exact_balances(capsys: pytest.CaptureFixture[str], btc: Engine) -> None:
    code, out, _ = run(capsys, "order", "buy", "BTC/USDT", "0.05")
    assert code == 0
    header, row = out.splitlines()[:2]
    assert header.split() == list(ORDER_COLUMNS)
    assert row.split()[2:] == ["BTC/USDT", "buy", "market", "closed", "0.05", "50000", "0.05", "2500", "2.5", "USDT"]
    assert btc.balance("USDT") == {"free": Decimal("97497.5"), "used": Decimal(0), "total": Decimal("97497.5")}
    assert btc.balance("BTC")["free"] == Decimal("0.05")

    order = run_json(capsys, "order", "sell", "BTC/USDT", "0.05")
    assert (order["status"], order["side"], order["cost"], order["fee"]["cost"]) == ("closed", "sell", "2500", "2.5")
    assert btc.balance("USDT")["free"] == Decimal("99995")


def test_limit_order_rests_then_price_settles_it(capsys: pytest.CaptureFixture[str], btc: Engine) -> None:
    order = run_json(capsys, "order", "buy", "BTC/USDT", "0.1", "--price", "40000", "--client-order-id", "mine-1")
    assert (order["type"], order["status"], order["price"], order["clientOrderId"]) == (
        "limit",
        "open",
        "40000",
        "mine-1",
    )
    assert btc.balance("USDT")["used"] == Decimal("4004")

    code, out, err = run(capsys, "order", "buy", "BTC/USDT", "0.1", "--price", "40000", "--client-order-id", "mine-1")
    assert (code, out) == (2, "")
    assert err.startswith("error DUPLICATE_CLIENT_ORDER_ID: ")

    assert run(capsys, "price", "BTC/USDT", "39000") == (0, "BTC/USDT price set to 39000; 1 order(s) filled\n", "")
    assert btc.fetch_order(order["id"])["status"] == "closed"
    assert btc.balance("BTC")["free"] == Decimal("0.1")
    assert btc.balance("USDT") == {"free": Decimal("95996"), "used": Decimal(0), "total": Decimal("95996")}


def test_orders_filters(capsys: pytest.CaptureFixture[str], btc: Engine) -> None:
    first = run_json(capsys, "order", "buy", "BTC/USDT", "0.01")
    second = run_json(capsys, "order", "buy", "ETH/USDT", "1", "--price", "2000")
    third = run_json(capsys, "order", "buy", "BTC/USDT", "0.01", "--price", "45000")

    assert [o["id"] for o in run_json(capsys, "orders")] == [first["id"], second["id"], third["id"]]
    assert [o["id"] for o in run_json(capsys, "orders", "--status", "open")] == [second["id"], third["id"]]
    assert [o["id"] for o in run_json(capsys, "orders", "--symbol", "BTC/USDT")] == [first["id"], third["id"]]
    assert [o["id"] for o in run_json(capsys, "orders", "--tail", "1")] == [third["id"]]
    assert [o["id"] for o in run_json(capsys, "orders", "--status", "open", "--symbol", "ETH/USDT")] == [second["id"]]

    code, out, _ = run(capsys, "orders", "--status", "open")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 3
    assert [line.split()[0] for line in lines[1:]] == [second["id"], third["id"]]


def test_cancel(capsys: pytest.CaptureFixture[str], btc: Engine) -> None:
    order = run_json(capsys, "order", "buy", "BTC/USDT", "0.1", "--price", "40000")
    code, out, _ = run(capsys, "cancel", order["id"])
    assert code == 0 and "canceled" in out.splitlines()[1].split()
    assert btc.balance("USDT") == {"free": Decimal("100000"), "used": Decimal(0), "total": Decimal("100000")}

    code, out, err = run(capsys, "cancel", order["id"])
    assert (code, out) == (2, "") and err.startswith("error ORDER_NOT_OPEN: ")
    code, out, err = run(capsys, "cancel", "999999")
    assert (code, out, err) == (3, "", "error ORDER_NOT_FOUND: order 999999 does not exist\n")


def test_can_execute(capsys: pytest.CaptureFixture[str], btc: Engine) -> None:
    code, out, _ = run(capsys, "can-execute", "buy", "BTC/USDT", "0.05")
    assert code == 0
    assert out.splitlines() == ["yes: taker at 50000", "cost 2500, fee 2.5", "needs 2502.5 USDT (free 100000)"]

    code, out, _ = run(capsys, "can-execute", "buy", "BTC/USDT", "5")
    assert code == 1 and out.startswith("no: INSUFFICIENT_FUNDS: insufficient USDT")

    code, out, _ = run(capsys, "--json", "can-execute", "sell", "BTC/USDT", "1", "--price", "60000")
    answer = json.loads(out)
    assert code == 1 and (answer["ok"], answer["code"]) == (False, "INSUFFICIENT_FUNDS")
    answer = run_json(capsys, "can-execute", "buy", "BTC/USDT", "0.1", "--price", "40000")
    assert answer["ok"] is True and answer["takerOrMaker"] == "maker"
    assert answer["required"] == {"asset": "USDT", "amount": "4004"}
    assert btc.fetch_orders() == []  # a dry run changes nothing


def test_reset(capsys: pytest.CaptureFixture[str], btc: Engine) -> None:
    run_json(capsys, "order", "buy", "BTC/USDT", "0.01")
    assert run(capsys, "reset") == (0, "balances and orders wiped (prices kept)\n", "")
    assert btc.fetch_orders() == [] and btc.fetch_balance()["total"] == {}
    assert btc.ticker("BTC/USDT")["last"] == Decimal("50000")
    assert run_json(capsys, "reset") == {"reset": True}


def test_global_flags_after_the_command(capsys: pytest.CaptureFixture[str], btc: Engine) -> None:
    code, out, _ = run(capsys, "balance", "USDT", "--json")
    assert code == 0 and json.loads(out)["free"] == "100000"


@pytest.mark.parametrize(
    ("argv", "code", "prefix"),
    [
        (["fund", "USDT", "-5"], 2, "error BAD_REQUEST: "),
        (["fund", "USDT", "abc"], 2, "error BAD_REQUEST: "),
        (["price", "BTCUSDT"], 2, "error BAD_SYMBOL: "),
        (["price", "DOGE/USDT"], 2, "error BAD_SYMBOL: "),
        (["order", "buy", "DOGE/USDT", "1"], 2, "error BAD_SYMBOL: "),
        (["order", "buy", "BTC/USDT", "0.000000001"], 2, "error INVALID_ORDER: "),
        (["order", "buy", "BTC/USDT", "50"], 2, "error INSUFFICIENT_FUNDS: "),
        (["cancel", "abc"], 3, "error ORDER_NOT_FOUND: "),
        (["orders", "--tail", "0"], 2, "error BAD_REQUEST: "),
    ],
)
def test_request_errors(
    capsys: pytest.CaptureFixture[str], btc: Engine, argv: list[str], code: int, prefix: str
) -> None:
    before = btc.fetch_balance()["total"]
    got, out, err = run(capsys, *argv)
    assert (got, out) == (code, "")
    assert err.startswith(prefix) and err.count("\n") == 1 and "Traceback" not in err
    assert btc.fetch_balance()["total"] == before


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["bogus"],
        ["order", "hold", "BTC/USDT", "1"],
        ["orders", "--tail", "x"],
        ["fund", "USDT"],
        ["serve", "--url", "x"],
    ],
)
def test_usage_errors(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert "error USAGE: " in err and "Traceback" not in err


def test_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "MOCKX_URL" in out and "REDIS_URL" in out and "exit codes" in out
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.startswith("mockexchange ")


def test_store_unavailable(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    code, out, err = run(capsys, "balance")
    assert (code, out) == (5, "") and err.startswith("error STORE_UNAVAILABLE: ")


def test_server_unreachable(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--url", f"http://127.0.0.1:{free_port()}", "balance")
    assert (code, out) == (5, "") and err.startswith("error SERVER_UNAVAILABLE: ")


@pytest.mark.parametrize("url", ["ftp://x", "127.0.0.1:18471", "http://", "localhost"])
def test_a_server_url_that_is_no_http_url_is_a_config_error(capsys: pytest.CaptureFixture[str], url: str) -> None:
    code, out, err = run(capsys, "--url", url, "balance")
    assert (code, out) == (2, "") and err.startswith("error CONFIG: --url (MOCKX_URL) must be an http"), err


def test_bad_configuration(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMMISSION", "lots")
    code, out, err = run(capsys, "balance")
    assert (code, out) == (2, "") and err.startswith("error CONFIG: environment variable COMMISSION")


# -- usage and configuration errors: exit 2 with a clean message, never INTERNAL (issue: rough edges) ----------


@pytest.mark.parametrize(
    "argv",
    [
        ["serve", "--port", "70000"],
        ["serve", "--port", "0"],
        ["serve", "--port", "-1"],
        ["serve", "--host", "256.1.1.1"],
        ["serve", "--host", "localhost"],  # the server binds IP addresses only
        ["serve", "--workers", "0"],
        ["serve", "--workers", "-2"],
    ],
)
def test_serve_refuses_bad_flags_before_starting(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert "error USAGE: argument --" in err and "Traceback" not in err


@pytest.mark.parametrize("url", ["http://x", "valkey://x:1/0"])
def test_a_redis_url_no_client_speaks_is_a_config_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("REDIS_URL", url)
    for argv in (["balance"], ["serve"]):
        code, out, err = run(capsys, *argv)
        assert (code, out) == (2, ""), err
        assert err.startswith("error CONFIG: REDIS_URL ")


@pytest.mark.parametrize(
    ("var", "raw"),
    [("ORDER_RETENTION_DAYS", "0"), ("ORDER_RETENTION_DAYS", "-3"), ("ORDER_RETENTION_MAX", "nan")],
)
def test_a_bad_retention_stops_the_start_with_a_config_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, var: str, raw: str
) -> None:
    monkeypatch.setenv(var, raw)
    for argv in (["balance"], ["serve"]):
        code, out, err = run(capsys, *argv)
        assert (code, out) == (2, ""), err
        assert err.startswith("error CONFIG: ") and var in err and "Traceback" not in err


def test_an_unusable_data_directory_is_a_config_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.delenv("REDIS_URL")
    monkeypatch.setenv("MOCKX_DATA_DIR", str(blocker / "valkey"))
    for argv in (["balance"], ["serve"]):
        code, out, err = run(capsys, *argv)
        assert (code, out) == (2, ""), err
        assert err.startswith("error CONFIG: MOCKX_DATA_DIR ") and "Traceback" not in err


def test_a_commission_that_is_not_a_number_reads_cleanly(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMMISSION", "abc")
    code, _, err = run(capsys, "balance")
    assert (code, err) == (2, "error CONFIG: environment variable COMMISSION='abc' is not a number\n")


# -- --json: errors are JSON too --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "exit_code", "code"),
    [
        (["--json", "cancel", "999999"], 3, "ORDER_NOT_FOUND"),
        (["cancel", "999999", "--json"], 3, "ORDER_NOT_FOUND"),
        (["--json", "fund", "USDT", "-5"], 2, "BAD_REQUEST"),
        (["--json", "bogus"], 2, "USAGE"),
        (["--json", "serve", "--port", "70000"], 2, "USAGE"),
    ],
)
def test_with_json_errors_are_json(
    capsys: pytest.CaptureFixture[str], argv: list[str], exit_code: int, code: str
) -> None:
    got, out, err = run(capsys, *argv)
    assert (got, out) == (exit_code, "")
    error = json.loads(err)["error"]
    assert error["code"] == code and error["message"]


def test_with_json_a_config_error_is_json(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TICK_LOOP_SEC", "nan")
    got, out, err = run(capsys, "--json", "balance")
    assert (got, out) == (2, "")
    assert json.loads(err) == {"error": {"code": "CONFIG", "message": "TICK_LOOP_SEC must be 0.001 to 86400, got nan"}}
