-- bench/methods.lua: cached methods, methodcache against what a Lua programmer writes
-- by hand (the variants are in variants.lua). Loaded by run.lua; returns its sections
-- and a summary of the numbers the targets are about.

local lib = ...
local methodcache = require("methodcache")
local V = lib.load("variants.lua")

local Obj = {}
Obj.__index = Obj
Obj.uncached = V.make("uncached")
Obj.memo = V.make("memo")
Obj.methodcache = V.make("methodcache") -- the default maxsize, 128
Obj.lualru = V.make("lualru", 128)
Obj.methodcache64 = V.make("methodcache", 64)
Obj.lualru64 = V.make("lualru", 64)
Obj.fast = V.make("fast") -- policy "fast", maxsize 128
Obj.fast64 = V.make("fast", 64)

-- Every variant runs the very same loop, with only the method name changed.
local function method_loop(name, keys)
  local src = ([[
    local obj, keys = ...
    local nkeys = #keys
    return function(n)
      local s = 0
      for i = 1, n do s = s + obj:METHOD(keys[i % nkeys + 1]) end
      return s
    end]]):gsub("METHOD", name)
  local obj = setmetatable({ k = 1 }, Obj)
  return assert(load(src, "=loop_" .. name))(obj, keys), obj
end

local function empty_loop(keys)
  local nkeys = #keys
  return function(n)
    local s = 0
    for i = 1, n do s = s + keys[i % nkeys + 1] end
    return s
  end
end

local HIT_KEYS = { 1, 2, 3, 4, 5, 6, 7, 8 }
local MISS_KEYS = {}
for i = 1, 1000 do MISS_KEYS[i] = i end

local sections, summary = {}, {}

---------------------------------------------------------------------------------------
-- Hits: x cycles over 8 numbers, so after the first round every call hits.
do
  local loop_ns = lib.ns_per_op(empty_loop(HIT_KEYS))
  local names = { "uncached", "memo", "methodcache", "fast", "lualru" }
  local ns, rows = {}, {}
  for _, name in ipairs(names) do
    local loop, obj = method_loop(name, HIT_KEYS)
    ns[name] = lib.ns_per_op(loop)
    if name == "methodcache" then
      local i = methodcache.info(Obj.methodcache, obj)
      assert(i.currsize == #HIT_KEYS and i.misses == #HIT_KEYS, "every call but 8 should hit")
    end
  end
  for _, name in ipairs(names) do
    local x = ns[name]
    rows[#rows + 1] = { V.labels[name], x, x - loop_ns, lib.ratio(x / ns.memo),
      lib.ratio(x / ns.methodcache) }
  end
  sections[#sections + 1] = {
    title = "Cache hit, obj:m(x), x cycling over 8 numbers",
    headers = { "variant", "ns/call", "ns/call - loop", "x hand memo", "x methodcache" },
    rows = rows,
    notes = { string.format("loop overhead (the same loop without the call): %.1f ns", loop_ns) },
  }
  summary.hit_ratio = ns.methodcache / ns.memo
  summary.hit_vs_lualru = ns.lualru / ns.methodcache
  summary.fast_hit_ratio = ns.fast / ns.memo
  summary.fast_hit_vs_lualru = ns.lualru / ns.fast
end

---------------------------------------------------------------------------------------
-- Miss + evict: maxsize 64, x cycles over 1000 numbers, so every call misses, runs the
-- method, stores the result and evicts the least recently used entry.
do
  local unc = lib.ns_per_op((method_loop("uncached", MISS_KEYS)))
  local mc = lib.ns_per_op((method_loop("methodcache64", MISS_KEYS)))
  local lualru = lib.ns_per_op((method_loop("lualru64", MISS_KEYS)))
  local fast = lib.ns_per_op((method_loop("fast64", MISS_KEYS)))
  sections[#sections + 1] = {
    title = "Miss + evict, maxsize 64, x cycling over 1000 numbers",
    headers = { "variant", "ns/call", "x methodcache" },
    rows = {
      { V.labels.uncached, unc, lib.ratio(unc / mc) },
      { V.labels.methodcache, mc, lib.ratio(1) },
      { V.labels.fast, fast, lib.ratio(fast / mc) },
      { V.labels.lualru, lualru, lib.ratio(lualru / mc) },
    },
  }
  summary.miss_vs_lualru = lualru / mc
  summary.fast_miss_vs_lualru = lualru / fast
end

---------------------------------------------------------------------------------------
-- Bytes per entry: one object with BIG entries, each variant in a fresh process
-- (bytes.lua) started with the interpreter running us.
do
  local BIG = 100000
  local function measure(name)
    local cmd = string.format("%s %s %s %d", lib.quote(lib.interpreter()),
      lib.quote(lib.here .. "/bytes.lua"), name, BIG)
    local p = io.popen(cmd)
    local out = p and p:read("a") or ""
    if p then p:close() end
    local heap, rss = out:match("^(%S+) (%S+)")
    return tonumber(heap) or 0 / 0, tonumber(rss) or 0 / 0
  end
  local names, heap, rss, rows = { "memo", "methodcache", "lualru" }, {}, {}, {}
  for _, name in ipairs(names) do heap[name], rss[name] = measure(name) end
  for _, name in ipairs(names) do
    rows[#rows + 1] = { V.labels[name], heap[name], rss[name], rss[name] - rss.memo }
  end
  summary.bytes_over_memo = rss.methodcache - rss.memo
  sections[#sections + 1] = {
    title = string.format("Memory, one object with %d cached entries (bytes per entry)", BIG),
    headers = { "variant", "Lua heap", "resident", "resident over hand memo" },
    rows = rows,
    notes = {
      "Lua heap: growth of collectgarbage(\"count\") + methodcache.memory() (the caches' C",
      "memory); resident: VmRSS growth of a fresh process, allocator overhead included.",
    },
  }
end

return sections, summary
