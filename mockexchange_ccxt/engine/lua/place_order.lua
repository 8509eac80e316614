-- place_order.lua: accept one order: check it, move its money, give it an id, store it and index it.
-- KEYS[1] balances  KEYS[2] orders  KEYS[3] id sequence  KEYS[4] clientOrderId index  KEYS[5] all ids
-- KEYS[6] open ids  KEYS[7] active symbols  KEYS[8] the set it rests in (its book, or its trigger set)
-- KEYS[9] every symbol ever traded  KEYS[10] fills of the symbol  KEYS[11] finished ids  KEYS[12] trade -> order
-- (a single node: KEYS[13] the feed hash, KEYS[14] what was taken from its snapshot; absent on Valkey Cluster,
-- where the caller read the feed first). The ids of the symbol and the account's fills are not written (a
-- listing of one symbol's orders reads the account's ids; lib.lua index_fill): they only still hold what was
-- indexed before.
-- ARGV[1] clientOrderId or ''   ARGV[2] symbol   ARGV[3] '1' if the order stays open in KEYS[8], else ''
-- ARGV[4] its score in the set it enters: KEYS[8] (limit or trigger price in units) if it stays open, else the
-- finished ids (the time it finished, ms)   ARGV[5] the trade's time (ms) if it filled, or ''
-- ARGV[6] '1' for a dry run (check only, write nothing)
-- ARGV[7] the order's stored record (engine/record_codec.py) without its opening '{' (the one place that
-- knows its form; the id is the hash field)
-- ARGV[8] the account's number: the id is number * 10^12 + the account's counter (main, number 0: the counter)
-- ARGV[9] '' (FILL_MODEL=touch: a filled order has one trade, its id the order's) or the number of trades the
-- order makes: the first gets the order's id, the others the next numbers of the account's counter (its JSON
-- names them by their offset from the order's id)
-- ARGV[10..] with KEYS[13]: the quote (FILL_MODEL=touch: no levels, depth not compared) or the book snapshot
-- the plan was made from and what it takes (book_lib.lua depth_spec); then the moves (see lib.lua): its fill, its
-- reservation, or only what it requires
-- reply: the new order id (string); 'OK' for a dry run that passes; {'STALE', price, timestamp, bid, ask} as
-- the feed holds them (nothing written) when the feed no longer holds the quote or snapshot, or its levels no
-- longer have what the plan takes: the caller plans again ({'STALE'} alone: the feed key is not a hash); for a
-- snapshot also its bids and asks, and what was taken from it (KEYS[14] as HGETALL gives it), so that the next
-- plan needs no read. The account's sorted sets of ids are scored by its counter.
-- errors: DUPLICATE_CLIENT_ORDER_ID, INSUFFICIENT_FUNDS <field> <needed> <available>,
-- INVALID_ORDER OVERFLOW <fields> <units> (a balance could pass int64); nothing is written
local cid, symbol, rests, score, fill_ts = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local spec, first_move = nil, 10
if KEYS[13] then
  spec, first_move = depth_spec(ARGV, 10)
  local holds, held = depth_holds(KEYS[13], KEYS[14], spec)
  if not holds then
    if not held then
      return {'STALE'}
    end
    if #held > 4 then -- a snapshot's depth was read with the quote (an absent field is false: a nil reply)
      return {'STALE', held[1], held[2], held[3], held[4], held[5], held[6], call('HGETALL', KEYS[14])}
    end
    return {'STALE', held[1], held[2], held[3], held[4]}
  end
end
if cid ~= '' and call('HEXISTS', KEYS[4], cid) == 1 then
  return redis.error_reply('DUPLICATE_CLIENT_ORDER_ID clientOrderId ' .. cid .. ' is already used')
end
local kind, detail = check_moves(KEYS[1], ARGV, first_move)
if kind then
  return refuse(kind, detail)
end
if ARGV[6] == '1' then
  return 'OK'
end
apply_moves(KEYS[1], ARGV, first_move)
local id, counter = next_id(KEYS[3], ARGV[8])
local trades = tonumber(ARGV[9])
if trades and trades > 0 then
  index_trades(KEYS[10], KEYS[12], fill_ts, id, trade_ids(KEYS[3], ARGV[8], trades, id))
elseif fill_ts ~= '' then
  index_fill(KEYS[10], fill_ts, id)
end
if spec and #spec.levels > 0 then
  depth_add(KEYS[14], spec, spec_takes(spec), '')
end
call('HSET', KEYS[2], id, '{' .. ARGV[7])
if cid ~= '' then
  call('HSET', KEYS[4], cid, id)
end
call('ZADD', KEYS[5], counter, id)
call('SADD', KEYS[9], symbol)
if rests == '1' then
  call('ZADD', KEYS[6], counter, id)
  call('ZADD', KEYS[8], score, id)
  call('SADD', KEYS[7], symbol)
else
  call('ZADD', KEYS[11], score, id)
end
return id
