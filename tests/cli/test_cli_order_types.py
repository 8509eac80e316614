"""The CLI places every order type the engine takes (time in force, post-only, triggers, buys by cost) and
cancels all open orders, straight to the test Valkey."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from mockexchange_ccxt import Engine
from mockexchange_ccxt.cli import main


@pytest.fixture(autouse=True)
def seeded(cli_env: None, engine: Engine) -> None:
    engine.set_price("BTC/USDT", "50000")
    engine.fund("USDT", "100000")
    engine.fund("BTC", "1")


def order(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    code = main(["--json", "order", *argv])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out else None, err


def test_order_flags(capsys: pytest.CaptureFixture[str], engine: Engine) -> None:
    code, ioc, _ = order(capsys, "buy", "BTC/USDT", "0.1", "--price", "40000", "--time-in-force", "IOC")
    assert (code, ioc["status"], ioc["timeInForce"]) == (0, "canceled", "IOC")
    code, stop, _ = order(capsys, "sell", "BTC/USDT", "0.1", "--stop-loss-price", "45000")
    assert (code, stop["status"], stop["stopLossPrice"]) == (0, "open", "45000")
    code, binance, _ = order(
        capsys, "sell", "BTC/USDT", "0.1", "--type", "stop_loss_limit", "--price", "44000", "--stop-price", "44500"
    )
    assert (code, binance["type"], binance["info"]["orderType"]) == (0, "limit", "stop_loss_limit")
    code, bought, _ = order(capsys, "buy", "BTC/USDT", "--cost", "1000")
    assert (code, bought["amount"]) == (0, "0.02")
    code, _, err = order(capsys, "buy", "BTC/USDT", "0.1", "--price", "50000", "--post-only")
    assert code == 2 and json.loads(err)["error"]["code"] == "ORDER_IMMEDIATELY_FILLABLE"
    assert main(["cancel-all", "--symbol", "BTC/USDT"]) == 0
    assert "canceled" in capsys.readouterr().out
    assert engine.fetch_orders(status="open") == []
    assert engine.balance("BTC")["used"] == Decimal(0)
