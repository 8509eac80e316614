-- book_lib.lua: helpers of the scripts that name trades and take from a shared book snapshot (FILL_MODEL=book)
-- and that check a plan's feed fields (the one-round-trip placement): place_order.lua, fire_triggers.lua,
-- settle_book.lua, take_depth.lua (after lib.lua).

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

local function write_trades(batch, symbol_fills, trade_orders) -- the symbol's index only (lib.lua index_fill)
  each_chunk(batch.scored, function(...) redis.call('ZADD', symbol_fills, ...) end)
  each_chunk(batch.owners, function(...) redis.call('HSET', trade_orders, ...) end)
end

-- Index one order's new trades, all at ``ts``.
local function index_trades(symbol_fills, trade_orders, ts, order_id, ids)
  local batch = {scored = {}, owners = {}}
  for _, trade_id in ipairs(ids) do
    note_trade(batch, ts, order_id, trade_id)
  end
  write_trades(batch, symbol_fills, trade_orders)
end

-- The book snapshot a plan was made from and what it takes (engine/snapshot.py DepthSpec), at args[i..]: the
-- snapshot's timestamp (ms), the feed's price, timestamp, bid and ask as the plan read them, the SHA-1 of its
-- bids and asks ('*': not compared), n, then per level: its field, the most that may be taken from it already for
-- the plan to hold, and the units the plan takes. Returns the spec and the index of the next argument.
local function depth_spec(args, i)
  local levels = {}
  local spec = {ts = args[i], args = args, at = i, levels = levels} -- the feed fields and digests stay in args
  local n = tonumber(args[i + 7])
  i = i + 8
  for k = 1, n do
    levels[k] = {field = args[i], most = args[i + 1], units = args[i + 2]}
    i = i + 3
  end
  return spec, i
end

-- Whether the feed still holds the plan's snapshot and every level it takes from still has what it takes; and
-- the feed's price, timestamp, bid and ask (and bids and asks when compared) as found (nil when the feed key
-- is not a hash), so a caller that planned from a quote alone can answer what it found and be planned again
-- without a read. A spec with bids' and asks' SHA-1 '*' and no levels checks the quote only, and reads no depth
-- (engine/placement.py).
local function depth_holds(feed, taken, spec)
  local args, at = spec.args, spec.at
  local depth = args[at + 5] ~= '*' or args[at + 6] ~= '*' -- else the depth is not compared, nor read
  local held = depth and redis.pcall('HMGET', feed, 'price', 'timestamp', 'bid', 'ask', 'bids', 'asks')
    or redis.pcall('HMGET', feed, 'price', 'timestamp', 'bid', 'ask')
  if held.err then
    return false, nil
  end
  for k = 1, 4 do
    if (held[k] or '') ~= args[at + k] then
      return false, held
    end
  end
  for k = 5, depth and 6 or 0 do
    local text, digest = held[k], args[at + k]
    if digest ~= '*' and (text and redis.sha1hex(text) or '') ~= digest then
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

