-- fund.lua: add units to the free balance of one asset, and answer the asset's balance (one round trip).
-- KEYS[1] balances hash
-- ARGV[1] free:<ASSET>  ARGV[2] used:<ASSET> (the fields answered)
-- ARGV[3..] the moves of the deposit (see lib.lua): a credit of free:<ASSET> and its int64 checks
-- reply: {free units, used units} after the deposit (false: the field was never written)
-- errors: BAD_REQUEST OVERFLOW <fields> <units> when the balance (with what open orders will bring in) would
-- leave the int64 range; nothing is written
local kind, detail = check_moves(KEYS[1], ARGV, 3)
if kind then
  return refuse(kind, detail, 'BAD_REQUEST')
end
apply_moves(KEYS[1], ARGV, 3)
return redis.call('HMGET', KEYS[1], ARGV[1], ARGV[2])
