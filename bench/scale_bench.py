"""Scale benchmark: market orders/s from many accounts at once, against 1, 2 and 4 server workers, over a single
Valkey and over a local three-primary Valkey Cluster.

Each configuration is a fresh `mockexchange serve --workers N` on a fresh Valkey (or cluster); the admin creates
ACCOUNTS accounts and funds each; CLIENTS client processes then send market orders for SECONDS, each client
cycling through its share of the accounts with their own trading keys (so every request also looks its key
up). Beside each figure: where the machine's CPU went during the load (server workers, Valkey, clients), as a
share of all cores, which says what limits it here.

Run: python bench/scale_bench.py [--quick] [--readme]   (--readme rewrites README.md's scale-report block)
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine, parser
from http_bench import free_port, percentile
from report import README, replace_block

from mockexchange_ccxt.engine import EmbeddedValkey
from mockexchange_ccxt.engine.local_cluster import LocalCluster

HEADER = (
    "| Valkey | server workers | market orders/s | p99 ms | not 201 | CPU in the load (of all cores) | limit |\n"
    "|---|---|---|---|---|---|---|"
)
START, END = "<!-- scale-report:start -->", "<!-- scale-report:end -->"
ADMIN_KEY = "scale-bench-admin"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Sizes:
    workers: tuple[int, ...]
    accounts: int
    clients: int
    seconds: float


FULL = Sizes(workers=(1, 2, 4), accounts=32, clients=8, seconds=5.0)
QUICK = Sizes(workers=(1, 2), accounts=4, clients=2, seconds=1.0)


@dataclass(frozen=True)
class Row:
    store: str
    workers: int
    orders_per_s: float
    p99_ms: float
    failed: int
    cpu: dict[str, float]  # share of all cores: workers, Valkey, clients, other (kernel, other programs)

    def limit(self) -> str:
        """What held the figure back, read from where the CPU went."""
        cores = os.cpu_count() or 1
        if sum(self.cpu.values()) >= 0.9:
            busiest = max(self.cpu, key=lambda name: self.cpu[name])
            return f"every core busy ({busiest} the most)"
        if self.cpu["workers"] >= 0.85 * min(self.workers, cores) / cores:
            return "the workers' Python, one core each at most"
        return "round trips: cores left idle while requests wait on Valkey and the network stack"

    def markdown(self) -> str:
        cpu = ", ".join(f"{name} {share:.0%}" for name, share in self.cpu.items())
        return (
            f"| {self.store} | {self.workers} | {self.orders_per_s:,.0f} | {self.p99_ms:.1f} | {self.failed} | "
            f"{cpu} | {self.limit()} |"
        )


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (a process that is gone counts nothing)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU time all cores spent not idle so far (every process on the machine, ours or not)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def call(conn: http.client.HTTPConnection, key: str, method: str, path: str, body: object = None) -> Any:
    headers = {"x-api-key": key, "Content-Type": "application/json"}
    conn.request(method, path, None if body is None else json.dumps(body), headers)
    response = conn.getresponse()
    data = response.read()
    return response.status, json.loads(data) if data else None


def client(port: int, keys: list[str], seconds: float, results: Any) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    latencies: list[float] = []
    failed, turn = 0, 0
    started_cpu = time.process_time()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        turn += 1
        body = {"symbol": "BTC/USDT", "side": ("buy", "sell")[turn % 2], "amount": "0.001"}
        start = time.perf_counter()
        status, _ = call(conn, keys[turn % len(keys)], "POST", "/orders", body)
        latencies.append(time.perf_counter() - start)
        failed += status != 201
    results.put((latencies, failed, time.process_time() - started_cpu))


def wait_ready(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if call(http.client.HTTPConnection("127.0.0.1", port, timeout=1), ADMIN_KEY, "GET", "/status")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit("the server did not start")


@contextmanager
def store(kind: str) -> Iterator[tuple[str, list[int]]]:
    """A fresh single Valkey or three-primary cluster: its URL and its server PIDs."""
    with tempfile.TemporaryDirectory() as tmp:
        if kind == "single":
            with EmbeddedValkey(Path(tmp) / "valkey", persistent=False, port=free_port()) as server:
                assert server.process is not None
                yield server.url, [server.process.pid]
        else:
            with LocalCluster(Path(tmp) / "cluster") as cluster:
                yield cluster.url, [node.process.pid for node in cluster.nodes if node.process is not None]


def measure(kind: str, workers: int, sizes: Sizes) -> Row:
    with store(kind) as (url, valkey_pids):
        port = free_port()
        env = {**os.environ, "REDIS_URL": url, "API_KEY": ADMIN_KEY, "API_SECRET": "s", "TICK_LOOP_SEC": "3600"}
        server = subprocess.Popen(
            [sys.executable, "-m", "mockexchange_ccxt", "serve", "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_ready(port)
            admin = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            call(admin, ADMIN_KEY, "POST", "/admin/price", {"symbol": "BTC/USDT", "price": "50000"})
            keys = []
            for index in range(sizes.accounts):
                name = f"acct{index}"
                keys.append(call(admin, ADMIN_KEY, "POST", "/admin/accounts", {"account": name})[1]["apiKey"])
                for asset, amount in (("USDT", "1000000000"), ("BTC", "1000000")):
                    body = {"asset": asset, "amount": amount, "account": name}
                    call(admin, ADMIN_KEY, "POST", "/admin/fund", body)
            server_pids = [server.pid, *children(server.pid)]
            results: Any = multiprocessing.Queue()
            shares = [keys[i :: sizes.clients] for i in range(sizes.clients)]
            procs = [
                multiprocessing.Process(target=client, args=(port, share, sizes.seconds, results)) for share in shares
            ]
            before = cpu_seconds(server_pids), cpu_seconds(valkey_pids), machine_busy_seconds()
            started = time.perf_counter()
            for proc in procs:
                proc.start()
            outcomes = [results.get() for _ in procs]
            elapsed = time.perf_counter() - started
            after = cpu_seconds(server_pids), cpu_seconds(valkey_pids), machine_busy_seconds()
            for proc in procs:
                proc.join()
        finally:
            os.killpg(server.pid, signal.SIGINT)
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
    latencies = [latency for part, _, _ in outcomes for latency in part]
    capacity = elapsed * (os.cpu_count() or 1)
    cpu = {
        "workers": (after[0] - before[0]) / capacity,
        "Valkey": (after[1] - before[1]) / capacity,
        "clients": sum(spent for _, _, spent in outcomes) / capacity,
    }
    cpu["other"] = max(0.0, (after[2] - before[2]) / capacity - sum(cpu.values()))  # the kernel, other programs
    return Row(
        kind,
        workers,
        len(latencies) / sizes.seconds,
        percentile(latencies, 0.99) * 1000 if latencies else 0.0,
        sum(failed for _, failed, _ in outcomes),
        cpu,
    )


def run(sizes: Sizes) -> list[Row]:
    return [measure(kind, workers, sizes) for kind in ("single", "cluster") for workers in sizes.workers]


def render(rows: list[Row], sizes: Sizes, quick: bool) -> str:
    median = statistics.median(row.orders_per_s for row in rows) if rows else 0
    lines = [
        f"Measured on {machine()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"{'quick sizes (a smoke run)' if quick else 'full sizes'}: {sizes.accounts} accounts, "
        f"{sizes.clients} client processes, {sizes.seconds:g} s per configuration (median {median:,.0f} orders/s).",
        "",
        HEADER,
        *(row.markdown() for row in rows),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--readme", action="store_true", help="also replace the scale-report block of README.md")
    args = p.parse_args()
    sizes = QUICK if args.quick else FULL
    document = render(run(sizes), sizes, args.quick)
    if args.readme:
        README.write_text(replace_block(README.read_text(encoding="utf-8"), document, START, END), encoding="utf-8")
    print(document, end="")


if __name__ == "__main__":
    main()
