-- standalone_cache.lua: methodcache's C caches used directly, as plain caches.
--
-- Run:  ./mchost examples/standalone_cache.lua
--   or  LUA_PATH='lua/?.lua' LUA_CPATH='build/?.so' lua5.4 examples/standalone_cache.lua

local methodcache = require("methodcache")

-- Print a cache's entries in pairs() order: the entry that would be evicted last first.
local function show(label, c)
  local parts = {}
  for k, v in pairs(c) do parts[#parts + 1] = tostring(k) .. "=" .. tostring(v) end
  print(string.format("%-24s #c=%d  { %s }", label, #c, table.concat(parts, ", ")))
end

-- An LRU cache of at most 3 entries.
local c = methodcache.lru(3)
print("maxsize", c.maxsize)
c:set("a", 1)
c:set("b", 2)
c:set("c", 3)
show("set a, b, c", c)          -- most recently used first: c, b, a

print("get a ->", c:get("a"))   -- a hit makes "a" the most recently used
show("after get a", c)

c:set("d", 4)                   -- full: evicts the least recently used, "b"
show("after set d", c)
print("get b ->", c:get("b"))   -- nil: evicted (and counted as a miss)

print("peek c ->", c:peek("c")) -- peek and has neither count nor touch the order
print("has c  ->", c:has("c"))
show("after peek/has", c)

print("delete d ->", c:delete("d"), "again ->", c:delete("d"))
print("pop a ->", c:pop("a"), "pop zz ->", c:pop("zz", "default"))
show("after delete/pop", c)

-- Keys may be any value but nil and NaN. 1 and 1.0 are the same key...
c:set(1, "one")
print("get 1.0 ->", c:get(1.0))
-- ...unless the cache is typed.
local typed = methodcache.lru(3, { typed = true })
typed:set(1, "one")
print("typed: get 1.0 ->", typed:get(1.0), "get 1 ->", typed:get(1))

-- Table keys are held weakly: once the key is collected, its entry disappears, even
-- though the value refers back to the key.
do
  local key = {}
  c:set(key, { owner = key })
end
collectgarbage()
collectgarbage()
show("after a key died", c)

-- pairs() is a snapshot: changing the cache while iterating is safe.
for k in pairs(c) do c:delete(k) end
show("deleted while iterating", c)

local st = c:stats()
print(string.format("stats: hits=%d misses=%d evictions=%d expirations=%d currsize=%d maxsize=%d",
  st.hits, st.misses, st.evictions, st.expirations, st.currsize, st.maxsize))
c:clear()
print("expire() on an LRU drops nothing:", c:expire())

-- The other policies (issue 3), where this build has them. Each gets the same
-- sequence: set 1, 2, 3, read 1 twice, set 4; the pairs() order shows who was evicted.
local function policy_demo(name, make)
  if not methodcache[name] then
    print(string.format("%-9s (not in this build)", name))
    return
  end
  local p = make()
  p:set(1, "a")
  p:set(2, "b")
  p:set(3, "c")
  p:get(1)
  p:get(1)
  p:set(4, "d")
  show(name, p)
end

policy_demo("lfu", function() return methodcache.lfu(3) end)
policy_demo("fifo", function() return methodcache.fifo(3) end)
policy_demo("rr", function() return methodcache.rr(3, { seed = 42 }) end)
policy_demo("unbounded", function() return methodcache.unbounded() end)

-- Time-based policies take a timer; a fake clock makes the example deterministic.
local now = 0
local function clock() return now end

if methodcache.ttl then
  local t = methodcache.ttl(10, 5, { timer = clock }) -- entries live 5 seconds
  t:set("token", "abc")
  now = 4
  print("ttl: at t=4 get ->", t:get("token"))
  now = 6
  print("ttl: at t=6 get ->", t:get("token"), "expire() ->", t:expire())
else
  print("ttl       (not in this build)")
end

if methodcache.tlru then
  -- ttu(key, value, now) returns the time at which the entry expires.
  local t = methodcache.tlru(10, function(_, value, t0) return t0 + value.lifetime end,
    { timer = clock })
  now = 0
  t:set("short", { lifetime = 1 })
  t:set("long", { lifetime = 100 })
  now = 2
  print("tlru: at t=2 short ->", t:get("short"), "long ->", t:get("long") ~= nil)
else
  print("tlru      (not in this build)")
end

if methodcache.lfu then -- getsizeof and on_evict came with the other policies (issue 3)
  -- getsizeof makes maxsize a total weight; on_evict sees every removal.
  local w = methodcache.lru(10, {
    getsizeof = function(v) return #v end,
    on_evict = function(k, _, reason) print("  evicted", k, reason) end,
  })
  print("weighted: set big ->", w:set("big", string.rep("x", 11))) -- heavier than maxsize
  w:set("a", "aaaaaa")
  w:set("b", "bbbbbb") -- 6 + 6 > 10: "a" goes
  show("weighted", w)
end
