-- publish_price.lua: write a price into a feed hash the way the seed's feed does (set_price).
-- KEYS[1] the feed hash sym_<SYMBOL>
-- ARGV[1] price   ARGV[2] timestamp (ms)   ARGV[3] bid or '' to drop it   ARGV[4] ask or '' to drop it
-- reply: 1
-- A key of another type under the feed's name cannot hold a price: it is replaced, so that the settlement
-- that follows in the same round trip always runs against the price that was just published.
local feed = KEYS[1]
local kind = redis.call('TYPE', feed)['ok']
if kind ~= 'hash' and kind ~= 'none' then
  redis.call('DEL', feed)
end
redis.call('HSET', feed, 'price', ARGV[1], 'timestamp', ARGV[2])
for i, name in ipairs({'bid', 'ask'}) do
  if ARGV[2 + i] == '' then
    redis.call('HDEL', feed, name)
  else
    redis.call('HSET', feed, name, ARGV[2 + i])
  end
end
return 1
