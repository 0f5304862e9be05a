-- Specs for cached methods on the object systems users have: Penlight's pl.class and
-- plain metatables with __index. Contract: issue 2.

local methodcache = require("methodcache")

describe("a cached method of a pl.class class", function()
  local class = require("pl.class")

  local function point_class()
    local Point = class()
    Point.calls = 0
    function Point:_init(x, y) self.x, self.y = x, y end
    function Point:norm2(scale)
      Point.calls = Point.calls + 1
      return (self.x * self.x + self.y * self.y) * (scale or 1)
    end
    Point.norm2 = methodcache.method(Point.norm2, { maxsize = 16 })
    return Point
  end

  it("caches per instance", function()
    local Point = point_class()
    local p, q = Point(3, 4), Point(1, 1)
    assert.are.equal(25, p:norm2())
    assert.are.equal(25, p:norm2())
    assert.are.equal(2, q:norm2())
    assert.are.equal(50, p:norm2(2))
    assert.are.equal(3, Point.calls)
    local i = methodcache.info(Point.norm2)
    assert.are.equal(1, i.hits)
    assert.are.equal(3, i.misses)
    assert.are.equal(2, i.instances)
    assert.are.equal(2, methodcache.info(Point.norm2, p).currsize)
  end)

  it("keeps pl.class features working (class_of, is_a)", function()
    local Point = point_class()
    local p = Point(3, 4)
    p:norm2()
    assert.is_true(Point:class_of(p))
    assert.is_true(p:is_a(Point))
    assert.are.equal(25, p:norm2())
  end)

  it("gives subclass instances their own caches", function()
    local Point = point_class()
    local Point3 = class(Point)
    function Point3:_init(x, y, z) self:super(x, y); self.z = z end
    local p, p3 = Point(3, 4), Point3(3, 4, 12)
    assert.are.equal(25, p:norm2())
    assert.are.equal(25, p3:norm2()) -- inherited: same method, p3's own cache
    assert.are.equal(25, p3:norm2())
    assert.are.equal(2, Point.calls)
    assert.are.equal(2, methodcache.info(Point.norm2).instances)
    assert.are.equal(1, methodcache.info(Point.norm2, p3).hits)
    assert.are.equal(0, methodcache.info(Point.norm2, p).hits)
  end)

  it("works when a subclass override calls the cached base method", function()
    local Point = point_class()
    local Point3 = class(Point)
    local calls3 = 0
    function Point3:_init(x, y, z) self:super(x, y); self.z = z end
    function Point3:norm2(scale)
      calls3 = calls3 + 1
      return Point.norm2(self, scale) + self.z * self.z * (scale or 1)
    end
    Point3.norm2 = methodcache.method(Point3.norm2)
    local p3 = Point3(3, 4, 12)
    assert.are.equal(169, p3:norm2())
    assert.are.equal(169, p3:norm2())
    assert.are.equal(1, calls3)
    assert.are.equal(1, Point.calls)
    assert.are.equal(1, methodcache.info(Point.norm2, p3).currsize)
    assert.are.equal(1, methodcache.info(Point3.norm2, p3).currsize)
    assert.are.equal(1, methodcache.info(Point3.norm2, p3).hits)
  end)

  it("lets a pl.class instance be collected", function()
    local Point = point_class()
    local w = setmetatable({}, { __mode = "v" })
    ;(function()
      local p = Point(1, 2)
      p:norm2()
      w[1] = p
    end)()
    collectgarbage()
    collectgarbage()
    assert.is_nil(w[1])
    assert.are.equal(0, methodcache.info(Point.norm2).instances)
  end)
end)

describe("a cached method of a plain metatable class", function()
  it("works through an __index table", function()
    local Acc = { calls = 0 }
    Acc.__index = Acc
    Acc.get = methodcache.method(function(self, k)
      Acc.calls = Acc.calls + 1
      return self.base + k
    end)
    local a = setmetatable({ base = 100 }, Acc)
    assert.are.equal(101, a:get(1))
    assert.are.equal(101, a:get(1))
    assert.are.equal(1, Acc.calls)
  end)

  it("works through a chain of __index tables", function()
    local Base = {}
    Base.__index = Base
    local calls = 0
    Base.m = methodcache.method(function(self, x) calls = calls + 1; return self.tag .. x end)
    local Derived = setmetatable({}, Base)
    Derived.__index = Derived
    local d, b = setmetatable({ tag = "d" }, Derived), setmetatable({ tag = "b" }, Base)
    assert.are.equal("d1", d:m(1))
    assert.are.equal("b1", b:m(1))
    assert.are.equal("d1", d:m(1))
    assert.are.equal(2, calls)
  end)

  it("works through an __index function", function()
    local calls = 0
    local m = methodcache.method(function(self, x)
      calls = calls + 1
      return rawget(self, "v") * x
    end)
    local mt = { __index = function(_, k) if k == "m" then return m end end }
    local o = setmetatable({ v = 7 }, mt)
    assert.are.equal(14, o:m(2))
    assert.are.equal(14, o:m(2))
    assert.are.equal(1, calls)
  end)

  it("never reads or writes fields of a strict object", function()
    local Strict = {}
    local methods = {}
    Strict.__index = function(_, k)
      if methods[k] then return methods[k] end
      error("no field " .. tostring(k), 2)
    end
    Strict.__newindex = function(_, k) error("cannot set " .. tostring(k), 2) end
    Strict.__metatable = "locked"
    local calls = 0
    methods.m = methodcache.method(function(_, x) calls = calls + 1; return x end)
    local o = setmetatable({}, Strict)
    assert.are.equal(3, o:m(3))
    assert.are.equal(3, o:m(3))
    assert.are.equal(1, calls)
    -- nothing was stored in the object itself
    assert.is_nil(next(o))
  end)

  it("keeps objects apart even when their __eq says they are equal", function()
    local P = {}
    P.__index = P
    P.__eq = function() return true end
    local calls = 0
    P.m = methodcache.method(function(self) calls = calls + 1; return self end)
    local a, b = setmetatable({}, P), setmetatable({}, P)
    assert.is_true(a == b)
    assert.is_true(rawequal(a, a:m()))
    assert.is_true(rawequal(b, b:m()))
    assert.are.equal(2, calls)
    assert.are.equal(2, methodcache.info(P.m).instances)
  end)

  it("works when the method is stored in the object itself", function()
    local calls = 0
    local o = { v = 2 }
    o.m = methodcache.method(function(self, x) calls = calls + 1; return self.v + x end)
    assert.are.equal(3, o:m(1))
    assert.are.equal(3, o:m(1))
    assert.are.equal(1, calls)
  end)
end)
