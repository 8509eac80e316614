"""Who is calling: API keys to accounts, the admin key, and which routes each may use.

- ``API_KEY`` is the admin key: every route, as the default account ``main`` (the server's ``ACCOUNT``), or as
  any account named by an ``x-account`` header. Compared in constant time; the seed's placeholder never works.
- A trading key (``POST /admin/accounts``) acts as its own account on the trading routes; an ``x-account``
  header means nothing with it, and an admin route answers 403 FORBIDDEN before looking at anything else, so
  a trading key learns nothing about other accounts. Keys are looked up in Valkey on every request, so a
  revoked or rotated key stops at once on every worker.
- ``TEST_ENV=true``: no key needed; ``x-account`` chooses the account (default ``main``).

``KeyCheck.owner`` is the one lookup "API key -> account and secret" for every face that authenticates (the REST
API here; a signing dialect checks its signature with the secret it returns).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

import falcon

from ..config import PLACEHOLDER_API_KEY, Settings
from ..engine import Engine
from ..errors import AuthenticationFailed, Forbidden
from ..routes import ACCOUNT_HEADER, Route

API_KEY_HEADER = "x-api-key"


@dataclass(frozen=True)
class KeyOwner:
    """The holder of an API key: the account it acts as, the secret that signs its requests, whether it is
    the admin key, and the account's number (None: look it up when needed)."""

    account: str
    secret: str
    admin: bool
    number: int | None = None


class KeyCheck:
    """The admin key of ``settings`` made ready once (its bytes, its holder), for the check of every request."""

    def __init__(self, settings: Settings) -> None:
        admin = settings.api_key
        self._admin_key = admin.encode() if admin and admin != PLACEHOLDER_API_KEY else None
        self._admin = KeyOwner(settings.account, settings.api_secret, admin=True)

    def owner(self, engine: Engine, api_key: str) -> KeyOwner | None:
        """The owner of ``api_key``, or None for a missing, wrong, revoked or placeholder key."""
        if not api_key:
            return None
        if self._admin_key is not None and hmac.compare_digest(api_key.encode(), self._admin_key):
            return self._admin
        found = engine.accounts.lookup(api_key)  # every time: a revoked or rotated key stops at once
        return None if found is None else KeyOwner(found.account, found.secret, admin=False, number=found.number)


class Authentication:
    """Falcon middleware: every request is authenticated before it is routed (401 first, for any path)."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.keys = KeyCheck(settings) if settings.auth_required else None
        # TEST_ENV: every request acts as the admin of the engine's default account
        self.anyone = KeyOwner(engine.settings.account, settings.api_secret, admin=True)

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        if self.keys is None:
            req.context.owner = self.anyone
            return
        owner = self.keys.owner(self.engine, req.get_header(API_KEY_HEADER) or "")
        if owner is None:
            raise AuthenticationFailed("missing or wrong x-api-key header")
        req.context.owner = owner


def acting_as(engine: Engine, req: falcon.Request, route: Route) -> tuple[Engine, str | None]:
    """The engine (account view) a request runs on, and the account the route call names (see
    ``routes.dispatch``, which refuses an unknown one)."""
    owner: KeyOwner = req.context.owner
    if not owner.admin:
        if route.admin:
            raise Forbidden(f"{route.method} {route.path} needs the admin key; a trading key reaches its own account")
        return engine.for_account(owner.account, owner.number), None
    return engine, req.get_header(ACCOUNT_HEADER) or None
