"""mockexchange_ccxt: a zero-risk spot exchange for ccxt bots, with state in Valkey.

Public API: ``Engine`` (the exchange itself), ``Settings`` (configuration), ``ReplayClock`` (back-test time)
and the error classes in ``mockexchange_ccxt.errors``.
"""

from .config import Settings
from .engine import Engine, ReplayClock

__all__ = ["Engine", "ReplayClock", "Settings"]
__version__ = "0.1.0"
