"""The concurrency worker of the engine tests: random trading on one shared account.

A plain function (no fixtures) so that child processes can import it.
"""

from __future__ import annotations

import random
from collections import defaultdict
from decimal import Decimal
from typing import Any

from tests_helpers import wait_at_gate

from mockexchange_ccxt import Engine, Settings
from mockexchange_ccxt.errors import InsufficientFunds, OrderNotOpen

#: The symbols traded and the mid prices they move around (the reliability tests' bots share them).
SYMBOLS = {"BTC/USDT": Decimal(50000), "ETH/USDT": Decimal(2500)}
#: The smallest step of an order's amount per symbol (orders are 1 to 2,000 steps).
AMOUNT_STEPS = {"BTC/USDT": Decimal("0.00001"), "ETH/USDT": Decimal("0.0001")}


def near_mid(rng: random.Random, symbol: str) -> Decimal:
    """A price within 3 % of the symbol's mid, to the cent: limits that rest and limits that cross."""
    return (SYMBOLS[symbol] * (1 + Decimal(rng.randint(-300, 300)) / 10000)).quantize(Decimal("0.01"))


def trading_worker(settings: Settings, seed: int, operations: int, gate: int = 1) -> dict[str, Any]:
    """Random trading on the shared account with its own Engine; returns what it funded, the ids it
    created and the ids it canceled successfully. Waits until ``gate`` workers are ready, so that threads
    and slower-starting processes really trade at the same time."""
    rng = random.Random(seed)
    funded: dict[str, Decimal] = defaultdict(Decimal)
    created: list[str] = []
    canceled: list[str] = []
    with Engine(settings) as engine:
        wait_at_gate(engine.store.url, gate)
        for _ in range(operations):
            symbol = rng.choice(sorted(SYMBOLS))
            side = rng.choice(("buy", "sell"))
            amount = rng.randint(1, 2000) * AMOUNT_STEPS[symbol]
            roll = rng.random()
            try:
                if roll < 0.25:
                    created.append(engine.create_order(symbol, side, "market", amount)["id"])
                elif roll < 0.6:
                    price = near_mid(rng, symbol)
                    created.append(engine.create_order(symbol, side, "limit", amount, price)["id"])
                elif roll < 0.75 and created:
                    victim = rng.choice(created)
                    try:
                        engine.cancel_order(victim)
                        canceled.append(victim)
                    except OrderNotOpen:
                        pass
                elif roll < 0.85:
                    asset = rng.choice(("USDT", "BTC", "ETH"))
                    gift = Decimal(rng.randint(1, 10**6)) / 10**4
                    engine.fund(asset, gift)
                    funded[asset] += gift
                else:
                    engine.set_price(symbol, near_mid(rng, symbol))
            except InsufficientFunds:
                pass
    return {"funded": {k: str(v) for k, v in funded.items()}, "created": created, "canceled": canceled}
