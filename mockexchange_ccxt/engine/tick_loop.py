"""The tick loop: settles orders against prices that an outside feed wrote straight into Valkey.

Prices written through the engine settle at once; keyspace notifications (``notifications.py``) handle outside
writes as they happen; the loop is the fallback for everything else. Every ``interval`` seconds it reads, for
every account, the set of symbols that have open orders (``every_account.active_by_symbol``) and settles each
symbol from its feed hash for the accounts holding orders on it, then runs ``observe`` (the engine records the
outside writes nobody recorded yet), and at most once every ``HOUSEKEEPING_SEC`` ``housekeep`` (the engine trims
finished orders past their retention, ``retention.py``). On Valkey Cluster those sets
and feed hashes are spread over every primary; the store reaches each. A Valkey hiccup, a malformed hash or
any other error is logged and the loop goes on: it stops only when asked.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ..errors import MockExchangeError

log = logging.getLogger("mockexchange_ccxt.tick_loop")

#: The shortest time between two housekeeping runs, however short the interval: trimming has no hurry, and a
#: server's workers with a 10 ms interval would otherwise read every account's finished orders 100 times a second.
HOUSEKEEPING_SEC = 1.0


class TickLoop:
    """Runs ``settle(symbol, accounts)`` for every active symbol, once per interval, in a daemon thread."""

    def __init__(
        self,
        active: Callable[[], dict[str, set[str]]],
        settle: Callable[[str, set[str]], int],
        interval: float,
        observe: Callable[[], int] | None = None,
        housekeep: Callable[[], object] | None = None,
    ) -> None:
        """``observe`` runs once per pass after the settlements, ``housekeep`` after it at most once every
        ``HOUSEKEEPING_SEC``."""
        self.active = active
        self.settle = settle
        self.observe = observe
        self.housekeep = housekeep
        self._housekept = float("-inf")
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.passes = 0

    def active_symbols(self) -> list[str]:
        """Symbols with open orders in any account."""
        return sorted(self.active())

    def run_once(self) -> int:
        """One pass over the active symbols; returns the number of orders filled. Never raises."""
        filled = 0
        try:
            for symbol, accounts in sorted(self.active().items()):
                try:
                    filled += self.settle(symbol, accounts)
                except MockExchangeError as exc:
                    log.warning("settling %s failed: %s", symbol, exc)
                except Exception:  # a bug met on one symbol must not starve the others
                    log.exception("settling %s crashed; the pass goes on", symbol)
            if self.observe is not None:
                filled += self.observe()
            if self.housekeep is not None and time.monotonic() - self._housekept >= HOUSEKEEPING_SEC:
                self._housekept = time.monotonic()
                self.housekeep()
        except MockExchangeError as exc:
            log.warning("tick pass failed: %s", exc)
        except Exception:  # the loop must outlive any bug in a single pass
            log.exception("tick pass crashed; the loop continues")
        self.passes += 1
        if filled:
            log.info("tick pass %d filled %d orders", self.passes, filled)
        return filled

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="mockexchange-tick-loop", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        log.info("tick loop started, every %s s", self.interval)
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self.interval)
        log.info("tick loop stopped after %d passes", self.passes)

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the loop to stop and wait for the pass in progress to finish."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
