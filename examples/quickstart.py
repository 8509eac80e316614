"""Quick start: the engine on its embedded Valkey (nothing to install or configure).

Funds an account, publishes prices, trades a market and a limit order, lets a price tick fill the limit,
and prints the balances. Uses its own account, ``quickstart``, and resets it first, so it can be run again
and again without touching any other account's data.
"""

from decimal import Decimal

from mockexchange_ccxt import Engine, Settings

with Engine(Settings.from_env().with_overrides(account="quickstart")) as engine:
    engine.reset()
    engine.fund("USDT", "100000")
    engine.set_price("BTC/USDT", "50000")

    bought = engine.create_order("BTC/USDT", "buy", "market", "0.05")
    print(f"market buy  #{bought['id']}: {bought['amount']} BTC at {bought['price']}, fee {bought['fee']['cost']} USDT")

    resting = engine.create_order("BTC/USDT", "sell", "limit", "0.05", "51000")
    print(f"limit sell  #{resting['id']}: {resting['status']}, holds {engine.balance('BTC')['used']} BTC")

    filled = engine.set_price("BTC/USDT", "51000.5")
    sold = engine.fetch_order(resting["id"])
    print(f"price 51000.5 filled {filled} order(s): #{sold['id']} is {sold['status']} at {sold['average']}")

    for asset, total in engine.fetch_balance()["total"].items():
        print(f"{asset:>5} {total}")
    # exact to the last unit: 100000 - 2500 - 2.5 (fee) + 2550 - 2.55 (fee)
    assert engine.balance("USDT")["total"] == Decimal("100044.95")
