"""Shared pieces of the benchmarks: a throwaway Valkey, timing, and the figure/target/ratio table."""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from mockexchange_ccxt import Engine, Settings
from mockexchange_ccxt.engine import EmbeddedValkey
from mockexchange_ccxt.engine.store import Store

TABLE_HEADER = (
    "| figure | measured | floor: what one round trip allows | ratio to floor | target | met |\n"
    "|---|---|---|---|---|---|"
)
PINGS = 1000  # round trips each floor median is taken over


class Group(Enum):
    """The sections of the table (the floor, the engine, the class, then DESIGN.md section 9's order): a reader
    finds each target's figures under one label, whichever benchmark measured them."""

    FLOOR = "floor: one thread's round trip to Valkey, measured in the same run"
    ENGINE = "in-process engine"
    CLASS = "ccxt class (MockExchange, in process)"
    HTTP = "HTTP orders (granian; server and clients share this machine)"
    SETTLEMENT = "settlement"
    FILLS = "fills against the book (FILL_MODEL=book; the touch figure measured beside it is the floor)"
    TICKS = "tick loop"
    BACKTEST = "back-test"
    MARKET = "market data (history, notifications)"
    MEMORY = "memory (Valkey's used_memory per item)"


@dataclass(frozen=True)
class Floor:
    """What a figure would be if it cost only its round trips, in the figure's own unit, and what that is (``1
    PING each``): the figure's ratio to it says how close to the floor the code runs, whatever the machine."""

    value: float
    what: str


@dataclass(frozen=True)
class RoundTrips:
    """The floor under every figure, measured in the same run and setting (pinned or not): the median round trip
    of one thread to the same Valkey, for a PING and for EVALSHA of a script that does nothing."""

    ping_s: float
    evalsha_s: float

    @classmethod
    def measure(cls, store: Store, count: int = PINGS) -> RoundTrips:
        sha = store.call("SCRIPT", "LOAD", "return 0")
        ping = statistics.median(timed(lambda: store.read("PING")) for _ in range(count))
        evalsha = statistics.median(timed(lambda: store.call("EVALSHA", sha, 0)) for _ in range(count))
        return cls(ping, evalsha)

    def rate(self) -> Floor:
        """For operations/s of one thread: one PING round trip per operation (the issue's 'PINGs/s')."""
        return Floor(1 / self.ping_s, "1 PING each, one thread")

    def time(self, scale: float, calls: int = 1, script: bool = True) -> Floor:
        """For a time in units of ``scale`` seconds (1e-3: ms) that needs ``calls`` round trips at least."""
        each, name = (self.evalsha_s, "EVALSHA") if script else (self.ping_s, "PING")
        return Floor(calls * each / scale, f"{calls:,} {name}{'s' if calls > 1 else ''}")


@dataclass(frozen=True)
class Metric:
    """What a benchmark measures and its target, declared once at module level: the figure names are then known
    without running anything (the README test reads them). ``name`` may hold ``{size}`` fields filled from the
    bench's sizes, so a quick run's names tell the sizes it really used. With ``relative`` the target is a
    multiple of the figure's floor (``>= 0.6 x floor``), else a value in ``unit``."""

    group: Group
    name: str
    unit: str
    target: float | None
    higher_is_better: bool = True
    relative: bool = False

    def label(self, sizes: object) -> str:
        return self.name.format_map(vars(sizes))

    def measured(self, value: float, sizes: object, floor: Floor | None = None) -> Figure:
        return Figure(
            self.label(sizes),
            value,
            self.unit,
            self.target,
            self.higher_is_better,
            group=self.group,
            floor=floor,
            relative=self.relative,
        )


@dataclass
class Figure:
    """One measured figure next to its floor and its target; ``higher_is_better`` decides how ratios read."""

    name: str
    value: float
    unit: str
    target: float | None
    higher_is_better: bool = True
    group: Group = field(kw_only=True)
    floor: Floor | None = field(default=None, kw_only=True)
    relative: bool = field(default=False, kw_only=True)

    @property
    def ratio(self) -> float | None:
        """The figure as a fraction of what its floor allows (1 = as fast as the round trips alone)."""
        if self.floor is None or self.value == 0:
            return None
        return self.value / self.floor.value if self.higher_is_better else self.floor.value / self.value

    @property
    def attainment(self) -> float | None:
        """How far the target is met: 1 or more meets it."""
        if self.target is None:
            return None
        measured = self.ratio if self.relative else self.value
        if not measured:
            return None
        if self.relative:  # a ratio to the floor reads higher-is-better whatever the figure's unit
            return measured / self.target
        return measured / self.target if self.higher_is_better else self.target / measured

    def measured_text(self) -> str:
        return f"{number(self.value)} {self.unit}".rstrip()

    def floor_text(self) -> str:
        return "-" if self.floor is None else f"{number(self.floor.value)} {self.unit}: {self.floor.what}"

    def ratio_text(self) -> str:
        return "-" if self.ratio is None else number(self.ratio)

    def target_text(self) -> str:
        if self.target is None:
            return "-"
        sign = ">=" if self.higher_is_better else "<"
        if self.relative:  # a time within a multiple of its floor reads as that multiple
            if not self.higher_is_better:
                return f"<= {number(1 / self.target)} x floor"
            return f">= {number(self.target)} x floor"
        return f"{sign} {number(self.target)} {self.unit}".rstrip()

    def met_text(self) -> str:
        attained = self.attainment
        return "-" if attained is None else f"{'yes' if attained >= 1 else 'no'} ({attained:.2f}x)"

    def line(self) -> str:
        """The console form that each bench's main() prints."""
        return (
            f"{self.name:<66} {self.measured_text():>16}   floor {self.floor_text():<44} ratio"
            f" {self.ratio_text():<6} target {self.target_text():<20} {self.met_text()}"
        )

    def row(self) -> str:
        """The markdown form: one row of ``markdown_table``."""
        cells = (self.measured_text(), self.floor_text(), self.ratio_text(), self.target_text(), self.met_text())
        return f"| {self.name} | {' | '.join(cells)} |"


def number(value: float) -> str:
    """Thousands with separators and no fraction, smaller values to 3 significant digits, never in exponent form
    (``.4g`` would print 10,740 as 1.074e+04, and ``.3g`` 0.0000583 as 5.83e-05)."""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    text = f"{value:.3g}"
    if "e" in text:
        digits = 2 - math.floor(math.log10(abs(value)))
        text = f"{value:.{digits}f}"
    return text


def markdown_table(figures: Iterable[Figure]) -> str:
    """One table, a bold label row before each group's figures; groups in ``Group`` order, figures in run order."""
    figures = list(figures)
    lines = [TABLE_HEADER]
    for group in Group:
        rows = [figure.row() for figure in figures if figure.group is group]
        if rows:
            lines += [f"| **{group.value}** | | | | | |", *rows]
    return "\n".join(lines)


def emit(
    metrics: Sequence[Metric],
    values: Mapping[Metric, float],
    sizes: object,
    floors: Mapping[Metric, Floor] | None = None,
) -> list[Figure]:
    """The figures in declared order, each with its floor. Fails when run() measured a metric that ``metrics``
    does not declare, or missed one, so the declared names are exactly the names run() emits; and when a
    metric whose target is relative to the floor has none."""
    floors = floors or {}
    if set(values) != set(metrics):
        raise ValueError(f"measured {sorted(m.name for m in values)}, declared {sorted(m.name for m in metrics)}")
    unfloored = [m.name for m in metrics if m.relative and m not in floors]
    if unfloored or not set(floors) <= set(metrics):
        raise ValueError(f"floors missing for {unfloored} or given for metrics not declared")
    return [metric.measured(values[metric], sizes, floors.get(metric)) for metric in metrics]


def cpu_model() -> str | None:
    """The first ``model name`` of /proc/cpuinfo (Linux x86), None where there is none."""
    try:
        lines = Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), None)


def machine() -> str:
    arch = platform.processor() or platform.machine()
    model = cpu_model()
    return f"{arch}{f' ({model})' if model else ''}, {os.cpu_count()} cores, Python {platform.python_version()}"


def print_figures(title: str, figures: Iterable[Figure], pin: Pin | None = None) -> None:
    """What a bench run alone prints: the machine and whether it was pinned, then one console line per figure."""
    print(f"{title} on {machine()}; {pinning(pin)}")
    for figure in figures:
        print(figure.line())


def run_alone(
    title: str, doc: str | None, run: Callable[[Any, Pin | None], list[Figure]], quick: Any, full: Any
) -> None:
    """A bench's ``main``: parse --quick and --pin, run at those sizes, print the figures."""
    args = parser(doc or "").parse_args()
    print_figures(title, run(quick if args.quick else full, args.pin), args.pin)


class Pin(Enum):
    """Where the in-process benches put this process (the client) and its Valkey server. On a VM a wake-up across
    cores costs about 80 us, so the PING floor differs about 4x between the two settings; unpinned, the
    scheduler picks one or the other from run to run. ``split`` is a client and a server on cores of their own,
    the floor issue 15's targets were set against."""

    SAME = "same"
    SPLIT = "split"


def pinning(pin: Pin | None) -> str:
    """The report's words for ``pin``."""
    if pin is Pin.SAME:
        return "client and Valkey pinned to CPU 0"
    if pin is Pin.SPLIT:
        return "client pinned to CPU 0, Valkey to CPU 1"
    return "client and Valkey not pinned"


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small sizes, to check that the benchmark runs (CI)")
    p.add_argument(
        "--pin",
        nargs="?",
        const=Pin.SAME,
        type=Pin,
        choices=list(Pin),
        metavar="{same,split}",
        help="pin this process and the Valkey server to one CPU (same, the default of a bare --pin) or each to a"
        " CPU of its own (split: client on CPU 0, Valkey on CPU 1); on some VMs cross-core wake-ups cost ~80 us",
    )
    return p


@contextmanager
def pinned(pin: Pin | None, server: EmbeddedValkey | None) -> Iterator[None]:
    """Pin this process and ``server`` as ``pin`` says while the block runs, then give this process its CPUs
    back, so that a later bench in the same process (bench/report.py) and the processes it starts are not pinned
    too. A machine with one CPU runs ``split`` as ``same``."""
    if pin is None or server is None or server.process is None:
        yield
        return
    cpus = os.sched_getaffinity(0)
    server_cpu = 1 if pin is Pin.SPLIT and len(cpus) > 1 and 1 in cpus else 0
    os.sched_setaffinity(0, {0})
    os.sched_setaffinity(server.process.pid, {server_cpu})
    try:
        yield
    finally:
        os.sched_setaffinity(0, cpus)


@contextmanager
def throwaway_engine(pin: Pin | None = None, **settings: object) -> Iterator[Engine]:
    """An engine on a fresh, non-persistent embedded Valkey (or on REDIS_URL when it is set, flushed!)."""
    url = os.environ.get("REDIS_URL")
    server = None
    if url is None:
        server = EmbeddedValkey(persistent=False)
        url = server.start()
    try:
        with pinned(pin, server), tempfile.TemporaryDirectory() as tmp:
            engine = Engine(Settings(redis_url=url, data_dir=Path(tmp), **settings))  # type: ignore[arg-type]
            engine.store.call("FLUSHALL")
            try:
                yield engine
            finally:
                engine.close()
    finally:
        if server is not None:
            server.stop()


def rate(n: int, action: Callable[[int], object]) -> float:
    """Operations per second of ``action(i)`` for i in range(n)."""
    start = time.perf_counter()
    for i in range(n):
        action(i)
    return n / (time.perf_counter() - start)


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start
