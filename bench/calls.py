"""Python function calls per operation on each face's hot path, counted by cProfile: a figure that does not
depend on the machine's load, for judging a change to the Python that runs per call (issue 15, item 3).

Run: python bench/calls.py [PATH ...] [--top N] [--ops N]
PATH is one of the paths below (default: all). For each, it prints the calls per operation in total and by
where they run (the package's modules, ccxt, falcon, the Valkey client, the standard library), the CPU time per
operation without the profiler, and with --top the N functions called most per operation. With --faces-only
the engine answers from a recording, so what is counted and timed is the faces' own Python (the figure to
compare before and after a change to them).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from http_bench import API_KEY, served

from mockexchange_ccxt import Engine, MockExchange, Settings
from mockexchange_ccxt.routes import Call, dispatch
from mockexchange_ccxt.web import create_app

ORDER = {"symbol": "BTC/USDT", "side": "buy", "amount": "0.001"}

#: where a function runs, by the first match on its file's path
AREAS = (
    ("mockexchange_ccxt/web", "package: web"),
    ("mockexchange_ccxt/exchange", "package: exchange"),
    ("mockexchange_ccxt/routes", "package: routes"),
    ("mockexchange_ccxt/engine", "package: engine"),
    ("mockexchange_ccxt", "package: other"),
    ("/ccxt/", "ccxt"),
    ("/falcon/", "falcon"),
    ("/redis/", "valkey client (redis-py)"),
    ("/requests/", "requests + urllib3"),
    ("/urllib3/", "requests + urllib3"),
)


def area(filename: str) -> str:
    return next((name for marker, name in AREAS if marker in filename), "standard library and builtins")


def wsgi_post(app: Any, path: str, body: dict[str, Any]) -> Callable[[], object]:
    """A POST handed to the WSGI app in memory, as a server would: the app's own cost, without the server's."""
    data = json.dumps(body).encode()

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        assert status.startswith("201"), status

    def post() -> object:
        env = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "localhost",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(data)),
            "HTTP_X_API_KEY": API_KEY,
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(data),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "wsgi.version": (1, 0),
        }
        return b"".join(app(env, start_response))

    return post


def replay_answers(engine: Engine) -> None:
    """From now on each engine method a path calls answers what its first call answered, without Valkey: what
    is left to count and time is the faces' own Python (validation, parsing, JSON, dispatch, the ccxt class)."""
    for name in ("create_order", "fetch_order", "fetch_balance"):
        real = getattr(engine, name)
        recorded: list[Any] = []

        def replayed(*args: Any, _real: Any = real, _recorded: list[Any] = recorded, **kwargs: Any) -> Any:
            if not _recorded:
                _recorded.append(_real(*args, **kwargs))
            return _recorded[0]

        setattr(engine, name, replayed)


def paths(engine: Engine, url: str, faces_only: bool) -> dict[str, Callable[[], object]]:
    """Each path's operation: a market buy of 0.001 BTC, except where the name says otherwise; ``url`` is
    ``mockexchange serve`` on the engine's Valkey (its one worker's calls are not counted: another process)."""
    local = MockExchange({"options": {"redisUrl": engine.store.url, "tickLoop": False}})
    remote = MockExchange({"apiKey": API_KEY, "options": {"serverUrl": url}})
    local.load_markets()
    remote.load_markets()
    order_id = engine.create_order("BTC/USDT", "buy", "limit", "0.001", "40000")["id"]
    if faces_only:
        replay_answers(engine)
        replay_answers(local.engine)
    return {
        "engine": lambda: engine.create_order("BTC/USDT", "buy", "market", "0.001"),
        "dispatch": lambda: dispatch(engine, Call("create_order", body=dict(ORDER))),
        "wsgi": wsgi_post(create_app(engine), "/orders", ORDER),
        "class": lambda: local.create_order("BTC/USDT", "market", "buy", 0.001),
        "class-fetch-order": lambda: local.fetch_order(order_id),
        "class-balance": lambda: local.fetch_balance(),
        "class-http": lambda: remote.create_order("BTC/USDT", "market", "buy", 0.001),
    }


def cpu_micros(operation: Callable[[], object], ops: int) -> float:
    """CPU time of this process per operation, in us, unprofiled: the Python's cost without the waits for
    Valkey or the server (time spent blocked in a socket is not CPU time), so less sensitive to a loaded
    machine than wall time; the best of 20 rounds, which leaves out the rounds another program slowed."""
    best, size = float("inf"), max(1, ops // 4)
    for _ in range(20):
        start = time.process_time()
        for _ in range(size):
            operation()
        best = min(best, time.process_time() - start)
    return best / size * 1e6


def count(operation: Callable[[], object], ops: int) -> pstats.Stats:
    operation()  # warm: markets loaded, scripts known, connections open
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(ops):
        operation()
    profile.disable()
    return pstats.Stats(profile)


def report(name: str, stats: pstats.Stats, ops: int, top: int, cpu: float) -> None:
    by_area: Counter[str] = Counter()
    by_function: Counter[str] = Counter()
    for (filename, line, function), (_, calls, *_rest) in stats.stats.items():  # type: ignore[attr-defined]
        by_area[area(filename)] += calls
        by_function[f"{filename.rsplit('site-packages/', 1)[-1]}:{line}({function})"] += calls
    total = sum(by_area.values())
    print(f"{name}: {total / ops:,.0f} calls per operation, {cpu:,.1f} us of CPU (unprofiled)")
    for where, calls in by_area.most_common():
        print(f"  {calls / ops:8,.1f}  {where}")
    for function, calls in by_function.most_common(top):
        print(f"      {calls / ops:8,.1f}  {function}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="*", help="paths to count (default: all)")
    p.add_argument("--top", type=int, default=0, help="also list the N functions called most")
    p.add_argument("--ops", type=int, default=200, help="operations counted per path")
    p.add_argument(
        "--faces-only",
        action="store_true",
        help="the engine answers what it answered first, without Valkey: count and time the faces alone",
    )
    args = p.parse_args()
    with served(1) as (port, url), Engine(Settings(redis_url=url, api_key=API_KEY)) as engine:
        operations = paths(engine, f"http://127.0.0.1:{port}", args.faces_only)
        for name in args.paths or operations:
            if name not in operations:
                raise SystemExit(f"unknown path {name!r}: one of {', '.join(operations)}")
            stats = count(operations[name], args.ops)
            report(name, stats, args.ops, args.top, cpu_micros(operations[name], args.ops))


if __name__ == "__main__":
    main()
