"""The Valkey client: one connection per thread and server, the engine's scripts (a library of Valkey
functions, loaded on demand), and errors turned into engine errors. Works on a single Valkey and on Valkey
Cluster alike (``cluster`` says which it found).

Why not plain ``redis.Redis``: a pooled ``execute_command`` costs about twice a raw request/response on the
same connection, and the engine's hot path is one or two round trips per order. Each thread therefore keeps
one connection per server from its pool and talks to it directly; after a ``fork`` the child opens its own.

Cluster: given any node's URL, the store finds out (``INFO cluster``) and routes every command to the primary
of its key's hash slot (``engine/cluster.py``). A pipeline whose commands live on several primaries is sent to
all of them before any reply is read, so it still costs one round trip of wall time. ``MOVED`` (a slot moved,
a replica was promoted) refreshes the slot map and resends the command, which the old owner did not run;
``ASK`` sends it once to the importing node. Every script touches keys of one slot only.

Failure rules: a request that could not be *sent* is retried once on a fresh connection (Valkey restarted, the
old socket was dead). A request whose *reply* was lost is not retried when it writes (it may have run), and
surfaces as ``StoreUnavailable``: the caller re-reads state, as with any exchange whose connection dropped. A
cluster that cannot serve (a primary down before its replica takes over: ``CLUSTERDOWN``, ``TRYAGAIN``, a
refused connection) is ``StoreUnavailable`` too: 503 until the cluster has healed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import redis
from redis.connection import AbstractConnection, UnixDomainSocketConnection, parse_url

from ..errors import ERRORS_BY_CODE, InternalError, MockExchangeError, StoreUnavailable
from .cluster import BROADCAST, SlotMap, cluster_enabled, command_key, command_name
from .node import CONNECTION_ERRORS, Node, run_meanwhile
from .scripts import library

#: How many times one pipeline follows MOVED answers or a lost node before it gives up (503).
_MAX_REROUTES = 3


class Store:
    """Valkey access for the engine; every method raises only ``MockExchangeError`` subclasses."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url
        self._options: dict[str, Any] = {
            "decode_responses": True,
            "encoding_errors": "replace",  # a feed may write any bytes: they must read as "not a number"
            "protocol": 3,  # replies in RESP3's types (a hash is a map), which node.py's reader hands on as they are
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
        }
        self._seed = Node(redis.ConnectionPool.from_url(url, **self._options))
        self._nodes: dict[str, Node] = {}
        self._nodes_lock = threading.Lock()
        self._cluster: bool | None = None  # found out on first use, so a store can be made while Valkey is down
        self._slots: SlotMap | None = None
        self._known: tuple[str, ...] = ()  # every node the last slot map named, to ask when the map is stale
        self._functions = library().functions  # script name -> the FCALL name of its function

    # -- topology ----------------------------------------------------------------------------------------

    @property
    def cluster(self) -> bool:
        """True when the URL names a node of a Valkey Cluster (asked once, on first use)."""
        if self._cluster is None:
            info = self._seed.exchange([("INFO", "cluster")], writes=False)[0]
            if isinstance(info, redis.ResponseError):
                raise self._translate(info)
            self._cluster = cluster_enabled(info)
        return self._cluster

    def primary_urls(self) -> list[str]:
        """A URL per primary: the one server, or every primary of the cluster (for a subscriber that must
        listen on each, since keyspace notifications stay on the node where the key lives). The cluster is
        asked afresh each time (a subscriber asks again after a failover: a promoted replica has its own
        address)."""
        if not self.cluster:
            return [self.url]
        slots = self._slots = self._discover()
        parts = urlsplit(self.url)
        scheme = "rediss" if parts.scheme == "rediss" else "redis"
        credentials = parts.netloc.rpartition("@")[0] if parts.scheme in ("redis", "rediss") else ""
        userinfo = f"{credentials}@" if credentials else ""
        return [f"{scheme}://{userinfo}{address}" for address in slots.primaries]

    def each_primary(self, *command: Any, writes: bool = True) -> list[Any]:
        """Run one command on every primary (one reply each; a single node gives a list of one)."""
        nodes = [self._node(address) for address in self._slot_map().primaries] if self.cluster else [self._seed]
        replies = [node.exchange([command], writes)[0] for node in nodes]
        for reply in replies:
            if isinstance(reply, redis.ResponseError):
                raise self._translate(reply)
        return replies

    def scan_iter(self, match: str, count: int = 1000) -> Iterator[str]:
        """Every key matching ``match``, by SCAN (never KEYS) on every primary, so no call blocks Valkey. On a
        cluster whose primary died since the slot map was read, the map is read again and the scan starts over
        on the primaries it names now, without giving a key twice."""
        seen: set[str] = set()
        for attempt in (1, 2):
            try:
                for name in self._scan(match, count):
                    if name not in seen:
                        seen.add(name)
                        yield name
                return
            except StoreUnavailable:
                if attempt == 2 or not self.cluster:
                    raise
                self._slots = None

    def _scan(self, match: str, count: int) -> Iterator[str]:
        nodes = [self._node(address) for address in self._slot_map().primaries] if self.cluster else [self._seed]
        for node in nodes:
            cursor = "0"
            while True:
                reply = node.exchange([("SCAN", cursor, "MATCH", match, "COUNT", count)], writes=False)[0]
                if isinstance(reply, redis.ResponseError):
                    raise self._translate(reply)
                cursor, names = reply
                yield from names
                if cursor == "0":
                    break

    def _slot_map(self) -> SlotMap:
        slots = self._slots
        if slots is None:
            slots = self._slots = self._discover()
        return slots

    def _discover(self) -> SlotMap:
        """Ask the nodes we know (the last map's primaries and replicas, then the seed URL, which may be the
        primary that died) for the slot map."""
        candidates = [self._node(address) for address in self._known] + [self._seed]
        problem: Exception | None = None
        for node in candidates:
            try:
                reply = node.exchange([("CLUSTER", "SLOTS")], writes=False)[0]
            except StoreUnavailable as exc:
                problem = exc
                continue
            if isinstance(reply, redis.ResponseError):
                problem = self._translate(reply)
                continue
            slots = SlotMap.parse(reply, self._seed_host)
            if slots.primaries:
                self._known = (*slots.primaries, *slots.replicas)
                return slots
        raise StoreUnavailable(f"no node of the Valkey cluster answers with its slots: {problem}")

    @property
    def _seed_host(self) -> str:
        return str(self._seed.pool.connection_kwargs.get("host") or "127.0.0.1")

    def _node(self, address: str) -> Node:
        node = self._nodes.get(address)
        if node is None:
            with self._nodes_lock:
                node = self._nodes.get(address)
                if node is None:
                    host, _, port = address.rpartition(":")
                    parsed: dict[str, Any] = parse_url(self.url)  # type: ignore[no-untyped-call,unused-ignore]
                    kwargs = {k: v for k, v in parsed.items() if k not in ("host", "port", "path", "db")}
                    if kwargs.get("connection_class") is UnixDomainSocketConnection:
                        del kwargs["connection_class"]  # cluster nodes talk TCP, whatever the seed URL was
                    pool = redis.ConnectionPool(host=host, port=int(port), **kwargs, **self._options)
                    node = self._nodes[address] = Node(pool)
        return node

    def close(self) -> None:
        """Close this thread's connections and the pools (other threads reconnect on their next call)."""
        for node in [self._seed, *self._nodes.values()]:
            node.close()

    # -- commands ----------------------------------------------------------------------------------------

    def call(self, *args: Any, writes: bool = True) -> Any:
        """Send one command and return its reply."""
        return self.pipeline([args], writes=writes)[0]

    def read(self, *args: Any) -> Any:
        """A read-only command: retried once if the connection broke at any point."""
        return self.pipeline([args], writes=False)[0]

    def pipeline(
        self,
        commands: list[tuple[Any, ...]],
        writes: bool = True,
        errors_as_values: bool = False,
        meanwhile: Callable[[], object] | None = None,
    ) -> list[Any]:
        """Send several commands in one write per server and read every reply (not atomic; in order on each
        server). On a cluster, commands for different primaries run side by side, in no set order.

        An error reply is raised after all replies are read, so the connection stays in step; with
        ``errors_as_values`` it is returned in its place instead (a bad feed hash must not hide the others),
        unless it says that Valkey cannot serve (CLUSTERDOWN, LOADING, ...): that is always raised.

        ``meanwhile`` runs once, after the commands went out and before their replies are read: work that does
        not need the replies (an order's view but for its id) then overlaps Valkey's, which runs on another core.
        """
        if self.cluster:
            replies = self._routed(commands, writes, meanwhile)
        else:
            replies = self._seed.exchange(commands, writes, meanwhile)
        for reply in replies:
            if isinstance(reply, redis.ResponseError):
                error = self._translate(reply)
                if not errors_as_values or isinstance(error, StoreUnavailable):  # a cluster that cannot serve
                    raise error  # is no "malformed value"
        return replies

    def _routed(
        self, commands: list[tuple[Any, ...]], writes: bool, meanwhile: Callable[[], object] | None
    ) -> list[Any]:
        """A pipeline on a cluster: grouped per primary, sent to all, then read; MOVED commands are resent."""
        replies: list[Any] = [None] * len(commands)
        pending = list(range(len(commands)))
        problem: Exception | None = None
        for _ in range(_MAX_REROUTES):
            slots = self._slot_map()
            groups: dict[str, list[int]] = {}
            for index in pending:
                command = commands[index]
                if command_name(command) in BROADCAST:
                    replies[index] = self._broadcast(command, writes)
                else:
                    groups.setdefault(slots.owner(command_key(command)), []).append(index)
            pending = []
            sent: list[tuple[Node, list[int], AbstractConnection]] = []
            for address, indexes in groups.items():
                node = self._node(address)
                try:
                    sent.append((node, indexes, node.send([commands[i] for i in indexes])))
                except CONNECTION_ERRORS as exc:  # nothing reached the node: safe to send again
                    node.drop()
                    problem, pending = exc, pending + indexes
            if meanwhile is not None and sent:
                run_meanwhile(meanwhile, [node for node, _, _ in sent])
                meanwhile = None
            lost: Exception | None = None
            for node, indexes, conn in sent:
                try:
                    got = node.receive(conn, len(indexes))
                except CONNECTION_ERRORS as exc:
                    node.drop()
                    lost = problem = exc
                    if not writes:
                        pending += indexes
                    continue
                for index, reply in zip(indexes, got, strict=True):
                    if isinstance(reply, redis.exceptions.MovedError):
                        problem = reply
                        pending.append(index)
                    elif isinstance(reply, redis.exceptions.AskError):
                        replies[index] = self._asking(reply, commands[index], writes)
                    else:
                        replies[index] = reply
            if lost is not None and writes:
                self._slots = None
                raise StoreUnavailable(f"Valkey connection lost: {lost}")
            if not pending:
                return replies
            pending.sort()
            self._slots = None  # a node is gone or a slot moved: ask the cluster again
        raise StoreUnavailable(f"the Valkey cluster cannot serve right now: {problem}")

    def _asking(self, redirect: redis.exceptions.AskError, command: tuple[Any, ...], writes: bool) -> Any:
        """A slot being migrated: the importing node serves this one command after ASKING."""
        host, port = redirect.node_addr
        return self._node(f"{host}:{port}").exchange([("ASKING",), command], writes)[1]

    def _broadcast(self, command: tuple[Any, ...], writes: bool) -> Any:
        """A server-wide command (FLUSHALL, FUNCTION LOAD, ...) on every primary; KEYS gives the union."""
        replies = [self._node(address).exchange([command], writes)[0] for address in self._slot_map().primaries]
        for reply in replies:
            if isinstance(reply, redis.ResponseError):
                return reply
        if command_name(command) == "KEYS":
            return [key for reply in replies for key in reply]
        return replies[0]

    def ping(self) -> bool:
        return bool(self.read("PING"))

    # -- scripts ----------------------------------------------------------------------------------------

    def eval_command(self, name: str, keys: list[str], args: list[Any]) -> tuple[Any, ...]:
        """The FCALL command for a script (``engine/scripts.py``), to send alone (``run``) or inside a
        ``pipeline``."""
        return ("FCALL", self._functions[name], len(keys), *keys, *args)

    def load_scripts(self) -> None:
        """Load the scripts' library into the server (every primary of a cluster; a replica gets it by
        replication). Replacing a library by the same text changes nothing, so two processes may both load it."""
        self.call("FUNCTION", "LOAD", "REPLACE", library().source)

    def run(self, name: str, keys: list[str], args: list[Any]) -> Any:
        """Run a script; load the library when the server does not know its function (a new, restarted or
        flushed server) and run it again."""
        try:
            return self.call(*self.eval_command(name, keys, args))
        except _NoFunction:
            self.load_scripts()
            return self.call(*self.eval_command(name, keys, args))

    def run_pipelined(self, commands: list[tuple[Any, ...]]) -> list[Any]:
        """A pipeline of script commands and reads (no other writes); when a server lacked the functions, loads
        the library and sends again what did not run: the scripts it refused, and every read (a read after a
        script must see what the script did). A script that ran is never sent again: on a cluster where one
        primary lost its functions (restarted without persistence, a node that joined), the others' scripts ran
        once, and a second run would apply their moves twice."""
        replies = self.pipeline(commands, errors_as_values=True)
        if any(_no_function(reply) for reply in replies):
            self.load_scripts()
            again = [i for i, reply in enumerate(replies) if _no_function(reply) or commands[i][0] != "FCALL"]
            resent = self.pipeline([commands[i] for i in again], errors_as_values=True)
            for index, reply in zip(again, resent, strict=True):
                replies[index] = reply
        for reply in replies:
            if isinstance(reply, redis.ResponseError):
                raise self._translate(reply)
        return replies

    def run_with_reads(
        self, command: tuple[Any, ...], reads: list[tuple[Any, ...]], meanwhile: Callable[[], object] | None = None
    ) -> tuple[Any, list[Any]]:
        """A script command (from ``eval_command``) and reads that see its effects: the script's reply (its error
        raised) and the reads' replies, errors as values (a bad key read after a script that wrote must not hide
        what the script did). One round trip on a single node; on a cluster the reads follow the script's reply
        (a pipeline orders commands only within one node). ``meanwhile``: as ``pipeline``'s, run once."""
        for attempt in (1, 2):
            if self.cluster:
                replies = [*self.pipeline([command], errors_as_values=True, meanwhile=meanwhile)]
                if not isinstance(replies[0], redis.ResponseError):
                    replies += self.pipeline(reads, writes=False, errors_as_values=True)
            else:
                replies = self.pipeline([command, *reads], errors_as_values=True, meanwhile=meanwhile)
            meanwhile = None
            first = replies[0]
            if isinstance(first, redis.ResponseError):
                error = self._translate(first)
                if isinstance(error, _NoFunction) and attempt == 1:
                    self.load_scripts()
                    continue
                raise error
            return first, replies[1:]
        raise AssertionError("unreachable")

    @staticmethod
    def _translate(error: redis.ResponseError) -> Exception:
        """A script's error reply ``CODE message`` becomes that engine error; anything else is INTERNAL."""
        text = str(error)
        code, _, message = text.partition(" ")
        if _no_function(error):
            return _NoFunction(text)
        if isinstance(error, _UNAVAILABLE) or code in _SERVER_BUSY:
            return StoreUnavailable(f"Valkey is not ready: {type(error).__name__}: {text}")
        if code in ERRORS_BY_CODE:
            return ERRORS_BY_CODE[code](message)
        return InternalError(f"Valkey error: {text}")


#: Error replies of a server that is up but cannot serve yet (loading its data, busy script, failover).
_SERVER_BUSY = frozenset({"LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN"})
#: The same, as redis-py parses them (it strips the code from the message).
_UNAVAILABLE = (
    redis.exceptions.BusyLoadingError,
    redis.exceptions.TryAgainError,
    redis.exceptions.ClusterDownError,
    redis.exceptions.AskError,  # still redirecting after the last reroute
)


#: What a server answers (redis-py strips the ERR) to FCALL of a function it does not know.
_NO_FUNCTION = "Function not found"


def _no_function(reply: Any) -> bool:
    return isinstance(reply, redis.ResponseError) and str(reply) == _NO_FUNCTION


class _NoFunction(MockExchangeError):
    """Internal signal: the server does not know a script's function (it restarted, or was flushed)."""
