"""The two ways a ``MockExchange`` reaches the engine, chosen by its options.

- in-process (default): ``routes.dispatch`` on an ``Engine`` in this process, on ``options['redisUrl']``,
  ``REDIS_URL`` or the embedded Valkey; engine errors become the exact ccxt exceptions. The engine's tick loop
  runs (``options['tickLoop']``, default True), so prices an outside feed writes settle here too, as they do
  in the server.
- HTTP (``options['serverUrl']``): ccxt's own pipeline, ``fetch2`` -> ``sign`` -> ``fetch`` ->
  ``handle_errors``, so timeouts, proxies, ``verbose`` and the rate limiter work as with any exchange. The
  server's settings decide there: options only an in-process engine could honour are refused.
"""

from __future__ import annotations

import atexit
import json
import threading
from decimal import Decimal
from typing import Any

from ccxt.base.errors import BadRequest, NotSupported

from ..config import Settings
from ..engine import Engine
from ..errors import MockExchangeError
from ..routes import Call, dispatch
from .describe import EXCEPTIONS_BY_CODE

_ENGINES: dict[Settings, Engine] = {}
_ENGINES_LOCK = threading.Lock()

#: ccxt option -> Settings field, for the in-process transport (everything else comes from the environment).
OPTION_FIELDS = {
    "redisUrl": "redis_url",
    "account": "account",
    "commission": "commission",
    "makerCommission": "maker_commission",
    "takerCommission": "taker_commission",
    "keyPrefix": "key_prefix",
    "priceKeyPrefix": "price_key_prefix",
    "markets": "markets_file",
    "fillModel": "fill_model",
    "maxSlippageBps": "max_slippage_bps",
}


#: Options only an engine in this process honours; with ``serverUrl`` they are refused, not ignored.
ENGINE_OPTIONS = (*OPTION_FIELDS, "tickLoop")


def refuse_engine_options(options: dict[str, Any]) -> None:
    """Over HTTP the server's settings decide: an engine option given anyway is refused (NotSupported)."""
    given = [name for name in ENGINE_OPTIONS if options.get(name) is not None]
    if given:
        raise NotSupported(
            f"mockexchange options {', '.join(given)} apply in process only; with serverUrl the server's"
            " settings decide (set them where it runs)"
        )


def tick_loop_option(options: dict[str, Any]) -> bool:
    """``options['tickLoop']``: True (the default) settles outside price writes in this process."""
    value = options.get("tickLoop")
    if value is None:
        return True
    if not isinstance(value, bool):
        raise BadRequest(f"mockexchange options['tickLoop'] must be True or False, got {value!r}")
    return value


def settings_from_options(options: dict[str, Any]) -> Settings:
    """The environment's settings with the exchange's ``options`` on top."""
    overrides: dict[str, Any] = {}
    for option, name in OPTION_FIELDS.items():
        value = options.get(option)
        if value is None:
            continue
        if name.endswith("commission") or name == "max_slippage_bps":
            value = Decimal(str(value))
        elif name == "markets_file" and isinstance(value, dict):  # the rules themselves: kept as JSON text
            value = json.dumps(value, sort_keys=True, default=str)
        overrides[name] = value
    return Settings.from_env().with_overrides(**overrides)


def shared_engine(settings: Settings) -> Engine:
    """One engine per configuration per process, shared by every exchange instance that uses it (an embedded
    Valkey is started once, and stopped at exit)."""
    with _ENGINES_LOCK:
        engine = _ENGINES.get(settings)
        if engine is None:
            engine = _ENGINES[settings] = Engine(settings)
            atexit.register(engine.close)
        return engine


class InProcess:
    """Serves calls from an engine in this process, made on first use: constructing an exchange touches no
    Valkey (tools such as freqtrade build one with no arguments just to look at it). ``tick_loop`` starts the
    engine's tick loop then (shared by every exchange on that engine, stopped by ``engine.stop_tick_loop()`` or
    at exit)."""

    def __init__(self, settings: Settings, tick_loop: bool = True) -> None:
        self.settings = settings
        self.tick_loop = tick_loop
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = shared_engine(self.settings)
            if self.tick_loop:
                self._engine.start_tick_loop()
        return self._engine

    def perform(self, call: Call) -> Any:
        try:
            return dispatch(self.engine, call)
        except MockExchangeError as exc:
            raise as_ccxt_error(exc.code, exc.message) from None


def as_ccxt_error(code: str | None, message: str) -> Exception:
    """The exact ccxt exception for an engine/REST error code (ExchangeError when the code is unknown)."""
    return EXCEPTIONS_BY_CODE.get(code or "", EXCEPTIONS_BY_CODE["INTERNAL"])(f"mockexchange {message}")


def raise_for_error_body(response: Any) -> None:
    """Raise the exact ccxt exception for a REST error body ``{"error": {"code", "message"}}``."""
    if isinstance(response, dict) and isinstance(response.get("error"), dict):
        error = response["error"]
        raise as_ccxt_error(str(error.get("code")), str(error.get("message")))
