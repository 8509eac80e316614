"""The engine against an independent model of the order rules (``order_oracle.py``): every combination of side,
type, time in force and trigger kind, placed with its limit or trigger below, at and above the price, then
driven by price paths that cross, touch and miss it. After placement and after every price, the order's status,
fill price, cost and fee, and the account's free and used balances must equal the model's to the last unit
(so funding + fills - fees = free + used, and used = what the open order reserves)."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import pytest

from mockexchange_ccxt import Engine
from mockexchange_ccxt.errors import OrderImmediatelyFillable

from .order_oracle import CANCELED, CLOSED, OPEN, REFUSED, Model, Quote, Spec

SYMBOL, BASE, QUOTE = "ORC/USDT", "ORC", "USDT"
MAKER, TAKER = Decimal("0.001"), Decimal("0.0025")
START = Decimal(100)
FUNDS = {BASE: Decimal(1000), QUOTE: Decimal(1_000_000)}
AMOUNT = Decimal("0.37")

#: Orders: (side, carries, time in force, trigger kind). Types spelled as a bot may (ccxt's params or Binance's
#: type names) are chosen per case below.
KINDS: list[tuple[str, str, str | None]] = [
    ("market", "IOC", None),
    ("limit", "GTC", None),
    ("limit", "IOC", None),
    ("limit", "FOK", None),
    ("limit", "PO", None),
    *[
        (carries, tif, kind)
        for kind in ("stop_loss", "take_profit", "trigger")
        for carries, tif in (("market", "IOC"), ("limit", "GTC"), ("limit", "IOC"), ("limit", "FOK"))
    ],
]
#: Where the order's key price sits against the start price (limit, or trigger; a trigger limit's limit is
#: then placed a step beyond its trigger in both directions).
OFFSETS = (Decimal(-2), Decimal(0), Decimal(2))
#: Price paths after placement: cross down and up, touch from each side, miss, and swings.
PATHS = {
    "down-through": [Decimal(99), Decimal(97), Decimal(95)],
    "up-through": [Decimal(101), Decimal(103), Decimal(105)],
    "touch-98": [Decimal(99), Decimal(98)],
    "touch-102": [Decimal(101), Decimal(102)],
    "miss": [Decimal("100.5"), Decimal("99.5")],
    "swing": [Decimal(96), Decimal(104), Decimal(100)],
}
SPREADS = (Decimal(0), Decimal("0.5"))


def quote_of(last: Decimal, spread: Decimal) -> Quote:
    return Quote(last, last - spread, last + spread)


def cases() -> list[Any]:
    out = []
    for side, (carries, tif, kind), offset, spread in itertools.product(("buy", "sell"), KINDS, OFFSETS, SPREADS):
        limit_offsets: tuple[Decimal | None, ...] = (
            (Decimal(-1), Decimal(1)) if kind and carries == "limit" else (None,)
        )
        for limit_offset in limit_offsets:
            out.append(
                pytest.param(
                    side,
                    carries,
                    tif,
                    kind,
                    offset,
                    limit_offset,
                    spread,
                    id=f"{side}-{carries}-{tif}-{kind}-{offset}-{limit_offset}-{spread}",
                )
            )
    return out


def spec_of(side: str, carries: str, tif: str, kind: str | None, offset: Decimal, limit_offset: Decimal | None) -> Spec:
    key = START + offset
    if kind is None:
        return Spec(side, carries, tif, AMOUNT, key if carries == "limit" else None)
    limit = key + limit_offset if limit_offset is not None else None
    return Spec(side, carries, tif, AMOUNT, limit, kind, key)


def place(engine: Engine, spec: Spec, variant: int) -> dict[str, Any]:
    """Place the order, spelled one of the ways a bot may spell it (``variant`` picks one)."""
    flags: dict[str, Any] = {}
    type_name = spec.carries
    if spec.tif == "PO":
        flags = {"post_only": True} if variant % 2 else {"time_in_force": "PO"}
        if variant % 3 == 0:
            type_name, flags = "limit_maker", {}
    elif spec.tif != ("IOC" if spec.carries == "market" else "GTC") or variant % 2:
        flags["time_in_force"] = spec.tif
    if spec.trigger is not None:
        binance = spec.trigger_kind != "trigger" and variant % 2 == 0
        if binance:
            type_name = spec.trigger_kind + ("_limit" if spec.carries == "limit" else "")
            flags["stop_price"] = spec.trigger
        else:
            name = {"stop_loss": "stop_loss_price", "take_profit": "take_profit_price", "trigger": "trigger_price"}
            flags[name[spec.trigger_kind or "trigger"]] = spec.trigger
    return engine.create_order(SYMBOL, spec.side, type_name, spec.amount, spec.limit, **flags)


def check(engine: Engine, model: Model, order_id: str | None, step: str) -> None:
    balance = engine.fetch_balance()
    for asset in (BASE, QUOTE):
        got = balance.get(asset, {"free": Decimal(0), "used": Decimal(0)})
        assert (got["free"], got["used"]) == (model.free()[asset], model.used()[asset]), (step, asset, model.history)
    if order_id is None:
        return
    order = engine.fetch_order(order_id)
    assert order["status"] == model.status, (step, order["info"], model.history)
    if model.status == CLOSED:
        assert (order["average"], order["cost"]) == (model.fill_price, model.cost), step
        assert (order["fee"]["cost"], order["fee"]["rate"]) == (model.fee, model.rate), step
        (trade,) = order["trades"]
        assert (trade["price"], trade["amount"], trade["cost"]) == (model.fill_price, model.spec.amount, model.cost)
    else:
        assert order["filled"] == 0 and order["trades"] == [], step


@pytest.fixture(scope="module")
def oracle_engine(valkey_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from mockexchange_ccxt import Settings

    settings = Settings(
        redis_url=valkey_server.url,
        data_dir=tmp_path_factory.mktemp("unused"),
        maker_commission=MAKER,
        taker_commission=TAKER,
        account="oracle",
    )
    with Engine(settings) as engine:
        yield engine


@pytest.mark.parametrize(("side", "carries", "tif", "kind", "offset", "limit_offset", "spread"), cases())
def test_order_follows_the_rules_on_every_path(
    oracle_engine: Engine,
    side: str,
    carries: str,
    tif: str,
    kind: str | None,
    offset: Decimal,
    limit_offset: Decimal | None,
    spread: Decimal,
) -> None:
    engine = oracle_engine
    for variant, (path_name, path) in enumerate(PATHS.items()):
        engine.reset()
        for asset, amount in FUNDS.items():
            engine.fund(asset, amount)
        start = quote_of(START, spread)
        engine.set_price(SYMBOL, START, bid=start.bid, ask=start.ask)
        spec = spec_of(side, carries, tif, kind, offset, limit_offset)
        model = Model(BASE, QUOTE, MAKER, TAKER, spec, {f"free:{a}": v for a, v in FUNDS.items()})
        model.place(start)
        model.history.append(f"placed at {start}: {model.status}")
        if model.status == REFUSED:
            with pytest.raises(OrderImmediatelyFillable):
                place(engine, spec, variant)
            check(engine, model, None, "refused")
            continue
        order_id = place(engine, spec, variant)["id"]
        check(engine, model, order_id, "placed")
        for price in path:
            quote = quote_of(price, spread)
            model.tick(quote)
            model.history.append(f"{path_name} {price}: {model.status}")
            engine.set_price(SYMBOL, price, bid=quote.bid, ask=quote.ask)
            check(engine, model, order_id, f"{path_name} {price}")
        if model.status == OPEN:
            engine.cancel_order(order_id)
            model.cancel()
            check(engine, model, order_id, "canceled")
        assert model.status in (CLOSED, CANCELED)
