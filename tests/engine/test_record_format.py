"""Stored records are compact (engine/record_codec.py) and no answer changed: every answer of a scenario that
leaves every kind of order behind equals the one captured from the verbose records (``answer_scenario.py``),
and records stored in the verbose form still read, settle and cancel."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from mockexchange_ccxt import Engine, ReplayClock, Settings
from mockexchange_ccxt.engine.record_codec import pack, unpack
from mockexchange_ccxt.engine.views import order_view

from .answer_scenario import GOLDEN, T0, answers


def _info_sorted(value: Any) -> Any:
    """The answer with each ``info``'s keys sorted: a record a script rewrote in the verbose form had them in
    the order of Lua's tables (see test_answers_are_unchanged)."""
    if isinstance(value, list):
        return [_info_sorted(item) for item in value]
    if isinstance(value, dict):
        return {k: dict(sorted(v.items())) if k == "info" else _info_sorted(v) for k, v in value.items()}
    return value


@pytest.fixture
def make(settings: Settings) -> Iterator[Any]:
    made: list[Engine] = []

    def factory(chosen: Settings) -> Engine:
        made.append(Engine(chosen, clock=ReplayClock(T0)))
        return made[-1]

    yield factory
    for engine in made:
        engine.close()


def test_answers_are_unchanged(make: Any, settings: Settings) -> None:
    """Byte for byte, except the order of ``info``'s keys in the records that a script had rewritten (filled,
    canceled): the verbose form got it from Lua's hash tables, which is no order at all; now every ``info`` has
    the order of a freshly placed order's."""
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    found = answers(make, settings)
    assert sorted(found) == sorted(golden)
    for name, text in found.items():
        if text != golden[name]:
            expected = _info_sorted(json.loads(golden[name]))
            assert json.dumps(_info_sorted(json.loads(text))) == json.dumps(expected), name


def test_every_record_round_trips(make: Any, settings: Settings) -> None:
    """The full record of every stored order packs to a stored form that unpacks to it, field for field, and
    that is no longer than what the scripts stored."""
    answers(make, settings)
    engine = make(settings)
    for account in ("main", "second", "book"):
        view = engine.for_account(account)
        stored = view.store.read("HGETALL", view.keys.orders)
        assert stored
        for order_id, raw in stored.items():
            record = unpack(order_id, raw)
            assert unpack(order_id, pack(record)) == record
            assert len(pack(record)) <= len(raw)  # a script may keep a field that follows (a cancel's time)
            assert "id" not in json.loads(raw) and "datetime" not in json.loads(raw)


def _verbose(record: dict[str, Any]) -> str:
    """A record as the verbose form stored it: every field by its name, the id first."""
    return json.dumps(record, separators=(",", ":"))


def test_verbose_records_still_work(btc: Engine) -> None:
    """Orders stored before the compact form keep their answers, fill, cancel and trim; a script that rewrites
    one stores it compact."""
    resting = btc.create_order("BTC/USDT", "buy", "limit", "0.01", "49000")
    other = btc.create_order("BTC/USDT", "buy", "limit", "0.01", "48000")
    done = btc.create_order("BTC/USDT", "buy", "market", "0.01")
    for order in (resting, other, done):
        raw = btc.store.read("HGET", btc.keys.orders, order["id"])
        btc.store.call("HSET", btc.keys.orders, order["id"], _verbose(unpack(order["id"], raw)))
    assert [btc.fetch_order(o["id"]) for o in (resting, other, done)] == [resting, other, done]
    canceled = btc.cancel_order(other["id"])
    assert canceled == {**other, **_changes(canceled, "canceled")}
    btc.set_price("BTC/USDT", "48500")
    filled = btc.fetch_order(resting["id"])
    assert (filled["status"], filled["filled"], filled["remaining"], filled["average"]) == (
        "closed",
        resting["amount"],
        0,
        resting["price"],
    )
    assert btc.fetch_my_trades()[-1]["order"] == resting["id"]
    for order_id in (resting["id"], other["id"]):
        assert "status" not in json.loads(btc.store.read("HGET", btc.keys.orders, order_id))
    assert order_view(unpack(done["id"], btc.store.read("HGET", btc.keys.orders, done["id"]))) == done
    trimmer = Engine(replace(btc.settings, order_retention_max=1))
    try:
        assert trimmer.trim_orders() == 2
    finally:
        trimmer.close()


def _changes(order: dict[str, Any], status: str) -> dict[str, Any]:
    assert order["status"] == status
    return {name: order[name] for name in ("status", "lastUpdateTimestamp", "info")}


def test_verbose_records_fill_against_the_book(make_engine: Any) -> None:
    """FILL_MODEL=book reads a verbose resting order's price and remainder from its text and fills it partly,
    then whole, exactly as a compact one."""

    def run(verbose: bool) -> Any:
        engine = make_engine(clock=ReplayClock(), fill_model="book")
        engine.store.call("FLUSHALL")
        engine.fund("USDT", "100000")
        book = {"bids": [["2490", "5"]], "asks": [["2500", "0.4"], ["2600", "5"]]}
        engine.set_price("ETH/USDT", "2495", timestamp=T0, bid="2490", ask="2500", **book)
        order_id = engine.create_order("ETH/USDT", "buy", "limit", "1", "2450")["id"]
        thin = ("2445", "2440", "2450", {"bids": [["2440", "5"]], "asks": [["2450", "0.25"], ["2460", "5"]]})
        deep = ("2435", "2430", "2440", {"bids": [["2430", "5"]], "asks": [["2440", "5"]]})
        for step, (price, bid, ask, depth) in enumerate((thin, deep), start=1):
            if verbose:
                raw = engine.store.read("HGET", engine.keys.orders, order_id)
                engine.store.call("HSET", engine.keys.orders, order_id, _verbose(unpack(order_id, raw)))
            engine.set_price("ETH/USDT", price, timestamp=T0 + step * 60_000, bid=bid, ask=ask, **depth)
        return engine.fetch_order(order_id), engine.fetch_my_trades(), engine.fetch_balance()["total"]

    compact = run(False)
    assert (compact[0]["status"], compact[0]["filled"], len(compact[0]["trades"])) == ("closed", 1, 2)
    assert _info_sorted(run(True)) == _info_sorted(compact)
