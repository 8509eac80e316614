"""A raw Binance client for the dialect's tests: signs like Binance's documentation says (HMAC-SHA256 of the
exact query string and body), so each test can also sign wrongly on purpose."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import inspect
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import ccxt
import ccxt.async_support
import requests
from binance.client import Client

from mockexchange_ccxt.binance import ccxt_config

KEY = "binance-test-key"
SECRET = "binance-test-secret"


def signature(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def signed_query(params: dict[str, Any], secret: str = SECRET, timestamp: int | None = None) -> str:
    """``params`` plus ``timestamp``, urlencoded, then ``&signature=``."""
    query = urlencode({**params, "timestamp": timestamp if timestamp is not None else int(time.time() * 1000)})
    return f"{query}&signature={signature(secret, query)}"


def send(
    url: str,
    method: str,
    path: str,
    params: dict[str, Any] | None = None,
    *,
    signed: bool = True,
    key: str | None = KEY,
    secret: str = SECRET,
    timestamp: int | None = None,
    in_body: bool | None = None,
) -> requests.Response:
    """One request; a signed one carries its parameters in the body for POST (as ccxt does) unless ``in_body``
    says otherwise."""
    text = signed_query(params or {}, secret, timestamp) if signed else urlencode(params or {})
    body_side = method == "POST" if in_body is None else in_body
    headers = {"X-MBX-APIKEY": key} if key is not None else {}
    if body_side:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return requests.request(method, url + path, data=text, headers=headers, timeout=10)
    return requests.request(method, url + path + ("?" + text if text else ""), headers=headers, timeout=10)


def error_of(response: requests.Response) -> tuple[int, int, str]:
    body = response.json()
    return response.status_code, body["code"], body["msg"]


def binance(url: str, key: str = KEY, secret: str = SECRET) -> ccxt.binance:
    """An unmodified ccxt.binance in sandbox mode, pointed at the mock as the README says."""
    exchange = ccxt.binance(ccxt_config(url, key, secret))
    exchange.set_sandbox_mode(True)
    return exchange


def async_binance(url: str, key: str = KEY, secret: str = SECRET) -> ccxt.async_support.binance:
    exchange = ccxt.async_support.binance(ccxt_config(url, key, secret))
    exchange.set_sandbox_mode(True)
    return exchange


MODES = ["sync", "async"]


async def run(exchange: Any, method: str, *args: Any) -> Any:
    """One call, awaited when the exchange is ccxt.async_support's."""
    result = getattr(exchange, method)(*args)
    return await result if inspect.isawaitable(result) else result


def in_mode(mode: str, url: str, scenario: Callable[[Any], Any], **config: Any) -> Any:
    """Run ``scenario(exchange)`` with a sync or an async ccxt.binance (closed afterwards)."""

    async def main() -> Any:
        exchange = binance(url, **config) if mode == "sync" else async_binance(url, **config)
        try:
            return await scenario(exchange)
        finally:
            if mode == "async":
                await exchange.close()

    return asyncio.run(main())


def python_binance(url: str, secret: str = SECRET) -> Client:
    """python-binance's Client with only its base URLs set (it signs, encodes and parses on its own)."""
    connected = Client(KEY, secret, ping=False)
    connected.API_URL = url + "/api"
    connected.MARGIN_API_URL = url + "/sapi"
    return connected
