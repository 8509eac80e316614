"""The README's dialect tables are the package's: every engine error code mapped, the endpoints listed, and each
ccxt class the one ccxt.binance really raises for that code and text."""

from __future__ import annotations

import re
from pathlib import Path

import ccxt

from mockexchange_ccxt.binance.endpoints import ENDPOINTS
from mockexchange_ccxt.binance.errors import ENGINE_TO_BINANCE
from mockexchange_ccxt.errors import ERRORS_BY_CODE

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
ENGINE_MESSAGE = "the engine's message"


def raised_by_ccxt(code: int, msg: str, status: int) -> str:
    """The class ccxt.binance's ``handle_errors`` raises for this answer (text first, then code)."""
    exchange = ccxt.binance()
    body = f'{{"code":{code},"msg":"{msg}"}}'
    try:
        exchange.handle_errors(
            status, "", "http://127.0.0.1/api/v3/order", "POST", {}, body, {"code": code, "msg": msg}, {}, ""
        )
    except ccxt.BaseError as exc:
        return type(exc).__name__
    raise AssertionError(f"ccxt raised nothing for {body}")


def test_every_engine_code_has_its_binance_answer() -> None:
    assert set(ERRORS_BY_CODE) <= set(ENGINE_TO_BINANCE)


def test_engine_error_table() -> None:
    """One row per error code the engine has (the mapping may know codes ahead of the engine)."""
    rows = re.findall(r"^\| ([A-Z_]+) \| (-\d+) \| (\d{3}) \| (.+?) \| (\w+) \|$", README, re.M)
    assert {row[0] for row in rows} == set(ERRORS_BY_CODE)
    for name, code, status, msg, raised in rows:
        expected = ENGINE_TO_BINANCE[name]
        assert (int(code), int(status), None if msg == ENGINE_MESSAGE else msg) == expected, name
        assert (
            raised_by_ccxt(int(code), "a message of the engine" if msg == ENGINE_MESSAGE else msg, int(status))
            == raised
        )


def test_dialect_error_table() -> None:
    """The dialect's rows: a row whose "when" opens with a text in backticks is answered with that text."""
    rows = re.findall(r"^\| (-\d+(?:, -\d+)*) \| (\d{3}) \| (.+?) \| (\w+) \|$", README, re.M)
    assert len(rows) >= 20
    for codes, status, when, raised in rows:
        text = re.match(r"`([^`]+)`", when)
        for code in codes.split(", "):
            msg = text.group(1) if text else "a message"
            assert raised_by_ccxt(int(code), msg, int(status)) == raised, (code, msg)


def test_every_endpoint_is_listed() -> None:
    """Each row of the endpoint table names its paths in backticks (``GET /api/v3/ping``, then ``/time``: a path
    without a version prefix is under the one before it)."""
    listed: set[str] = set()
    for row in re.findall(r"^\| (`(?:GET|POST|DELETE).+?) \| (?:public|signed) \|", README, re.M):
        prefix = ""
        for path in re.findall(r"(/[\w/]+)`", row):
            if path.startswith(("/api/v3/", "/sapi/v1/")):
                prefix = path[: len("/api/v3")] if path.startswith("/api/") else path[: len("/sapi/v1")]
                listed.add(path)
            else:
                listed.add(prefix + path)
    served = {e.path for e in ENDPOINTS if not e.path.startswith("/api/v1/")}
    assert served <= listed, sorted(served - listed)
