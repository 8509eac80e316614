"""Run every benchmark (engine, ccxt class, HTTP, market data, memory) and write one markdown report: the
machine and what was pinned, then a table of each figure next to its floor (what one thread's round trip to
Valkey allows, measured in the same run), its ratio to that floor, and its target (DESIGN.md section 9, issues 15
and 18).

Run: python bench/report.py [--quick] [--pin [same|split]] [--out PATH] [--readme]
It prints the report; --out also writes it to a file, --readme puts it between README.md's bench-report markers
(the one published copy).
"""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import book_bench
import engine_bench
import exchange_bench
import http_bench
import market_bench
import memory_bench
from common import Figure, Pin, machine, markdown_table, parser, pinning

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
START, END = "<!-- bench-report:start -->", "<!-- bench-report:end -->"
BENCHES = (engine_bench, exchange_bench, http_bench, market_bench, book_bench, memory_bench)


def figure_names() -> list[str]:
    """The names a full run emits, read from each bench's declared metrics without running anything."""
    return [metric.label(bench.FULL) for bench in BENCHES for metric in bench.METRICS]


def collect(quick: bool, pin: Pin | None) -> list[Figure]:
    """One bench after the other, never together (they would measure each other). --pin applies to the in-process
    benches only: the HTTP one needs every core for its server workers and client processes."""
    engine, exchange, http, market, book, memory = (bench.QUICK if quick else bench.FULL for bench in BENCHES)
    return [
        *engine_bench.run(engine, pin),
        *exchange_bench.run(exchange, pin),
        *http_bench.run(http),
        *market_bench.run(market, pin),
        *book_bench.run(book, pin),
        *memory_bench.run(memory, pin),
    ]


def git_commit() -> str:
    """Short hash of HEAD, marked when the code differs from it; ``unknown`` without git."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        # README.md is left out: the report's own block in it changes nothing that is measured
        code = [".", ":!README.md"]
        clean = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", *code], cwd=ROOT, capture_output=True)
    except OSError:
        return "unknown"
    if head.returncode != 0:
        return "unknown"
    return head.stdout.strip() + ("" if clean.returncode == 0 else " + uncommitted changes")


def heading(quick: bool, pin: Pin | None) -> str:
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    sizes = "quick sizes (a smoke run, not the targets' sizes)" if quick else "full sizes"
    pinned = (
        f"in-process benches: {pinning(pin)}; HTTP bench: server, clients and Valkey not pinned"
        if pin is not None
        else "nothing pinned (clients, servers and Valkey on any core)"
    )
    return f"Measured on {machine()}; {when}; commit {git_commit()}; {sizes}; {pinned}."


def render(figures: list[Figure], quick: bool, pin: Pin | None) -> str:
    return f"{heading(quick, pin)}\n\n{markdown_table(figures)}\n"


def replace_block(text: str, block: str, start: str = START, end: str = END) -> str:
    """``text`` with what lies between the markers replaced by ``block``; fails when the markers are missing."""
    pattern = re.compile(f"{re.escape(start)}\n.*?{re.escape(end)}", re.S)
    if not pattern.search(text):
        raise SystemExit(f"README.md has no {start} ... {end} block")
    return pattern.sub(lambda _: f"{start}\n{block}{end}", text, count=1)


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--out", type=Path, help="also write the report to this file")
    p.add_argument("--readme", action="store_true", help="also replace the bench-report block of README.md")
    args = p.parse_args()
    document = render(collect(args.quick, args.pin), args.quick, args.pin)
    if args.out is not None:
        args.out.write_text(document, encoding="utf-8")
    if args.readme:
        README.write_text(replace_block(README.read_text(encoding="utf-8"), document), encoding="utf-8")
    print(document, end="")


if __name__ == "__main__":
    main()
