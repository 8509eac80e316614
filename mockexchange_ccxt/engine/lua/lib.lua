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


-- FILL_MODEL=book (engine/book_orders.py, engine/snapshot.py): trades named by the scripts, and the shared depth.

-- An id of the account: number * 10^12 + counter, written as order ids are (number '0': the counter alone).
local function id_of(number, counter)
  if number == '0' then
    return tostring(counter)
  end
  return number .. string.format('%012d', counter)
end

-- A new id from the account's counter. Returns the id and the counter.
local function next_id(sequence, number)
  local counter = redis.call('INCR', sequence)
  return id_of(number, counter), counter
end

-- Ids for ``count`` new trades of an order: the first is ``first`` when given (an order's first trade shares its
-- id), the others the next numbers of the account's counter, in order.
local function trade_ids(sequence, number, count, first)
  local ids, fresh = {}, count - (first and 1 or 0)
  if first then
    ids[1] = first
  end
  if fresh > 0 then
    local last = redis.call('INCRBY', sequence, fresh)
    for counter = last - fresh + 1, last do
      ids[#ids + 1] = id_of(number, counter)
    end
  end
  return ids
end

-- A record whose new trades the plan named "#0", "#1", ... (before their ids existed), with their ids (found by
-- plain search: a pattern scan of a long record costs more than the rest of the fill).
local function name_trades(text, ids)
  if #ids == 0 then
    return text
  end
  local parts, from = {}, 1
  while true do
    local at = string.find(text, '"#', from, true)
    if not at then
      break
    end
    local close = string.find(text, '"', at + 2, true)
    parts[#parts + 1] = string.sub(text, from, at)
    parts[#parts + 1] = ids[tonumber(string.sub(text, at + 2, close - 1)) + 1]
    from = close
  end
  parts[#parts + 1] = string.sub(text, from)
  return table.concat(parts)
end

-- Trades to index, gathered over a script (``note_trade``) and written at once (``write_trades``): the fill
-- indexes (scored by the trade's time) and, for a trade with an id of its own, trade -> order.
local function note_trade(batch, ts, order_id, trade_id)
  batch.scored[#batch.scored + 1] = ts
  batch.scored[#batch.scored + 1] = trade_id
  if trade_id ~= order_id then
    batch.owners[#batch.owners + 1] = trade_id
    batch.owners[#batch.owners + 1] = order_id
  end
end

-- One command per key for the whole batch, in chunks (unpack has a stack limit).
local function each_chunk(items, call)
  for first = 1, #items, 4000 do
    call(unpack(items, first, math.min(first + 3999, #items)))
  end
end

local function write_trades(batch, _fills, symbol_fills, trade_orders) -- the symbol's index only (index_fill)
  each_chunk(batch.scored, function(...) redis.call('ZADD', symbol_fills, ...) end)
  each_chunk(batch.owners, function(...) redis.call('HSET', trade_orders, ...) end)
end

-- Index one order's new trades, all at ``ts``.
local function index_trades(fills, symbol_fills, trade_orders, ts, order_id, ids)
  local batch = {scored = {}, owners = {}}
  for _, trade_id in ipairs(ids) do
    note_trade(batch, ts, order_id, trade_id)
  end
  write_trades(batch, fills, symbol_fills, trade_orders)
end

-- The book snapshot a plan was made from and what it takes (engine/snapshot.py DepthSpec), at args[i..]: the
-- snapshot's timestamp (ms), the feed's price, timestamp, bid and ask as the plan read them, the SHA-1 of its
-- bids and asks ('*': not compared), n, then per level: its field, the most that may be taken from it already for
-- the plan to hold, and the units the plan takes. Returns the spec and the index of the next argument.
local function depth_spec(args, i)
  local spec = {ts = args[i], feed = {args[i + 1], args[i + 2], args[i + 3], args[i + 4]},
                sha = {args[i + 5], args[i + 6]}, levels = {}}
  local n = tonumber(args[i + 7])
  i = i + 8
  for k = 1, n do
    spec.levels[k] = {field = args[i], most = args[i + 1], units = args[i + 2]}
    i = i + 3
  end
  return spec, i
end

-- Whether the feed still holds the plan's snapshot and every level it takes from still has what it takes; and
-- the feed's price, timestamp, bid, ask, bids and asks as found (nil when the feed key is not a hash), so a
-- caller that planned from a quote alone can answer what it found and be planned again without a read. A spec
-- with bids' and asks' SHA-1 '*' and no levels checks the quote only (engine/placement.py).
local function depth_holds(feed, taken, spec)
  local ok, held = pcall(redis.call, 'HMGET', feed, 'price', 'timestamp', 'bid', 'ask', 'bids', 'asks')
  if not ok then
    return false, nil
  end
  for k = 1, 4 do
    if (held[k] or '') ~= spec.feed[k] then
      return false, held
    end
  end
  for k = 1, 2 do
    local text = held[4 + k]
    if spec.sha[k] ~= '*' and (text and redis.sha1hex(text) or '') ~= spec.sha[k] then
      return false, held
    end
  end
  if #spec.levels == 0 then
    return true, held
  end
  spec.fresh, spec.now = redis.call('HGET', taken, 'ts') ~= spec.ts, {}
  if spec.fresh then
    return true, held -- a snapshot nobody has taken from yet
  end
  local fields = {}
  for k, level in ipairs(spec.levels) do
    fields[k] = level.field
  end
  local now = redis.call('HMGET', taken, unpack(fields))
  for k, level in ipairs(spec.levels) do
    local so_far = now[k] or '0'
    if not (is_units(so_far) and units_ge(level.most, so_far)) then
      return false, held
    end
    spec.now[level.field] = so_far -- what depth_add adds to, in the same script
  end
  return true, held
end

-- Append to ``out`` (field, units, field, units, ...) what one order takes: "k:units,k:units" names levels of the
-- spec.
local function order_takes(spec, text, out)
  for k, units in string.gmatch(text, '(%d+):(%d+)') do
    out[#out + 1] = spec.levels[tonumber(k)].field
    out[#out + 1] = units
  end
end

-- a + b for unit strings (non-negative integers whose sum fits in int64), exactly: in two halves of nine digits,
-- each exact as a double.
local function units_add(a, b)
  local function halves(text)
    local n = #text
    if n > 9 then
      return tonumber(string.sub(text, 1, n - 9)), tonumber(string.sub(text, n - 8))
    end
    return 0, tonumber(text)
  end
  local ah, al = halves(a)
  local bh, bl = halves(b)
  local low = al + bl
  local high = ah + bh + math.floor(low / 1000000000)
  low = low % 1000000000
  if high == 0 then
    return string.format('%d', low)
  end
  return string.format('%d%09d', high, low)
end

-- Add ``takes`` (field, units, ... ; ``sign`` '-' gives them back) to what was taken from the snapshot, in one
-- write: the hash starts over when it counted another snapshot (giving back to another snapshot does nothing).
-- Per level the takes are summed exactly (small ones as doubles below 2^52, folded into text); no level's total
-- passes what it offers, at most 10^18 units, so every sum fits in int64.
local function depth_add(taken, spec, takes, sign)
  if #takes == 0 then
    return
  end
  local fresh = spec.fresh
  if fresh == nil then -- the spec was not checked in this script (a give back, or a cluster's account step)
    fresh = redis.call('HGET', taken, 'ts') ~= spec.ts
  end
  if fresh and sign == '-' then
    return
  end
  local fields, totals, small = {}, {}, {}
  for i = 1, #takes, 2 do
    local field, units = takes[i], takes[i + 1]
    if not totals[field] then
      fields[#fields + 1] = field
      totals[field], small[field] = '0', 0
    end
    if #units > 15 or small[field] + tonumber(units) >= 4503599627370496 then
      totals[field] = units_add(totals[field], string.format('%d', small[field]))
      small[field] = 0
    end
    if #units > 15 then
      totals[field] = units_add(totals[field], units)
    else
      small[field] = small[field] + tonumber(units)
    end
  end
  for _, field in ipairs(fields) do
    totals[field] = units_add(totals[field], string.format('%d', small[field]))
  end
  if sign == '-' then
    for _, field in ipairs(fields) do
      redis.call('HINCRBY', taken, field, '-' .. totals[field])
    end
    return
  end
  if fresh then
    redis.call('DEL', taken)
  end
  local now = spec.now
  if not now then
    now = {}
    if not fresh then
      local values = redis.call('HMGET', taken, unpack(fields))
      for k, field in ipairs(fields) do
        now[field] = values[k]
      end
    end
  end
  local set = fresh and {'ts', spec.ts} or {}
  for _, field in ipairs(fields) do
    set[#set + 1] = field
    set[#set + 1] = units_add(now[field] or '0', totals[field])
  end
  redis.call('HSET', taken, unpack(set))
end

-- Every level's units of a spec, as ``takes`` for depth_add (what a reservation on a cluster takes at once).
local function spec_takes(spec)
  local takes = {}
  for _, level in ipairs(spec.levels) do
    takes[#takes + 1] = level.field
    takes[#takes + 1] = level.units
  end
  return takes
end

