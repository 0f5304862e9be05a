-- Specs for methodcache.wrap, methodcache.wrapped, methodcache.refresh and
-- methodcache.delete. Contract: docs/api.ld.lua, issue 9.

local methodcache = require("methodcache")

local function error_of(fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, "expected an error, got success")
  return err
end

-- a plain metatable class whose area and perimeter count their calls
local function rect_class()
  local R = { calls = 0 }
  R.__index = R
  function R.new(w, h) return setmetatable({ w = w, h = h }, R) end
  function R:area(k)
    R.calls = R.calls + 1
    return self.w * self.h * (k or 1)
  end
  function R:perimeter()
    R.calls = R.calls + 1
    return 2 * (self.w + self.h)
  end
  function R.describe() return "rect" end
  return R
end

describe("methodcache.wrap", function()
  it("replaces the named methods in place by cached methods and returns the class", function()
    local R = rect_class()
    local area, perimeter, describe_ = R.area, R.perimeter, R.describe
    assert.are.equal(R, methodcache.wrap(R, "area", "perimeter"))
    assert.are_not.equal(area, R.area)
    assert.are.equal(area, methodcache.wrapped(R.area))
    assert.are.equal(perimeter, methodcache.wrapped(R.perimeter))
    assert.are.equal(describe_, R.describe)
    local r = R.new(2, 3)
    assert.are.equal(6, r:area())
    assert.are.equal(6, r:area())
    assert.are.equal(10, r:perimeter())
    assert.are.equal(10, r:perimeter())
    assert.are.equal(2, R.calls)
  end)

  it("gives each object its own cache, made from the options", function()
    local R = rect_class()
    methodcache.wrap(R, "area", { maxsize = 2 })
    local a, b = R.new(1, 1), R.new(2, 2)
    for k = 1, 3 do a:area(k); b:area(k) end
    assert.are.equal(6, R.calls)
    assert.are.equal(2, methodcache.info(R.area, a).currsize)
    assert.are.equal(2, methodcache.info(R.area).instances)
    assert.are.equal(2, methodcache.info(R.area).maxsize)
  end)

  it("takes nil in the place of the options", function()
    local R = rect_class()
    methodcache.wrap(R, "area", nil)
    assert.are.equal(128, methodcache.info(R.area).maxsize)
  end)

  it("caches the methods where instances find them: in Class.__index if it is a table", function()
    local methods = {}
    local calls = 0
    function methods.size(self) calls = calls + 1; return #self.items end
    local mt = { __index = methods }
    local o = setmetatable({ items = { 1, 2 } }, mt)
    methodcache.wrap(mt, "size")
    assert.is_nil(rawget(mt, "size"))
    assert.is_not_nil(methodcache.wrapped(methods.size))
    assert.are.equal(2, o:size())
    assert.are.equal(2, o:size())
    assert.are.equal(1, calls)
  end)

  it("caches an inherited method in the subclass only", function()
    local Base = rect_class()
    local Sub = setmetatable({}, { __index = Base })
    Sub.__index = Sub
    methodcache.wrap(Sub, "area")
    assert.is_not_nil(rawget(Sub, "area"))
    local s, b = setmetatable({ w = 2, h = 2 }, Sub), setmetatable({ w = 2, h = 2 }, Base)
    s:area(); s:area(); b:area(); b:area()
    assert.are.equal(3, Base.calls)
  end)

  it("leaves a method that is cached already as it is: wrapping twice changes nothing", function()
    local R = rect_class()
    methodcache.wrap(R, "area")
    local cached = R.area
    local r = R.new(2, 3)
    r:area()
    methodcache.wrap(R, "area", { maxsize = 1 })
    assert.are.equal(cached, R.area)
    assert.are.equal(128, methodcache.info(R.area).maxsize)
    r:area()
    assert.are.equal(1, R.calls)
  end)

  it("leaves a method made by methodcache.method or the decorator as it is", function()
    local R = rect_class()
    R.area = methodcache.method(R.area)
    R.perimeter = methodcache(function() return methodcache.lru(4) end)(R.perimeter)
    local area, perimeter = R.area, R.perimeter
    methodcache.wrap(R, "area", "perimeter")
    assert.are.equal(area, R.area)
    assert.are.equal(perimeter, R.perimeter)
  end)

  it("wraps a method named twice in one call once", function()
    local R = rect_class()
    local area = R.area
    methodcache.wrap(R, "area", "area")
    assert.are.equal(area, methodcache.wrapped(R.area))
  end)

  it("accepts a callable table as a method", function()
    local calls = 0
    local C = {}
    C.__index = C
    C.twice = setmetatable({}, { __call = function(_, self, x)
      calls = calls + 1
      return self.k * x
    end })
    local original = C.twice
    methodcache.wrap(C, "twice")
    local o = setmetatable({ k = 2 }, C)
    assert.are.equal(10, o:twice(5))
    assert.are.equal(10, o:twice(5))
    assert.are.equal(1, calls)
    assert.are.equal(original, methodcache.wrapped(C.twice))
  end)

  it("raises for a class that is not a table", function()
    assert.are.equal("bad argument #1 to 'wrap' (class table expected, got number)",
      error_of(methodcache.wrap, 1, "area"))
    assert.are.equal("bad argument #1 to 'wrap' (class table expected, got userdata: give its "
      .. "metatable or its table of methods)", error_of(methodcache.wrap, io.stdout, "read"))
  end)

  it("raises when no method is named", function()
    assert.are.equal("bad argument #2 to 'wrap' (method name expected, got no value)",
      error_of(methodcache.wrap, rect_class()))
    assert.are.equal("bad argument #2 to 'wrap' (method name expected, got table)",
      error_of(methodcache.wrap, rect_class(), {}))
  end)

  it("raises for a name that is not a string", function()
    assert.are.equal("bad argument #3 to 'wrap' (method name expected, got number)",
      error_of(methodcache.wrap, rect_class(), "area", 1, "perimeter"))
  end)

  it("raises for a missing method or a field that is not callable, and replaces nothing", function()
    local R = rect_class()
    local area = R.area
    R.size = 3
    assert.are.equal("bad argument #3 to 'wrap' ('volume' must be a method of the class, got nil)",
      error_of(methodcache.wrap, R, "area", "volume"))
    assert.are.equal("bad argument #2 to 'wrap' ('size' must be a method of the class, got number)",
      error_of(methodcache.wrap, R, "size"))
    assert.are.equal(area, R.area)
  end)

  it("raises for a function made by methodcache.cached", function()
    local R = rect_class()
    R.lookup = methodcache.cached(function(x) return x end)
    assert.are.equal("bad argument #2 to 'wrap' ('lookup' is a function made by "
      .. "methodcache.cached, not a method)", error_of(methodcache.wrap, R, "lookup"))
  end)

  it("names wrap and the position of the options in their errors", function()
    local R = rect_class()
    local area = R.area
    assert.are.equal("bad argument #4 to 'wrap' (unknown option 'maxsise')",
      error_of(methodcache.wrap, R, "area", "perimeter", { maxsise = 3 }))
    assert.are.equal("bad argument #3 to 'wrap' (option 'maxsize' must be a non-negative integer, "
      .. "got -1)", error_of(methodcache.wrap, R, "area", { maxsize = -1 }))
    assert.are.equal(area, R.area)
  end)
end)

describe("methodcache.wrap on a pl.class class", function()
  local class = require("pl.class")

  local function shape_class()
    local Shape = class()
    Shape.calls = 0
    function Shape:_init(side) self.side = side end
    function Shape:area()
      Shape.calls = Shape.calls + 1
      return self.side * self.side
    end
    return Shape
  end

  it("caches its methods", function()
    local Shape = shape_class()
    methodcache.wrap(Shape, "area")
    local s = Shape(3)
    assert.are.equal(9, s:area())
    assert.are.equal(9, s:area())
    assert.are.equal(1, Shape.calls)
    assert.is_true(Shape:class_of(s))
  end)

  it("shares the cached method with a subclass made after wrap, a cache per object", function()
    local Shape = shape_class()
    methodcache.wrap(Shape, "area")
    local Square = class(Shape)
    assert.are.equal(Shape.area, Square.area)
    local a, b = Square(2), Square(3)
    a:area(); a:area(); b:area()
    assert.are.equal(2, Shape.calls)
    assert.are.equal(2, methodcache.info(Shape.area).instances)
    -- wrapping the subclass too changes nothing
    methodcache.wrap(Square, "area")
    assert.are.equal(Shape.area, Square.area)
  end)

  it("leaves a subclass made before wrap uncached until it is wrapped too", function()
    local Shape = shape_class()
    local Square = class(Shape)
    methodcache.wrap(Shape, "area")
    local s = Square(2)
    s:area(); s:area()
    assert.are.equal(2, Shape.calls)
    methodcache.wrap(Square, "area")
    s:area(); s:area()
    assert.are.equal(3, Shape.calls)
  end)

  local base_calls = {
    ["Base.area(self)"] = function(Base) return function(self) return 6 * Base.area(self) end end,
    ["self._base.area(self)"] = function()
      return function(self) return 6 * self._base.area(self) end
    end,
  }
  for how, override in pairs(base_calls) do
    it("caches the base method that an overriding subclass calls as " .. how, function()
      local Shape = shape_class()
      methodcache.wrap(Shape, "area")
      local Cube = class(Shape)
      Cube.area = override(Shape)
      local c = Cube(2)
      assert.are.equal(24, c:area())
      assert.are.equal(24, c:area())
      assert.are.equal(1, Shape.calls)
      assert.are.equal(1, methodcache.info(Shape.area, c).currsize)
    end)
  end

  it("caches the override itself when the subclass is wrapped", function()
    local Shape = shape_class()
    methodcache.wrap(Shape, "area")
    local Cube = class(Shape)
    local overrides = 0
    function Cube:area() overrides = overrides + 1; return 6 * Shape.area(self) end
    methodcache.wrap(Cube, "area")
    local c = Cube(2)
    c:area(); c:area()
    assert.are.equal(1, overrides)
    assert.are_not.equal(Shape.area, Cube.area)
  end)

  it("caches a getter of class.properties, whose __index is a function", function()
    local Circle = class(class.properties)
    local calls = 0
    function Circle:_init(r) self.r = r end
    function Circle:get_diameter() calls = calls + 1; return 2 * self.r end
    methodcache.wrap(Circle, "get_diameter")
    local c = Circle(3)
    assert.are.equal(6, c.diameter)
    assert.are.equal(6, c.diameter)
    assert.are.equal(1, calls)
  end)
end)

describe("methodcache.wrap on a userdata class", function()
  -- the methods of Lua's files live in the __index table of their metatable
  local methods = getmetatable(io.stdout).__index
  local seek = methods.seek

  after_each(function() methods.seek = seek end)

  it("caches a method given the metatable of the userdata", function()
    local f = assert(io.tmpfile())
    methodcache.wrap(getmetatable(f), "seek")
    assert.are.equal(seek, methodcache.wrapped(methods.seek))
    f:write("abc")
    assert.are.equal(3, f:seek("end"))
    f:write("defg")
    assert.are.equal(3, f:seek("end"))                    -- the cached position
    assert.are.equal(7, methodcache.refresh(methods.seek, f, "end"))
    assert.are.equal(7, f:seek("end"))
    f:close()
  end)

  it("caches a method given the table of methods", function()
    local f = assert(io.tmpfile())
    methodcache.wrap(methods, "seek")
    f:write("ab")
    assert.are.equal(2, f:seek("end"))
    f:write("c")
    assert.are.equal(2, f:seek("end"))
    f:close()
  end)
end)

describe("methodcache.wrapped", function()
  it("gives the function of a cached method, function or decorated method", function()
    local function fn() end
    assert.are.equal(fn, methodcache.wrapped(methodcache.method(fn)))
    assert.are.equal(fn, methodcache.wrapped(methodcache.cached(fn)))
    local factory = function() return methodcache.lru(1) end
    assert.are.equal(fn, methodcache.wrapped(methodcache(factory)(fn)))
    assert.are.equal(fn, methodcache.wrapped(methodcache.method(fn, { key = fn, coalesce = true })))
  end)

  it("gives a callable table back as it was given", function()
    local callable = setmetatable({}, { __call = function() return 1 end })
    assert.are.equal(callable, methodcache.wrapped(methodcache.cached(callable)))
  end)

  it("raises for a function that methodcache did not make", function()
    assert.are.equal("bad argument #1 to 'wrapped' (not a function made by methodcache, "
      .. "got function)",
      error_of(methodcache.wrapped, print))
    assert.are.equal("bad argument #1 to 'wrapped' (not a function made by methodcache, got table)",
      error_of(methodcache.wrapped, setmetatable({}, { __call = print })))
  end)
end)

-- a cached method whose results change with `self.v`, counting its calls
local function versioned(opts)
  local t = { calls = 0 }
  t.m = methodcache.method(function(self, ...)
    t.calls = t.calls + 1
    return self.v, select("#", ...), nil
  end, opts)
  return t
end

describe("methodcache.refresh", function()
  it("computes one key again, stores its results and returns all of them", function()
    local t = versioned()
    local o = { v = 1 }
    assert.are.same({ n = 3, 1, 1 }, table.pack(t.m(o, "k")))
    o.v = 2
    assert.are.same({ n = 3, 1, 1 }, table.pack(t.m(o, "k")))
    assert.are.same({ n = 3, 2, 1 }, table.pack(methodcache.refresh(t.m, o, "k")))
    assert.are.same({ n = 3, 2, 1 }, table.pack(t.m(o, "k")))
    assert.are.equal(2, t.calls)
  end)

  it("counts neither a hit nor a miss", function()
    local t = versioned()
    local o = { v = 1 }
    methodcache.refresh(t.m, o)
    local info = methodcache.info(t.m)
    assert.are.equal(0, info.hits)
    assert.are.equal(0, info.misses)
    t.m(o)
    assert.are.equal(1, methodcache.info(t.m).hits)
  end)

  it("makes the cache of an object that has none", function()
    local t = versioned()
    local o = { v = 1 }
    methodcache.refresh(t.m, o, 1)
    assert.are.equal(1, methodcache.info(t.m).instances)
    assert.are.equal(1, methodcache.info(t.m, o).currsize)
  end)

  it("asks the factory of a decorated method for that cache", function()
    local made = 0
    local m = methodcache(function()
      made = made + 1
      return methodcache.lru(4)
    end)(function(self) return self.v end)
    local o = { v = 1 }
    assert.are.equal(1, methodcache.refresh(m, o))
    assert.are.equal(1, made)
    assert.are.equal(4, methodcache.info(m, o).maxsize)
    o.v = 2
    assert.are.equal(1, m(o))
    assert.are.equal(1, made)
  end)

  it("raises as a call does when the factory returns no new cache", function()
    local shared = methodcache.lru(2)
    local m = methodcache(function() return shared end)(function() return 1 end)
    methodcache.refresh(m, {})
    assert.matches("methodcache: the cache factory must return a new methodcache cache "
      .. "(got a cache already in use)", error_of(methodcache.refresh, m, {}), 1, true)
  end)

  it("refreshes one key of a cached function, given without an object", function()
    local n = 0
    local f = methodcache.cached(function(a, b) n = n + 1; return a + b + n end)
    assert.are.equal(4, f(1, 2))
    assert.are.equal(5, methodcache.refresh(f, 1, 2))
    assert.are.equal(5, f(1, 2))
    assert.are.equal(1, methodcache.info(f).currsize)
  end)

  it("makes the key as a call does: with option key and typed", function()
    local t = versioned({ key = function(x) return x % 2 end })
    local o = { v = 1 }
    t.m(o, 1)
    o.v = 2
    methodcache.refresh(t.m, o, 3) -- the key of 1
    assert.are.equal(2, (t.m(o, 1)))
    local u = versioned({ typed = true })
    u.m(o, 1)
    o.v = 3
    methodcache.refresh(u.m, o, 1.0) -- another key
    assert.are.equal(2, (u.m(o, 1)))
    assert.are.equal(3, (u.m(o, 1.0)))
  end)

  it("computes and returns the results of a NaN argument without storing them", function()
    local t = versioned()
    local o = { v = 1 }
    assert.are.equal(1, (methodcache.refresh(t.m, o, 0 / 0)))
    assert.are.equal(1, t.calls)
    assert.are.equal(0, methodcache.info(t.m, o).currsize)
  end)

  it("lets the function and the key function yield", function()
    local m = methodcache.method(function(self)
      coroutine.yield("method")
      return self.v
    end, { key = function()
      coroutine.yield("key")
      return 1
    end })
    local o = { v = 5 }
    local co = coroutine.wrap(function() return "done", methodcache.refresh(m, o) end)
    assert.are.equal("key", co())
    assert.are.equal("method", co())
    assert.are.same({ "done", 5 }, { co() })
    assert.are.equal(1, methodcache.info(m, o).currsize)
  end)

  it("lets an error of the function through and keeps the old entry", function()
    local fail = false
    local m = methodcache.method(function(self)
      if fail then error("no", 0) end
      return self.v
    end)
    local o = { v = 1 }
    m(o)
    fail, o.v = true, 2
    assert.are.equal("no", error_of(methodcache.refresh, m, o))
    assert.are.equal(1, m(o))
  end)

  it("neither waits for nor joins a coalesced computation: the last store stays", function()
    local n, pause = 0, true
    local m = methodcache.method(function()
      n = n + 1
      local mine = n
      if pause then coroutine.yield("working") end
      return mine
    end, { coalesce = true })
    local o, got = {}, {}
    local owner = coroutine.create(function() got.owner = m(o) end)
    local waiter = coroutine.create(function() got.waiter = m(o) end)
    assert(coroutine.resume(owner))  -- computes 1, paused
    assert(coroutine.resume(waiter)) -- waits for it
    pause = false
    assert.are.equal(2, methodcache.refresh(m, o))
    assert.are.equal(2, m(o))
    assert(coroutine.resume(owner))  -- stores 1 and returns it
    assert(coroutine.resume(waiter))
    assert.are.same({ owner = 1, waiter = 1 }, got)
    assert.are.equal(1, m(o))
    assert.are.equal(2, n)
  end)

  it("calls a wrapped callable table", function()
    local callable = setmetatable({}, { __call = function(_, self) return self.v end })
    local m = methodcache.method(callable)
    assert.are.equal(7, methodcache.refresh(m, { v = 7 }))
  end)

  it("raises for a function methodcache did not make, and a method without an object", function()
    assert.are.equal("bad argument #1 to 'refresh' (not a function made by methodcache, "
      .. "got function)",
      error_of(methodcache.refresh, print, {}))
    local m = methodcache.method(function() end)
    assert.are.equal("bad argument #2 to 'refresh' (object expected, got no value)",
      error_of(methodcache.refresh, m))
    assert.are.equal("bad argument #2 to 'refresh' (object expected, got string)",
      error_of(methodcache.refresh, m, "s"))
  end)

  it("raises when the key function does not return one value", function()
    local m = methodcache.method(function() end, { key = function() end })
    assert.matches("refresh: the key function must return one value, got 0",
      error_of(methodcache.refresh, m, {}), 1, true)
  end)
end)

describe("methodcache.delete", function()
  it("drops one key of an object: true if it was there, false if not", function()
    local t = versioned()
    local o = { v = 1 }
    t.m(o, 1); t.m(o, 2)
    assert.is_true(methodcache.delete(t.m, o, 1))
    assert.is_false(methodcache.delete(t.m, o, 1))
    assert.are.equal(1, methodcache.info(t.m, o).currsize)
    t.m(o, 2)
    assert.are.equal(2, t.calls)
    t.m(o, 1)
    assert.are.equal(3, t.calls)
  end)

  it("says false for an object without a cache, and makes none", function()
    local t = versioned()
    assert.is_false(methodcache.delete(t.m, {}, 1))
    assert.are.equal(0, methodcache.info(t.m).instances)
  end)

  it("drops one key of a cached function, given without an object", function()
    local f = methodcache.cached(function(a, b) return a + b end)
    f(1, 2); f(2, 1)
    assert.is_true(methodcache.delete(f, 1, 2))
    assert.is_false(methodcache.delete(f, 1, 2))
    assert.are.equal(1, methodcache.info(f).currsize)
  end)

  it("makes the key as a call does: with option key and typed", function()
    local t = versioned({ key = function(x) return x % 2 end })
    local o = { v = 1 }
    t.m(o, 1)
    assert.is_true(methodcache.delete(t.m, o, 3))
    local u = versioned({ typed = true })
    u.m(o, 1)
    assert.is_false(methodcache.delete(u.m, o, 1.0))
    assert.is_true(methodcache.delete(u.m, o, 1))
  end)

  it("drops a key of a method that wraps a callable table", function()
    local m = methodcache.method(setmetatable({}, { __call = function(_, _, x) return x end }))
    local o = {}
    m(o, 1)
    assert.is_true(methodcache.delete(m, o, 1))
  end)

  it("says false for a NaN argument", function()
    local t = versioned()
    local o = { v = 1 }
    t.m(o, 0 / 0)
    assert.is_false(methodcache.delete(t.m, o, 0 / 0))
  end)

  it("reports the entry to on_evict as deleted", function()
    local notices = {}
    local t = versioned({
      on_evict = function(k, v, why) notices[#notices + 1] = { k, v, why } end,
    })
    local o = { v = 1 }
    t.m(o, "a")
    methodcache.delete(t.m, o, "a")
    assert.are.same({ { "a", { n = 3, 1, 1 }, "deleted" } }, notices)
  end)

  it("drops a key whose arguments are objects", function()
    local t = versioned()
    local o, k1, k2 = { v = 1 }, {}, {}
    t.m(o, k1, k2)
    assert.is_false(methodcache.delete(t.m, o, k2, k1))
    assert.is_true(methodcache.delete(t.m, o, k1, k2))
    assert.are.equal(0, methodcache.info(t.m, o).currsize)
  end)

  it("lets the key function yield", function()
    local m = methodcache.method(function() return 1 end, { key = function(x)
      coroutine.yield("key")
      return x
    end })
    local o = {}
    local co = coroutine.wrap(function() return m(o, 1) end)
    co()
    co()
    co = coroutine.wrap(function() return "done", methodcache.delete(m, o, 1) end)
    assert.are.equal("key", co())
    assert.are.same({ "done", true }, { co() })
  end)

  it("leaves a coalesced computation in flight, which stores when it ends", function()
    local m = methodcache.method(function()
      coroutine.yield("working")
      return "v"
    end, { coalesce = true })
    local o = {}
    local owner = coroutine.create(function() return m(o) end)
    assert(coroutine.resume(owner))
    assert.is_false(methodcache.delete(m, o))
    assert(coroutine.resume(owner))
    assert.are.equal(1, methodcache.info(m, o).currsize)
  end)

  it("raises for a function methodcache did not make, and a method without an object", function()
    assert.are.equal("bad argument #1 to 'delete' (not a function made by methodcache, got table)",
      error_of(methodcache.delete, setmetatable({}, { __call = print })))
    local m = methodcache.method(function() end)
    assert.are.equal("bad argument #2 to 'delete' (object expected, got number)",
      error_of(methodcache.delete, m, 1))
  end)
end)
