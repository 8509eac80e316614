"""Settlement (mixed into ``Engine``): the orders of one symbol that a quote crosses or triggers.

The same idempotent script settles a symbol whoever calls it (a price written through the engine, the tick
loop, a booking that raced a price write): it fills the resting limits the quote crosses, at their limit
(maker), and hands back the trigger orders the last price reached. Those are planned here at the same quote
(``triggers.plan_fire``) and applied by a second script that first checks each is still untriggered, so a
trigger never fires twice, whoever races it. Work is split into batches of ``SETTLE_BATCH`` orders so that no
script call blocks Valkey for long; an order the balances cannot take is skipped (and stays open, with the
reason in its record) and the next batch starts after it.
"""

from __future__ import annotations

import json
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING, Any

from ..config import Settings
from ..keys import BUY, DOWN, SELL, UP, Keys
from .markets import Market
from .money import UNITS_PER_ONE
from .prices import Quote
from .record_codec import unpack
from .store import Store
from .triggers import plan_fire


def _units(price: Decimal, rounding: str) -> int:
    return int((price * UNITS_PER_ONE).to_integral_value(rounding=rounding))


class SettlementMixin:
    """``settle_quote`` and the commands ``set_price`` and ``process_price_tick`` send."""

    settings: Settings
    store: Store
    keys: Keys

    if TYPE_CHECKING:

        def market(self, symbol: str) -> Market: ...

    def _settle_keys(self, symbol: str) -> list[str]:
        keys = self.keys
        return [
            keys.balances,
            keys.orders,
            keys.open_ids,
            keys.active_symbols,
            keys.book(symbol, BUY),
            keys.book(symbol, SELL),
            keys.triggers(symbol, UP),
            keys.triggers(symbol, DOWN),
            keys.symbol_fills(symbol),
            keys.finished_ids,
        ]

    def settle_command(self, quote: Quote, skipped: tuple[int, int, int, int] = (0, 0, 0, 0)) -> tuple[Any, ...]:
        """The settle script's command for a quote; ``skipped``: orders earlier batches left in each set."""
        return self.store.eval_command("settle", *self.settle_arguments(quote, skipped))

    def settle_arguments(
        self, quote: Quote, skipped: tuple[int, int, int, int] = (0, 0, 0, 0)
    ) -> tuple[list[str], list[Any]]:
        """The settle script's keys and arguments (``set_price`` sends them inside its own script on a single
        node)."""
        # Limits are whole units: a buy fills when limit >= ask, a sell when limit <= bid; a trigger fires when
        # the last price reaches it (touch counts).
        arguments = [
            quote.symbol,
            _units(quote.ask, ROUND_CEILING),
            _units(quote.bid, ROUND_FLOOR),
            _units(quote.price, ROUND_FLOOR),
            _units(quote.price, ROUND_CEILING),
            quote.timestamp,
            self.settings.settle_batch,
            *skipped,
        ]
        return self._settle_keys(quote.symbol), arguments

    def settle_quote(self, quote: Quote) -> int:
        """Settle one symbol at a quote; returns the orders filled."""
        return self.continue_settlement(quote, self.store.run_pipelined([self.settle_command(quote)])[0])

    def continue_settlement(self, quote: Quote, reply: list[Any]) -> int:
        """Finish a pass that began with ``reply`` (the first batch's answer): fire the triggered orders it
        handed back, then further batches while the last one was full."""
        skipped = [0, 0, 0, 0]
        filled = 0
        while True:
            taken, batch_filled, skip_buy, skip_sell = (int(value) for value in reply[:4])
            filled += batch_filled
            skipped[0] += skip_buy
            skipped[1] += skip_sell
            if len(reply) > 4:
                fired, skip_up, skip_down = self._fire(quote, reply[4:])
                filled += fired
                skipped[2] += skip_up
                skipped[3] += skip_down
            if taken < self.settings.settle_batch:
                return filled
            command = self.settle_command(quote, skipped=(skipped[0], skipped[1], skipped[2], skipped[3]))
            reply = self.store.run_pipelined([command])[0]

    def _fire(self, quote: Quote, pairs: list[Any]) -> tuple[int, int, int]:
        """Plan the triggered orders at the quote and apply them; returns (filled, skipped up, skipped down)."""
        market = self.market(quote.symbol)
        fires = []
        for order_id, raw in zip(pairs[::2], pairs[1::2], strict=True):
            if raw:
                fires.append(plan_fire(unpack(order_id, raw), market, quote).argument())
            else:  # the record is gone: the script drops the stale member
                fires.append(json.dumps({"id": order_id, "at": "", "plans": []}))
        keys = [*self._settle_keys(quote.symbol), self.keys.trade_orders, self.keys.sequence]
        _, filled, skip_up, skip_down = self.store.run("fire_triggers", keys, [quote.symbol, "", *fires])
        return int(filled), int(skip_up), int(skip_down)
