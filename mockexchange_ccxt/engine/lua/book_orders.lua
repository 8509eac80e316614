-- book_orders.lua: read (writes nothing) what a settlement pass under FILL_MODEL=book needs of one account on one
-- symbol: its resting orders that the book may cross, as the priority rule sees them, and its trigger orders the
-- last price reached, whole. Python plans the pass from these (engine/book_settlement.py).
-- KEYS[1] orders  KEYS[2] buy book  KEYS[3] sell book  KEYS[4] up triggers  KEYS[5] down triggers
-- ARGV[1] buys with a limit at or above these units  ARGV[2] sells at or below  ARGV[3] up triggers at or below
-- ARGV[4] down triggers at or above ('' for any of them: none of that set)
-- ARGV[5..8] how many of each set to pass over (earlier calls of this pass read them)  ARGV[9] at most this many
-- of each set
-- reply: {buys, sells, ups, downs, scanned}; buys and sells: id, limit price, remainder, since (ms: placed, or
-- triggered), ... (members whose record is gone or not open are left out); ups and downs: id, JSON ('' when the
-- record is gone), ...; scanned: how many members of each set were read (a full count: read on)
local count = ARGV[9]
local scanned = {}

-- A top-level field of a record, found in its text: decoding every record would cost as much as filling it.
-- Records are JSON as Python's json.dumps and cjson write them: '"name":value', no spaces, each name once
-- at the top level (the short names are not used inside a record's nested values). ``needle`` is how the field
-- starts: '"name":"' for text, '"name":' for a number.
local function text_field(raw, needle)
  local at = string.find(raw, needle, 1, true)
  if not at then
    return nil
  end
  local first = at + #needle
  return string.sub(raw, first, string.find(raw, '"', first, true) - 1)
end

local function number_field(raw, needle)
  local at = string.find(raw, needle, 1, true)
  return at and string.match(raw, '^%d+', at + #needle)
end

-- The needles of the fields read, made once per call (made per lookup, they cost as much as the search): under
-- their short names (engine/record_codec.py), and under their long ones for a record stored before that form.
-- A record is wholly in one form, and the status tells which: it spells "status" only in the old one.
local function needles(spell)
  local out = {}
  for _, name in ipairs({'status', 'price', 'remaining', 'amount'}) do
    out[name] = '"' .. spell(name) .. '":"'
  end
  for _, name in ipairs({'triggerTimestamp', 'timestamp'}) do
    out[name] = '"' .. spell(name) .. '":'
  end
  return out
end
local SHORT = needles(function(name) return RECORD_NAMES[name] end)
local LONG = needles(function(name) return name end)

-- The members of a set between two scores (from ``offset``, at most ``count``) and their records; none when a
-- bound is ''.
local function members(key, low, high, offset)
  if low == '' or high == '' then
    scanned[#scanned + 1] = 0
    return {}, {}
  end
  local ids = redis.call('ZRANGEBYSCORE', key, low, high, 'LIMIT', offset, count)
  scanned[#scanned + 1] = #ids
  if #ids == 0 then
    return ids, {}
  end
  return ids, redis.call('HMGET', KEYS[1], unpack(ids))
end

local function resting(key, low, high, offset)
  local out = {}
  local ids, raws = members(key, low, high, offset)
  for i, id in ipairs(ids) do
    local raw = raws[i]
    local names, status = SHORT, raw and text_field(raw, SHORT.status)
    if raw and not status then
      names, status = LONG, text_field(raw, LONG.status)
    end
    if status == 'open' then
      out[#out + 1] = id
      out[#out + 1] = text_field(raw, names.price)
      -- left out while nothing has filled: the amount (lib.lua load_order)
      out[#out + 1] = text_field(raw, names.remaining) or text_field(raw, names.amount)
      out[#out + 1] = number_field(raw, names.triggerTimestamp) or number_field(raw, names.timestamp)
    end
  end
  return out
end

local function whole(key, low, high, offset)
  local out = {}
  local ids, raws = members(key, low, high, offset)
  for i, id in ipairs(ids) do
    out[#out + 1] = id
    out[#out + 1] = raws[i] or ''
  end
  return out
end

local reply = {
  resting(KEYS[2], ARGV[1], '+inf', ARGV[5]),
  resting(KEYS[3], '-inf', ARGV[2], ARGV[6]),
  whole(KEYS[4], '-inf', ARGV[3], ARGV[7]),
  whole(KEYS[5], ARGV[4], '+inf', ARGV[8]),
}
reply[5] = scanned
return reply
