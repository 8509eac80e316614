-- settle_lib.lua: the settlement of one symbol at one quote, for the scripts that settle (after lib.lua).
-- settle.lua's work (its header says what KEYS and ARGV hold): a function, so that publish_settle.lua settles in
-- the same script that writes the price. The parameters keep the names of the tables they stand for.
local function settle_orders(KEYS, ARGV)
  local balances, orders, open_ids = KEYS[1], KEYS[2], KEYS[3]
  local ts, batch = tonumber(ARGV[6]), tonumber(ARGV[7])
  local taken, filled = 0, 0
  local skips = {0, 0}
  local ledger = new_ledger() -- the orders' fills change a few balance fields many times: written once, at the end

  -- ZREM and ZADD in chunks (lib.lua each_chunk): one call per few thousand members instead of one per order.
  local function remove_all(key, ids)
    each_chunk(ids, function(...) redis.call('ZREM', key, ...) end)
  end

  local function add_fills(key, entries)
    each_chunk(entries, function(...) redis.call('ZADD', key, ...) end)
  end

  -- The records of ``ids``, read in one HMGET per chunk rather than one HGET per order.
  local function records(ids)
    local raws = {}
    for first = 1, #ids, 4000 do
      local last = math.min(first + 3999, #ids)
      local got = redis.call('HMGET', orders, unpack(ids, first, last))
      for i = first, last do
        raws[i] = got[i - first + 1]
      end
    end
    return raws
  end

  local function fill(side, book, ids)
    local done, fills, saved = {}, {}, {}
    local raws = records(ids)
    for n, id in ipairs(ids) do
      local raw = raws[n]
      local order = raw and load_order(raw)
      local keep = false
      if order and order.status == 'open' then
        local kind, detail = check_moves(balances, order._fill, 1, ledger)
        if kind then
          keep = true
          skips[side] = skips[side] + 1
          hold_back(orders, id, order, kind, detail)
        else
          apply_moves(balances, order._fill, 1, ledger)
          local at = math.max(ts, order.timestamp)
          order.status = 'closed' -- filled, remaining, average and the trade's time follow (lib.lua load_order)
          order.filled, order.remaining, order.average, order.lastTradeTimestamp = nil, nil, nil, nil
          order.cost = order._cost
          order.fee_cost = order._fee
          order.lastUpdateTimestamp = at
          order.reason = nil
          order._fill, order._release, order._cost, order._fee, order._at = nil, nil, nil, nil, nil
          saved[#saved + 1] = id
          saved[#saved + 1] = save_order(order)
          fills[#fills + 1] = at
          fills[#fills + 1] = id
          filled = filled + 1
        end
      end
      if not keep then
        done[#done + 1] = id
      end
    end
    if #saved > 0 then -- the filled records, in one HSET per chunk, with their balances (lib.lua new_ledger)
      each_chunk(saved, function(...) redis.call('HSET', orders, ...) end)
      write_ledger(balances, ledger)
    end
    if #done > 0 then
      remove_all(book, done)
      remove_all(open_ids, done)
    end
    if #fills > 0 then
      add_fills(KEYS[9], fills)
      add_fills(KEYS[10], fills)
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
end
