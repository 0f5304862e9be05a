-- bench/policies.lua: every cache policy methodcache has, used directly, at 10^3, 10^5
-- and 10^6 entries. The per-operation cost should stay flat as the cache grows (every
-- operation is O(1)); what still grows is the cost of CPU cache misses, which a plain
-- Lua table shows too (the "Lua table" row, for reference).
--
--   get hot     c:get(k) of a key that is there, k among 1,024 random keys of the
--               cache: the working set stays in the CPU caches at every size, so this
--               column shows the algorithm's cost alone, and it must stay flat
--   get hit     c:get(k) of a key that is there, k chosen at random among all
--   set+evict   c:set(k, v) of a new key into a full cache, so one entry is evicted
--
-- Policies missing from this build are listed as such. Run on its own:
--   ./mchost bench/policies.lua        (or lua5.4 with LUA_PATH/LUA_CPATH, see run.lua)
-- or through run.lua, which loads it after the method benchmarks.

local lib = ...
if type(lib) ~= "table" then -- run on its own
  local here = (arg and arg[0] and arg[0]:match("^(.*)[/\\]")) or "bench"
  lib = assert(loadfile(here .. "/lib.lua"))()
end
local methodcache = require("methodcache")

local SIZES = { 1000, 100000, 1000000 }
-- shorter measurements than run.lua's others: filling 10^6-entry caches takes time too
local target = lib.target / 4
local reps = math.min(lib.reps, 3)

-- name, constructor for a cache holding n entries
local FOREVER = 1e9 -- seconds: nothing expires during the run
local POLICIES = {
  { "lru", function(n) return methodcache.lru(n) end },
  { "lfu", function(n) return methodcache.lfu(n) end },
  { "fifo", function(n) return methodcache.fifo(n) end },
  { "rr", function(n) return methodcache.rr(n, { seed = 1 }) end },
  { "ttl", function(n) return methodcache.ttl(n, FOREVER) end },
  { "tlru", function(n)
    return methodcache.tlru(n, function(_, _, now) return now + FOREVER end)
  end },
  { "unbounded", function() return methodcache.unbounded() end },
}

-- random keys among 1..n, a fixed sequence, precomputed so the loop only reads them
local function random_keys(n)
  local keys = {}
  local seed = 12345
  for i = 1, 65536 do
    seed = (seed * 1103515245 + 12345) % 2147483648
    keys[i] = seed % n + 1
  end
  return keys
end

local function bench_cache(c, n, can_evict)
  local keys = random_keys(n)
  local hot = {}
  for i = 1, 65536 do hot[i] = keys[(i - 1) % 1024 + 1] end
  local hot_ns = lib.ns_per_op(function(iters)
    local get = c.get
    for i = 1, iters do get(c, hot[(i & 65535) + 1]) end
  end, { target = target, reps = reps })
  local get_ns = lib.ns_per_op(function(iters)
    local get = c.get
    for i = 1, iters do get(c, keys[(i & 65535) + 1]) end
  end, { target = target, reps = reps })
  local set_ns = 0 / 0
  if can_evict then
    local next_key = n
    set_ns = lib.ns_per_op(function(iters)
      local set = c.set
      local k = next_key
      for _ = 1, iters do
        k = k + 1
        set(c, k, k)
      end
      next_key = k
    end, { target = target, reps = reps })
  end
  return hot_ns, get_ns, set_ns
end

local rows, missing = {}, {}
local t_start = os.clock()

-- A plain Lua table, for reference: the same gets (no eviction possible).
do
  local row = { "Lua table (reference)" }
  for _, n in ipairs(SIZES) do
    local t = {}
    for k = 1, n do t[k * 2654435761 % 4294967296] = k end -- hash part, like real keys
    local keys = random_keys(n)
    for i = 1, #keys do keys[i] = keys[i] * 2654435761 % 4294967296 end
    local hot = {}
    for i = 1, 65536 do hot[i] = keys[(i - 1) % 1024 + 1] end
    for _, ks in ipairs({ hot, keys }) do
      row[#row + 1] = lib.ns_per_op(function(iters)
        local s = 0
        for i = 1, iters do s = s + t[ks[(i & 65535) + 1]] end
        return s
      end, { target = target, reps = reps })
    end
    row[#row + 1] = 0 / 0
  end
  rows[#rows + 1] = row
end

for _, p in ipairs(POLICIES) do
  local name, make = p[1], p[2]
  if methodcache[name] then
    local row = { name }
    for _, n in ipairs(SIZES) do
      local c = make(n)
      for k = 1, n do c:set(k, k) end
      assert(#c == n, name .. ": cache should be full")
      local h, g, s = bench_cache(c, n, name ~= "unbounded")
      row[#row + 1] = h
      row[#row + 1] = g
      row[#row + 1] = s
      c = nil -- luacheck: ignore
      collectgarbage()
    end
    rows[#rows + 1] = row
  else
    missing[#missing + 1] = name
  end
end

local headers = { "policy" }
for _, n in ipairs(SIZES) do
  local label = string.format("10^%d", math.floor(math.log(n, 10) + 0.5))
  headers[#headers + 1] = label .. " get hot"
  headers[#headers + 1] = label .. " get hit"
  headers[#headers + 1] = label .. " set+evict"
end

local notes = {
  "ns per operation, best of " .. reps .. "; n/a: the policy never evicts",
  "get hot: 1,024 keys of the cache, so the CPU caches hold the working set: the",
  "algorithm's own cost, flat at every size (TLRU's set is O(log n), a heap)",
  "get hit and set+evict use random keys: at 10^5 and 10^6 entries most operations",
  "miss the CPU caches (a plain table slows down too), and they vary run to run",
}
if #missing > 0 then
  notes[#notes + 1] = "not in this build yet: " .. table.concat(missing, ", ")
end
notes[#notes + 1] = string.format("(this table took %.1f s)", os.clock() - t_start)

local sections = {
  { title = "Cache policies, ns/op at 10^3, 10^5, 10^6 entries", headers = headers, rows = rows,
    notes = notes },
}

if select("#", ...) == 0 or type(...) ~= "table" then -- run on its own: print
  for _, s in ipairs(sections) do lib.print_section(s) end
end
return sections
