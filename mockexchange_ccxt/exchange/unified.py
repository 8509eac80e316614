"""Every unified method, written once as a generator for both ``MockExchange`` and ``AsyncMockExchange``.

A method yields a ``routes.Call`` wherever it needs the engine and receives the answer; the sync class drives
the generator with plain calls, the async class with awaits (see ``run_sync``/``run_async`` in sync.py and
aio.py). So the logic of a method exists once, and only the transport under it differs.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ccxt.base.errors import NotSupported

from ..routes import Call
from .parsers import ParsersMixin, num

Steps = Generator[Call, Any, Any]

#: Names of the unified and mock-only methods that are generators here (``_g_<name>``).
GENERATOR_METHODS = (
    "load_markets",
    "fetch_markets",
    "fetch_ticker",
    "fetch_tickers",
    "fetch_order_book",
    "fetch_ohlcv",
    "fetch_balance",
    "create_order",
    "cancel_order",
    "cancel_all_orders",
    "fetch_order",
    "fetch_orders",
    "fetch_open_orders",
    "fetch_closed_orders",
    "fetch_canceled_orders",
    "fetch_my_trades",
    "fetch_order_trades",
    "fetch_trading_fee",
    "fetch_trading_fees",
    "fetch_time",
    "fetch_status",
    "fund",
    "set_price",
    "edit_balance",
    "reset",
)

# ccxt's default ``params={}`` is part of its public signatures; the generators never mutate it.
# ruff: noqa: B006


class UnifiedMixin(ParsersMixin):
    """The unified methods as generators; ``self`` is also a ccxt ``Exchange`` (sync or async)."""

    markets: dict[str, Any] | None

    # -- markets ---------------------------------------------------------------------------------------------

    def _g_fetch_markets(self, params: dict[str, Any] = {}) -> Steps:
        raw = yield Call("markets")
        return [self.parse_market(market) for market in raw]

    def _g_load_markets(self, reload: bool = False, params: dict[str, Any] = {}) -> Steps:
        """Markets, and ``fees['trading']`` as the venue charges them (over HTTP, the server's rates)."""
        if self.markets and not reload:
            return self.markets
        markets = yield from self._g_fetch_markets(params)
        rates = yield Call("fees")
        self.fees["trading"].update(maker=num(rates["maker"]), taker=num(rates["taker"]))  # type: ignore[attr-defined]
        return self.set_markets(markets)  # type: ignore[attr-defined]

    def _g_market(self, symbol: str) -> Steps:
        """The market of a symbol, reloading once if the feed started pricing it after the last load."""
        if not self.markets or symbol not in self.markets:
            yield from self._g_load_markets(True)
        return self.market(symbol)  # type: ignore[attr-defined]

    def _g_fetch_ticker(self, symbol: str, params: dict[str, Any] = {}) -> Steps:
        return self.parse_ticker((yield Call("ticker", path={"symbol": symbol})))

    def _g_fetch_tickers(self, symbols: list[str] | None = None, params: dict[str, Any] = {}) -> Steps:
        query = {"symbols": ",".join(symbols)} if symbols else {}
        raw = yield Call("tickers", query=query)
        return {symbol: self.parse_ticker(ticker) for symbol, ticker in raw.items()}

    def _g_fetch_order_book(self, symbol: str, limit: int | None = None, params: dict[str, Any] = {}) -> Steps:
        """The feed's depth, or a synthetic book that says so in ``info['synthetic']``."""
        _no_params("fetch_order_book", params)
        query = {} if limit is None else {"limit": limit}
        raw = yield Call("order_book", path={"symbol": symbol}, query=query)
        return self.parse_book(raw)

    def _g_fetch_ohlcv(
        self,
        symbol: str,
        timeframe: str = "1m",
        since: int | None = None,
        limit: int | None = None,
        params: dict[str, Any] = {},
    ) -> Steps:
        """Candles oldest first, from ``since`` (inclusive) or the newest; ``limit`` 500 by default, 1000 at most."""
        _no_params("fetch_ohlcv", params)
        query = {"timeframe": timeframe, "since": since, "limit": limit}
        raw = yield Call("ohlcv", path={"symbol": symbol}, query={k: v for k, v in query.items() if v is not None})
        return [self.parse_ohlcv(row) for row in raw]

    # -- balance and fees ------------------------------------------------------------------------------------

    def _g_fetch_balance(self, params: dict[str, Any] = {}) -> Steps:
        return self.parse_balance((yield Call("balance")))

    def _g_fetch_trading_fee(self, symbol: str, params: dict[str, Any] = {}) -> Steps:
        market = yield from self._g_market(symbol)
        return self.parse_trading_fee(market)

    def _g_fetch_trading_fees(self, params: dict[str, Any] = {}) -> Steps:
        markets = yield from self._g_load_markets(True)
        return {symbol: self.parse_trading_fee(market) for symbol, market in markets.items()}

    # -- orders ----------------------------------------------------------------------------------------------

    def _g_create_order(
        self,
        symbol: str,
        type: str,
        side: str,
        amount: float,
        price: float | None = None,
        params: dict[str, Any] = {},
    ) -> Steps:
        """Like any ccxt exchange: amount and price are rounded to the market's precision before sending;
        the engine re-checks them exactly. ``params['clientOrderId']`` (or ``newClientOrderId``) is kept."""
        market = yield from self._g_market(symbol)
        body: dict[str, Any] = {
            "symbol": market["symbol"],
            "side": side,
            "type": type,
            "amount": self.amount_to_precision(symbol, amount),  # type: ignore[attr-defined]
        }
        if type == "limit" and price is not None:
            body["price"] = self.price_to_precision(symbol, price)  # type: ignore[attr-defined]
        client_order_id = params.get("clientOrderId", params.get("newClientOrderId"))
        if client_order_id is not None:
            body["clientOrderId"] = client_order_id
        return self.parse_order((yield Call("create_order", body=body)), market)

    def _g_cancel_order(self, id: str, symbol: str | None = None, params: dict[str, Any] = {}) -> Steps:
        return self.parse_order((yield Call("cancel_order", path={"oid": id}, body={})))

    def _g_cancel_all_orders(self, symbol: str | None = None, params: dict[str, Any] = {}) -> Steps:
        open_orders = yield from self._g_fetch_open_orders(symbol)
        canceled = []
        for order in open_orders:
            canceled.append(self.parse_order((yield Call("cancel_order", path={"oid": order["id"]}, body={}))))
        return canceled

    def _g_fetch_order(self, id: str, symbol: str | None = None, params: dict[str, Any] = {}) -> Steps:
        return self.parse_order((yield Call("order", path={"oid": id})))

    def _g_fetch_orders(
        self,
        symbol: str | None = None,
        since: int | None = None,
        limit: int | None = None,
        params: dict[str, Any] = {},
    ) -> Steps:
        """Orders oldest first; ``params['status']`` filters (open, closed, canceled)."""
        query = {"symbol": symbol, "status": params.get("status")}
        raw = yield Call("orders", query={k: v for k, v in query.items() if v is not None})
        orders = [self.parse_order(order) for order in raw]
        return self.filter_by_since_limit(orders, since, limit)  # type: ignore[attr-defined]

    def _g_fetch_open_orders(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None, params: dict[str, Any] = {}
    ) -> Steps:
        return (yield from self._g_fetch_orders(symbol, since, limit, {**params, "status": "open"}))

    def _g_fetch_closed_orders(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None, params: dict[str, Any] = {}
    ) -> Steps:
        """As on other ccxt exchanges, closed means no longer open: filled or canceled."""
        orders = yield from self._g_fetch_orders(symbol, None, None, params)
        ended = [order for order in orders if order["status"] != "open"]
        return self.filter_by_since_limit(ended, since, limit)  # type: ignore[attr-defined]

    def _g_fetch_canceled_orders(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None, params: dict[str, Any] = {}
    ) -> Steps:
        return (yield from self._g_fetch_orders(symbol, since, limit, {**params, "status": "canceled"}))

    # -- trades ----------------------------------------------------------------------------------------------

    def _g_fetch_my_trades(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None, params: dict[str, Any] = {}
    ) -> Steps:
        query = {"symbol": symbol, "since": since, "limit": limit}
        raw = yield Call("trades", query={k: v for k, v in query.items() if v is not None})
        return [self.parse_trade(trade) for trade in raw]

    def _g_fetch_order_trades(
        self,
        id: str,
        symbol: str | None = None,
        since: int | None = None,
        limit: int | None = None,
        params: dict[str, Any] = {},
    ) -> Steps:
        raw = yield Call("order_trades", path={"oid": id})
        return self.filter_by_since_limit([self.parse_trade(t) for t in raw], since, limit)  # type: ignore[attr-defined]

    # -- venue -----------------------------------------------------------------------------------------------

    def _g_fetch_time(self, params: dict[str, Any] = {}) -> Steps:
        return int((yield Call("time"))["serverTime"])

    def _g_fetch_status(self, params: dict[str, Any] = {}) -> Steps:
        raw = yield Call("status")
        return {"status": raw["status"], "updated": raw["updated"], "eta": None, "url": None, "info": raw}

    # -- mock-only test controls -----------------------------------------------------------------------------

    def _g_fund(self, asset: str, amount: Any) -> Steps:
        """Mock only: deposit ``amount`` of ``asset``; returns the asset's balance."""
        raw = yield Call("fund", body={"asset": asset, "amount": _exact(amount)})
        return {key: num(raw[key]) for key in ("free", "used", "total")}

    def _g_edit_balance(self, asset: str, free: Any = None, used: Any = None) -> Steps:
        """Mock only: set the free and/or used balance of an asset."""
        body = {"asset": asset, "free": _exact(free), "used": _exact(used)}
        raw = yield Call("edit_balance", body={k: v for k, v in body.items() if v is not None})
        return {key: num(raw[key]) for key in ("free", "used", "total")}

    def _g_set_price(
        self,
        symbol: str,
        price: Any,
        timestamp: int | None = None,
        bid: Any = None,
        ask: Any = None,
        volume: Any = None,
        bids: Any = None,
        asks: Any = None,
    ) -> Steps:
        """Mock only: publish a price (with the base ``volume`` traded since the previous one, and depth
        ``bids``/``asks``), record it in history and settle the symbol at once; returns the orders filled."""
        body = {
            "symbol": symbol,
            "price": _exact(price),
            "timestamp": timestamp,
            "bid": _exact(bid),
            "ask": _exact(ask),
            "volume": _exact(volume),
            "bids": _exact_levels(bids),
            "asks": _exact_levels(asks),
        }
        raw = yield Call("set_price", body={k: v for k, v in body.items() if v is not None})
        return int(raw["filled"])

    def _g_reset(self) -> Steps:
        """Mock only: wipe balances and orders (prices stay)."""
        yield Call("reset", body={})
        return None


def _exact(value: Any) -> Any:
    """Floats travel as their shortest decimal text, so 0.1 arrives as exactly 0.1."""
    return repr(value) if isinstance(value, float) else value


def _exact_levels(levels: Any) -> Any:
    if not isinstance(levels, list | tuple):
        return levels
    return [[_exact(x) for x in level] if isinstance(level, list | tuple) else level for level in levels]


def _no_params(method: str, params: dict[str, Any]) -> None:
    """Parameters the mock does not implement are refused, never silently dropped."""
    if params:
        raise NotSupported(f"mockexchange {method} takes no params, got {', '.join(map(str, params))[:120]}")
