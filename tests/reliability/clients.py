"""The load of the reliability tests: bots that trade through ``MockExchange`` (over HTTP to the served app, or
in process), and an outside price feed that writes the ``sym_<SYMBOL>`` hashes straight into Valkey.

Plain functions that run in spawned processes and return picklable tallies of what they did, so the test can
check the books against them afterwards. Every participant waits at a gate (a counter in Valkey) until all
are ready, so that they really run at the same time.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import ccxt
import requests
from engine.support import AMOUNT_STEPS, SYMBOLS, near_mid
from tests_helpers import outside_client, wait_at_gate

from mockexchange_ccxt import MockExchange
from mockexchange_ccxt.keys import Keys

STOP_KEY = "test:stop"


@dataclass
class Tally:
    """What one bot did: funding to add to the books, ids it was given, ids it canceled, refusals by class."""

    funded: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    created: list[str] = field(default_factory=list)
    canceled: list[str] = field(default_factory=list)
    operations: int = 0
    refused: Counter[str] = field(default_factory=Counter)


def ccxt_bot(options: dict[str, Any], redis_url: str, seed: int, operations: int, participants: int) -> Tally:
    """A bot written against ccxt's unified API: market and limit orders, cancels, order lookups, balance
    reads and (mock only) deposits, in random order. Refusals a real bot meets (insufficient funds, an order
    no longer open) are counted; anything else fails the run."""
    rng = random.Random(seed)
    tally = Tally()
    exchange = MockExchange(options)
    exchange.load_markets()
    wait_at_gate(redis_url, participants)
    for _ in range(operations):
        symbol = rng.choice(sorted(SYMBOLS))
        side = rng.choice(("buy", "sell"))
        amount = float(rng.randint(1, 2000) * AMOUNT_STEPS[symbol])
        roll = rng.random()
        tally.operations += 1
        try:
            if roll < 0.25:
                tally.created.append(exchange.create_order(symbol, "market", side, amount)["id"])
            elif roll < 0.6:
                price = float(near_mid(rng, symbol))
                tally.created.append(exchange.create_order(symbol, "limit", side, amount, price)["id"])
            elif roll < 0.75 and tally.created:
                victim = rng.choice(tally.created)
                exchange.cancel_order(victim)
                tally.canceled.append(victim)
            elif roll < 0.85 and tally.created:
                victim = rng.choice(tally.created)
                assert exchange.fetch_order(victim)["id"] == victim
            elif roll < 0.92:
                asset = rng.choice(("USDT", "BTC", "ETH"))
                gift = Decimal(rng.randint(1, 10**6)) / 10**4
                exchange.fund(asset, str(gift))
                tally.funded[asset] += gift
            else:
                assert exchange.fetch_balance()["free"]["USDT"] >= 0
        except (ccxt.InsufficientFunds, ccxt.InvalidOrder) as exc:  # InvalidOrder: canceling a filled order
            tally.refused[type(exc).__name__] += 1
    return tally


def outside_feed(redis_url: str, seed: int, participants: int, pause: float = 0.002) -> int:
    """A price feed that knows nothing of the engine: it HSETs ``price`` and ``timestamp`` into the feed
    hashes with its own client until the test sets the stop key; returns how many prices it wrote."""
    rng = random.Random(seed)
    valkey = outside_client(redis_url)
    keys = Keys()
    wait_at_gate(redis_url, participants)
    written = 0
    while not valkey.exists(STOP_KEY):
        symbol = rng.choice(sorted(SYMBOLS))
        valkey.hset(
            keys.price(symbol), mapping={"price": str(near_mid(rng, symbol)), "timestamp": int(time.time() * 1000)}
        )
        written += 1
        time.sleep(pause)
    return written


@dataclass(frozen=True)
class Outcome:
    """One request of an ``HttpLoad``: when its answer came (monotonic), its status (None: no answer at all,
    the connection broke), and the order id it created or canceled."""

    at: float
    action: str
    status: int | None
    order_id: str | None = None
    code: str | None = None  # the error code of a refusal


class HttpLoad:
    """Threads that place market and limit orders and cancel them over plain HTTP until stopped, each on its
    own keep-alive connection, recording every outcome. Used to put load on a server while faults happen."""

    def __init__(self, url: str, api_key: str, threads: int = 4) -> None:
        self.url = url
        self.headers = {"x-api-key": api_key}
        self.outcomes: list[Outcome] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(seed,), daemon=True) for seed in range(threads)]

    def __enter__(self) -> HttpLoad:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def _run(self, seed: int) -> None:
        rng = random.Random(seed)
        session = requests.Session()
        mine: list[str] = []
        while not self._stop.is_set():
            roll = rng.random()
            if roll < 0.2 and mine:
                action, path, body = "cancel", f"/orders/{rng.choice(mine)}/cancel", None
            else:
                body = {"symbol": "BTC/USDT", "side": rng.choice(("buy", "sell")), "amount": "0.001"}
                if roll < 0.6:
                    body.update(type="limit", price=str(near_mid(rng, "BTC/USDT")))
                action, path = "create", "/orders"
            try:
                response = session.post(self.url + path, json=body, headers=self.headers, timeout=10)
            except requests.ConnectionError:
                session = requests.Session()
                self.outcomes.append(Outcome(time.monotonic(), action, None))
                continue
            answer = response.json()
            order_id = answer.get("id") if response.status_code in (200, 201) else None
            code = None if order_id else answer.get("error", {}).get("code")
            if action == "create" and order_id:
                mine.append(order_id)
            self.outcomes.append(Outcome(time.monotonic(), action, response.status_code, order_id, code))

    def statuses(self, since: float = 0.0, until: float = float("inf")) -> Counter[int | None]:
        return Counter(o.status for o in list(self.outcomes) if since <= o.at <= until)

    def codes(self, status: int) -> Counter[str | None]:
        """The error codes of the answers with this status."""
        return Counter(o.code for o in list(self.outcomes) if o.status == status)

    def created(self) -> list[str]:
        return [o.order_id for o in list(self.outcomes) if o.action == "create" and o.order_id]
