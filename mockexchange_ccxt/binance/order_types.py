"""Binance's order types, and the translation of a Binance new-order request into the body of the route table's
``create_order``: Binance's names in, the engine's names out.

What an order type means (how it fills, what it reserves, when it triggers, when it is refused) is the engine's
decision: each Binance type is the engine's type of the same name, each time in force the engine's, and
``quoteOrderQty`` the engine's ``cost``. The dialect checks only what Binance checks before an order reaches its
matching engine (which parameters a type needs or refuses), with Binance's own code and text, before anything
is sent.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from . import errors as e
from .context import Context


@dataclass(frozen=True)
class OrderType:
    engine: str  # the engine's name of the type
    limit: bool  # has a limit price (and, but for LIMIT_MAKER, a time in force)
    trigger: bool  # has a stopPrice


#: Binance's spot order types, in Binance's order (exchangeInfo's ``orderTypes``: ccxt refuses any other type
#: before sending it).
TYPES: dict[str, OrderType] = {
    "LIMIT": OrderType("limit", limit=True, trigger=False),
    "LIMIT_MAKER": OrderType("limit_maker", limit=True, trigger=False),
    "MARKET": OrderType("market", limit=False, trigger=False),
    "STOP_LOSS": OrderType("stop_loss", limit=False, trigger=True),
    "STOP_LOSS_LIMIT": OrderType("stop_loss_limit", limit=True, trigger=True),
    "TAKE_PROFIT": OrderType("take_profit", limit=False, trigger=True),
    "TAKE_PROFIT_LIMIT": OrderType("take_profit_limit", limit=True, trigger=True),
}

#: Binance's time in force values (each the engine's of the same name; GTC is what a limit does without one).
TIME_IN_FORCE = ("GTC", "IOC", "FOK")

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
    return given


def _amounts(kind: OrderType, p: dict[str, Any]) -> dict[str, str]:
    """``quantity``, or for a MARKET order ``quoteOrderQty`` (the engine's ``cost``, either side)."""
    quantity, quote_amount = p["quantity"], p.get("quoteOrderQty")
    if quote_amount is not None:
        if kind.engine != "market":
            raise e.not_required("quoteOrderQty")
        if quantity is not None:
            raise e.not_required("quantity")
        return {"cost": quote_amount}
    if quantity is None:
        if kind.engine == "market":
            raise e.BinanceError(-1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!")
        raise e.mandatory("quantity")
    return {"amount": quantity}


def order_body(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    """The route table's ``create_order`` body for a Binance new-order request."""
    name = p["type"]
    kind = TYPES[name]
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
