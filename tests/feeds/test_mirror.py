"""``mockexchange feed``, offline: against recorded Binance answers (the ``responses`` package serves files in the
formats ccxt's binance class parses) and against a second mockexchange server as the source."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import ccxt
import pytest
import responses
from servers import serving

from mockexchange_ccxt import Engine, MockExchange, Settings
from mockexchange_ccxt.cli import main
from mockexchange_ccxt.config import ENV_VARS
from mockexchange_ccxt.engine.embedded import EmbeddedValkey
from mockexchange_ccxt.feeds.mirror import Mirror
from mockexchange_ccxt.routes import dispatch

RECORDED = Path(__file__).parent / "binance"
RECORDED_AT = 1_732_000_000_000  # when the answers were taken (the tickers' closeTime)
SOURCE_KEY = "source-key"


def _load(name: str) -> Any:
    return json.loads((RECORDED / name).read_text())


class RecordedBinance:
    """Binance's public endpoints answered from files; ``fail_next`` makes the next ticker call fail."""

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.calls: list[str] = []
        self.fail_next = 0
        for path, handler in (
            (r"https://api\.binance\.com/api/v3/exchangeInfo", lambda q: _load("exchangeInfo.json")),
            (r"https://fapi\.binance\.com/fapi/v1/exchangeInfo", lambda q: {"symbols": []}),
            (r"https://dapi\.binance\.com/dapi/v1/exchangeInfo", lambda q: {"symbols": []}),
            (r"https://api\.binance\.com/api/v3/ticker/24hr", self._tickers),
            (r"https://api\.binance\.com/api/v3/depth", lambda q: _load(f"depth_{q['symbol'][0]}.json")),
            (r"https://api\.binance\.com/api/v3/klines", self._klines),
        ):
            mock.add_callback(responses.GET, re.compile(path + r"(\?.*)?$"), callback=self._answer(path, handler))

    def _answer(self, path: str, handler: Any) -> Any:
        def callback(request: Any) -> tuple[int, dict[str, str], str]:
            self.calls.append(urlparse(request.url).path)
            if "ticker" in path and self.fail_next:
                self.fail_next -= 1
                return 503, {}, "Service Unavailable"
            return 200, {"Content-Type": "application/json"}, json.dumps(handler(parse_qs(urlparse(request.url).query)))

        return callback

    def _tickers(self, query: dict[str, list[str]]) -> Any:
        wanted = json.loads(query["symbols"][0]) if "symbols" in query else None
        return [t for t in _load("ticker_24hr.json") if wanted is None or t["symbol"] in wanted]

    def _klines(self, query: dict[str, list[str]]) -> Any:
        rows = _load(f"klines_{query['symbol'][0]}.json")
        start = int(query.get("startTime", ["0"])[0])
        limit = int(query.get("limit", ["500"])[0])
        chosen = [row for row in rows if row[0] >= start]
        return chosen[:limit] if "startTime" in query else chosen[-limit:]


@pytest.fixture
def binance() -> Iterator[RecordedBinance]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("http://127.0.0.1")  # the mock's own server, when a test uses one
        yield RecordedBinance(mock)


@pytest.fixture
def cli_env(valkey_server: EmbeddedValkey, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The CLI configured through the environment, straight to the test Valkey."""
    for var in [*ENV_VARS, "MOCKX_URL"]:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("REDIS_URL", valkey_server.url)
    monkeypatch.setenv("MOCKX_DATA_DIR", str(tmp_path))


def performer(engine: Engine) -> Any:
    return lambda call: dispatch(engine, call)


def test_mirroring_recorded_binance_answers(binance: RecordedBinance, engine: Engine) -> None:
    source = ccxt.binance({"enableRateLimit": False})
    source.milliseconds = lambda: RECORDED_AT  # type: ignore[method-assign]  # the recording's own clock
    mirror = Mirror(source, performer(engine), ["BTC/USDT", "ETH/USDT"], interval=0.01, depth=2)
    assert mirror.check_symbols() == []
    assert mirror.backfill(2 * 3_600_000) == 2 * 120  # the last 2 hours of each, though 3 were recorded
    binance.fail_next = 1  # the source fails once: the mirror waits and retries
    mirror.run(max_steps=2)
    assert mirror.steps == 2 and mirror.errors == 1
    ticker = engine.ticker("BTC/USDT")
    assert (ticker["last"], ticker["bid"], ticker["ask"]) == (
        Decimal("91234.56"),
        Decimal("91234.55"),
        Decimal("91234.56"),
    )
    recorded = _load("klines_BTCUSDT.json")
    assert ticker["timestamp"] == RECORDED_AT
    assert ticker["baseVolume"] == sum(Decimal(row[5]) for row in recorded[-120:])  # the 24 h from the candles
    book = engine.order_book("ETH/USDT")
    assert not book["info"]["synthetic"]
    assert book["bids"] == [[Decimal("3105.11"), Decimal(10)], [Decimal("3105"), Decimal(5)]]
    candles = engine.ohlcv("BTC/USDT", since=0, limit=1000)
    assert len(candles) == 120
    for candle, row in zip(candles[:-1], recorded[-120:-1], strict=True):  # the exchange's own candles
        assert candle == [row[0], *(Decimal(value) for value in row[1:6])]
    assert candles[-1][4] == Decimal("91234.56")  # the last minute closes at the mirrored price


def test_the_feed_command_against_recorded_binance(
    binance: RecordedBinance, engine: Engine, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["feed", "--exchange", "binance", "--symbols", "BTC/USDT,ETH/USDT", "--interval", "0.01", "--depth", "3"]
    assert main([*argv, "--rounds", "2"]) == 0
    assert "stopped after 2 round(s)" in capsys.readouterr().out
    assert engine.ticker("ETH/USDT")["last"] == Decimal("3105.12")
    assert len(engine.order_book("BTC/USDT")["asks"]) == 3
    assert main([*argv, "--symbols", "BTC/USDT,NOPE/USDT", "--rounds", "1"]) == 2
    assert "does not list NOPE/USDT" in capsys.readouterr().err
    assert main(["feed", "--exchange", "nosuchexchange", "--symbols", "BTC/USDT"]) == 2


@pytest.fixture
def source_server(valkey_server: EmbeddedValkey, tmp_path: Path) -> Iterator[tuple[Engine, str]]:
    """A second mockexchange: its own keys (other prefixes) on the test Valkey, served over real HTTP."""
    settings = Settings(
        redis_url=valkey_server.url,
        api_key=SOURCE_KEY,
        data_dir=tmp_path / "unused",
        key_prefix="srcx:",
        price_key_prefix="src_",
    )
    with Engine(settings) as source, serving(source) as url:
        yield source, url


def test_mirroring_a_second_mockexchange(
    source_server: tuple[Engine, str], engine: Engine, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    source, url = source_server
    now = engine.now_ms() // 60_000 * 60_000
    for minute in range(30, 0, -1):
        source.set_price("SOL/USDT", 150 + minute, timestamp=now - minute * 60_000, volume="2")
    source.set_price("SOL/USDT", "149.5", timestamp=now, bids=[["149.4", "3"]], asks=[["149.6", "4"]])
    config = {"apiKey": SOURCE_KEY, "options": {"serverUrl": url}}
    mirror = Mirror(MockExchange(config), performer(engine), ["SOL/USDT"], depth=5)
    mirror.backfill(3_600_000)
    mirror.run(max_steps=1)
    assert engine.ohlcv("SOL/USDT", since=0, limit=1000) == source.ohlcv("SOL/USDT", since=0, limit=1000)
    assert engine.order_book("SOL/USDT")["asks"] == [[Decimal("149.6"), Decimal(4)]]
    assert engine.ticker("SOL/USDT")["last"] == Decimal("149.5")

    source.set_price("SOL/USDT", "151", timestamp=now + 1000)
    argv = ["feed", "--exchange", "mockexchange", "--exchange-config", json.dumps(config), "--symbols", "SOL/USDT"]
    assert main([*argv, "--rounds", "1", "--backfill", "1h"]) == 0, capsys.readouterr().err
    assert engine.ticker("SOL/USDT")["last"] == Decimal(151)


def test_the_feed_command_copies_the_sources_market_rules(
    binance: RecordedBinance, engine: Engine, cli_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--markets-file`` writes Binance's filters of the mirrored symbols as a markets file that loads: the mock
    then trades with Binance's tick, step and limits."""
    path = tmp_path / "markets.json"
    argv = ["feed", "--exchange", "binance", "--symbols", "BTC/USDT", "--interval", "0.01", "--rounds", "1"]
    assert main([*argv, "--markets-file", str(path)]) == 0, capsys.readouterr().err
    rules = json.loads(path.read_text())
    assert set(rules) == {"BTC/USDT"}
    assert rules["BTC/USDT"]["precision"] == {"price": "0.01", "amount": "0.00001"}
    assert rules["BTC/USDT"]["limits"]["amount"] == {"min": "0.00001", "max": "9000"}
    assert rules["BTC/USDT"]["limits"]["cost"]["min"] == "5"
    with Engine(Settings(redis_url=engine.store.url, data_dir=tmp_path, markets_file=str(path))) as ruled:
        market = ruled.market("BTC/USDT")
        assert (market.tick, market.step, market.min_cost) == (Decimal("0.01"), Decimal("0.00001"), Decimal(5))
