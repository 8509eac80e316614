-- publish_settle.lua: set_price on a single node, in one script: write the price into the feed hash and fold it
-- into the candles (record_lib's record_price, as record_price.lua in 'publish' mode), then settle the symbol
-- for the engine's own account at that price (settle_lib's settle_orders, as settle.lua). One call instead of
-- two: the settlement sees exactly the price just written, and the recording adds no command to the round trip.
-- KEYS[1] the feed hash  KEYS[2] candles 1m  KEYS[3] candles 1h  KEYS[4..13] settle.lua's KEYS[1..10]
-- ARGV[1] n, how many arguments record_price.lua would take; ARGV[2..n+1] those ('publish', price, ...);
-- ARGV[n+2..] settle.lua's ARGV
-- reply: settle.lua's; {-1, 0, 0, 0} when the feed held a newer price (this late one was only recorded, and
-- the caller settles from what the feed holds)
local n = tonumber(ARGV[1])
local current = record_price(KEYS[1], KEYS[2], KEYS[3], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6],
  tonumber(ARGV[7]), ARGV[8], ARGV[9], ARGV[10], n > 9 and {unpack(ARGV, 11, n + 1)} or NO_EXTRA)
if current == 0 then
  return {-1, 0, 0, 0}
end
return settle_orders({unpack(KEYS, 4, 13)}, {unpack(ARGV, n + 2)})
