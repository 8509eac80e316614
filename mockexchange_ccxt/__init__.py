"""mockexchange_ccxt: a zero-risk spot exchange for ccxt bots, with state in Valkey.

Public API: ``MockExchange`` / ``AsyncMockExchange`` (ccxt drop-ins), ``Engine`` (the exchange itself),
``Settings`` (configuration), ``ReplayClock`` (back-test time) and the errors in ``mockexchange_ccxt.errors``.
"""

from typing import TYPE_CHECKING, Any

from .config import Settings
from .engine import Engine, ReplayClock

if TYPE_CHECKING:
    from .exchange.aio import AsyncMockExchange
    from .exchange.sync import MockExchange


def register() -> None:
    """Make ``mockexchange`` known to ``ccxt``, ``ccxt.async_support`` and ``ccxt.pro`` by name, the way tools
    that look exchanges up by name expect (``getattr(ccxt, "mockexchange")``, listed in ``exchanges``), as
    freqtrade does. Explicit and idempotent; never done on import; it shadows no real exchange."""
    import ccxt
    import ccxt.async_support

    from .exchange.aio import AsyncMockExchange
    from .exchange.sync import MockExchange

    modules: list[tuple[Any, type]] = [(ccxt, MockExchange), (ccxt.async_support, AsyncMockExchange)]
    try:
        import ccxt.pro

        modules.append((ccxt.pro, AsyncMockExchange))
    except ImportError:  # pragma: no cover - ccxt without its pro part
        pass
    for module, cls in modules:
        module.mockexchange = cls
        if "mockexchange" not in module.exchanges:
            module.exchanges.append("mockexchange")


def __getattr__(name: str) -> Any:
    """The ccxt classes load on first use: importing ccxt (and aiohttp for the async one) takes a while, and
    engine-only users (back-tests, the server) need neither."""
    if name == "MockExchange":
        from .exchange.sync import MockExchange

        return MockExchange
    if name == "AsyncMockExchange":
        from .exchange.aio import AsyncMockExchange

        return AsyncMockExchange
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["AsyncMockExchange", "Engine", "MockExchange", "ReplayClock", "Settings", "register"]
__version__ = "0.1.0"
