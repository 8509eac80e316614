"""Price history in Valkey: recording prices into candles and importing candles (reading them back is
``engine/candle_reads.py``).

Recording is part of the write: ``Engine.set_price`` sends ``publish_commands`` (the price and its candles in one
script, ``lua/record_price.lua``; on a single node with the settlement in the same script,
``lua/publish_settle.lua``). A price that someone else wrote
into a feed hash is recorded by whoever notices it first (the notification subscriber or the tick loop):
``record`` runs the same script in ``record`` mode, which checks that the hash still holds what was parsed and
that nobody recorded that snapshot yet, so several processes never record one write twice.

A price usually costs the script one read and one write of its minute's record (``lua/candle_lib.lua``: the
hour gets the minute once a newer one opens), with the volumes added as integers: the whole recording is a few
microseconds inside Valkey.

Retention is counted in the data's own time: each level keeps ``history_days`` days back from its newest
candle (a back-test of 2021 keeps 2021), and a price older than that is not recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any

from ..errors import BadRequest
from ..keys import Keys
from .candle_reads import HistoryReads
from .candles import MINUTE_MS, tick_volume_texts, tick_volumes
from .money import fmt, parse_decimal
from .prices import Quote
from .store import Store

#: A volume larger than this is not a volume.
MAX_VOLUME = Decimal(10) ** 30


def parse_volume(value: Any, what: str = "volume") -> Decimal:
    """A base amount traded: a finite number from 0 to 10^30 (BadRequest otherwise)."""
    number = parse_decimal(value, what, BadRequest)
    if number < 0 or number > MAX_VOLUME:
        raise BadRequest(f"{what} must be from 0 to 10^30, got {fmt(number)}")
    return number


def fingerprint(quote: Quote) -> str:
    """What identifies a feed snapshot for recording: its raw price, timestamp and volume (as the script reads
    them in ``record`` mode)."""
    raw = quote.raw
    return f"{raw.get('price', '')}|{raw.get('timestamp', '')}|{raw.get('volume', '')}"


def written_fields(
    price: Decimal, timestamp_ms: int, bid: Decimal | None, ask: Decimal | None
) -> tuple[str, str, str | None, str | None]:
    """The feed hash's price, timestamp, bid and ask as ``History.publish_commands`` writes them (None: not
    written, and dropped if the hash held one), so that the writer knows what a read of the hash now gives."""
    return fmt(price), str(timestamp_ms), None if bid is None else fmt(bid), None if ask is None else fmt(ask)


class History(HistoryReads):
    """Candles of every symbol: the commands that record prices, and the reads that serve them."""

    def __init__(self, store: Store, keys: Keys, days: int) -> None:
        self.store = store
        self.keys = keys
        self.days = days
        # the keys of a symbol's history, worked out once per symbol (a pure function of it, never stale)
        self.keys_of = lru_cache(maxsize=4096)(keys.history_keys)

    # -- recording ---------------------------------------------------------------------------------------------

    def publish_commands(
        self,
        symbol: str,
        price: Decimal,
        timestamp_ms: int,
        volume: Decimal | None,
        bid: Decimal | None,
        ask: Decimal | None,
        depth: tuple[str, str] | None,
        settle: tuple[list[str], list[Any]] | None = None,
    ) -> list[tuple[Any, ...]]:
        """The script call that publishes a price (``Engine.set_price``) and records it; it replies 1 when the
        feed now holds this price, 0 when the feed already held a newer one (the price is still recorded).
        With ``settle`` (the settle script's keys and arguments at this price: a single node, where one script
        may touch the feed's keys and the account's) the same call settles too and replies as ``settle.lua``,
        or ``{-1, 0, 0, 0}`` for a late price. A list of commands, whose last reply is the one described."""
        # the price's and the volume's texts are made once: the volumes' units come from them (tick_volume_texts)
        minute, offset = divmod(timestamp_ms, MINUTE_MS)
        price_text, _, bid_text, ask_text = written_fields(price, timestamp_ms, bid, ask)
        if volume is None:
            args = ["publish", price_text, timestamp_ms, minute, offset, self.days, "", "", ""]
        else:
            fed = fmt(volume)
            args = [
                "publish",
                price_text,
                timestamp_ms,
                minute,
                offset,
                self.days,
                *tick_volume_texts(price_text, fed),
                fed,
            ]
        if bid is not None or ask is not None or depth is not None:
            bids, asks = depth or ("", "")
            args += [bid_text or "", ask_text or "", bids, asks]
        if settle is None:
            return [self.store.eval_command("record_price", self.keys_of(symbol), args)]
        keys, arguments = settle
        return [
            self.store.eval_command("publish_settle", [*self.keys_of(symbol), *keys], [len(args), *args, *arguments])
        ]

    def record_command(self, quote: Quote) -> tuple[Any, ...]:
        """The script call that records a price someone else wrote (``quote``, as parsed). It replies 0 when
        that snapshot was recorded already or the hash changed since it was read (the change will be noticed
        in its turn)."""
        minute, offset = divmod(quote.timestamp, MINUTE_MS)
        args = ["record", fmt(quote.price), quote.timestamp, minute, offset, self.days]
        args += [*tick_volumes(quote.price, quote.volume), "", fingerprint(quote)]
        return self.store.eval_command("record_price", self.keys_of(quote.symbol), args)

    def seen_command(self, symbol: str) -> tuple[str, ...]:
        """Reads the fingerprint of the snapshot last recorded for ``symbol``."""
        return ("HGET", self.keys.candles(symbol, "1m"), "seen")

    def store_candles(
        self, symbol: str, level: str, records: Sequence[tuple[int, str]], price: tuple[Decimal, int] | None
    ) -> int:
        """Store whole records at ``level`` (replacing those of the same periods; oldest first) and rebuild the
        hours they touch; ``price`` (the newest close and its candle's open time) becomes the feed's price if
        the feed has none or an older one. Returns how many records are inside the retention window."""
        args: list[Any] = [level, self.days, *(("", "") if price is None else (fmt(price[0]), str(price[1])))]
        for period, text in records:
            args += [period, text]
        stored, _wrote = self.store.run("import_candles", self.keys_of(symbol), args)
        return int(stored)
