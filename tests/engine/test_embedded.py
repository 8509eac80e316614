"""The embedded valkey-server: started when no URL is configured, on a unix socket in the data directory,
persistent across restarts, shared by a second user of the same directory, and never left behind."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from mockexchange_ccxt import Engine, Settings
from mockexchange_ccxt.engine import EmbeddedValkey
from mockexchange_ccxt.errors import StoreUnavailable

CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from mockexchange_ccxt.engine import EmbeddedValkey
    server = EmbeddedValkey(Path(sys.argv[1]))
    server.start()
    print(server.process.pid if server.process else 0, flush=True)
    time.sleep(60)
    """
)


def servers_in(path: Path) -> list[int]:
    """Pids of live valkey-servers working in ``path`` (their cwd is their data directory)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if Path(os.readlink(entry / "cwd")).is_relative_to(path) and alive(int(entry.name)):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A data directory with a short path (its socket lives inside it) that other processes can share.

    Teardown waits for the servers a test started there to finish (a persistent server refuses to exit while
    its final save fails, so its directory must outlive it) and removes the directory."""
    path = Path(tempfile.mkdtemp(prefix="mx-", dir="/tmp"))
    yield path
    leftovers = [pid for pid in servers_in(path) if not wait_gone(pid)]
    for pid in leftovers:
        os.kill(pid, signal.SIGKILL)
    shutil.rmtree(path, ignore_errors=True)
    assert leftovers == [], f"valkey-server(s) {leftovers} left running"


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def wait_gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not alive(pid)


def start_child(data_dir: Path) -> tuple[subprocess.Popen[str], int]:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data_dir)], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert child.stdout is not None
    return child, int(child.stdout.readline())


def test_engine_without_url_starts_a_private_persistent_server(short_dir: Path) -> None:
    settings = Settings(redis_url=None, data_dir=short_dir / "data")
    engine = Engine(settings)
    assert engine.embedded is not None and engine.embedded.process is not None
    process = engine.embedded.process
    assert engine.store.url == f"unix://{short_dir / 'data' / 'valkey.sock'}"
    assert alive(process.pid)
    engine.fund("USDT", "123.45678901")
    engine.set_price("BTC/USDT", "50000")
    engine.create_order("BTC/USDT", "buy", "limit", "0.001", "40000")
    engine.close()
    assert process.poll() is not None and not alive(process.pid)
    assert not (short_dir / "data" / "valkey.sock").exists()
    assert (short_dir / "data" / "appendonlydir").is_dir()

    with Engine(settings) as reopened:
        assert reopened.embedded is not None and reopened.embedded.process is not None
        assert reopened.embedded.process.pid != process.pid
        assert reopened.balance("USDT") == {
            "free": Decimal("83.41678901"),
            "used": Decimal("40.04"),
            "total": Decimal("123.45678901"),
        }
        assert [o["status"] for o in reopened.fetch_orders()] == ["open"]
        assert reopened.ticker("BTC/USDT")["last"] == Decimal(50000)


def test_a_second_user_of_the_directory_joins_the_running_server(short_dir: Path) -> None:
    first = EmbeddedValkey(short_dir)
    url = first.start()
    try:
        assert first.process is not None
        second = EmbeddedValkey(short_dir)
        assert second.start() == url
        assert second.process is None  # joined, not started
        with Engine(Settings(redis_url=url)) as a, Engine(Settings(redis_url=None, data_dir=short_dir)) as b:
            assert b.embedded is not None and b.embedded.process is None
            a.fund("USDT", "5")
            assert b.balance("USDT")["total"] == 5
        second.stop()  # a joiner never stops the owner's server
        assert first.answers()
        assert alive(first.process.pid)
    finally:
        first.stop()
    assert not first.answers()


def test_a_second_process_joins_instead_of_starting_another(short_dir: Path) -> None:
    child, server_pid = start_child(short_dir)
    try:
        assert server_pid > 0 and alive(server_pid)
        joiner = EmbeddedValkey(short_dir)
        joiner.start()
        assert joiner.process is None
        with Engine(Settings(redis_url=joiner.url)) as engine:
            info = engine.store.read("INFO", "server")
            assert f"process_id:{server_pid}\r\n" in info
    finally:
        child.kill()
        child.wait()
        assert wait_gone(server_pid)


def test_a_second_process_joins_when_the_data_dir_path_is_long(short_dir: Path) -> None:
    long_dir = short_dir / ("d" * 100)
    child, server_pid = start_child(long_dir)
    joiner = EmbeddedValkey(long_dir)
    try:
        assert alive(server_pid)
        joiner.start()
        assert joiner.process is None
    finally:
        joiner.stop()
        child.kill()
        child.wait()
        assert wait_gone(server_pid)


def test_a_long_data_dir_works_within_one_process(short_dir: Path) -> None:
    long_dir = short_dir / ("d" * 100)
    with Engine(Settings(redis_url=None, data_dir=long_dir)) as engine:
        assert engine.embedded is not None and engine.embedded.process is not None
        assert len(str(engine.embedded.socket_path)) < 108
        engine.fund("BTC", "1")
        joiner = EmbeddedValkey(long_dir)
        joiner.start()
        assert joiner.process is None
        assert engine.balance("BTC")["total"] == 1


@pytest.mark.slow
def test_a_killed_parent_leaves_no_server_behind(short_dir: Path) -> None:
    child, server_pid = start_child(short_dir)
    assert alive(server_pid)
    assert EmbeddedValkey(short_dir).answers()
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert wait_gone(server_pid), f"valkey-server {server_pid} outlived its parent"
    assert not EmbeddedValkey(short_dir).answers()


def test_a_throwaway_server_cleans_up_its_directory() -> None:
    server = EmbeddedValkey(persistent=False)
    server.start()
    data_dir = server.data_dir
    assert server.process is not None and data_dir.is_dir()
    assert not (data_dir / "appendonlydir").exists()
    server.stop()
    assert not data_dir.exists()


def test_a_server_that_cannot_start_raises_store_unavailable(short_dir: Path) -> None:
    server = EmbeddedValkey(short_dir, extra_args=["--no-such-option", "1"])
    with pytest.raises(StoreUnavailable, match="exited at start") as caught:
        server.start()
    assert caught.value.http_status == 503
    assert not server.answers()
