"""Binance's spot REST dialect, served beside the seed's API: an unmodified ``ccxt.binance`` (or any Binance
client) trades against the mock, configured only with a different base URL and keys.

``ccxt_config(url, key, secret)`` is the configuration the README documents: every URL ccxt.binance may call
points at the mock, and the options keep it on spot (no margin, futures or currency endpoints). Call
``set_sandbox_mode(True)`` on the exchange after constructing it.
"""

from __future__ import annotations

from typing import Any

from .app import create_dialect_app, with_dialect

#: ccxt.binance's sandbox URLs that are not spot (futures): pointed at the mock too, which refuses them, so a
#: stray call never leaves the machine.
NOT_SPOT = ("fapiPublic", "fapiPublicV2", "fapiPublicV3", "fapiPrivate", "fapiPrivateV2", "fapiPrivateV3",
            "dapiPublic", "dapiPrivate", "dapiPrivateV2")  # fmt: skip


def ccxt_config(base_url: str, api_key: str, secret: str) -> dict[str, Any]:
    """The ``ccxt.binance`` configuration for a mock at ``base_url`` (then ``set_sandbox_mode(True)``)."""
    base = base_url.rstrip("/")
    return {
        "apiKey": api_key,
        "secret": secret,
        "urls": {
            "test": {
                "public": base + "/api/v3",
                "private": base + "/api/v3",
                "v1": base + "/api/v1",
                "sapi": base + "/sapi/v1",
                **{name: f"{base}/{name[:4]}" for name in NOT_SPOT},
            }
        },
        "options": {
            "defaultType": "spot",
            "fetchMarkets": {"types": ["spot"]},
            "fetchMargins": False,
            "fetchCurrencies": False,
            "warnOnFetchOpenOrdersWithoutSymbol": False,
        },
    }


__all__ = ["ccxt_config", "create_dialect_app", "with_dialect"]
