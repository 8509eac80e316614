-- accounts.lua: the account registry, all under one hash tag: create, ensure, set or drop keys, remove.
-- KEYS[1] registry (name -> JSON {number, created, key})  KEYS[2] numbers (name -> number, never removed)
-- KEYS[3] the number sequence  KEYS[4] credentials (SHA-256 of an API key -> JSON {account, secret, number})
-- ARGV[1] op: 'create' (a new account, with a key), 'ensure' (register without a key unless registered),
--         'keys' (replace the key: a new one, or none when ARGV[4] is ''), 'remove' (unregister, drop the key)
-- ARGV[2] account name   ARGV[3] now (ms)   ARGV[4] SHA-256 of the new API key or ''   ARGV[5] its secret
-- reply: the account's number (string)
-- errors: ACCOUNT_EXISTS (create), ACCOUNT_NOT_FOUND (keys, remove); nothing is written
-- The default account 'main' is number 0 and always exists; others get the next number once, for good.
local registry, numbers, sequence, credentials = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local op, name, now, key_hash, secret = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local raw = redis.call('HGET', registry, name)
local entry = raw and cjson.decode(raw)
if op == 'ensure' and entry then
  return entry.number
end
if op == 'create' and (entry or name == 'main') then
  return redis.error_reply('ACCOUNT_EXISTS account ' .. name .. ' already exists')
end
if not entry and name ~= 'main' and (op == 'keys' or op == 'remove') then
  return redis.error_reply('ACCOUNT_NOT_FOUND account ' .. name .. ' does not exist')
end
if not entry then
  local number = name == 'main' and '0' or redis.call('HGET', numbers, name)
  if not number then
    number = tostring(redis.call('INCR', sequence))
    redis.call('HSET', numbers, name, number)
  end
  entry = {number = number, created = now, key = ''}
end
if entry.key ~= '' then
  redis.call('HDEL', credentials, entry.key)
  entry.key = ''
end
if op == 'remove' then
  redis.call('HDEL', registry, name)
  return entry.number
end
if key_hash ~= '' then
  redis.call('HSET', credentials, key_hash, cjson.encode({account = name, secret = secret, number = entry.number}))
  entry.key = key_hash
end
redis.call('HSET', registry, name, cjson.encode(entry))
return entry.number
