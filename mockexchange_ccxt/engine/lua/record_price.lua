-- record_price.lua: fold one price into its symbol's history (candle_lib.lua), and in 'publish' mode also write it
-- into the feed hash (set_price), so that the price and its history are written in one step.
-- KEYS[1] the feed hash sym_<SYMBOL>  KEYS[2] candles 1m  KEYS[3] candles 1h
-- ARGV[1] 'publish' or 'record'  ARGV[2] price  ARGV[3] timestamp (ms)  ARGV[4] its minute  ARGV[5] its ms in
-- that minute  ARGV[6] days kept  ARGV[7] base volume  ARGV[8] quote volume: integers of their units, or plain
-- decimals after '=' when finer ('' for none)  ARGV[9] the feed's volume field ('' for none)
-- publish: ARGV[10] bid, ARGV[11] ask, ARGV[12] bids, ARGV[13] asks, when any is given ('' or absent drops the
-- field from the feed hash)
-- record (a write made by someone else, noticed later): ARGV[10] the fingerprint the caller parsed
-- reply: 1 when the feed hash holds this price afterwards; 0 when it did not change it: a publish older than
-- the feed's newest price (late data is recorded in its minute, never moves the last price back), or a
-- record whose snapshot was already recorded (by the engine's own publish, or by another process) or has
-- been replaced meanwhile.
local extra = {unpack(ARGV, 10)}
return record_price(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5],
  tonumber(ARGV[6]), ARGV[7], ARGV[8], ARGV[9], extra)
