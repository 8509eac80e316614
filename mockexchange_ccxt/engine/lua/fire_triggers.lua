-- fire_triggers.lua: apply the plans of trigger orders that a settlement pass found triggered.
-- Each order is handled on its own: its plans are tried in order and the first whose moves hold is applied
-- (the order it carries executed at the quote, else canceled with the reason); if none holds (a balance changed
-- outside the engine) it is skipped and stays untriggered. An order that is no longer open and untriggered in
-- the set the plan expects (a cancel or another settler came first) is left alone: a trigger fires once.
-- KEYS[1] balances  KEYS[2] orders  KEYS[3] open ids  KEYS[4] active symbols  KEYS[5] buy book  KEYS[6] sell book
-- KEYS[7] up triggers  KEYS[8] down triggers  KEYS[9] fills of the symbol  KEYS[10] finished ids
-- KEYS[11] trade -> order  KEYS[12] id sequence  (FILL_MODEL=book, a single node: KEYS[13] the feed hash,
-- KEYS[14] what was taken from its snapshot)
-- ARGV[1] symbol  ARGV[2] '' (FILL_MODEL=touch) or the account's number (FILL_MODEL=book: then ARGV[3..] are the
-- snapshot and the levels the plans take from, book_lib.lua depth_spec, checked first and taken from with KEYS[13])
-- then one JSON per order: {id, at ('u'/'d'), plans: [{record (JSON), moves, rest ('' or 'b'), score (in its book
-- if it rests, else in the finished ids: the time it finished), fill (the trade's time, or 0); FILL_MODEL=book
-- also: trades (how many, named "#0", "#1", ... in the record: the first gets the order's id), takes (what they
-- take from the book: "level:units,...")}]}
-- reply: {orders applied, orders that filled, skipped up triggers, skipped down triggers, ids...}: the ids of
-- the orders whose first plan's takes were not taken (book only); {'STALE'} (nothing written) when the feed no
-- longer holds the snapshot or a level no longer has what the plans take
local balances, orders = KEYS[1], KEYS[2]
local number, spec, first = ARGV[2], nil, 3
if number ~= '' then
  spec, first = depth_spec(ARGV, 3)
  if KEYS[13] and not depth_holds(KEYS[13], KEYS[14], spec) then
    return {'STALE'}
  end
end
local trigger_set = {u = KEYS[7], d = KEYS[8]}
local applied, filled, skipped, untaken, taken = 0, 0, {u = 0, d = 0}, {}, {}
for i = first, #ARGV do
  local fire = cjson.decode(ARGV[i])
  local raw = redis.call('HGET', orders, fire.id)
  local order = raw and load_order(raw)
  local chosen = nil
  if order and order.status == 'open' and order._at == fire.at and (fire.at == 'u' or fire.at == 'd') then
    for _, plan in ipairs(fire.plans) do
      if not check_moves(balances, plan.moves) then
        chosen = plan
        break
      end
    end
    if chosen then
      apply_moves(balances, chosen.moves)
      local record = chosen.record
      if chosen.trades and chosen.trades > 0 then
        local ids = trade_ids(KEYS[12], number, chosen.trades, fire.id)
        record = name_trades(record, ids)
        index_trades(KEYS[9], KEYS[11], chosen.fill, fire.id, ids)
        filled = filled + 1
      elseif chosen.fill ~= 0 then
        index_fill(KEYS[9], chosen.fill, fire.id)
        filled = filled + 1
      end
      redis.call('HSET', orders, fire.id, record)
      redis.call('ZREM', trigger_set[fire.at], fire.id)
      if chosen.rest == 'b' then
        redis.call('ZADD', order.side == 'buy' and KEYS[5] or KEYS[6], chosen.score, fire.id)
      else
        redis.call('ZREM', KEYS[3], fire.id)
        redis.call('ZADD', KEYS[10], chosen.score, fire.id)
      end
      if spec and chosen.takes and chosen.takes ~= '' then
        order_takes(spec, chosen.takes, taken)
      end
      applied = applied + 1
    else
      skipped[fire.at] = skipped[fire.at] + 1
    end
  else  -- a stale member (the order ended, or rests elsewhere): it leaves the trigger sets
    redis.call('ZREM', KEYS[7], fire.id)
    redis.call('ZREM', KEYS[8], fire.id)
  end
  if spec and chosen ~= fire.plans[1] then
    untaken[#untaken + 1] = fire.id
  end
end
if spec and KEYS[13] then
  depth_add(KEYS[14], spec, taken, '')
end
forget_if_idle(KEYS[4], {KEYS[5], KEYS[6], KEYS[7], KEYS[8]}, ARGV[1])
local reply = {applied, filled, skipped.u, skipped.d}
for _, id in ipairs(untaken) do
  reply[#reply + 1] = id
end
return reply
