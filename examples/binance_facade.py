"""A bot written for Binance, unchanged, trading against `mockexchange serve`: only its base URL and keys differ.

The script starts the server (on an embedded Valkey in a temporary directory, with a key and secret of its own
choosing), funds the account and publishes a price through the admin API, then runs plain `ccxt.binance` code:
load markets, read a ticker, buy at market, rest a take-profit, watch it fill, read trades and balances.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time

import ccxt
import requests

from mockexchange_ccxt.binance import ccxt_config

KEY, SECRET = "example-key", "example-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


with tempfile.TemporaryDirectory() as data_dir:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "API_KEY": KEY, "API_SECRET": SECRET, "MOCKX_DATA_DIR": data_dir}
    env.pop("REDIS_URL", None)
    server = subprocess.Popen([sys.executable, "-m", "mockexchange_ccxt", "serve", "--port", str(port)], env=env)
    try:
        admin = {"x-api-key": KEY}
        for _ in range(200):  # until the server answers
            try:
                if requests.get(url + "/status", headers=admin, timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.05)
        requests.post(url + "/admin/fund", json={"asset": "USDT", "amount": 10_000}, headers=admin, timeout=10)
        requests.post(url + "/admin/price", json={"symbol": "BTC/USDT", "price": "64250.5"}, headers=admin, timeout=10)

        # --- from here on, a plain ccxt.binance bot -------------------------------------------------------
        exchange = ccxt.binance(ccxt_config(url, KEY, SECRET))
        exchange.set_sandbox_mode(True)
        exchange.load_markets()
        ticker = exchange.fetch_ticker("BTC/USDT")
        amount = exchange.amount_to_precision("BTC/USDT", 1_000 / ticker["ask"])
        entry = exchange.create_market_buy_order("BTC/USDT", float(amount))
        print(f"bought {entry['filled']} BTC at {entry['average']} (fee {entry['fee']['cost']} USDT)")
        take_profit = exchange.create_limit_sell_order("BTC/USDT", entry["filled"], 66_000)
        print(f"take-profit {take_profit['status']} at {take_profit['price']}")

        # the market rallies (the mock's admin API; a live feed would write the price instead)
        requests.post(url + "/admin/price", json={"symbol": "BTC/USDT", "price": "66100"}, headers=admin, timeout=10)

        take_profit = exchange.fetch_order(take_profit["id"], "BTC/USDT")
        trades = exchange.fetch_my_trades("BTC/USDT")
        balance = exchange.fetch_balance()
        print(f"take-profit {take_profit['status']}; {len(trades)} trades; USDT {balance['USDT']['total']}")
        assert take_profit["status"] == "closed" and balance["BTC"]["total"] == 0
        exchange.session.close()  # no keep-alive connection left to hold up the server's stop
    finally:
        server.terminate()
        server.wait(30)
