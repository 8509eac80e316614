"""One round trip per order on a single Valkey: plan from the last quote this process saw, and let the placing
script check that the feed still holds it.

Reading the price before the script would cost a round trip of its own. Instead the engine keeps, per symbol,
the last valid quote it read (``QuoteMemory``, shared by an engine and its account views) and plans the order
from it in Python. The placing script receives the feed hash among its KEYS and the quote's fields as read
(``feed_expectation``: price, timestamp, bid, ask, as text) and compares them with what the feed holds, in the
same atomic step as the fill (book_lib.lua ``depth_holds``, the check ``FILL_MODEL=book`` makes for its snapshots):

- they still hold: the order is applied, at exactly the price it was planned at, which is the feed's price;
- the feed moved on: nothing is written and the script answers ``STALE`` with the feed's fields as it found
  them, so the order is planned again from those and sent again: one more round trip, never a fill at a price
  that was already replaced, and never a refusal made at a price that was already replaced either (a plan
  refused from a remembered quote is planned again from a fresh read before the refusal stands).

The first order on a symbol reads the quote first, unless this process wrote the symbol's price (``set_price``
remembers what it wrote, as a read would give it: a back-test that writes a price before each order needs no
read either). On Valkey Cluster no script may touch the feed's slot and
the account's, so the engine reads the feed, then runs the script (``TradingMixin``'s two-step path).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ..errors import MockExchangeError, StoreUnavailable
from ..memo import Memo
from .prices import PriceFeed, Quote, padded
from .snapshot import ATTEMPTS, Snapshot, feed_expectation

#: What a placing script answers when the feed no longer holds what the plan was made from.
STALE = "STALE"

#: The depth part of a quote-only expectation: bids' and asks' SHA-1 not compared, no levels taken.
_NO_DEPTH = ["*", "*", "0"]

Plan = TypeVar("Plan")


def is_stale(reply: Any) -> bool:
    """Whether a placing script found the feed moved (``'STALE'``, or a list that starts with it)."""
    return reply == STALE or (isinstance(reply, list) and bool(reply) and reply[0] == STALE)


def quote_spec(quote: Quote) -> tuple[str, ...]:
    """The script arguments (book_lib.lua ``depth_spec``) that check a quote alone: its fields, no depth. Made
    once per quote: every order planned from a remembered quote sends the same (a quote's price, time, bid and
    ask never change; only a book snapshot adds its depth fields to ``raw``)."""
    made = _SPECS.get(quote.symbol)
    if made is None or made[0] is not quote:
        made = _SPECS.keep(quote.symbol, (quote, (*feed_expectation(quote), *_NO_DEPTH)))
    return made[1]


_SPECS: Memo[str, tuple[Quote, tuple[str, ...]]] = Memo(10_000)


#: How many resting orders' symbols an engine remembers (past it, it starts over: a cancel then reads first).
SYMBOLS_KEPT = 100_000


class QuoteMemory:
    """What this process saw, so that a call needs no read before its script: the last valid quote per symbol
    (what the next order on it is planned from), and the symbol of each order it placed that rests (the keys a
    cancel of it touches)."""

    def __init__(self, feed: PriceFeed) -> None:
        self.feed = feed
        self._quotes: dict[str, Quote] = {}
        self._symbols: Memo[str, str] = Memo(SYMBOLS_KEPT)
        self.snapshots: dict[str, Snapshot] = {}  # FILL_MODEL=book: the last snapshot, with what this process took

    def placed(self, order_id: str, symbol: str) -> None:
        self._symbols.keep(order_id, symbol)

    def symbol_of(self, order_id: str) -> str | None:
        return self._symbols.get(order_id)

    def forget_order(self, order_id: str) -> None:
        self._symbols.pop(order_id, None)

    def get(self, symbol: str) -> Quote | None:
        return self._quotes.get(symbol)

    def read(self, symbol: str) -> Quote:
        """The feed's quote now (one read), remembered; raises as ``PriceFeed.require_quote`` (and forgets the
        symbol) when it has no valid price."""
        return self._remember(symbol, lambda: self.feed.require_quote(symbol))

    def found(self, symbol: str, reply: list[Any]) -> Quote:
        """The quote in a ``STALE`` reply (the feed's fields as the script found them), remembered; raises as
        ``require_quote`` would have for those fields. A reply without fields (the key is no hash) reads."""
        fields = reply[1:]
        if not fields:
            return self.read(symbol)
        return self._remember(symbol, lambda: self.feed.required(symbol, padded(fields)))

    def written(self, symbol: str, fields: Sequence[str | None]) -> None:
        """The feed's first fields (price, timestamp, bid, ask) as this process just wrote them (``set_price``),
        remembered as a read of the hash would give them: the next order on the symbol needs no read first."""
        quote = Quote.parse(symbol, padded(fields))
        if quote is not None:
            self._quotes[symbol] = quote

    def _remember(self, symbol: str, quote_of: Callable[[], Quote]) -> Quote:
        """The quote ``quote_of`` makes, remembered for the symbol; a symbol without a valid quote is forgotten
        (the next order reads) and the error raised."""
        try:
            quote = quote_of()
        except MockExchangeError:
            self._quotes.pop(symbol, None)
            raise
        self._quotes[symbol] = quote
        return quote

    def keep(self, quote: Quote) -> None:
        self._quotes[quote.symbol] = quote


def checked(
    memory: QuoteMemory,
    symbol: str,
    plan_at: Callable[[Quote], Plan],
    send: Callable[[Plan, Quote], Any],
) -> tuple[Plan, Any]:
    """Plan at the remembered quote (or a fresh read) and send the plan with the quote as its expectation, until
    the script accepts it; returns the plan and the script's reply. A plan refused (``plan_at`` raised) at a
    remembered quote is made again at the feed's quote now, and the refusal stands only if that quote is the same.
    """
    quote = memory.get(symbol)
    remembered = quote is not None
    if quote is None:
        quote = memory.read(symbol)
    for _ in range(ATTEMPTS):
        try:
            plan = plan_at(quote)
        except MockExchangeError:
            if not remembered:
                raise
            remembered, before = False, quote
            quote = memory.read(symbol)
            if feed_expectation(quote) == feed_expectation(before):
                raise
            continue
        reply = send(plan, quote)
        if not is_stale(reply):
            memory.keep(quote)
            return plan, reply
        quote, remembered = memory.found(symbol, reply), False
    raise StoreUnavailable(f"the price of {symbol} changed {ATTEMPTS} times while this order was planned; try again")
