-- price_ticks.lua: publish and record a run of prices of one symbol (a back-test's ticks between two of its
-- decisions), each exactly as set_price's write does (record_lib's record_price), for as long as none of them
-- needs settling. It stops before the first tick that would meet a resting order or a trigger of any account
-- (settlement plans those in Python), or that is older than the feed's price (late data takes set_price's own
-- path), and replies how many ticks it applied; the caller sends that tick through set_price, then the rest.
-- A tick that meets nothing settles nothing, tick by tick: all set_price's settlement does for it is forget the
-- symbol in an account with no order left on it (touch model), done here once, after the last tick applied.
-- KEYS[1] the feed hash  KEYS[2] candles 1m  KEYS[3] candles 1h  KEYS[4] the symbol's holder accounts
-- KEYS[5..] (a single node only) five per account settled: active symbols, buy book, sell book, up triggers,
-- down triggers
-- ARGV[1] symbol  ARGV[2] days kept  ARGV[3] how many holders the caller knows (the set only grows: another
-- count means an account joined, and nothing is written: reply -1)  ARGV[4] '1' to forget idle symbols as
-- settle.lua does ('' under FILL_MODEL=book, whose settlement does not)
-- ARGV[5..8] on Valkey Cluster, where no account key may be given: the bounds the caller read over the accounts
-- (the highest buy limit, the lowest sell limit, the lowest up trigger, the highest down trigger, in units; ''
-- for none); '' on a single node, where the script reads them from the account keys
-- ARGV[9..] seven per tick: the price and its time (ms) as set_price writes them, the units settle.lua compares
-- (the ask rounded up, the bid rounded down: the last price itself rounded up and down), the base and quote
-- volumes in record_price's forms and the feed's volume field ('' for none)
-- Within one call nobody else reads the feed hash or the candles, so a run of ticks in the open minute is folded
-- in memory (record_lib's fold_open, as record_price folds each) and written once, with the feed hash as its
-- last tick leaves it; every other tick goes through record_price itself.
-- Book scores and the units are exact as doubles: prices are capped below 2^53 units.
-- reply: ticks applied (from the first), or -1
local feed, minutes, hours = KEYS[1], KEYS[2], KEYS[3]
if redis.call('SCARD', KEYS[4]) ~= tonumber(ARGV[3]) then
  return -1
end

-- What would meet a tick, over every account: the highest buy limit, the lowest sell limit, the lowest up
-- trigger and the highest down trigger (settle.lua takes buys at or above the ask, sells at or below the bid,
-- up triggers at or below the last price, down triggers at or above it). Nothing settles between two ticks of
-- the run, so these hold for all of it.
local function score(key, last)
  local got = last and redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
    or redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return got[2] and tonumber(got[2])
end
local top_buy, low_sell, low_up, top_down = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local accounts = {}
for first = 5, #KEYS, 5 do
  accounts[#accounts + 1] = first
  local buy, sell = score(KEYS[first + 1], true), score(KEYS[first + 2], false)
  local up, down = score(KEYS[first + 3], false), score(KEYS[first + 4], true)
  if buy and (not top_buy or buy > top_buy) then top_buy = buy end
  if sell and (not low_sell or sell < low_sell) then low_sell = sell end
  if up and (not low_up or up < low_up) then low_up = up end
  if down and (not top_down or down > top_down) then top_down = down end
end

local days = tonumber(ARGV[2])
local newest = feed_ms(redis.pcall('HGET', feed, 'timestamp'))
local applied = 0
local open, open_start, open_field -- the open minute's record being folded in memory, its start (ms), its field
local last_price, last_stamp, last_fed -- the last tick folded into it

local function write_open()
  if open then
    local _, seen = publish_price(feed, last_price, last_stamp, last_fed, NO_EXTRA)
    call('HSET', minutes, open_field, concat(open, ','), 'seen', seen)
    open = nil
  end
end

local floor = math.floor
for at = 9, #ARGV, 7 do
  local price, stamp, volume, quote, fed = ARGV[at], ARGV[at + 1], ARGV[at + 4], ARGV[at + 5], ARGV[at + 6]
  local ms, ask, bid = tonumber(stamp), tonumber(ARGV[at + 2]), tonumber(ARGV[at + 3])
  if (newest and ms < newest) or (top_buy and top_buy >= ask) or (low_sell and low_sell <= bid)
    or (low_up and low_up <= bid) or (top_down and top_down >= ask) then
    break
  end
  if open and ms >= open_start and ms < open_start + MINUTE_MS and string.byte(volume) ~= 61 then -- '=': exact
    local offset = ms - open_start -- kept as a number: the list's offsets are numbers here
    fold_open(open, price, offset, offset, volume, quote)
    last_price, last_stamp, last_fed = price, stamp, fed
  else
    write_open()
    local minute = floor(ms / MINUTE_MS)
    local field = format('%d', minute)
    local offset = format('%d', ms - minute * MINUTE_MS)
    record_price(feed, minutes, hours, 'publish', price, stamp, field, offset, days, volume, quote, fed, NO_EXTRA)
    local got = call('HMGET', minutes, field, 'open')
    if got[1] and got[2] == field then
      open, open_start, open_field = open_record(got[1]), minute * MINUTE_MS, field
      last_price, last_stamp, last_fed = price, stamp, fed
    end
  end
  newest = ms
  applied = applied + 1
end
write_open()
if applied > 0 and ARGV[4] == '1' then
  for _, first in ipairs(accounts) do
    forget_if_idle(KEYS[first], {KEYS[first + 1], KEYS[first + 2], KEYS[first + 3], KEYS[first + 4]}, ARGV[1])
  end
end
return applied
