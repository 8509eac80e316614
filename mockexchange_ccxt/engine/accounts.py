"""Accounts: the registry of named wallets, their numbers and their API keys.

Every account's books live under its own hash tag (``keys.Keys``); the registry lives under one more
(``{#accounts}``), so creating, rotating, revoking and removing are each one script (``lua/accounts.lua``).

- **Numbers.** An account gets a number once, at creation (``main`` is 0), and keeps it for good, even across
  a delete and a re-creation. Order ids are ``number * 10**12 + the account's own counter``: unique across
  accounts and nodes with no step outside the account's slot, and ``main``'s ids stay 1, 2, 3, ...
- **Keys.** A trading key is 32 random bytes shown once; Valkey keeps only its SHA-256, under which the key's
  account, number and secret are found. A lookup therefore costs one read, and what it compares is a digest of
  the key (timing reveals nothing about the key); a revoked or rotated key is gone from Valkey, so it stops at
  once on every worker. The secret (Binance-style HMAC signing) must be readable to check a signature, so it is
  stored as is, next to the digest; it is shown once too.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import AccountNotFound, BadRequest
from ..keys import ACCOUNT_NAME, DEFAULT_ACCOUNT, Keys
from .clock import iso8601
from .store import Store

#: How ids of different accounts are kept apart: ``number * ID_SPAN + counter``.
ID_SPAN = 10**12


def check_account_name(name: Any) -> str:
    """A valid account name, or BadRequest naming the rule."""
    if not isinstance(name, str) or not ACCOUNT_NAME.fullmatch(name):
        raise BadRequest(f"account must be 1 to 32 letters, digits, '_' or '-', got {str(name)[:40]!r}")
    return name


def key_digest(api_key: str) -> str:
    """What Valkey keeps of an API key."""
    return hashlib.sha256(api_key.encode()).hexdigest()


@dataclass(frozen=True)
class Credentials:
    """Who a trading key belongs to, and the secret that signs its requests."""

    account: str
    secret: str
    number: int


class Accounts:
    """The account registry of one key prefix."""

    def __init__(self, store: Store, keys: Keys, now_ms: Callable[[], int]) -> None:
        self.store = store
        self.keys = keys
        self.now_ms = now_ms

    def _run(self, op: str, name: str, api_key: str = "", secret: str = "") -> int:
        digest = key_digest(api_key) if api_key else ""
        number = self.store.run("accounts", self.keys.registry_keys, [op, name, self.now_ms(), digest, secret])
        return int(number)

    def _issue(self, op: str, name: str) -> dict[str, Any]:
        api_key, secret = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self._run(op, check_account_name(name), api_key, secret)
        return {"account": name, "apiKey": api_key, "secret": secret}

    def create(self, name: Any) -> dict[str, Any]:
        """A new account with its key and secret (ACCOUNT_EXISTS if the name is taken)."""
        return self._issue("create", name)

    def rotate(self, name: Any) -> dict[str, Any]:
        """A new key and secret for an account; the old ones stop at once."""
        return self._issue("keys", name)

    def revoke(self, name: Any) -> dict[str, Any]:
        """The account's key stops working; its books stay."""
        self._run("keys", check_account_name(name))
        return {"account": name, "revoked": True}

    def unregister(self, name: str) -> None:
        """Forget the account and its key (its books are wiped by the caller; its number is kept)."""
        self._run("remove", check_account_name(name))

    def ensure(self, name: str) -> int:
        """The number of an account, registering it (without a key) if it is new: an engine configured for an
        account, in process, just uses it."""
        return 0 if name == DEFAULT_ACCOUNT else self._run("ensure", check_account_name(name))

    def require(self, name: Any) -> int:
        """The number of an existing account (ACCOUNT_NOT_FOUND otherwise; ``main`` always exists)."""
        if check_account_name(name) == DEFAULT_ACCOUNT:
            return 0
        raw = self.store.read("HGET", self.keys.registry, name)
        if raw is None:
            raise AccountNotFound(f"account {name} does not exist")
        return int(json.loads(raw)["number"])

    def lookup(self, api_key: str) -> Credentials | None:
        """The account and secret of a trading key, or None (unknown, revoked or rotated away)."""
        raw = self.store.read("HGET", self.keys.credentials, key_digest(api_key))
        if raw is None:
            return None
        found = json.loads(raw)
        return Credentials(found["account"], found["secret"], int(found["number"]))

    def names(self) -> list[str]:
        """Every registered account, ``main`` included, sorted."""
        return sorted({DEFAULT_ACCOUNT, *self.store.read("HKEYS", self.keys.registry)})

    def list(self) -> list[dict[str, Any]]:
        """Name, creation time and whether a trading key is active (``hasKey``; main's admin key, API_KEY, is
        not stored) of every account; never a key."""
        self.ensure_registered(DEFAULT_ACCOUNT)
        entries: dict[str, str] = self.store.read("HGETALL", self.keys.registry)
        result = []
        for name in sorted(entries):
            entry = json.loads(entries[name])
            created = int(entry["created"])
            has_key = entry["key"] != ""
            result.append({"account": name, "created": created, "datetime": iso8601(created), "hasKey": has_key})
        return result

    def ensure_registered(self, name: str) -> None:
        """Write the registry entry of ``name`` if it has none (``main`` gets one the first time it is listed)."""
        self._run("ensure", name)
