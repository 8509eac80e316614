"""FILL_MODEL=book, case by case: walks and their trades, the slippage bound, time in force, resting orders filled
partly over passes in price-time priority across accounts, liquidity shared per snapshot, triggers, bad depth."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from typing import Any

import pytest

from mockexchange_ccxt import Engine, ReplayClock
from mockexchange_ccxt.errors import InsufficientFunds, InvalidOrder, OrderImmediatelyFillable

from .conftest import EngineFactory

S = "BTC/USDT"
T0 = 1_700_000_000_000
D = Decimal


@pytest.fixture
def book(make_engine: EngineFactory) -> Engine:
    """An engine filling against the book (no fees, so the numbers read plainly), funded, on a ReplayClock."""
    engine = make_engine(clock=ReplayClock(), fill_model="book", commission=D(0))
    engine.fund("USDT", "1000000")
    engine.fund("BTC", "100")
    return engine


def write(engine: Engine, stamp: int, bids: list[Any], asks: list[Any], price: str | None = None) -> int:
    """A snapshot: depth, the touch from it, and a last price at the best bid unless given."""
    best_bid, best_ask = (bids[0][0] if bids else None), (asks[0][0] if asks else None)
    last = price or best_bid or best_ask or "100"
    return engine.set_price(S, last, timestamp=stamp, bid=best_bid, ask=best_ask, bids=bids, asks=asks)


def taken(engine: Engine) -> dict[str, int]:
    """What orders took from the current snapshot, per level (units)."""
    raw = engine.store.read("HGETALL", engine.keys.depth_taken(S))
    if raw.get("ts") != str(engine.book(S).timestamp):
        return {}
    return {field: int(units) for field, units in raw.items() if field != "ts" and int(units)}


def trades(order: dict[str, Any]) -> list[tuple[Decimal, Decimal, str]]:
    return [(t["price"], t["amount"], t["takerOrMaker"]) for t in order["trades"]]


def test_a_market_buy_walks_the_asks_one_trade_per_level(make_engine: EngineFactory) -> None:
    engine = make_engine(clock=ReplayClock(), fill_model="book")  # fees 0.1 %
    engine.fund("USDT", "10000")
    write(engine, T0, [["99", "1"]], [["100", "0.3"], ["101", "0.5"], ["102.5", "2"]])
    order = engine.create_order(S, "buy", "market", "1")
    assert order["status"] == "closed" and order["filled"] == 1
    assert trades(order) == [(D(100), D("0.3"), "taker"), (D(101), D("0.5"), "taker"), (D("102.5"), D("0.2"), "taker")]
    assert [t["cost"] for t in order["trades"]] == [D(30), D("50.5"), D("20.5")]
    assert [t["fee"]["cost"] for t in order["trades"]] == [D("0.03"), D("0.0505"), D("0.0205")]
    assert (order["cost"], order["fee"]["cost"], order["average"]) == (D(101), D("0.101"), D(101))
    assert engine.fetch_balance()["USDT"]["free"] == D("10000") - D(101) - D("0.101")
    ids = [t["id"] for t in order["trades"]]
    assert ids[0] == order["id"] and len(set(ids)) == 3 and all(i.isdigit() for i in ids)
    assert engine.fetch_order(order["id"])["trades"] == order["trades"]
    assert [t["id"] for t in engine.fetch_my_trades()] == ids
    assert engine.order_trades(order["id"]) == order["trades"]
    # the next order finds the first level gone: liquidity taken from a snapshot is gone until the next one
    second = engine.create_order(S, "buy", "market", "0.1")
    assert trades(second) == [(D("102.5"), D("0.1"), "taker")]


def test_the_slippage_bound_is_inclusive_and_what_is_left_is_canceled(make_engine: EngineFactory) -> None:
    engine = make_engine(clock=ReplayClock(), fill_model="book", commission=D(0), max_slippage_bps=D(200))
    engine.fund("BTC", "10")
    write(engine, T0, [["100", "1"], ["98", "1"], ["97.99", "5"]], [["101", "1"]])  # 2 % below 100 is 98
    order = engine.create_order(S, "sell", "market", "5")
    assert order["status"] == "canceled" and order["filled"] == 2 and order["remaining"] == 3
    assert trades(order) == [(D(100), D(1), "taker"), (D(98), D(1), "taker")]
    assert "MAX_SLIPPAGE_BPS" in order["info"]["reason"]
    assert engine.fetch_balance()["BTC"]["free"] == 8  # only what traded left the account
    # from the best level with anything left, before this order takes anything: 97.99 is now within 2 %
    again = engine.create_order(S, "sell", "market", "1")
    assert trades(again) == [(D("97.99"), D(1), "taker")]


def test_a_market_order_with_nothing_to_take_is_stored_canceled(book: Engine) -> None:
    write(book, T0, [["99", "1"]], [])
    order = book.create_order(S, "buy", "market", "1")
    assert (order["status"], order["filled"], order["trades"]) == ("canceled", 0, [])
    assert book.fetch_order(order["id"])["status"] == "canceled"
    assert book.fetch_balance()["USDT"]["free"] == 1000000


def test_time_in_force_under_the_book(book: Engine) -> None:
    write(book, T0, [["99", "1"]], [["100", "1"], ["101", "1"], ["105", "9"]])
    fok = book.create_order(S, "buy", "limit", "3", "101", time_in_force="FOK")
    assert (fok["status"], fok["filled"]) == ("canceled", 0)  # 2 within the limit: all or nothing
    ioc = book.create_order(S, "buy", "limit", "3", "101", time_in_force="IOC")
    assert (ioc["status"], ioc["filled"], ioc["remaining"]) == ("canceled", 2, 1)
    assert trades(ioc) == [(D(100), D(1), "taker"), (D(101), D(1), "taker")]
    with pytest.raises(OrderImmediatelyFillable):
        book.create_order(S, "buy", "limit", "1", "105", post_only=True)
    assert book.create_order(S, "buy", "limit", "1", "104", post_only=True)["status"] == "open"  # 100 and 101 gone
    gtc = book.create_order(S, "buy", "limit", "10", "105")
    assert (gtc["status"], gtc["filled"], gtc["remaining"]) == ("open", 9, 1)
    assert book.fetch_balance()["USDT"]["used"] == 104 + 105  # the post-only order and the remainder at 105


def test_a_market_buy_must_be_covered_for_its_walk(make_engine: EngineFactory) -> None:
    engine = make_engine(clock=ReplayClock(), fill_model="book", commission=D("0.01"))
    engine.fund("USDT", "207.04")
    write(engine, T0, [["99", "1"]], [["100", "1"], ["105", "1"]])
    with pytest.raises(InsufficientFunds):
        engine.create_order(S, "buy", "market", "2")  # 205 + 2.05 of fees
    assert engine.fetch_orders() == []
    assert taken(engine) == {}  # a refused order takes nothing (on a cluster: took, and gave back)
    engine.fund("USDT", "0.01")
    assert engine.create_order(S, "buy", "market", "2")["cost"] == 205
    assert engine.fetch_balance()["USDT"]["total"] == 0


def test_resting_orders_fill_partly_at_their_limit_over_passes(book: Engine) -> None:
    write(book, T0, [["90", "1"]], [["110", "1"]])
    order = book.create_order(S, "buy", "limit", "1", "100")
    assert book.fetch_balance()["USDT"]["used"] == 100
    write(book, T0 + 1000, [["90", "1"]], [["95", "0.25"], ["99", "0.15"], ["101", "5"]])
    now = book.fetch_order(order["id"])
    assert (now["status"], now["filled"], now["remaining"]) == ("open", D("0.4"), D("0.6"))
    assert trades(now) == [(D(100), D("0.4"), "maker")]  # one trade per pass, at its own limit
    assert book.fetch_balance()["USDT"]["used"] == 60  # exactly what the remainder needs
    write(book, T0 + 2000, [["90", "1"]], [["100", "0.5"]])
    now = book.fetch_order(order["id"])
    assert (now["filled"], now["remaining"], now["cost"], now["average"]) == (D("0.9"), D("0.1"), D(90), D(100))
    canceled = book.cancel_order(order["id"])
    assert (canceled["status"], canceled["filled"]) == ("canceled", D("0.9"))
    balance = book.fetch_balance()
    assert balance["USDT"] == {"free": D(1000000 - 90), "used": 0, "total": D(1000000 - 90)}
    assert balance["BTC"]["total"] == D("100.9")
    assert [t["order"] for t in book.fetch_my_trades()] == [order["id"], order["id"]]


@pytest.mark.parametrize("whole", [False, True])
def test_a_later_pass_never_times_a_trade_before_the_orders_last_one(book: Engine, whole: bool) -> None:
    """An outside feed may write a snapshot older than the one that filled part of a resting order: the next
    trade is timed at the order's last trade, never before it, so its trades stay in time order (``whole``: the
    remainder fills entirely, else partly again)."""
    write(book, T0, [["90", "1"]], [["110", "1"]])
    order = book.create_order(S, "buy", "limit", "1", "100")
    write(book, T0 + 60_000, [["90", "1"]], [["99", "0.4"]])
    first = book.fetch_order(order["id"])["trades"][0]["timestamp"]
    asks = [["98", "5" if whole else "0.1"]]
    fields = {"price": "97", "timestamp": str((T0 + 1000) // 1000), "bid": "90", "ask": "98", "asks": json.dumps(asks)}
    book.store.call("HSET", book.keys.price(S), *(x for pair in fields.items() for x in pair), "bids", '[["90","1"]]')
    book.process_price_tick(S)
    now = book.fetch_order(order["id"])
    assert [t["timestamp"] for t in now["trades"]] == [first, first]
    assert now["status"] == ("closed" if whole else "open") and now["lastTradeTimestamp"] == first
    assert [t["timestamp"] for t in book.fetch_my_trades()] == [first, first]


def test_resting_orders_of_all_accounts_fill_in_price_time_priority(book: Engine) -> None:
    bob = book.for_account("bob")
    bob.fund("USDT", "1000")
    write(book, T0, [["90", "1"]], [["110", "1"]])
    first = book.create_order(S, "buy", "limit", "1", "100")
    better = bob.create_order(S, "buy", "limit", "1", "101")
    book.set_price(S, "100", timestamp=T0 + 500, bids=[["90", "1"]], asks=[["110", "1"]])  # time moves on
    later = bob.create_order(S, "buy", "limit", "1", "100")
    write(book, T0 + 1000, [["90", "1"]], [["99", "1.5"], ["100", "0.8"]])
    assert bob.fetch_order(better["id"])["filled"] == 1  # best limit first
    assert book.fetch_order(first["id"])["filled"] == D("1")  # then the earlier of the two at 100
    assert bob.fetch_order(later["id"])["filled"] == D("0.3")  # the rest
    assert taken(book) == {"a:99": 150000000, "a:100": 80000000}


def test_liquidity_is_shared_by_engines_and_kept_per_snapshot(book: Engine, make_engine: EngineFactory) -> None:
    other = make_engine(fill_model="book", commission=D(0))  # another process, as far as Valkey can tell
    write(book, T0, [["99", "1"]], [["100", "1"]])
    assert book.create_order(S, "buy", "market", "0.6")["filled"] == D("0.6")
    assert other.create_order(S, "buy", "market", "0.6")["filled"] == D("0.4")
    write(book, T0, [["99", "1"]], [["100", "1"]])  # the same timestamp: the same snapshot, still taken
    assert book.create_order(S, "buy", "market", "0.6")["status"] == "canceled"
    write(book, T0 + 1, [["99", "1"]], [["100", "1"]])  # a new snapshot offers it again
    assert book.create_order(S, "buy", "market", "0.6")["filled"] == D("0.6")
    book.set_price(S, "100", timestamp=T0 + 2)  # no depth: the old depth is gone, the book is synthetic
    assert book.book(S).synthetic
    assert book.create_order(S, "buy", "market", "5")["filled"] == 5  # 10,000 USDT per synthetic level


BAD_DEPTH = {
    "unsorted": {"asks": json.dumps([["101", "1"], ["100", "1"]]), "bids": "[]"},
    "nan": {"asks": json.dumps([["101", "NaN"]]), "bids": "[]"},
    "negative": {"asks": json.dumps([["101", "-1"]]), "bids": "[]"},
    "crossed": {"asks": json.dumps([["99", "1"]]), "bids": json.dumps([["99.5", "1"]])},
    "not json": {"asks": "[[101, 1]", "bids": "[]"},
    "a side missing": {"asks": json.dumps([["101", "1"]])},
    "too long": {"asks": json.dumps([["101", "1"]]) + " " * (1 << 20), "bids": "[]"},
    "not a pair": {"asks": json.dumps([["101", "1", "2"]]), "bids": "[]"},
}


@pytest.mark.parametrize("kind", sorted(BAD_DEPTH))
def test_depth_that_is_not_depth_is_ignored_and_logged_once(
    book: Engine, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    key, bad = book.keys.price(S), BAD_DEPTH[kind]
    symbol_log = [r for r in caplog.records if S in r.getMessage()]
    with caplog.at_level(logging.WARNING, logger="mockexchange_ccxt.depth"):
        for stamp in (T0, T0 + 1):
            book.store.call("DEL", key)
            book.store.call(
                "HSET", key, "price", "100", "timestamp", str(stamp), *[x for kv in bad.items() for x in kv]
            )
            synthetic = book.book(S)
            order = book.create_order(S, "buy", "market", "0.5")
            assert synthetic.synthetic and order["trades"][0]["price"] == synthetic.asks[0][0]  # never the garbage
    assert len([r for r in caplog.records if S in r.getMessage()]) - len(symbol_log) <= 1  # once per symbol


def test_a_book_longer_than_a_thousand_levels_is_cut_there(book: Engine) -> None:
    asks = [[str(100 + k / 100), "0.001"] for k in range(1500)]
    write(book, T0, [["99", "1"]], asks)
    assert len(book.book(S).asks) == 1000
    order = book.create_order(S, "buy", "limit", "2", "200")
    assert (order["filled"], len(order["trades"]), order["remaining"]) == (1, 1000, 1)


def test_triggered_stops_fill_by_the_same_rules(book: Engine) -> None:
    write(book, T0, [["100", "1"]], [["101", "1"]])
    stop = book.create_order(S, "sell", "market", "2", stop_loss_price="95")
    stop_limit = book.create_order(S, "sell", "stop_loss_limit", "1", "93", stop_price="95")
    write(book, T0 + 1000, [["94", "0.5"], ["93", "1"], ["80", "9"]], [["96", "1"]], price="95")
    fired = book.fetch_order(stop["id"])
    assert fired["status"] == "canceled" and fired["info"]["triggerTimestamp"] == T0 + 1000
    assert trades(fired) == [(D(94), D("0.5"), "taker"), (D(93), D(1), "taker")]  # 80 is past the 5 % bound
    rested = book.fetch_order(stop_limit["id"])  # fired after the first: nothing at 93 or better is left
    assert (rested["status"], rested["filled"], rested["price"]) == ("open", 0, D(93))


def test_a_market_buy_by_cost_walks_the_asks(book: Engine) -> None:
    write(book, T0, [["99", "1"]], [["100", "1"], ["200", "1"]])
    order = book.create_order(S, "buy", "market", cost="150")
    assert trades(order) == [(D(100), D(1), "taker")]  # the 50 left would buy at 200, past the 5 % bound
    assert (order["amount"], order["status"], order["cost"]) == (D(1), "closed", D(100))
    again = book.create_order(S, "buy", "market", cost="50")  # 200 is now the best level left
    assert trades(again) == [(D(200), D("0.25"), "taker")]
    write(book, T0 + 1, [["99", "1"]], [])
    with pytest.raises(InvalidOrder):
        book.create_order(S, "buy", "market", cost="50")  # nothing to buy


def test_can_execute_plans_the_walk_and_writes_nothing(book: Engine) -> None:
    write(book, T0, [["99", "1"]], [["100", "1"], ["102", "1"]])
    answer = book.can_execute(S, "buy", "market", "2")
    assert answer["ok"] and answer["price"] == 101 and answer["cost"] == 202
    assert taken(book) == {} and book.fetch_orders() == []


def test_a_partial_fill_free_cannot_round_waits(make_engine: EngineFactory) -> None:
    """A partial fill's trade plus the remainder's new reservation may round to a unit more than the old
    reservation: free pays it; with nothing free, the fill waits (the order keeps its place and its reason)."""
    engine = make_engine(clock=ReplayClock(), fill_model="book", commission=D(0))
    write(engine, T0, [["0.1", "1"]], [["4", "1"]], price="1")
    engine.fund("USDT", "0.00000002")  # 3 units of BTC at 0.6 cost 1.8 units: 2, rounded up
    order = engine.create_order(S, "buy", "limit", "0.00000003", "0.6")
    assert engine.fetch_balance()["USDT"] == {"free": 0, "used": D("0.00000002"), "total": D("0.00000002")}
    one_unit = [["0.5", "0.00000001"]]
    write(engine, T0 + 1, [["0.1", "1"]], one_unit, price="0.3")  # 1 unit costs 0.6: 1; 2 left need 1.2: 2
    waiting = engine.fetch_order(order["id"])
    assert waiting["filled"] == 0 and "INSUFFICIENT_FUNDS" in waiting["info"]["reason"]
    engine.fund("USDT", "0.00000001")
    write(engine, T0 + 2, [["0.1", "1"]], one_unit, price="0.3")
    filled = engine.fetch_order(order["id"])
    assert filled["filled"] == D("0.00000001") and filled["cost"] == D("0.00000001")
    assert engine.fetch_balance()["USDT"] == {"free": 0, "used": D("0.00000002"), "total": D("0.00000002")}


def test_the_touch_model_ignores_depth(engine: Engine) -> None:
    engine.fund("USDT", "1000000")
    write(engine, T0, [["99", "1"]], [["100", "0.1"], ["200", "5"]])
    order = engine.create_order(S, "buy", "market", "3")
    assert trades(order) == [(D(100), D(3), "taker")] and order["id"] == order["trades"][0]["id"]


def cancel_while_planning(book: Engine, monkeypatch: pytest.MonkeyPatch, order_id: str) -> None:
    """Until ``monkeypatch.undo()``, a book pass's read of the records it fills first cancels ``order_id``: its
    owner (in another process) cancels it between the pass's read of the crossed orders and of their records."""
    from mockexchange_ccxt.engine import book_settlement

    read_records = book_settlement._records

    def cancel_first(*args: Any) -> Any:
        book.cancel_order(order_id)
        return read_records(*args)

    monkeypatch.setattr(book_settlement, "_records", cancel_first)


def test_an_order_canceled_while_a_pass_plans_its_partial_fill_is_passed_over(
    book: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pass reads the crossed orders, then the records of those it fills partly; an order canceled in between
    (by its owner, in another process) is passed over and the pass ends cleanly; the next snapshot fills the
    others."""
    write(book, T0, [["90", "1"]], [["110", "1"]])
    victim = book.create_order(S, "buy", "limit", "2", "100")
    other = book.create_order(S, "buy", "limit", "1", "99")
    cancel_while_planning(book, monkeypatch, victim["id"])
    write(book, T0 + 1000, [["90", "1"]], [["98", "0.5"], ["99", "0.5"]])  # all of it planned for the victim
    monkeypatch.undo()
    assert (book.fetch_order(victim["id"])["status"], book.fetch_order(victim["id"])["filled"]) == ("canceled", 0)
    assert book.fetch_balance()["USDT"]["used"] == D(99)  # only the other buy holds
    write(book, T0 + 2000, [["90", "1"]], [["98", "0.5"]])
    assert book.fetch_order(other["id"])["filled"] == D("0.5")


def test_an_order_passed_over_takes_nothing_from_the_snapshot(book: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The orders of one script call that fill take what they were planned; one passed over (canceled after the
    pass read it) takes nothing, so the liquidity it was planned stays for the next order."""
    write(book, T0, [["90", "1"]], [["110", "1"]])
    victim = book.create_order(S, "buy", "limit", "1", "100")
    other = book.create_order(S, "buy", "limit", "1", "100")
    cancel_while_planning(book, monkeypatch, victim["id"])
    write(book, T0 + 1000, [["90", "1"]], [["98", "0.5"], ["99", "3"]])  # the victim: 0.5 at 98, 0.5 at 99
    monkeypatch.undo()
    assert book.fetch_order(other["id"])["trades"][0]["amount"] == 1
    assert taken(book) == {"a:99": 100_000_000}
    buyer = book.create_order(S, "buy", "market", "2.5")
    assert trades(buyer) == [(D(98), D("0.5"), "taker"), (D(99), D(2), "taker")]


def test_an_order_planned_at_a_remembered_snapshot_meets_what_others_took(
    book: Engine, make_engine: EngineFactory
) -> None:
    """Each process plans its next order from the snapshot it last wrote or placed at, with what it took (no read
    first, on a single Valkey). Another process's takes make that plan too big for a level: the script refuses
    it and answers the snapshot as it is, and the order is planned again from that (no read either)."""
    other = make_engine(clock=ReplayClock(), fill_model="book", commission=D(0))
    single = not book.store.cluster

    def requests() -> int:  # what the server read so far (this INFO included)
        return int(book.store.read("INFO", "stats").split("total_reads_processed:")[1].split()[0])

    def costs(action: Any, expected: int) -> Any:
        """``action()``, checking on a single Valkey that it made ``expected`` requests."""
        before = requests()
        result = action()
        assert not single or requests() - before - 1 == expected
        return result

    write(book, T0, [["99", "1"]], [["100", "1"], ["101", "5"]])
    first = costs(lambda: book.create_order(S, "buy", "market", "0.5"), 2)  # and a first one joins the holders
    assert trades(first) == [(D(100), D("0.5"), "taker")]
    assert trades(other.create_order(S, "buy", "market", "0.4")) == [(D(100), D("0.4"), "taker")]
    third = costs(lambda: book.create_order(S, "buy", "market", "0.3"), 2)  # remembers 0.5 left at 100; 0.1 is
    assert trades(third) == [(D(100), D("0.1"), "taker"), (D(101), D("0.2"), "taker")]
    fourth = costs(lambda: book.create_order(S, "buy", "market", "0.2"), 1)
    assert trades(fourth) == [(D(101), D("0.2"), "taker")]
    assert taken(book) == {"a:100": 100_000_000, "a:101": 40_000_000}
    write(book, T0 + 1000, [["99", "1"]], [["102", "1"]])  # the snapshot set_price wrote: no read
    assert trades(costs(lambda: book.create_order(S, "buy", "market", "0.1"), 1)) == [(D(102), D("0.1"), "taker")]
