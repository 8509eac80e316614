"""Market rules per symbol from a markets file: reported as ccxt markets, enforced with Binance-like filter
messages, and a bad file refused whole at start, naming the file, the key and the reason."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests_helpers import free_port, keyspace

from mockexchange_ccxt import Engine, Settings
from mockexchange_ccxt.engine.rules import RulesError, load_rules
from mockexchange_ccxt.errors import InvalidOrder

from .conftest import EngineFactory

RULES = {
    "BTC/USDT": {
        "precision": {"price": "0.01", "amount": "0.00001"},
        "limits": {"amount": {"min": "0.0001", "max": "100"}, "cost": {"min": "5", "max": "1000000"}},
        "maker": "0.0002",
        "taker": "0.0007",
    },
    "OLD/USDT": {"active": False},
}


@pytest.fixture
def ruled(make_engine: EngineFactory, tmp_path: Path) -> Engine:
    path = tmp_path / "markets.json"
    path.write_text(json.dumps(RULES))
    engine = make_engine(markets_file=str(path))
    engine.set_price("BTC/USDT", "50000")
    engine.set_price("ETH/USDT", "2500")
    engine.set_price("OLD/USDT", "1")
    engine.fund("USDT", "100000")
    return engine


def test_markets_report_the_files_rules_and_defaults_elsewhere(ruled: Engine) -> None:
    markets = ruled.markets()
    btc = markets["BTC/USDT"]
    assert btc["precision"]["price"] == Decimal("0.01") and btc["precision"]["amount"] == Decimal("0.00001")
    assert btc["limits"]["amount"] == {"min": Decimal("0.0001"), "max": Decimal(100)}
    assert btc["limits"]["cost"] == {"min": Decimal(5), "max": Decimal(1000000)}
    assert (btc["maker"], btc["taker"], btc["active"]) == (Decimal("0.0002"), Decimal("0.0007"), True)
    assert markets["OLD/USDT"]["active"] is False
    eth = markets["ETH/USDT"]
    assert eth["precision"]["amount"] == Decimal("0.00000001") and eth["maker"] == Decimal("0.001")
    assert ruled.trading_fee("BTC/USDT")["taker"] == Decimal("0.0007")


def test_fills_charge_the_markets_own_rates(ruled: Engine) -> None:
    taker = ruled.create_order("BTC/USDT", "buy", "market", "0.1")
    assert taker["fee"] == {"currency": "USDT", "cost": Decimal("3.5"), "rate": Decimal("0.0007")}
    maker = ruled.create_order("BTC/USDT", "buy", "limit", "0.1", "49000")
    ruled.set_price("BTC/USDT", "48000")
    assert ruled.fetch_order(maker["id"])["fee"]["cost"] == Decimal("0.98")


BREACHES = [
    ("step", {"amount": "0.000015"}, "LOT_SIZE: amount 0.000015 is not a multiple of the step size 0.00001"),
    ("min amount", {"amount": "0.00005"}, "LOT_SIZE: amount 0.00005 is below the minimum 0.0001"),
    ("max amount", {"amount": "100.00001"}, "LOT_SIZE: amount 100.00001 is above the maximum 100"),
    ("tick", {"price": "40000.005"}, "PRICE_FILTER: price 40000.005 is not a multiple of the tick size 0.01"),
    ("trigger tick", {"type": "market", "price": None, "stop_loss_price": "40000.001"}, "PRICE_FILTER: trigger"),
    ("min cost", {"amount": "0.0001", "price": "40000"}, "NOTIONAL: cost 4 is below the minimum 5"),
    ("min cost at the touch", {"type": "market", "price": None, "amount": "0.0001"}, "NOTIONAL: cost 5 is"),
    ("inactive", {"symbol": "OLD/USDT", "price": "0.5"}, "market OLD/USDT is not active"),
]


@pytest.mark.parametrize(("changes", "message"), [b[1:] for b in BREACHES], ids=[b[0] for b in BREACHES])
def test_an_order_breaking_a_rule_is_invalid_naming_the_rule(
    ruled: Engine, changes: dict[str, Any], message: str
) -> None:
    order: dict[str, Any] = {"symbol": "BTC/USDT", "side": "buy", "type": "limit", "amount": "0.01", "price": "40000"}
    order.update(changes)
    before = keyspace(ruled)
    if message.startswith("NOTIONAL: cost 5 is"):  # exactly the minimum is allowed
        assert ruled.create_order(**order)["status"] == "closed"
        return
    with pytest.raises(InvalidOrder) as refused:
        ruled.create_order(**order)
    assert message in refused.value.message
    assert keyspace(ruled) == before


BAD_FILES = [
    ("not json", "{", "not valid JSON"),
    ("not an object", "[]", "must be a JSON object"),
    ("bad symbol", '{"BTCUSDT": {}}', "BTCUSDT"),
    ("unknown key", '{"BTC/USDT": {"limits": {"leverage": {"max": 5}}}}', "BTC/USDT.limits.leverage.max"),
    ("step 0", '{"BTC/USDT": {"precision": {"amount": "0"}}}', "BTC/USDT.precision.amount: must be a positive"),
    ("tick below a unit", '{"BTC/USDT": {"precision": {"price": "0.000000001"}}}', "precision.price"),
    ("min above max", '{"BTC/USDT": {"limits": {"amount": {"min": 5, "max": 1}}}}', "min 5 is above max 1"),
    ("cost min above max", '{"BTC/USDT": {"limits": {"cost": {"min": 9, "max": 1}}}}', "limits.cost: min 9"),
    ("rate of 1", '{"BTC/USDT": {"taker": 1}}', "BTC/USDT.taker: a fee rate must be in [0, 1)"),
    ("active not a bool", '{"BTC/USDT": {"active": "yes"}}', "BTC/USDT.active: must be true or false"),
    ("not a number", '{"BTC/USDT": {"maker": "cheap"}}', "BTC/USDT.maker"),
]


@pytest.mark.parametrize(("text", "reason"), [b[1:] for b in BAD_FILES], ids=[b[0] for b in BAD_FILES])
def test_a_bad_markets_file_is_refused_whole_naming_file_key_and_reason(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "markets.json"
    path.write_text(text)
    with pytest.raises(RulesError) as refused:
        load_rules(str(path))
    assert str(path) in str(refused.value) and reason in str(refused.value)
    with pytest.raises(ValueError, match="markets file"):
        Settings(markets_file=str(path))


def test_a_missing_markets_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="cannot be read"):
        load_rules(str(tmp_path / "nowhere.json"))


def test_the_server_does_not_start_with_a_bad_markets_file(tmp_path: Path) -> None:
    path = tmp_path / "markets.json"
    path.write_text('{"BTC/USDT": {"limits": {"amount": {"min": "2", "max": "1"}}}}')
    env = {**os.environ, "MARKETS_FILE": str(path), "MOCKX_DATA_DIR": str(tmp_path / "data"), "API_KEY": "k-1"}
    done = subprocess.run(
        [sys.executable, "-m", "mockexchange_ccxt", "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "CONFIG" in done.stderr and str(path) in done.stderr and "limits.amount: min 2 is above max 1" in done.stderr
    assert "Serving" not in done.stdout
