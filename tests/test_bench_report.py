"""The benchmark report: how a figure renders as a markdown row, and that README's table is the one
bench/report.py renders, with exactly the figures the benchmarks declare."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import report
from common import TABLE_HEADER, Figure, Group, markdown_table


def test_table_rows_and_ratios() -> None:
    figures = [
        Figure("ticks", 0.25, "ms", 1.0, False, group=Group.TICKS),
        Figure("orders", 2153.4, "orders/s", 10_000, group=Group.ENGINE),
        Figure("placements", 1711, "orders/s", None, group=Group.ENGINE),
        Figure("replay", 12_500, "ticks/s", 10_000, group=Group.BACKTEST),
    ]
    assert markdown_table(figures).splitlines() == [
        *TABLE_HEADER.splitlines(),
        "| **in-process engine** | | | |",
        "| orders | 2,153 orders/s | >= 10,000 orders/s | 0.22x (not met) |",
        "| placements | 1,711 orders/s | - | - |",
        "| **tick loop** | | | |",
        "| ticks | 0.25 ms | < 1 ms | 4.00x (met) |",
        "| **back-test** | | | |",
        "| replay | 12,500 ticks/s | >= 10,000 ticks/s | 1.25x (met) |",
    ]


def test_readme_table_has_the_declared_figures() -> None:
    text = report.README.read_text(encoding="utf-8")
    assert text.count(report.START) == 1 and text.count(report.END) == 1
    block = text.split(report.START, 1)[1].split(report.END, 1)[0]
    assert TABLE_HEADER in block, "refresh it: python bench/report.py --readme"
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
