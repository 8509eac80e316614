"""The benchmark report: how a figure renders as a markdown row, and that README's table is the one
bench/report.py renders, with exactly the figures the benchmarks declare."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import report
from common import TABLE_HEADER, Figure, Floor, Group, RoundTrips, markdown_table


def test_table_rows_floors_and_ratios() -> None:
    trips = RoundTrips(ping_s=100e-6, evalsha_s=125e-6)  # 10,000 PINGs/s
    figures = [
        Figure("ticks", 0.25, "ms", 1.0, False, group=Group.TICKS, floor=trips.time(1e-3)),
        Figure("orders", 2153.4, "orders/s", 0.6, group=Group.ENGINE, floor=trips.rate(), relative=True),
        Figure("placements", 1711, "orders/s", None, group=Group.ENGINE, floor=trips.rate()),
        Figure("class", 2000, "orders/s", 0.8, group=Group.CLASS, floor=Floor(2153.4, "Engine"), relative=True),
        Figure("settle", 0.2, "s", 0.3, False, group=Group.SETTLEMENT, floor=trips.time(1, 20)),
        Figure("ping", 100, "us", None, False, group=Group.FLOOR),
    ]
    assert markdown_table(figures).splitlines() == [
        *TABLE_HEADER.splitlines(),
        f"| **{Group.FLOOR.value}** | | | | | |",
        "| ping | 100 us | - | - | - | - |",
        "| **in-process engine** | | | | | |",
        "| orders | 2,153 orders/s | 10,000 orders/s: 1 PING each, one thread | 0.215 | >= 0.6 x floor | no (0.36x) |",
        "| placements | 1,711 orders/s | 10,000 orders/s: 1 PING each, one thread | 0.171 | - | - |",
        "| **ccxt class (MockExchange, in process)** | | | | | |",
        "| class | 2,000 orders/s | 2,153 orders/s: Engine | 0.929 | >= 0.8 x floor | yes (1.16x) |",
        "| **settlement** | | | | | |",
        "| settle | 0.2 s | 0.0025 s: 20 EVALSHAs | 0.0125 | < 0.3 s | yes (1.50x) |",
        "| **tick loop** | | | | | |",
        "| ticks | 0.25 ms | 0.125 ms: 1 EVALSHA | 0.5 | < 1 ms | yes (4.00x) |",
    ]


def test_readme_table_has_the_declared_figures() -> None:
    text = report.README.read_text(encoding="utf-8")
    assert text.count(report.START) == 1 and text.count(report.END) == 1
    block = text.split(report.START, 1)[1].split(report.END, 1)[0]
    assert TABLE_HEADER in block, "refresh it: python bench/report.py --pin split --readme"
    lines = block.split(TABLE_HEADER, 1)[1].strip().splitlines()
    assert lines and all(line.startswith("| ") and line.endswith(" |") for line in lines)
    names = [line.split(" | ")[0][2:] for line in lines if not line.startswith("| **")]
    assert sorted(names) == sorted(report.figure_names())


def test_readme_scale_table_has_a_row_per_configuration() -> None:
    import scale_bench

    text = report.README.read_text(encoding="utf-8")
    block = text.split(scale_bench.START, 1)[1].split(scale_bench.END, 1)[0]
    assert scale_bench.HEADER in block, "refresh it: python bench/scale_bench.py --readme"
    rows = block.split(scale_bench.HEADER, 1)[1].strip().splitlines()
    configurations = [(row.split(" | ")[0][2:], int(row.split(" | ")[1])) for row in rows]
    assert configurations and set(configurations) <= {
        (kind, workers) for kind in ("single", "cluster") for workers in scale_bench.FULL.workers
    }
