"""The embedded valkey-server: started when no URL is configured, on a unix socket in the data directory,
persistent across restarts, shared by a second user of the same directory, and never left behind."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from decimal import Decimal
from pathlib import Path

import pytest
import redis
from tests_helpers import wait_for

from mockexchange_ccxt import Engine, Settings
from mockexchange_ccxt.config import ConfigError
from mockexchange_ccxt.engine import EmbeddedValkey
from mockexchange_ccxt.errors import StoreUnavailable

CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from mockexchange_ccxt.engine import EmbeddedValkey
    server = EmbeddedValkey(Path(sys.argv[1]), extra_args=sys.argv[2:])
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


def start_child(data_dir: Path, *extra_args: str) -> tuple[subprocess.Popen[str], int]:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data_dir), *extra_args],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
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
        joiner.stop()
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
        joiner.stop()  # a joiner still running would take over when the engine stops the server


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


# -- one server per directory, whatever happens to its owner -----------------------------------------------------


def owner_url(data_dir: Path) -> str:
    return f"unix://{data_dir / 'valkey.sock'}"


@contextmanager
def owner(data_dir: Path, *extra_args: str) -> Iterator[int]:
    """A child process owning the server of ``data_dir``; yields the server's pid. Killed at the end (a
    stopped server resumed first), and its server gone with it."""
    child, server_pid = start_child(data_dir, *extra_args)
    try:
        yield server_pid
    finally:
        with suppress(ProcessLookupError):
            os.kill(server_pid, signal.SIGCONT)
        child.kill()
        child.wait()
        assert wait_gone(server_pid)


def test_a_server_that_does_not_answer_for_a_while_is_joined_not_doubled(short_dir: Path) -> None:
    """The owner's server is stopped (as by a long command, an AOF rewrite fork or swapping) while another
    process builds an Engine on the directory: it used to give up after one PING, unlink the live socket and
    start a second server on the same append-only file."""
    with owner(short_dir) as server_pid:
        with Engine(Settings(redis_url=owner_url(short_dir))) as first:
            first.fund("USDT", "1000")
        os.kill(server_pid, signal.SIGSTOP)
        resume = threading.Timer(1.2, os.kill, (server_pid, signal.SIGCONT))
        resume.start()
        try:
            with Engine(Settings(redis_url=None, data_dir=short_dir)) as second:
                assert second.embedded is not None and second.embedded.process is None  # joined
                second.fund("USDT", "5")
                assert servers_in(short_dir) == [server_pid]
        finally:
            resume.join()
        with Engine(Settings(redis_url=owner_url(short_dir))) as first:
            assert first.balance("USDT")["total"] == 1005


def test_a_busy_answer_means_alive(short_dir: Path) -> None:
    """A server running a long script answers BUSY: it is alive, so the newcomer waits and joins it."""
    with owner(short_dir, "--busy-reply-threshold", "50") as server_pid:
        busy = redis.Redis(unix_socket_path=str(short_dir / "valkey.sock"))
        script = threading.Thread(target=busy.eval, args=("local t = os.clock() while os.clock() - t < 1.5 do end", 0))
        script.start()
        time.sleep(0.3)  # past the busy-reply threshold: PING now answers -BUSY
        try:
            joiner = EmbeddedValkey(short_dir)
            joiner.start()
            assert joiner.process is None
            assert servers_in(short_dir) == [server_pid]
            joiner.stop()
        finally:
            script.join()
            busy.close()


def test_a_joiner_takes_over_when_the_owner_exits(short_dir: Path) -> None:
    """The owner's process dies (its server with it): a joiner restarts the server on the same directory,
    with the data the append-only file kept, and its engine serves again without being rebuilt."""
    child, server_pid = start_child(short_dir)
    with Engine(Settings(redis_url=None, data_dir=short_dir)) as joiner:
        assert joiner.embedded is not None and joiner.embedded.process is None
        joiner.fund("USDT", "42")
        child.kill()  # SIGKILL: the server gets its parent-death signal and exits cleanly
        child.wait()
        assert wait_gone(server_pid)
        assert wait_for(lambda: joiner.embedded is not None and joiner.embedded.process is not None)
        assert wait_for(_answers(joiner))
        assert joiner.balance("USDT")["total"] == 42
        successor = joiner.embedded.process
        assert successor is not None and servers_in(short_dir) == [successor.pid]
    assert wait_gone(successor.pid)


def test_only_one_of_several_joiners_takes_over(short_dir: Path) -> None:
    child, server_pid = start_child(short_dir)
    joiners = [EmbeddedValkey(short_dir) for _ in range(3)]
    try:
        for joiner in joiners:
            joiner.start()
        child.kill()
        child.wait()
        assert wait_gone(server_pid)
        assert wait_for(lambda: any(j.process is not None for j in joiners))
        assert wait_for(lambda: all(j.answers() for j in joiners))
        time.sleep(0.3)  # several watch periods: nobody starts a second one
        owners = [j.process.pid for j in joiners if j.process is not None]
        assert len(owners) == 1 and servers_in(short_dir) == owners
    finally:
        for joiner in joiners:
            joiner.stop()


def _answers(engine: Engine) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return engine.store.ping()
        except StoreUnavailable:
            return False

    return check


# -- permissions ------------------------------------------------------------------------------------------------


def test_the_data_directory_is_private(short_dir: Path) -> None:
    data_dir = short_dir / "new" / "valkey"
    with Engine(Settings(redis_url=None, data_dir=data_dir)):
        assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700


def test_a_long_path_socket_lives_in_a_private_directory(short_dir: Path) -> None:
    long_dir = short_dir / ("d" * 100)
    with Engine(Settings(redis_url=None, data_dir=long_dir)) as engine:
        assert engine.embedded is not None
        folder = engine.embedded.socket_path.parent
        assert folder != Path(tempfile.gettempdir())
        info = folder.lstat()
        assert stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()
        assert stat.S_IMODE(info.st_mode) == 0o700


def test_a_socket_directory_others_can_write_is_refused(short_dir: Path) -> None:
    """Someone created the private directory's name first, open to everyone: it is not used."""
    tmp = short_dir / "tmp"
    (tmp / f"mockx-{os.getuid()}").mkdir(parents=True, mode=0o777)
    (tmp / f"mockx-{os.getuid()}").chmod(0o777)
    code = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from mockexchange_ccxt.engine import EmbeddedValkey
        from mockexchange_ccxt.errors import StoreUnavailable
        try:
            EmbeddedValkey(Path(sys.argv[1])).start()
        except StoreUnavailable as exc:
            print(exc)
            sys.exit(3)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(short_dir / ("d" * 100))],
        env={**os.environ, "TMPDIR": str(tmp)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 3, result.stderr
    assert "private" in result.stdout
    assert list((tmp / f"mockx-{os.getuid()}").iterdir()) == []


def test_an_unusable_data_directory_is_a_config_error(short_dir: Path) -> None:
    blocker = short_dir / "a-file"
    blocker.write_text("")
    with pytest.raises(ConfigError) as caught:
        Engine(Settings(redis_url=None, data_dir=blocker / "valkey"))
    assert caught.value.variable == "MOCKX_DATA_DIR"
    assert str(caught.value).startswith("MOCKX_DATA_DIR ")
