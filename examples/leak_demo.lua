-- leak_demo.lua: why methodcache exists, measured.
--
-- A method cache written the obvious way (a plain table keyed by self) keeps every object
-- it has ever seen alive. methodcache keeps one cache per object in a weak-keyed
-- (ephemeron) table, so objects die as usual, even when the cached value refers back to
-- the object or to an object passed as an argument.
--
-- Run:  make demo
--   or  ./mchost examples/leak_demo.lua [N]
--   or  LUA_PATH='lua/?.lua' LUA_CPATH='build/?.so' lua5.4 examples/leak_demo.lua [N]
--
-- Exits with status 1 if the methodcache rows show a leak, so it doubles as a check.

local methodcache = require("methodcache")

local N = tonumber(arg and arg[1]) or 10000

---------------------------------------------------------------------------------------
-- A small class.
local Point = {}
Point.__index = Point

function Point.new(x, y)
  return setmetatable({ x = x, y = y }, Point)
end

-- The method we want to cache: pretend it is expensive.
local function dist(self, other)
  local dx, dy = self.x - other.x, self.y - other.y
  return math.sqrt(dx * dx + dy * dy)
end

-- A method whose result refers back to self and to its argument: the hard case, because
-- a cache that holds the result strongly would hold both objects through it.
local function segment(self, other)
  return { from = self, to = other, length = dist(self, other) }
end

local ORIGIN = Point.new(0, 0)

---------------------------------------------------------------------------------------
-- 1. The naive cache, as people write it: a plain (strong) table keyed by self.
local naive = {}
local function naive_dist(self, other)
  local c = naive[self] or {}
  naive[self] = c
  local v = c[other]
  if v == nil then
    v = dist(self, other)
    c[other] = v
  end
  return v
end

---------------------------------------------------------------------------------------
-- 2. The same methods cached with methodcache.
local mc_dist = methodcache.method(dist, { maxsize = 16 })
local mc_segment = methodcache.method(segment, { maxsize = 16 })

---------------------------------------------------------------------------------------
-- Measuring: make N objects, call the method on each (twice, so the second call hits),
-- drop every reference, collect, and count the survivors through a weak-valued table.
local function full_gc()
  collectgarbage()
  collectgarbage()
end

local function kib()
  return collectgarbage("count")
end

-- `call(p, q)` calls the method on a fresh point p with argument q; when `fresh_arg`
-- is set, q is a fresh point too, and it is watched like p.
local function run(call, fresh_arg)
  local watch = setmetatable({}, { __mode = "v" })
  local watched = 0
  full_gc()
  local before = kib()
  for i = 1, N do
    local p = Point.new(i, i)
    local q = fresh_arg and Point.new(-i, i) or ORIGIN
    call(p, q)
    call(p, q)
    watched = watched + 1
    watch[watched] = p
    if fresh_arg then
      watched = watched + 1
      watch[watched] = q
    end
  end
  full_gc()
  local alive = 0
  for _ in pairs(watch) do alive = alive + 1 end
  watch = nil -- luacheck: ignore (so that the watch list itself is not measured)
  full_gc()
  return alive, watched, kib() - before
end

local rows = {}
local function row(name, alive, watched, dkib, info)
  rows[#rows + 1] = { name = name, alive = alive, watched = watched, dkib = dkib, info = info }
end

-- Warm up once (with throwaway caches) so that one-time allocations are not measured.
run(naive_dist, false)
naive = {}
run(methodcache.method(dist, { maxsize = 16 }), false)

local alive, watched, dkib = run(naive_dist, false)
row("naive table cache", alive, watched, dkib)

Point.dist = mc_dist
alive, watched, dkib = run(function(p, q) return p:dist(q) end, false)
row("methodcache", alive, watched, dkib, methodcache.info(mc_dist))

Point.segment = mc_segment
alive, watched, dkib = run(function(p, q) return p:segment(q) end, true)
row("methodcache, value->self+arg", alive, watched, dkib, methodcache.info(mc_segment))

-- Keep the naive cache reachable until here, so what it holds really is alive.
local naive_objects = 0
for _ in pairs(naive) do naive_objects = naive_objects + 1 end

---------------------------------------------------------------------------------------
-- Report.
print(string.format("methodcache %s, %s, N = %d objects per row", methodcache.version,
  _VERSION, N))
print("Each object gets 2 calls (a miss, then a hit); then every reference is dropped")
print("and collectgarbage() runs. 'retained' is the Lua heap, collectgarbage(\"count\"),")
print("after minus before (methodcache's C memory is outside it: see info() below).")
print()

local w = 0
for _, r in ipairs(rows) do w = math.max(w, #r.name) end
local d = #tostring(2 * N)
local fmt = "%-" .. w .. "s : %" .. d .. "d of %" .. d
  .. "d objects still alive, %+8.0f KiB retained"
for _, r in ipairs(rows) do
  print(string.format(fmt, r.name, r.alive, r.watched, r.dkib))
end
print()

print("methodcache.info after the collection (hits and misses were counted while the")
print("objects lived; instances and currsize count the caches and entries left;")
print("collected counts the per-object caches that the collector freed):")
print(string.format("  %-" .. w .. "s   %8s %8s %9s %8s %9s %10s", "", "hits", "misses",
  "instances", "currsize", "collected", "maxsize"))
for _, r in ipairs(rows) do
  local i = r.info
  if i then
    print(string.format("  %-" .. w .. "s : %8d %8d %9d %8d %9d %10d", r.name, i.hits,
      i.misses, i.instances, i.currsize, i.collected, i.maxsize))
  end
end
print()

-- The verdict. The naive row is expected to leak (that is the point); the methodcache
-- rows must not: no survivors, no per-object caches left in info(), and every one of the
-- N caches freed by the collector.
local ok = true
for _, r in ipairs(rows) do
  if r.info and (r.alive ~= 0 or r.info.instances ~= 0 or r.info.currsize ~= 0 or
                 r.info.collected ~= N) then
    ok = false
    print(string.format("LEAK: %s kept %d objects (instances=%d, currsize=%d, collected=%d)",
      r.name, r.alive, r.info.instances, r.info.currsize, r.info.collected))
  end
end
if rows[1].alive ~= N or naive_objects ~= N then
  print(string.format("note: the naive cache was expected to keep all %d objects (kept %d)", N,
    rows[1].alive))
end

if ok then
  print(string.format("OK: the naive cache keeps all %d objects alive; methodcache keeps none.",
    naive_objects))
else
  print("FAIL: methodcache kept objects alive.")
  os.exit(1)
end
