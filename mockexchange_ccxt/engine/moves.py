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

from ..keys import asset_total_fields, free_field, held_field, pending_field, used_field

#: Fields whose sum is an asset's total for the int64 check (``held`` is part of ``used``).
_TOTAL_KINDS = ("free", "used", "pend")


class Moves:
    """Net balance changes of one operation, by field."""

    __slots__ = ("_net", "_required")

    def __init__(self) -> None:
        self._net: dict[str, int] = {}
        self._required: dict[str, int] = {}

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
        net = self._net
        net[field] = net.get(field, 0) + units
        return self

    def debit(self, field: str, units: int) -> Moves:
        net = self._net
        net[field] = net.get(field, 0) - units
        return self

    def require(self, field: str, units: int) -> Moves:
        """The field must hold ``units`` now, though nothing moves (an order that needs funds to be accepted
        but ends at once without filling)."""
        self._required[field] = max(self._required.get(field, 0), units)
        return self

    def extend(self, other: Moves) -> Moves:
        net = self._net
        for field, units in other._net.items():
            net[field] = net.get(field, 0) + units
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
        growth: dict[str, int] = {}
        for field, net in self._net.items():
            if net:
                out += ("C", field, str(net)) if net > 0 else ("D", field, str(-net))
            kind, _, asset = field.partition(":")
            if kind in _TOTAL_KINDS:
                growth[asset] = growth.get(asset, 0) + net
        for field, units in self._required.items():  # checked against the balance before any move
            out += ("Q", field, str(units))
        for asset, units in growth.items():
            if units > 0:
                totals = _TOTALS.get(asset)
                if totals is None:
                    totals = _TOTALS[asset] = " ".join(asset_total_fields(asset))
                out += ("G", totals, str(units))
        return out


#: Each asset's total fields as ``flat`` names them (the assets an engine trades are few; made once each).
_TOTALS: dict[str, str] = {}


def resting_moves(spend_asset: str, spend: int, receive_asset: str, receive: int) -> tuple[Moves, Moves]:
    """What an open order that holds ``spend`` and expects ``receive`` moves when it fills (the reservation is
    spent, what it expected arrives) and when it is canceled (the reservation goes back): its record keeps both,
    so a fill or a cancel moves exactly what its placement reserved."""
    fill = Moves().unhold(spend_asset, spend).settle_expected(receive_asset, receive)
    fill.credit(free_field(receive_asset), receive)
    release = Moves().release(spend_asset, spend).settle_expected(receive_asset, receive)
    return fill, release


def resting_flats(spend_asset: str, spend: int, receive_asset: str, receive: int) -> tuple[list[str], list[str]]:
    """``resting_moves``' fill and release, flat: what every open order's record keeps. The two lists have the
    same shape for any two assets and positive units, so they are filled into a template made once from
    ``resting_moves`` itself (a string format, one call) instead of netted move by move."""
    if spend_asset != receive_asset and spend > 0 and receive > 0 and "\x00" not in spend_asset + receive_asset:
        fill, release = _RESTING
        return (
            fill.format(spend_asset, spend, receive_asset, receive).split("\x00"),
            release.format(spend_asset, spend, receive_asset, receive).split("\x00"),
        )
    fill_moves, release_moves = resting_moves(spend_asset, spend, receive_asset, receive)
    return fill_moves.flat(), release_moves.flat()


def _template(flat: list[str]) -> str:
    """A flat list made with the assets \x01 and \x02 and the units 1 and 2, as a format string of
    (asset held, units, asset expected, units) whose parts are joined by \x00."""
    roles = {"1": "{1}", "2": "{3}"}
    escaped = [part.replace("{", "{{").replace("}", "}}") for part in flat]
    return "\x00".join(
        roles[part] if i % 3 == 2 else part.replace("\x01", "{0}").replace("\x02", "{2}")
        for i, part in enumerate(escaped)
    )


_RESTING = tuple(_template(moves.flat()) for moves in resting_moves("\x01", 1, "\x02", 2))
