-- tools/fast_hitratio.lua: hit ratios of policy "fast" (two generations) against exact
-- LRU, for a memoized method over the same key sequences.
--
--   ./mchost tools/fast_hitratio.lua          (or lua5.4 with LUA_PATH/LUA_CPATH set)
--
-- Sequences: the keys of every get and set of the cachetools traces
-- (spec/data/cachetools_traces.lua, maxsize as recorded), and Zipf-like workloads
-- (key i drawn with weight 1 / i^s) with fixed seeds. The Zipf rows are the same on
-- every run; the traces' rows of fast are not: fast evicts old entries in table order,
-- and Lua orders string keys by a hash with a per-state random seed (their sum varied
-- from 0.636 to 0.644 over six runs). Prints a markdown table: hits / calls.

local methodcache = require("methodcache")

local here = (arg and arg[0] and arg[0]:match("^(.*)[/\\]tools[/\\][^/\\]*$")) or "."
local data = dofile(here .. "/spec/data/cachetools_traces.lua")
local zipf = dofile(here .. "/spec/support/helpers.lua").zipf

-- The hit ratio of a method cached with `policy` over the sequence of keys.
local function ratio(policy, maxsize, keys)
  local T = {}
  T.__index = T
  T.m = methodcache.method(function(_, k) return k end, { policy = policy, maxsize = maxsize })
  local o = setmetatable({}, T)
  for i = 1, #keys do o:m(keys[i]) end
  local info = methodcache.info(T.m)
  return info.hits / (info.hits + info.misses)
end

local rows = {}
local function row(name, maxsize, keys)
  local lru, fast = ratio("lru", maxsize, keys), ratio("fast", maxsize, keys)
  rows[#rows + 1] = ("| %s | %d | %d | %.3f | %.3f | %+.3f |"):format(name, maxsize, #keys, lru,
    fast, fast - lru)
  return lru, fast
end

local tlru, tfast, tn = 0, 0, 0
for _, trace in ipairs(data.traces) do
  if trace.maxsize > 0 then
    local keys = {}
    for _, op in ipairs(trace.ops) do
      if op[1] == "get" or op[1] == "set" then keys[#keys + 1] = op[2] end
    end
    local lru, fast = row("cachetools " .. trace.name, trace.maxsize, keys)
    tlru, tfast, tn = tlru + lru * #keys, tfast + fast * #keys, tn + #keys
  end
end
rows[#rows + 1] = ("| cachetools, all traces with maxsize > 0 | | %d | %.3f | %.3f | %+.3f |")
  :format(tn, tlru / tn, tfast / tn, (tfast - tlru) / tn)

for _, w in ipairs({
  { 1000, 0.8, 64 }, { 1000, 1.0, 64 }, { 1000, 1.2, 64 },
  { 10000, 0.8, 128 }, { 10000, 1.0, 128 }, { 10000, 1.2, 128 },
  { 100000, 1.0, 1024 },
}) do
  local n, s, maxsize = w[1], w[2], w[3]
  row(("Zipf s=%.1f over %d keys"):format(s, n), maxsize, zipf(n, s, 200000, n + s * 10))
end

print("| sequence | maxsize | calls | hits, lru | hits, fast | fast - lru |")
print("|---|---:|---:|---:|---:|---:|")
for _, r in ipairs(rows) do print(r) end
