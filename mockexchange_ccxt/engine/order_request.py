"""What an order asks for, validated and normalized: one place that reads every order parameter.

The order types, time-in-force values and trigger forms a spot bot sends (ccxt's unified params and
Binance's type names, as freqtrade sends them) all become one ``OrderRequest``: the type it *carries*
(``market`` or ``limit``), its time in force, and an optional trigger. What the mock does not implement is
refused here (NotSupported), contradictions and bad values too (InvalidOrder or BadRequest, naming the field),
before anything is read from or written to Valkey.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, NamedTuple

from ..errors import BadRequest, InvalidOrder, NotSupported
from ..keys import BUY, SELL
from .markets import MAX_PRICE
from .money import fmt, parse_positive, short

MARKET, LIMIT = "market", "limit"
GTC, IOC, FOK, PO = "GTC", "IOC", "FOK", "PO"
TIME_IN_FORCE = (GTC, IOC, FOK, PO)

#: Trigger kinds (DESIGN.md section 12): a stop-loss sell fires when the last price falls to its trigger, a
#: stop-loss buy when it rises to it; a take-profit the other way; a generic trigger when the last price reaches
#: it from the side it was on at placement.
STOP_LOSS, TAKE_PROFIT, TRIGGER = "stop_loss", "take_profit", "trigger"

#: Every order type the engine accepts -> (the type it carries, its fixed trigger kind or None).
ORDER_TYPES: dict[str, tuple[str, str | None]] = {
    MARKET: (MARKET, None),
    LIMIT: (LIMIT, None),
    "limit_maker": (LIMIT, None),  # Binance's post-only limit
    "stop_loss": (MARKET, STOP_LOSS),
    "stop_loss_limit": (LIMIT, STOP_LOSS),
    "take_profit": (MARKET, TAKE_PROFIT),
    "take_profit_limit": (LIMIT, TAKE_PROFIT),
}

#: The time in force of an order type without a trigger when no flag is given (``_time_in_force``'s answer).
_PLAIN_TIME_IN_FORCE = {MARKET: IOC, LIMIT: GTC, "limit_maker": PO}

_CLIENT_ORDER_ID = re.compile(r"[A-Za-z0-9_.:/=+-]{1,64}")


class Trigger(NamedTuple):
    kind: str  # STOP_LOSS, TAKE_PROFIT or TRIGGER
    price: Decimal


class OrderRequest(NamedTuple):
    """A validated order: every field has the right type and range, and no two flags contradict. (A named
    tuple: as immutable as a frozen dataclass, and made several times faster, once per order.)"""

    symbol: str
    side: str
    type: str  # what it carries: MARKET or LIMIT
    amount: Decimal | None  # None only for a market order by cost
    price: Decimal | None  # the limit price (None for market orders)
    client_order_id: str | None
    time_in_force: str = GTC
    trigger: Trigger | None = None
    cost: Decimal | None = None  # a market order trading this much quote (amount follows from the touch price)
    order_type: str = LIMIT  # the type as requested (Binance's names stay in the record's info)


def _price(value: Any, name: str) -> Decimal:
    number = parse_positive(value, name, InvalidOrder)
    if number > MAX_PRICE:
        raise InvalidOrder(f"{name} {fmt(number)} is above the maximum {fmt(MAX_PRICE)}")
    return number


def _flag(value: Any, name: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise BadRequest(f"{name} must be true or false, got {short(value)}")


def validate_request(
    symbol: str,
    side: Any,
    type: Any,
    amount: Any = None,
    price: Any = None,
    client_order_id: Any = None,
    *,
    time_in_force: Any = None,
    post_only: Any = None,
    reduce_only: Any = None,
    trigger_price: Any = None,
    stop_price: Any = None,
    stop_loss_price: Any = None,
    take_profit_price: Any = None,
    cost: Any = None,
) -> OrderRequest:
    """Check an order's shape (the symbol's format is checked by the caller's market lookup)."""
    if side not in (BUY, SELL):
        raise InvalidOrder(f"side must be 'buy' or 'sell', got {str(side)[:40]!r}")
    if not isinstance(type, str) or type not in ORDER_TYPES:
        raise InvalidOrder(f"type must be one of {', '.join(ORDER_TYPES)}, got {str(type)[:40]!r}")
    carried, kind = ORDER_TYPES[type]
    trigger: Trigger | None = None
    if (
        kind is None
        and time_in_force is None
        and post_only is None
        and reduce_only is None
        and trigger_price is None
        and stop_price is None
        and stop_loss_price is None
        and take_profit_price is None
    ):  # no flags (most orders): what the checks below would find
        tif = _PLAIN_TIME_IN_FORCE[type]
    else:
        if _flag(reduce_only, "reduceOnly"):
            raise NotSupported("reduceOnly: a spot account has no position to reduce")
        tif = _time_in_force(type, carried, time_in_force, _flag(post_only, "postOnly"))
        trigger = _trigger(type, kind, trigger_price, stop_price, stop_loss_price, take_profit_price)
        if trigger is not None and tif == PO:
            raise InvalidOrder("postOnly cannot be combined with a trigger price")
    limit: Decimal | None = None
    if carried == LIMIT:
        if price is None:
            raise InvalidOrder(f"a {type} order needs a price")
        limit = _price(price, "price")
    quantity: Decimal | None = None
    spend: Decimal | None = None
    if cost is not None:
        if carried != MARKET or trigger is not None:
            raise InvalidOrder("cost (quoteOrderQty) is only for market orders")
        if amount is not None:
            raise InvalidOrder("give amount or cost, not both")
        spend = parse_positive(cost, "cost", InvalidOrder)
    else:
        if amount is None:
            raise InvalidOrder("amount must be a number, got None (or give cost, for a market order)")
        quantity = parse_positive(amount, "amount", InvalidOrder)
    if client_order_id is not None and (
        not isinstance(client_order_id, str) or not _CLIENT_ORDER_ID.fullmatch(client_order_id)
    ):
        raise BadRequest("clientOrderId must be 1-64 characters of letters, digits and _.:/=+-")
    return OrderRequest(symbol, side, carried, quantity, limit, client_order_id, tif, trigger, spend, type)


def _time_in_force(type: str, carried: str, value: Any, post_only: bool | None) -> str:
    if value is not None and value not in TIME_IN_FORCE:
        raise InvalidOrder(f"timeInForce must be one of {', '.join(TIME_IN_FORCE)}, got {str(value)[:40]!r}")
    if type == "limit_maker":
        if value in (IOC, FOK):
            raise InvalidOrder(f"a limit_maker order is post-only; timeInForce {value} contradicts it")
        if post_only is False:
            raise InvalidOrder("a limit_maker order is post-only; postOnly false contradicts it")
        return PO
    if carried == MARKET:
        if post_only:
            raise InvalidOrder("a market order cannot be postOnly")
        if value in (GTC, PO):
            raise InvalidOrder(f"a market order fills at once (IOC or FOK); timeInForce {value} does not apply")
        return value or IOC
    if post_only:
        if value in (IOC, FOK):
            raise InvalidOrder(f"postOnly contradicts timeInForce {value}")
        return PO
    if post_only is False and value == PO:
        raise InvalidOrder("timeInForce PO contradicts postOnly false")
    return value or GTC


def _trigger(
    type: str, kind: str | None, trigger_price: Any, stop_price: Any, stop_loss_price: Any, take_profit_price: Any
) -> Trigger | None:
    generic = _price(trigger_price, "triggerPrice") if trigger_price is not None else None
    alias = _price(stop_price, "stopPrice") if stop_price is not None else None
    if generic is not None and alias is not None and generic != alias:
        raise InvalidOrder(f"triggerPrice {fmt(generic)} and stopPrice {fmt(alias)} differ")
    generic = generic if generic is not None else alias
    stop_loss = _price(stop_loss_price, "stopLossPrice") if stop_loss_price is not None else None
    take_profit = _price(take_profit_price, "takeProfitPrice") if take_profit_price is not None else None
    if stop_loss is not None and take_profit is not None:
        raise InvalidOrder("give stopLossPrice or takeProfitPrice, not both (the mock has no OCO orders)")
    if kind is not None:  # Binance's stop types: the trigger is their stopPrice
        own, other = (stop_loss, take_profit) if kind == STOP_LOSS else (take_profit, stop_loss)
        if other is not None:
            raise InvalidOrder(
                f"a {type} order cannot carry {'takeProfitPrice' if kind == STOP_LOSS else 'stopLossPrice'}"
            )
        if own is not None and generic is not None and own != generic:
            raise InvalidOrder(f"a {type} order got two different trigger prices")
        price = own if own is not None else generic
        if price is None:
            raise InvalidOrder(f"a {type} order needs stopPrice (its trigger price)")
        return Trigger(kind, price)
    candidates = ((STOP_LOSS, stop_loss), (TAKE_PROFIT, take_profit), (TRIGGER, generic))
    given = [Trigger(name, value) for name, value in candidates if value is not None]
    if len(given) > 1:
        raise InvalidOrder("give one of triggerPrice (stopPrice), stopLossPrice, takeProfitPrice")
    return given[0] if given else None
