"""Placing orders under ``FILL_MODEL=book`` (mixed into ``Engine``): plan against the book snapshot, then apply
with the snapshot checked in the same atomic step as the fill.

- A single Valkey: one script (``place_order.lua`` with the feed hash and the snapshot's consumption hash) checks
  that the feed still holds the snapshot and that every level still has what the plan takes, checks the funds,
  and writes the fill and what it took from the book, or answers ``STALE`` having changed nothing.
- Valkey Cluster, where no script may touch the feed's slot and the account's: ``take_depth.lua`` first takes
  the plan's liquidity in the feed's slot (the same checks), then the account's script fills the order; if the
  account's script refuses it (funds, a repeated clientOrderId), the liquidity is given back. Liquidity is never
  taken twice; a process that stops between the two steps leaves it taken until the next snapshot. A resting
  order booked there is followed by a read of the feed: a snapshot written meanwhile is settled at once.

``STALE`` means the book moved between the read and the script: the order is planned again from what Valkey
holds then, up to ``snapshot.ATTEMPTS`` times (then 503: nothing was placed).

On a single Valkey the snapshot an order was placed at, with what it took, is remembered
(``QuoteMemory.snapshots``), and the next order on the symbol is planned from it without a read: one round trip.
The script's check makes that safe: it holds only when the feed still holds the snapshot and each level still has
what the plan takes, and then the plan is the one a fresh read would have made (another process's takes that it
did not see only leave the levels it takes from fuller than they are, which the check refuses). When it does not
hold, the script answers the snapshot it found (the feed's fields, the depth, what was taken), and the order is
planned again from that: two round trips, as with a read first. A plan refused at a remembered snapshot is made
again at a fresh read before the refusal stands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import MockExchangeError, StoreUnavailable
from .balances import explain
from .markets import Market
from .money import to_units
from .order_request import OrderRequest, validate_request
from .orders import OrderPlan, plan_order
from .placement import is_stale
from .snapshot import ATTEMPTS, DepthSpec, Snapshot, parse_snapshot, snapshot_commands, stale_snapshot
from .trading import TradingMixin
from .views import order_view


class BookTrading(TradingMixin):
    """``create_order`` and ``can_execute`` when orders fill against the book (the rest of the order methods
    and what they need of the engine: ``TradingMixin``)."""

    if TYPE_CHECKING:  # provided by Engine

        def process_price_tick(self, symbol: str) -> int: ...

    def snapshot(self, symbol: str, required: bool = False) -> Snapshot | None:
        """The symbol's book snapshot with what orders took from it (one round trip). ``required``: raise as
        ``require_quote`` does when the symbol has no valid price."""
        replies = self.store.pipeline(snapshot_commands(self.keys, symbol), writes=False, errors_as_values=True)
        return parse_snapshot(symbol, replies, self.settings, self.feed if required else None)

    def _book_plan(
        self, request: OrderRequest, market: Market, snapshot: Snapshot | None = None
    ) -> tuple[OrderPlan, DepthSpec]:
        """The plan of ``request`` against ``snapshot`` (default: one read now) and what it expects of the book."""
        if snapshot is None:
            snapshot = self.snapshot(request.symbol, required=True)
            assert snapshot is not None
        view = snapshot.sides(to_units(market.step))
        plan = plan_order(request, market, snapshot.quote, self.now_ms(), view, self.settings.max_slippage_bps)
        spec = DepthSpec(snapshot)
        spec.add(plan.takes)
        return plan, spec

    def _depth_keys(self, symbol: str) -> list[str]:
        return [self.keys.price(symbol), self.keys.depth_taken(symbol)]

    def place_on_book(self, symbol: str, args: tuple[Any, ...], flags: dict[str, Any]) -> dict[str, Any]:
        """``create_order`` under the book model (``args``: side, type, amount, price, client_order_id)."""
        market = self.market(symbol)
        request = validate_request(symbol, *args, **flags)
        cluster, memory = self.store.cluster, self.quote_memory.snapshots
        snapshot = None if cluster else memory.get(symbol)
        remembered = snapshot is not None  # else what Valkey held just now (read, or found by the script)
        for _ in range(ATTEMPTS):
            try:
                plan, spec = self._book_plan(request, market, snapshot)
            except MockExchangeError:
                if not remembered:
                    raise
                snapshot, remembered = None, False  # judged again at the book as it is now
                continue
            snapshot, remembered = None, False
            taken = cluster and bool(plan.takes)
            if taken and self.store.run("take_depth", self._depth_keys(symbol), ["take", *spec.args()]) == "STALE":
                continue
            reads = snapshot_commands(self.keys, symbol) if cluster and plan.rests_in else []
            try:
                order_id, after = self.store.run_with_reads(self._place_command(plan, spec=spec), reads)
            except MockExchangeError as exc:
                if taken and not isinstance(exc, StoreUnavailable):  # refused: nothing filled, give it back
                    self.store.run("take_depth", self._depth_keys(symbol), ["give", *spec.args()])
                raise explain(exc) from None
            if is_stale(order_id):  # the script answers the snapshot it found: planned again without a read
                snapshot = stale_snapshot(symbol, order_id, self.settings, self.feed)
                continue
            if not cluster:  # what Valkey now holds of this book, as far as this process knows
                memory[symbol] = spec.snapshot.after(spec.units())
            self.join_holders(symbol)
            if after:
                now = parse_snapshot(symbol, after, self.settings)
                if now is not None and DepthSpec(now).args()[:7] != spec.args()[:7]:
                    self.process_price_tick(symbol)  # a snapshot came between the plan and the booking
            return order_view({"id": order_id, **plan.record})
        raise StoreUnavailable(
            f"the book of {symbol} changed {ATTEMPTS} times while this order was planned; nothing was placed, try again"
        )

    def can_execute_on_book(self, symbol: str, args: tuple[Any, ...], flags: dict[str, Any]) -> dict[str, Any]:
        """``can_execute`` under the book model: the same plan and the same checks, written nowhere."""
        for _ in range(ATTEMPTS):
            try:
                plan, spec = self._book_plan(validate_request(symbol, *args, **flags), self.market(symbol))
            except MockExchangeError as exc:
                return {"ok": False, "code": exc.code, "reason": exc.message}
            verdict = self._dry_run(plan, spec)
            if isinstance(verdict, dict):
                return verdict
        raise StoreUnavailable(f"the book of {symbol} kept changing; try again")
