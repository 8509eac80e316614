"""``mockexchange import-ohlcv`` and ``mockexchange replay`` (and ``Engine.replay``): files into history, bars into
ticks by the stated rule, resting orders filled as they would have been; straight to Valkey and over HTTP."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from servers import serving

from mockexchange_ccxt import Engine, ReplayClock, Settings
from mockexchange_ccxt.cli import main
from mockexchange_ccxt.config import ENV_VARS
from mockexchange_ccxt.engine.bars import RowError
from mockexchange_ccxt.engine.embedded import EmbeddedValkey
from mockexchange_ccxt.errors import BadRequest, BadSymbol
from mockexchange_ccxt.feeds.progress import Progress

T0 = 1_699_999_800_000  # a multiple of 5 minutes
MINUTE = 60_000
ROWS = [[T0 + i * MINUTE, 100 + i, 104 + i, 97 + i, 101 + i, 2] for i in range(10)]


@pytest.fixture(params=["direct", "http"])
def cli(
    request: pytest.FixtureRequest,
    engine: Engine,
    valkey_server: EmbeddedValkey,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[list[str]]:
    """The CLI's global arguments: straight to the test Valkey, or ``--url`` of a real server on it."""
    for var in [*ENV_VARS, "MOCKX_URL"]:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("REDIS_URL", valkey_server.url)
    monkeypatch.setenv("MOCKX_DATA_DIR", str(tmp_path / "never-used"))
    if request.param == "direct":
        yield []
        return
    settings = Settings(redis_url=valkey_server.url, api_key="feed-test-key", data_dir=tmp_path / "unused")
    with Engine(settings) as served, serving(served) as url:
        yield ["--url", url, "--api-key", "feed-test-key"]


def write_csv(path: Path, rows: list[list[object]], header: bool = True) -> Path:
    lines = ["timestamp,open,high,low,close,volume"] if header else []
    path.write_text("\n".join(lines + [",".join(map(str, row)) for row in rows]) + "\n")
    return path


def test_import_csv_is_idempotent(
    cli: list[str], engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path / "sol.csv", ROWS)
    for _ in range(2):
        assert main([*cli, "import-ohlcv", str(path), "--symbol", "SOL/USDT", "--timeframe", "1m"]) == 0
        assert "imported 10 1m candles of SOL/USDT" in capsys.readouterr().out
    candles = engine.ohlcv("SOL/USDT", "1m", since=0)
    assert candles == [[row[0], *(Decimal(v) for v in row[1:])] for row in ROWS]
    assert engine.ohlcv("SOL/USDT", "5m", since=0)[0] == [T0, 100, 108, 97, 105, 10]
    assert engine.ticker("SOL/USDT")["last"] == Decimal(110)  # a symbol with candles and no price is a market
    assert "SOL/USDT" in engine.markets()


def test_reimporting_a_minute_replaces_it(engine: Engine) -> None:
    engine.import_ohlcv("SOL/USDT", "1m", ROWS)
    engine.import_ohlcv("SOL/USDT", "1m", [[T0, 50, 60, 40, 55, 7]])
    assert engine.ohlcv("SOL/USDT", since=0, limit=1)[0] == [T0, 50, 60, 40, 55, 7]
    assert engine.ohlcv("SOL/USDT", "1h", since=0)[0][3] == Decimal(40)  # the hour was rebuilt from its minutes


@pytest.mark.parametrize(
    ("line", "content", "message"),
    [
        (3, f"{T0 + MINUTE},1,2,x,1.5,1", "low"),
        (3, f"{T0 + MINUTE},1,2,0.5,1.5", "expected"),
        (4, f"{T0 + 2 * MINUTE},3,2,1,1.5,1", "high"),
        (3, f"{T0 + MINUTE + 5},1,2,0.5,1.5,1", "open time"),
        (3, f"{T0 + MINUTE},1,2,0.5,1.5,-1", "volume"),
    ],
)
def test_a_malformed_line_stops_the_import_by_its_number(
    cli: list[str],
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    line: int,
    content: str,
    message: str,
) -> None:
    good = [f"{T0 + i * MINUTE},1,2,0.5,1.5,1" for i in range(3)]
    lines = ["timestamp,open,high,low,close,volume", *good[: line - 2], content, *good[line - 1 :]]
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    code = main([*cli, "import-ohlcv", str(path), "--symbol", "SOL/USDT", "--timeframe", "1m"])
    err = capsys.readouterr().err
    assert code == 2 and f"line {line}:" in err and message in err
    with pytest.raises(BadSymbol):
        engine.ohlcv("SOL/USDT")  # nothing of the file was imported: no history, no price


def test_freqtrade_json_and_feather_files(
    cli: list[str], engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    json_path = tmp_path / "ETH_USDT-5m.json"
    rows = [[T0 + i * 5 * MINUTE, 2000.5 + i, 2010 + i, 1990 + i, 2005 + i, 12.5] for i in range(6)]
    json_path.write_text(json.dumps(rows))
    assert main([*cli, "import-ohlcv", str(json_path), "--symbol", "ETH/USDT", "--timeframe", "5m"]) == 0
    quarter = engine.ohlcv("ETH/USDT", "15m", since=0)  # T0 is 22:10: its quarter opened at 22:00
    assert quarter[1] == [T0 + 5 * MINUTE, Decimal("2001.5"), 2013, 1991, 2008, Decimal("37.5")]
    assert engine.ohlcv("ETH/USDT", "1m", since=0) == []  # a 5m candle cannot be split into minutes
    pandas = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    frame = pandas.DataFrame(rows, columns=["date", "open", "high", "low", "close", "volume"])
    frame["date"] = pandas.to_datetime(frame["date"], unit="ms", utc=True)
    feather = tmp_path / "BTC_USDT-5m.feather"
    frame.to_feather(feather)
    assert main([*cli, "import-ohlcv", str(feather), "--symbol", "BTC/USDT", "--timeframe", "5m"]) == 0
    assert engine.ohlcv("BTC/USDT", "5m", since=0) == engine.ohlcv("ETH/USDT", "5m", since=0)
    json_path.write_text(json.dumps([rows[0], [T0, "a"]]))
    assert main([*cli, "import-ohlcv", str(json_path), "--symbol", "ETH/USDT", "--timeframe", "5m"]) == 2
    assert "entry 2:" in capsys.readouterr().err


def test_replay_fills_resting_orders_as_they_would_have(engine: Engine) -> None:
    engine.clock = ReplayClock()
    engine.set_price("BTC/USDT", "100", timestamp=T0 - MINUTE)
    engine.fund("USDT", "1000")
    buy = engine.create_order("BTC/USDT", "buy", "limit", "1", "98")
    bars = [[T0, 100, 101, 97, 99, 5], [T0 + MINUTE, 99, 103, 99, 102, 3]]
    result = engine.replay("BTC/USDT", bars)
    assert result == {"symbol": "BTC/USDT", "bars": 2, "ticks": 8, "filled": 1}
    order = engine.fetch_order(buy["id"])
    # open 100, then the nearer extreme (high 101), then the low 97: the buy at 98 filled on the third tick
    assert order["status"] == "closed" and order["lastTradeTimestamp"] == T0 + 40_000
    assert engine.now_ms() == T0 + 2 * MINUTE - 1  # the data's clock
    recorded = engine.ohlcv("BTC/USDT", since=T0)
    assert recorded == [[T0, 100, 101, 97, 99, 5], [T0 + MINUTE, 99, 103, 99, 102, 3]]


def test_the_tick_rule() -> None:
    from mockexchange_ccxt.engine.bars import bar_ticks, parse_rows

    near_high, near_low, tie = parse_rows(
        [[0, 10, 11, 5, 8, 1], [60_000, 10, 15, 9, 12, 2], [120_000, 10, 12, 8, 9, 0]], "1m"
    )
    assert [tick[1] for tick in bar_ticks(near_high)] == [10, 11, 5, 8]
    assert [tick[1] for tick in bar_ticks(near_low)] == [10, 9, 15, 12]
    assert [tick[1] for tick in bar_ticks(tie)] == [10, 12, 8, 9]  # a tie goes to the high first
    assert [tick[0] for tick in bar_ticks(near_high)] == [0, 20_000, 40_000, 59_999]
    assert [tick[2] for tick in bar_ticks(near_high)] == [None, None, None, 1]


def test_replay_cli_from_a_file_and_from_history(
    cli: list[str], engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path / "ada.csv", ROWS, header=False)
    assert main([*cli, "replay", str(path), "--symbol", "ADA/USDT", "--speed", "0"]) == 0
    assert "replayed 10 bars (40 prices) of ADA/USDT" in capsys.readouterr().out
    assert engine.ohlcv("ADA/USDT", since=0)[0][1:] == [100, 104, 97, 101, 2]
    # its own history, again: replayed as new prices from now on
    assert main([*cli, "replay", "--symbol", "ADA/USDT", "--since", "2023-11-14T22:00:00Z"]) == 0
    assert "replayed 10 bars" in capsys.readouterr().out
    assert engine.ticker("ADA/USDT")["timestamp"] > engine.now_ms() - 3_600_000
    assert main([*cli, "replay", "--symbol", "ADA/USDT"]) == 2
    assert main([*cli, "replay", str(path), "--symbol", "ADA/USDT", "--speed", "-1"]) == 2
    assert main([*cli, "replay", "--symbol", "ADA/USDT", "--since", "yesterday"]) == 2


def test_engine_replay_refuses_bad_input(engine: Engine) -> None:
    with pytest.raises(RowError, match="candle 2"):
        engine.replay("BTC/USDT", [ROWS[0], [T0, 1, 0.5, 2, 1, 1]])
    for speed in (-1, float("nan"), float("inf"), "fast"):
        with pytest.raises(BadRequest, match="speed"):
            engine.replay("BTC/USDT", ROWS, speed=speed)  # type: ignore[arg-type]
    with pytest.raises(BadRequest, match="timeframe"):
        engine.replay("BTC/USDT", ROWS, timeframe="2m")


def test_the_progress_bar_is_drawn_on_a_terminal_only() -> None:
    screen = io.StringIO()
    bar = Progress("replaying", screen, enabled=True)
    bar(5, 10)
    bar(10, 10)
    bar.close()
    assert screen.getvalue().count("\r") == 2 and "100% 10/10" in screen.getvalue()
    quiet = io.StringIO()
    Progress("replaying", quiet)(5, 10)  # a StringIO is no terminal
    assert quiet.getvalue() == ""


def test_the_prices_route_writes_a_batch_or_nothing(engine: Engine) -> None:
    """``POST /admin/prices`` (what ``replay`` sends at speed 0): each tick settled as if written alone; a bad
    tick refuses the whole batch."""
    from mockexchange_ccxt.routes import Call, dispatch

    engine.set_price("BTC/USDT", "100", timestamp=T0)
    engine.fund("USDT", "1000")
    engine.create_order("BTC/USDT", "buy", "limit", "1", "98")
    with pytest.raises(BadRequest, match="tick 2"):
        dispatch(engine, Call("set_prices", body={"symbol": "BTC/USDT", "ticks": [[T0 + 1, "97"], [T0 + 2, "x"]]}))
    assert engine.ticker("BTC/USDT")["last"] == 100
    ticks = [[T0 + 1, "99", "2"], [T0 + 2, "97.5"], [T0 + 3, "101", None]]
    assert dispatch(engine, Call("set_prices", body={"symbol": "BTC/USDT", "ticks": ticks})) == {
        "symbol": "BTC/USDT",
        "filled": 1,
    }
    assert engine.ticker("BTC/USDT")["last"] == 101 and not engine.fetch_orders(status="open")
