"""Retention: finished orders (closed, canceled) and their trades are kept for a while, then trimmed, so that an
account's memory stays bounded however long it trades. Open orders are never trimmed.

- **What is kept**: per account, the finished orders of the last ``ORDER_RETENTION_DAYS`` and at most
  ``ORDER_RETENTION_MAX`` of them (the newest), with their trades; the defaults (30 days, 100,000 orders) keep
  the last weeks of a bot placing an order every few seconds.
- **Whose time**: age is counted in the account's own time, back from its newest finished order (or from now, if
  that is earlier: an order timed in the future by a bad feed cannot sweep the rest away). Every process that
  trims an account then agrees, whatever its clock; a back-test of 2021 keeps 2021's last days; an account that
  stops trading keeps its last days of activity.
- **Back-tests**: an engine on a ``ReplayClock`` applies only the limits that are set explicitly (environment or
  ``Settings``); with neither set it trims nothing, so a replay of a year never loses its orders mid-run.
- **How**: the finished ids are a sorted set scored by the time each order finished (maintained by the scripts
  where orders finish). The tick loop's passes (``trim_every_account``) and ``Engine.trim_orders`` read the
  oldest ids, then their records (each order's trades and symbol keys, what its trades moved) and the ledger,
  and plan the ledger after them; ``trim_orders.lua`` checks the plan still holds (every order still finished
  and past the retention, the ledger unchanged: another trimmer may have come first) and applies it to the
  batch of at most ``BATCH`` orders, or writes nothing. Each order goes whole (record, trades, every index
  entry), and no call blocks Valkey for long.
- **Books still add up**: what trimmed trades brought in and took out stays in the balances, and is added up per
  asset in the account's retention ledger (``Engine.trimmed``).
- **A trimmed id is not an unknown one**: an id of the account from the lowest counter ever trimmed (since its
  last reset) up to its counter, that is missing, was trimmed; fetching it says so.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..config import Settings
from ..errors import OrderNotFound
from ..keys import BUY, Keys
from .accounts import ID_SPAN
from .clock import Clock, ReplayClock
from .money import from_units, to_units
from .queries import scores_of
from .record_codec import unpack
from .store import Store
from .views import trade_views

if TYPE_CHECKING:
    from .core import Engine

#: What is kept when nothing is set (and the engine is not on a ReplayClock).
DEFAULT_DAYS = Decimal(30)
DEFAULT_MAX = 100_000
DAY_MS = 86_400_000
#: Orders per trimming script call (each costs about ten commands inside Valkey, so a call never blocks Valkey
#: long), and calls per account per pass: a pass keeps up with 2,000 finished orders a second per account at the
#: default 10 s interval, and a backlog (a retention lowered on a big account) drains over a few passes.
BATCH = 100
MAX_BATCHES = 200


@dataclass(frozen=True)
class Retention:
    """What an engine keeps of each account's finished orders: ``days`` and ``most`` (None: no limit)."""

    days: Decimal | None
    most: int | None

    @classmethod
    def of(cls, settings: Settings, clock: Clock) -> Retention:
        """The settings' limits; unset ones are the defaults, or no limit on a ``ReplayClock`` (a back-test)."""
        replay = isinstance(clock, ReplayClock)
        days, most = settings.order_retention_days, settings.order_retention_max
        return cls(
            (None if replay else DEFAULT_DAYS) if days is None else Decimal(str(days)),
            (None if replay else DEFAULT_MAX) if most is None else most,
        )

    @property
    def unlimited(self) -> bool:
        return self.days is None and self.most is None

    @property
    def window_ms(self) -> int | None:
        """The age limit in whole milliseconds."""
        return None if self.days is None else int(self.days * DAY_MS)

    def describe(self) -> str:
        limits = [f"{self.days.normalize():f} days" if self.days is not None else "", ""]
        if self.most is not None:
            limits[1] = f"at most {self.most:,} per account"
        kept = ", ".join(limit for limit in limits if limit)
        return f"finished orders and their trades are kept {kept}" if kept else "this process keeps every order"

    def eligible(self, count: int, newest: int | None, oldest: list[tuple[str, int]], now: int) -> list[str]:
        """The ids among the ``oldest`` (id, finish time) that this retention trims, from a finished set of
        ``count`` whose newest finished at ``newest``: the same rule as trim_orders.lua (a prefix, oldest first)."""
        window = self.window_ms
        cutoff = None if window is None or newest is None else min(newest, now) - window
        chosen: list[str] = []
        for order_id, score in oldest:
            over = self.most is not None and count - len(chosen) > self.most
            if not (over or (cutoff is not None and score < cutoff)):
                break
            chosen.append(order_id)
        return chosen


def probe_commands(keys: Keys, oldest: int = BATCH) -> list[tuple[Any, ...]]:
    """The reads that tell what an account has to trim: its finished count, its newest and ``oldest`` oldest."""
    finished = keys.finished_ids
    return [
        ("ZCARD", finished),
        ("ZRANGE", finished, -1, -1, "WITHSCORES"),
        ("ZRANGE", finished, 0, oldest - 1, "WITHSCORES"),
    ]


def _flows(record: dict[str, Any]) -> dict[str, int]:
    """What the order's trades brought into the account and took out of it, in units, per ledger field."""
    flows: dict[str, int] = defaultdict(int)
    base, _, quote = record["symbol"].partition("/")
    for trade in trade_views(record):
        got, gave = (base, quote) if trade["side"] == BUY else (quote, base)
        amount, cost = to_units(trade["amount"]), to_units(trade["cost"])
        flows[f"in:{got}"] += amount if got == base else cost
        flows[f"out:{gave}"] += cost if gave == quote else amount
        flows[f"out:{trade['fee']['currency']}"] += to_units(trade["fee"]["cost"])
    return {field: units for field, units in flows.items() if units}


class RetentionMixin:
    """``trim_orders``, ``trimmed`` and the not-found answer for an id that retention trimmed."""

    settings: Settings
    store: Store
    keys: Keys
    clock: Clock
    _number: int | None

    @property
    def retention(self) -> Retention:
        return Retention.of(self.settings, self.clock)

    def trim_orders(self, probe: list[Any] | None = None) -> int:
        """Trim this account's finished orders past the retention, in batches (at most ``MAX_BATCHES`` calls);
        returns how many went. ``probe``: replies of ``probe_commands`` the caller read already (nothing is done
        unless its oldest are to go)."""
        policy = self.retention
        if policy.unlimited or (probe is not None and not self._to_trim(policy, probe)):
            return 0
        removed = 0
        for _ in range(MAX_BATCHES):
            ids = self._to_trim(policy, self.store.pipeline(probe_commands(self.keys), writes=False))
            if not ids:
                break
            done = self._trim(ids, policy)
            if done is None:  # another trimmer came first: read again
                continue
            removed += done
            if len(ids) < BATCH:
                break
        return removed

    def _to_trim(self, policy: Retention, probe: list[Any]) -> list[str]:
        """Which of a probe's oldest ids go now."""
        count, newest, oldest = probe
        top = list(scores_of(newest).values())
        now = self.clock.now_ms()
        return policy.eligible(int(count), top[0] if top else None, list(scores_of(oldest).items()), now)

    def _trim(self, ids: list[str], policy: Retention) -> int | None:
        """One script call for ``ids``; how many went, or None when the plan was stale (nothing written)."""
        keys = self.keys
        raws, ledger = self.store.pipeline([("HMGET", keys.orders, *ids), ("HGETALL", keys.retention)], writes=False)
        slots: dict[str, int] = {}
        orders: list[Any] = []
        added: dict[str, int] = defaultdict(int)
        for order_id, raw in zip(ids, raws, strict=True):
            if raw is None:  # no record (it should not happen): the script still clears the id's entries
                orders += [order_id, 0, "", 0]
                continue
            record = unpack(order_id, raw)
            slot = slots.setdefault(record["symbol"], len(slots) + 1)
            trades = [trade["id"] for trade in trade_views(record)]
            orders += [order_id, slot, record["clientOrderId"] or "", len(trades), *trades]
            added["trades"] += len(trades)
            for field, units in _flows(record).items():
                added[field] += units
        added["orders"] += len(ids)
        changes = [(name, ledger.get(name, ""), str(int(ledger.get(name, 0)) + units)) for name, units in added.items()]
        first = min(int(order_id) % ID_SPAN for order_id in ids)
        if "first" not in ledger or first < int(ledger["first"]):
            changes.append(("first", ledger.get("first", ""), str(first)))
        symbol_keys = [key for symbol in slots for key in (keys.symbol_ids(symbol), keys.symbol_fills(symbol))]
        window = policy.window_ms
        reply = self.store.run(
            "trim_orders",
            [
                keys.orders,
                keys.finished_ids,
                keys.all_ids,
                keys.fills,
                keys.client_ids,
                keys.retention,
                keys.trade_orders,
                *symbol_keys,
            ],
            [
                "" if policy.most is None else policy.most,
                "" if window is None else window,
                self.clock.now_ms(),
                len(changes),
                *[part for change in changes for part in change],
                *orders,
            ],
        )
        return None if reply == ["STALE"] else int(reply[0])

    def trimmed(self) -> dict[str, Any]:
        """What retention removed from this account since it was last reset: ``orders`` and ``trades`` (counts)
        and ``net``, per asset, what their trades brought in minus what they took out (fees included). It is all
        still in the balances: funding plus the kept trades plus ``net`` is each asset's total."""
        ledger: dict[str, str] = self.store.read("HGETALL", self.keys.retention)
        net: dict[str, Decimal] = {}
        for field, units in ledger.items():
            kind, _, asset = field.partition(":")
            if kind in ("in", "out"):
                net[asset] = net.get(asset, Decimal(0)) + from_units(units) * (1 if kind == "in" else -1)
        return {"orders": int(ledger.get("orders", 0)), "trades": int(ledger.get("trades", 0)), "net": net}

    def missing_order(self, order_id: str) -> OrderNotFound:
        """The error for an id with no record: older than the retention if the account trimmed it, else it does
        not exist (an id of another account, one beyond the account's counter, or one wiped by a reset)."""
        issued = order_id.isascii() and str(int(order_id)) == order_id  # digits as the engine writes an id
        if issued and self._was_trimmed(*divmod(int(order_id), ID_SPAN)):
            return OrderNotFound(
                f"order {order_id} is older than the order retention and is no longer kept "
                f"({self.retention.describe()}: ORDER_RETENTION_DAYS, ORDER_RETENTION_MAX)"
            )
        return OrderNotFound(f"order {order_id} does not exist")

    def _was_trimmed(self, number: int, counter: int) -> bool:
        """Whether the id (account number, counter) of a missing order lies between the lowest counter the
        account trimmed since its last reset and its counter: every such id was issued, and only retention
        removes an order that is not wiped by a reset."""
        keys = self.keys
        first, issued, registered = self.store.pipeline(
            [
                ("HGET", keys.retention, "first"),
                ("GET", keys.sequence),
                ("HGET", keys.account_numbers, self.settings.account),
            ],
            writes=False,
        )
        mine = self._number if self._number is not None else int(registered or -1)
        return mine == number and first is not None and issued is not None and int(first) <= counter <= int(issued)


def trim_every_account(engine: Engine) -> int:
    """The tick loop's trimming: every registered account, with this engine's retention; one pipelined read of a
    few numbers per account tells which have anything to trim. Returns the orders trimmed."""
    if engine.retention.unlimited:
        return 0
    names = sorted({engine.settings.account, *engine.accounts.names()})
    views = [engine.for_account(name) for name in names]
    replies = engine.store.pipeline([c for view in views for c in probe_commands(view.keys, 1)], writes=False)
    return sum(view.trim_orders(replies[3 * index : 3 * index + 3]) for index, view in enumerate(views))
