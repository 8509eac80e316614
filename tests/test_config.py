"""Settings: every number finite and within its documented range, every URL one the client can use, and each
refusal a CONFIG error naming the environment variable (``TICK_LOOP_SEC=nan`` used to busy-loop the tick
thread, ``inf`` to kill it, ``COMMISSION=abc`` to print a Python class name)."""

from __future__ import annotations

import dataclasses
import typing
from decimal import Decimal

import pytest

from mockexchange_ccxt.config import ENV_VARS, RANGES, ConfigError, Settings


@pytest.mark.parametrize(
    ("var", "raw"),
    [
        ("TICK_LOOP_SEC", "nan"),
        ("TICK_LOOP_SEC", "inf"),
        ("TICK_LOOP_SEC", "-inf"),
        ("TICK_LOOP_SEC", "0"),
        ("TICK_LOOP_SEC", "-1"),
        ("TICK_LOOP_SEC", "1e9"),
        ("TICK_LOOP_SEC", "0.0000001"),
        ("COMMISSION", "NaN"),
        ("COMMISSION", "Infinity"),
        ("COMMISSION", "-0.001"),
        ("COMMISSION", "1"),
        ("MAKER_COMMISSION", "sNaN"),
        ("TAKER_COMMISSION", "2"),
        ("SETTLE_BATCH", "0"),
        ("SETTLE_BATCH", "-5"),
        ("SETTLE_BATCH", "1000000000"),
        ("MAX_SLIPPAGE_BPS", "-1"),
        ("MAX_SLIPPAGE_BPS", "10001"),
        ("MAX_SLIPPAGE_BPS", "NaN"),
        ("FILL_MODEL", "depth"),
        ("ORDER_RETENTION_DAYS", "-1"),
        ("ORDER_RETENTION_DAYS", "0"),
        ("ORDER_RETENTION_DAYS", "-0"),
        ("ORDER_RETENTION_DAYS", "NaN"),
        ("ORDER_RETENTION_DAYS", "inf"),
        ("ORDER_RETENTION_DAYS", "36501"),
        ("ORDER_RETENTION_MAX", "0"),
        ("ORDER_RETENTION_MAX", "-100"),
        ("ORDER_RETENTION_MAX", "1000000000001"),
    ],
)
def test_a_number_out_of_range_is_a_config_error_naming_the_variable(var: str, raw: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({var: raw})
    assert var in str(caught.value)
    assert caught.value.variable == var


@pytest.mark.parametrize(
    ("var", "raw"),
    [
        ("COMMISSION", "abc"),
        ("TICK_LOOP_SEC", "soon"),
        ("SETTLE_BATCH", "1.5"),
        ("SETTLE_BATCH", "ten"),
        ("MAX_SLIPPAGE_BPS", "wide"),
        ("ORDER_RETENTION_DAYS", "thirty"),
        ("ORDER_RETENTION_DAYS", "30d"),
        ("ORDER_RETENTION_MAX", "nan"),
        ("ORDER_RETENTION_MAX", "1e5"),
        ("ORDER_RETENTION_MAX", "many"),
    ],
)
def test_a_value_that_is_not_a_number_gets_a_plain_message(var: str, raw: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({var: raw})
    message = str(caught.value)
    assert message.startswith(f"environment variable {var}={raw!r} is not ")
    assert "<class" not in message and "Conversion" not in message


def test_the_same_checks_apply_to_settings_built_in_code() -> None:
    with pytest.raises(ConfigError, match="TICK_LOOP_SEC"):
        Settings(tick_loop_sec=float("nan"))
    with pytest.raises(ConfigError, match="COMMISSION"):
        Settings(commission=Decimal("Infinity"))
    with pytest.raises(ConfigError, match="SETTLE_BATCH"):
        Settings(settle_batch=True)  # a bool is not a count
    with pytest.raises(ConfigError, match="FILL_MODEL"):
        Settings(fill_model="Book ")

    for days in (0, -1, float("nan"), Decimal("NaN"), "30"):
        with pytest.raises(ConfigError, match="ORDER_RETENTION_DAYS"):
            Settings(order_retention_days=days)  # type: ignore[arg-type]
    for most in (0, -1, float("nan"), 1.5, "10"):
        with pytest.raises(ConfigError, match="ORDER_RETENTION_MAX"):
            Settings(order_retention_max=most)  # type: ignore[arg-type]


def test_the_fill_model_is_read_from_the_environment() -> None:
    assert Settings.from_env({}).fill_model == "touch" and not Settings.from_env({}).book_fills
    assert Settings.from_env({"FILL_MODEL": "BOOK", "MAX_SLIPPAGE_BPS": "25.5"}).book_fills
    assert Settings.from_env({"MAX_SLIPPAGE_BPS": "0"}).max_slippage_bps == 0


@pytest.mark.parametrize("url", ["http://x", "x", "ftp://host/0", "redis://host:notaport/0"])
def test_a_redis_url_the_client_cannot_use_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"REDIS_URL": url})
    assert caught.value.variable == "REDIS_URL"


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/0", "rediss://host:6380", "unix:///tmp/v.sock"])
def test_usable_redis_urls_pass(url: str) -> None:
    assert Settings.from_env({"REDIS_URL": url}).redis_url == url


def test_the_bounds_are_valid_and_documented() -> None:
    """Every numeric setting has a range, and its line in the configuration table states it."""
    hints = typing.get_type_hints(Settings)
    numeric = {
        f.name
        for f in dataclasses.fields(Settings)
        if any(kind in str(hints[f.name]) for kind in ("int", "float", "Decimal")) and f.name != "test_env"
    }
    assert numeric == set(RANGES)
    docs = {name: doc for _var, (name, doc) in ENV_VARS.items()}
    for name, bounds in RANGES.items():
        assert bounds.describe() in docs[name], name
        if bounds.low_open:  # anything above the low end is accepted, the low end itself is not
            Settings(**{name: bounds.low + Decimal("0.000001")})
            with pytest.raises(ConfigError):
                Settings(**{name: bounds.low})
        else:
            Settings(**{name: bounds.low})  # the lowest value is accepted
        if not bounds.high_open:
            Settings(**{name: bounds.high})


def test_the_defaults_are_in_range() -> None:
    Settings()
    Settings.from_env({})
