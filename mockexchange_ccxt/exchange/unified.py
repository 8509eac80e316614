"""Every unified method, written once as a generator for both ``MockExchange`` and ``AsyncMockExchange``.

A method yields a ``routes.Call`` wherever it needs the engine and receives the answer; the sync class drives
the generator with plain calls, the async class with awaits (see ``run_sync``/``run_async`` in sync.py and
aio.py). So the logic of a method exists once, and only the transport under it differs.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ccxt.base.errors import NotSupported, OrderNotFound

from ..routes import Call
from .order_params import order_body, refuse_unknown, spot_only
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
    "create_market_order_with_cost",
    "create_market_buy_order_with_cost",
    "create_market_sell_order_with_cost",
    "edit_order",
    "cancel_order",
    "cancel_orders",
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
    in_process: Any  # the in-process transport, or None over HTTP (``base.MockExchangeBase``)

    # -- markets ---------------------------------------------------------------------------------------------

    def _g_fetch_markets(self, params: dict[str, Any] = {}) -> Steps:
        spot_only(params, "fetchMarkets")
        raw = yield Call("markets")
        return [self.parse_market(market) for market in raw]

    def _g_load_markets(self, reload: bool = False, params: dict[str, Any] = {}) -> Steps:
        """Markets, and ``fees['trading']`` as the venue charges them (over HTTP, the server's rates)."""
        spot_only(params, "loadMarkets")
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
        spot_only(params, "fetchTicker")
        return self.parse_ticker((yield Call("ticker", path={"symbol": symbol})))

    def _g_fetch_tickers(self, symbols: list[str] | None = None, params: dict[str, Any] = {}) -> Steps:
        """Tickers of ``symbols`` (BadSymbol for one not among the markets, as ccxt's exchanges say), or of every
        priced symbol."""
        spot_only(params, "fetchTickers")
        for symbol in symbols or ():
            yield from self._g_market(symbol)
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
        path, query = {"symbol": symbol}, {k: v for k, v in query.items() if v is not None}
        raw = yield Call("ohlcv", path, query, floats=True)
        if self.in_process is not None:  # the engine built the floats ccxt's rows carry, straight from its records
            return raw
        return [self.parse_ohlcv(row) for row in raw]

    # -- balance and fees ------------------------------------------------------------------------------------

    def _g_fetch_balance(self, params: dict[str, Any] = {}) -> Steps:
        """Every funded asset, and a zero row for each other currency of the markets: Binance's account lists
        every asset, so a bot may read ``balance[base]['free']`` before it ever held any."""
        spot_only(params, "fetchBalance")
        markets = yield from self._g_load_markets()
        listed = {market[side] for market in markets.values() for side in ("base", "quote")}
        return self.parse_balance((yield Call("balance")), sorted(listed))

    def _g_fetch_trading_fee(self, symbol: str, params: dict[str, Any] = {}) -> Steps:
        spot_only(params, "fetchTradingFee")
        market = yield from self._g_market(symbol)
        return self.parse_trading_fee(market)

    def _g_fetch_trading_fees(self, params: dict[str, Any] = {}) -> Steps:
        spot_only(params, "fetchTradingFees")
        markets = yield from self._g_load_markets(True)
        return {symbol: self.parse_trading_fee(market) for symbol, market in markets.items()}

    # -- orders ----------------------------------------------------------------------------------------------

    def _g_create_order(
        self,
        symbol: str,
        type: str,
        side: str,
        amount: float | None,
        price: float | None = None,
        params: dict[str, Any] = {},
    ) -> Steps:
        """Like any ccxt exchange: amount and prices are rounded to the market's precision before sending; the
        engine re-checks them exactly. ``params``: ``clientOrderId`` (or ``newClientOrderId``), ``timeInForce``
        (GTC, IOC, FOK, PO), ``postOnly``, ``reduceOnly`` (false only), ``triggerPrice`` (or ``stopPrice``),
        ``stopLossPrice``, ``takeProfitPrice``, ``cost`` (or ``quoteOrderQty``, market orders); anything else
        raises NotSupported. Types: market, limit, limit_maker, stop_loss(_limit), take_profit(_limit)."""
        markets = self.markets
        market = markets.get(symbol) if markets else None
        if market is None:  # (a known symbol is looked up once, here; ccxt's market() says the same)
            market = yield from self._g_market(symbol)
        body = order_body(self, market, type, side, amount, price, params)
        return self.parse_order((yield Call("create_order", body=body)), market)

    def _g_create_market_order_with_cost(
        self, symbol: str, side: str, cost: float, params: dict[str, Any] = {}
    ) -> Steps:
        """A market order trading ``cost`` of the quote currency: a buy gets what that buys at the ask, a sell
        gives what brings in at most that at the bid (whole steps of the market's amount precision)."""
        return (yield from self._g_create_order(symbol, "market", side, None, None, {**params, "cost": cost}))

    def _g_create_market_buy_order_with_cost(self, symbol: str, cost: float, params: dict[str, Any] = {}) -> Steps:
        return (yield from self._g_create_market_order_with_cost(symbol, "buy", cost, params))

    def _g_create_market_sell_order_with_cost(self, symbol: str, cost: float, params: dict[str, Any] = {}) -> Steps:
        return (yield from self._g_create_market_order_with_cost(symbol, "sell", cost, params))

    def _g_edit_order(
        self,
        id: str,
        symbol: str,
        type: str,
        side: str,
        amount: float | None = None,
        price: float | None = None,
        params: dict[str, Any] = {},
    ) -> Steps:
        """Not supported: ccxt's fallback (cancel, then create) is not atomic, so it is refused, not emulated."""
        raise NotSupported("mockexchange editOrder() is not supported: cancel the order and create a new one")
        yield  # a generator like the others

    def _g_cancel_order(self, id: str, symbol: str | None = None, params: dict[str, Any] = {}) -> Steps:
        """With ``symbol``, only an order of that symbol (OrderNotFound for another's, as on an exchange)."""
        refuse_unknown(params, (), "cancelOrder")
        body = yield from self._g_only_of(symbol)
        return self.parse_order((yield Call("cancel_order", path={"oid": id}, body=body)))

    def _g_cancel_orders(self, ids: list[str], symbol: str | None = None, params: dict[str, Any] = {}) -> Steps:
        """All or nothing: if one order is unknown or no longer open (or not of ``symbol``), none is canceled."""
        refuse_unknown(params, (), "cancelOrders")
        body = yield from self._g_only_of(symbol)
        raw = yield Call("cancel_orders", body={"ids": [str(order_id) for order_id in ids], **body})
        return [self.parse_order(order) for order in raw]

    def _g_only_of(self, symbol: str | None) -> Steps:
        """The ``symbol`` field of a call about orders: none, or a symbol among the markets (BadSymbol
        otherwise, as ccxt's exchanges check it with ``market()`` before they ask)."""
        if symbol is None:
            return {}
        yield from self._g_market(symbol)
        return {"symbol": symbol}

    def _g_cancel_all_orders(self, symbol: str | None = None, params: dict[str, Any] = {}) -> Steps:
        """Every open order (of ``symbol``), each symbol's canceled at once; orders that ended meanwhile are
        not among them."""
        refuse_unknown(params, (), "cancelAllOrders")
        body = yield from self._g_only_of(symbol)
        raw = yield Call("cancel_all_orders", body=body)
        return [self.parse_order(order) for order in raw]

    def _g_fetch_order(self, id: str, symbol: str | None = None, params: dict[str, Any] = {}) -> Steps:
        """By id, or by ``params['clientOrderId']`` with the id empty (as ccxt's exchanges take it); given both,
        they must name the same order."""
        refuse_unknown(params, ("clientOrderId",), "fetchOrder")
        client_order_id = params.get("clientOrderId")
        query = yield from self._g_only_of(symbol)
        if client_order_id is None:
            return self.parse_order((yield Call("order", path={"oid": id}, query=query)))
        raw = yield Call("order_by_client_id", query={"clientOrderId": client_order_id, **query})
        if id and str(id) != raw["id"]:
            raise OrderNotFound(f"mockexchange order {id} does not have clientOrderId {client_order_id}"[:200])
        return self.parse_order(raw)

    def _g_fetch_orders(
        self,
        symbol: str | None = None,
        since: int | None = None,
        limit: int | None = None,
        params: dict[str, Any] = {},
    ) -> Steps:
        """Orders oldest first: with ``since`` the first ``limit`` placed at or after it, else the newest
        ``limit``; ``params['status']`` filters (open, closed, canceled)."""
        refuse_unknown(params, ("status",), "fetchOrders")
        yield from self._g_only_of(symbol)
        query = {"symbol": symbol, "status": params.get("status"), "since": since, "limit": limit}
        raw = yield Call("orders", query={k: v for k, v in query.items() if v is not None})
        return [self.parse_order(order) for order in raw]

    def _g_fetch_open_orders(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None, params: dict[str, Any] = {}
    ) -> Steps:
        refuse_unknown(params, (), "fetchOpenOrders")
        return (yield from self._g_fetch_orders(symbol, since, limit, {"status": "open"}))

    def _g_fetch_closed_orders(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None, params: dict[str, Any] = {}
    ) -> Steps:
        """As on other ccxt exchanges, closed means no longer open: filled or canceled."""
        refuse_unknown(params, (), "fetchClosedOrders")
        orders = yield from self._g_fetch_orders(symbol, since)
        ended = [order for order in orders if order["status"] != "open"]
        return self.filter_by_since_limit(ended, since, limit)  # type: ignore[attr-defined]

    def _g_fetch_canceled_orders(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None, params: dict[str, Any] = {}
    ) -> Steps:
        refuse_unknown(params, (), "fetchCanceledOrders")
        return (yield from self._g_fetch_orders(symbol, since, limit, {"status": "canceled"}))

    # -- trades ----------------------------------------------------------------------------------------------

    def _g_fetch_my_trades(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None, params: dict[str, Any] = {}
    ) -> Steps:
        """Trades oldest first: with ``since`` the first ``limit`` at or after it, else the newest ``limit``."""
        refuse_unknown(params, (), "fetchMyTrades")
        yield from self._g_only_of(symbol)
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
        refuse_unknown(params, (), "fetchOrderTrades")
        raw = yield Call("order_trades", path={"oid": id})
        return self.filter_by_since_limit([self.parse_trade(t) for t in raw], since, limit)  # type: ignore[attr-defined]

    # -- venue -----------------------------------------------------------------------------------------------

    def _g_fetch_time(self, params: dict[str, Any] = {}) -> Steps:
        spot_only(params, "fetchTime")
        return int((yield Call("time"))["serverTime"])

    def _g_fetch_status(self, params: dict[str, Any] = {}) -> Steps:
        spot_only(params, "fetchStatus")
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
