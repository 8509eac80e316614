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


def _dec(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def public_fields(record: dict[str, Any]) -> dict[str, Any]:
    """The record without the engine's private bookkeeping (fields starting with ``_``)."""
    return {k: v for k, v in record.items() if not k.startswith("_")}


def _fee_view(fee: dict[str, str]) -> dict[str, Any]:
    return {"currency": fee["currency"], "cost": Decimal(fee["cost"]), "rate": Decimal(fee["rate"])}


def order_view(record: dict[str, Any]) -> dict[str, Any]:
    """The ccxt-unified order of a stored record, with its trades."""
    fee_view = _fee_view(record["fee"])
    info = public_fields(record)
    trigger = _dec(record.get("triggerPrice"))
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
        "postOnly": bool(record.get("postOnly", False)),
        "reduceOnly": None,
        "side": record["side"],
        "price": _dec(record["price"]),
        "triggerPrice": trigger,
        "stopPrice": trigger,
        "takeProfitPrice": _dec(record.get("takeProfitPrice")),
        "stopLossPrice": _dec(record.get("stopLossPrice")),
        "average": _dec(record["average"]),
        "amount": Decimal(record["amount"]),
        "filled": Decimal(record["filled"]),
        "remaining": Decimal(record["remaining"]),
        "cost": Decimal(record["cost"]),
        "status": record["status"],
        "fee": fee_view,
        "fees": [dict(fee_view)],
        "trades": trade_views(record, info),
        "info": info,
    }


def trade_views(record: dict[str, Any], info: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The trades of an order: its fills, oldest first, or nothing if nothing has filled."""
    listed = record.get("_trades")
    if listed is None and Decimal(record["filled"]) == 0:
        return []
    if info is None:
        info = public_fields(record)
    if listed is not None:
        currency = record["fee"]["currency"]
        stamps = {stamp: iso8601(stamp) for stamp in {entry[1] for entry in listed}}  # a walk's trades share one
        return [_listed_trade(record, entry, currency, info, stamps[entry[1]]) for entry in listed]
    fee_view = _fee_view(record["fee"])
    stamp = record["lastTradeTimestamp"]
    return [
        {
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
            "info": info,
        }
    ]


def _listed_trade(
    record: dict[str, Any], entry: list[Any], currency: str, info: dict[str, Any], when: str | None
) -> dict[str, Any]:
    trade_id, stamp, price, amount, cost, fee, rate, role = entry
    fee_view = {"currency": currency, "cost": Decimal(fee), "rate": Decimal(rate)}
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
        "fee": fee_view,
        "fees": [dict(fee_view)],
        "info": info,
    }
