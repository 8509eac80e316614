-- settle.lua: fill the resting orders of one symbol that a price crossed, at their limit price (maker).
-- Idempotent: an order leaves its book in the same step that fills it, so a second run finds nothing.
-- KEYS[1] balances  KEYS[2] orders  KEYS[3] open ids  KEYS[4] active symbols  KEYS[5] buy book  KEYS[6] sell book
-- ARGV[1] symbol  ARGV[2] ask units (buys at or above it fill)  ARGV[3] bid units (sells at or below it fill)
-- ARGV[4] fill timestamp (ms)  ARGV[5] at most this many orders per call (the caller calls again while full)
-- KEYS[7] (optional) the feed hash: then ARGV[6] and ARGV[7] are the price and timestamp it must still hold
-- (set_price settles in the same round trip as its write, which leaves the feed alone when it already holds a
-- newer price; a single node only, where a script may touch the feed's slot too)
-- Book scores are exact: prices are capped below 2^53 units.
-- reply: {orders taken from the books, orders filled}; {-1, 0} when the feed does not hold the expected price
if KEYS[7] then
  local held = redis.call('HMGET', KEYS[7], 'price', 'timestamp')
  if held[1] ~= ARGV[6] or held[2] ~= ARGV[7] then
    return {-1, 0}
  end
end
local balances, orders, open_ids = KEYS[1], KEYS[2], KEYS[3]
local ts, batch = tonumber(ARGV[4]), tonumber(ARGV[5])
local taken, filled = 0, 0

-- ZREM in chunks: one call per few thousand members instead of one per order (unpack has a stack limit).
local function remove_all(key, ids)
  for first = 1, #ids, 4000 do
    redis.call('ZREM', key, unpack(ids, first, math.min(first + 3999, #ids)))
  end
end

local function fill(book, ids)
  local done = {}
  for _, id in ipairs(ids) do
    local raw = redis.call('HGET', orders, id)
    local order = raw and cjson.decode(raw)
    if order and order.status == 'open' then
      if uncovered_debit(balances, order._fill) then
        -- Only an admin edit can make a reservation vanish; leave the order open rather than go negative.
        break
      end
      apply_moves(balances, order._fill)
      order.status = 'closed'
      order.filled = order.amount
      order.remaining = '0'
      order.cost = order._cost
      order.average = order.price
      order.fee.cost = order._fee
      order.lastTradeTimestamp = ts
      order.lastUpdateTimestamp = ts
      redis.call('HSET', orders, id, cjson.encode(order))
      filled = filled + 1
    end
    done[#done + 1] = id
  end
  if #done > 0 then
    remove_all(book, done)
    remove_all(open_ids, done)
  end
  taken = taken + #done
end

fill(KEYS[5], redis.call('ZRANGEBYSCORE', KEYS[5], ARGV[2], '+inf', 'LIMIT', 0, batch))
if taken < batch then
  fill(KEYS[6], redis.call('ZRANGEBYSCORE', KEYS[6], '-inf', ARGV[3], 'LIMIT', 0, batch - taken))
end
forget_if_idle(KEYS[4], KEYS[5], KEYS[6], ARGV[1])
return {taken, filled}
