"""The market-data routes of the REST contract (candles, the order book, candle imports, price batches), kept beside
``routes.py`` so each file stays small; ``routes.ROUTES`` includes them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .engine import Engine
    from .routes import Call, Route


def _ohlcv(engine: Engine, call: Call) -> list[list[Any]]:
    from .routes import _int

    query = call.query
    since, limit = _int(query.get("since"), "since"), _int(query.get("limit"), "limit")
    return engine.ohlcv(call.path["symbol"], query.get("timeframe") or "1m", since, limit, floats=call.floats)


def _order_book(engine: Engine, call: Call) -> dict[str, Any]:
    from .routes import _int

    return engine.order_book(call.path["symbol"], _int(call.query.get("limit"), "limit"))


def _import_ohlcv(engine: Engine, call: Call) -> dict[str, Any]:
    body = call.body or {}
    return {"symbol": body["symbol"], "stored": engine.import_ohlcv(body["symbol"], body["timeframe"], body["candles"])}


def _set_prices(engine: Engine, call: Call) -> dict[str, Any]:
    body = call.body or {}
    return {"symbol": body["symbol"], "filled": engine.set_prices(body["symbol"], body["ticks"])}


def market_routes() -> tuple[Route, ...]:
    """Called by ``routes`` while it builds its table (it defines Route and Field first)."""
    from .routes import INTEGER, LEVELS, STRING, Field, Route

    timeframes = "1m (default) to 1M: 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M"
    return (
        Route(
            "ohlcv",
            "GET",
            "/ohlcv/{symbol}",
            _ohlcv,
            "Candles [timestamp, open, high, low, close, volume], oldest first",
            (
                Field("timeframe", STRING, False, timeframes),
                Field("since", INTEGER, False, "open time (ms) of the first candle, inclusive; default: the newest"),
                Field("limit", INTEGER, False, "how many (default 500; above 1000 served as 1000)"),
            ),
        ),
        Route(
            "order_book",
            "GET",
            "/orderbook/{symbol}",
            _order_book,
            "Order book: the feed's depth, or a synthetic book (info.synthetic)",
            (Field("limit", INTEGER, False, "levels per side"),),
        ),
        Route(
            "import_ohlcv",
            "POST",
            "/admin/ohlcv",
            _import_ohlcv,
            "Import candles into history (a period already there is replaced); all are checked before any is stored",
            body=(
                Field("symbol", STRING, True),
                Field("timeframe", STRING, True, "the candles' timeframe, 1m to 1M"),
                Field("candles", LEVELS, True, "[timestamp, open, high, low, close, volume] rows"),
            ),
            admin=True,
        ),
        Route(
            "set_prices",
            "POST",
            "/admin/prices",
            _set_prices,
            "Publish many prices of a symbol, oldest first, each settled as if written alone by /admin/price",
            body=(
                Field("symbol", STRING, True),
                Field("ticks", LEVELS, True, "[timestamp, price] or [timestamp, price, volume] rows (ms)"),
            ),
            admin=True,
        ),
    )
