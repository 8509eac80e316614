"""``mockexchange serve``: the REST app under granian, with the embedded Valkey and an API key when needed.

The parent process owns what must exist once: the embedded valkey-server (when ``REDIS_URL`` is unset) and a
generated admin key and secret (when none is configured). Workers configure themselves from the environment
(``mockexchange_ccxt.web.wsgi``), so they are handed to them as ``REDIS_URL``, ``API_KEY`` and ``API_SECRET``.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import os
import secrets
import signal
import socket
import threading
import time

from .config import PLACEHOLDER_API_KEY, Settings
from .engine import EmbeddedValkey

#: The WSGI target every worker imports.
WSGI_TARGET = "mockexchange_ccxt.web.wsgi:app"
#: Seconds granian waits before it replaces a worker that died.
WORKER_RESPAWN_SEC = 1.0
#: The environment variable that gives the workers the PID of the ``serve`` process that started them.
SERVE_PID = "MOCKEXCHANGE_SERVE_PID"
#: How often a worker looks whether its ``serve`` process is still there (seconds).
PARENT_POLL_SEC = 0.5


class ServeError(RuntimeError):
    """The server could not start (the address is in use, say)."""


# -- the flags of ``mockexchange serve`` (argparse types: a ValueError is a usage error) -----------------


def port_number(text: str) -> int:
    """A TCP port to listen on: 1 to 65535."""
    port = int(text)
    if not 1 <= port <= 65535:
        raise ValueError(text)
    return port


def worker_count(text: str) -> int:
    """A number of worker processes: at least one."""
    count = int(text)
    if count < 1:
        raise ValueError(text)
    return count


def host_address(text: str) -> str:
    """An IP address to bind (the server binds addresses, not names)."""
    return str(ipaddress.ip_address(text))


# argparse names the expected kind after the function in "argument --port: invalid ... value"
port_number.__name__ = "port (1 to 65535)"
worker_count.__name__ = "worker count (1 or more)"
host_address.__name__ = "IP address (such as 127.0.0.1 or 0.0.0.0)"


def needs_generated_key(settings: Settings) -> bool:
    """True when auth is on but no usable key is configured (unset or the seed's placeholder)."""
    return settings.auth_required and settings.api_key in ("", PLACEHOLDER_API_KEY)


#: Threads per worker serving requests (each holds one Valkey connection). Two, whatever the cores: a worker
#: runs Python in one thread at a time (the GIL), so a second thread only has to cover the first one's wait
#: for Valkey (and keep a slow request, a big settlement, from holding up the quick ones). More threads add
#: nothing but handing the GIL back and forth: with 2 workers and 16 clients, five threads per worker cost
#: about 8 % more worker CPU per order than two (median of six interleaved runs on a busy machine, 378 vs
#: 350 us; fewer context switches per order, about 3.8 vs 4.6) and a longer p99 (the GIL serves waiting
#: threads in no particular order; granian's queue serves requests in turn).
WORKER_THREADS = 2


def claim_port(host: str, port: int) -> socket.socket | None:
    """Refuse a port something listens on, and keep other servers off it while granian starts.

    granian's workers bind with SO_REUSEPORT, so a second server on a busy port would start and take half
    the connections. A probe without SO_REUSEPORT fails on any listener (and on another server's guard),
    while TIME_WAIT leftovers do not stop it (SO_REUSEADDR). The guard returned, bound with SO_REUSEPORT but
    never listening, lets our own workers bind and makes every later probe fail; close it when serving ends.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            reason = "address in use" if exc.errno == errno.EADDRINUSE else exc.strerror or str(exc)
            raise ServeError(f"cannot serve on {host}:{port}: {reason}") from None
    guard = socket.socket(family, socket.SOCK_STREAM)
    try:
        guard.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        guard.bind((host, port))
    except OSError:  # the probe passed: serve without the guard rather than refuse a free port
        guard.close()
        return None
    return guard


def serve(host: str, port: int, workers: int, settings: Settings) -> int:
    """Serve the REST API until interrupted; returns the process exit code.

    ``settings`` decide the embedded Valkey and the API key; the workers read every other setting from the
    environment, as ``mockexchange_ccxt.web.wsgi`` does under any WSGI server.
    """
    from granian import Granian
    from granian.constants import Interfaces

    embedded: EmbeddedValkey | None = None
    guard = claim_port(host, port)
    try:
        redis_url = settings.redis_url
        if redis_url is None:
            embedded = EmbeddedValkey(settings.data_dir)
            redis_url = embedded.start()
            print(f"Embedded Valkey: {redis_url} (data in {settings.data_dir})", flush=True)
        os.environ["REDIS_URL"] = redis_url
        os.environ[SERVE_PID] = str(os.getpid())
        if needs_generated_key(settings):
            api_key = secrets.token_urlsafe(24)
            os.environ["API_KEY"] = api_key
            print(f"API key: {api_key}", flush=True)
            print("(generated; set API_KEY to choose your own; clients send it as the x-api-key header)", flush=True)
        if settings.auth_required and not settings.api_secret:
            api_secret = secrets.token_urlsafe(32)
            os.environ["API_SECRET"] = api_secret
            print(f"API secret: {api_secret}", flush=True)
            print("(generated; set API_SECRET to choose your own; it signs requests of API_KEY)", flush=True)
        if settings.test_env:
            print("TEST_ENV=true: no API key required; OpenAPI docs at /docs", flush=True)
        print(f"Serving mockexchange on http://{host}:{port} ({workers} worker(s))", flush=True)
        server = Granian(
            WSGI_TARGET,
            address=host,
            port=port,
            interface=Interfaces.WSGI,
            workers=workers,
            blocking_threads=WORKER_THREADS,
            websockets=False,
            respawn_failed_workers=True,  # a crashed or killed worker is replaced; the others keep serving
            respawn_interval=WORKER_RESPAWN_SEC,
        )
        try:
            server.serve()
        except SystemExit as exc:  # granian exits non-zero when a worker cannot start
            return exc.code if isinstance(exc.code, int) else 1
        except (OSError, RuntimeError) as exc:  # granian's bind errors carry a Rust backtrace: keep line one
            lines = str(exc).strip().splitlines() or [type(exc).__name__]
            raise ServeError(f"cannot serve on {host}:{port}: {lines[0]}") from None
        return 0
    finally:
        if embedded is not None:
            embedded.stop()
        if guard is not None:
            with contextlib.suppress(OSError):
                guard.close()


def exit_with_serve() -> None:
    """In a worker that ``serve`` started: end the worker when ``serve`` is gone, even after a ``kill -9`` of it,
    so no orphan keeps the port and answers 503 from a Valkey that went with it. A thread polls the parent PID
    (a death signal set by prctl would fire when the thread that forked the worker ends, which in granian need
    not be the main one). Under any other server (the variable unset) it does nothing."""
    expected = os.environ.get(SERVE_PID)
    if not expected or not expected.isdigit():
        return

    def watch() -> None:
        while os.getppid() == int(expected):
            time.sleep(PARENT_POLL_SEC)
        os.kill(os.getpid(), signal.SIGTERM)  # as a stop of serve would: the tick loop and requests end

    threading.Thread(target=watch, name="mockexchange-serve-watch", daemon=True).start()
