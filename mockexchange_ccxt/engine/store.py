"""The Valkey client: one connection per thread, a Lua script registry, and errors turned into engine errors.

Why not plain ``redis.Redis``: a pooled ``execute_command`` costs about twice a raw request/response on the
same connection, and the engine's hot path is one or two round trips per order. Each thread therefore keeps
one connection from the pool and talks to it directly; after a ``fork`` the child opens its own.

Failure rules: a request that could not be *sent* is retried once on a fresh connection (Valkey restarted, the
old socket was dead). A request whose *reply* was lost is not retried when it writes (it may have run), and
surfaces as ``StoreUnavailable``: the caller re-reads state, as with any exchange whose connection dropped.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from dataclasses import dataclass
from importlib import resources
from typing import Any

import hiredis
import redis
from redis.connection import AbstractConnection

from ..errors import ERRORS_BY_CODE, InternalError, MockExchangeError, StoreUnavailable

_CONNECTION_ERRORS = (redis.ConnectionError, redis.TimeoutError, OSError)


@dataclass(frozen=True)
class Script:
    """One Lua file of ``engine/lua`` with ``lib.lua`` (the shared helpers) in front, and its EVALSHA name."""

    name: str
    source: str
    sha: str

    @classmethod
    def load(cls, name: str) -> Script:
        folder = resources.files(__package__).joinpath("lua")
        source = folder.joinpath("lib.lua").read_text(encoding="utf-8") + folder.joinpath(f"{name}.lua").read_text(
            encoding="utf-8"
        )
        return cls(name, source, hashlib.sha1(source.encode()).hexdigest())


class Store:
    """Valkey access for the engine; every method raises only ``MockExchangeError`` subclasses."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url
        self._pool = redis.ConnectionPool.from_url(
            url,
            decode_responses=True,
            encoding_errors="replace",  # a feed may write any bytes: they must read as "not a number", not crash
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
        )
        self._local = threading.local()
        self._scripts: dict[str, Script] = {}

    # -- connections -------------------------------------------------------------------------------------

    def _connection(self) -> AbstractConnection:
        lease: _Lease | None = getattr(self._local, "lease", None)
        if lease is None or lease.pid != os.getpid():
            lease = self._local.lease = _Lease(self._pool)
        return lease.conn

    def _drop_connection(self) -> None:
        lease: _Lease | None = getattr(self._local, "lease", None)
        if lease is not None:
            lease.conn.disconnect()  # type: ignore[no-untyped-call,unused-ignore]

    def close(self) -> None:
        """Close this thread's connection and the pool (other threads reconnect on their next call)."""
        self._drop_connection()
        self._local = threading.local()
        self._pool.disconnect()

    # -- commands ----------------------------------------------------------------------------------------

    def call(self, *args: Any, writes: bool = True) -> Any:
        """Send one command and return its reply."""
        return self.pipeline([args], writes=writes)[0]

    def read(self, *args: Any) -> Any:
        """A read-only command: retried once if the connection broke at any point."""
        return self.pipeline([args], writes=False)[0]

    def pipeline(
        self, commands: list[tuple[Any, ...]], writes: bool = True, errors_as_values: bool = False
    ) -> list[Any]:
        """Send several commands in one write and read every reply (not atomic; ordered on one connection).

        An error reply is raised after all replies are read, so the connection stays in step; with
        ``errors_as_values`` it is returned in its place instead (a bad feed hash must not hide the others).
        """
        for attempt in (1, 2):
            try:
                conn = self._connection()
                if conn.can_read(timeout=0):  # type: ignore[no-untyped-call,unused-ignore]
                    # Readable before we asked anything: the server closed it (restart, idle kill). A write
                    # sent into it would be lost without a trace, so start over on a fresh connection.
                    conn.disconnect()  # type: ignore[no-untyped-call,unused-ignore]
                # hiredis packs in C, several times faster than redis-py's pure-Python packer
                packed = b"".join([hiredis.pack_command(command) for command in commands])
                conn.send_packed_command([packed], check_health=False)  # type: ignore[no-untyped-call,unused-ignore]
            except _CONNECTION_ERRORS as exc:
                self._drop_connection()
                if attempt == 2:
                    raise StoreUnavailable(f"Valkey is unreachable: {exc}") from None
                continue
            replies: list[Any] = []
            try:
                for _ in commands:
                    try:
                        replies.append(conn.read_response())
                    except redis.ResponseError as exc:
                        replies.append(exc)
            except _CONNECTION_ERRORS as exc:
                self._drop_connection()
                if writes or attempt == 2:
                    raise StoreUnavailable(f"Valkey connection lost: {exc}") from None
                continue
            if not errors_as_values:
                for reply in replies:
                    if isinstance(reply, redis.ResponseError):
                        raise self._translate(reply)
            return replies
        raise AssertionError("unreachable")

    def ping(self) -> bool:
        return bool(self.read("PING"))

    # -- scripts -----------------------------------------------------------------------------------------

    def script(self, name: str) -> Script:
        script = self._scripts.get(name)
        if script is None:
            script = self._scripts[name] = Script.load(name)
        return script

    def eval_command(self, name: str, keys: list[str], args: list[Any]) -> tuple[Any, ...]:
        """The EVALSHA command for a script, to send alone (``run``) or inside a ``pipeline``."""
        return ("EVALSHA", self.script(name).sha, len(keys), *keys, *args)

    def run(self, name: str, keys: list[str], args: list[Any]) -> Any:
        """Run a script by SHA; load it on NOSCRIPT (new or restarted server) and run it again."""
        try:
            return self.call(*self.eval_command(name, keys, args))
        except _NoScript:
            self.call("SCRIPT", "LOAD", self.script(name).source)
            return self.call(*self.eval_command(name, keys, args))

    def run_pipelined(self, commands: list[tuple[Any, ...]]) -> list[Any]:
        """A pipeline that may contain EVALSHA commands; loads every script first if the server lacks one."""
        try:
            return self.pipeline(commands)
        except _NoScript:
            for name in list(self._scripts):
                self.call("SCRIPT", "LOAD", self._scripts[name].source)
            return self.pipeline(commands)

    def run_with_reads(self, command: tuple[Any, ...], reads: list[tuple[Any, ...]]) -> tuple[Any, list[Any]]:
        """A script command (from ``eval_command``) and reads after it, in one round trip: the script's reply
        (its error raised) and the reads' replies, errors as values (a bad key read after a script that wrote
        must not hide what the script did)."""
        for attempt in (1, 2):
            replies = self.pipeline([command, *reads], errors_as_values=True)
            first = replies[0]
            if isinstance(first, redis.exceptions.NoScriptError) and attempt == 1:
                script = next(s for s in self._scripts.values() if s.sha == command[1])
                self.call("SCRIPT", "LOAD", script.source)
                continue
            if isinstance(first, redis.ResponseError):
                raise self._translate(first)
            return first, replies[1:]
        raise AssertionError("unreachable")

    @staticmethod
    def _translate(error: redis.ResponseError) -> Exception:
        """A script's error reply ``CODE message`` becomes that engine error; anything else is INTERNAL."""
        text = str(error)
        code, _, message = text.partition(" ")
        if isinstance(error, redis.exceptions.NoScriptError):
            return _NoScript(text)
        if isinstance(error, redis.exceptions.BusyLoadingError) or code in _SERVER_BUSY:
            return StoreUnavailable(f"Valkey is not ready: {text}")
        if code in ERRORS_BY_CODE:
            return ERRORS_BY_CODE[code](message)
        return InternalError(f"Valkey error: {text}")


#: Error replies of a server that is up but cannot serve yet (loading its data, busy script, failover).
_SERVER_BUSY = frozenset({"LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN"})


class _Lease:
    """A thread's connection, given back to the pool when the thread ends (its thread-local dies with it),
    so a server that runs a thread per request does not exhaust the pool."""

    def __init__(self, pool: redis.ConnectionPool) -> None:
        self.pool = pool
        self.pid = os.getpid()
        self.conn: AbstractConnection = pool.get_connection()

    def __del__(self) -> None:
        if self.pid == os.getpid():
            with contextlib.suppress(Exception):  # at interpreter shutdown there is no pool to give back to
                self.pool.release(self.conn)  # type: ignore[arg-type,unused-ignore]


class _NoScript(MockExchangeError):
    """Internal signal: the server does not know a script (it restarted, or was flushed)."""
