-- penlight_class.lua: methodcache with Penlight's pl.class (Debian: lua-penlight).
--
-- Run:  ./mchost examples/penlight_class.lua
--   or  LUA_PATH='lua/?.lua' LUA_CPATH='build/?.so' lua5.4 examples/penlight_class.lua

local methodcache = require("methodcache")

-- A LUA_PATH of 'lua/?.lua' hides the system's modules (write 'lua/?.lua;;' to keep
-- them); so if Penlight is not found, look in Lua 5.4's standard places too.
local ok, class = pcall(require, "pl.class")
if not ok then
  package.path = package.path .. ";/usr/local/share/lua/5.4/?.lua;/usr/share/lua/5.4/?.lua"
  ok, class = pcall(require, "pl.class")
end
if not ok then
  print("Penlight is not installed (apt-get install lua-penlight); skipping.")
  return
end

local work = 0 -- how often a real method body ran

-- A pl.class class: objects are tables whose metatable is the class.
local Polygon = class()

function Polygon:_init(name, points)
  self.name = name
  self.points = points
end

function Polygon:area()
  work = work + 1
  local pts, s = self.points, 0
  for i = 1, #pts do
    local p, q = pts[i], pts[i % #pts + 1]
    s = s + p[1] * q[2] - q[1] * p[2]
  end
  return math.abs(s) / 2
end

function Polygon:scaled_area(k)
  return self:area() * k * k
end

-- Cache the methods after defining them and BEFORE deriving subclasses: pl.class copies
-- the base class's fields into a subclass when the subclass is created (a subclass made
-- earlier keeps the uncached methods until it is wrapped too).
methodcache.wrap(Polygon, "area")
methodcache.wrap(Polygon, "scaled_area", { maxsize = 8 })

-- A subclass inherits the cached methods; its objects get caches of their own.
local Square = class(Polygon)

function Square:_init(side)
  self:super("square", { { 0, 0 }, { side, 0 }, { side, side }, { 0, side } })
end

local tri = Polygon("triangle", { { 0, 0 }, { 4, 0 }, { 0, 3 } })
local sq = Square(5)

print(tri.name, tri:area(), tri:area())                  -- 6.0 6.0: one computation
print(sq.name, sq:area(), sq:scaled_area(2), sq:is_a(Polygon))
print("area bodies ran", work, "times") -- 2: once per object

local info = methodcache.info(Polygon.area)
print(string.format("info(area): hits=%d misses=%d instances=%d", info.hits, info.misses,
  info.instances))

-- A cached property with class.properties: reading `c.circumference` calls
-- get_circumference, which is cached per object.
local Circle = class(class.properties)

function Circle:_init(r)
  self.r = r
end

function Circle:get_circumference()
  work = work + 1
  return 2 * math.pi * self.r
end
methodcache.wrap(Circle, "get_circumference")

local c = Circle(1)
print(string.format("circumference %.4f %.4f", c.circumference, c.circumference))
print("bodies ran", work, "times in all")

-- As always, the caches do not keep the objects alive.
local watch = setmetatable({ tri, sq, c }, { __mode = "v" })
tri, sq, c = nil, nil, nil -- luacheck: ignore (drop the last references)
collectgarbage()
collectgarbage()
local alive = 0
for _ in pairs(watch) do alive = alive + 1 end
print("objects alive after collectgarbage():", alive,
  "area caches left:", methodcache.info(Polygon.area).instances)
