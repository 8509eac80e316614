"""One Valkey server as the store sees it: a connection pool and one connection per thread taken from it.

Requests are packed with hiredis and written in one go; replies are read in order, error replies kept as
values so the connection stays in step. See ``store.py`` for the retry rules ``exchange`` follows.
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Any

import hiredis
import redis
from redis.connection import AbstractConnection

from ..errors import StoreUnavailable

CONNECTION_ERRORS = (redis.ConnectionError, redis.TimeoutError, OSError)


class Node:
    """One Valkey server: its connection pool, and one connection per thread taken from it."""

    def __init__(self, pool: redis.ConnectionPool) -> None:
        self.pool = pool
        self._local = threading.local()

    def connection(self) -> AbstractConnection:
        lease: _Lease | None = getattr(self._local, "lease", None)
        if lease is None or lease.pid != os.getpid():
            lease = self._local.lease = _Lease(self.pool)
        return lease.conn

    def drop(self) -> None:
        lease: _Lease | None = getattr(self._local, "lease", None)
        if lease is not None:
            lease.conn.disconnect()  # type: ignore[no-untyped-call,unused-ignore]

    def close(self) -> None:
        self.drop()
        self._local = threading.local()
        self.pool.disconnect()

    def send(self, commands: list[tuple[Any, ...]]) -> AbstractConnection:
        """Write every command in one go (raises a connection error when that fails)."""
        conn = self.connection()
        if conn.can_read(timeout=0):  # type: ignore[no-untyped-call,unused-ignore]
            # Readable before we asked anything: the server closed it (restart, idle kill). A write sent into
            # it would be lost without a trace, so start over on a fresh connection.
            conn.disconnect()  # type: ignore[no-untyped-call,unused-ignore]
        # hiredis packs in C, several times faster than redis-py's pure-Python packer
        packed = b"".join([hiredis.pack_command(command) for command in commands])
        conn.send_packed_command([packed], check_health=False)  # type: ignore[no-untyped-call,unused-ignore]
        return conn

    @staticmethod
    def receive(conn: AbstractConnection, count: int) -> list[Any]:
        """Read ``count`` replies; error replies become values, so the connection stays in step."""
        replies: list[Any] = []
        for _ in range(count):
            try:
                replies.append(conn.read_response())
            except redis.ResponseError as exc:
                replies.append(exc)
        return replies

    def exchange(self, commands: list[tuple[Any, ...]], writes: bool) -> list[Any]:
        """Send and read, with the retry rules of the module docstring."""
        for attempt in (1, 2):
            try:
                conn = self.send(commands)
            except CONNECTION_ERRORS as exc:
                self.drop()
                if attempt == 2:
                    raise StoreUnavailable(f"Valkey is unreachable: {exc}") from None
                continue
            try:
                return self.receive(conn, len(commands))
            except CONNECTION_ERRORS as exc:
                self.drop()
                if writes or attempt == 2:
                    raise StoreUnavailable(f"Valkey connection lost: {exc}") from None
        raise AssertionError("unreachable")


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
