"""Placing, testing, replacing and canceling orders in Binance's dialect (the translation of a new order is
``order_types.order_body``)."""

from __future__ import annotations

from typing import Any

from . import errors as e
from . import shapes
from .context import Context, Overrides
from .order_types import REFUSED, TYPES, is_triggered, order_body
from .order_types import TIME_IN_FORCE as TIME_IN_FORCES
from .params import SIDE, Param, Params, amount, boolean, client_id, long, one_of, symbol

ORDER_TYPE = one_of(tuple(TYPES), e.BinanceError(-1116, e.INVALID_ORDER_TYPE))
TIME_IN_FORCE = one_of(TIME_IN_FORCES, e.BinanceError(-1115, e.INVALID_TIME_IN_FORCE))
RESPONSE_TYPE = one_of(("ACK", "RESULT", "FULL"))

_NEW_ORDER = (
    Param("symbol", symbol, True),
    Param("side", SIDE, True),
    Param("type", ORDER_TYPE, True),
    Param("timeInForce", TIME_IN_FORCE),
    Param("quantity", amount),
    Param("quoteOrderQty", amount),
    Param("price", amount),
    Param("stopPrice", amount),
    Param("newClientOrderId", client_id),
    Param("newOrderRespType", RESPONSE_TYPE),
    # the mock's orders never trade with each other, so every prevention mode holds trivially
    Param("selfTradePreventionMode", one_of(shapes.STP_MODES)),
)


def _placing(p: dict[str, Any]) -> Overrides:
    """A refusal on arrival, in Binance's words for this type."""
    text = e.WOULD_TRIGGER if is_triggered(p["type"]) else e.WOULD_TAKE
    return {"ORDER_IMMEDIATELY_FILLABLE": (-2010, 400, text)}


def response_type(p: dict[str, Any]) -> str:
    """``newOrderRespType``, by default FULL for MARKET and LIMIT and ACK for the other types (Binance's rule)."""
    return str(p["newOrderRespType"] or ("FULL" if p["type"] in ("MARKET", "LIMIT") else "ACK"))


def _placed(ctx: Context, order: dict[str, Any], answer: str) -> dict[str, Any]:
    fills = ctx.call("order_trades", path={"oid": order["id"]}) if answer == "FULL" and order["filled"] > 0 else []
    return shapes.placed_view(order, answer, fills)


def new_order(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    order = ctx.call("create_order", body=order_body(ctx, p), on=_placing(p))
    return _placed(ctx, order, response_type(p))


def dry_run_order(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    """Validates through the engine's dry run (``can_execute``); changes nothing, answers ``{}``."""
    verdict = ctx.call("can_execute", body=order_body(ctx, p), on=_placing(p))
    if not verdict["ok"]:
        raise e.from_engine_code(verdict["code"], verdict["reason"], _placing(p))
    if not p["computeCommissionRates"]:
        return {}
    engine_symbol = ctx.symbol(p["symbol"])
    market = next((m for m in ctx.markets() if m["symbol"] == engine_symbol), None)
    if market is None:  # stopped being priced since the order was checked
        raise e.invalid_symbol()
    zero = {"maker": shapes.ZERO, "taker": shapes.ZERO}
    return {
        "standardCommissionForOrder": {"maker": shapes.n8(market["maker"]), "taker": shapes.n8(market["taker"])},
        "specialCommissionForOrder": zero,
        "taxCommissionForOrder": zero,
        "discount": {"enabledForAccount": False, "enabledForSymbol": False, "discountAsset": "BNB", "discount": "0"},
    }


# -- one order: find, cancel -----------------------------------------------------------------------------------


def find_order(
    ctx: Context, engine_symbol: str, order_id: int | None, client_order_id: str | None, not_found: e.BinanceError
) -> dict[str, Any]:
    """The order named by ``orderId`` or ``origClientOrderId`` on this symbol, or ``not_found``. Given both,
    they must name the same order, as on Binance; a client id is the engine's lookup (unique per account)."""
    if order_id is None and client_order_id is None:
        raise e.BinanceError(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
    overrides: Overrides = {"ORDER_NOT_FOUND": (not_found.code, not_found.http_status, not_found.msg)}
    order: dict[str, Any]
    if order_id is not None:
        order = ctx.call("order", path={"oid": str(order_id)}, on=overrides)
        if client_order_id is not None and order["clientOrderId"] != client_order_id:
            raise not_found
    else:
        order = ctx.call("order_by_client_id", query={"clientOrderId": client_order_id}, on=overrides)
    if order["symbol"] != engine_symbol:
        raise not_found
    return order


def get_order(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    not_found = e.BinanceError(-2013, e.NO_SUCH_ORDER)
    order = find_order(ctx, ctx.symbol(p["symbol"]), p["orderId"], p["origClientOrderId"], not_found)
    return shapes.order_view(order)


def _cancel(ctx: Context, order: dict[str, Any]) -> dict[str, Any]:
    return dict(ctx.call("cancel_order", path={"oid": order["id"]}, body={}, on=e.CANCEL_OVERRIDES))


def cancel_order(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    unknown = e.BinanceError(-2011, e.UNKNOWN_ORDER)
    order = find_order(ctx, ctx.symbol(p["symbol"]), p["orderId"], p["origClientOrderId"], unknown)
    return shapes.canceled_view(_cancel(ctx, order), p["newClientOrderId"])


def cancel_open_orders(ctx: Context, p: dict[str, Any]) -> list[dict[str, Any]]:
    """Cancels every open order of the symbol at once (the engine's cancel-all: one script per symbol, so no
    fill lands between two cancels); none open is -2011, as on Binance."""
    canceled = ctx.call("cancel_all_orders", body={"symbol": ctx.symbol(p["symbol"])})
    if not canceled:
        raise e.BinanceError(-2011, e.UNKNOWN_ORDER)
    return [shapes.canceled_view(order, None) for order in canceled]


def open_orders(ctx: Context, p: dict[str, Any]) -> list[dict[str, Any]]:
    query = {"status": "open"}
    if p["symbol"] is not None:
        query["symbol"] = ctx.symbol(p["symbol"])
    return [shapes.order_view(order) for order in ctx.call("orders", query=query)]


# -- cancelReplace -------------------------------------------------------------------------------------------


def cancel_replace(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    """Cancel, then place (Binance's cancelReplace is two steps too): STOP_ON_FAILURE places nothing when the
    cancel fails; ALLOW_FAILURE places anyway. A partial success answers 409 with both results."""
    body = order_body(ctx, p)
    answer = response_type(p)
    engine_symbol = body["symbol"]
    unknown = e.BinanceError(-2011, e.UNKNOWN_ORDER)
    cancel: dict[str, Any] | None = None
    cancel_error: dict[str, Any] = {}
    try:
        order = find_order(ctx, engine_symbol, p["cancelOrderId"], p["cancelOrigClientOrderId"], unknown)
        cancel = shapes.canceled_view(_cancel(ctx, order), p["cancelNewClientOrderId"])
    except e.BinanceError as exc:
        if exc.code == -1102:  # neither id given: a malformed request, not a failed cancel
            raise
        cancel_error = exc.to_dict()
        if p["cancelReplaceMode"] == "STOP_ON_FAILURE":
            data = {"cancelResult": "FAILURE", "newOrderResult": "NOT_ATTEMPTED", "cancelResponse": cancel_error}
            raise e.BinanceError(-2022, e.CANCEL_REPLACE_FAILED, 400, {**data, "newOrderResponse": None}) from None
    try:
        placed = _placed(ctx, ctx.call("create_order", body=body, on=_placing(p)), answer)
    except e.BinanceError as exc:
        data = {
            "cancelResult": "FAILURE" if cancel is None else "SUCCESS",
            "newOrderResult": "FAILURE",
            "cancelResponse": cancel if cancel is not None else cancel_error,
            "newOrderResponse": exc.to_dict(),
        }
        if cancel is None:
            raise e.BinanceError(-2022, e.CANCEL_REPLACE_FAILED, 400, data) from None
        raise e.BinanceError(-2021, e.CANCEL_REPLACE_PARTIAL, 409, data) from None
    if cancel is None:
        data = {"cancelResult": "FAILURE", "newOrderResult": "SUCCESS", "cancelResponse": cancel_error}
        raise e.BinanceError(-2021, e.CANCEL_REPLACE_PARTIAL, 409, {**data, "newOrderResponse": placed})
    return {
        "cancelResult": "SUCCESS",
        "newOrderResult": "SUCCESS",
        "cancelResponse": cancel,
        "newOrderResponse": placed,
    }


_ONE_ORDER = (Param("symbol", symbol, True), Param("orderId", long), Param("origClientOrderId", client_id))

PARAMS = {
    "order:POST": Params(_NEW_ORDER, REFUSED),
    "order/test:POST": Params((*_NEW_ORDER, Param("computeCommissionRates", boolean, default=False)), REFUSED),
    "order:GET": Params(_ONE_ORDER),
    "order:DELETE": Params((*_ONE_ORDER, Param("newClientOrderId", client_id)), ("cancelRestrictions",)),
    "openOrders:GET": Params((Param("symbol", symbol),)),
    "openOrders:DELETE": Params((Param("symbol", symbol, True),)),
    "order/cancelReplace:POST": Params(
        (
            *_NEW_ORDER,
            Param("cancelReplaceMode", one_of(("STOP_ON_FAILURE", "ALLOW_FAILURE")), True),
            Param("cancelOrderId", long),
            Param("cancelOrigClientOrderId", client_id),
            Param("cancelNewClientOrderId", client_id),
        ),
        (*REFUSED, "cancelRestrictions", "orderRateLimitExceededMode"),
    ),
}
