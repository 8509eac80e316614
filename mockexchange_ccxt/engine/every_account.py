"""What the engine does across accounts: one price settles every account holding orders on its symbol, the
tick loop finds those accounts, and an admin resets or deletes accounts.

Settlement stays per account: each account's fills are one script in its own slot (``settle.lua``, with its own
keys), so a price that crosses the orders of many accounts is one settle call per account, sent in one pipeline
(on a cluster, one per primary, side by side). Which accounts to settle:

- a price written through the engine (``set_price``) or noticed by a subscriber (``process_price_tick``): the
  engine's own account and the accounts in the symbol's holder set (``Keys.symbol_accounts``, in the feed
  hash's slot), which an account joins right after its first accepted order on the symbol and never leaves
  (a holder with nothing open costs one settle call that finds nothing);
- the tick loop: every registered account's set of symbols with open orders, the ground truth, so an order
  placed a moment before its account joined the holders is settled by the next pass.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..config import Settings
from ..errors import BadRequest
from ..keys import DEFAULT_ACCOUNT, Keys
from .accounts import Accounts, check_account_name
from .balances import Balances
from .book_settlement import settle_book
from .prices import Quote
from .store import Store

if TYPE_CHECKING:
    from .core import Engine


class AccountViews:
    """The part of ``Engine`` that makes views of it for other accounts."""

    settings: Settings
    keys: Keys
    store: Store
    balances: Balances
    accounts: Accounts
    _number: int | None
    _root: Any

    def for_account(self, name: str, number: int | None = None) -> Engine:
        """This engine for another account: same store, feed, clock, rules and tick loop, that account's keys.
        ``number`` is the account's (see ``engine.accounts``) when the caller knows it. Closing a view closes
        nothing."""
        if name == self.settings.account:
            return self  # type: ignore[return-value]
        view = copy.copy(self)
        view.settings = replace(self.settings, account=check_account_name(name))
        view.keys = self.keys.of_account(name)
        view.balances = Balances(self.store, view.keys)
        view._number = 0 if name == DEFAULT_ACCOUNT else number
        return view  # type: ignore[return-value]

    def join_holders(self, symbol: str) -> None:
        """Put the account in the symbol's holder set, after its first accepted order there (a refused order
        changes nothing). Remembered by the engine and all its views (a request's view lives for one request):
        the set only grows, so one write per account and symbol."""
        joined: set[tuple[str, str]] = self._root.__dict__.setdefault("_joined", set())
        if (self.settings.account, symbol) not in joined:
            self.store.call("SADD", self.keys.symbol_accounts(symbol), self.settings.account)
            joined.add((self.settings.account, symbol))

    @property
    def account_number(self) -> int:
        """The account's number, the high part of its order ids (an account new to the registry gets one)."""
        if self._number is None:
            self._number = self.accounts.ensure(self.settings.account)
        return self._number


def settle_accounts(engine: Engine, quote: Quote, accounts: Iterable[str]) -> int:
    """Settle ``quote.symbol`` at ``quote`` for each account; returns the orders filled. Under ``FILL_MODEL=book``
    the pass is one over all the accounts against the book snapshot the feed holds (``engine/book_settlement.py``)."""
    if engine.settings.book_fills:
        return settle_book(engine, quote.symbol, accounts)
    views = [engine.for_account(name) for name in sorted(set(accounts))]
    if not views:
        return 0
    replies = engine.store.run_pipelined([view.settle_command(quote) for view in views])
    return sum(view.continue_settlement(quote, reply) for view, reply in zip(views, replies, strict=True))


def settle_symbol(engine: Engine, symbol: str, accounts: Iterable[str]) -> int:
    """Settle one symbol for the given accounts from what its feed hash holds (unpriced: nothing)."""
    quote = engine.feed.quote(symbol)
    return 0 if quote is None else settle_accounts(engine, quote, accounts)


def active_by_symbol(engine: Engine) -> dict[str, set[str]]:
    """Symbol -> the accounts with open orders on it, over every registered account (one pipeline)."""
    names = sorted({engine.settings.account, *engine.accounts.names()})
    replies = engine.store.pipeline([("SMEMBERS", engine.keys.of_account(name).active_symbols) for name in names])
    active: dict[str, set[str]] = {}
    for name, symbols in zip(names, replies, strict=True):
        for symbol in symbols:
            active.setdefault(symbol, set()).add(name)
    return active


def target(engine: Engine, account: Any) -> Engine:
    """The engine of an admin request's ``account`` field (None: the account the request acts as)."""
    if account is None or account == engine.settings.account:
        return engine
    return engine.for_account(account, engine.accounts.require(account))


def reset_account(engine: Engine) -> None:
    """Wipe balances and orders of the engine's account; prices and the id sequence stay.

    One script, so that an order placed meanwhile on a symbol never traded before cannot leave its book
    behind: the script refuses when the set of traded symbols grew after we read it, and we read again.
    """
    traded = engine.keys.traded_symbols
    while True:
        symbols = sorted(engine.store.read("SMEMBERS", traded))
        others = [key for key in engine.keys.account_keys(symbols) if key != traded]
        if engine.store.run("reset", [traded, *others], [len(symbols)]):
            return


def reset_all(engine: Engine) -> list[str]:
    """Reset every account (balances and orders; prices, numbers and keys stay); returns their names."""
    names = sorted({engine.settings.account, *engine.accounts.names()})
    for name in names:
        engine.for_account(name).reset()
    return names


def delete_account(engine: Engine, name: Any) -> dict[str, Any]:
    """Remove an account: its key stops first, then its books are wiped, then it leaves the registry. Its
    number is kept, so a new account of the same name never reuses an order id."""
    engine.accounts.require(name)
    if name == DEFAULT_ACCOUNT:
        raise BadRequest("main is the default account: reset it instead of deleting it")
    engine.accounts.revoke(name)
    engine.for_account(name).reset()  # it stays a holder of the symbols it traded: they settle nothing for it
    engine.accounts.unregister(name)
    return {"account": name, "deleted": True}
