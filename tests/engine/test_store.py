"""The store: the scripts' library reloaded after FUNCTION FLUSH ("Function not found"), pipelines, error
translation, connections per thread and per process, and the key layout (one hash tag per account)."""

from __future__ import annotations

import multiprocessing
import threading
from decimal import Decimal

import pytest
import redis

from mockexchange_ccxt import Engine
from mockexchange_ccxt.engine.cluster import slot_of
from mockexchange_ccxt.engine.scripts import HELPERS, library
from mockexchange_ccxt.errors import (
    ERRORS_BY_CODE,
    InternalError,
    InvalidOrder,
    OrderNotFound,
    StoreUnavailable,
)

from .conftest import EngineFactory


def _library_loaded(engine: Engine) -> bool:
    """Whether every primary holds the scripts' library."""
    listed = engine.store.each_primary("FUNCTION", "LIST", "LIBRARYNAME", library().name, writes=False)
    return all(len(reply) == 1 for reply in listed)


def test_every_script_is_reloaded_after_function_flush(btc: Engine) -> None:
    btc.fund("BTC", "1")
    steps = [
        lambda: btc.fund("ETH", "1"),
        lambda: btc.create_order("BTC/USDT", "buy", "limit", "0.1", "40000"),
        lambda: btc.create_order("BTC/USDT", "sell", "limit", "0.1", "60000"),
        lambda: btc.cancel_order("2"),
        lambda: btc.edit_balance("ETH", free="2"),
        lambda: btc.set_price("BTC/USDT", "39000"),  # pipelined: HSET + settle
    ]
    for step in steps:
        btc.store.call("FUNCTION", "FLUSH")
        step()
    assert btc.fetch_order("1")["status"] == "closed"
    assert btc.fetch_order("2")["status"] == "canceled"
    assert btc.balance("ETH")["free"] == 2
    btc.create_order("BTC/USDT", "sell", "limit", "0.1", "45000")
    btc.store.call("HSET", "sym_BTC/USDT", "price", "46000", "timestamp", "1700000000")
    btc.store.call("FUNCTION", "FLUSH")
    assert btc.process_price_tick("BTC/USDT") == 1
    assert _library_loaded(btc)


def test_flushall_keeps_the_library(engine: Engine) -> None:
    """FLUSHALL empties the data but leaves the functions (the tests flush before each test)."""
    engine.fund("USDT", "1")
    engine.store.call("FLUSHALL")
    assert _library_loaded(engine)


def test_a_fresh_engine_loads_scripts_on_first_use(engine: Engine, make_engine: EngineFactory) -> None:
    engine.store.call("FUNCTION", "FLUSH")
    fresh = make_engine()
    fresh.set_price("BTC/USDT", "100")
    fresh.fund("USDT", "1000")
    assert fresh.create_order("BTC/USDT", "buy", "market", "1")["cost"] == Decimal(100)
    assert _library_loaded(fresh)


def test_replies_are_resp3_whatever_the_clients_default(
    monkeypatch: pytest.MonkeyPatch, make_engine: EngineFactory
) -> None:
    """The engine reads replies as RESP3 gives them (a hash is a map); it asks for RESP3 itself, so a redis-py
    whose default is RESP2 (before 8.0) serves it the same."""
    monkeypatch.setattr(redis.connection, "DEFAULT_RESP_VERSION", 2)
    engine = make_engine()
    engine.fund("USDT", "5")
    assert engine.store.read("HGETALL", engine.keys.balances) == {"free:USDT": "500000000"}
    assert engine.fetch_balance()["USDT"]["free"] == 5


def test_one_library_holds_every_script_and_each_helper_once() -> None:
    """Every Lua file but the helpers is a function of the library, named with the library's tag; the helpers
    are in it once each, in the order of HELPERS."""
    lib = library()
    assert lib.source.startswith(f"#!lua name={lib.name}\n")
    tag = lib.name.removeprefix("mockx_")
    assert {"place_order", "cancel_order", "settle", "publish_settle", "price_ticks"} <= set(lib.functions)
    assert not set(HELPERS) & set(lib.functions)
    for name, function in lib.functions.items():
        assert function == f"{name}_{tag}"
        assert lib.source.count(f"redis.register_function('{function}', script('{name}'))") == 1
    starts = [lib.source.index(f"-- {name}.lua") for name in HELPERS]
    assert starts == sorted(starts)
    assert lib.source.count("local function check_moves") == lib.source.count("local function units_add") == 1


def test_pipeline_returns_errors_as_values_when_asked(engine: Engine) -> None:
    store = engine.store
    replies = store.pipeline([("SET", "k", "v"), ("HGET", "k", "f"), ("GET", "k")], errors_as_values=True)
    assert replies[0] == "OK" and replies[2] == "v"
    assert isinstance(replies[1], redis.ResponseError) and "WRONGTYPE" in str(replies[1])
    with pytest.raises(InternalError, match="WRONGTYPE"):
        store.pipeline([("SET", "k", "w"), ("HGET", "k", "f"), ("GET", "k")])
    assert store.read("GET", "k") == "w"  # every reply was read: the connection is still in step
    assert store.pipeline([("INCR", "n"), ("INCR", "n"), ("GET", "n")]) == [1, 2, "2"]


def test_meanwhile_runs_once_while_the_replies_are_pending(engine: Engine) -> None:
    store, ran = engine.store, []
    assert store.pipeline([("SET", "k", "v"), ("GET", "k")], meanwhile=lambda: ran.append(1)) == ["OK", "v"]
    assert store.run_with_reads(("INCR", "n"), [("GET", "n")], meanwhile=lambda: ran.append(2)) == (1, ["1"])
    assert ran == [1, 2]


def test_meanwhile_that_raises_leaves_no_reply_behind(engine: Engine) -> None:
    """Its command went out and ran, but its reply was never read: the connection it came on is not used again,
    so the next command gets its own reply, not that one (a slow script: its reply is not there yet when the
    next command is written)."""
    slow = "local x = 0 for i = 1, 5000000 do x = x + 1 end return x"

    def fail() -> None:
        raise RuntimeError("while the reply was pending")

    engine.store.call("SET", "k", "v")
    with pytest.raises(RuntimeError, match="pending"):
        engine.store.pipeline([("EVAL", slow, 0)], meanwhile=fail)
    assert engine.store.read("GET", "k") == "v"
    assert engine.store.pipeline([("INCR", "n"), ("GET", "k")]) == [1, "v"]


@pytest.mark.parametrize("code", sorted(ERRORS_BY_CODE))
def test_script_error_codes_become_engine_errors(engine: Engine, code: str) -> None:
    with pytest.raises(ERRORS_BY_CODE[code]) as caught:
        engine.store.call("EVAL", f"return redis.error_reply('{code} the message')", 0)
    assert caught.value.message == "the message"
    assert caught.value.code == code


def test_other_error_replies_are_internal(engine: Engine) -> None:
    with pytest.raises(InternalError, match="Valkey error: NOPE something"):
        engine.store.call("EVAL", "return redis.error_reply('NOPE something')", 0)
    with pytest.raises(InternalError):
        engine.store.call("NOSUCHCOMMAND")
    with pytest.raises(StoreUnavailable):
        engine.store.call("EVAL", "return redis.error_reply('LOADING still loading')", 0)
    assert isinstance(
        next(
            iter(
                engine.store.pipeline(
                    [("EVAL", "return redis.error_reply('INVALID_ORDER x')", 0)], errors_as_values=True
                )
            )
        ),
        redis.ResponseError,
    )
    with pytest.raises(InvalidOrder):
        engine.store.call("EVAL", "return redis.error_reply('INVALID_ORDER x')", 0)


def _drop_this_threads_connection(engine: Engine) -> None:
    """Close the engine's connection from the server side, as a restart or an idle timeout would."""
    own_id = engine.store.read("CLIENT", "ID")
    with redis.Redis.from_url(engine.store.url) as admin:
        assert admin.execute_command("CLIENT", "KILL", "ID", own_id) == 1


@pytest.mark.single_node
def test_a_read_survives_a_dropped_connection(btc: Engine) -> None:
    _drop_this_threads_connection(btc)
    assert btc.balance("USDT")["free"] == Decimal(100000)
    assert btc.fetch_orders() == []


@pytest.mark.single_node
def test_a_write_survives_a_dropped_idle_connection(btc: Engine) -> None:
    _drop_this_threads_connection(btc)
    btc.fund("USDT", "1")
    assert btc.balance("USDT")["free"] == Decimal(100001)


@pytest.mark.single_node
def test_each_thread_has_its_own_connection(engine: Engine) -> None:
    errors: list[str] = []
    barrier = threading.Barrier(4)

    def worker(index: int) -> None:
        barrier.wait()
        for round_ in range(200):
            value = f"{index}-{round_}"
            reply = engine.store.pipeline([("SET", f"t{index}", value), ("GET", f"t{index}")])
            if reply != ["OK", value]:
                errors.append(f"{value}: {reply}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    names = [line for line in engine.store.read("CLIENT", "LIST").splitlines() if "cmd=" in line]
    assert len(names) >= 5  # four threads and this one


def _fund_in_child(engine: Engine) -> None:
    engine.fund("USDT", "5")
    engine.create_order("BTC/USDT", "buy", "market", "0.0001")


def test_a_forked_child_opens_its_own_connection(btc: Engine) -> None:
    btc.balance("USDT")  # the parent holds a connection before the fork
    child = multiprocessing.get_context("fork").Process(target=_fund_in_child, args=(btc,))
    child.start()
    child.join(30)
    assert child.exitcode == 0
    assert btc.balance("USDT")["total"] == Decimal(100005) - Decimal("5.005")
    assert btc.balance("BTC")["total"] == Decimal("0.0001")
    assert btc.store.pipeline([("SET", "after", "fork"), ("GET", "after")]) == ["OK", "fork"]


def test_every_engine_key_carries_the_account_or_the_feed_hash_tag(btc: Engine) -> None:
    """Account keys are tagged with the account; per-symbol market state (the holders, the candles and their
    bookkeeping) with the feed hash's own name, so that it shares the feed hash's slot."""
    btc.fund("BTC", "1")
    btc.create_order("BTC/USDT", "buy", "limit", "0.1", "40000", client_order_id="c1")
    btc.create_order("BTC/USDT", "sell", "limit", "0.1", "60000")
    btc.create_order("ETH/USDT", "buy", "market", "1")
    keys = btc.store.read("KEYS", "*")
    owned = sorted(k for k in keys if not k.startswith("sym_"))
    account = [k for k in owned if k.startswith("mockx:{main}:")]
    market = [k for k in owned if k not in account]  # per-symbol state lives in the slot of the feed's hash
    kinds = ("accounts", "candles:1h", "candles:1m")  # (an hour's candle once a minute has closed)
    allowed = {f"mockx:{{sym_{s}}}:{kind}" for s in ("BTC/USDT", "ETH/USDT") for kind in kinds}
    assert set(market) <= allowed and {"mockx:{sym_BTC/USDT}:candles:1m", "mockx:{sym_BTC/USDT}:accounts"} <= set(
        market
    ), owned
    for key in market:
        assert slot_of(key) == slot_of(key[key.index("{") + 1 : key.index("}")])
    assert sorted(k for k in keys if k.startswith("sym_")) == ["sym_BTC/USDT", "sym_ETH/USDT"]


def test_order_lookup_never_reaches_valkey_with_a_bad_id(btc: Engine) -> None:
    with pytest.raises(OrderNotFound):
        btc.fetch_order("1 OR 1")
