"""Soak: a server left trading with its order retention set short holds steady memory, and the books still
balance to the unit over what is kept plus what was trimmed.

``mockexchange serve`` (two workers, retention from the environment: at most RETENTION_MAX finished orders, and
RETENTION_DAYS, a few seconds) trims from its workers' tick loops, while a bot in process trades on the same
Valkey as fast as it can for SECONDS (ten times as long with ``--heavy``): market orders, limits that rest or
cross, cancels, price moves that fill resting orders. Valkey's ``used_memory`` is sampled throughout. Checked:

- a plateau, not a slope: over the second half of the run, memory grows by less than SLOPE_LIMIT bytes per
  order finished meanwhile (keeping them would cost about 880 each, bench/memory_bench.py), and trimming
  had begun by then. Memory rises and falls with the finished orders kept between two trims (a worker trims
  about once a second), so the growth is fitted on both counts at once: what memory does per order finished
  ever, beside what it does per order kept;
- the books: per asset, funding plus the kept trades plus the retention ledger's net of the trimmed ones equals
  free + used; ``used`` is what the open orders reserve (an open order trimmed would leave its reservation
  orphaned); every order is coherent, every kept fill exact;
- every id the bot was given is either kept or says it is older than the retention, and the ledger counts
  exactly those.
"""

from __future__ import annotations

import random
import statistics
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from books import check_books, check_fills, check_orders_consistent
from servers import start_server

from mockexchange_ccxt import Engine
from mockexchange_ccxt.errors import InsufficientFunds, OrderNotFound, OrderNotOpen

KEY = "soak-test-key"
SYMBOL = "BTC/USDT"
RETENTION_MAX = 300
RETENTION_DAYS = "0.00004"  # 3.456 s
SECONDS = 20  # of trading, times --heavy's scale
SAMPLE_EVERY = 0.25  # seconds between memory samples
MAX_RESTING = 50  # resting orders the bot lets pile up before it cancels them all (open orders are never trimmed)
SLOPE_LIMIT = 60  # bytes per finished order: a tenth of what keeping them costs
FUNDS = {"USDT": Decimal(50_000_000), "BTC": Decimal(500)}


def used_memory(engine: Engine) -> int:
    """``used_memory`` of every primary, summed (a cluster's account lives on one, the others idle)."""
    total = 0
    for info in engine.store.each_primary("INFO", "memory", writes=False):
        total += int(next(line for line in info.splitlines() if line.startswith("used_memory:")).split(":")[1])
    return total


def finished(engine: Engine) -> tuple[int, int]:
    """Finished orders kept, and trimmed."""
    kept, trimmed = engine.store.pipeline(
        [("ZCARD", engine.keys.finished_ids), ("HGET", engine.keys.retention, "orders")], writes=False
    )
    return int(kept), int(trimmed or 0)


def fit(samples: list[tuple[int, int, int]]) -> tuple[float, float]:
    """Least squares of memory over (orders finished ever, finished orders kept): bytes per order finished
    ever (the slope a leak would show) and bytes per order kept."""
    ever, kept, memory = ([float(sample[i]) for sample in samples] for i in range(3))
    centered = [[value - statistics.fmean(series) for value in series] for series in (ever, kept, memory)]
    e, k, m = centered
    s_ee, s_kk, s_ek = sum(x * x for x in e), sum(x * x for x in k), sum(x * y for x, y in zip(e, k, strict=True))
    s_em, s_km = sum(x * y for x, y in zip(e, m, strict=True)), sum(x * y for x, y in zip(k, m, strict=True))
    determinant = s_ee * s_kk - s_ek**2
    if not determinant:  # the kept count never moved: memory over orders finished alone
        return s_em / s_ee, 0.0
    return (s_kk * s_em - s_ek * s_km) / determinant, (s_ee * s_km - s_ek * s_em) / determinant


def trade(engine: Engine, seconds: float) -> tuple[list[str], list[tuple[float, int, int, int]]]:
    """The bot: random trading around a drifting price for ``seconds``; the ids it was given, and samples of
    (elapsed, finished orders kept, finished orders trimmed, used_memory)."""
    rng = random.Random(18)
    mid = Decimal(50000)
    created: list[str] = []
    resting: list[str] = []
    samples: list[tuple[float, int, int, int]] = []
    start = time.monotonic()
    next_sample = start
    while (now := time.monotonic()) - start < seconds:
        if now >= next_sample:
            samples.append((now - start, *finished(engine), used_memory(engine)))
            next_sample = now + SAMPLE_EVERY
        side = rng.choice(("buy", "sell"))
        amount = Decimal(rng.randint(1, 100)) / 10_000
        roll = rng.random()
        try:
            if roll < 0.3:
                created.append(engine.create_order(SYMBOL, side, "market", amount)["id"])
            elif roll < 0.65:
                price = (mid * (1 + Decimal(rng.randint(-100, 100)) / 10_000)).quantize(Decimal("0.01"))
                order = engine.create_order(SYMBOL, side, "limit", amount, price)
                created.append(order["id"])
                if order["status"] == "open":
                    resting.append(order["id"])
            elif roll < 0.8 and resting:
                engine.cancel_order(resting.pop(rng.randrange(len(resting))))
            else:
                mid = min(max(mid + Decimal(rng.randint(-50, 50)), Decimal(45000)), Decimal(55000))
                engine.set_price(SYMBOL, mid)
        except (InsufficientFunds, OrderNotOpen):
            pass
        except OrderNotFound as exc:  # it filled, then went with the retention
            assert "older than the order retention" in exc.message, exc.message
        if len(resting) > MAX_RESTING:
            engine.cancel_all_orders(SYMBOL)
            resting.clear()
    return created, samples


@pytest.mark.slow
def test_memory_plateaus_under_steady_trading_and_the_books_still_balance(
    engine: Engine, valkey_server: Any, tmp_path: Path, load_scale: int
) -> None:
    env = {
        "REDIS_URL": valkey_server.url,
        "API_KEY": KEY,
        "TICK_LOOP_SEC": "0.05",
        "ORDER_RETENTION_MAX": str(RETENTION_MAX),
        "ORDER_RETENTION_DAYS": RETENTION_DAYS,
    }
    server = start_server(tmp_path / "serve.log", env, KEY, workers=2)
    try:
        for asset, amount in FUNDS.items():
            engine.fund(asset, amount)
        engine.set_price(SYMBOL, "50000")
        created, samples = trade(engine, SECONDS * load_scale)
    finally:
        code = server.stop()
    assert code == 0, server.output()
    assert "Traceback" not in server.output()

    half = samples[-1][0] / 2
    steady = [(kept + trimmed, kept, memory) for at, kept, trimmed, memory in samples if at >= half]
    trimmed_by_half = max(trimmed for at, _, trimmed, _ in samples if at < half)
    growth, per_kept = fit(steady)
    memories = [memory for *_, memory in steady]
    print(
        f"\n{len(created)} orders in {samples[-1][0]:.0f} s, {sum(finished(engine))} finished, "
        f"{engine.trimmed()['orders']} trimmed; second half: {steady[-1][0] - steady[0][0]} finished, "
        f"{min(k for _, k, _ in steady)} to {max(k for _, k, _ in steady)} kept, memory {min(memories) / 1e6:.2f} "
        f"to {max(memories) / 1e6:.2f} MB: {growth:.1f} bytes per order finished, {per_kept:.0f} per order kept"
    )
    assert trimmed_by_half > 0, "the server's tick loops never trimmed in the first half"
    assert steady[-1][0] - steady[0][0] > 5 * RETENTION_MAX, "too few orders to tell a plateau from a slope"
    assert growth < SLOPE_LIMIT, f"memory grows {growth:.0f} bytes per finished order: a slope, not a plateau"

    check_books(engine, FUNDS)  # funding + kept trades + the ledger of trimmed ones = free + used, exactly
    check_orders_consistent(engine)
    check_fills(engine)
    kept = {order["id"] for order in engine.fetch_orders()}
    gone = [order_id for order_id in created if order_id not in kept]
    for order_id in gone[:: max(1, len(gone) // 200)]:
        with pytest.raises(OrderNotFound, match="older than the order retention"):
            engine.fetch_order(order_id)
    assert kept <= set(created) and len(gone) == engine.trimmed()["orders"] > 0
