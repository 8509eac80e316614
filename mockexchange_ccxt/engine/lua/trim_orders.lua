-- trim_orders.lua: remove finished orders (closed, canceled) that the account's retention no longer keeps, each
-- with its trades and every index entry, and add what their trades moved to the retention ledger, so that the
-- balances still add up. Open orders are never in the finished ids, so they are never touched. Python names the
-- candidates (the oldest finished ids, with what their records say) and the script decides again, order by
-- order, from what it finds: an order another trimmer took first is passed over.
-- KEYS[1] orders  KEYS[2] finished ids (scored by the time each finished, ms)  KEYS[3] all ids  KEYS[4] fills
-- KEYS[5] clientOrderId index  KEYS[6] the retention ledger (see keys.Keys.retention)
-- KEYS[7..] two per symbol of the candidates: for symbol slot n, KEYS[5 + 2n] its ids, KEYS[6 + 2n] its fills
-- ARGV[1] keep at most this many finished orders ('': no limit)
-- ARGV[2] keep those that finished less than this many ms before the account's newest finish, or before now if
-- that is earlier ('': no limit)   ARGV[3] now (ms)   ARGV[4] the lowest id counter among the candidates
-- ARGV[5..] per candidate, oldest first: id, symbol slot (0: its record was missing), clientOrderId or '',
-- t, t trade ids, f, f pairs (ledger field 'in:<ASSET>' or 'out:<ASSET>', units)
-- reply: {orders removed, trades removed}
local orders, finished, ledger = KEYS[1], KEYS[2], KEYS[6]
local limit = tonumber(ARGV[1])
local cutoff = nil
if ARGV[2] ~= '' then
  local newest = redis.call('ZRANGE', finished, -1, -1, 'WITHSCORES')
  if #newest > 0 then
    cutoff = math.min(tonumber(newest[2]), tonumber(ARGV[3])) - tonumber(ARGV[2])
  end
end
local count = redis.call('ZCARD', finished)
local removed, trades, flows = 0, 0, {}
local i = 5
while i <= #ARGV do
  local id, slot, cid, t = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2], tonumber(ARGV[i + 3])
  local first_trade, f = i + 4, tonumber(ARGV[i + 4 + t])
  local first_flow = first_trade + t + 1
  i = first_flow + 2 * f
  local score = redis.call('ZSCORE', finished, id)
  if score and ((limit and count - removed > limit) or (cutoff and tonumber(score) < cutoff)) then
    redis.call('HDEL', orders, id)
    redis.call('ZREM', finished, id)
    redis.call('ZREM', KEYS[3], id)
    if slot > 0 then
      redis.call('ZREM', KEYS[5 + 2 * slot], id)
    end
    for k = first_trade, first_trade + t - 1 do
      redis.call('ZREM', KEYS[4], ARGV[k])
      if slot > 0 then
        redis.call('ZREM', KEYS[6 + 2 * slot], ARGV[k])
      end
    end
    if cid ~= '' and redis.call('HGET', KEYS[5], cid) == id then
      redis.call('HDEL', KEYS[5], cid)
    end
    for k = first_flow, first_flow + 2 * f - 1, 2 do
      flows[ARGV[k]] = dec_add(flows[ARGV[k]] or '0', ARGV[k + 1])
    end
    removed = removed + 1
    trades = trades + t
  end
end
if removed > 0 then
  for field, units in pairs(flows) do
    redis.call('HSET', ledger, field, dec_add(redis.call('HGET', ledger, field) or '0', units))
  end
  redis.call('HINCRBY', ledger, 'orders', removed)
  redis.call('HINCRBY', ledger, 'trades', trades)
  local first = tonumber(redis.call('HGET', ledger, 'first') or '')
  if not first or tonumber(ARGV[4]) < first then
    redis.call('HSET', ledger, 'first', ARGV[4])
  end
end
return {removed, trades}
