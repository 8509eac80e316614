"""Back-test: replay a price series through set_price with a data-driven clock, trade a simple strategy.

The series is a seeded random walk (reproducible). Strategy: buy 0.1 BTC at market when the price drops 2%
below its 50-tick average, and rest a take-profit limit 1.5% above the entry; the engine fills the limit
when a later tick crosses it, at the limit price, exactly. Prints the PnL and the fees paid.
"""

import random
from collections import deque
from decimal import Decimal

from mockexchange_ccxt import Engine, ReplayClock, Settings

SYMBOL, START_MS, STEP_MS = "BTC/USDT", 1_700_000_000_000, 60_000


def random_walk(ticks: int, seed: int = 7) -> list[Decimal]:
    rng, price, prices = random.Random(seed), 60_000.0, []
    for _ in range(ticks):
        price *= 1 + rng.gauss(0, 0.004)
        prices.append(Decimal(f"{price:.2f}"))
    return prices


with Engine(Settings.from_env().with_overrides(account="backtest"), clock=ReplayClock()) as engine:
    engine.reset()
    engine.fund("USDT", "10000")
    window: deque[Decimal] = deque(maxlen=50)
    for tick, price in enumerate(random_walk(5_000)):
        engine.set_price(SYMBOL, price, timestamp=START_MS + tick * STEP_MS)
        window.append(price)
        average = sum(window) / len(window)
        flat = not engine.fetch_orders(status="open", symbol=SYMBOL, tail=1)
        dipped = len(window) == window.maxlen and price < average * Decimal("0.98")
        if flat and dipped and engine.can_execute(SYMBOL, "buy", "market", "0.1")["ok"]:
            entry = engine.create_order(SYMBOL, "buy", "market", "0.1")
            target = (entry["price"] * Decimal("1.015")).quantize(Decimal("0.01"))
            engine.create_order(SYMBOL, "sell", "limit", "0.1", target)

    trades = engine.fetch_my_trades(SYMBOL)
    fees = sum(t["fee"]["cost"] for t in trades)
    for order in engine.fetch_orders(status="open"):
        engine.cancel_order(order["id"])
    balance = engine.fetch_balance()["total"]
    mark = engine.ticker(SYMBOL)["last"]
    equity = balance.get("USDT", 0) + balance.get("BTC", 0) * mark
    print(f"{len(trades)} fills, fees {fees} USDT, final equity {equity:.2f} USDT, PnL {equity - 10000:+.2f} USDT")
