"""The async face: the same ccxt calls, awaited, on AsyncMockExchange (ccxt.async_support)."""

import asyncio

from mockexchange_ccxt import AsyncMockExchange


async def main() -> None:
    # exchange = ccxt.async_support.binance({...})
    exchange = AsyncMockExchange({"options": {"account": "async-example"}})
    try:
        await exchange.reset()
        await exchange.fund("USDT", 5_000)
        await exchange.set_price("ETH/USDT", 3_100)
        await exchange.set_price("BTC/USDT", 64_000)

        await exchange.load_markets()
        tickers = await exchange.fetch_tickers(["ETH/USDT", "BTC/USDT"])
        orders = await asyncio.gather(
            exchange.create_market_buy_order("ETH/USDT", 0.5),
            exchange.create_limit_buy_order("BTC/USDT", 0.01, 60_000),
        )
        for order in orders:
            print(f"{order['symbol']} {order['type']} {order['side']}: {order['status']}")
        balance = await exchange.fetch_balance()
        print({asset: balance[asset] for asset in ("USDT", "ETH")})
        print(f"last prices: { {s: t['last'] for s, t in tickers.items()} }")
        assert balance["ETH"]["total"] == 0.5
    finally:
        await exchange.close()


asyncio.run(main())
