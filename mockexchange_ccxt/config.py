"""Settings: every knob of the project, and the one place that reads environment variables.

Each field has a documented environment variable (see ``ENV_VARS``) so that the engine, the server, the CLI
and the ccxt class all configure themselves the same way.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .keys import ACCOUNT_NAME

#: The seed's default API key; it is a placeholder and never authenticates.
PLACEHOLDER_API_KEY = "invalid-key"


class ConfigError(ValueError):
    """A setting that cannot be used (not a number, out of its range, a URL no client speaks, a data directory
    that cannot be written); ``variable`` is the environment variable that sets it. The CLI exits with 2."""

    code = "CONFIG"

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(message)
        self.variable = variable


Number = int | float | Decimal


@dataclass(frozen=True)
class Bounds:
    """The documented range of a numeric setting: finite, at least ``low`` (or above it), at most ``high`` (or
    below it)."""

    low: Number
    high: Number
    high_open: bool = False
    low_open: bool = False

    def holds(self, value: Number) -> bool:
        if not (value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)):
            return False
        above = self.low < value if self.low_open else self.low <= value
        return above and (value < self.high if self.high_open else value <= self.high)

    def describe(self) -> str:
        if self.low_open:
            return f"above {self.low} up to {self.high}"
        return f"from {self.low} to below {self.high}" if self.high_open else f"{self.low} to {self.high}"


#: Settings field -> its range. Every numeric setting has one (a test checks), and its line in ``ENV_VARS``
#: states it: a NaN or infinite interval would busy-loop or kill the tick thread, a huge batch block Valkey.
RANGES: dict[str, Bounds] = {
    "commission": Bounds(Decimal(0), Decimal(1), high_open=True),
    "maker_commission": Bounds(Decimal(0), Decimal(1), high_open=True),
    "taker_commission": Bounds(Decimal(0), Decimal(1), high_open=True),
    "tick_loop_sec": Bounds(0.001, 86400),
    "settle_batch": Bounds(1, 100_000),
    "history_days": Bounds(1, 3650),
    "book_levels": Bounds(1, 1000),
    "book_step_bps": Bounds(Decimal("0.01"), Decimal(1000)),
    "book_level_notional": Bounds(Decimal("0.01"), Decimal(10) ** 10),
    "max_slippage_bps": Bounds(Decimal(0), Decimal(10000)),
    "order_retention_days": Bounds(Decimal(0), Decimal(36500), low_open=True),
    "order_retention_max": Bounds(1, 10**12),
}
#: The fill models (``FILL_MODEL``): ``touch`` fills any size at the touch, ``book`` walks the book's depth.
FILL_MODELS = ("touch", "book")
_RATE = RANGES["commission"].describe()

#: environment variable -> (Settings field, one-line description). The README's table is checked against it.
ENV_VARS: dict[str, tuple[str, str]] = {
    "REDIS_URL": ("redis_url", "Valkey/Redis URL; unset means a private embedded valkey-server"),
    "COMMISSION": ("commission", f"flat fee rate on every fill, charged in the quote currency (0.001; {_RATE})"),
    "MAKER_COMMISSION": ("maker_commission", f"fee rate for resting limit orders (defaults to COMMISSION; {_RATE})"),
    "TAKER_COMMISSION": (
        "taker_commission",
        f"fee rate for market and marketable orders (defaults to COMMISSION; {_RATE})",
    ),
    "TICK_LOOP_SEC": (
        "tick_loop_sec",
        f"seconds between settlement passes over outside price writes (10; {RANGES['tick_loop_sec'].describe()})",
    ),
    "TEST_ENV": ("test_env", "true turns off API-key auth and turns on /docs"),
    "API_KEY": ("api_key", "the admin key, also the key of the default account main (clients send x-api-key)"),
    "API_SECRET": ("api_secret", "the secret of API_KEY (signs requests of the Binance dialect)"),
    "KEY_PREFIX": ("key_prefix", "prefix of every key the engine owns ('mockx:')"),
    "PRICE_KEY_PREFIX": ("price_key_prefix", "prefix of the price-feed hashes ('sym_')"),
    "ACCOUNT": ("account", "account of the engine in process and the CLI (1-32 of A-Z a-z 0-9 _ -; 'main')"),
    "MOCKX_DATA_DIR": ("data_dir", "data directory of the embedded Valkey (a per-user directory)"),
    "SETTLE_BATCH": (
        "settle_batch",
        f"orders filled per settlement script call, so no call blocks long (500; {RANGES['settle_batch'].describe()})",
    ),
    "HISTORY_DAYS": (
        "history_days",
        f"days of price history (1m and 1h candles) kept per symbol (30; {RANGES['history_days'].describe()})",
    ),
    "BOOK_LEVELS": (
        "book_levels",
        f"levels per side of the synthetic order book (20; {RANGES['book_levels'].describe()})",
    ),
    "BOOK_STEP_BPS": (
        "book_step_bps",
        f"gap between synthetic book levels, in basis points (10; {RANGES['book_step_bps'].describe()})",
    ),
    "BOOK_LEVEL_NOTIONAL": (
        "book_level_notional",
        f"quote-currency value of each synthetic book level (10000; {RANGES['book_level_notional'].describe()})",
    ),
    "FILL_MODEL": (
        "fill_model",
        "how orders fill: touch (any size at the best bid/ask) or book (against the book's depth); 'touch'",
    ),
    "MAX_SLIPPAGE_BPS": (
        "max_slippage_bps",
        "with FILL_MODEL=book, how far (basis points, inclusive) a market order walks the book from its best level"
        f" (500; {RANGES['max_slippage_bps'].describe()})",
    ),
    "ORDER_RETENTION_DAYS": (
        "order_retention_days",
        "days a finished order (closed, canceled) and its trades are kept, in the account's own time (30;"
        f" unlimited on a ReplayClock unless set; {RANGES['order_retention_days'].describe()})",
    ),
    "ORDER_RETENTION_MAX": (
        "order_retention_max",
        "most finished orders (with their trades) kept per account, the newest (100000; unlimited on a"
        f" ReplayClock unless set; {RANGES['order_retention_max'].describe()})",
    ),
    "MARKETS_FILE": (
        "markets_file",
        "JSON file of market rules per symbol (tick, step, limits, fees, active); unset: defaults",
    ),
}

#: Settings fields read as integers and as exact decimals from the environment.
_INT_FIELDS = ("settle_batch", "history_days", "book_levels", "order_retention_max")
_DECIMAL_FIELDS = (
    "commission",
    "maker_commission",
    "taker_commission",
    "book_step_bps",
    "book_level_notional",
    "max_slippage_bps",
    "order_retention_days",
)
_VARIABLE = {name: var for var, (name, _doc) in ENV_VARS.items()}


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
    api_secret: str = ""
    key_prefix: str = "mockx:"
    price_key_prefix: str = "sym_"
    account: str = "main"
    data_dir: Path = field(default_factory=default_data_dir)
    settle_batch: int = 500
    history_days: int = 30
    book_levels: int = 20
    book_step_bps: Decimal = Decimal(10)
    book_level_notional: Decimal = Decimal(10000)
    markets_file: str | None = None  # a path, or the JSON itself (the ccxt class's options['markets'] dict)
    fill_model: str = "touch"
    max_slippage_bps: Decimal = Decimal(500)
    # None: the defaults of engine/retention.py, or no limit for an engine on a ReplayClock (a back-test)
    order_retention_days: Decimal | None = None
    order_retention_max: int | None = None

    def __post_init__(self) -> None:
        for name, bounds in RANGES.items():
            value = getattr(self, name)
            if value is None:
                continue
            counted = name in _INT_FIELDS and not isinstance(value, int)  # a count is a whole number
            if isinstance(value, bool) or not isinstance(value, Number) or counted or not bounds.holds(value):
                raise ConfigError(_VARIABLE[name], f"{_VARIABLE[name]} must be {bounds.describe()}, got {value!r}")
        if self.redis_url is not None:
            _check_redis_url(self.redis_url)
        if not ACCOUNT_NAME.fullmatch(self.account):
            message = f"account must be 1 to 32 letters, digits, '_' or '-', got {self.account[:40]!r}"
            raise ConfigError("ACCOUNT", message)
        if not isinstance(self.max_slippage_bps, Decimal):  # exact, as every bound a price is compared with
            object.__setattr__(self, "max_slippage_bps", Decimal(str(self.max_slippage_bps)))
        if self.fill_model not in FILL_MODELS:
            message = f"FILL_MODEL must be one of {', '.join(FILL_MODELS)}, got {str(self.fill_model)[:40]!r}"
            raise ConfigError("FILL_MODEL", message)
        if self.markets_file is not None:
            from .engine.rules import RulesError, load_rules  # a bad file stops whatever starts with these

            try:
                load_rules(self.markets_file)
            except RulesError as exc:
                raise ConfigError("MARKETS_FILE", str(exc)) from None

    @property
    def maker_rate(self) -> Decimal:
        """Fee rate of a fill at the order's own limit price (the order rested)."""
        return self.commission if self.maker_commission is None else self.maker_commission

    @property
    def taker_rate(self) -> Decimal:
        """Fee rate of a fill on arrival (market orders and marketable limits)."""
        return self.commission if self.taker_commission is None else self.taker_commission

    @property
    def book_fills(self) -> bool:
        """Whether orders fill against the book's depth (``FILL_MODEL=book``) rather than at the touch."""
        return self.fill_model == "book"

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


def _check_redis_url(url: str) -> None:
    """The URL must be one the Valkey client can connect with (redis://, rediss:// or unix://)."""
    from redis.connection import parse_url

    try:
        parse_url(url)  # type: ignore[no-untyped-call,unused-ignore]
    except ValueError as exc:
        raise ConfigError("REDIS_URL", f"REDIS_URL {url[:100]!r} is not usable: {exc}") from None


def _convert(name: str, raw: str, var: str) -> Any:
    """Parse one environment value into the type of its Settings field."""
    try:
        if name in _DECIMAL_FIELDS:
            return Decimal(raw)
        if name == "tick_loop_sec":
            return float(raw)
        if name in _INT_FIELDS:
            return int(raw)
    except (InvalidOperation, ValueError):
        kind = "an integer" if name in _INT_FIELDS else "a number"
        raise ConfigError(var, f"environment variable {var}={raw!r} is not {kind}") from None
    try:
        if name == "test_env":
            return parse_bool(raw)
    except ValueError as exc:
        raise ConfigError(var, f"environment variable {var}={raw!r} is not valid: {exc}") from None
    if name == "data_dir":
        return Path(raw).expanduser()
    if name == "fill_model":
        return raw.lower()
    return raw


def parse_bool(raw: str) -> bool:
    """Accept the usual spellings of a boolean environment flag."""
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"expected true/false, got {raw!r}")
