"""What a dialect endpoint works with: the engine of the caller's account, reached only through the route table,
and the map from Binance's symbol ids (``BTCUSDT``) to the engine's symbols (``BTC/USDT``)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from ..engine import Engine
from ..errors import MockExchangeError
from ..routes import Call, dispatch
from . import errors as e
from .shapes import market_id

Overrides = dict[str, e.Mapping]


class SymbolIndex:
    """Binance id -> engine symbol, learned from the markets route.

    An id seen once keeps its symbol (the engine still refuses it if its feed stops pricing it); an unknown id
    makes one fresh read of the markets. Two markets with one id (``AB/C`` and ``A/BC``) are left out: neither
    can be named in Binance's dialect.
    """

    def __init__(self) -> None:
        self._known: dict[str, str] = {}
        self._lock = threading.Lock()

    def learn(self, markets: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The markets that have an id of their own, remembering each id."""
        by_id: dict[str, list[dict[str, Any]]] = {}
        for market in markets:
            by_id.setdefault(market_id(market["symbol"]), []).append(market)
        unique = {mid: found[0] for mid, found in by_id.items() if len(found) == 1}
        with self._lock:
            self._known.update((mid, market["symbol"]) for mid, market in unique.items())
        return sorted(unique.values(), key=lambda market: market_id(market["symbol"]))

    def known(self, binance_id: str) -> str | None:
        return self._known.get(binance_id)


@dataclass
class Context:
    """The engine (the account's view), the symbol index, and the account calls name (None: the engine's own;
    an unknown one is refused by ``routes.dispatch``)."""

    engine: Engine
    symbols: SymbolIndex
    account: str | None = None

    def call(
        self, route: str, *, path: Any = None, query: Any = None, body: Any = None, on: Overrides | None = None
    ) -> Any:
        """One route of the table; an engine error comes back as Binance's (``on`` changes the mapping)."""
        try:
            return dispatch(self.engine, Call(route, path or {}, query or {}, body, self.account))
        except MockExchangeError as exc:
            raise e.from_engine(exc, on) from None

    def markets(self) -> list[dict[str, Any]]:
        """Every market with a Binance id, ordered by id."""
        return self.symbols.learn(self.call("markets"))

    def symbol(self, binance_id: str) -> str:
        """The engine symbol of a Binance id, or -1121 Invalid symbol."""
        found = self.symbols.known(binance_id)
        if found is None:
            self.markets()
            found = self.symbols.known(binance_id)
        if found is None:
            raise e.invalid_symbol()
        return found

    def now_ms(self) -> int:
        return int(self.call("time")["serverTime"])
