-- cancel_order.lua: cancel open orders atomically, releasing exactly what each still holds.
-- KEYS[1] balances  KEYS[2] orders  KEYS[3] open ids  KEYS[4] active symbols  KEYS[5] finished ids
-- KEYS[6..] four sets per symbol, in ARGV's order of symbols: buy book, sell book, up triggers, down triggers
-- ARGV[1] mode  ARGV[2] timestamp (ms)  ARGV[3] n, the number of symbols  ARGV[4..3+n] the symbols, then:
--   mode 'ids': m, m ids, the m records' JSON as the caller read them, then the moves of all their releases
--     (netted by the caller); all or nothing
--   mode 'one': the id of one order of the one symbol (the caller knows its symbol, not its record): it is
--     released by the moves its record keeps (netted when it was planned)
--   mode 'all': nothing more; every open order of the one symbol, each checked and released on its own; an
--     order whose reservation is not there any more (a balance changed outside the engine) is skipped
-- reply: {{id, stored record, ... of the canceled orders}, {skipped ids...}}, or {'STALE'} ('ids': a record
-- changed since the caller read it; 'one': the order is not of that symbol; nothing is written, the caller
-- reads again)
-- errors ('ids', 'one'): ORDER_NOT_FOUND, ORDER_NOT_OPEN, INSUFFICIENT_FUNDS <field> <needed> <available>;
-- nothing written
local mode, ts, n = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local sets_of, slot = {}, {u = 3, d = 4}
for i = 1, n do
  local first = 6 + (i - 1) * 4
  sets_of[ARGV[3 + i]] = {KEYS[first], KEYS[first + 1], KEYS[first + 2], KEYS[first + 3]}
end

local canceled, skipped = {}, {}

-- The open order ``id``, or the error that says why it cannot be canceled.
local function open_order(id)
  local raw = redis.call('HGET', KEYS[2], id)
  if not raw then
    return nil, nil, redis.error_reply('ORDER_NOT_FOUND order ' .. id .. ' does not exist')
  end
  local order = load_order(raw)
  if order.status ~= 'open' then
    return nil, nil, redis.error_reply('ORDER_NOT_OPEN order ' .. id .. ' is ' .. order.status .. ', not open')
  end
  return order, raw, nil
end

local function cancel(id, order)
  local sets = sets_of[order.symbol]
  redis.call('ZREM', sets[slot[order._at] or (order.side == 'buy' and 1 or 2)], id)
  redis.call('ZREM', KEYS[3], id)
  order.status = 'canceled'
  order.reason = nil -- the owner ended it: a skipped fill's reason no longer says why it is canceled
  order.lastUpdateTimestamp = math.max(ts, order.timestamp)
  order._fill, order._release, order._cost, order._fee, order._at = nil, nil, nil, nil, nil
  order._trade, order._done = nil, nil
  local encoded = save_order(order)
  redis.call('HSET', KEYS[2], id, encoded)
  redis.call('ZADD', KEYS[5], string.format('%d', order.lastUpdateTimestamp), id)
  canceled[#canceled + 1] = id
  canceled[#canceled + 1] = encoded
end

if mode == 'ids' then
  local m = tonumber(ARGV[4 + n])
  local first_id, first_raw = 5 + n, 5 + n + m
  local orders = {}
  for i = 0, m - 1 do
    local id = ARGV[first_id + i]
    local order, raw, problem = open_order(id)
    if problem then
      return problem
    end
    if raw ~= ARGV[first_raw + i] or not sets_of[order.symbol] then
      return {'STALE'}
    end
    orders[#orders + 1] = {id, order}
  end
  local kind, detail = check_moves(KEYS[1], ARGV, first_raw + m)
  if kind then
    return refuse(kind, detail, 'INTERNAL')
  end
  apply_moves(KEYS[1], ARGV, first_raw + m)
  for _, entry in ipairs(orders) do
    cancel(entry[1], entry[2])
  end
elseif mode == 'one' then
  local id = ARGV[5]
  local order, _, problem = open_order(id)
  if problem then
    return problem
  end
  if not sets_of[order.symbol] then
    return {'STALE'}
  end
  local kind, detail = check_moves(KEYS[1], order._release)
  if kind then
    return refuse(kind, detail, 'INTERNAL')
  end
  apply_moves(KEYS[1], order._release)
  cancel(id, order)
else
  local seen = {}
  for _, key in ipairs(sets_of[ARGV[4]]) do
    for _, id in ipairs(redis.call('ZRANGE', key, 0, -1)) do
      local raw = not seen[id] and redis.call('HGET', KEYS[2], id)
      seen[id] = true
      local order = raw and load_order(raw)
      if order and order.status == 'open' then
        if check_moves(KEYS[1], order._release) then
          skipped[#skipped + 1] = id
        else
          apply_moves(KEYS[1], order._release)
          cancel(id, order)
        end
      end
    end
  end
end
for symbol, sets in pairs(sets_of) do
  forget_if_idle(KEYS[4], sets, symbol)
end
return {canceled, skipped}
