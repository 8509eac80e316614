"""A bounded memo: what the hot paths keep of work that gives the same answer for the same input (a second's
text, a market's texts, a quote's script arguments, ccxt's rounding of a value).

Such inputs repeat (a bot sends the same few amounts; prices revisit the same levels), but a long run could
bring ever new ones, so every memo has a bound; reaching it forgets everything at once, which costs one miss per
entry afterwards and needs no bookkeeping on a hit (a hit is a plain ``dict.get``).
"""

from __future__ import annotations

from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Memo(dict[K, V]):
    """A dict that holds at most ``bound`` entries: ``keep`` empties it when it is full, then stores."""

    def __init__(self, bound: int) -> None:
        super().__init__()
        self.bound = bound

    def keep(self, key: K, value: V) -> V:
        """Store ``value`` under ``key`` (forgetting everything first when full) and return it."""
        if len(self) >= self.bound:
            self.clear()
        self[key] = value
        return value
