"""One Valkey server as the store sees it: a connection pool and one connection per thread taken from it.

redis-py connects, authenticates and selects the database; after that the engine talks to the socket itself:
requests are packed with hiredis and written in one ``sendall``, replies are parsed by a hiredis reader of the
connection's own, error replies kept as values so the connection stays in step. redis-py's own send and read
add several layers of checks per call, as much Python as the rest of a market order's round trip. See
``store.py`` for the retry rules ``exchange`` follows.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
from collections.abc import Callable
from typing import Any

import hiredis
import redis
from redis._parsers.base import BaseParser
from redis.connection import AbstractConnection
from redis.exceptions import InvalidResponse

from ..errors import StoreUnavailable

CONNECTION_ERRORS = (redis.ConnectionError, redis.TimeoutError, OSError)

#: What a reader answers while a reply is not complete yet (no reply is this object).
_INCOMPLETE = object()
_CLOSED = "Connection closed by server."


class Node:
    """One Valkey server: its connection pool, and one connection per thread taken from it."""

    def __init__(self, pool: redis.ConnectionPool) -> None:
        self.pool = pool
        self._local = threading.local()

    def _lease(self) -> _Lease:
        lease: _Lease | None = getattr(self._local, "lease", None)
        if lease is None or lease.pid != os.getpid():  # none yet, or inherited through a fork: open our own
            lease = self._local.lease = _Lease(self.pool)
        return lease

    def connection(self) -> AbstractConnection:
        return self._lease().conn

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
        lease = self._lease()
        self._write(lease, commands)
        return lease.conn

    @staticmethod
    def _write(lease: _Lease, commands: list[tuple[Any, ...]]) -> None:
        sock = lease.open()
        if lease.poller.poll(0):
            # Readable before we asked anything: the server closed it (restart, idle kill). A write sent into
            # it would be lost without a trace, so start over on a fresh connection. (One poll of a registered
            # socket: a system call, no more.)
            lease.conn.disconnect()  # type: ignore[no-untyped-call,unused-ignore]
            sock = lease.open()
        # hiredis packs in C, several times faster than redis-py's pure-Python packer
        sock.sendall(b"".join([hiredis.pack_command(command) for command in commands]))

    def receive(self, conn: AbstractConnection, count: int) -> list[Any]:
        """Read ``count`` replies of what ``send`` sent on ``conn``; error replies become values, so the
        connection stays in step."""
        lease = self._lease()
        assert lease.conn is conn
        return self._read(lease, count)

    @staticmethod
    def _read(lease: _Lease, count: int) -> list[Any]:
        sock, reader, buffer = lease.sock, lease.reader, lease.buffer
        assert sock is not None and reader is not None
        replies: list[Any] = []
        for _ in range(count):
            reply = reader.gets()
            while reply is _INCOMPLETE:
                size = sock.recv_into(buffer)
                if not size:
                    raise redis.ConnectionError(_CLOSED)
                reader.feed(buffer, 0, size)  # type: ignore[arg-type]  # hiredis reads any buffer
                reply = reader.gets()
            if isinstance(reply, redis.ConnectionError) or (
                isinstance(reply, list) and reply and isinstance(reply[0], redis.ConnectionError)
            ):
                raise reply if isinstance(reply, redis.ConnectionError) else reply[0]  # as redis-py would
            replies.append(reply)
        return replies

    def exchange(
        self, commands: list[tuple[Any, ...]], writes: bool, meanwhile: Callable[[], object] | None = None
    ) -> list[Any]:
        """Send and read, with the retry rules of the module docstring; ``meanwhile`` runs once, between the
        first write that went out and the read of its replies (``Store.pipeline``)."""
        for attempt in (1, 2):
            try:
                lease = self._lease()
                self._write(lease, commands)
            except CONNECTION_ERRORS as exc:
                self.drop()
                if attempt == 2:
                    raise StoreUnavailable(f"Valkey is unreachable: {exc}") from None
                continue
            if meanwhile is not None:
                run_meanwhile(meanwhile, [self])
                meanwhile = None
            try:
                return self._read(lease, len(commands))
            except CONNECTION_ERRORS as exc:
                self.drop()
                if writes or attempt == 2:
                    raise StoreUnavailable(f"Valkey connection lost: {exc}") from None
        raise AssertionError("unreachable")


def run_meanwhile(work: Callable[[], object], waiting: list[Node]) -> None:
    """Run ``work`` while the ``waiting`` nodes owe replies; if it raises, their connections are dropped, since
    those replies were not read and the next command on them would get them."""
    try:
        work()
    except BaseException:
        for node in waiting:
            node.drop()
        raise


class _Lease:
    """A thread's connection, given back to the pool when the thread ends (its thread-local dies with it),
    so a server that runs a thread per request does not exhaust the pool; with the socket redis-py connected
    it, a reader of its replies and a poller of it, made again whenever redis-py connects it again."""

    def __init__(self, pool: redis.ConnectionPool) -> None:
        self.pool = pool
        self.pid = os.getpid()
        self.conn: AbstractConnection = pool.get_connection()
        self.sock: socket.socket | None = None
        self.reader: hiredis.Reader | None = None
        self.poller = select.poll()
        self.buffer = bytearray(65536)

    def open(self) -> socket.socket:
        """The connection's socket, connected (again, if it was dropped)."""
        conn: Any = self.conn
        sock: socket.socket | None = conn._sock
        if sock is None or sock is not self.sock:
            if sock is None:
                conn.connect()
                sock = conn._sock
            assert sock is not None
            encoder = conn.encoder
            options: dict[str, Any] = {"protocolError": InvalidResponse, "replyError": BaseParser.parse_error}
            if encoder.decode_responses:
                options.update(encoding=encoder.encoding, errors=encoder.encoding_errors)
            self.reader = hiredis.Reader(notEnoughData=_INCOMPLETE, **options)
            self.poller = select.poll()
            self.poller.register(sock, select.POLLIN)
            self.sock = sock
        return sock

    def __del__(self) -> None:
        if self.pid == os.getpid():
            with contextlib.suppress(Exception):  # at interpreter shutdown there is no pool to give back to
                self.pool.release(self.conn)  # type: ignore[arg-type,unused-ignore]
