"""Raw answers (engine dicts or REST JSON) -> ccxt-unified structures with floats, as ccxt bots expect.

Both transports deliver the same shapes: exact numbers (Decimals in process, decimal strings over HTTP) that
become floats only here, at the edge; ``info`` keeps the exact raw values.
"""

from __future__ import annotations

from typing import Any


def num(value: Any) -> float | None:
    """An exact engine number (Decimal or decimal string) as the float ccxt's structures carry."""
    return None if value is None else float(value)


def _fee(raw: dict[str, Any] | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    return {"currency": raw["currency"], "cost": num(raw["cost"]), "rate": num(raw.get("rate"))}


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
        fee = _fee(order.get("fee"))
        return {
            "id": order["id"],
            "clientOrderId": order.get("clientOrderId"),
            "timestamp": order["timestamp"],
            "datetime": order["datetime"],
            "lastTradeTimestamp": order.get("lastTradeTimestamp"),
            "lastUpdateTimestamp": order.get("lastUpdateTimestamp"),
            "symbol": order["symbol"],
            "type": order["type"],
            "timeInForce": order.get("timeInForce"),
            "postOnly": order.get("postOnly"),
            "reduceOnly": order.get("reduceOnly"),
            "side": order["side"],
            "price": num(order.get("price")),
            "triggerPrice": None,
            "stopPrice": None,
            "takeProfitPrice": None,
            "stopLossPrice": None,
            "average": num(order.get("average")),
            "amount": num(order["amount"]),
            "filled": num(order["filled"]),
            "remaining": num(order["remaining"]),
            "cost": num(order["cost"]),
            "status": order["status"],
            "fee": fee,
            "fees": [] if fee is None else [dict(fee)],
            "trades": [],
            "info": order.get("info", order),
        }

    def parse_trade(self, trade: dict[str, Any], market: Any = None) -> dict[str, Any]:
        fee = _fee(trade.get("fee"))
        return {
            "id": trade["id"],
            "order": trade["order"],
            "timestamp": trade["timestamp"],
            "datetime": trade["datetime"],
            "symbol": trade["symbol"],
            "type": trade["type"],
            "side": trade["side"],
            "takerOrMaker": trade["takerOrMaker"],
            "price": num(trade["price"]),
            "amount": num(trade["amount"]),
            "cost": num(trade["cost"]),
            "fee": fee,
            "fees": [] if fee is None else [dict(fee)],
            "info": trade.get("info", trade),
        }

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

    def parse_balance(self, response: dict[str, Any]) -> dict[str, Any]:
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
