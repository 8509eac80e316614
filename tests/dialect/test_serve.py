"""``mockexchange serve`` (granian, two workers) serves the dialect beside the seed's API on one port, and
prints a generated secret when API_SECRET is unset, as it does the key."""

from __future__ import annotations

import re
from pathlib import Path

import requests
from servers import start_server

from mockexchange_ccxt.engine import EmbeddedValkey

from .support import KEY, binance


def test_serve_prints_a_secret_that_signs(valkey_server: EmbeddedValkey, tmp_path: Path) -> None:
    env = {"REDIS_URL": valkey_server.url, "API_KEY": KEY, "TICK_LOOP_SEC": "3600"}
    server = start_server(tmp_path / "serve.log", env, KEY, workers=2)
    try:
        found = re.search(r"^API secret: (\S+)$", server.output(), re.MULTILINE)
        assert found is not None, server.output()
        assert "API key:" not in server.output()  # the key was chosen; only the secret is generated
        headers = {"x-api-key": KEY}
        requests.post(server.url + "/admin/fund", json={"asset": "USDT", "amount": 1000}, headers=headers, timeout=10)
        requests.post(
            server.url + "/admin/price", json={"symbol": "BTC/USDT", "price": "50000"}, headers=headers, timeout=10
        )
        exchange = binance(server.url, secret=found.group(1))
        order = exchange.create_order("BTC/USDT", "market", "buy", 0.01)
        assert (order["status"], order["cost"]) == ("closed", 500.0)
        assert exchange.fetch_balance()["BTC"]["total"] == 0.01
        assert requests.get(server.url + "/balance/BTC", headers=headers, timeout=10).json()["total"] == "0.01"
        exchange.session.close()  # an open keep-alive connection would hold up the server's graceful stop
    finally:
        assert server.stop() == 0, server.output()
