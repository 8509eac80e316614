"""Binance's authentication: ``X-MBX-APIKEY`` names the account (the admin key ``API_KEY``, or a trading key of
``POST /admin/accounts``), ``signature`` is the hex HMAC-SHA256 of the request's exact parameter text under the
key's secret, and ``timestamp``/``recvWindow`` bound its age.

The signed text is what the client sent, byte for byte: the query string, then the form body, with the
``signature`` parameter taken out (Binance's ``totalParams``). Nothing is re-encoded, so a client that signs
what it sends always verifies, and any change on the way fails.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from decimal import Decimal

from ..web.auth import KeyOwner
from . import errors as e

#: Binance's default and largest ``recvWindow`` (ms), and how far ahead of the server a request may be.
DEFAULT_RECV_WINDOW = 5_000
MAX_RECV_WINDOW = 60_000
MAX_AHEAD_MS = 1_000
KEY_HEADER = "X-MBX-APIKEY"
_RECV_WINDOW = re.compile(r"[0-9]{1,20}(\.[0-9]{1,3})?")


#: api key -> its holder (``web.auth.KeyCheck.owner``: the admin key, a trading key, or None for a key nobody holds).
Lookup = Callable[[str], "KeyOwner | None"]


def signed_payload(query: str, body: str) -> tuple[str, str | None]:
    """Binance's ``totalParams`` without the signature, and the signature (None if absent)."""
    signature: str | None = None
    parts: list[str] = []
    for source in (query, body):
        kept = []
        for pair in source.split("&") if source else []:
            if pair.startswith("signature="):
                signature = pair[len("signature=") :]
            else:
                kept.append(pair)
        parts.append("&".join(kept))
    return "".join(parts), signature


def sign(secret: str, payload: str) -> str:
    """The hex HMAC-SHA256 of ``payload`` under ``secret``: what a client sends as ``signature``."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def authenticate(
    lookup: Lookup, api_key: str | None, query: str, body: str, params: Mapping[str, str], now_ms: int
) -> KeyOwner:
    """Who signed the request, or the Binance error: key (-2014, -2015; also a key without a secret), signature
    (-1102, -1022), then time (-1102, -1021, and -1131 for a ``recvWindow`` over 60 s)."""
    if not api_key:
        raise e.BinanceError(-2014, e.BAD_API_KEY_FORMAT, 401)
    owner = lookup(api_key)
    if owner is None or not owner.secret:
        raise e.BinanceError(-2015, e.REJECTED_API_KEY, 401)
    payload, signature = signed_payload(query, body)
    if not signature:
        raise e.mandatory("signature")
    expected = sign(owner.secret, payload)
    if not hmac.compare_digest(signature.lower().encode(), expected.encode()):
        raise e.BinanceError(-1022, e.BAD_SIGNATURE)
    check_time(params, now_ms)
    return owner


def check_time(params: Mapping[str, str], now_ms: int) -> None:
    """``timestamp`` at most 1 s ahead of the server and at most ``recvWindow`` ms behind it."""
    raw = params.get("timestamp")
    if not raw or not raw.isdigit() or len(raw) > 20:
        raise e.mandatory("timestamp")
    window = Decimal(DEFAULT_RECV_WINDOW)
    given = params.get("recvWindow")
    if given is not None:
        if not _RECV_WINDOW.fullmatch(given):
            raise e.not_valid("recvWindow")
        window = Decimal(given)
        if not 0 < window <= MAX_RECV_WINDOW:
            raise e.BinanceError(-1131, "recvWindow must be less than 60000")
    timestamp = int(raw)
    if timestamp > now_ms + MAX_AHEAD_MS:
        raise e.BinanceError(-1021, e.AHEAD_OF_SERVER)
    if now_ms - timestamp > window:
        raise e.BinanceError(-1021, e.OUTSIDE_RECV_WINDOW)
