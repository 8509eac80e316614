"""The only place that spells a Valkey key.

Every key the engine owns starts with ``key_prefix`` and carries the account name as a Valkey Cluster hash tag
(``mockx:{main}:...``), so all keys that one script touches live in one slot and the same scripts run on a
single node and on a cluster. Price-feed hashes (``sym_<SYMBOL>``) belong to the feed and are never passed to a
script together with account keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cached_property

BUY, SELL = "buy", "sell"
#: The two directions a trigger fires in: the last price rising to it, or falling to it.
UP, DOWN = "up", "down"

#: The account that exists without being created: its key is API_KEY, its order ids are 1, 2, 3, ...
DEFAULT_ACCOUNT = "main"
#: What an account may be called: also the Valkey Cluster hash tag of its keys, so no braces or colons.
ACCOUNT_NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")
#: The hash tag of the account registry: '#' cannot occur in an account name, so no account shares it.
_REGISTRY_TAG = "{#accounts}"


@dataclass(frozen=True)
class Keys:
    """Key names for one account under one prefix."""

    prefix: str = "mockx:"
    account: str = "main"
    price_prefix: str = "sym_"

    @cached_property
    def _base(self) -> str:
        """The start of every account key: built once per ``Keys``, not for each of the ten names an order uses."""
        return f"{self.prefix}{{{self.account}}}:"

    def of_account(self, account: str) -> Keys:
        """The same names for another account."""
        return replace(self, account=account)

    @property
    def balances(self) -> str:
        """Hash: ``free:<ASSET>`` and ``used:<ASSET>`` -> integer units (see ``engine.money``)."""
        return self._base + "balances"

    @property
    def orders(self) -> str:
        """Hash: order id -> the order's record, compact JSON (``engine.record_codec``; built by ``engine.orders``)."""
        return self._base + "orders"

    @property
    def sequence(self) -> str:
        """Counter: the source of order ids, shared by every process; never reset."""
        return self._base + "seq"

    @property
    def client_ids(self) -> str:
        """Hash: clientOrderId -> order id, which makes a clientOrderId unique per account."""
        return self._base + "client_ids"

    @property
    def all_ids(self) -> str:
        """Sorted set: every order id, scored by id (placement order)."""
        return self._base + "ids"

    @property
    def open_ids(self) -> str:
        """Sorted set: ids of open orders, scored by id."""
        return self._base + "open_ids"

    @property
    def finished_ids(self) -> str:
        """Sorted set: ids of finished orders (closed, canceled), scored by the time each finished (ms): what
        retention trims, oldest first (``engine.retention``)."""
        return self._base + "done"

    @property
    def retention(self) -> str:
        """Hash: what retention removed since the account was last reset, so the balances still add up and a
        trimmed id is told from one that never existed: ``orders`` and ``trades`` (counts), ``in:<ASSET>`` and
        ``out:<ASSET>`` (units its trades brought in and took out, as integer text of any length), ``first``
        (the lowest id counter trimmed: every missing id from there up to the counter was trimmed)."""
        return self._base + "retention"

    @property
    def active_symbols(self) -> str:
        """Set: symbols that have at least one open order; the tick loop settles only these."""
        return self._base + "active"

    def symbol_ids(self, symbol: str) -> str:
        """Sorted set: ids of orders of one symbol, scored by id, as orders placed before records were compact
        were indexed (no longer written: one symbol's orders are read from ``all_ids``, which saves each order an
        entry); retention and reset still clear it."""
        return f"{self._base}ids:{symbol}"

    def book(self, symbol: str, side: str) -> str:
        """Sorted set: open limit orders of one symbol and side, member id, score the limit price in units."""
        return f"{self._base}book:{symbol}:{side}"

    def triggers(self, symbol: str, direction: str) -> str:
        """Sorted set: untriggered orders of one symbol that fire when the last price moves ``UP`` to their
        trigger (last >= trigger) or ``DOWN`` to it (last <= trigger); member id, score the trigger in units."""
        return f"{self._base}trig:{symbol}:{direction}"

    def symbol_sets(self, symbol: str) -> list[str]:
        """The four sets an open order of the symbol rests in, in the order the scripts take them: the buy
        book, the sell book, the up triggers, the down triggers."""
        return [self.book(symbol, BUY), self.book(symbol, SELL), self.triggers(symbol, UP), self.triggers(symbol, DOWN)]

    @property
    def fills(self) -> str:
        """Sorted set: trade ids of the account, scored by the trade's time (ms), as trades made before records were
        compact were indexed (no longer written: every symbol's trades are the ``symbol_fills`` merged, which saves
        each trade an entry); retention and reset still clear it."""
        return self._base + "fills"

    def symbol_fills(self, symbol: str) -> str:
        """Sorted set: the trade ids of one symbol, scored by the trade's time (ms)."""
        return f"{self._base}fills:{symbol}"

    @property
    def trade_orders(self) -> str:
        """Hash: trade id -> order id, for the trades whose id is not their order's (under ``FILL_MODEL=book`` an
        order's first trade shares its id, each further one takes the next number of the account's counter)."""
        return self._base + "trade_orders"

    def price(self, symbol: str) -> str:
        """The feed's hash for a symbol (seed contract: fields ``price`` and ``timestamp``)."""
        return self.price_prefix + symbol

    def symbol_accounts(self, symbol: str) -> str:
        """Set: the accounts that have placed orders on a symbol (a price settles each of them). Its hash tag is
        the feed key, so it lives in the feed hash's slot; an account stays in it once it traded the symbol."""
        return f"{self.prefix}{{{self.price(symbol)}}}:accounts"

    @property
    def registry(self) -> str:
        """Hash: account name -> JSON ``{number, created, key}`` (key: the SHA-256 of its API key, or '')."""
        return f"{self.prefix}{_REGISTRY_TAG}:registry"

    @property
    def account_numbers(self) -> str:
        """Hash: account name -> its number, given once and kept after a delete, so ids never repeat."""
        return f"{self.prefix}{_REGISTRY_TAG}:numbers"

    @property
    def account_sequence(self) -> str:
        """Counter: the source of account numbers (``main`` is 0)."""
        return f"{self.prefix}{_REGISTRY_TAG}:number_seq"

    @property
    def credentials(self) -> str:
        """Hash: SHA-256 (hex) of a trading API key -> JSON ``{account, secret, number}``."""
        return f"{self.prefix}{_REGISTRY_TAG}:credentials"

    @property
    def registry_keys(self) -> list[str]:
        """The keys of the account registry script, in its KEYS order."""
        return [self.registry, self.account_numbers, self.account_sequence, self.credentials]

    @property
    def price_pattern(self) -> str:
        """SCAN pattern of every feed hash."""
        return self.price_prefix.replace("[", "\\[").replace("*", "\\*").replace("?", "\\?") + "*"

    def symbol_from_price_key(self, key: str) -> str:
        return key[len(self.price_prefix) :]

    def market_data(self, symbol: str, what: str) -> str:
        """A key of per-symbol market state (candles, history bookkeeping), shared by every account.

        Its hash tag is the feed hash's own name (``mockx:{sym_BTC/USDT}:...``), so it lives in the slot of
        ``sym_BTC/USDT`` and one script may update the feed hash and this state together, on Valkey Cluster too.
        """
        return f"{self.prefix}{{{self.price(symbol)}}}:{what}"

    def candles(self, symbol: str, level: str) -> str:
        """Hash: period number -> candle record, one hash per stored level ``1m``, ``1h`` (see
        ``engine.candles``), with the level's bookkeeping (``lua/candle_lib.lua``): the newest period, and at
        ``1m`` the open minute and ``seen``, the fingerprint of the last feed snapshot recorded, so that several
        processes never record one write twice."""
        return self.market_data(symbol, f"candles:{level}")

    def depth_taken(self, symbol: str) -> str:
        """Hash: what orders of every account took from the symbol's current book snapshot (``FILL_MODEL=book``):
        ``ts``, the snapshot's feed timestamp (ms), and per level ``a:<price>`` / ``b:<price>`` the units of the
        base asset taken from that ask or bid. A snapshot with another timestamp starts from nothing."""
        return self.market_data(symbol, "taken")

    def history_keys(self, symbol: str) -> list[str]:
        """The keys one recording script touches: the feed hash and the two candle levels."""
        return [self.price(symbol), self.candles(symbol, "1m"), self.candles(symbol, "1h")]

    @property
    def traded_symbols(self) -> str:
        """Set: every symbol the account has ever placed an order on (what ``reset`` must clean up)."""
        return self._base + "symbols"

    def account_keys(self, symbols: list[str]) -> list[str]:
        """Every key of the account that ``reset`` wipes, for the given symbols' books and indexes."""
        keys = [
            self.balances,
            self.orders,
            self.client_ids,
            self.all_ids,
            self.open_ids,
            self.finished_ids,
            self.retention,
            self.active_symbols,
            self.traded_symbols,
            self.fills,
            self.trade_orders,
        ]
        for symbol in symbols:
            keys += [self.symbol_ids(symbol), self.symbol_fills(symbol), *self.symbol_sets(symbol)]
        return keys


# Fields of the balances hash, each an integer number of units (see engine/money.py).
def free_field(asset: str) -> str:
    """What the account may spend."""
    return "free:" + asset


def used_field(asset: str) -> str:
    """What is not free: reserved by open orders, plus anything an admin set aside with edit_balance."""
    return "used:" + asset


def held_field(asset: str) -> str:
    """The part of ``used`` that open orders reserve; ``used`` may never fall below it."""
    return "held:" + asset


def pending_field(asset: str) -> str:
    """What the fills of open orders will bring in (a resting buy its amount of base, a resting sell its
    proceeds): kept so that free + used + pending always fits in int64, which proves every later fill fits."""
    return "pend:" + asset


def asset_total_fields(asset: str) -> tuple[str, str, str]:
    """The fields whose sum must stay within int64 for ``asset`` (``held`` is part of ``used``)."""
    return free_field(asset), used_field(asset), pending_field(asset)
