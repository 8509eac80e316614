"""Order validation and exact order arithmetic, done in Python before the one script call that applies it.

An order is planned completely here: its fill price, cost and fee in integer units, the balance moves of its
fill (a taker order) or of its reservation (a resting limit), and for a resting order the moves its later fill
and its cancel will make. The scripts only check and apply those moves, so the rounding rules live in one
place:

- the cost of a buy is rounded *up* to a whole unit, the cost of a sell *down*; the fee is rounded up;
- a resting buy reserves its cost at its limit price plus the maker fee, which is exactly what its fill
  takes, so a fill never needs more money and a cancel releases exactly what was held;
- a resting sell reserves its amount of the base asset.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any

from ..errors import BadRequest, InvalidOrder
from ..keys import BUY, SELL, free_field, held_field, used_field
from .clock import iso8601
from .markets import MAX_PRICE, Market
from .money import MAX_AMOUNT, fmt, fmt_units, parse_positive, to_units, units_down, units_up
from .prices import Quote

MARKET, LIMIT = "market", "limit"
OPEN, CLOSED, CANCELED = "open", "closed", "canceled"
STATUSES = (OPEN, CLOSED, CANCELED)

#: An order may move at most MAX_AMOUNT of its quote asset, like any amount, so balances stay within int64.
MAX_COST_UNITS = to_units(MAX_AMOUNT)

_CLIENT_ORDER_ID = re.compile(r"[A-Za-z0-9_.:/=+-]{1,64}")


@dataclass(frozen=True)
class OrderRequest:
    """A validated order request: every field has the right type and range."""

    symbol: str
    side: str
    type: str
    amount: Decimal
    price: Decimal | None
    client_order_id: str | None


def validate_request(
    symbol: str, side: Any, type: Any, amount: Any, price: Any = None, client_order_id: Any = None
) -> OrderRequest:
    """Check an order's shape (the symbol's format is checked by the caller's market lookup)."""
    if side not in (BUY, SELL):
        raise InvalidOrder(f"side must be 'buy' or 'sell', got {str(side)[:40]!r}")
    if type not in (MARKET, LIMIT):
        raise InvalidOrder(f"type must be 'market' or 'limit', got {str(type)[:40]!r}")
    quantity = parse_positive(amount, "amount", InvalidOrder)
    limit: Decimal | None = None
    if type == LIMIT:
        if price is None:
            raise InvalidOrder("a limit order needs a price")
        limit = parse_positive(price, "price", InvalidOrder)
        if limit > MAX_PRICE:
            raise InvalidOrder(f"price {fmt(limit)} is above the maximum {fmt(MAX_PRICE)}")
    if client_order_id is not None and (
        not isinstance(client_order_id, str) or not _CLIENT_ORDER_ID.fullmatch(client_order_id)
    ):
        raise BadRequest("clientOrderId must be 1-64 characters of letters, digits and _.:/=+-")
    return OrderRequest(symbol, side, type, quantity, limit, client_order_id)


@dataclass
class OrderPlan:
    """Everything the place_order script needs, and the record it will store."""

    request: OrderRequest
    record: dict[str, Any]
    moves: list[str]
    book_score: str  # '' when the order fills on arrival
    spend_asset: str
    spend_units: int
    fill_price: Decimal
    cost_units: int
    fee_units: int
    taker: bool = field(default=True)

    def record_tail(self) -> str:
        """The JSON of the record minus its opening ``{``; the script puts ``{"id":"<id>",`` in front."""
        return json.dumps(self.record, separators=(",", ":"))[1:]


def _fee_units(cost_units: int, rate: Decimal) -> int:
    return int((Decimal(cost_units) * rate).to_integral_value(rounding=ROUND_CEILING))


def _move(op: str, field_name: str, units: int) -> list[str]:
    return [op, field_name, str(units)]


def plan_order(request: OrderRequest, market: Market, quote: Quote, now_ms: int) -> OrderPlan:
    """Price, cost, fee and balance moves of an order, exactly, from the current quote."""
    side, amount, limit = request.side, request.amount, request.price
    touch = quote.ask if side == BUY else quote.bid
    taker = limit is None or (limit >= touch if side == BUY else limit <= touch)
    fill_price = touch if taker else limit
    assert fill_price is not None
    rate = market.taker if taker else market.maker
    amount_units = to_units(amount)
    if side == BUY:
        cost_units = units_up(amount * fill_price)
    else:
        cost_units = units_down(amount * fill_price)
        if cost_units == 0:
            raise InvalidOrder(f"cost of selling {fmt(amount)} {market.base} at {fmt(fill_price)} rounds to zero")
    if cost_units > MAX_COST_UNITS:
        raise InvalidOrder(f"cost {fmt_units(cost_units)} {market.quote} is above the maximum {fmt(MAX_AMOUNT)}")
    fee_units = _fee_units(cost_units, rate)
    base, quote_asset = market.base, market.quote

    record: dict[str, Any] = {
        "clientOrderId": request.client_order_id,
        "timestamp": now_ms,
        "lastTradeTimestamp": now_ms if taker else None,
        "lastUpdateTimestamp": now_ms,
        "symbol": request.symbol,
        "type": request.type,
        "side": side,
        "timeInForce": "GTC" if request.type == LIMIT else "IOC",
        "price": fmt(fill_price),
        "average": fmt(fill_price) if taker else None,
        "amount": fmt(amount),
        "filled": fmt(amount) if taker else "0",
        "remaining": "0" if taker else fmt(amount),
        "cost": fmt_units(cost_units) if taker else "0",
        "status": CLOSED if taker else OPEN,
        "fee": {"currency": quote_asset, "cost": fmt_units(fee_units) if taker else "0", "rate": fmt(rate)},
        "takerOrMaker": "taker" if taker else "maker",
    }
    if side == BUY:
        spend_asset, spend_units = quote_asset, cost_units + fee_units
        if taker:  # the credit that brings new money comes first (see lua/lib.lua)
            moves = _move("C", free_field(base), amount_units) + _move("D", free_field(quote_asset), spend_units)
        else:
            moves = _reserve(quote_asset, spend_units)
            record["_fill"] = _move("C", free_field(base), amount_units) + _unhold(quote_asset, spend_units)
            record["_release"] = _move("C", free_field(quote_asset), spend_units) + _unhold(quote_asset, spend_units)
    else:
        spend_asset, spend_units = base, amount_units
        proceeds = cost_units - fee_units
        if taker:
            moves = _move("C", free_field(quote_asset), proceeds) + _move("D", free_field(base), amount_units)
        else:
            moves = _reserve(base, amount_units)
            record["_fill"] = _move("C", free_field(quote_asset), proceeds) + _unhold(base, amount_units)
            record["_release"] = _move("C", free_field(base), amount_units) + _unhold(base, amount_units)
    if not taker:
        record["_cost"] = fmt_units(cost_units)
        record["_fee"] = fmt_units(fee_units)
    score = "" if taker else str(to_units(fill_price))
    return OrderPlan(request, record, moves, score, spend_asset, spend_units, fill_price, cost_units, fee_units, taker)


def _reserve(asset: str, units: int) -> list[str]:
    return (
        _move("D", free_field(asset), units)
        + _move("C", used_field(asset), units)
        + _move("C", held_field(asset), units)
    )


def _unhold(asset: str, units: int) -> list[str]:
    return _move("D", used_field(asset), units) + _move("D", held_field(asset), units)


# -- views: stored records -> ccxt-unified structures ---------------------------------------------------------


def _dec(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def public_fields(record: dict[str, Any]) -> dict[str, Any]:
    """The record without the engine's private bookkeeping (fields starting with ``_``)."""
    return {k: v for k, v in record.items() if not k.startswith("_")}


def _fee_view(fee: dict[str, str]) -> dict[str, Any]:
    return {"currency": fee["currency"], "cost": Decimal(fee["cost"]), "rate": Decimal(fee["rate"])}


def order_view(record: dict[str, Any]) -> dict[str, Any]:
    """The ccxt-unified order of a stored record (numbers as exact Decimals)."""
    fee_view = _fee_view(record["fee"])
    return {
        "id": record["id"],
        "clientOrderId": record["clientOrderId"],
        "timestamp": record["timestamp"],
        "datetime": iso8601(record["timestamp"]),
        "lastTradeTimestamp": record["lastTradeTimestamp"],
        "lastUpdateTimestamp": record["lastUpdateTimestamp"],
        "symbol": record["symbol"],
        "type": record["type"],
        "timeInForce": record["timeInForce"],
        "postOnly": False,
        "reduceOnly": None,
        "side": record["side"],
        "price": Decimal(record["price"]),
        "triggerPrice": None,
        "stopPrice": None,
        "takeProfitPrice": None,
        "stopLossPrice": None,
        "average": _dec(record["average"]),
        "amount": Decimal(record["amount"]),
        "filled": Decimal(record["filled"]),
        "remaining": Decimal(record["remaining"]),
        "cost": Decimal(record["cost"]),
        "status": record["status"],
        "fee": fee_view,
        "fees": [dict(fee_view)],
        "trades": [],
        "info": public_fields(record),
    }


def trade_view(record: dict[str, Any]) -> dict[str, Any] | None:
    """The one trade of a filled order (orders fill whole), or None if it has not filled.

    The trade shares the order's id: one order, one fill.
    """
    if record["status"] != CLOSED:
        return None
    fee_view = _fee_view(record["fee"])
    stamp = record["lastTradeTimestamp"]
    return {
        "id": record["id"],
        "order": record["id"],
        "timestamp": stamp,
        "datetime": iso8601(stamp),
        "symbol": record["symbol"],
        "type": record["type"],
        "side": record["side"],
        "takerOrMaker": record["takerOrMaker"],
        "price": Decimal(record["average"]),
        "amount": Decimal(record["filled"]),
        "cost": Decimal(record["cost"]),
        "fee": fee_view,
        "fees": [dict(fee_view)],
        "info": public_fields(record),
    }
