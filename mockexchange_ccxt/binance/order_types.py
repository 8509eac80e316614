"""Binance's order types, and the translation of a Binance new-order request into the body of the route table's
``create_order``: Binance's names in, the engine's names out.

What an order type means (how it fills, what it reserves, when it triggers, when it is refused) is the engine's
decision. The dialect serves a Binance type, a time in force or a parameter exactly when the route table's
``create_order`` declares the body field that carries it; anything else is refused here with Binance's own
code and text, before anything is sent.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from ..routes import ROUTES_BY_NAME
from . import errors as e
from .context import Context

#: The body fields the engine's ``create_order`` takes.
BODY_FIELDS = frozenset(f.name for f in ROUTES_BY_NAME["create_order"].body or ())


@dataclass(frozen=True)
class OrderType:
    engine: str  # the engine's name of the type
    limit: bool  # has a limit price (and, but for LIMIT_MAKER, a time in force)
    trigger: bool  # has a stopPrice
    needs: frozenset[str] = frozenset()  # body fields the engine must declare to place it


_TRIGGERED = frozenset({"stopPrice"})

TYPES: dict[str, OrderType] = {
    "LIMIT": OrderType("limit", limit=True, trigger=False),
    "MARKET": OrderType("market", limit=False, trigger=False),
    "STOP_LOSS": OrderType("stop_loss", limit=False, trigger=True, needs=_TRIGGERED),
    "STOP_LOSS_LIMIT": OrderType("stop_loss_limit", limit=True, trigger=True, needs=_TRIGGERED),
    "TAKE_PROFIT": OrderType("take_profit", limit=False, trigger=True, needs=_TRIGGERED),
    "TAKE_PROFIT_LIMIT": OrderType("take_profit_limit", limit=True, trigger=True, needs=_TRIGGERED),
    "LIMIT_MAKER": OrderType("limit_maker", limit=True, trigger=False, needs=frozenset({"postOnly"})),
}

#: The types placed today, in Binance's order: exchangeInfo's ``orderTypes`` (ccxt refuses any other type
#: before sending it).
SERVED_TYPES = [name for name, kind in TYPES.items() if kind.needs <= BODY_FIELDS]

#: Binance's time in force values and whether the engine takes them (GTC is what a limit does without one).
TIME_IN_FORCE = ("GTC", "IOC", "FOK")
HONOURS_TIME_IN_FORCE = "timeInForce" in BODY_FIELDS
#: A market order by quote amount (``quoteOrderQty``) is the engine's ``cost``.
TAKES_QUOTE_AMOUNT = "cost" in BODY_FIELDS

#: New-order parameters Binance defines that the mock does not implement: refused with -1106, never dropped.
REFUSED = (
    "trailingDelta",
    "icebergQty",
    "strategyId",
    "strategyType",
    "pegPriceType",
    "pegOffsetValue",
    "pegOffsetType",
)


def _time_in_force(name: str, kind: OrderType, given: str | None) -> str | None:
    """The engine's ``timeInForce`` for this order (None: not sent)."""
    if not kind.limit or name == "LIMIT_MAKER":
        if given is not None:
            raise e.not_required("timeInForce")
        return None
    if given is None:
        raise e.mandatory("timeInForce")
    if given != "GTC" and not HONOURS_TIME_IN_FORCE:
        raise e.BinanceError(-1115, e.INVALID_TIME_IN_FORCE)
    return given if HONOURS_TIME_IN_FORCE else None


def _amounts(kind: OrderType, p: dict[str, Any]) -> dict[str, str]:
    quantity, quote_amount = p["quantity"], p.get("quoteOrderQty")
    if quote_amount is not None:
        if kind.engine != "market" or not TAKES_QUOTE_AMOUNT:
            raise e.not_required("quoteOrderQty")
        if quantity is not None:
            raise e.not_required("quantity")
        return {"cost": quote_amount}
    if quantity is None:
        if kind.engine == "market" and TAKES_QUOTE_AMOUNT:
            raise e.BinanceError(-1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!")
        raise e.mandatory("quantity")
    return {"amount": quantity}


def order_body(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    """The route table's ``create_order`` body for a Binance new-order request."""
    name = p["type"]
    kind = TYPES[name]
    if name not in SERVED_TYPES:
        raise e.BinanceError(-1116, e.INVALID_ORDER_TYPE)
    time_in_force = _time_in_force(name, kind, p["timeInForce"])
    if kind.limit and p["price"] is None:
        raise e.mandatory("price")
    if not kind.limit and p["price"] is not None:
        raise e.not_required("price")
    if kind.trigger and p.get("stopPrice") is None:
        raise e.mandatory("stopPrice")
    if not kind.trigger and p.get("stopPrice") is not None:
        raise e.not_required("stopPrice")
    body: dict[str, Any] = {
        "symbol": ctx.symbol(p["symbol"]),
        "side": p["side"].lower(),
        "type": kind.engine,
        **_amounts(kind, p),
        # Binance names every order; so does the facade when the client does not (22 characters, as Binance's)
        "clientOrderId": p["newClientOrderId"] or secrets.token_urlsafe(16),
    }
    optional = {"price": p["price"], "timeInForce": time_in_force, "stopPrice": p.get("stopPrice")}
    body.update((field, value) for field, value in optional.items() if value is not None)
    return body


def is_triggered(name: str) -> bool:
    """Whether a Binance type rests on a stop price (its refusal on arrival is "would trigger immediately")."""
    return TYPES[name].trigger
