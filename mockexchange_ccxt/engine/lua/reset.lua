-- reset.lua: wipe the account (balances, orders, their indexes and books); the id sequence stays.
-- KEYS[1] the set of traded symbols   KEYS[2..] every other account key, books and indexes of those symbols
-- ARGV[1] how many traded symbols the caller saw when it named the keys
-- reply: 1 when wiped; 0, changing nothing, when a symbol was traded for the first time since the caller read
-- the set (its book would be left behind): the caller reads the set again and retries.
-- The set only grows between resets, so an equal size means the same members.
if redis.call('SCARD', KEYS[1]) ~= tonumber(ARGV[1]) then
  return 0
end
for i = 1, #KEYS do
  redis.call('DEL', KEYS[i])
end
return 1
