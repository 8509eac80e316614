-- lib.lua: helpers shared by the scripts. engine/scripts.py makes the helper files (this one first, then
-- book_lib.lua, settle_lib.lua, candle_lib.lua, record_lib.lua) once, in one library of Valkey functions with
-- every script's body: a script uses what they define without defining it again on each call.
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

-- The globals the scripts use, as locals of the library: a script reads them as upvalues, at a quarter of the
-- cost of a global's lookup; and short names of what the hot paths call.
local redis, cjson, math, string, table = redis, cjson, math, string, table
local tonumber, tostring, type, ipairs, pairs, unpack, pcall = tonumber, tostring, type, ipairs, pairs, unpack, pcall
local call, find, sub, format, match = redis.call, string.find, string.sub, string.format, string.match
local concat = table.concat

-- a >= b for non-negative integers written in decimal without leading zeros
local function units_ge(a, b)
  if #a ~= #b then
    return #a > #b
  end
  return a >= b
end

local function is_units(text)
  return type(text) == 'string' and #text <= 19 and find(text, '^%d+$') ~= nil
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

-- a + b, exactly, for plain non-negative decimals: the digits (fractions aligned) added in chunks of 15 (each
-- chunk sum stays below 2^53). For volumes finer than the units, and sums beyond 10^30 units.
local function dec_add(a, b)
  local da, db = find(a, '.', 1, true), find(b, '.', 1, true)
  local ai, af = da and sub(a, 1, da - 1) or a, da and sub(a, da + 1) or ''
  local bi, bf = db and sub(b, 1, db - 1) or b, db and sub(b, db + 1) or ''
  local fw = math.max(#af, #bf)
  local x = ai .. af .. string.rep('0', fw - #af)
  local y = bi .. bf .. string.rep('0', fw - #bf)
  local width = math.max(#x, #y)
  x, y = string.rep('0', width - #x) .. x, string.rep('0', width - #y) .. y
  local parts, carry, i = {}, 0, width
  while i >= 1 do
    local j = math.max(1, i - 14)
    local sum = tonumber(sub(x, j, i)) + tonumber(sub(y, j, i)) + carry
    local limit = 10 ^ (i - j + 1)
    carry = 0
    if sum >= limit then
      sum, carry = sum - limit, 1
    end
    table.insert(parts, 1, format('%0' .. (i - j + 1) .. 'd', sum))
    i = j - 1
  end
  local digits = string.gsub((carry == 1 and '1' or '') .. table.concat(parts), '^0+', '')
  if fw == 0 then
    return digits ~= '' and digits or '0'
  end
  if #digits <= fw then
    digits = string.rep('0', fw - #digits + 1) .. digits
  end
  local int, frac = sub(digits, 1, #digits - fw), string.gsub(sub(digits, #digits - fw + 1), '0+$', '')
  return frac == '' and int or int .. '.' .. frac
end

-- An integer's text below 10^30 as two exact doubles: the digits above the last 15, and the last 15.
local function halves(text)
  return tonumber(sub(text, 1, -16)) or 0, tonumber(sub(text, -15))
end

-- The text of high * 10^15 + low, for 0 <= low < 10^15.
local function from_halves(high, low)
  if high == 0 then
    return format('%d', low)
  end
  return format('%d%015d', high, low)
end

-- a + b for non-negative integers in decimal text (units, candle volumes, what a book level gave): one double
-- addition below 10^15, two exact halves (of 15 digits each) below 10^30, else the text adder. ('%d' prints a
-- double that holds an integer exactly, and costs half of '%.0f'.)
local function units_add(a, b)
  if b == '0' then
    return a
  end
  if a == '0' then
    return b
  end
  local na, nb = #a, #b
  if na <= 15 and nb <= 15 then
    return format('%d', tonumber(a) + tonumber(b))
  end
  if na > 30 or nb > 30 then
    return dec_add(a, b)
  end
  local high_a, low_a = halves(a)
  local high_b, low_b = halves(b)
  local high, low = high_a + high_b, low_a + low_b
  if low >= 1e15 then
    low, high = low - 1e15, high + 1
  end
  return from_halves(high, low)
end


-- a - b for integers in decimal text with a >= b >= 0, both of at most 30 digits (balances, units): one double
-- subtraction below 10^15, else two exact halves of 15 digits, as units_add.
local function units_sub(a, b)
  if b == '0' then
    return a
  end
  if #a <= 15 then
    return format('%d', tonumber(a) - tonumber(b))
  end
  local high_a, low_a = halves(a)
  local high_b, low_b = halves(b)
  local high, low = high_a - high_b, low_a - low_b
  if low < 0 then
    low, high = low + 1e15, high - 1
  end
  return from_halves(high, low)
end

-- A ledger: what a script that settles many orders knows of one balances hash, so that check_moves and
-- apply_moves given it read each field once (one HMGET of the fields not read yet) and change it here with the
-- exact text arithmetic above, and write_ledger writes what changed back in one HSET, in the order the fields
-- first changed (the order HINCRBY would have created new ones in). Checking and applying order after order
-- this way ends exactly as the commands on the hash would, for two commands instead of several per order.
-- Nothing else may write the hash while its ledger is in use, and a script writes the orders' records with
-- their ledger, after its last step that can fail (a record that does not decode): an error part way must not
-- leave records filled whose money did not move.
local function new_ledger()
  return {values = {}, changed = {}, order = {}}
end

-- The values of ``fields[1..k]``, from the ledger (false: the field does not exist), read once when unknown.
local function ledger_read(ledger, balances, fields, k)
  local known, missing, n = ledger.values, {}, 0
  for j = 1, k do
    if known[fields[j]] == nil then
      n = n + 1
      missing[n] = fields[j]
    end
  end
  if n > 0 then
    local got = call('HMGET', balances, unpack(missing, 1, n))
    for j = 1, n do
      known[missing[j]] = got[j]
    end
  end
  local values = {}
  for j = 1, k do
    values[j] = known[fields[j]]
  end
  return values
end

-- Write what changed since the last write; the ledger stays in use (what it read is still what the hash holds).
local function write_ledger(balances, ledger)
  local values, set = ledger.values, {}
  for j, field in ipairs(ledger.order) do
    set[2 * j - 1], set[2 * j] = field, values[field]
  end
  if #set > 0 then -- a few assets' fields: one command
    call('HSET', balances, unpack(set))
    ledger.changed, ledger.order = {}, {}
  end
end

-- Check moves (``moves`` from index ``first``, default 1: a script passes its ARGV as it is) against the
-- balances hash. Returns nil when all hold, else the kind of failure and its detail:
-- 'INSUFFICIENT_FUNDS', '<field> <needed> <available>'  or  'OVERFLOW', '<fields> <units>'.
-- A sum of at most nine terms of at most 18 digits each is below 9 * 10^18 < 2^63: it fits without adding it
-- up (sum_fits runs only for a balance of 19 digits, or a longer 'G'). With a ``ledger`` (new_ledger), the
-- balances are the ledger's.
local function check_moves(balances, moves, first, ledger)
  first = first or 1
  local last = #moves
  if last < first then
    return nil
  end
  local fields, k, names = {}, 0, {} -- every field to read, in order; the number of fields of each 'G' move
  for i = first, last, 3 do
    local field = moves[i + 1]
    if moves[i] == 'G' then
      local from, count = 1, 0
      repeat
        local space = find(field, ' ', from, true)
        k, count = k + 1, count + 1
        fields[k] = sub(field, from, (space or 0) - 1)
        from = space and space + 1
      until not space
      names[i] = count
    else
      k = k + 1
      fields[k] = field
    end
  end
  local values = ledger and ledger_read(ledger, balances, fields, k) or call('HMGET', balances, unpack(fields, 1, k))
  k = 0
  for i = first, last, 3 do
    local op, field, units = moves[i], moves[i + 1], moves[i + 2]
    if op == 'G' then
      local count = names[i]
      local long = #units > 18 or count > 8
      for j = k + 1, k + count do
        local have = values[j] or '0'
        if not is_units(have) then
          return 'OVERFLOW', field .. ' ' .. units
        end
        long = long or #have > 18
      end
      if long then
        local terms = {units}
        for j = k + 1, k + count do
          terms[#terms + 1] = values[j] or '0'
        end
        if not sum_fits(terms) then
          return 'OVERFLOW', field .. ' ' .. units
        end
      end
      k = k + count
    else
      k = k + 1
      local have = values[k] or '0'
      if op == 'D' or op == 'Q' then
        if not (is_units(have) and units_ge(have, units)) then
          return 'INSUFFICIENT_FUNDS', field .. ' ' .. units .. ' ' .. have
        end
      elseif op == 'C' then
        if not (is_units(have) and (#have < 19 and #units < 19 or sum_fits({have, units}))) then
          return 'OVERFLOW', field .. ' ' .. units
        end
      end
    end
  end
  return nil
end

-- Apply moves that check_moves accepted ('Q' and 'G' write nothing); ``first`` and ``ledger`` as there.
local function apply_moves(balances, moves, first, ledger)
  for i = first or 1, #moves, 3 do
    local op = moves[i]
    if ledger and (op == 'C' or op == 'D') then
      local field, values = moves[i + 1], ledger.values
      if not ledger.changed[field] then
        ledger.changed[field] = true
        ledger.order[#ledger.order + 1] = field
      end
      local have = values[field] or '0'
      values[field] = op == 'C' and units_add(have, moves[i + 2]) or units_sub(have, moves[i + 2])
    elseif op == 'C' then
      call('HINCRBY', balances, moves[i + 1], moves[i + 2])
    elseif op == 'D' then
      call('HINCRBY', balances, moves[i + 1], '-' .. moves[i + 2])
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
-- engine/scripts.py fills in when it makes the library), read and written here under the long ones, the fee
-- as fee_currency, fee_cost, fee_rate. A field the stored form leaves out is absent here too: the codec's rules
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
    out[i], out[i + 1], out[i + 2] = template[i], template[i + 1] .. held[2 * role - 1], held[2 * role]
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
-- not written, and no script is given its key: a listing of every symbol's trades merges the symbols'
-- (engine/queries.py), and an entry costs as much memory as a small record; it only still holds trades
-- indexed before, which retention removes.
local function index_fill(symbol_fills, ts, trade_id)
  call('ZADD', symbol_fills, ts, trade_id)
end

-- One command per key for the whole batch, in chunks (unpack has a stack limit).
local function each_chunk(items, call)
  for first = 1, #items, 4000 do
    call(unpack(items, first, math.min(first + 3999, #items)))
  end
end
