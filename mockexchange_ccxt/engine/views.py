"""Stored order records -> ccxt-unified orders and trades (numbers as exact Decimals).

A record keeps the engine's private bookkeeping in fields starting with ``_``; everything else is its public
``info``. An order's trades come from its record: under the touch fill model an order fills whole, once, so a
filled order has exactly one trade, which shares the order's id; under ``FILL_MODEL=book`` the record lists its
trades (``_trades``: id, time, price, amount, cost, fee, rate, taker or maker; an id written as a number is an
offset from the order's id; see ``engine/book_orders.py``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .clock import iso8601
from .money import DECIMALS


def _dec(text: str | None) -> Decimal | None:
    return None if text is None else DECIMALS[text]


def _fee_view(currency: str, cost: Decimal, rate: Decimal) -> dict[str, Any]:
    """A fee as ccxt shows it; a new dict each time (``fee`` and ``fees`` are separate objects, as in ccxt)."""
    return {"currency": currency, "cost": cost, "rate": rate}


def public_fields(record: dict[str, Any]) -> dict[str, Any]:
    """The record without the engine's private bookkeeping (fields starting with ``_``). Copied whole, then the
    few private fields deleted: several times faster than a comprehension (which grows its dict field by field)."""
    public = dict(record)
    for name in record:
        if name[:1] == "_":
            del public[name]
    return public


def order_view(record: dict[str, Any]) -> dict[str, Any]:
    """The ccxt-unified order of a stored record, with its trades."""
    fee = record["fee"]
    currency, fee_cost, rate = fee["currency"], DECIMALS[fee["cost"]], DECIMALS[fee["rate"]]
    info = public_fields(record)
    get = record.get
    trigger_price, average_price = _dec(get("triggerPrice")), _dec(record["average"])
    filled, cost = DECIMALS[record["filled"]], DECIMALS[record["cost"]]
    if get("_trades") is not None or filled:  # the Decimals made here serve its trade too (they are immutable)
        trades = _trades(record, info, average_price, filled, cost, fee_cost, rate)
    else:
        trades = []
    timestamp = record["timestamp"]
    return {
        "id": record["id"],
        "clientOrderId": record["clientOrderId"],
        "timestamp": timestamp,
        "datetime": iso8601(timestamp),
        "lastTradeTimestamp": record["lastTradeTimestamp"],
        "lastUpdateTimestamp": record["lastUpdateTimestamp"],
        "symbol": record["symbol"],
        "type": record["type"],
        "timeInForce": record["timeInForce"],
        "postOnly": bool(get("postOnly", False)),
        "reduceOnly": None,
        "side": record["side"],
        "price": _dec(record["price"]),
        "triggerPrice": trigger_price,
        "stopPrice": trigger_price,
        "takeProfitPrice": _dec(get("takeProfitPrice")),
        "stopLossPrice": _dec(get("stopLossPrice")),
        "average": average_price,
        "amount": DECIMALS[record["amount"]],
        "filled": filled,
        "remaining": DECIMALS[record["remaining"]],
        "cost": cost,
        "status": record["status"],
        "fee": _fee_view(currency, fee_cost, rate),
        "fees": [_fee_view(currency, fee_cost, rate)],
        "trades": trades,
        "info": info,
    }


def named(view: dict[str, Any], order_id: str) -> dict[str, Any]:
    """The view ``order_view`` made of a touch order's record before the script that placed it gave it its id
    (made while Valkey ran that script), with the id: the order's, its ``info``'s, and its trade's, which shares
    it. A book walk's trades are numbered from the id, so their views are made after it is known."""
    view["id"] = view["info"]["id"] = order_id
    for trade in view["trades"]:
        trade["id"] = trade["order"] = order_id
    return view


def trade_views(record: dict[str, Any], info: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The trades of an order: its fills, oldest first, or nothing if nothing has filled."""
    filled = DECIMALS[record["filled"]]
    if record.get("_trades") is None and filled == 0:
        return []
    fee = record["fee"]
    return _trades(
        record,
        public_fields(record) if info is None else info,
        _dec(record["average"]),
        filled,
        DECIMALS[record["cost"]],
        DECIMALS[fee["cost"]],
        DECIMALS[fee["rate"]],
    )


def _trades(
    record: dict[str, Any],
    info: dict[str, Any],
    average: Decimal | None,
    filled: Decimal,
    cost: Decimal,
    fee_cost: Decimal,
    rate: Decimal,
) -> list[dict[str, Any]]:
    """The trades of an order that has some, from its record and the numbers its view already made of it."""
    listed = record.get("_trades")
    if listed is not None:
        currency = record["fee"]["currency"]
        stamps = {stamp: iso8601(stamp) for stamp in {entry[1] for entry in listed}}  # a walk's trades share one
        return [_listed_trade(record, entry, currency, info, stamps[entry[1]]) for entry in listed]
    currency, stamp, order_id = record["fee"]["currency"], record["lastTradeTimestamp"], record["id"]
    price = DECIMALS[record["average"]] if average is None else average  # (a record without one raises, as ever)
    return [
        {
            "id": order_id,
            "order": order_id,
            "timestamp": stamp,
            "datetime": iso8601(stamp),
            "symbol": record["symbol"],
            "type": record["type"],
            "side": record["side"],
            "takerOrMaker": record["takerOrMaker"],
            "price": price,
            "amount": filled,
            "cost": cost,
            "fee": _fee_view(currency, fee_cost, rate),
            "fees": [_fee_view(currency, fee_cost, rate)],
            "info": info,
        }
    ]


def _listed_trade(
    record: dict[str, Any], entry: list[Any], currency: str, info: dict[str, Any], when: str | None
) -> dict[str, Any]:
    trade_id, stamp, price, amount, cost, fee, rate, role = entry
    fee_cost, fee_rate = Decimal(fee), Decimal(rate)
    return {
        "id": str(int(record["id"]) + trade_id)
        if isinstance(trade_id, int)
        else trade_id,  # an offset from the order's
        "order": record["id"],
        "timestamp": stamp,
        "datetime": when,
        "symbol": record["symbol"],
        "type": record["type"],
        "side": record["side"],
        "takerOrMaker": role,
        "price": Decimal(price),
        "amount": Decimal(amount),
        "cost": Decimal(cost),
        "fee": _fee_view(currency, fee_cost, fee_rate),
        "fees": [_fee_view(currency, fee_cost, fee_rate)],
        "info": info,
    }
