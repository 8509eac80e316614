"""HTTP benchmark: market orders/s with p50/p99 from concurrent clients against the served app (granian),
and GET /balance p99 while 10,000 resting limits settle.

Run: python bench/http_bench.py [--quick] [--workers 2] [--clients 8] [--seconds 5]
Server and load share this machine's cores, as the targets (DESIGN.md section 9) assume.
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Figure, machine, parser

from mockexchange_ccxt.engine import EmbeddedValkey

API_KEY = "bench-key"
HEADERS = {"x-api-key": API_KEY, "Content-Type": "application/json"}


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


def run(quick: bool, workers: int, clients: int, seconds: float) -> list[Figure]:
    port = free_port()
    with EmbeddedValkey(persistent=False) as valkey:
        env = {**os.environ, "REDIS_URL": valkey.url, "API_KEY": API_KEY, "TICK_LOOP_SEC": "3600"}
        server = subprocess.Popen(
            [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(workers), "--no-ws", "--log-level", "warning", "mockexchange_ccxt.web.wsgi:app"],
            env=env,
        )  # fmt: skip
        try:
            wait_ready(port)
            admin = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            request(admin, "POST", "/admin/reset", {})
            request(admin, "POST", "/admin/price", {"symbol": "BTC/USDT", "price": "50000"})
            request(admin, "POST", "/admin/fund", {"asset": "USDT", "amount": "1000000000"})
            request(admin, "POST", "/admin/fund", {"asset": "BTC", "amount": "1000000"})
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
            figures = [
                Figure(
                    f"HTTP market orders, {clients} clients, {workers} workers",
                    len(latencies) / seconds,
                    "orders/s",
                    3000,
                ),
                Figure("  p50 latency", statistics.median(latencies) * 1000, "ms", None, False),
                Figure("  p99 latency", percentile(latencies, 0.99) * 1000, "ms", 25, False),
            ]
            if errors:
                figures.append(Figure("  failed requests", errors, "", None))
            figures.append(balance_during_settlement(port, 1000 if quick else 10_000))
            return figures
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(10)


def balance_during_settlement(port: int, resting: int) -> Figure:
    """Place ``resting`` limits, then cross them all with one price while a reader polls GET /balance."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for i in range(resting):
        request(conn, "POST", "/orders", {"symbol": "ETH/USDT", "side": "buy", "type": "limit", "amount": "0.001",
                                          "price": f"{2000 + (i % 500) / 100:.2f}"}) if i else request(
            conn, "POST", "/admin/price", {"symbol": "ETH/USDT", "price": "3000"})  # fmt: skip
    if resting:
        request(conn, "POST", "/orders", {"symbol": "ETH/USDT", "side": "buy", "type": "limit", "amount": "0.001",
                                          "price": "2000"})  # fmt: skip
    latencies: list[float] = []
    stop = threading.Event()

    def poll() -> None:
        reader = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while not stop.is_set():
            start = time.perf_counter()
            request(reader, "GET", "/balance")
            latencies.append(time.perf_counter() - start)

    thread = threading.Thread(target=poll)
    thread.start()
    time.sleep(0.2)
    start = time.perf_counter()
    _, body = request(conn, "POST", "/admin/price", {"symbol": "ETH/USDT", "price": "1999"})
    settle = time.perf_counter() - start
    time.sleep(0.2)
    stop.set()
    thread.join()
    filled = json.loads(body)["filled"]
    print(f"  (settled {filled} resting limits over HTTP in {settle:.3f} s)")
    return Figure(
        f"GET /balance p99 while {resting:,} limits settle", percentile(latencies, 0.99) * 1000, "ms", 50, False
    )


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--seconds", type=float, default=5.0)
    args = p.parse_args()
    seconds = 1.0 if args.quick else args.seconds
    print(f"HTTP benchmark on {machine()}")
    for figure in run(args.quick, args.workers, args.clients, seconds):
        print(figure.line())


if __name__ == "__main__":
    main()
