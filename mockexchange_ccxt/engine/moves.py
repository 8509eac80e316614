"""Balance moves: what an operation does to the balances hash, planned here and checked and applied by Lua.

A plan adds debits and credits per field in any order; ``flat()`` nets them to one move per field (so a script
that checks each move against the balance it reads can never be fooled by two debits of one field) and adds the
checks the scripts enforce before writing anything (see lua/lib.lua):

- a debit never takes a field below zero;
- a credit never takes a field past int64;
- when an asset's free + used + pending grows, the sum must still fit in int64. ``pending`` counts what open
  orders' fills will bring in, so this check at placement proves that every later fill fits too: a fill only
  turns pending into free.
"""

from __future__ import annotations

from collections import defaultdict

from ..keys import asset_total_fields, free_field, held_field, pending_field, used_field

#: Fields whose sum is an asset's total for the int64 check (``held`` is part of ``used``).
_TOTAL_KINDS = ("free", "used", "pend")


class Moves:
    """Net balance changes of one operation, by field."""

    def __init__(self) -> None:
        self._net: dict[str, int] = defaultdict(int)
        self._required: dict[str, int] = defaultdict(int)

    @classmethod
    def parse(cls, flat: list[str]) -> Moves:
        """Moves from their flat form (as an order record keeps its fill and release); checks are recomputed."""
        moves = cls()
        for op, field, units in zip(flat[::3], flat[1::3], flat[2::3], strict=True):
            if op == "C":
                moves.credit(field, int(units))
            elif op == "D":
                moves.debit(field, int(units))
            elif op == "Q":
                moves.require(field, int(units))
        return moves

    def credit(self, field: str, units: int) -> Moves:
        self._net[field] += units
        return self

    def debit(self, field: str, units: int) -> Moves:
        self._net[field] -= units
        return self

    def require(self, field: str, units: int) -> Moves:
        """The field must hold ``units`` now, though nothing moves (an order that needs funds to be accepted
        but ends at once without filling)."""
        self._required[field] = max(self._required[field], units)
        return self

    def extend(self, other: Moves) -> Moves:
        for field, units in other._net.items():
            self._net[field] += units
        for field, units in other._required.items():
            self.require(field, units)
        return self

    # -- the moves orders make -------------------------------------------------------------------------------

    def reserve(self, asset: str, units: int) -> Moves:
        """Free -> used, held for an open order."""
        return self.debit(free_field(asset), units).credit(used_field(asset), units).credit(held_field(asset), units)

    def unhold(self, asset: str, units: int) -> Moves:
        """An open order's reservation leaves used (to be spent or released)."""
        return self.debit(used_field(asset), units).debit(held_field(asset), units)

    def release(self, asset: str, units: int) -> Moves:
        """Used -> free: the reverse of ``reserve``."""
        return self.unhold(asset, units).credit(free_field(asset), units)

    def expect(self, asset: str, units: int) -> Moves:
        """An open order's fill will bring ``units`` of ``asset``."""
        return self.credit(pending_field(asset), units)

    def settle_expected(self, asset: str, units: int) -> Moves:
        """The order that expected ``units`` of ``asset`` filled or ended."""
        return self.debit(pending_field(asset), units)

    # -- the script's view -------------------------------------------------------------------------------------

    def flat(self) -> list[str]:
        """``op, field, units`` triples: one C or D per changed field, Q for requirements, G for each asset whose
        total (free + used + pending) grows."""
        out: list[str] = []
        growth: dict[str, int] = defaultdict(int)
        for field, net in self._net.items():
            if net:
                out += ["C" if net > 0 else "D", field, str(abs(net))]
            kind, _, asset = field.partition(":")
            if kind in _TOTAL_KINDS:
                growth[asset] += net
        for field, units in self._required.items():  # checked against the balance before any move
            out += ["Q", field, str(units)]
        for asset, units in growth.items():
            if units > 0:
                out += ["G", " ".join(asset_total_fields(asset)), str(units)]
        return out


def resting_moves(spend_asset: str, spend: int, receive_asset: str, receive: int) -> tuple[Moves, Moves]:
    """What an open order that holds ``spend`` and expects ``receive`` moves when it fills (the reservation is
    spent, what it expected arrives) and when it is canceled (the reservation goes back): its record keeps both,
    so a fill or a cancel moves exactly what its placement reserved."""
    fill = Moves().unhold(spend_asset, spend).settle_expected(receive_asset, receive)
    fill.credit(free_field(receive_asset), receive)
    release = Moves().release(spend_asset, spend).settle_expected(receive_asset, receive)
    return fill, release
