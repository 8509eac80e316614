"""The REST body of an order (``POST /orders``, ``POST /orders/can_execute``) and how it becomes the engine's
``create_order`` arguments (``engine/order_request.py`` validates them)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .errors import BadRequest
from .fields import BOOLEAN, NUMBER, STRING, Field

ORDER_FIELDS = (
    Field("symbol", STRING, True, "market symbol, e.g. BTC/USDT"),
    Field("side", STRING, True, "buy or sell"),
    Field(
        "type",
        STRING,
        False,
        "market (default), limit, limit_maker (post-only limit), stop_loss, stop_loss_limit, take_profit or"
        " take_profit_limit (Binance's trigger types, with stopPrice)",
    ),
    Field("amount", NUMBER, False, "amount of the base asset (required unless cost is given)"),
    Field("price", NUMBER, False, "limit price (limit types; ignored for market orders)"),
    Field("clientOrderId", STRING, False, "your own id, unique per account"),
    Field("timeInForce", STRING, False, "GTC (limit default), IOC, FOK or PO (post-only); market orders are IOC"),
    Field("postOnly", BOOLEAN, False, "true: refused with ORDER_IMMEDIATELY_FILLABLE if it would take (same as PO)"),
    Field("reduceOnly", BOOLEAN, False, "false only: a spot account has no position to reduce"),
    Field("triggerPrice", NUMBER, False, "fire when the last price reaches it from the side it is on now"),
    Field("stopPrice", NUMBER, False, "the trigger price of a stop_loss/take_profit type; else same as triggerPrice"),
    Field("stopLossPrice", NUMBER, False, "stop-loss trigger: a sell fires at or below it, a buy at or above"),
    Field("takeProfitPrice", NUMBER, False, "take-profit trigger: a sell fires at or above it, a buy at or below"),
    Field("cost", NUMBER, False, "market order: trade this much quote (Binance's quoteOrderQty) instead of amount"),
)

#: Optional order fields of the body -> the engine's keyword (``order_request.validate_request``).
ORDER_FLAGS = {
    "timeInForce": "time_in_force",
    "postOnly": "post_only",
    "reduceOnly": "reduce_only",
    "triggerPrice": "trigger_price",
    "stopPrice": "stop_price",
    "stopLossPrice": "stop_loss_price",
    "takeProfitPrice": "take_profit_price",
    "cost": "cost",
}


def place(method: Callable[..., Any], body: Mapping[str, Any]) -> Any:
    """``method`` (the engine's ``create_order`` or ``can_execute``) called with an order body's arguments.
    Without ``type`` it is a market order (the seed's contract); an empty type is refused (by the engine). The
    arguments go by position, and the flags are looked up by the body's own fields (a few), not the other way
    round: what runs per order is kept short."""
    amount = body.get("amount")
    if amount is None and body.get("cost") is None:
        raise BadRequest("field 'amount' is required (or, for a market order, 'cost')")
    kind = body.get("type")
    flags = {}
    for name, value in body.items():
        keyword = ORDER_FLAGS.get(name)
        if keyword is not None and value is not None:
            flags[keyword] = value
    kind = "market" if kind is None else kind  # only an absent type means market
    return method(body["symbol"], body["side"], kind, amount, body.get("price"), body.get("clientOrderId"), **flags)
