-- lib.lua: helpers shared by the scripts; engine/store.py prepends this file to each script it loads (one whose
-- first line is '-- uses <name> ...' gets those files instead, in that order).
--
-- Balances live in one hash as integer strings of units (1e-8): fields free:<ASSET>, used:<ASSET>,
-- held:<ASSET> (the part of used that open orders reserve) and pend:<ASSET> (what open orders' fills will
-- bring in). Lua numbers are doubles, exact only below 2^53, so amounts are compared as strings, summed in
-- two exact halves, and changed only with HINCRBY, which is exact int64 arithmetic.
--
-- A "moves" list is flat: op, field, units, op, field, units, ... planned by engine/moves.py, one move per
-- field:
--   'D' debit: the field must hold at least units;   'C' credit: the field plus units must fit in int64;
--   'Q' require: the field must hold at least units, nothing is written;
--   'G' growth check: the fields named (space-separated) plus units must fit in int64, nothing is written.
-- Every script checks all the moves of an operation before it writes anything for it.

-- a >= b for non-negative integers written in decimal without leading zeros
local function units_ge(a, b)
  if #a ~= #b then
    return #a > #b
  end
  return a >= b
end

local function is_units(text)
  return type(text) == 'string' and #text <= 19 and string.match(text, '^%d+$') ~= nil
end

-- Whether the sum of non-negative unit strings stays within int64 (2^63 - 1 = 9223372036|854775807).
local function sum_fits(values)
  local high, low = 0, 0
  for _, text in ipairs(values) do
    local n = #text
    if n > 9 then
      high = high + tonumber(string.sub(text, 1, n - 9))
      low = low + tonumber(string.sub(text, n - 8))
    else
      low = low + tonumber(text)
    end
  end
  high = high + math.floor(low / 1000000000)
  low = low % 1000000000
  return high < 9223372036 or (high == 9223372036 and low <= 854775807)
end

-- Check moves against the balances hash. Returns nil when all hold, else the kind of failure and its detail:
-- 'INSUFFICIENT_FUNDS', '<field> <needed> <available>'  or  'OVERFLOW', '<fields> <units>'.
local function check_moves(balances, moves)
  if #moves == 0 then
    return nil
  end
  local fields = {}
  for i = 1, #moves, 3 do
    if moves[i] == 'G' then
      for name in string.gmatch(moves[i + 1], '%S+') do
        fields[#fields + 1] = name
      end
    else
      fields[#fields + 1] = moves[i + 1]
    end
  end
  local values = redis.call('HMGET', balances, unpack(fields))
  local have = {}
  for i, name in ipairs(fields) do
    have[name] = values[i] or '0'
  end
  for i = 1, #moves, 3 do
    local op, field, units = moves[i], moves[i + 1], moves[i + 2]
    if op == 'D' or op == 'Q' then
      if not (is_units(have[field]) and units_ge(have[field], units)) then
        return 'INSUFFICIENT_FUNDS', field .. ' ' .. units .. ' ' .. tostring(have[field])
      end
    elseif op == 'C' then
      if not (is_units(have[field]) and sum_fits({have[field], units})) then
        return 'OVERFLOW', field .. ' ' .. units
      end
    elseif op == 'G' then
      local terms = {units}
      for name in string.gmatch(field, '%S+') do
        if not is_units(have[name]) then
          return 'OVERFLOW', field .. ' ' .. units
        end
        terms[#terms + 1] = have[name]
      end
      if not sum_fits(terms) then
        return 'OVERFLOW', field .. ' ' .. units
      end
    end
  end
  return nil
end

-- Apply moves that check_moves accepted ('Q' and 'G' write nothing).
local function apply_moves(balances, moves)
  for i = 1, #moves, 3 do
    local op = moves[i]
    if op == 'C' then
      redis.call('HINCRBY', balances, moves[i + 1], moves[i + 2])
    elseif op == 'D' then
      redis.call('HINCRBY', balances, moves[i + 1], '-' .. moves[i + 2])
    end
  end
end

-- The failure of check_moves as an error reply: INSUFFICIENT_FUNDS as it is, an overflow as INVALID_ORDER
-- (or the code given); engine/balances.py turns both into sentences.
local function refuse(kind, detail, overflow_code)
  if kind == 'OVERFLOW' then
    return redis.error_reply((overflow_code or 'INVALID_ORDER') .. ' OVERFLOW ' .. detail)
  end
  return redis.error_reply(kind .. ' ' .. detail)
end

-- Order records (engine/record_codec.py): stored under short names (RECORD_NAMES, long -> short, which
-- engine/store.py fills in when it loads a script), read and written here under the long ones, the fee as
-- fee_currency, fee_cost, fee_rate. A field the stored form leaves out is absent here too: the codec's rules
-- say what it is (a script that finishes an order sets filled, remaining, average and lastTradeTimestamp to
-- nil: closed, they follow from the others). A record stored before the compact form (it spells 'status') is
-- read as it is and saved compact.
local RECORD_NAMES = {}
local RECORD_LONG = {}
for name, short in pairs(RECORD_NAMES) do
  RECORD_LONG[short] = name
end

-- An open order's _fill or _release from its _held ({asset held, units, asset expected, units}) by a template of
-- RECORD_HELD (op, field up to the asset, 1: what it holds or 2: what it expects, ...; engine/moves.py
-- resting_moves, put here by engine/record_codec.py).
local function held_moves(template, held)
  local out = {}
  for i = 1, #template, 3 do
    local role = template[i + 2]
    out[#out + 1] = template[i]
    out[#out + 1] = template[i + 1] .. held[2 * role - 1]
    out[#out + 1] = held[2 * role]
  end
  return out
end

local function load_order(raw)
  local stored = cjson.decode(raw)
  if stored.status == nil then
    local order = {}
    for short, value in pairs(stored) do
      order[RECORD_LONG[short] or short] = value
    end
    local held = order._held or order._held_release
    if held then
      order._release = held_moves(RECORD_HELD.release, held)
      if order._held then
        order._fill = held_moves(RECORD_HELD.fill, held)
      end
    end
    return order
  end
  local fee = stored.fee
  stored.id, stored.fee = nil, nil
  stored.fee_currency, stored.fee_cost, stored.fee_rate = fee.currency, fee.cost, fee.rate
  return stored
end

local function save_order(order)
  local fee = order.fee -- a planned `_done` sets the fee whole
  if type(fee) == 'table' then
    order.fee, order.fee_currency, order.fee_cost, order.fee_rate = nil, fee.currency, fee.cost, fee.rate
  end
  local stored = {}
  for name, value in pairs(order) do
    stored[RECORD_NAMES[name] or name] = value
  end
  if order._held or order._held_release then -- _fill and _release follow from it, until they are cleared
    if order._release then
      stored[RECORD_NAMES._fill], stored[RECORD_NAMES._release] = nil, nil
    else
      stored[RECORD_NAMES._held], stored[RECORD_NAMES._held_release] = nil, nil
    end
  end
  return cjson.encode(stored)
end

-- An open order whose fill the balances cannot take stays open, with the reason in its record.
local function hold_back(orders, id, order, kind, detail)
  local reason = 'not filled: ' .. kind .. ' ' .. detail
  if order.reason ~= reason then
    order.reason = reason
    redis.call('HSET', orders, id, save_order(order))
  end
end

-- Drop the symbol from the set of symbols with open orders once all of its sets are empty.
local function forget_if_idle(active, sets, symbol)
  for _, key in ipairs(sets) do
    if redis.call('ZCARD', key) > 0 then
      return
    end
  end
  redis.call('SREM', active, symbol)
end

-- Record a trade in the fill index of its symbol (scored by its time). The account's own index (``fills``) is
-- not written: a listing of every symbol's trades merges the symbols' (engine/queries.py), and an entry costs
-- as much memory as a small record; it only still holds trades indexed before, which retention removes.
local function index_fill(_fills, symbol_fills, ts, trade_id)
  redis.call('ZADD', symbol_fills, ts, trade_id)
end

-- One command per key for the whole batch, in chunks (unpack has a stack limit).
local function each_chunk(items, call)
  for first = 1, #items, 4000 do
    call(unpack(items, first, math.min(first + 3999, #items)))
  end
end
