-- settle_book.lua: FILL_MODEL=book: apply one account's part of a settlement pass that Python planned against a
-- book snapshot (engine/book_settlement.py): each resting order named makes its one trade of the pass, at its
-- limit price, taking what the plan gives it from the book.
-- KEYS[1] balances  KEYS[2] orders  KEYS[3] open ids  KEYS[4] active symbols  KEYS[5] buy book  KEYS[6] sell book
-- KEYS[7] up triggers  KEYS[8] down triggers  KEYS[9] fills of the symbol  KEYS[10] finished ids
-- KEYS[11] trade -> order  KEYS[12] id sequence  (a single node: KEYS[13] the feed hash, KEYS[14] what was taken
-- from its snapshot)
-- ARGV[1] symbol  ARGV[2] the account's number  ARGV[3] the snapshot's time (ms): a trade is timed at it, never
-- before its order
-- ARGV[4..] the snapshot and the levels the orders take from (book_lib.lua depth_spec); with KEYS[13] it is checked
-- first, and what the applied fills took is written; then per order, in priority order:
--   'F', id, the remainder it must have, its takes: its remainder fills whole, as its record has it planned
--   ('_fill' moves; '_trade' and '_done' for a record the book model planned, else the touch model's '_cost' and
--   '_fee'); its first trade gets its id, a later one the next id of the account's counter
--   'P', id, the remainder it must have, its takes, its new record (JSON; its new trade named "#0" unless it is
--   the order's first), the trade's time, '1' if it stays open, m, m moves
-- An order that is no longer open with that remainder (a cancel or another settler came first) is passed over;
-- one whose moves the balances cannot take is skipped and stays open with the reason in its record. Their takes
-- are not taken.
-- reply: {'STALE'} (nothing written) when the feed no longer holds the snapshot or a level no longer has what the
-- plan takes; else {orders filled, ids of the orders passed over or skipped...}
local balances, orders, open_ids = KEYS[1], KEYS[2], KEYS[3]
local symbol, number, ts = ARGV[1], ARGV[2], tonumber(ARGV[3])
local spec, i = depth_spec(ARGV, 4)
if KEYS[13] and not depth_holds(KEYS[13], KEYS[14], spec) then
  return {'STALE'}
end
local reply, done, trades = {0}, {buy = {}, sell = {}}, {scored = {}, owners = {}}
-- The takes of the orders filled; while every order named fills, what they took is the spec's own total per level,
-- and they are not read one by one (the common case: a pass rarely meets an order that changed meanwhile).
local applied, every = {}, true
local finished = {} -- score (when it ended), id: what retention trims, oldest first

while i <= #ARGV do
  local kind, id, remainder, takes = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local record, at, stays, moves
  if kind == 'P' then
    record, at, stays = ARGV[i + 4], tonumber(ARGV[i + 5]), ARGV[i + 6] == '1'
    local m = tonumber(ARGV[i + 7])
    moves = {unpack(ARGV, i + 8, i + 7 + m)}
    i = i + 8 + m
  else
    i = i + 4
  end
  local raw = redis.call('HGET', orders, id)
  local order = raw and load_order(raw)
  if not (order and order.status == 'open' and (order.remaining or order.amount) == remainder and order._at == 'b') then
    reply[#reply + 1] = id
    every = false
  else
    moves = moves or order._fill
    local problem, detail = check_moves(balances, moves)
    if problem then
      reply[#reply + 1] = id
      every = false
      hold_back(orders, id, order, problem, detail)
    else
      apply_moves(balances, moves)
      local trade_id
      if kind == 'P' then
        local ids = string.find(record, '"#0"', 1, true) and trade_ids(KEYS[12], number, 1) or {id}
        trade_id = ids[1]
        redis.call('HSET', orders, id, name_trades(record, ids))
      else
        -- never before the order's last trade (an outside feed may write an older snapshot)
        at, stays = math.max(ts, order.timestamp, tonumber(order.lastTradeTimestamp) or 0), false
        trade_id = order._trades and next_id(KEYS[12], number) or id
        if order._done then
          for name, value in pairs(order._done) do
            order[name] = value
          end
          local t = order._trade
          local trades = order._trades or {}
          trades[#trades + 1] = {trade_id, at, t[1], t[2], t[3], t[4], t[5], t[6]}
          order._trades = trades
        else
          order.cost, order.average, order.fee_cost = order._cost, nil, order._fee
        end
        order.status, order.filled, order.remaining = 'closed', nil, nil -- they follow (lib.lua load_order)
        order.lastTradeTimestamp, order.lastUpdateTimestamp, order.reason = nil, at, nil
        order._fill, order._release, order._cost, order._fee, order._at = nil, nil, nil, nil, nil
        order._trade, order._done = nil, nil
        redis.call('HSET', orders, id, save_order(order))
      end
      note_trade(trades, at, id, trade_id)
      applied[#applied + 1] = takes
      if not stays then
        local left = done[order.side]
        left[#left + 1] = id
        finished[#finished + 1] = string.format('%d', at)
        finished[#finished + 1] = id
      end
      reply[1] = reply[1] + 1
    end
  end
end
for side, key in pairs({buy = KEYS[5], sell = KEYS[6]}) do
  each_chunk(done[side], function(...) redis.call('ZREM', key, ...) end)
  each_chunk(done[side], function(...) redis.call('ZREM', open_ids, ...) end)
end
each_chunk(finished, function(...) redis.call('ZADD', KEYS[10], ...) end)
write_trades(trades, KEYS[9], KEYS[11])
if KEYS[13] then
  local taken = {}
  if every then
    taken = spec_takes(spec)
  else
    for _, takes in ipairs(applied) do
      order_takes(spec, takes, taken)
    end
  end
  depth_add(KEYS[14], spec, taken, '')
end
forget_if_idle(KEYS[4], {KEYS[5], KEYS[6], KEYS[7], KEYS[8]}, symbol)
return reply
