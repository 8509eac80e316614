-- take_depth.lua: on Valkey Cluster (no script may touch the feed's slot and an account's), what a plan takes
-- from a book snapshot is taken here first, in the feed's slot, and the account's own script fills it after:
-- 'take' checks the snapshot and the levels as a single node's fill script would and takes the units; 'give'
-- returns what a fill that did not happen had taken (nothing, if the feed has moved on to another snapshot).
-- Liquidity is therefore never given twice; a process that stops between the two steps leaves what it took
-- taken until the next snapshot.
-- KEYS[1] the feed hash  KEYS[2] what was taken from its snapshot
-- ARGV[1] 'take' or 'give'  ARGV[2..] the snapshot and the levels with their units (book_lib.lua depth_spec)
-- reply: 'OK'; 'STALE' ('take' only, nothing written) when the feed no longer holds the snapshot or a level no
-- longer has what the plan takes
local spec = depth_spec(ARGV, 2)
if ARGV[1] == 'take' then
  if not depth_holds(KEYS[1], KEYS[2], spec) then
    return 'STALE'
  end
  depth_add(KEYS[2], spec, spec_takes(spec), '')
else
  depth_add(KEYS[2], spec, spec_takes(spec), '-')
end
return 'OK'
