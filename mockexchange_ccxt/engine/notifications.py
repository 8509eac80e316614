"""Outside price writes noticed at once: a subscriber to Valkey's keyspace notifications for the feed hashes.

Any process may ``HSET sym_<SYMBOL> ...``; Valkey then publishes the event on
``__keyspace@<db>__:sym_<SYMBOL>``. The subscriber turns the flag on (``notify-keyspace-events`` gets ``K``
and ``h`` added to whatever it holds: the embedded server, or a user's Valkey that allows CONFIG SET), and
hands each written symbol to ``notice`` (the engine records the price in history and settles the symbol).
Messages that arrive together are handled once per symbol: ``notice`` reads the hash as it is now.

Where the flag cannot be turned on (CONFIG is disabled on managed services), it says so once in the log and
stops: the tick loop's pass (every ``TICK_LOOP_SEC``) then notices outside writes by polling. Pub/Sub drops
messages while a connection is down, so after a reconnect the subscriber asks for one polling pass
(``catch_up``). Several subscribers (server workers, other processes) may run at once: recording is
idempotent per feed snapshot and settlement per order, so nothing is recorded or filled twice.

On Valkey Cluster a node publishes only the events of its own keys, so there is a subscriber per primary. The
primaries are asked for again (``urls()``) at every retry of a subscriber that lost its node, and every few
seconds by the others: after a failover the promoted replica, at its own address, gets a subscriber of its own
(which catches up first), and the one of the old address ends.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import redis

from ..keys import Keys

log = logging.getLogger("mockexchange_ccxt.notifications")

#: Keyspace events of hash writes (``HSET``, ``HMSET``, ``HSETNX``, ``HINCRBY...`` all publish these).
HASH_EVENTS = frozenset({"hset", "hsetnx", "hincrby", "hincrbyfloat"})
_REDIS_ERRORS = (redis.RedisError, OSError)
_warned_unavailable = False


def enable_keyspace_events(client: redis.Redis) -> str | None:
    """Make sure ``notify-keyspace-events`` includes keyspace (``K``) hash (``h``) events, keeping what it had;
    returns None when they are on, else why they cannot be (CONFIG refused)."""
    try:
        current = str(client.config_get("notify-keyspace-events").get("notify-keyspace-events", ""))
        if "K" in current and ("h" in current or "A" in current):
            return None
        wanted = "".join(dict.fromkeys(current + "Kh"))
        client.config_set("notify-keyspace-events", wanted)
    except redis.ResponseError as exc:
        return str(exc)
    return None


class Notifications:
    """Daemon threads subscribed to the feed hashes' keyspace events: one per primary (``urls()``: the one
    server, or every primary of a Valkey Cluster, asked again whenever a subscriber lost its primary)."""

    def __init__(
        self,
        urls: Callable[[], list[str]],
        keys: Keys,
        notice: Callable[[str], object],
        catch_up: Callable[[], object],
        retry_sec: float = 1.0,
        recheck_sec: float = 5.0,
    ) -> None:
        self.urls = urls
        self.keys = keys
        self.notice = notice
        self.catch_up = catch_up
        self.retry_sec = retry_sec
        self.recheck_sec = recheck_sec  # how often a listening subscriber asks whether its node is still a primary
        self.subscribed = threading.Event()  # set while every primary has a subscriber listening (tests wait on it)
        self.unavailable: str | None = None  # why notifications are off, when they are
        self.handled = 0
        self._stop = threading.Event()
        self._threads: dict[str, threading.Thread] = {}
        self._primaries: list[str] = []
        self._listening: set[str] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._follow(self.urls(), catch_up=False)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        with self._lock:
            threads = list(self._threads.values())
        for thread in threads:
            thread.join(timeout)
        with self._lock:
            self._threads = {}
            self._listening = set()
        self.subscribed.clear()

    @property
    def running(self) -> bool:
        with self._lock:
            return any(thread.is_alive() for thread in self._threads.values())

    def _follow(self, urls: list[str], catch_up: bool) -> None:
        """Make ``urls`` the primaries to listen to, and start a subscriber for each one that has none."""
        with self._lock:
            self._primaries = list(urls)
            for url in urls:
                thread = self._threads.get(url)
                if thread is None or not thread.is_alive():
                    thread = threading.Thread(
                        target=self._run, args=(url, catch_up), name="mockexchange-notifications", daemon=True
                    )
                    self._threads[url] = thread
                    thread.start()
            self._update_subscribed()

    def _still_primary(self, url: str) -> bool:
        """Ask for the primaries again (a failover gives the promoted replica's address): subscribers start for
        new ones; False when ``url`` is no longer one of them (its subscriber then ends)."""
        try:
            urls = self.urls()
        except Exception as exc:  # the cluster cannot say yet: keep trying the same address meanwhile
            log.debug("cannot list the Valkey primaries yet (%s)", exc)
            return True
        if self._stop.is_set():
            return True
        self._follow(urls, catch_up=True)
        if url in urls:
            return True
        with self._lock:
            if self._threads.get(url) is threading.current_thread():
                del self._threads[url]
        return False

    def _update_subscribed(self) -> None:
        """(Holding the lock.) ``subscribed`` is set while every primary's subscriber listens."""
        if self._primaries and all(url in self._listening for url in self._primaries):
            self.subscribed.set()
        else:
            self.subscribed.clear()

    def _listening_on(self, url: str, listening: bool) -> None:
        with self._lock:
            (self._listening.add if listening else self._listening.discard)(url)
            self._update_subscribed()

    def _run(self, url: str, catch_up: bool) -> None:
        while not self._stop.is_set():
            try:
                if not self._listen(url, catch_up):
                    self._listening_on(url, False)
                    return  # notifications cannot be turned on (the tick loop polls instead), or not a primary
            except _REDIS_ERRORS as exc:  # said once per outage, then quietly retried every retry_sec
                (log.warning if url in self._listening else log.debug)(
                    "keyspace notifications lost (%s); reconnecting", exc
                )
            except Exception:  # the subscriber must outlive any bug in handling one message
                log.exception("keyspace notification subscriber crashed; restarting it")
            self._listening_on(url, False)
            catch_up = True
            self._stop.wait(self.retry_sec)
            if not self._stop.is_set() and not self._still_primary(url):
                return

    def _listen(self, url: str, catch_up: bool) -> bool:
        """Listen to ``url`` until stopped or the connection breaks (True: try again), or until it is no longer
        a primary or notifications cannot be turned on (False)."""
        global _warned_unavailable
        client = redis.Redis.from_url(url, decode_responses=True, encoding_errors="replace")
        try:
            problem = enable_keyspace_events(client)
            if problem is not None:
                self.unavailable = problem
                if not _warned_unavailable:
                    _warned_unavailable = True
                    log.warning(
                        "keyspace notifications cannot be turned on (%s): outside price writes are noticed by "
                        "the tick loop's polling instead",
                        problem,
                    )
                return False
            db = client.connection_pool.connection_kwargs.get("db", 0)
            channel_prefix = f"__keyspace@{db}__:"
            pubsub = client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call,unused-ignore]
            pubsub.psubscribe(channel_prefix + self.keys.price_pattern)
            self._listening_on(url, True)
            if catch_up:
                self.catch_up()  # writes made while nobody listened here
            recheck = time.monotonic() + self.recheck_sec
            try:
                while not self._stop.is_set():
                    if time.monotonic() >= recheck:  # a failover or a new primary, without a broken connection
                        recheck = time.monotonic() + self.recheck_sec
                        if not self._still_primary(url):
                            return False
                    symbols = self._drain(pubsub, channel_prefix)
                    for symbol in symbols:
                        try:
                            self.notice(symbol)
                        except Exception as exc:  # one symbol's trouble must not stop the others
                            log.warning("handling an outside write to %s failed: %s", symbol, exc)
                        self.handled += 1
            finally:
                pubsub.close()
        finally:
            client.close()
        return True

    def _drain(self, pubsub: redis.client.PubSub, channel_prefix: str) -> list[str]:
        """The symbols written, in order of first write: one blocking wait, then whatever else is queued."""
        symbols: dict[str, None] = {}
        message = pubsub.get_message(timeout=0.2)
        while message is not None:
            if message.get("type") == "pmessage" and message.get("data") in HASH_EVENTS:
                name = str(message["channel"])[len(channel_prefix) :]
                symbols[self.keys.symbol_from_price_key(name)] = None
            message = pubsub.get_message(timeout=0)
        return list(symbols)
