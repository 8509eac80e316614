-- cancel_order.lua: cancel one open order and release exactly what it still holds.
-- KEYS[1] balances  KEYS[2] orders  KEYS[3] open ids  KEYS[4] active symbols  KEYS[5] buy book  KEYS[6] sell book
-- ARGV[1] order id  ARGV[2] timestamp (ms)
-- reply: the canceled order's JSON
-- errors: ORDER_NOT_FOUND, ORDER_NOT_OPEN <status>; nothing is written
local raw = redis.call('HGET', KEYS[2], ARGV[1])
if not raw then
  return redis.error_reply('ORDER_NOT_FOUND order ' .. ARGV[1] .. ' does not exist')
end
local order = cjson.decode(raw)
if order.status ~= 'open' then
  return redis.error_reply('ORDER_NOT_OPEN order ' .. ARGV[1] .. ' is ' .. order.status .. ', not open')
end
local field, need, have = uncovered_debit(KEYS[1], order._release)
if field then
  return insufficient(field, need, have)
end
apply_moves(KEYS[1], order._release)
order.status = 'canceled'
order.lastUpdateTimestamp = tonumber(ARGV[2])
local encoded = cjson.encode(order)
redis.call('HSET', KEYS[2], ARGV[1], encoded)
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', order.side == 'buy' and KEYS[5] or KEYS[6], ARGV[1])
forget_if_idle(KEYS[4], KEYS[5], KEYS[6], order.symbol)
return encoded
