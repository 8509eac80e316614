"""ccxt's ``create_order`` arguments and ``params`` -> the REST body, for both transports.

Every param a spot bot sends is either mapped to a body field the engine honours or refused with
``NotSupported`` naming it (a mock that ignores what it does not understand teaches a bot the wrong thing).
Numbers are checked to be finite first (NaN or infinity raise ``InvalidOrder``, not an arithmetic error), then
rounded like any ccxt exchange does before sending: amounts truncated to the market's step, prices (limit and
trigger) rounded to its tick, a cost truncated to its tick; the engine re-checks all of it exactly.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from ccxt.base.errors import InvalidOrder, NotSupported

from ..memo import Memo

#: create_order params -> REST body field (``newClientOrderId`` and ``quoteOrderQty`` are Binance's spellings).
ORDER_PARAMS = {
    "clientOrderId": "clientOrderId",
    "newClientOrderId": "clientOrderId",
    "timeInForce": "timeInForce",
    "postOnly": "postOnly",
    "reduceOnly": "reduceOnly",
    "triggerPrice": "triggerPrice",
    "stopPrice": "stopPrice",
    "stopLossPrice": "stopLossPrice",
    "takeProfitPrice": "takeProfitPrice",
    "cost": "cost",
    "quoteOrderQty": "cost",
}
#: Params that are prices (rounded to the market's tick, like the limit price).
PRICE_PARAMS = ("triggerPrice", "stopPrice", "stopLossPrice", "takeProfitPrice")
#: Order types that carry a limit price.
LIMIT_TYPES = ("limit", "limit_maker", "stop_loss_limit", "take_profit_limit")


def refuse_unknown(params: dict[str, Any], allowed: tuple[str, ...] | dict[str, Any], method: str) -> None:
    """NotSupported naming every param of ``params`` that ``method`` does not implement."""
    for name in params:
        if name not in allowed:
            break
    else:
        return  # the usual case: no params, or only known ones
    unknown = sorted(str(name) for name in params if name not in allowed)
    raise NotSupported(f"mockexchange {method}() does not implement the param(s) {', '.join(unknown)}")


def spot_only(params: dict[str, Any], method: str) -> None:
    """The params of a read: none, or ccxt's ``type`` naming the spot market (what freqtrade sends with a spot
    bot's tickers); any other is NotSupported, since this venue is spot only and never drops what it does not do."""
    if params:
        kind = params.get("type", "spot")
        if kind != "spot":
            raise NotSupported(f"mockexchange {method}() is spot only, got type {str(kind)[:40]!r}")
        refuse_unknown(params, ("type",), method)


def finite(value: Any, name: str) -> Any:
    """``value`` if it is a finite number (int, float, Decimal or numeric text), else InvalidOrder."""
    kind = type(value)
    if kind is float:  # what bots send: checked without the round trip through text and Decimal
        if value - value == 0:  # false for NaN and the infinities only
            return value
    elif kind is int:
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise InvalidOrder(f"mockexchange {name} must be a number, got {value!r}"[:200])
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidOrder(f"mockexchange {name} must be a number, got {value!r}"[:200]) from None
    if not number.is_finite():
        raise InvalidOrder(f"mockexchange {name} must be a finite number, got {value!r}")
    return value


def order_body(
    exchange: Any, market: dict[str, Any], type: str, side: str, amount: Any, price: Any, params: dict[str, Any]
) -> dict[str, Any]:
    """The ``POST /orders`` body of a ``create_order`` call (``exchange`` rounds with the market's precision)."""
    refuse_unknown(params, ORDER_PARAMS, "createOrder")
    symbol = market["symbol"]
    body: dict[str, Any] = {"symbol": symbol, "side": side, "type": type}
    if amount is not None:
        body["amount"] = rounded(exchange, "amount_to_precision", market, finite(amount, "amount"))
    if type in LIMIT_TYPES and price is not None:
        body["price"] = rounded(exchange, "price_to_precision", market, finite(price, "price"))
    for name, value in params.items():
        if value is None:
            continue
        field = ORDER_PARAMS[name]
        if name in PRICE_PARAMS:
            value = rounded(exchange, "price_to_precision", market, finite(value, name))
        elif field == "cost":
            value = rounded(exchange, "cost_to_precision", market, finite(value, name))
        if field in body and body[field] != value:
            raise InvalidOrder(f"mockexchange got two different values for {field}")
        body[field] = value
    return body


def rounded(exchange: Any, method: str, market: dict[str, Any], value: Any) -> Any:
    """``exchange.<method>(symbol, value)``: ccxt's own rounding, which costs more than the rest of the body, so
    its answers are kept; a bot sends the same few amounts and prices again and again. The key holds the market's
    precisions and the precision mode, so markets loaded again with other precisions are rounded afresh; a value
    ccxt refuses raises every time."""
    symbol = market["symbol"]
    precision = market["precision"]
    key = (method, symbol, type(value), value, precision.get("amount"), precision.get("price"), exchange.precisionMode)
    answer = _ROUNDED.get(key)
    if answer is None:
        answer = _ROUNDED.keep(key, getattr(exchange, method)(symbol, value))
    return answer


_ROUNDED: Memo[tuple[Any, ...], Any] = Memo(4096)
