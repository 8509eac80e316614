-- place_order.lua: accept one order: move its money, give it an id, store it and index it.
-- KEYS[1] balances  KEYS[2] orders  KEYS[3] id sequence  KEYS[4] clientOrderId index  KEYS[5] all ids
-- KEYS[6] open ids  KEYS[7] active symbols  KEYS[8] ids of the symbol  KEYS[9] the book (symbol, side)
-- KEYS[10] every symbol ever traded
-- ARGV[1] clientOrderId or ''   ARGV[2] symbol   ARGV[3] book score (limit price units) or '' if it filled
-- ARGV[4] the order's JSON without its opening '{' and id (the id is only known here)
-- ARGV[5..] moves (see lib.lua): the fill of a taker order, or the reservation of a resting one
-- reply: the new order id (string)
-- errors: DUPLICATE_CLIENT_ORDER_ID, INSUFFICIENT_FUNDS <field> <needed> <available>; nothing is written
local cid, symbol, score = ARGV[1], ARGV[2], ARGV[3]
if cid ~= '' and redis.call('HEXISTS', KEYS[4], cid) == 1 then
  return redis.error_reply('DUPLICATE_CLIENT_ORDER_ID clientOrderId ' .. cid .. ' is already used')
end
local moves = {}
for i = 5, #ARGV do
  moves[#moves + 1] = ARGV[i]
end
local field, need, have = uncovered_debit(KEYS[1], moves)
if field then
  return insufficient(field, need, have)
end
apply_moves(KEYS[1], moves)
local id = tostring(redis.call('INCR', KEYS[3]))
redis.call('HSET', KEYS[2], id, '{"id":"' .. id .. '",' .. ARGV[4])
if cid ~= '' then
  redis.call('HSET', KEYS[4], cid, id)
end
redis.call('ZADD', KEYS[5], id, id)
redis.call('ZADD', KEYS[8], id, id)
redis.call('SADD', KEYS[10], symbol)
if score ~= '' then
  redis.call('ZADD', KEYS[6], id, id)
  redis.call('ZADD', KEYS[9], score, id)
  redis.call('SADD', KEYS[7], symbol)
end
return id
