"""Settings: every knob of the project, and the one place that reads environment variables.

Each field has a documented environment variable (see ``ENV_VARS``) so that the engine, the server, the CLI
and the ccxt class all configure themselves the same way.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

#: The seed's default API key; it is a placeholder and never authenticates.
PLACEHOLDER_API_KEY = "invalid-key"

#: environment variable -> (Settings field, one-line description). The README's table is checked against it.
ENV_VARS: dict[str, tuple[str, str]] = {
    "REDIS_URL": ("redis_url", "Valkey/Redis URL; unset means a private embedded valkey-server"),
    "COMMISSION": ("commission", "flat fee rate on every fill, charged in the quote currency (0.001)"),
    "MAKER_COMMISSION": ("maker_commission", "fee rate for resting limit orders (defaults to COMMISSION)"),
    "TAKER_COMMISSION": ("taker_commission", "fee rate for market and marketable orders (defaults to COMMISSION)"),
    "TICK_LOOP_SEC": ("tick_loop_sec", "seconds between settlement passes over outside price writes (10)"),
    "TEST_ENV": ("test_env", "true turns off API-key auth and turns on /docs"),
    "API_KEY": ("api_key", "the key clients send as x-api-key"),
    "KEY_PREFIX": ("key_prefix", "prefix of every key the engine owns ('mockx:')"),
    "PRICE_KEY_PREFIX": ("price_key_prefix", "prefix of the price-feed hashes ('sym_')"),
    "ACCOUNT": ("account", "account name; also the Valkey Cluster hash tag of its keys ('main')"),
    "MOCKX_DATA_DIR": ("data_dir", "data directory of the embedded Valkey (a per-user directory)"),
    "SETTLE_BATCH": ("settle_batch", "orders filled per settlement script call, so no call blocks long (500)"),
    "HISTORY_DAYS": ("history_days", "days of price history (1m and 1h candles) kept per symbol, 1 to 3650 (30)"),
    "BOOK_LEVELS": ("book_levels", "levels per side of the synthetic order book, 1 to 1000 (20)"),
    "BOOK_STEP_BPS": ("book_step_bps", "gap between synthetic book levels in basis points, (0, 1000] (10)"),
    "BOOK_LEVEL_NOTIONAL": ("book_level_notional", "quote-currency value of each synthetic book level (10000)"),
}

#: Settings fields read as integers and as exact decimals from the environment.
_INT_FIELDS = ("settle_batch", "history_days", "book_levels")
_DECIMAL_FIELDS = ("commission", "maker_commission", "taker_commission", "book_step_bps", "book_level_notional")


def default_data_dir() -> Path:
    """Per-user data directory for the embedded server (XDG_DATA_HOME, else ~/.local/share)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "mockexchange_ccxt" / "valkey"


@dataclass(frozen=True)
class Settings:
    """Immutable configuration shared by every face of the project."""

    redis_url: str | None = None
    commission: Decimal = Decimal("0.001")
    maker_commission: Decimal | None = None
    taker_commission: Decimal | None = None
    tick_loop_sec: float = 10.0
    test_env: bool = False
    api_key: str = PLACEHOLDER_API_KEY
    key_prefix: str = "mockx:"
    price_key_prefix: str = "sym_"
    account: str = "main"
    data_dir: Path = field(default_factory=default_data_dir)
    settle_batch: int = 500
    history_days: int = 30
    book_levels: int = 20
    book_step_bps: Decimal = Decimal(10)
    book_level_notional: Decimal = Decimal(10000)

    def __post_init__(self) -> None:
        for name in ("commission", "maker_commission", "taker_commission"):
            rate = getattr(self, name)
            if rate is not None and not (rate.is_finite() and Decimal(0) <= rate < Decimal(1)):
                raise ValueError(f"{name} must be a fee rate in [0, 1), got {rate}")
        if self.tick_loop_sec <= 0:
            raise ValueError(f"tick_loop_sec must be positive, got {self.tick_loop_sec}")
        if self.settle_batch < 1:
            raise ValueError(f"settle_batch must be at least 1, got {self.settle_batch}")
        if not 1 <= self.history_days <= 3650:
            raise ValueError(f"history_days must be 1 to 3650, got {self.history_days}")
        if not 1 <= self.book_levels <= 1000:
            raise ValueError(f"book_levels must be 1 to 1000, got {self.book_levels}")
        if not (self.book_step_bps.is_finite() and 0 < self.book_step_bps <= 1000):
            raise ValueError(f"book_step_bps must be in (0, 1000], got {self.book_step_bps}")
        if not (self.book_level_notional.is_finite() and 0 < self.book_level_notional <= Decimal(10) ** 10):
            raise ValueError(f"book_level_notional must be in (0, 10^10], got {self.book_level_notional}")
        if any(c in self.account for c in "{}:"):
            raise ValueError("account may not contain '{', '}' or ':'")

    @property
    def maker_rate(self) -> Decimal:
        """Fee rate of a fill at the order's own limit price (the order rested)."""
        return self.commission if self.maker_commission is None else self.maker_commission

    @property
    def taker_rate(self) -> Decimal:
        """Fee rate of a fill on arrival (market orders and marketable limits)."""
        return self.commission if self.taker_commission is None else self.taker_commission

    @property
    def auth_required(self) -> bool:
        return not self.test_env

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with some fields replaced (values of None are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from environment variables (``ENV_VARS``); unset or empty ones keep defaults."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for var, (name, _doc) in ENV_VARS.items():
            raw = env.get(var, "").strip()
            if raw:
                values[name] = _convert(name, raw, var)
        return cls(**values)


def _convert(name: str, raw: str, var: str) -> Any:
    """Parse one environment value into the type of its Settings field."""
    try:
        if name in _DECIMAL_FIELDS:
            return Decimal(raw)
        if name == "tick_loop_sec":
            return float(raw)
        if name in _INT_FIELDS:
            return int(raw)
        if name == "test_env":
            return parse_bool(raw)
        if name == "data_dir":
            return Path(raw).expanduser()
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"environment variable {var}={raw!r} is not valid: {exc}") from None
    return raw


def parse_bool(raw: str) -> bool:
    """Accept the usual spellings of a boolean environment flag."""
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"expected true/false, got {raw!r}")
