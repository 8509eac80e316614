"""Reading orders and trades (mixed into ``Engine``): one order, lists of orders, an order's trades, the
account's trades.

Lists page their index by score, never by rank: each next chunk starts strictly after the last id (or time)
seen, so orders that are added, filled or canceled meanwhile never make a page skip or repeat an order.
Trades are read from the account's fill indexes, scored by the trade's time: with ``since`` a list is the
first ``limit`` trades at or after it (so ccxt's paging loop, ``since = last['timestamp'] + 1``, misses
nothing), without it the newest ``limit``; either way oldest first, ties in time ordered by id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import BadRequest, OrderNotFound
from ..keys import Keys
from .markets import split_symbol
from .orders import OPEN, STATUSES
from .record_codec import unpack
from .store import Store
from .views import order_view, trade_views

_MAX_ID_LENGTH = 20
#: Records read per round trip while paging an index.
_CHUNK = 500
#: A larger ``limit`` means "all": Valkey's LIMIT takes a 64-bit count, a Python int may be any size.
_MAX_LIMIT = 2**31


def check_id(order_id: Any) -> str:
    """An order id as the engine stores it (a string of digits); OrderNotFound for anything else."""
    if isinstance(order_id, int) and not isinstance(order_id, bool):
        order_id = str(order_id)
    if not isinstance(order_id, str):
        raise BadRequest(f"order id must be a string, got {type(order_id).__name__}")
    if not order_id.isdigit() or len(order_id) > _MAX_ID_LENGTH:
        raise OrderNotFound(f"order {order_id[:40]!r} does not exist")
    return order_id


def of_symbol(record: dict[str, Any], symbol: str | None) -> dict[str, Any]:
    """``record``, when no symbol was named or it is of the one named; else OrderNotFound, as an exchange answers
    an id looked up under another symbol (an id is the account's, whatever the symbol)."""
    if symbol is not None and record["symbol"] != symbol:
        split_symbol(symbol)  # a malformed one is BadSymbol
        raise OrderNotFound(f"order {record['id']} is not an order of {symbol}"[:200])
    return record


def check_count(value: Any, name: str) -> None:
    """``tail`` and ``limit``: None, or a positive integer."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise BadRequest(f"{name} must be a positive integer, got {value!r}")


def _check_since(value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise BadRequest(f"since must be a non-negative integer of milliseconds, got {value!r}")


def scores_of(entries: list[Any]) -> dict[str, int]:
    """Members and scores of a WITHSCORES reply (pairs, or a flat list, depending on the protocol)."""
    if entries and not isinstance(entries[0], list):
        entries = [entries[i : i + 2] for i in range(0, len(entries), 2)]
    return {str(member): int(float(score)) for member, score in entries}


class QueriesMixin:
    """``fetch_order``, ``fetch_order_by_client_id``, ``fetch_orders``, ``order_trades``, ``fetch_my_trades``."""

    store: Store
    keys: Keys

    if TYPE_CHECKING:  # provided by Engine (retention.py)

        def missing_order(self, order_id: str) -> OrderNotFound: ...

    def _record(self, order_id: Any) -> dict[str, Any]:
        order_id = check_id(order_id)
        raw = self.store.read("HGET", self.keys.orders, order_id)
        if raw is None:
            raise self.missing_order(order_id)
        return unpack(order_id, raw)

    def fetch_order(self, order_id: Any, symbol: str | None = None) -> dict[str, Any]:
        """One order; with ``symbol``, only if it is of that symbol."""
        return order_view(of_symbol(self._record(order_id), symbol))

    def fetch_order_by_client_id(self, client_order_id: Any, symbol: str | None = None) -> dict[str, Any]:
        """The order placed with this ``clientOrderId``. The account's index of them names it: a client id is
        unique per account (so a retried request cannot fill twice; retention frees a trimmed order's), and the
        placing script writes the index and the record together."""
        if not isinstance(client_order_id, str) or not client_order_id:
            raise BadRequest("clientOrderId must be a non-empty string")
        order_id = self.store.read("HGET", self.keys.client_ids, client_order_id)
        if order_id is None:
            raise OrderNotFound(f"no order has clientOrderId {client_order_id[:64]!r}")
        return order_view(of_symbol(self._record(order_id), symbol))

    def fetch_orders(
        self,
        status: str | None = None,
        symbol: str | None = None,
        tail: int | None = None,
        since: int | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Orders, oldest first, filtered by status and symbol. With ``since`` (ms): the first ``limit`` placed
        at or after it; without: the newest ``limit`` (``tail`` is the same as ``limit`` without ``since``)."""
        if status is not None and status not in STATUSES:
            raise BadRequest(f"status must be one of {', '.join(STATUSES)}, got {str(status)[:40]!r}")
        if symbol is not None:
            split_symbol(symbol)
        check_count(tail, "tail")
        check_count(limit, "limit")
        _check_since(since)
        if tail is not None and limit is not None and tail != limit:
            raise BadRequest("give tail or limit, not both")
        count = limit if limit is not None else tail
        keys = self.keys
        # one symbol's orders are the account's, filtered: an index per symbol would cost each order its entry
        index = keys.open_ids if status == OPEN else keys.all_ids

        def wanted(record: dict[str, Any]) -> bool:
            return (
                (status is None or record["status"] == status)
                and (symbol is None or record["symbol"] == symbol)
                and (since is None or record["timestamp"] >= since)
            )

        found = self._page(index, wanted, count, newest_first=since is None)
        return [order_view(record) for record in found]

    def _page(self, index: str, wanted: Any, count: int | None, newest_first: bool) -> list[dict[str, Any]]:
        """Records of the ids in ``index`` that pass ``wanted``, up to ``count``, oldest first; the index (scored
        by the account's order counter) is read in chunks of scores strictly past the last one seen."""
        found: list[dict[str, Any]] = []
        bound = "+inf" if newest_first else "-inf"
        while count is None or len(found) < count:
            if newest_first:
                chunk = self.store.read("ZREVRANGEBYSCORE", index, bound, "-inf", "WITHSCORES", "LIMIT", 0, _CHUNK)
            else:
                chunk = self.store.read("ZRANGEBYSCORE", index, bound, "+inf", "WITHSCORES", "LIMIT", 0, _CHUNK)
            scored = scores_of(chunk)
            if not scored:
                break
            ids = list(scored)
            bound = f"({scored[ids[-1]]}"
            for order_id, raw in zip(ids, self.store.read("HMGET", self.keys.orders, *ids), strict=True):
                record = unpack(order_id, raw) if raw else None
                if record is not None and wanted(record):
                    found.append(record)
                    if count is not None and len(found) == count:
                        break
        if newest_first:
            found.reverse()
        return found

    # -- trades -----------------------------------------------------------------------------------------------

    def order_trades(self, order_id: Any) -> list[dict[str, Any]]:
        """The trades of one order (its fill, or nothing if it has not filled)."""
        return trade_views(self._record(order_id))

    def fetch_my_trades(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """The account's trades, oldest first, optionally of one symbol: with ``since`` (ms) the first ``limit``
        at or after it, without it the newest ``limit``."""
        check_count(limit, "limit")
        _check_since(since)
        if symbol is not None:
            split_symbol(symbol)
        symbols = [symbol] if symbol else sorted(self.store.read("SMEMBERS", self.keys.traded_symbols))
        # every symbol's trades: the symbols' indexes merged (the account keeps no index of its own: memory)
        indexes = [self.keys.symbol_fills(name) for name in symbols]
        if not indexes:
            return []
        low = "-inf" if since is None else str(since)
        if limit is not None:
            limit = min(limit, _MAX_LIMIT)
        if limit is None:
            query: tuple[Any, ...] = ("ZRANGEBYSCORE", low, "+inf", "WITHSCORES")
        elif since is None:
            query = ("ZREVRANGEBYSCORE", "+inf", "-inf", "WITHSCORES", "LIMIT", 0, limit)
        else:
            query = ("ZRANGEBYSCORE", low, "+inf", "WITHSCORES", "LIMIT", 0, limit)
        replies = self.store.pipeline([(query[0], index, *query[1:]) for index in indexes], writes=False)
        pairs: dict[str, int] = {}
        ties = []
        for index, entries in zip(indexes, replies, strict=True):
            found = scores_of(entries)
            pairs.update(found)
            if limit is not None and len(found) == limit:
                # the cut may fall inside trades of one millisecond: take all of them, order them by id, cut again
                edge = min(found.values()) if since is None else max(found.values())
                ties.append(("ZRANGEBYSCORE", index, edge, edge))
        for tie, tied in zip(ties, self.store.pipeline(ties, writes=False) if ties else [], strict=True):
            pairs.update({str(member): int(tie[2]) for member in tied})
        ordered = sorted(pairs, key=lambda trade_id: (pairs[trade_id], int(trade_id)))
        if limit is not None:
            ordered = ordered[-limit:] if since is None else ordered[:limit]
        return self._trades(ordered)

    def _trades(self, trade_ids: list[str]) -> list[dict[str, Any]]:
        """The trades of these ids, in this order. A trade's order has the trade's id, unless the trade has an id
        of its own (FILL_MODEL=book: ``Keys.trade_orders`` says whose it is); both are read in one round trip."""
        if not trade_ids:
            return []
        owners, raws = self.store.pipeline(
            [("HMGET", self.keys.trade_orders, *trade_ids), ("HMGET", self.keys.orders, *trade_ids)], writes=False
        )
        records = {oid: unpack(oid, raw) for oid, raw in zip(trade_ids, raws, strict=True) if raw}
        owner = {tid: oid or tid for tid, oid in zip(trade_ids, owners, strict=True)}
        missing = list(dict.fromkeys(oid for oid in owner.values() if oid not in records))
        if missing:
            for oid, raw in zip(missing, self.store.read("HMGET", self.keys.orders, *missing), strict=True):
                if raw:
                    records[oid] = unpack(oid, raw)
        by_id = {}
        for oid in dict.fromkeys(owner.values()):
            if oid in records:
                by_id.update({trade["id"]: trade for trade in trade_views(records[oid])})
        return [by_id[trade_id] for trade_id in trade_ids if trade_id in by_id]
