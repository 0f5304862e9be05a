-- Finalizers that run at the very allocations where a cache makes a node
-- table (csrc/mc_lnode.c, newnode) and use that cache: run by
-- spec/node_map_spec.lua in a child process, whose heap is small enough
-- for the sweep below to land collections on those allocations.
--
--   LUA_PATH='lua/?.lua;;' LUA_CPATH='build/?.so;;' \
--     lua5.4 spec/support/map_race.lua MODE VARIANT
--
-- MODE is incremental or generational.  In each round a fresh cache stores
-- key a (a table) right after a collector step, a filler string and a
-- dropped table whose __gc, if it runs inside that store, does VARIANT:
--   set    store key b, in a cache with no object key yet (so no map);
--   clear  clear the cache, then store key b, likewise;
--   same   store key a itself, in a cache that has a map already.
-- The filler grows by 8 bytes a round, so that for some rounds the step
-- falls on the store's first allocations.  Checked after the store, with
-- the collector stopped, and again after full collections: pairs gives
-- each key once and as many as #c, a gives "a", and b gives "b" if set.
-- Prints "hits H bad B": H rounds where the finalizer ran before the node
-- table of a was made, B rounds that failed a check (each printed).
local methodcache = require("methodcache")

local mode, variant = arg[1], arg[2]
local VARIANTS = { set = true, clear = true, same = true }
if not ((mode == "incremental" or mode == "generational") and VARIANTS[variant]) then
  io.stderr:write("usage: map_race.lua incremental|generational set|clear|same\n")
  os.exit(2)
end
if mode == "generational" then
  collectgarbage("generational", 1, 100)
else
  collectgarbage("incremental", 1, 1000, 1)
end

local UV_ROOT = 1  -- MC_UV_ROOT in csrc/mc_lua.h: node tables by object

-- what is wrong with cache c, or nil
local function check(c, a, b, bset)
  local n, seen = 0, {}
  for k in pairs(c) do
    if seen[k] then return "pairs gave " .. tostring(k) .. " twice" end
    seen[k], n = true, n + 1
  end
  if n ~= #c then return ("#c is %d, pairs gave %d"):format(#c, n) end
  if c:get(a) ~= "a" then return "a gives " .. tostring(c:get(a)) end
  if bset and c:get(b) ~= "b" then return "b gives " .. tostring(c:get(b)) end
end

local hits, bad = 0, 0
for fill = 0, 3000, 8 do
  local c = methodcache.lru(8)
  local a, b, z = {}, {}, {}
  if variant == "same" then c:set(z, "z") end
  local during, hit, bset = false, false, false
  local mt = { __gc = function()
    if not during then return end
    -- before the store made the node table of a
    hit = hit or rawget(debug.getuservalue(c, UV_ROOT), a) == nil
    if variant == "same" then
      c:set(a, "finalizer's")
    else
      if variant == "clear" then c:clear() end
      bset = c:set(b, "b")
    end
  end }
  collectgarbage("step", 0)
  local filler = ("x"):rep(fill)
  setmetatable({}, mt)
  during = true
  c:set(a, "a")
  during = false
  collectgarbage("stop")
  local wrong = check(c, a, b, bset)
  collectgarbage("restart")
  if not wrong then
    collectgarbage()
    collectgarbage()
    wrong = check(c, a, b, bset)
    if wrong then wrong = wrong .. ", after full collections" end
  end
  if hit then hits = hits + 1 end
  if wrong then
    bad = bad + 1
    print(("filler %d: %s"):format(#filler, wrong))
  end
end
print(("hits %d bad %d"):format(hits, bad))
