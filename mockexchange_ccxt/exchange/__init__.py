"""The ccxt faces of the engine: ``sync.MockExchange`` and ``aio.AsyncMockExchange`` (import them from
``mockexchange_ccxt``, which loads each only when first used)."""
