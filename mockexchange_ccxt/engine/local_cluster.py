"""A throwaway Valkey Cluster on this machine, from the embedded valkey-server binary: for tests and benchmarks.

Each node is an ``EmbeddedValkey`` child (dies with its parent) started with ``--cluster-enabled yes`` on its
own loopback port and directory; ``valkey-cli --cluster create`` (shipped beside the server) joins them and
spreads the 16,384 slots over the primaries, with ``replicas`` replicas per primary. ``start`` returns once
every node reports ``cluster_state:ok`` and agrees on who serves every slot.
"""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from ..errors import StoreUnavailable
from .embedded import EmbeddedValkey, valkey_binary

#: Milliseconds after which a silent node counts as failing (a replica then takes over its slots).
NODE_TIMEOUT_MS = 1000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LocalCluster:
    """``primaries`` primaries with ``replicas`` replicas each, on loopback ports, without persistence."""

    def __init__(self, data_dir: Path | None = None, primaries: int = 3, replicas: int = 0) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else Path(tempfile.mkdtemp(prefix="mockx-cluster-"))
        self.primaries, self.replicas = primaries, replicas
        self.nodes: list[EmbeddedValkey] = []

    @property
    def url(self) -> str:
        """The URL of the first node: any node's URL leads the store to the whole cluster."""
        return self.nodes[0].url

    def start(self, timeout: float = 30.0) -> str:
        for index in range(self.primaries * (1 + self.replicas)):
            self.nodes.append(self._start_node(index))
        cli = Path(valkey_binary()).with_name("valkey-cli")
        addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
        created = subprocess.run(
            [str(cli), "--cluster", "create", *addresses, "--cluster-replicas", str(self.replicas), "--cluster-yes"],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if created.returncode != 0:
            self.stop()
            raise StoreUnavailable(f"valkey-cli --cluster create failed: {created.stdout[-500:]}{created.stderr}")
        self.wait_healthy(timeout)
        return self.url

    def _start_node(self, index: int, attempts: int = 3) -> EmbeddedValkey:
        """One node on a free port, its cluster bus on another (the default, port + 10000, may not exist);
        a port taken meanwhile by another program means another try."""
        for attempt in range(attempts):
            node = EmbeddedValkey(
                self.data_dir / f"node{index}",
                persistent=False,
                port=_free_port(),
                extra_args=[
                    "--cluster-enabled", "yes",
                    "--cluster-port", str(_free_port()),
                    "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
                    "--cluster-config-file", "nodes.conf",
                    "--cluster-replica-validity-factor", "0",  # a replica may always take over
                ],
                keep_serving=False,  # a node that died stays dead: restarted empty, it would hand back its slots
            )  # fmt: skip
            try:
                node.start()
                return node
            except StoreUnavailable:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    def alive(self) -> list[EmbeddedValkey]:
        return [node for node in self.nodes if node.process is not None and node.process.poll() is None]

    def wait_healthy(self, timeout: float = 30.0) -> None:
        """Until every running node says ``cluster_state:ok``, every replica has synced, and all give the same
        slot map, whose primaries are all running (so after a primary died: until its replica took over)."""
        deadline = time.monotonic() + timeout
        while not self._healthy():
            if time.monotonic() > deadline:
                raise StoreUnavailable("the local Valkey cluster did not become healthy in time")
            time.sleep(0.05)

    def _healthy(self) -> bool:
        views = set()
        running = self.alive()
        for node in running:
            try:
                with redis.Redis.from_url(node.url, decode_responses=True, socket_timeout=2) as client:
                    if "cluster_state:ok" not in client.execute_command("CLUSTER", "INFO"):
                        return False
                    replication = client.info("replication")
                    if replication["role"] == "slave" and replication.get("master_link_status") != "up":
                        return False  # a replica that has not synced yet could not take over
                    slots = client.execute_command("CLUSTER", "SLOTS")
            except redis.RedisError:
                return False
            views.add(tuple(sorted((int(s[0]), int(s[1]), int(s[2][1])) for s in slots)))
        ports = {node.port for node in running}
        return len(views) == 1 and all(primary in ports for _start, _end, primary in next(iter(views)))

    def primary_of(self, key: str) -> EmbeddedValkey:
        """The node that serves ``key`` now."""
        with redis.Redis.from_url(self.alive()[0].url, decode_responses=True) as client:
            slot = int(client.execute_command("CLUSTER", "KEYSLOT", key))
            for start, end, primary, *_replicas in client.execute_command("CLUSTER", "SLOTS"):
                if int(start) <= slot <= int(end):
                    return next(node for node in self.nodes if node.port == int(primary[1]))
        raise StoreUnavailable(f"no node serves {key}")

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def __enter__(self) -> LocalCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
