"""Real HTTP servers for tests: the Falcon app in a thread of the test process (``serving``), or
``mockexchange serve`` (granian and its workers) as a child process (``start_server``)."""

from __future__ import annotations

import ctypes
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import requests
from tests_helpers import free_port

from mockexchange_ccxt import Engine
from mockexchange_ccxt.config import ENV_VARS
from mockexchange_ccxt.web import create_app


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


@contextmanager
def serving(engine: Engine) -> Iterator[str]:
    """Serve ``create_app(engine)`` on a free loopback port; yields the base URL."""
    server = make_server("127.0.0.1", 0, create_app(engine), server_class=_ThreadingServer, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Server:
    """``mockexchange serve`` running as a child process, with its output in ``log``."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> int:
        """SIGTERM to the server (granian's main process, which stops its workers), SIGKILL to its whole process
        group if it lingers. Not SIGTERM to the group: a worker that the signal ends before granian has asked it
        to stop counts as an unexpected exit, and granian then exits 1."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode

    def worker_pids(self) -> list[int]:
        """The PIDs of the granian worker processes (the children of the serving process)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return sorted(int(pid) for pid in children)


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the test process dies, so a killed test run leaks no server."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG


def start_server(log: Path, env: dict[str, str], api_key: str | None, workers: int = 1) -> Server:
    """Start ``python -m mockexchange_ccxt serve`` in its own process group and wait until /status answers and
    every worker has started (on a loaded machine one worker may start seconds after the other: a test would
    then talk to one worker only, and granian stopped while a worker is still starting hangs until killed).

    ``api_key`` is the key to probe with; ``None`` means the server generates one and prints it."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if k not in ENV_VARS and k != "MOCKX_URL"}
    environ.update(env, PYTHONUNBUFFERED="1")
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "mockexchange_ccxt", "serve", "--port", str(port), "--workers", str(workers)],
            env=environ,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                raise AssertionError(f"serve exited with {process.returncode}:\n{server.output()}")
            key = api_key or generated_key(server)
            try:
                answered = key and requests.get(server.url + "/status", headers={"x-api-key": key}, timeout=2).ok
                if answered and len(set(re.findall(r"Started worker-(\d+)", server.output()))) >= workers:
                    return server
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"serve did not answer in time:\n{server.output()}")
            time.sleep(0.05)
    except BaseException:
        server.stop()
        raise


def generated_key(server: Server) -> str | None:
    found = re.search(r"^API key: (\S+)$", server.output(), re.MULTILINE)
    return found.group(1) if found else None
