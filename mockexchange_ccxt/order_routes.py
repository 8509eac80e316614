"""The routes of the REST contract that read orders and trades (lists, one order by id or by clientOrderId, the
fills), kept beside ``routes.py`` so each file stays small; ``routes.ROUTES`` includes them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .engine import Engine
    from .routes import Call, Route


def _orders(engine: Engine, call: Call) -> list[dict[str, Any]]:
    from .routes import _int

    query = call.query
    return engine.fetch_orders(
        query.get("status"),
        query.get("symbol"),
        _int(query.get("tail"), "tail"),
        _int(query.get("since"), "since"),
        _int(query.get("limit"), "limit"),
    )


def _trades(engine: Engine, call: Call) -> list[dict[str, Any]]:
    from .routes import _int

    since, limit = _int(call.query.get("since"), "since"), _int(call.query.get("limit"), "limit")
    return engine.fetch_my_trades(call.query.get("symbol"), since, limit)


def order_read_routes() -> tuple[Route, ...]:
    """Called by ``routes`` while it builds its table (it defines Route and Field first)."""
    from .routes import INTEGER, STRING, Field, Route

    symbol = Field("symbol", STRING, False, "only this symbol")
    only_of = Field("symbol", STRING, False, "only if it is an order of this symbol")
    return (
        Route(
            "orders",
            "GET",
            "/orders",
            _orders,
            "Orders, oldest first",
            (
                Field("status", STRING, False, "open, closed or canceled"),
                symbol,
                Field("tail", INTEGER, False, "only the newest N (same as limit without since)"),
                Field("since", INTEGER, False, "placed at or after this time (ms): the first `limit` of them"),
                Field("limit", INTEGER, False, "at most N: the first after since, else the newest"),
            ),
        ),
        Route(
            "order",
            "GET",
            "/orders/{oid}",
            lambda e, c: e.fetch_order(c.path["oid"], c.query.get("symbol")),
            "One order",
            (only_of,),
        ),
        Route(
            "order_by_client_id",
            "GET",
            "/orders/by_client_id",
            lambda e, c: e.fetch_order_by_client_id(c.query.get("clientOrderId"), c.query.get("symbol")),
            "The order placed with a clientOrderId (unique per account)",
            (Field("clientOrderId", STRING, True, "the clientOrderId the order was placed with"), only_of),
        ),
        Route(
            "order_trades",
            "GET",
            "/orders/{oid}/trades",
            lambda e, c: e.order_trades(c.path["oid"]),
            "Fills of one order",
        ),
        Route(
            "trades",
            "GET",
            "/trades",
            _trades,
            "The account's fills, oldest first",
            (
                symbol,
                Field("since", INTEGER, False, "at or after this time (ms): the first `limit` of them"),
                Field("limit", INTEGER, False, "at most N: the first after since, else the newest"),
            ),
        ),
    )
