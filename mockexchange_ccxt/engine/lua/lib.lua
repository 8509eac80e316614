-- lib.lua: helpers shared by the scripts; engine/store.py prepends this file to each script it loads (one whose
-- first line is '-- uses <name>' gets <name>.lua instead).
--
-- Balances live in one hash as integer strings of units (1e-8): fields free:<ASSET>, used:<ASSET> and
-- held:<ASSET> (the part of used that open orders reserve). Lua numbers are doubles, exact only below 2^53,
-- so amounts are compared as strings and changed only with HINCRBY, which is exact int64 arithmetic.
--
-- A "moves" list is flat: op, field, units, op, field, units, ... where op 'D' debits (the field must hold
-- at least units) and 'C' credits. Every script checks all debits before it writes anything.

-- a >= b for non-negative integers written in decimal without leading zeros
local function units_ge(a, b)
  if #a ~= #b then
    return #a > #b
  end
  return a >= b
end

-- The first debit the balances cannot cover, as field, needed, available; nil when all are covered.
local function uncovered_debit(balances, moves)
  for i = 1, #moves, 3 do
    if moves[i] == 'D' then
      local have = redis.call('HGET', balances, moves[i + 1]) or '0'
      if not units_ge(have, moves[i + 2]) then
        return moves[i + 1], moves[i + 2], have
      end
    end
  end
  return nil
end

-- Apply checked moves. Credits go first: only a credit can overflow int64, and the engine lists the one
-- credit that can (new money for the account) before any other, so an overflow error writes nothing.
local function apply_moves(balances, moves)
  for i = 1, #moves, 3 do
    if moves[i] == 'C' and moves[i + 2] ~= '0' then
      redis.call('HINCRBY', balances, moves[i + 1], moves[i + 2])
    end
  end
  for i = 1, #moves, 3 do
    if moves[i] == 'D' and moves[i + 2] ~= '0' then
      redis.call('HINCRBY', balances, moves[i + 1], '-' .. moves[i + 2])
    end
  end
end

local function insufficient(field, need, have)
  return redis.error_reply('INSUFFICIENT_FUNDS ' .. field .. ' ' .. need .. ' ' .. have)
end

-- Drop the symbol from the set of symbols with open orders once both of its books are empty.
local function forget_if_idle(active, book_buy, book_sell, symbol)
  if redis.call('ZCARD', book_buy) == 0 and redis.call('ZCARD', book_sell) == 0 then
    redis.call('SREM', active, symbol)
  end
end

