"""Shared pieces of the benchmarks: a throwaway Valkey, timing, and the figure/target/ratio table."""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from mockexchange_ccxt import Engine, Settings
from mockexchange_ccxt.engine import EmbeddedValkey


@dataclass
class Figure:
    """One measured figure next to its target; ``higher_is_better`` decides how the ratio reads."""

    name: str
    value: float
    unit: str
    target: float | None
    higher_is_better: bool = True

    @property
    def ratio(self) -> float | None:
        if self.target is None or self.value == 0:
            return None
        return self.value / self.target if self.higher_is_better else self.target / self.value

    def line(self) -> str:
        target = (
            "-" if self.target is None else f"{'>=' if self.higher_is_better else '<'} {self.target:,.4g} {self.unit}"
        )
        ratio = "" if self.ratio is None else f"x{self.ratio:.2f} {'met' if self.ratio >= 1 else 'NOT met'}"
        return f"{self.name:<52} {self.value:>12,.4g} {self.unit:<9} target {target:<18} {ratio}"


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="small sizes, to check that the benchmark runs (CI)")
    p.add_argument(
        "--pin",
        action="store_true",
        help="pin this process and the Valkey server to one CPU (on some VMs cross-core wake-ups cost ~80 us)",
    )
    return p


@contextmanager
def throwaway_engine(pin: bool = False, **settings: object) -> Iterator[Engine]:
    """An engine on a fresh, non-persistent embedded Valkey (or on REDIS_URL when it is set, flushed!)."""
    url = os.environ.get("REDIS_URL")
    server = None
    if url is None:
        server = EmbeddedValkey(persistent=False)
        url = server.start()
        if pin and server.process is not None:
            os.sched_setaffinity(0, {0})
            os.sched_setaffinity(server.process.pid, {0})
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(Settings(redis_url=url, data_dir=__import__("pathlib").Path(tmp), **settings))  # type: ignore[arg-type]
        engine.store.call("FLUSHALL")
        try:
            yield engine
        finally:
            engine.close()
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
