"""A bot written for ccxt.binance(), running on MockExchange: only the marked lines are mock-specific.

It loads markets, reads a ticker, sizes an order with amount_to_precision, buys at market, places a
take-profit limit and a dip-buy limit, cancels the dip-buy, and reads its balance.
"""

from mockexchange_ccxt import MockExchange

SYMBOL = "BTC/USDT"
BUDGET_USDT = 1_000

# exchange = ccxt.binance({"apiKey": "...", "secret": "..."})
exchange = MockExchange({"options": {"account": "swap-example"}})  # mock: the one changed line
exchange.reset()  # mock: a clean account for this run
exchange.fund("USDT", 10_000)  # mock: deposit paper money
exchange.set_price(SYMBOL, 64_250.5)  # mock: a price (a live feed would write it instead)

# --- from here on, plain ccxt ---------------------------------------------------------------------------
exchange.load_markets()
ticker = exchange.fetch_ticker(SYMBOL)
amount = exchange.amount_to_precision(SYMBOL, BUDGET_USDT / ticker["ask"])
print(f"{SYMBOL} ask {ticker['ask']}: buying {amount} BTC")

entry = exchange.create_market_buy_order(SYMBOL, float(amount))
print(f"bought {entry['filled']} at {entry['average']} for {entry['cost']} + fee {entry['fee']['cost']} USDT")

take_profit_price = exchange.price_to_precision(SYMBOL, entry["average"] * 1.02)
take_profit = exchange.create_limit_sell_order(SYMBOL, entry["filled"], float(take_profit_price))
dip_buy = exchange.create_limit_buy_order(SYMBOL, float(amount), ticker["last"] * 0.95)
print(f"open orders: {[(o['side'], o['price']) for o in exchange.fetch_open_orders(SYMBOL)]}")

exchange.cancel_order(dip_buy["id"], SYMBOL)
exchange.set_price(SYMBOL, 66_000)  # mock: the market rallies and the take-profit fills

take_profit = exchange.fetch_order(take_profit["id"], SYMBOL)
print(f"take-profit {take_profit['status']} at {take_profit['average']}")
balance = exchange.fetch_balance()
print(f"USDT free {balance['USDT']['free']}, BTC total {balance['BTC']['total']}")
assert take_profit["status"] == "closed" and balance["BTC"]["total"] == 0
