"""The stored form of an order record: the only module that knows it (besides the names it hands to the scripts).

Every order stays in Valkey until retention trims it, so its record is the engine's main cost in memory. The
engine works on full records (``engine/orders.py`` builds them, ``engine/views.py`` turns them into answers);
Valkey holds them compact:

- every field under a short name (``NAMES``), the order's id not at all (it is the hash field);
- a field that follows from the others is left out when it has the value it follows to (``_DEFAULTS``): the
  last update is the placement time, the last trade the last update once ``closed``, ``filled`` the amount once
  ``closed`` (else 0), ``remaining`` what is left of the amount, ``average`` the price once ``closed``, the
  cost and the fee of a closed order its one trade's at its price, the time in force and taker or maker its
  type's (market: IOC, taker; limit: GTC, maker), the fee's currency the symbol's quote, and nulls;
- the fee's three fields side by side instead of in an object of their own;
- an open order's fill and cancel moves as the four values they are made of (``HELD``).

Decoding gives the same full record, field for field, with the fields in the order of a freshly placed order's
(the order of its answer's ``info``): the order's fields, then the other public ones (``EXTRAS`` in that
order), then the private ones. A record stored before this form (it spells ``status``) is read as it is, so
upgraded data stays readable; a script that rewrites it stores it compact.

The scripts read and write records through ``lib.lua``'s ``load_order``/``save_order``, which rename the short
names to the long ones and back with the table ``RECORD_NAMES`` (``with_names``, called by ``engine/scripts.py``
when it makes the library), so a script spells fields by their long names. A script that finishes an order
leaves out what follows (``filled``, ``remaining``, ``average``, ``lastTradeTimestamp``): those rules are the
ones below.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from .money import fee_units, fmt_units, text_units, units_down, units_up
from .moves import resting_moves

#: The order's own fields, in the order of its answer's ``info``, and the short name each is stored under.
ORDER_FIELDS = {
    "clientOrderId": "o",
    "timestamp": "t",
    "lastUpdateTimestamp": "lu",
    "lastTradeTimestamp": "lt",
    "symbol": "s",
    "type": "k",
    "side": "d",
    "timeInForce": "tf",
    "price": "p",
    "average": "av",
    "amount": "a",
    "filled": "fl",
    "remaining": "r",
    "cost": "c",
    "status": "x",
    "takerOrMaker": "m",
}
#: The fee, stored flat (``fee_currency`` and so on are also the names the scripts see).
FEE_FIELDS = {"currency": "fq", "cost": "fc", "rate": "fr"}
#: Public fields only some orders have, in the order ``engine/orders.py`` and the planners add them.
EXTRAS = {
    "postOnly": "po",
    "orderType": "ot",
    "quoteOrderQty": "qq",
    "triggerPrice": "tp",
    "stopLossPrice": "sl",
    "takeProfitPrice": "tk",
    "triggerTimestamp": "tt",
    "reason": "rs",
}
#: The engine's private bookkeeping (``engine/orders.py``, ``engine/book_orders.py``), kept last.
PRIVATE = {
    "_at": "_a",
    "_fill": "_f",
    "_release": "_r",
    "_cost": "_c",
    "_fee": "_e",
    "_trade": "_t",
    "_done": "_d",
    "_trades": "_ts",
}
#: An open order's ``_fill`` and ``_release`` (or a trigger order's ``_release`` alone) as what ``resting_moves``
#: makes them of: [asset it holds, units, asset it expects, units]; the scripts see them as ``_held``.
HELD = {"_held": "_h", "_held_release": "_hr"}
#: Every long name -> its short name, as the scripts see them (the fee as ``fee_<field>``).
NAMES = {
    **ORDER_FIELDS,
    **{f"fee_{name}": short for name, short in FEE_FIELDS.items()},
    **EXTRAS,
    **PRIVATE,
    **HELD,
}
#: The order of the answer's ``info``: where the fee goes among the order's fields.
_INFO_ORDER = (
    "clientOrderId",
    "timestamp",
    "lastTradeTimestamp",
    "lastUpdateTimestamp",
    "symbol",
    "type",
    "side",
    "timeInForce",
    "price",
    "average",
    "amount",
    "filled",
    "remaining",
    "cost",
    "status",
    "fee",
    "takerOrMaker",
)
_NO_DEFAULT = object()
_KNOWN = frozenset(NAMES.values())

Fields = dict[str, Any]


def _remaining(done: Fields) -> Any:
    if done["status"] == "closed":
        return "0"
    return done["amount"] if done["filled"] == "0" else _NO_DEFAULT


def _cost(done: Fields) -> Any:
    """A closed order's cost at its price: its one trade's (a buyer's rounded up, a seller's down)."""
    if done["status"] != "closed":
        return "0"
    if done["price"] is None:
        return _NO_DEFAULT
    value = Decimal(done["filled"]) * Decimal(done["price"])
    return fmt_units(units_up(value) if done["side"] == "buy" else units_down(value))


def _fee_cost(done: Fields) -> Any:
    """A closed order's fee: its cost at its rate, rounded up."""
    if done["status"] != "closed":
        return "0"
    return fmt_units(fee_units(text_units(done["cost"]), Decimal(done["fee_rate"])))


#: What a field is when the stored record leaves it out, from the fields decoded before it (dict order).
_DEFAULTS: dict[str, Callable[[Fields], Any]] = {
    "clientOrderId": lambda done: None,
    "lastUpdateTimestamp": lambda done: done["timestamp"],
    "lastTradeTimestamp": lambda done: done["lastUpdateTimestamp"] if done["status"] == "closed" else None,
    "timeInForce": lambda done: "IOC" if done["type"] == "market" else "GTC",
    "price": lambda done: None,
    "filled": lambda done: done["amount"] if done["status"] == "closed" else "0",
    "remaining": _remaining,
    "average": lambda done: done["price"] if done["status"] == "closed" else None,
    "cost": _cost,
    "takerOrMaker": lambda done: "taker" if done["type"] == "market" else "maker",
    "fee_currency": lambda done: done["symbol"].partition("/")[2],
    "fee_cost": _fee_cost,
}
#: The fields every record stores, decoded first: the defaults above read them.
_REQUIRED = ("timestamp", "symbol", "type", "side", "amount", "status", "fee_rate")
_DECODE_ORDER = (*_REQUIRED, *_DEFAULTS)


def pack(record: dict[str, Any]) -> str:
    """The stored text of a full record (its ``id``, if it carries one, is left out: it is the hash field)."""
    flat = {name: value for name, value in record.items() if name not in ("id", "fee")}
    for name, value in record["fee"].items():
        flat[f"fee_{name}"] = value
    done: Fields = {}
    out: dict[str, Any] = {}
    for name in _DECODE_ORDER:
        value = done[name] = flat.pop(name)
        if name in _REQUIRED or value != _DEFAULTS[name](done):
            out[NAMES[name]] = value
    if "_release" in flat:
        held = _held_of(flat.get("_fill"), flat["_release"])
        if held is not None:
            out[HELD["_held" if "_fill" in flat else "_held_release"]] = held
            flat.pop("_fill", None), flat.pop("_release")
    for name, value in flat.items():
        out[NAMES.get(name, name)] = value
    return json.dumps(out, separators=(",", ":"))


def unpack(order_id: str, raw: str) -> dict[str, Any]:
    """The full record of a stored one, in either form, with its id first."""
    stored: dict[str, Any] = json.loads(raw)
    if "status" in stored:  # the verbose form (it has its id)
        return stored
    done: Fields = {}
    for name in _DECODE_ORDER:
        short = NAMES[name]
        if short in stored:
            done[name] = stored[short]
        else:
            value = _DEFAULTS[name](done)
            if value is _NO_DEFAULT:
                raise ValueError(f"order {order_id}: the stored record has no {name}")
            done[name] = value
    record: dict[str, Any] = {"id": order_id}
    for name in _INFO_ORDER:
        if name == "fee":
            record["fee"] = {field: done[f"fee_{field}"] for field in FEE_FIELDS}
        else:
            record[name] = done[name]
    for name, short in EXTRAS.items():
        if short in stored:
            record[name] = stored[short]
    for short, value in stored.items():
        if short not in _KNOWN:
            record[short] = value
    held, both = stored.get(HELD["_held"]), True
    if held is None:
        held, both = stored.get(HELD["_held_release"]), False
    for name, short in PRIVATE.items():
        if short in stored:
            record[name] = stored[short]
        elif held is not None and (name == "_release" or (name == "_fill" and both)):
            record[name] = _held_moves(held)[name == "_release"]
    return record


#: ``resting_moves`` with placeholders: the asset it holds is \x01 and its units 1, the asset it expects \x02
#: and 2; each move of the template is (op, field up to the asset, 1 or 2).
_TEMPLATE = [
    [(flat[i], flat[i + 1][:-1], int(flat[i + 2])) for i in range(0, len(flat), 3)]
    for flat in (moves.flat() for moves in resting_moves("\x01", 1, "\x02", 2))
]


def _held_moves(held: list[str]) -> tuple[list[str], list[str]]:
    """``_fill`` and ``_release`` of [asset held, units, asset expected, units]."""
    fill, release = resting_moves(held[0], int(held[1]), held[2], int(held[3]))
    return fill.flat(), release.flat()


def _held_of(fill: list[str] | None, release: list[str]) -> list[str] | None:
    """[asset held, units, asset expected, units] when the moves are what ``resting_moves`` makes of them."""
    template = _TEMPLATE[1]
    if len(release) != 3 * len(template):
        return None
    held = ["", "", "", ""]
    for k, (_op, prefix, role) in enumerate(template):
        held[2 * role - 2], held[2 * role - 1] = release[3 * k + 1][len(prefix) :], release[3 * k + 2]
    if not all(held) or not (held[1].isdigit() and held[3].isdigit()):
        return None
    expected = _held_moves(held)
    return held if release == expected[1] and (fill is None or fill == expected[0]) else None


#: The line of ``lib.lua`` that ``with_names`` fills in.
_LUA_NAMES = "local RECORD_NAMES = {}\n"


def with_names(source: str) -> str:
    """A script's source with ``lib.lua``'s table ``RECORD_NAMES`` (long name -> short name, what its
    ``load_order`` and ``save_order`` rename by) filled in from ``NAMES``."""
    entries = ", ".join(f"[{json.dumps(name)}] = {json.dumps(short)}" for name, short in NAMES.items())
    fill, release = (
        ", ".join(f"{json.dumps(op)}, {json.dumps(prefix)}, {role}" for op, prefix, role in moves)
        for moves in _TEMPLATE
    )
    names = f"local RECORD_NAMES = {{{entries}}}\nlocal RECORD_HELD = {{fill = {{{fill}}}, release = {{{release}}}}}\n"
    return source.replace(_LUA_NAMES, names, 1)


def unpack_pairs(reply: list[str]) -> list[dict[str, Any]]:
    """The full records of a script's reply ``[id, stored record, id, stored record, ...]``."""
    return [unpack(reply[i], reply[i + 1]) for i in range(0, len(reply), 2)]
