"""The concurrency worker of the engine tests: random trading on one shared account.

A plain function (no fixtures) so that child processes can import it.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from decimal import Decimal
from typing import Any

from mockexchange_ccxt import Engine, Settings
from mockexchange_ccxt.errors import InsufficientFunds, OrderNotOpen

SYMBOLS = {"BTC/USDT": Decimal(50000), "ETH/USDT": Decimal(2500)}


def trading_worker(settings: Settings, seed: int, operations: int, gate: int = 1) -> dict[str, Any]:
    """Random trading on the shared account with its own Engine; returns what it funded, the ids it
    created and the ids it canceled successfully. Waits until ``gate`` workers are ready, so that threads
    and slower-starting processes really trade at the same time."""
    rng = random.Random(seed)
    funded: dict[str, Decimal] = defaultdict(Decimal)
    created: list[str] = []
    canceled: list[str] = []
    with Engine(settings) as engine:
        engine.store.call("INCR", "test:ready")
        deadline = time.monotonic() + 60
        while int(engine.store.read("GET", "test:ready")) < gate and time.monotonic() < deadline:
            time.sleep(0.001)
        for _ in range(operations):
            symbol = rng.choice(sorted(SYMBOLS))
            mid = SYMBOLS[symbol]
            side = rng.choice(("buy", "sell"))
            amount = Decimal(rng.randint(1, 2000)) * (Decimal("0.00001") if symbol == "BTC/USDT" else Decimal("0.0001"))
            roll = rng.random()
            try:
                if roll < 0.25:
                    created.append(engine.create_order(symbol, side, "market", amount)["id"])
                elif roll < 0.6:
                    offset = Decimal(rng.randint(-300, 300)) / 10000
                    price = (mid * (1 + offset)).quantize(Decimal("0.01"))
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
                    offset = Decimal(rng.randint(-300, 300)) / 10000
                    engine.set_price(symbol, (mid * (1 + offset)).quantize(Decimal("0.01")))
            except InsufficientFunds:
                pass
    return {"funded": {k: str(v) for k, v in funded.items()}, "created": created, "canceled": canceled}
