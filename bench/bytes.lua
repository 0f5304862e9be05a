-- bench/bytes.lua: memory per cached entry of one variant, in a process of its own
-- (so that memory freed by an earlier measurement cannot be reused by this one).
--   INTERPRETER bench/bytes.lua VARIANT ENTRIES
-- prints "<Lua heap bytes per entry> <resident memory bytes per entry>".
-- The Lua heap is collectgarbage("count") plus methodcache.memory(), the C memory of
-- the caches that the collector's count does not include; resident memory (VmRSS)
-- also counts the allocator's own overhead.
--
-- Besides the variants of variants.lua, VARIANT may be "mc-POLICY" (methodcache.method
-- with that policy: lru, lfu, fifo, rr, ttl, tlru, unbounded), "mc-weighted" (LRU with
-- getsizeof), "mc-total" (LRU under a budget, option total = ENTRIES) or "mc-object" (LRU
-- whose argument is a table, compared by identity: each
-- entry then has an owner node and a node table; the argument tables themselves are made
-- before the first measurement and do not count).

local here = (arg and arg[0] and arg[0]:match("^(.*)[/\\]")) or "bench"
local lib = assert(loadfile(here .. "/lib.lua"))()
local V = lib.load("variants.lua")

local variant, entries = arg[1], math.tointeger(tonumber(arg[2]))
local policy = variant and variant:match("^mc%-(%a+)$")
assert((V.labels[variant] or policy) and entries, "usage: bytes.lua VARIANT ENTRIES")

local function rss()
  local f = io.open("/proc/self/status")
  if not f then return 0 / 0 end
  local kb
  for line in f:lines() do
    kb = kb or tonumber(line:match("^VmRSS:%s*(%d+)"))
  end
  f:close()
  return (kb or 0 / 0) * 1024
end

local methodcache = require("methodcache")
local function heap() return lib.bytes() + methodcache.memory() end

local methodcache_opts = {
  ttl = { ttl = 1e9 },
  tlru = { ttu = function(_, _, now) return now + 1e9 end },
  weighted = { policy = "lru", getsizeof = function() return 1 end },
  object = { policy = "lru" },
  total = { policy = "lru" },
}

local function make()
  if not policy then return V.make(variant, entries) end
  local opts = methodcache_opts[policy] or {}
  opts.policy = opts.policy or policy
  opts.maxsize = entries
  if policy == "total" then opts.total = entries end
  if policy == "object" then
    return methodcache.method(function(self, t) return t.i * 2 + self.k end, opts)
  end
  return methodcache.method(V.raw, opts)
end

local m = make()
local obj = { k = 1 }
local args = {}
for i = 1, entries do args[i] = i * 1000003 end
if policy == "object" then
  for i = 1, entries do args[i] = { i = i } end
end
-- Sparse integer keys (i * 1000003) land in a table's hash part, as most real
-- arguments would; 1, 2, 3... would fill a Lua table's cheaper array part.
local heap0, rss0 = heap(), rss()
for i = 1, entries do m(obj, args[i]) end
local heap1, rss1 = heap(), rss()
print(string.format("%.2f %.2f", (heap1 - heap0) / entries, (rss1 - rss0) / entries))
