"""``mockexchange order`` and ``can-execute``: every order type and parameter the engine takes, as flags.

Each becomes one ``routes.Call`` with the body of ``POST /orders`` (or ``/orders/can_execute``), so it works
straight on Valkey and against a server alike.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from .engine.order_request import ORDER_TYPES, TIME_IN_FORCE
from .routes import Call

#: Trigger flags -> the body field each sets.
_TRIGGER_FLAGS = {
    "trigger-price": "triggerPrice",
    "stop-price": "stopPrice",
    "stop-loss-price": "stopLossPrice",
    "take-profit-price": "takeProfitPrice",
}


def add_order_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """The ``order`` and ``can-execute`` commands (``command`` makes a top-level command parser)."""
    for name, help in (
        ("order", "place an order: limit with --price, else market"),
        ("can-execute", "would this order be accepted now? (changes nothing)"),
    ):
        order = command(name, help)
        order.add_argument("side", choices=("buy", "sell"))
        order.add_argument("symbol", metavar="SYMBOL")
        order.add_argument("amount", nargs="?", metavar="AMOUNT", help="amount of base (omit with --cost)")
        order.add_argument("--price", help="limit price")
        order.add_argument("--type", choices=ORDER_TYPES, help="order type (default: limit with --price, else market)")
        order.add_argument("--client-order-id", metavar="ID", help="your own id, unique per account")
        order.add_argument("--time-in-force", choices=TIME_IN_FORCE, help="GTC (limit default), IOC, FOK, PO")
        order.add_argument("--post-only", action="store_true", help="refused if it would take liquidity")
        for flag, field in _TRIGGER_FLAGS.items():
            order.add_argument(f"--{flag}", metavar="PRICE", help=f"trigger price ({field})")
        order.add_argument("--cost", help="market order: trade this much quote instead of an amount")


def order_call(args: argparse.Namespace) -> Call:
    body: dict[str, Any] = {
        "symbol": args.symbol,
        "side": args.side,
        "type": args.type or ("market" if args.price is None else "limit"),
        "amount": args.amount,
        "price": args.price,
        "clientOrderId": args.client_order_id,
        "timeInForce": args.time_in_force,
        "postOnly": True if args.post_only else None,
        "cost": args.cost,
        **{field: getattr(args, flag.replace("-", "_")) for flag, field in _TRIGGER_FLAGS.items()},
    }
    body = {name: value for name, value in body.items() if value is not None}
    return Call("create_order" if args.command == "order" else "can_execute", body=body)
