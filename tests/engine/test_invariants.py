"""Property-based: random sequences of funding, orders, cancels and price moves keep the books exact."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from books import check_books, check_orders_consistent
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from mockexchange_ccxt import Engine, Settings
from mockexchange_ccxt.errors import InsufficientFunds, InvalidOrder

SYMBOLS = ("BTC/USDT", "ETH/BTC")
START = {"BTC/USDT": Decimal(50000), "ETH/BTC": Decimal("0.05")}
UNIT = Decimal("0.00000001")


def _scaled(symbol: str, factor: Decimal) -> Decimal:
    """A price near the symbol's start price with up to 8 decimals."""
    return (START[symbol] * factor).quantize(Decimal("0.00000001"))


amounts = st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal("0.5"), places=8)
factors = st.decimals(min_value=Decimal("0.8"), max_value=Decimal("1.2"), places=6)
symbols = st.sampled_from(SYMBOLS)
sides = st.sampled_from(("buy", "sell"))
operations = st.one_of(
    st.tuples(
        st.just("fund"), st.sampled_from(("USDT", "BTC", "ETH")), st.decimals(Decimal(1), Decimal(100000), places=8)
    ),
    st.tuples(st.just("market"), symbols, sides, amounts),
    st.tuples(st.just("limit"), symbols, sides, amounts, factors),
    st.tuples(st.just("limit"), symbols, sides, amounts, factors),
    st.tuples(st.just("market"), symbols, sides, amounts),
    st.tuples(st.just("cancel"), st.integers(min_value=0, max_value=50)),
    st.tuples(st.just("price"), symbols, factors),
    st.tuples(st.just("tick"), symbols, factors),
)


def _depth(symbol: str, factor: Decimal) -> dict[str, Any]:
    """A thin book around a price (FILL_MODEL=book): orders fill partly, and walk it."""
    price = _scaled(symbol, factor)
    levels = (
        (Decimal("0.001"), Decimal("0.01")),
        (Decimal("0.004"), Decimal("0.05")),
        (Decimal("0.02"), Decimal("0.1")),
    )
    return {
        "bids": [[str((price * (1 - gap)).quantize(UNIT)), str(amount)] for gap, amount in levels],
        "asks": [[str((price * (1 + gap)).quantize(UNIT)), str(amount)] for gap, amount in levels],
    }


def _apply(engine: Engine, op: tuple[Any, ...], funded: dict[str, Decimal]) -> None:
    kind = op[0]
    try:
        if kind == "fund":
            engine.fund(op[1], op[2])
            funded[op[1]] += op[2]
        elif kind == "market":
            engine.create_order(op[1], op[2], "market", op[3])
        elif kind == "limit":
            engine.create_order(op[1], op[2], "limit", op[3], _scaled(op[1], op[4]))
        elif kind == "cancel":
            open_orders = engine.fetch_orders(status="open")
            if open_orders:
                engine.cancel_order(open_orders[op[1] % len(open_orders)]["id"])
        elif kind == "price":
            depth = _depth(op[1], op[2]) if engine.settings.book_fills else {}
            engine.set_price(op[1], _scaled(op[1], op[2]), **depth)
        else:  # an outside feed write, settled as the tick loop would
            fields = ["price", str(_scaled(op[1], op[2])), "timestamp", "1700000000"]
            if engine.settings.book_fills:
                fields += [x for side, levels in _depth(op[1], op[2]).items() for x in (side, json.dumps(levels))]
            engine.store.call("HSET", f"sym_{op[1]}", *fields)
            engine.process_price_tick(op[1])
    except InsufficientFunds:
        pass
    except InvalidOrder as exc:  # only a sell worth less than one unit may be refused
        assert "rounds to zero" in exc.message


rates = st.sampled_from((Decimal(0), Decimal("0.001"), Decimal("0.0025"), Decimal("0.0123457")))

#: A sequence that closes, cancels and (under the book model) fills a resting buy partly: a buy rests below the
#: ask, the price falls so that the thin book's asks cross it for part of its amount, a market sell fills, and a
#: cancel ends the first open order. The random examples explore; this one makes sure each run checks these.
COVERING: list[tuple[Any, ...]] = [
    ("limit", "BTC/USDT", "buy", Decimal("0.3"), Decimal("0.99")),
    ("price", "BTC/USDT", Decimal("0.98")),
    ("limit", "BTC/USDT", "sell", Decimal("0.1"), Decimal("1.1")),
    ("market", "BTC/USDT", "sell", Decimal("0.01")),
    ("cancel", 0),
]


@pytest.mark.slow
@pytest.mark.parametrize("fill_model", ["touch", "book"])
def test_random_trading_keeps_the_books_exact(settings: Settings, fill_model: str) -> None:
    """After every step: nothing negative, used is exactly what the open remainders reserve, funding plus the
    trades (fees included) is every asset's total, and each order's trades add up to it."""
    stats: Counter[str] = Counter()
    settings = replace(settings, fill_model=fill_model)

    @hsettings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(ops=st.lists(operations, min_size=5, max_size=40), maker=rates, taker=rates)
    @example(ops=COVERING, maker=Decimal("0.001"), taker=Decimal("0.0025"))  # every run meets each case below
    def run(ops: list[tuple[Any, ...]], maker: Decimal, taker: Decimal) -> None:
        with Engine(replace(settings, maker_commission=maker, taker_commission=taker)) as engine:
            engine.store.call("FLUSHALL")
            funded: dict[str, Decimal] = defaultdict(Decimal)
            for asset, amount in (("USDT", Decimal(200000)), ("BTC", Decimal(4)), ("ETH", Decimal(40))):
                engine.fund(asset, amount)
                funded[asset] += amount
            for symbol in SYMBOLS:
                engine.set_price(
                    symbol, START[symbol], **(_depth(symbol, Decimal(1)) if engine.settings.book_fills else {})
                )
            for op in ops:
                _apply(engine, op, funded)
                check_books(engine, funded)  # used is exactly what open orders hold, after every step
                check_orders_consistent(engine)
            for order in engine.fetch_orders(status="open"):
                engine.cancel_order(order["id"])
            balance = engine.fetch_balance()
            assert all(value == 0 for value in balance["used"].values())
            assert all(value >= 0 for value in balance["free"].values())
            check_books(engine, funded)
            check_orders_consistent(engine)
            raw = engine.store.read("HGETALL", engine.keys.balances)
            assert all(int(v) >= 0 for v in raw.values())
            assert all(int(v) == 0 for k, v in raw.items() if not k.startswith("free:"))
            stats.update(o["status"] for o in engine.fetch_orders())
            stats.update("partly" for o in engine.fetch_orders() if 0 < o["filled"] < o["amount"])

    run()
    assert stats["closed"] and stats["canceled"], stats  # the examples did trade, rest and cancel
    assert stats["partly"] or fill_model == "touch", stats
