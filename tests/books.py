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


def reservation(order: dict[str, Any], maker: Decimal) -> tuple[str, Decimal]:
    """What an open order holds, from its public fields: a buy its remainder's cost at the limit price rounded up
    plus the fee at its rate in the quote asset (the market's maker rate once it has traded: FILL_MODEL=book);
    a sell its remainder of the base asset."""
    base, quote = order["symbol"].split("/")
    if order["side"] == "buy":
        cost = ceil_unit(order["remaining"] * order["price"])
        return quote, cost + fee_of(cost, maker if order["filled"] else order["fee"]["rate"])
    return base, order["remaining"]


def open_reservations(engine: Engine) -> dict[str, Decimal]:
    held: dict[str, Decimal] = defaultdict(Decimal)
    for order in engine.fetch_orders(status="open"):
        asset, amount = reservation(order, engine.market(order["symbol"]).maker)
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
    """Every order is in one coherent state and its trades add up to it: each trade belongs to one order, an
    order's trades sum to its ``filled``, ``cost`` and fee; closed means all filled, open means something
    remains. Under the touch model an order fills whole or not at all (open and canceled orders have no trade);
    under FILL_MODEL=book an open or canceled order may have filled part. The finished orders (and only they)
    are in the index retention trims."""
    trades = engine.fetch_my_trades()
    trade_ids = [t["id"] for t in trades]
    assert len(trade_ids) == len(set(trade_ids)), "a trade id was given twice"
    by_order: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for trade in trades:
        by_order[trade["order"]].append(trade)
    partial = engine.settings.book_fills
    orders = {order["id"]: order for order in engine.fetch_orders()}
    finished = set(engine.store.read("ZRANGE", engine.keys.finished_ids, 0, -1))
    assert finished == {order_id for order_id, order in orders.items() if order["status"] != "open"}
    assert set(by_order) <= set(orders), "a trade of no order"
    for order in orders.values():
        mine = by_order.get(order["id"], [])
        assert [t["id"] for t in mine] == [t["id"] for t in order["trades"]]
        assert sum((t["amount"] for t in mine), ZERO) == order["filled"]
        assert sum((t["cost"] for t in mine), ZERO) == order["cost"]
        assert sum((t["fee"]["cost"] for t in mine), ZERO) == order["fee"]["cost"]
        assert order["filled"] + order["remaining"] == order["amount"]
        if order["status"] == "closed":
            assert order["remaining"] == 0 and mine
        else:
            assert order["status"] in ("open", "canceled")
            assert order["remaining"] > 0
            if not partial:
                assert order["filled"] == 0 and not mine and order["cost"] == 0
        if not partial:
            assert len(mine) <= 1, "an order has two trades"


def check_fills(engine: Engine) -> None:
    """Every trade's cost is its amount times its price, rounded up for a buy and down for a sell, its fee that
    cost times its rate rounded up, in the quote asset; a resting order's (maker) trades are at its limit price.
    Under the touch model a filled order has exactly one trade, for its whole amount at its average (a limit
    that filled on arrival keeps its limit as its price), with the same fee as the order."""
    orders = {order["id"]: order for order in engine.fetch_orders()}
    for trade in engine.fetch_my_trades():
        order = orders[trade["order"]]
        rounding = ROUND_CEILING if trade["side"] == "buy" else ROUND_FLOOR  # the buyer pays, the seller gets
        assert trade["cost"] == (trade["amount"] * trade["price"]).quantize(UNIT, rounding=rounding), trade
        assert trade["fee"]["currency"] == order["symbol"].split("/")[1]
        assert trade["fee"]["cost"] == fee_of(trade["cost"], trade["fee"]["rate"]), trade
        if trade["takerOrMaker"] == "maker":
            assert trade["price"] == order["price"], (trade, order)
    if engine.settings.book_fills:
        return
    trades = {trade["order"]: trade for trade in engine.fetch_my_trades()}
    for order in engine.fetch_orders(status="closed"):
        trade = trades.pop(order["id"])
        assert (trade["amount"], trade["price"], trade["cost"]) == (order["amount"], order["average"], order["cost"])
        assert trade["fee"] == order["fee"]
    assert trades == {}, f"trades of orders that are not filled: {sorted(trades)}"
