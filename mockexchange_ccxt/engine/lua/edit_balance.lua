-- edit_balance.lua: set the free and/or used balance of one asset to exact values (admin).
-- KEYS[1] balances hash
-- ARGV[1] free:<ASSET>  ARGV[2] used:<ASSET>  ARGV[3] held:<ASSET>  ARGV[4] pend:<ASSET>
-- ARGV[5] free units or '' to keep   ARGV[6] used units or '' to keep
-- reply: {free units, used units}
-- errors: BAD_REQUEST when used would fall below what open orders hold (their fills and cancels need it), or
-- when free + used + what open orders will bring in would leave the int64 range; nothing is written
local balances = KEYS[1]
local current = redis.call('HMGET', balances, ARGV[1], ARGV[2], ARGV[3], ARGV[4])
local free = ARGV[5] ~= '' and ARGV[5] or current[1] or '0'
local used = ARGV[6] ~= '' and ARGV[6] or current[2] or '0'
local held, pending = current[3] or '0', current[4] or '0'
if ARGV[6] ~= '' and not units_ge(ARGV[6], held) then
  return redis.error_reply('BAD_REQUEST used ' .. ARGV[6] .. ' is below the ' .. held .. ' units held by open orders')
end
if not (is_units(free) and is_units(used) and is_units(pending) and sum_fits({free, used, pending})) then
  return redis.error_reply('BAD_REQUEST free ' .. free .. ' + used ' .. used .. ' + ' .. pending
    .. ' units open orders will bring in would pass the int64 limit')
end
if ARGV[6] ~= '' then
  redis.call('HSET', balances, ARGV[2], ARGV[6])
end
if ARGV[5] ~= '' then
  redis.call('HSET', balances, ARGV[1], ARGV[5])
end
return {free, used}
