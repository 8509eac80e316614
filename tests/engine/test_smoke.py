from decimal import Decimal

from mockexchange_ccxt import Engine


def test_market_buy_moves_exact_money(btc: Engine) -> None:
    order = btc.create_order("BTC/USDT", "buy", "market", "0.05")
    assert order["status"] == "closed"
    assert btc.balance("USDT")["free"] == Decimal("97497.5")
    assert btc.balance("BTC")["free"] == Decimal("0.05")
