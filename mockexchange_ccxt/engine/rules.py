"""Market rules per symbol: the markets file (``MARKETS_FILE``, or the class's ``options['markets']``) and the
checks every order passes, with Binance's filter names in the messages.

The file is JSON in ccxt's own market shape, every key optional::

    {"BTC/USDT": {"precision": {"price": "0.01", "amount": "0.00001"},
                  "limits": {"amount": {"min": "0.0001", "max": "100"}, "price": {"min": "0.01", "max": "1000000"},
                             "cost": {"min": "5", "max": "1000000"}},
                  "maker": "0.001", "taker": "0.001", "active": true}}

A key the mock does not implement, a value that is not a number of the right range, a step of 0, a minimum
above its maximum: the whole file is refused with the file, the key and the reason (it never half-loads).
Symbols the file does not list keep the default rules (``engine/markets.py``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..errors import InvalidOrder, MockExchangeError
from .markets import MAX_PRICE_UNITS, Market, split_symbol
from .money import MAX_AMOUNT, UNIT, fmt, parse_decimal

#: Every key a market's entry may have: dotted path -> Market field.
RULE_KEYS: dict[str, str] = {
    "precision.price": "tick",
    "precision.amount": "step",
    "limits.amount.min": "min_amount",
    "limits.amount.max": "max_amount",
    "limits.price.min": "min_price",
    "limits.price.max": "max_price",
    "limits.cost.min": "min_cost",
    "limits.cost.max": "max_cost",
    "maker": "maker",
    "taker": "taker",
    "active": "active",
}


class RulesError(ValueError):
    """The markets file cannot be used; the message names the file, the key and the reason."""


@dataclass(frozen=True)
class MarketRules:
    """The rules of the symbols a markets file lists (Market field -> value, per symbol)."""

    by_symbol: Mapping[str, Mapping[str, Any]]

    def market(self, symbol: str, maker: Decimal, taker: Decimal) -> Market:
        """The market of a symbol with the configured rates and the file's rules on top."""
        rules = dict(self.by_symbol.get(symbol, {}))
        return Market.of(symbol, rules.pop("maker", maker), rules.pop("taker", taker), **rules)


NO_RULES = MarketRules({})


def load_rules(source: str | None) -> MarketRules:
    """Parse a markets file: a path, or the JSON text itself (how the class's ``options['markets']`` dict
    travels in ``Settings``). None means no file."""
    if source is None or not source.strip():
        return NO_RULES
    if source.lstrip().startswith("{"):
        origin, text = "options['markets']", source
    else:
        origin = source
        try:
            text = Path(source).expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise RulesError(f"markets file {source}: cannot be read: {exc}") from None
    try:
        document = json.loads(text, parse_float=Decimal)
    except (ValueError, RecursionError) as exc:
        raise RulesError(f"markets file {origin}: not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise RulesError(f"markets file {origin}: must be a JSON object of symbol -> market rules")
    rules: dict[str, dict[str, Any]] = {}
    for symbol, entry in document.items():
        try:
            split_symbol(symbol)
            rules[symbol] = _market_rules(symbol, entry)
        except MockExchangeError as exc:
            raise RulesError(f"markets file {origin}: {exc.message}") from None
    return MarketRules(rules)


def _flatten(entry: Any, prefix: str) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise InvalidOrder(f"{prefix.rstrip('.')}: must be a JSON object, got {type(entry).__name__}")
    flat: dict[str, Any] = {}
    for key, value in entry.items():
        path = prefix + str(key)
        if isinstance(value, dict):
            flat.update(_flatten(value, path + "."))
        else:
            flat[path] = value
    return flat


def _market_rules(symbol: str, entry: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for path, value in _flatten(entry, symbol + ".").items():
        key = path[len(symbol) + 1 :]
        name = RULE_KEYS.get(key)
        if name is None:
            raise InvalidOrder(f"{path}: not a rule the mock implements (known: {', '.join(RULE_KEYS)})")
        if value is None:
            continue
        if name == "active":
            if not isinstance(value, bool):
                raise InvalidOrder(f"{path}: must be true or false, got {value!r}")
            values[name] = value
            continue
        number = parse_decimal(str(value) if isinstance(value, int | float | Decimal) else value, path, InvalidOrder)
        if name in ("maker", "taker"):
            if not 0 <= number < 1:
                raise InvalidOrder(f"{path}: a fee rate must be in [0, 1), got {fmt(number)}")
        elif number <= 0 or number != number.quantize(UNIT) or number > MAX_AMOUNT:
            raise InvalidOrder(
                f"{path}: must be a positive multiple of {fmt(UNIT)} up to {fmt(MAX_AMOUNT)}, got {fmt(number)}"
            )
        values[name] = number
    for low, high, what in (("min_amount", "max_amount", "amount"), ("min_price", "max_price", "price")):
        if low in values and high in values and values[low] > values[high]:
            raise InvalidOrder(f"{symbol}.limits.{what}: min {fmt(values[low])} is above max {fmt(values[high])}")
    if values.get("max_price", MAX_PRICE_UNITS) > MAX_PRICE_UNITS:
        raise InvalidOrder(f"{symbol}.limits.price.max: above the highest price {fmt(MAX_PRICE_UNITS)}")
    if "min_cost" in values and "max_cost" in values and values["min_cost"] > values["max_cost"]:
        raise InvalidOrder(
            f"{symbol}.limits.cost: min {fmt(values['min_cost'])} is above max {fmt(values['max_cost'])}"
        )
    return values


def rules_of_markets(markets: Mapping[str, Mapping[str, Any]], decimal_places: bool = False) -> dict[str, Any]:
    """A markets file's content from ccxt markets (``exchange.markets``, as ``mockexchange feed`` copies a real
    exchange's): per symbol the rules this file knows. ``decimal_places``: the source's ``precisionMode`` counts
    digits rather than giving tick sizes. A rule the mock cannot hold (a tick finer than 1e-8, a limit past the
    largest amount) is left out, so that symbol keeps the default for it; the result always loads."""
    document: dict[str, Any] = {}
    for symbol, market in markets.items():
        entry: dict[str, Any] = {}
        precision, limits = market.get("precision") or {}, market.get("limits") or {}
        values = {
            "precision.price": precision.get("price"),
            "precision.amount": precision.get("amount"),
            **{
                f"limits.{k}.{end}": (limits.get(k) or {}).get(end)
                for k in ("amount", "price", "cost")
                for end in ("min", "max")
            },
            "maker": market.get("maker"),
            "taker": market.get("taker"),
        }
        for key, value in values.items():
            if value is None or isinstance(value, bool):
                continue
            if decimal_places and key.startswith("precision."):
                value = Decimal(1).scaleb(-int(value))
            text = fmt(Decimal(repr(value) if isinstance(value, float) else str(value)))
            candidate = _nested({**entry, key: text})
            try:
                _market_rules(symbol, candidate)
            except MockExchangeError:
                continue
            entry[key] = text
        if isinstance(market.get("active"), bool):
            entry["active"] = market["active"]
        document[symbol] = _nested(entry)
    return document


def _nested(flat: Mapping[str, Any]) -> dict[str, Any]:
    """``{"limits.amount.min": v}`` -> ``{"limits": {"amount": {"min": v}}}``."""
    tree: dict[str, Any] = {}
    for key, value in flat.items():
        *path, last = key.split(".")
        node = tree
        for part in path:
            node = node.setdefault(part, {})
        node[last] = value
    return tree


# -- the checks every order passes ---------------------------------------------------------------------------------


def check_active(market: Market) -> None:
    if not market.active:
        raise InvalidOrder(f"market {market.symbol} is not active (the markets file sets active: false)")


def _check_filter(
    market: Market, name: str, what: str, value: Decimal, step: tuple[Decimal, str], low: Decimal, high: Decimal
) -> None:
    """One of Binance's filters: ``value`` a multiple of ``step`` and within ``low`` and ``high``; the message
    names the filter, the rule (ccxt's key) and the allowed value."""
    size, key = step
    if value % size:
        unit = "tick" if key == "price" else "step"
        raise InvalidOrder(
            f"Filter failure: {name}: {what} {fmt(value)} is not a multiple of the {unit} size {fmt(size)}"
            f" of {market.symbol} (precision.{key})"
        )
    limits = "amount" if key == "amount" else "price"
    if value < low:
        raise InvalidOrder(
            f"Filter failure: {name}: {what} {fmt(value)} is below the minimum {fmt(low)} of {market.symbol}"
            f" (limits.{limits}.min)"
        )
    if value > high:
        raise InvalidOrder(
            f"Filter failure: {name}: {what} {fmt(value)} is above the maximum {fmt(high)} of {market.symbol}"
            f" (limits.{limits}.max)"
        )


def check_amount(market: Market, amount: Decimal) -> None:
    """LOT_SIZE: step size, minimum and maximum amount."""
    _check_filter(market, "LOT_SIZE", "amount", amount, (market.step, "amount"), market.min_amount, market.max_amount)


def check_price(market: Market, price: Decimal, what: str = "price") -> None:
    """PRICE_FILTER: tick size, minimum and maximum price (for limit and trigger prices alike)."""
    _check_filter(market, "PRICE_FILTER", what, price, (market.tick, "price"), market.min_price, market.max_price)


def check_notional(market: Market, amount: Decimal, price: Decimal) -> None:
    """NOTIONAL: amount * price (at the limit, trigger or touch price) within the cost limits."""
    notional = amount * price
    if market.min_cost is not None and notional < market.min_cost:
        raise InvalidOrder(
            f"Filter failure: NOTIONAL: cost {fmt(notional)} is below the minimum {fmt(market.min_cost)}"
            f" of {market.symbol} (limits.cost.min)"
        )
    if market.max_cost is not None and notional > market.max_cost:
        raise InvalidOrder(
            f"Filter failure: NOTIONAL: cost {fmt(notional)} is above the maximum {fmt(market.max_cost)}"
            f" of {market.symbol} (limits.cost.max)"
        )
