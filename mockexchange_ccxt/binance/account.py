"""The account's own data in Binance's dialect: balances, order history, trades and fee rates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import errors as e
from . import shapes
from .context import Context
from .params import Param, Params, boolean, long, symbol, up_to


def account(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    settings = ctx.engine.settings
    balance = ctx.call("balance")
    return shapes.account_view(balance, settings.maker_rate, settings.taker_rate, bool(p["omitZeroBalances"]))


def trade_fee(ctx: Context, p: dict[str, Any]) -> list[dict[str, Any]]:
    """``GET /sapi/v1/asset/tradeFee``: each market's maker and taker rates, as the engine charges them."""
    markets = ctx.markets()
    if p["symbol"] is not None:
        engine_symbol = ctx.symbol(p["symbol"])
        markets = [m for m in markets if m["symbol"] == engine_symbol]
    return [
        {
            "symbol": shapes.market_id(m["symbol"]),
            "makerCommission": shapes.rate(m["maker"]),
            "takerCommission": shapes.rate(m["taker"]),
        }
        for m in markets
    ]


def _window(
    items: list[dict[str, Any]], p: dict[str, Any], stamp: Callable[[dict[str, Any]], int], from_id: int | None
) -> list[dict[str, Any]]:
    """Binance's paging of a history (oldest first): from an id or a start time, the first ``limit``; otherwise
    the newest ``limit``, up to ``endTime``."""
    start, end = p["startTime"], p["endTime"]
    if start is not None and end is not None and start > end:
        raise e.BinanceError(-1127, "Lookup interval is too big.")
    if from_id is not None:
        return [item for item in items if int(item["id"]) >= from_id][: p["limit"]]
    chosen = [i for i in items if (start is None or stamp(i) >= start) and (end is None or stamp(i) <= end)]
    return chosen[: p["limit"]] if start is not None else chosen[-p["limit"] :]


def all_orders(ctx: Context, p: dict[str, Any]) -> list[dict[str, Any]]:
    orders = ctx.call("orders", query={"symbol": ctx.symbol(p["symbol"])})
    return [shapes.order_view(o) for o in _window(orders, p, lambda o: int(o["timestamp"]), p["orderId"])]


def my_trades(ctx: Context, p: dict[str, Any]) -> list[dict[str, Any]]:
    engine_symbol = ctx.symbol(p["symbol"])
    if p["orderId"] is not None:
        if p["fromId"] is not None:
            raise e.BinanceError(-1128, "Combination of optional parameters invalid.")
        try:
            order = ctx.call("order", path={"oid": str(p["orderId"])})
        except e.BinanceError as exc:
            if exc.code != -2013:
                raise
            return []  # an order that does not exist has no trades
        trades = ctx.call("order_trades", path={"oid": order["id"]}) if order["symbol"] == engine_symbol else []
    else:
        query = (
            {"symbol": engine_symbol} if p["startTime"] is None else {"symbol": engine_symbol, "since": p["startTime"]}
        )
        trades = ctx.call("trades", query=query)
    trades.sort(key=lambda t: int(t["id"]))
    return [shapes.trade_view(t) for t in _window(trades, p, lambda t: int(t["timestamp"]), p["fromId"])]


_HISTORY = (
    Param("symbol", symbol, True),
    Param("startTime", long),
    Param("endTime", long),
    Param("limit", up_to(1000), default=500),
)

PARAMS = {
    "account": Params((Param("omitZeroBalances", boolean, default=False),)),
    "tradeFee": Params((Param("symbol", symbol),)),
    "allOrders": Params((*_HISTORY, Param("orderId", long))),
    "myTrades": Params((*_HISTORY, Param("orderId", long), Param("fromId", long))),
}
