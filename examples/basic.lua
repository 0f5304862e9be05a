-- basic.lua: the three ways to cache with methodcache, and info/clear.
--
-- Run:  ./mchost examples/basic.lua
--   or  LUA_PATH='lua/?.lua' LUA_CPATH='build/?.so' lua5.4 examples/basic.lua

local methodcache = require("methodcache")

local Point = {}
Point.__index = Point

function Point.new(x, y)
  return setmetatable({ x = x, y = y }, Point)
end

local calls = 0 -- how often the real methods ran

function Point:dist(other)
  calls = calls + 1
  return math.sqrt((self.x - other.x) ^ 2 + (self.y - other.y) ^ 2)
end

function Point:scaled(k)
  calls = calls + 1
  return Point.new(self.x * k, self.y * k)
end

-- 1. The decorator form: the factory makes a NEW cache for each object that calls dist.
Point.dist = methodcache(function() return methodcache.lru(256) end)(Point.dist)

-- 2. The options form: LRU by default, maxsize 128 unless you say otherwise.
Point.scaled = methodcache.method(Point.scaled, { maxsize = 64 })

-- 3. A free function: one shared cache and no self.
local slow_sqrt = methodcache.cached(function(x)
  calls = calls + 1
  return math.sqrt(x)
end, { maxsize = 1000 })

local a, b = Point.new(0, 0), Point.new(3, 4)

print("a:dist(b) =", a:dist(b)) -- runs Point.dist
print("a:dist(b) =", a:dist(b)) -- a hit: answered from a's cache
print("b:dist(a) =", b:dist(a)) -- another object, another cache: runs again
local s1, s2 = a:scaled(2), a:scaled(2)
print("a:scaled(2) twice returns the same table:", s1 == s2)
print("slow_sqrt(2) twice =", slow_sqrt(2), slow_sqrt(2))
print("the real functions ran " .. calls .. " times for 7 calls")

-- info(f): totals over every object that has a cache for f.
local function show(label, t)
  local parts = {}
  for _, k in ipairs({ "hits", "misses", "currsize", "maxsize", "instances" }) do
    if t[k] ~= nil then parts[#parts + 1] = k .. "=" .. tostring(t[k]) end
  end
  print(string.format("%-24s %s", label, table.concat(parts, " ")))
end

show("info(Point.dist)", methodcache.info(Point.dist))
show("info(Point.dist, a)", methodcache.info(Point.dist, a))
show("info(Point.dist, {})", methodcache.info(Point.dist, {})) -- no cache yet: zeros
show("info(slow_sqrt)", methodcache.info(slow_sqrt))

-- clear(f, obj) empties one object's cache; clear(f) empties them all.
methodcache.clear(Point.dist, a)
show("after clear(dist, a)", methodcache.info(Point.dist))
methodcache.clear(Point.dist)
show("after clear(dist)", methodcache.info(Point.dist))
a:dist(b) -- a miss again
show("after one more call", methodcache.info(Point.dist, a))

-- Objects are not kept alive by their caches: drop b and collect.
b = nil -- luacheck: ignore (drop the last reference)
collectgarbage()
collectgarbage()
show("after b is collected", methodcache.info(Point.dist))

print("methodcache " .. methodcache.version)
