"""Balances: funding, admin edits, and the ccxt-unified balance structure.

Stored as integer units in one hash (fields ``free:``, ``used:`` and ``held:`` per asset, see ``keys.py``);
here they become exact Decimals again.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..errors import BadRequest, InsufficientFunds, MockExchangeError
from ..keys import Keys, free_field, held_field, pending_field, used_field
from .clock import iso8601
from .markets import check_asset
from .money import fmt, fmt_units, from_units, parse_non_negative, parse_positive, to_units
from .moves import Moves
from .store import Store

#: The balances hash's fields that make an asset appear in a balance (``held`` and ``pend`` are bookkeeping).
_SHOWN = ("free", "used")


def asset_balance(free: Decimal, used: Decimal) -> dict[str, Decimal]:
    return {"free": free, "used": used, "total": free + used}


class Balances:
    """The account's money."""

    def __init__(self, store: Store, keys: Keys) -> None:
        self.store = store
        self.keys = keys

    def fund(self, asset: str, amount: Any) -> dict[str, Decimal]:
        """Add ``amount`` to the free balance of ``asset`` (a deposit); returns the asset's new balance."""
        check_asset(asset)
        units = to_units(parse_positive(amount, "amount", BadRequest))
        fields = [free_field(asset), used_field(asset)]
        try:
            moves = Moves().credit(fields[0], units).flat()
            free, used = self.store.run("fund", [self.keys.balances], [*fields, *moves])
        except MockExchangeError as exc:
            raise explain(exc) from None
        return asset_balance(from_units(free or 0), from_units(used or 0))

    def edit(self, asset: str, free: Any = None, used: Any = None) -> dict[str, Decimal]:
        """Set ``free`` and/or ``used`` of an asset to exact values (admin); None keeps a value.

        ``used`` may not go below what open orders reserve, so their fills and cancels stay covered.
        """
        check_asset(asset)
        if free is None and used is None:
            raise BadRequest("edit_balance needs free, used or both")
        free_units = "" if free is None else str(to_units(parse_non_negative(free, "free", BadRequest)))
        used_units = "" if used is None else str(to_units(parse_non_negative(used, "used", BadRequest)))
        free_after, used_after = self.store.run(
            "edit_balance",
            [self.keys.balances],
            [free_field(asset), used_field(asset), held_field(asset), pending_field(asset), free_units, used_units],
        )
        return asset_balance(from_units(free_after), from_units(used_after))

    def of(self, asset: str) -> dict[str, Decimal]:
        """``{'free', 'used', 'total'}`` of one asset (zeros for an asset never held)."""
        check_asset(asset)
        free, used = self.store.read("HMGET", self.keys.balances, free_field(asset), used_field(asset))
        return asset_balance(from_units(free or 0), from_units(used or 0))

    def free_units(self, asset: str) -> int:
        return int(self.store.read("HGET", self.keys.balances, free_field(asset)) or 0)

    def fetch(self, now_ms: int) -> dict[str, Any]:
        """The ccxt-unified balance of every asset the account has ever held."""
        fields: dict[str, str] = self.store.read("HGETALL", self.keys.balances)
        assets = sorted({name.partition(":")[2] for name in fields if name.partition(":")[0] in _SHOWN})
        result: dict[str, Any] = {"info": {}, "timestamp": now_ms, "datetime": iso8601(now_ms)}
        free_map: dict[str, Decimal] = {}
        used_map: dict[str, Decimal] = {}
        total_map: dict[str, Decimal] = {}
        for asset in assets:
            entry = asset_balance(
                from_units(fields.get(free_field(asset), 0)), from_units(fields.get(used_field(asset), 0))
            )
            result[asset] = entry
            free_map[asset], used_map[asset], total_map[asset] = entry["free"], entry["used"], entry["total"]
            result["info"][asset] = {name: fmt(value) for name, value in entry.items()}
        result.update(free=free_map, used=used_map, total=total_map)
        return result


def explain(error: MockExchangeError) -> MockExchangeError:
    """Turn a script's refusal into a sentence a trader reads: ``<field> <needed units> <available units>`` of
    INSUFFICIENT_FUNDS, or ``OVERFLOW <fields> <units>`` (a balance would pass the int64 limit); other errors
    are returned as they are."""
    parts = error.message.split()
    if isinstance(error, InsufficientFunds) and len(parts) == 3:
        field_name, need, have = parts
        kind, _, asset = field_name.partition(":")
        return InsufficientFunds(
            f"insufficient {asset}: needs {fmt_units(need)}, {kind} balance is {fmt_units(have)}"
            + ("" if kind == "free" else " (changed outside the engine)")
        )
    if parts and parts[0] == "OVERFLOW":
        asset = parts[1].partition(":")[2]
        return type(error)(
            f"would overflow the {asset} balance: free + used + what open orders will bring in, plus"
            f" {fmt_units(parts[-1])}, would pass its maximum of {fmt_units(2**63 - 1)} (a 64-bit integer of units)"
        )
    return error
