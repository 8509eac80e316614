"""HTTP benchmark: market orders/s with p50/p99 from concurrent clients against the served app (granian),
and GET /balance p99 while 10,000 resting limits settle.

Run: python bench/http_bench.py [--quick] [--workers 2] [--clients 16] [--seconds 5]
Server and load share this machine's cores, as the targets (DESIGN.md section 9) assume; nothing is pinned. The
floor (this process's round trip to the server's Valkey) is measured on the same Valkey before the load.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Figure, Group, Metric, RoundTrips, emit, parser, print_figures, timed

from mockexchange_ccxt import Settings
from mockexchange_ccxt.engine import EmbeddedValkey
from mockexchange_ccxt.engine.store import Store

API_KEY = "bench-key"
HEADERS = {"x-api-key": API_KEY, "Content-Type": "application/json"}


@dataclass(frozen=True)
class Sizes:
    """The load (client processes for ``seconds`` against ``workers``) and the resting limits that settle."""

    workers: int
    clients: int
    seconds: float
    resting: int


FULL = Sizes(workers=2, clients=16, seconds=5.0, resting=10_000)
QUICK = Sizes(workers=2, clients=4, seconds=1.0, resting=1000)

ORDERS = Metric(Group.HTTP, "POST /orders (market), {clients} client processes, {workers} workers", "orders/s", 3500)
P50 = Metric(Group.HTTP, "POST /orders p50 latency", "ms", None, False)
P99 = Metric(Group.HTTP, "POST /orders p99 latency", "ms", 25, False)
FAILED = Metric(Group.HTTP, "POST /orders answered other than 201", "requests", None, False)
SETTLE = Metric(Group.SETTLEMENT, "settle {resting:,} resting limits via POST /admin/price", "s", None, False)
BALANCE = Metric(Group.SETTLEMENT, "GET /balance p99 while {resting:,} limits settle", "ms", 50, False)
METRICS = (ORDERS, P50, P99, FAILED, SETTLE, BALANCE)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def request(conn: http.client.HTTPConnection, method: str, path: str, body: object = None) -> tuple[int, bytes]:
    conn.request(method, path, None if body is None else json.dumps(body), HEADERS)
    response = conn.getresponse()
    return response.status, response.read()


def client(port: int, seconds: float, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    side = 0
    while time.perf_counter() < deadline:
        side ^= 1
        start = time.perf_counter()
        status, _ = request(
            conn, "POST", "/orders", {"symbol": "BTC/USDT", "side": ("buy", "sell")[side], "amount": "0.001"}
        )
        latencies.append(time.perf_counter() - start)
        errors += status != 201
    results.put((latencies, errors))


def wait_ready(port: int) -> None:
    for _ in range(200):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            if request(conn, "GET", "/status")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit("server did not start")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@contextmanager
def served(workers: int) -> Iterator[tuple[int, str]]:
    """``mockexchange serve`` (what users run: granian, its workers and threads) on a fresh, non-persistent
    Valkey, funded for trading; yields its port and the Valkey's URL."""
    port = free_port()
    with EmbeddedValkey(persistent=False) as valkey:
        env = {**os.environ, "REDIS_URL": valkey.url, "API_KEY": API_KEY, "TICK_LOOP_SEC": "3600"}
        server = subprocess.Popen(
            [sys.executable, "-m", "mockexchange_ccxt", "serve", "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_ready(port)
            admin = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            request(admin, "POST", "/admin/reset", {})
            request(admin, "POST", "/admin/price", {"symbol": "BTC/USDT", "price": "50000"})
            request(admin, "POST", "/admin/fund", {"asset": "USDT", "amount": "1000000000"})
            request(admin, "POST", "/admin/fund", {"asset": "BTC", "amount": "1000000"})
            yield port, valkey.url
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(10)


def order_load(port: int, clients: int, seconds: float) -> dict[Metric, float]:
    """``clients`` processes (not threads: the GIL would cap the load) send market orders for ``seconds``."""
    results: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    procs = [multiprocessing.Process(target=client, args=(port, seconds, results)) for _ in range(clients)]
    for proc in procs:
        proc.start()
    latencies: list[float] = []
    errors = 0
    for _ in procs:
        part, failed = results.get()
        latencies += part
        errors += failed
    for proc in procs:
        proc.join()
    return {
        ORDERS: len(latencies) / seconds,
        P50: statistics.median(latencies) * 1000,
        P99: percentile(latencies, 0.99) * 1000,
        FAILED: errors,
    }


def balance_during_settlement(port: int, resting: int) -> dict[Metric, float]:
    """Place ``resting`` limits, then cross them all with one price while a reader polls GET /balance."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    request(conn, "POST", "/admin/price", {"symbol": "ETH/USDT", "price": "3000"})
    for i in range(resting):
        price = f"{2000 + (i % 500) / 100:.2f}"
        order = {"symbol": "ETH/USDT", "side": "buy", "type": "limit", "amount": "0.001", "price": price}
        request(conn, "POST", "/orders", order)
    latencies: list[float] = []
    stop = threading.Event()

    def poll() -> None:
        reader = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while not stop.is_set():
            latencies.append(timed(lambda: request(reader, "GET", "/balance")))

    thread = threading.Thread(target=poll)
    thread.start()
    time.sleep(0.2)
    start = time.perf_counter()
    _, body = request(conn, "POST", "/admin/price", {"symbol": "ETH/USDT", "price": "1999"})
    settle = time.perf_counter() - start
    time.sleep(0.2)
    stop.set()
    thread.join()
    assert json.loads(body)["filled"] == resting, "every order should have filled"
    return {SETTLE: settle, BALANCE: percentile(latencies, 0.99) * 1000}


def run(sizes: Sizes) -> list[Figure]:
    with served(sizes.workers) as (port, url):
        store = Store(url)
        trips = RoundTrips.measure(store)
        store.close()
        values = order_load(port, sizes.clients, sizes.seconds)
        values.update(balance_during_settlement(port, sizes.resting))
    # the fewest script calls that settle them, in batches of the server's SETTLE_BATCH (it has our environment)
    settle_calls = -(-sizes.resting // Settings.from_env().settle_batch)
    floors = {
        ORDERS: trips.rate(),
        P50: trips.time(1e-3),
        P99: trips.time(1e-3),
        SETTLE: trips.time(1, settle_calls),
        BALANCE: trips.time(1e-3, script=False),
    }
    return emit(METRICS, values, sizes, floors)


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--workers", type=int, help=f"granian workers (default {FULL.workers})")
    p.add_argument("--clients", type=int, help=f"client processes (default {FULL.clients})")
    p.add_argument("--seconds", type=float, help=f"load duration (default {FULL.seconds}, {QUICK.seconds} quick)")
    args = p.parse_args()
    overrides = {name: getattr(args, name) for name in ("workers", "clients", "seconds")}
    sizes = replace(QUICK if args.quick else FULL, **{k: v for k, v in overrides.items() if v is not None})
    print_figures("HTTP benchmark", run(sizes))


if __name__ == "__main__":
    main()
