"""The account's books checked to the last unit: expected fees and reservations, conservation of every
asset, and the coherence of orders and trades. Used by the engine tests and the end-to-end reliability tests.

Plain functions (no fixtures) so that child processes can import them too.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from mockexchange_ccxt import Engine

UNIT = Decimal("0.00000001")
ZERO = Decimal(0)


def ceil_unit(value: Decimal) -> Decimal:
    """Round up to a whole 1e-8 (what a buyer pays, and every fee)."""
    return value.quantize(UNIT, rounding=ROUND_CEILING)


def fee_of(cost: Decimal, rate: Decimal) -> Decimal:
    return ceil_unit(cost * rate)


def reservation(order: dict[str, Any]) -> tuple[str, Decimal]:
    """What an open order holds, from its public fields: a buy its cost at the limit price rounded up plus
    the fee at its (maker) rate in the quote asset; a sell its amount of the base asset."""
    base, quote = order["symbol"].split("/")
    if order["side"] == "buy":
        cost = ceil_unit(order["amount"] * order["price"])
        return quote, cost + fee_of(cost, order["fee"]["rate"])
    return base, order["amount"]


def open_reservations(engine: Engine) -> dict[str, Decimal]:
    held: dict[str, Decimal] = defaultdict(Decimal)
    for order in engine.fetch_orders(status="open"):
        asset, amount = reservation(order)
        held[asset] += amount
    return dict(held)


def expected_totals(engine: Engine, funded: dict[str, Decimal]) -> dict[str, Decimal]:
    """Funding plus the signed effect of every fill: a buy adds its amount of base and takes cost + fee of
    quote, a sell takes its amount of base and adds cost - fee of quote; the fills that retention trimmed count
    through the account's retention ledger (their net effect per asset)."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for asset, amount in funded.items():
        totals[asset] += amount
    for asset, amount in engine.trimmed()["net"].items():
        totals[asset] += amount
    for trade in engine.fetch_my_trades():
        base, quote = trade["symbol"].split("/")
        cost, fee = trade["cost"], trade["fee"]["cost"]
        assert trade["fee"]["currency"] == quote
        if trade["side"] == "buy":
            totals[base] += trade["amount"]
            totals[quote] -= cost + fee
        else:
            totals[base] -= trade["amount"]
            totals[quote] += cost - fee
    return dict(totals)


def check_books(engine: Engine, funded: dict[str, Decimal]) -> None:
    """The account's invariants: nothing negative, total = free + used, used = exactly what open orders hold
    (no admin edits in these tests), and every asset's total equals funding plus the signed fills."""
    balance = engine.fetch_balance()
    held = open_reservations(engine)
    expected = expected_totals(engine, funded)
    assets = set(balance["total"]) | set(held) | {a for a, v in expected.items() if v != 0}
    for asset in sorted(assets):
        entry = balance.get(asset, {"free": ZERO, "used": ZERO, "total": ZERO})
        assert entry["free"] >= 0, (asset, entry)
        assert entry["used"] >= 0, (asset, entry)
        assert entry["total"] == entry["free"] + entry["used"]
        assert entry["used"] == held.get(asset, ZERO), (asset, entry, held.get(asset))
        assert entry["total"] == expected.get(asset, ZERO), (asset, entry, expected.get(asset))


def check_orders_consistent(engine: Engine) -> None:
    """Every order is in exactly one coherent state: open (nothing filled), closed (all filled, one trade)
    or canceled (nothing filled, no trade); the finished ones (and only they) are in the index retention trims."""
    trade_ids = [t["order"] for t in engine.fetch_my_trades()]
    assert len(trade_ids) == len(set(trade_ids)), "an order has two trades"
    closed = set(trade_ids)
    orders = engine.fetch_orders()
    finished = set(engine.store.read("ZRANGE", engine.keys.finished_ids, 0, -1))
    assert finished == {order["id"] for order in orders if order["status"] != "open"}
    for order in orders:
        if order["status"] == "closed":
            assert order["filled"] == order["amount"] and order["remaining"] == 0
            assert order["id"] in closed
        else:
            assert order["status"] in ("open", "canceled")
            assert order["filled"] == 0 and order["remaining"] == order["amount"] and order["cost"] == 0
            assert order["id"] not in closed


def check_fills(engine: Engine) -> None:
    """Every filled order has exactly one trade for its whole amount at its price, with the fee its rate gives
    (rounded up to a unit, in the quote asset), and the order shows the same fee."""
    trades = {trade["order"]: trade for trade in engine.fetch_my_trades()}
    for order in engine.fetch_orders(status="closed"):
        trade = trades.pop(order["id"])
        assert (trade["amount"], trade["price"], trade["cost"]) == (order["amount"], order["price"], order["cost"])
        rounding = ROUND_CEILING if order["side"] == "buy" else ROUND_FLOOR  # the buyer pays, the seller gets
        assert trade["cost"] == (trade["amount"] * trade["price"]).quantize(UNIT, rounding=rounding), trade
        assert trade["fee"] == order["fee"]
        assert trade["fee"]["currency"] == order["symbol"].split("/")[1]
        assert trade["fee"]["cost"] == fee_of(trade["cost"], trade["fee"]["rate"]), trade
    assert trades == {}, f"trades of orders that are not filled: {sorted(trades)}"
