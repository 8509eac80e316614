-- trim_orders.lua: remove a batch of finished orders (closed, canceled) that the account's retention no longer
-- keeps, each with its trades and every index entry, and write the retention ledger as the caller computed it
-- with the batch (so that the balances still add up). Open orders are never in the finished ids, so they are
-- never touched. Python plans (the oldest finished ids, what their records say, the ledger after them); the
-- script checks that every order is still finished and past the retention and that the ledger still holds what
-- the plan started from, then applies all of it, or writes nothing and replies STALE (another trimmer came
-- first: the caller reads again).
-- KEYS[1] orders  KEYS[2] finished ids (scored by the time each finished, ms)  KEYS[3] all ids  KEYS[4] fills
-- KEYS[5] clientOrderId index  KEYS[6] the retention ledger (see keys.Keys.retention)  KEYS[7] trade -> order
-- KEYS[8..] two per symbol of the batch: for symbol slot n, KEYS[6 + 2n] its ids, KEYS[7 + 2n] its fills
-- ARGV[1] keep at most this many finished orders ('': no limit)
-- ARGV[2] keep those that finished less than this many ms before the account's newest finish, or before now if
-- that is earlier ('': no limit)   ARGV[3] now (ms)
-- ARGV[4] f, then f triples: ledger field, the value the plan read ('' for none), the value to write
-- then per order, oldest first: id, symbol slot (0: its record was missing), clientOrderId or '', t, t trade ids
-- reply: {orders removed, trades removed}, or {'STALE'} (nothing written)
local orders, finished, ledger = KEYS[1], KEYS[2], KEYS[6]
local limit = tonumber(ARGV[1])
local cutoff = nil
if ARGV[2] ~= '' then
  local newest = redis.call('ZRANGE', finished, -1, -1, 'WITHSCORES')
  if #newest > 0 then
    cutoff = math.min(tonumber(newest[2]), tonumber(ARGV[3])) - tonumber(ARGV[2])
  end
end
local fields = tonumber(ARGV[4])
local first_order = 5 + 3 * fields
for i = 5, first_order - 1, 3 do
  if (redis.call('HGET', ledger, ARGV[i]) or '') ~= ARGV[i + 1] then
    return {'STALE'}
  end
end
local batch, count = {}, redis.call('ZCARD', finished)
local i = first_order
while i <= #ARGV do
  local t = tonumber(ARGV[i + 3])
  local score = redis.call('ZSCORE', finished, ARGV[i])
  if not (score and ((limit and count - #batch > limit) or (cutoff and tonumber(score) < cutoff))) then
    return {'STALE'}
  end
  batch[#batch + 1] = i
  i = i + 4 + t
end
local trades = 0
for _, at in ipairs(batch) do
  local id, slot, cid, t = ARGV[at], tonumber(ARGV[at + 1]), ARGV[at + 2], tonumber(ARGV[at + 3])
  redis.call('HDEL', orders, id)
  redis.call('ZREM', finished, id)
  redis.call('ZREM', KEYS[3], id)
  if slot > 0 then
    redis.call('ZREM', KEYS[6 + 2 * slot], id)
  end
  for k = at + 4, at + 3 + t do
    redis.call('ZREM', KEYS[4], ARGV[k])
    if slot > 0 then
      redis.call('ZREM', KEYS[7 + 2 * slot], ARGV[k])
    end
    if ARGV[k] ~= id then -- a later trade of a FILL_MODEL=book order has an id of its own
      redis.call('HDEL', KEYS[7], ARGV[k])
    end
  end
  if cid ~= '' and redis.call('HGET', KEYS[5], cid) == id then
    redis.call('HDEL', KEYS[5], cid)
  end
  trades = trades + t
end
for k = 5, first_order - 1, 3 do
  redis.call('HSET', ledger, ARGV[k], ARGV[k + 2])
end
return {#batch, trades}
