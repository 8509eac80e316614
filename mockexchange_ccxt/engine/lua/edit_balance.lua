-- edit_balance.lua: set the free and/or used balance of one asset to exact values (admin).
-- KEYS[1] balances hash
-- ARGV[1] free:<ASSET>  ARGV[2] used:<ASSET>  ARGV[3] held:<ASSET>
-- ARGV[4] free units or '' to keep   ARGV[5] used units or '' to keep
-- reply: {free units, used units}
-- errors: BAD_REQUEST when used would fall below what open orders hold (their fills and cancels need it)
local balances = KEYS[1]
if ARGV[5] ~= '' then
  local held = redis.call('HGET', balances, ARGV[3]) or '0'
  if not units_ge(ARGV[5], held) then
    return redis.error_reply('BAD_REQUEST used ' .. ARGV[5] .. ' is below the ' .. held .. ' units held by open orders')
  end
  redis.call('HSET', balances, ARGV[2], ARGV[5])
end
if ARGV[4] ~= '' then
  redis.call('HSET', balances, ARGV[1], ARGV[4])
end
return {redis.call('HGET', balances, ARGV[1]) or '0', redis.call('HGET', balances, ARGV[2]) or '0'}
