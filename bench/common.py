"""Shared pieces of the benchmarks: a throwaway Valkey, timing, and the figure/target/ratio table."""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from mockexchange_ccxt import Engine, Settings
from mockexchange_ccxt.engine import EmbeddedValkey

TABLE_HEADER = "| figure | measured | target | ratio |\n|---|---|---|---|"


class Group(Enum):
    """The sections of the table (the engine, the class, then DESIGN.md section 9's order): a reader finds each
    target's figures under one label, whichever benchmark measured them."""

    ENGINE = "in-process engine"
    CLASS = "ccxt class (MockExchange, in process)"
    HTTP = "HTTP orders (granian; server and clients share this machine)"
    SETTLEMENT = "settlement"
    TICKS = "tick loop"
    BACKTEST = "back-test"
    MARKET = "market data (history, notifications)"


@dataclass(frozen=True)
class Metric:
    """What a benchmark measures and its target, declared once at module level: the figure names are then known
    without running anything (the README test reads them). ``name`` may hold ``{size}`` fields filled from the
    bench's sizes, so a quick run's names tell the sizes it really used."""

    group: Group
    name: str
    unit: str
    target: float | None
    higher_is_better: bool = True

    def label(self, sizes: object) -> str:
        return self.name.format_map(vars(sizes))

    def measured(self, value: float, sizes: object) -> Figure:
        return Figure(self.label(sizes), value, self.unit, self.target, self.higher_is_better, group=self.group)


@dataclass
class Figure:
    """One measured figure next to its target; ``higher_is_better`` decides how the ratio reads."""

    name: str
    value: float
    unit: str
    target: float | None
    higher_is_better: bool = True
    group: Group = field(kw_only=True)

    @property
    def ratio(self) -> float | None:
        if self.target is None or self.value == 0:
            return None
        return self.value / self.target if self.higher_is_better else self.target / self.value

    def measured_text(self) -> str:
        return f"{number(self.value)} {self.unit}".rstrip()

    def target_text(self) -> str:
        if self.target is None:
            return "-"
        return f"{'>=' if self.higher_is_better else '<'} {number(self.target)} {self.unit}".rstrip()

    def ratio_text(self) -> str:
        ratio = self.ratio
        return "-" if ratio is None else f"{ratio:.2f}x ({'met' if ratio >= 1 else 'not met'})"

    def line(self) -> str:
        """The console form that each bench's main() prints."""
        return f"{self.name:<66} {self.measured_text():>16}   target {self.target_text():<20} {self.ratio_text()}"

    def row(self) -> str:
        """The markdown form: one row of ``markdown_table``."""
        return f"| {self.name} | {self.measured_text()} | {self.target_text()} | {self.ratio_text()} |"


def number(value: float) -> str:
    """Thousands with separators and no fraction, smaller values to 3 significant digits (``.4g`` would print
    10,740 as 1.074e+04)."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def markdown_table(figures: Iterable[Figure]) -> str:
    """One table, a bold label row before each group's figures; groups in ``Group`` order, figures in run order."""
    figures = list(figures)
    lines = [TABLE_HEADER]
    for group in Group:
        rows = [figure.row() for figure in figures if figure.group is group]
        if rows:
            lines += [f"| **{group.value}** | | | |", *rows]
    return "\n".join(lines)


def emit(metrics: Sequence[Metric], values: Mapping[Metric, float], sizes: object) -> list[Figure]:
    """The figures in declared order. Fails when run() measured a metric that ``metrics`` does not declare, or
    missed one, so the declared names are exactly the names run() emits."""
    if set(values) != set(metrics):
        raise ValueError(f"measured {sorted(m.name for m in values)}, declared {sorted(m.name for m in metrics)}")
    return [metric.measured(values[metric], sizes) for metric in metrics]


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


def print_figures(title: str, figures: Iterable[Figure], pin: bool = False) -> None:
    """What a bench run alone prints: the machine, then one console line per figure."""
    print(f"{title} on {machine()}{' (pinned to one CPU)' if pin else ''}")
    for figure in figures:
        print(figure.line())


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small sizes, to check that the benchmark runs (CI)")
    p.add_argument(
        "--pin",
        action="store_true",
        help="pin this process and the Valkey server to one CPU (on some VMs cross-core wake-ups cost ~80 us)",
    )
    return p


@contextmanager
def pinned(pin: bool, server: EmbeddedValkey | None) -> Iterator[None]:
    """Put this process and ``server`` on CPU 0 while the block runs, then give this process its CPUs back, so
    that a later bench in the same process (bench/report.py) and the processes it starts are not pinned too."""
    if not pin or server is None or server.process is None:
        yield
        return
    cpus = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {0})
    os.sched_setaffinity(server.process.pid, {0})
    try:
        yield
    finally:
        os.sched_setaffinity(0, cpus)


@contextmanager
def throwaway_engine(pin: bool = False, **settings: object) -> Iterator[Engine]:
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
