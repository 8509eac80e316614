"""Stored order records -> ccxt-unified orders and trades (numbers as exact Decimals).

A record keeps the engine's private bookkeeping in fields starting with ``_``; everything else is its public
``info``. An order's trades are derived from its record: under the touch fill model an order fills whole, once,
so a filled order has exactly one trade, which shares the order's id.
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


def trade_id_order(trade_id: str) -> str:
    """The order a trade id belongs to (a trade shares its order's id)."""
    return trade_id


def trade_views(record: dict[str, Any], info: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The trades of an order: its fill, or nothing if nothing has filled."""
    if Decimal(record["filled"]) == 0:
        return []
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
            "info": public_fields(record) if info is None else info,
        }
    ]
