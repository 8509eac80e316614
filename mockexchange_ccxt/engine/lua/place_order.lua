-- place_order.lua: accept one order: move its money, give it an id, store it and index it.
-- KEYS[1] balances  KEYS[2] orders  KEYS[3] id sequence  KEYS[4] clientOrderId index  KEYS[5] all ids
-- KEYS[6] open ids  KEYS[7] active symbols  KEYS[8] ids of the symbol  KEYS[9] the book (symbol, side)
-- KEYS[10] every symbol ever traded
-- ARGV[1] clientOrderId or ''   ARGV[2] symbol   ARGV[3] book score (limit price units) or '' if it filled
-- ARGV[4] the order's JSON without its opening '{' and id (the id is only known here)
-- ARGV[5] the account's number: the id is number * 10^12 + the account's counter (main, number 0: the counter)
-- ARGV[6..] moves (see lib.lua): the fill of a taker order, or the reservation of a resting one
-- reply: the new order id (string); the account's sorted sets of ids are scored by its counter
-- errors: DUPLICATE_CLIENT_ORDER_ID, INSUFFICIENT_FUNDS <field> <needed> <available>; nothing is written
local cid, symbol, score = ARGV[1], ARGV[2], ARGV[3]
if cid ~= '' and redis.call('HEXISTS', KEYS[4], cid) == 1 then
  return redis.error_reply('DUPLICATE_CLIENT_ORDER_ID clientOrderId ' .. cid .. ' is already used')
end
local moves = {}
for i = 6, #ARGV do
  moves[#moves + 1] = ARGV[i]
end
local field, need, have = uncovered_debit(KEYS[1], moves)
if field then
  return insufficient(field, need, have)
end
apply_moves(KEYS[1], moves)
local counter = redis.call('INCR', KEYS[3])
local id = ARGV[5] == '0' and tostring(counter) or ARGV[5] .. string.format('%012d', counter)
redis.call('HSET', KEYS[2], id, '{"id":"' .. id .. '",' .. ARGV[4])
if cid ~= '' then
  redis.call('HSET', KEYS[4], cid, id)
end
redis.call('ZADD', KEYS[5], counter, id)
redis.call('ZADD', KEYS[8], counter, id)
redis.call('SADD', KEYS[10], symbol)
if score ~= '' then
  redis.call('ZADD', KEYS[6], counter, id)
  redis.call('ZADD', KEYS[9], score, id)
  redis.call('SADD', KEYS[7], symbol)
end
return id
