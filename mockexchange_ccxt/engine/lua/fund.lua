-- fund.lua: add units to the free balance of one asset.
-- KEYS[1] balances hash
-- ARGV[1] field free:<ASSET>   ARGV[2] units (positive integer string)
-- reply: the new free units (integer)
-- errors: BAD_REQUEST when the balance would leave the int64 range (nothing is written)
local ok = redis.pcall('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
if type(ok) == 'table' and ok.err then
  return redis.error_reply('BAD_REQUEST funding ' .. ARGV[1] .. ' by ' .. ARGV[2] .. ' units would overflow')
end
return ok
