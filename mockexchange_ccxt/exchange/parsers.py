"""Raw answers (engine dicts or REST JSON) -> ccxt-unified structures with floats, as ccxt bots expect.

Both transports deliver the same shapes: exact numbers (Decimals in process, decimal strings over HTTP) that
become floats only here, at the edge; ``info`` keeps the exact raw values.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def num(value: Any) -> float | None:
    """An exact engine number (Decimal or decimal string) as the float ccxt's structures carry."""
    return None if value is None else float(value)


def _fee(raw: dict[str, Any] | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    return {"currency": raw["currency"], "cost": num(raw["cost"]), "rate": num(raw.get("rate"))}


#: The numbers of an order, as ccxt's Order structure names them.
_ORDER_NUMBERS = (
    "price",
    "triggerPrice",
    "stopPrice",
    "takeProfitPrice",
    "stopLossPrice",
    "average",
    "amount",
    "filled",
    "remaining",
    "cost",
)


def _floats(tree: Any) -> Any:
    """Every number of a nested dict (markets' precision and limits) as a float; None stays None."""
    if isinstance(tree, dict):
        return {key: _floats(value) for key, value in tree.items()}
    return num(tree)


class ParsersMixin:
    """``parse_*`` overrides shared by the sync and async classes."""

    def parse_market(self, market: dict[str, Any]) -> dict[str, Any]:
        parsed = dict(market)
        for section in ("precision", "limits"):
            parsed[section] = _floats(market[section])
        parsed["taker"], parsed["maker"] = num(market["taker"]), num(market["maker"])
        return parsed

    def parse_ticker(self, ticker: dict[str, Any], market: Any = None) -> dict[str, Any]:
        parsed = dict(ticker)
        for key in ("high", "low", "bid", "ask", "bidVolume", "askVolume", "vwap", "open", "close", "last"):
            parsed[key] = num(ticker.get(key))
        for key in ("previousClose", "change", "percentage", "average", "baseVolume", "quoteVolume"):
            parsed[key] = num(ticker.get(key))
        parsed["markPrice"] = parsed["indexPrice"] = None
        return parsed

    def parse_order(self, order: dict[str, Any], market: Any = None) -> dict[str, Any]:
        """The engine's order (``engine/views.py`` names every field) with its numbers as floats."""
        parsed = dict(order)
        get = order.get
        for key in _ORDER_NUMBERS:
            parsed[key] = num(get(key))
        fee = _fee(get("fee"))
        trades = get("trades")
        parsed["fee"] = fee
        parsed["fees"] = [] if fee is None else [dict(fee)]
        parsed["trades"] = [self.parse_trade(trade) for trade in trades] if trades else []
        parsed["postOnly"] = bool(get("postOnly"))
        parsed["info"] = get("info", order)
        return parsed

    def parse_trade(self, trade: dict[str, Any], market: Any = None) -> dict[str, Any]:
        """The engine's trade (``engine/views.py``) with its numbers as floats."""
        parsed = dict(trade)
        for key in ("price", "amount", "cost"):
            parsed[key] = num(trade[key])
        fee = _fee(trade.get("fee"))
        parsed["fee"] = fee
        parsed["fees"] = [] if fee is None else [dict(fee)]
        parsed["info"] = trade.get("info", trade)
        return parsed

    def parse_ohlcv(self, ohlcv: list[Any], market: Any = None) -> list[Any]:
        timestamp, o, h, low, c, volume = ohlcv
        return [int(timestamp), float(o), float(h), float(low), float(c), float(volume)]

    def parse_book(self, book: dict[str, Any]) -> dict[str, Any]:
        """A unified order book with float levels (``info`` keeps whether it is synthetic)."""
        return {
            "symbol": book["symbol"],
            "bids": [[float(price), float(amount)] for price, amount in book["bids"]],
            "asks": [[float(price), float(amount)] for price, amount in book["asks"]],
            "timestamp": book["timestamp"],
            "datetime": book["datetime"],
            "nonce": book.get("nonce"),
            "info": book.get("info", {}),
        }

    def parse_balance(self, response: dict[str, Any], listed: Iterable[str] = ()) -> dict[str, Any]:
        """The balances of the response, then a zero row for each ``listed`` currency it does not hold."""
        result: dict[str, Any] = {
            "info": response.get("info", {}),
            "timestamp": response.get("timestamp"),
            "datetime": response.get("datetime"),
        }
        for asset, total in response.get("total", {}).items():
            result[asset] = {
                "free": num(response["free"][asset]),
                "used": num(response["used"][asset]),
                "total": num(total),
            }
        for asset in listed:
            if asset not in result:
                result[asset] = {"free": 0.0, "used": 0.0, "total": 0.0}
        return self.safe_balance(result)  # type: ignore[attr-defined,no-any-return]

    def parse_trading_fee(self, market: dict[str, Any], info: Any = None) -> dict[str, Any]:
        return {
            "info": info if info is not None else {"maker": market["maker"], "taker": market["taker"]},
            "symbol": market["symbol"],
            "maker": market["maker"],
            "taker": market["taker"],
            "percentage": True,
            "tierBased": False,
        }
