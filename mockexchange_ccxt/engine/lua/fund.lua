-- fund.lua: add units to the free balance of one asset.
-- KEYS[1] balances hash
-- ARGV[1..] the moves of the deposit (see lib.lua): a credit of free:<ASSET> and its int64 checks
-- reply: 1
-- errors: BAD_REQUEST OVERFLOW <fields> <units> when the balance (with what open orders will bring in) would
-- leave the int64 range; nothing is written
local kind, detail = check_moves(KEYS[1], ARGV)
if kind then
  return refuse(kind, detail, 'BAD_REQUEST')
end
apply_moves(KEYS[1], ARGV)
return 1
