-- settle.lua: fill the resting orders of one symbol that a price crossed, at their limit price (maker), and
-- hand back the trigger orders the last price reached (Python plans them at the same quote: fire_triggers.lua).
-- Idempotent: an order leaves its book in the same step that fills it, so a second run finds nothing.
-- KEYS[1] balances  KEYS[2] orders  KEYS[3] open ids  KEYS[4] active symbols  KEYS[5] buy book  KEYS[6] sell book
-- KEYS[7] up triggers  KEYS[8] down triggers  KEYS[9] fills (not written: lib.lua index_fill)
-- KEYS[10] fills of the symbol  KEYS[11] finished ids
-- ARGV[1] symbol  ARGV[2] ask units (buys at or above it fill)  ARGV[3] bid units (sells at or below it fill)
-- ARGV[4] last price units rounded down (up triggers at or below it fire)
-- ARGV[5] last price units rounded up (down triggers at or above it fire)
-- ARGV[6] the quote's time (ms); a fill is never timed before its order
-- ARGV[7] at most this many orders per call (the caller calls again while full)
-- ARGV[8..11] how many orders to pass over at the front of each set (buy, sell, up, down): those an earlier
-- call of this pass skipped
-- KEYS[12] (optional) the feed hash: then ARGV[12] and ARGV[13] are the price and timestamp it must still hold
-- (set_price settles in the same round trip as its write, which leaves the feed alone when it already holds a
-- newer price; a single node only, where a script may touch the feed's slot too)
-- Book scores are exact: prices are capped below 2^53 units.
-- An order whose fill the balances cannot take (its reservation changed outside the engine, or a credit would
-- pass int64) is skipped and stays open and cancelable, with the reason in its record; the others still fill.
-- reply: {orders taken from the sets, orders filled, skipped buys, skipped sells, id, JSON, id, JSON, ...} where
-- the pairs are the triggered orders (still untriggered in their sets); {-1, 0, 0, 0} when the feed does not
-- hold the expected price
if KEYS[12] then
  local held = redis.call('HMGET', KEYS[12], 'price', 'timestamp')
  if held[1] ~= ARGV[12] or held[2] ~= ARGV[13] then
    return {-1, 0, 0, 0}
  end
end
local balances, orders, open_ids = KEYS[1], KEYS[2], KEYS[3]
local ts, batch = tonumber(ARGV[6]), tonumber(ARGV[7])
local taken, filled = 0, 0
local skips = {0, 0}

-- ZREM and ZADD in chunks (lib.lua each_chunk): one call per few thousand members instead of one per order.
local function remove_all(key, ids)
  each_chunk(ids, function(...) redis.call('ZREM', key, ...) end)
end

local function add_fills(key, entries)
  each_chunk(entries, function(...) redis.call('ZADD', key, ...) end)
end

local function fill(side, book, ids)
  local done, fills = {}, {}
  for _, id in ipairs(ids) do
    local raw = redis.call('HGET', orders, id)
    local order = raw and load_order(raw)
    local keep = false
    if order and order.status == 'open' then
      local kind, detail = check_moves(balances, order._fill)
      if kind then
        keep = true
        skips[side] = skips[side] + 1
        hold_back(orders, id, order, kind, detail)
      else
        apply_moves(balances, order._fill)
        local at = math.max(ts, order.timestamp)
        order.status = 'closed' -- filled, remaining, average and the trade's time follow (lib.lua load_order)
        order.filled, order.remaining, order.average, order.lastTradeTimestamp = nil, nil, nil, nil
        order.cost = order._cost
        order.fee_cost = order._fee
        order.lastUpdateTimestamp = at
        order.reason = nil
        order._fill, order._release, order._cost, order._fee, order._at = nil, nil, nil, nil, nil
        redis.call('HSET', orders, id, save_order(order))
        fills[#fills + 1] = at
        fills[#fills + 1] = id
        filled = filled + 1
      end
    end
    if not keep then
      done[#done + 1] = id
    end
  end
  if #done > 0 then
    remove_all(book, done)
    remove_all(open_ids, done)
  end
  if #fills > 0 then
    add_fills(KEYS[10], fills)
    add_fills(KEYS[11], fills)
  end
  taken = taken + #ids
end

fill(1, KEYS[5], redis.call('ZRANGEBYSCORE', KEYS[5], ARGV[2], '+inf', 'LIMIT', ARGV[8], batch))
if taken < batch then
  fill(2, KEYS[6], redis.call('ZRANGEBYSCORE', KEYS[6], '-inf', ARGV[3], 'LIMIT', ARGV[9], batch - taken))
end
local reply = {taken, filled, skips[1], skips[2]}
local function hand_back(ids)
  taken = taken + #ids
  if #ids == 0 then
    return
  end
  for first = 1, #ids, 4000 do
    local last = math.min(first + 3999, #ids)
    local raws = redis.call('HMGET', orders, unpack(ids, first, last))
    for i = first, last do
      reply[#reply + 1] = ids[i]
      reply[#reply + 1] = raws[i - first + 1] or ''
    end
  end
end
if taken < batch then
  hand_back(redis.call('ZRANGEBYSCORE', KEYS[7], '-inf', ARGV[4], 'LIMIT', ARGV[10], batch - taken))
end
if taken < batch then
  hand_back(redis.call('ZRANGEBYSCORE', KEYS[8], ARGV[5], '+inf', 'LIMIT', ARGV[11], batch - taken))
end
reply[1] = taken
forget_if_idle(KEYS[4], {KEYS[5], KEYS[6], KEYS[7], KEYS[8]}, ARGV[1])
return reply
