"""The exchange engine: state in Valkey, exact money, one atomic script per operation. No ccxt, no HTTP."""

from .clock import ReplayClock, WallClock
from .core import Engine
from .embedded import EmbeddedValkey

__all__ = ["EmbeddedValkey", "Engine", "ReplayClock", "WallClock"]
