"""Price sources that run outside the engine and write through it (so history and settlement follow):
``mirror`` (a real exchange's public data through ccxt), ``files`` (candle files), ``commands`` (the CLI's
``feed``, ``import-ohlcv`` and ``replay``). Each talks to the exchange through ``routes.Call``s, so the same code
works on an engine in this process and on a server over HTTP."""
