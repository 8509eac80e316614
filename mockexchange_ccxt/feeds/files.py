"""Candle files: CSV (``timestamp,open,high,low,close,volume``, ms, header optional) and freqtrade's data files
(``.json``: a list of ``[timestamp, open, high, low, close, volume]``; ``.feather``: columns ``date, open,
high, low, close, volume``, read with pandas where it is installed).

``read_candles`` returns the rows and where each came from, so that a bad row is reported by its line number in
the file (header included) for CSV, by its entry number for JSON and its row number for feather.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..engine.bars import RowError, parse_rows
from ..engine.candles import Candle

HEADER = ("timestamp", "open", "high", "low", "close", "volume")


class CandleFileError(ValueError):
    """A file that is not candles; the message names the file and the line."""


@dataclass
class CandleFile:
    """Rows of one file and the place of each (what a message about it calls the row)."""

    path: Path
    rows: list[list[Any]]
    places: list[str]

    def bars(self, timeframe: str) -> list[Candle]:
        """Every row checked (the engine's own rules); a bad one raises CandleFileError naming its place."""
        try:
            return parse_rows(self.rows, timeframe)
        except RowError as exc:
            raise CandleFileError(f"{self.path}: {self.places[exc.index]}: {exc.reason}") from None


def read_candles(path: str | Path) -> CandleFile:
    """Read a candle file by its extension (``.json``, ``.feather``; anything else is CSV)."""
    path = Path(path)
    try:
        if path.suffix == ".json":
            return _json(path)
        if path.suffix == ".feather":
            return _feather(path)
        return _csv(path)
    except OSError as exc:
        raise CandleFileError(f"{path}: {exc.strerror or exc}") from None


def _csv(path: Path) -> CandleFile:
    rows: list[list[Any]] = []
    places: list[str] = []
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        for number, fields in enumerate(csv.reader(handle), 1):
            if not fields or all(not field.strip() for field in fields):
                continue
            cells = [field.strip() for field in fields]
            if not rows and number == 1 and not _is_number(cells[0]):
                if [cell.lower() for cell in cells] != list(HEADER):
                    raise CandleFileError(f"{path}: line 1: a header must be {','.join(HEADER)}")
                continue
            rows.append(cells)
            places.append(f"line {number}")
    return CandleFile(path, rows, places)


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


def _json(path: Path) -> CandleFile:
    try:
        data = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CandleFileError(f"{path}: not JSON: {str(exc)[:120]}") from None
    if not isinstance(data, list):
        raise CandleFileError(f"{path}: expected a list of [timestamp, open, high, low, close, volume]")
    return CandleFile(path, data, [f"entry {number}" for number in range(1, len(data) + 1)])


def _feather(path: Path) -> CandleFile:
    try:
        import pandas
    except ImportError:
        raise CandleFileError(f"{path}: reading .feather files needs pandas and pyarrow installed") from None
    try:
        frame = pandas.read_feather(path)
    except Exception as exc:  # pyarrow raises many kinds for a file that is not feather
        raise CandleFileError(f"{path}: not a feather file: {str(exc)[:120]}") from None
    missing = [name for name in ("date", *HEADER[1:]) if name not in frame.columns]
    if missing:
        raise CandleFileError(f"{path}: missing column(s) {', '.join(missing)}")
    epoch, millisecond = pandas.Timestamp(0, tz="UTC"), pandas.Timedelta(milliseconds=1)
    stamps = (pandas.to_datetime(frame["date"], utc=True) - epoch) // millisecond
    rows = [
        [int(stamp), *(repr(float(value)) for value in values)]
        for stamp, *values in zip(stamps, *(frame[name] for name in HEADER[1:]), strict=True)
    ]
    return CandleFile(path, rows, [f"row {number}" for number in range(1, len(rows) + 1)])
