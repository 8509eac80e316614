-- place_order.lua: accept one order: check it, move its money, give it an id, store it and index it.
-- KEYS[1] balances  KEYS[2] orders  KEYS[3] id sequence  KEYS[4] clientOrderId index  KEYS[5] all ids
-- KEYS[6] open ids  KEYS[7] active symbols  KEYS[8] ids of the symbol (not written: a listing of one symbol's
-- orders reads the account's ids; it only still holds orders indexed before)  KEYS[9] the set it rests in (its
-- book, or its trigger set)  KEYS[10] every symbol ever traded  KEYS[11] fills (not written: lib.lua index_fill)
-- KEYS[12] fills of the symbol  KEYS[13] finished ids  KEYS[14] trade -> order  (a single node: KEYS[15] the
-- feed hash, KEYS[16] what was taken from its snapshot; absent on Valkey Cluster, where the caller read the
-- feed first)
-- ARGV[1] clientOrderId or ''   ARGV[2] symbol   ARGV[3] '1' if the order stays open in KEYS[9], else ''
-- ARGV[4] its score in the set it enters: KEYS[9] (limit or trigger price in units) if it stays open, else the
-- finished ids (the time it finished, ms)   ARGV[5] the trade's time (ms) if it filled, or ''
-- ARGV[6] '1' for a dry run (check only, write nothing)
-- ARGV[7] the order's stored record (engine/record_codec.py) without its opening '{' (the one place that
-- knows its form; the id is the hash field)
-- ARGV[8] the account's number: the id is number * 10^12 + the account's counter (main, number 0: the counter)
-- ARGV[9] '' (FILL_MODEL=touch: a filled order has one trade, its id the order's) or the number of trades the
-- order makes: the first gets the order's id, the others the next numbers of the account's counter (its JSON
-- names them by their offset from the order's id)
-- ARGV[10..] with KEYS[15]: the quote (FILL_MODEL=touch: no levels, depth not compared) or the book snapshot
-- the plan was made from and what it takes (book_lib.lua depth_spec); then the moves (see lib.lua): its fill, its
-- reservation, or only what it requires
-- reply: the new order id (string); 'OK' for a dry run that passes; {'STALE', price, timestamp, bid, ask} as
-- the feed holds them (nothing written) when the feed no longer holds the quote or snapshot, or its levels no
-- longer have what the plan takes: the caller plans again ({'STALE'} alone: the feed key is not a hash). The
-- account's sorted sets of ids are scored by its counter.
-- errors: DUPLICATE_CLIENT_ORDER_ID, INSUFFICIENT_FUNDS <field> <needed> <available>,
-- INVALID_ORDER OVERFLOW <fields> <units> (a balance could pass int64); nothing is written
local cid, symbol, rests, score, fill_ts = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local spec, first_move = nil, 10
if KEYS[15] then
  spec, first_move = depth_spec(ARGV, 10)
  local holds, held = depth_holds(KEYS[15], KEYS[16], spec)
  if not holds then
    if not held then
      return {'STALE'}
    end
    return {'STALE', held[1], held[2], held[3], held[4]}
  end
end
if cid ~= '' and redis.call('HEXISTS', KEYS[4], cid) == 1 then
  return redis.error_reply('DUPLICATE_CLIENT_ORDER_ID clientOrderId ' .. cid .. ' is already used')
end
local moves = {}
for i = first_move, #ARGV do
  moves[#moves + 1] = ARGV[i]
end
local kind, detail = check_moves(KEYS[1], moves)
if kind then
  return refuse(kind, detail)
end
if ARGV[6] == '1' then
  return 'OK'
end
apply_moves(KEYS[1], moves)
local id, counter = next_id(KEYS[3], ARGV[8])
local trades = tonumber(ARGV[9])
if trades and trades > 0 then
  local ids = trade_ids(KEYS[3], ARGV[8], trades, id)
  index_trades(KEYS[11], KEYS[12], KEYS[14], fill_ts, id, ids)
elseif fill_ts ~= '' then
  index_fill(KEYS[11], KEYS[12], fill_ts, id)
end
if spec then
  depth_add(KEYS[16], spec, spec_takes(spec), '')
end
redis.call('HSET', KEYS[2], id, '{' .. ARGV[7])
if cid ~= '' then
  redis.call('HSET', KEYS[4], cid, id)
end
redis.call('ZADD', KEYS[5], counter, id)
redis.call('SADD', KEYS[10], symbol)
if rests == '1' then
  redis.call('ZADD', KEYS[6], counter, id)
  redis.call('ZADD', KEYS[9], score, id)
  redis.call('SADD', KEYS[7], symbol)
else
  redis.call('ZADD', KEYS[13], score, id)
end
return id
