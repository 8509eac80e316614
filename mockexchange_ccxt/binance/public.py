"""Public market data (no key needed, as on Binance): ping, time, exchangeInfo, tickers, depth, klines, trades.

Each handler turns Binance's parameters into calls of the route table and the answers into Binance's shapes.
"""

from __future__ import annotations

from typing import Any

from . import errors as e
from . import shapes
from .context import Context
from .order_types import TYPES
from .params import Param, Params, boolean, long, names, one_of, symbol, symbols, up_to


def ping(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    ctx.call("status")
    return {}


def system_status(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    """``GET /sapi/v1/system/status`` (ccxt's ``fetch_status``): normal while the engine's store answers."""
    ctx.call("status")
    return {"status": 0, "msg": "normal"}


def server_time(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    return {"serverTime": ctx.now_ms()}


def _one_or_many(p: dict[str, Any]) -> list[str] | None:
    """The ids named by ``symbol`` or ``symbols`` (None: every symbol); both at once is -1128."""
    if p.get("symbol") is not None and p.get("symbols") is not None:
        raise e.BinanceError(-1128, "Combination of optional parameters invalid.")
    if p.get("symbol") is not None:
        return [p["symbol"]]
    if p.get("symbols") is not None:
        if not p["symbols"]:
            raise e.empty("symbols")
        return list(p["symbols"])
    return None


def exchange_info(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    markets = ctx.markets()
    wanted = _one_or_many(p)
    if wanted is not None:
        by_id = {shapes.market_id(m["symbol"]): m for m in markets}
        if any(mid not in by_id for mid in wanted):
            raise e.invalid_symbol()
        markets = [by_id[mid] for mid in wanted]
    permission_sets = p.get("showPermissionSets") is not False
    entries = [shapes.symbol_info(m, list(TYPES), permission_sets) for m in markets]
    if p.get("symbolStatus") is not None:
        entries = [entry for entry in entries if entry["status"] == p["symbolStatus"]]
    if p.get("permissions") is not None and "SPOT" not in p["permissions"]:
        entries = []
    return {
        "timezone": "UTC",
        "serverTime": ctx.now_ms(),
        "rateLimits": [],
        "exchangeFilters": [],
        "symbols": entries,
    }


def _tickers(ctx: Context, p: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
    """The unified tickers asked for, and whether one symbol was asked (answered as an object, not a list)."""
    wanted = _one_or_many(p)
    if wanted is None:
        return [t for _, t in sorted(ctx.call("tickers").items())], False
    engine_symbols = [ctx.symbol(mid) for mid in wanted]
    if p.get("symbol") is not None:
        return [ctx.call("ticker", path={"symbol": engine_symbols[0]})], True
    found = ctx.call("tickers", query={"symbols": ",".join(engine_symbols)})
    if any(s not in found for s in engine_symbols):
        raise e.invalid_symbol()
    return [found[s] for s in engine_symbols], False


def ticker_24hr(ctx: Context, p: dict[str, Any]) -> Any:
    tickers, single = _tickers(ctx, p)
    answers = [shapes.ticker_24hr(t, p.get("type") != "MINI") for t in tickers]
    return answers[0] if single else answers


def ticker_price(ctx: Context, p: dict[str, Any]) -> Any:
    tickers, single = _tickers(ctx, p)
    answers = [shapes.price_ticker(t) for t in tickers]
    return answers[0] if single else answers


def book_ticker(ctx: Context, p: dict[str, Any]) -> Any:
    tickers, single = _tickers(ctx, p)
    answers = [shapes.book_ticker(t) for t in tickers]
    return answers[0] if single else answers


def depth(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    """``GET /api/v3/depth``: the engine's book (the feed's depth or its synthetic book); ``lastUpdateId`` is the
    snapshot's time, so it grows with every new snapshot."""
    book = ctx.call("order_book", path={"symbol": ctx.symbol(p["symbol"])}, query={"limit": p["limit"]})
    return {
        "lastUpdateId": book["timestamp"],
        "bids": [[shapes.b8(price), shapes.b8(amount)] for price, amount in book["bids"]],
        "asks": [[shapes.b8(price), shapes.b8(amount)] for price, amount in book["asks"]],
    }


def klines(ctx: Context, p: dict[str, Any]) -> list[list[Any]]:
    """``GET /api/v3/klines`` (and ``uiKlines``): the engine's candles, paged as Binance pages them: from
    ``startTime`` the first ``limit``; otherwise the newest ``limit`` (up to ``endTime``)."""
    interval, limit, start, end = p["interval"], p["limit"], p["startTime"], p["endTime"]
    if start is not None and end is not None and start > end:
        raise e.BinanceError(-1127, "Lookup interval is too big.")
    query: dict[str, Any] = {"timeframe": interval, "limit": limit}
    if start is not None:
        query["since"] = start
    elif end is not None:  # the newest ``limit`` up to endTime (or now, if that is sooner): the ``limit``-th back
        query["since"] = max(0, shapes.first_open(min(end, ctx.now_ms()), interval, limit))
    rows = ctx.call("ohlcv", path={"symbol": ctx.symbol(p["symbol"])}, query=query)
    if end is not None:
        rows = [row for row in rows if row[0] <= end][-limit:]
    return [shapes.kline(row, interval) for row in rows]


def recent_trades(ctx: Context, p: dict[str, Any]) -> list[Any]:
    """Public trades: the engine records prices, not the market's trades, so the list is empty (as Binance's is
    for a symbol nobody traded)."""
    ctx.symbol(p["symbol"])
    return []


_SYMBOLS = (Param("symbol", symbol), Param("symbols", symbols))

PARAMS = {
    "ping": Params(),
    "time": Params(),
    "exchangeInfo": Params(
        (
            *_SYMBOLS,
            Param("permissions", names),
            Param("showPermissionSets", boolean),
            Param("symbolStatus", one_of(("TRADING", "HALT", "BREAK"))),
        )
    ),
    "ticker/24hr": Params((*_SYMBOLS, Param("type", one_of(("FULL", "MINI"))))),
    "ticker/price": Params(_SYMBOLS),
    "ticker/bookTicker": Params(_SYMBOLS),
    "trades": Params((Param("symbol", symbol, True), Param("limit", up_to(1000), default=500))),
    "depth": Params((Param("symbol", symbol, True), Param("limit", up_to(5000), default=100))),
    "klines": Params(
        (
            Param("symbol", symbol, True),
            Param("interval", one_of(tuple(shapes.INTERVALS), e.BinanceError(-1120, e.INVALID_INTERVAL)), True),
            Param("startTime", long),
            Param("endTime", long),
            Param("limit", up_to(1000), default=500),
        ),
        ("timeZone",),
    ),
    "aggTrades": Params(
        (
            Param("symbol", symbol, True),
            Param("fromId", long),
            Param("startTime", long),
            Param("endTime", long),
            Param("limit", up_to(1000), default=500),
        )
    ),
}
