-- store = "object" beside the other options and functions of a method: key, coalesce,
-- wrap, wrapped, refresh, delete, info, report and policy "fast" (docs/DESIGN.md,
-- section 16). Option total with store = "object" is in spec/budget_spec.lua, whose
-- cases run for both stores.
--
-- Objects are created inside helper functions, never in the spec's own locals: a dead
-- register of the running Lua frame is still a root for the collector.

local methodcache = require("methodcache")
local H = require("spec.support.helpers")

-- the keys of t that are userdata: the private fields of store = "object"
local function private_keys(t)
  local keys = {}
  for k in pairs(t) do
    if type(k) == "userdata" then keys[#keys + 1] = k end
  end
  return keys
end

-- a class whose method m has store = "object" and the given options
local function class(body, opts)
  opts = opts or {}
  opts.store = "object"
  return H.counting_class(body, opts)
end

describe("store = 'object' with option key", function()
  it("caches by the key function's result in the object's own field", function()
    local C = class(function(_, t) return t.id * 2 end,
                    { key = function(t) return t.id end })
    local o = setmetatable({}, C)
    assert.are.equal(2, o:m({ id = 1 }))
    assert.are.equal(2, o:m({ id = 1 }))
    assert.are.equal(4, o:m({ id = 2 }))
    assert.are.equal(2, C.calls)
    assert.are.equal(1, #private_keys(o))
    local _, ephemerons = debug.getupvalue(C.m, 2)
    assert.is_nil(next(ephemerons), "a table self is no key of the weak table")
    assert.are.equal(2, methodcache.info(C.m, o).currsize)
  end)

  it("gives each object its own cache, and a copy its own at its first call", function()
    local C = class(function(self, x) return self.n + x end,
                    { key = function(x) return x end })
    local a, b = setmetatable({ n = 10 }, C), setmetatable({ n = 20 }, C)
    assert.are.equal(11, a:m(1))
    assert.are.equal(21, b:m(1))
    local copy = setmetatable({}, C)
    for k, v in pairs(a) do copy[k] = v end
    copy.n = 30
    assert.are.equal(31, copy:m(1))
    assert.are.equal(11, a:m(1))
    assert.are.equal(3, C.calls)
    assert.are.equal(3, methodcache.info(C.m).instances)
  end)

  it("checks self before the key function runs, and takes non-table objects weakly", function()
    local seen = 0
    local C = class(function(_, x) return x end,
                    { key = function(x) seen = seen + 1; return x end })
    local msg = H.errmsg(C.m, 1, 2)
    assert.matches("self is a number", msg, 1, true)
    assert.are.equal(0, seen)
    local co = coroutine.create(function() end)
    assert.are.equal(5, C.m(co, 5))
    assert.are.equal(5, C.m(co, 5))
    assert.are.equal(1, C.calls)
    local _, ephemerons = debug.getupvalue(C.m, 2)
    assert.is_not_nil(ephemerons[co])
  end)

  for _, mode in ipairs({ "incremental", "generational" }) do
    it("never keeps self alive when the value refers back to it (" .. mode .. ")", function()
      collectgarbage(mode)
      local C = class(function(self) return { back = self } end,
                      { key = function() return "k" end })
      local watch = setmetatable({}, { __mode = "v" })
      local function make()
        local o = setmetatable({}, C)
        o:m()
        watch[1], watch[2] = o, o:m()
      end
      make()
      collectgarbage()
      collectgarbage()
      collectgarbage("incremental")
      assert.is_nil(next(watch))
      assert.are.equal(1, methodcache.info(C.m).collected)
    end)
  end
end)

describe("info(f).collected of a store = 'object' method", function()
  for _, mode in ipairs({ "incremental", "generational" }) do
    it("counts the caches the collector freed, as report() does (" .. mode .. ")", function()
      collectgarbage(mode)
      local C = class(function(_, x) return x end)
      local keep = setmetatable({}, C)
      keep:m(1)
      local function churn() for i = 1, 40 do setmetatable({}, C):m(i) end end
      churn()
      collectgarbage()
      collectgarbage()
      collectgarbage("incremental")
      local i = methodcache.info(C.m)
      assert.are.same({ 40, 1, 1 }, { i.collected, i.instances, i.currsize })
      local found = false
      for _, st in ipairs(methodcache.report()) do
        if st.kind == "method" and st.collected == 40 and st.objects == 1 then found = true end
      end
      assert.is_true(found, "report() has no method with 40 collected caches and 1 object")
    end)
  end
end)

describe("store = 'object' with option coalesce", function()
  it("computes once for calls that wait in coroutines, and caches in the field", function()
    local gate = {}
    local C = class(function(_, x) coroutine.yield(gate); return x * 3 end,
                    { coalesce = true })
    local o = setmetatable({}, C)
    local a = coroutine.create(function() return o:m(2) end)
    local b = coroutine.create(function() return o:m(2) end)
    assert.are.same({ true, gate }, { coroutine.resume(a) })
    coroutine.resume(b)
    assert.are.same({ true, 6 }, { coroutine.resume(a) })
    local _, v = coroutine.resume(b)
    assert.are.equal(6, v)
    assert.are.equal(1, C.calls)
    assert.are.equal(6, o:m(2))
    assert.are.equal(1, #private_keys(o))
  end)
end)

describe("wrap, wrapped, refresh and delete of a store = 'object' method", function()
  -- a plain class of rectangles whose area(k) counts its calls
  local function rect_class()
    local R = { calls = 0 }
    R.__index = R
    R.new = function(w, h) return setmetatable({ w = w, h = h }, R) end
    R.area = function(self, k) R.calls = R.calls + 1; return self.w * self.h * (k or 1) end
    return R
  end

  it("wrap makes methods that keep their caches in the objects", function()
    local R = rect_class()
    local area = R.area
    methodcache.wrap(R, "area", { store = "object", maxsize = 4 })
    assert.are.equal(area, methodcache.wrapped(R.area))
    local r = R.new(2, 3)
    assert.are.equal(6, r:area())
    assert.are.equal(6, r:area())
    assert.are.equal(1, R.calls)
    assert.are.equal(1, #private_keys(r))
    assert.are.equal(1, methodcache.info(R.area, r).currsize)
    -- wrapping again leaves the cached method as it is
    local cached = R.area
    methodcache.wrap(R, "area")
    assert.are.equal(cached, R.area)
  end)

  it("refresh computes again and stores in the object's cache", function()
    local R = rect_class()
    methodcache.wrap(R, "area", { store = "object" })
    local r = R.new(2, 3)
    assert.are.equal(12, r:area(2))
    r.w = 5
    assert.are.equal(12, r:area(2))
    assert.are.equal(30, methodcache.refresh(R.area, r, 2))
    assert.are.equal(30, r:area(2))
    assert.are.equal(2, R.calls)
    assert.are.equal(1, #private_keys(r), "refresh used the cache in the field")
    assert.are.equal(1, methodcache.info(R.area).instances)
  end)

  it("refresh of an object's first key makes its cache in its field", function()
    local R = rect_class()
    methodcache.wrap(R, "area", { store = "object", total = 10 })
    local r = R.new(1, 1)
    assert.are.equal(3, methodcache.refresh(R.area, r, 3))
    assert.are.equal(1, #private_keys(r))
    assert.are.equal(3, r:area(3))
    assert.are.equal(1, R.calls)
    local i = methodcache.info(R.area)
    assert.are.same({ 1, 1, 1 }, { i.instances, i.currsize, i.size })
    local _, ephemerons = debug.getupvalue(R.area, 2)
    assert.is_nil(next(ephemerons))
  end)

  it("delete drops the key from the object's cache", function()
    local R = rect_class()
    methodcache.wrap(R, "area", { store = "object" })
    local r, s = R.new(2, 3), R.new(1, 1)
    r:area(1); r:area(2); s:area(1)
    assert.is_true(methodcache.delete(R.area, r, 1))
    assert.is_false(methodcache.delete(R.area, r, 1))
    assert.is_false(methodcache.delete(R.area, R.new(1, 1), 1), "an object without a cache")
    assert.are.equal(1, methodcache.info(R.area, r).currsize)
    assert.are.equal(1, methodcache.info(R.area, s).currsize)
    r:area(1)
    assert.are.equal(4, R.calls)
  end)

  it("refresh and delete build the key with option key", function()
    local C = class(function(_, t) return t.id * 10 end,
                    { key = function(t) return t.id end })
    local o = setmetatable({}, C)
    o:m({ id = 1 })
    assert.are.equal(10, methodcache.refresh(C.m, o, { id = 1 }))
    assert.are.equal(2, C.calls)
    assert.is_true(methodcache.delete(C.m, o, { id = 1 }))
    assert.are.equal(0, methodcache.info(C.m, o).currsize)
  end)

  it("report() counts the caches held by objects", function()
    local C = class(function(_, x) return x end)
    local keep = {}
    for i = 1, 3 do keep[i] = setmetatable({}, C); keep[i]:m(1); keep[i]:m(2) end
    methodcache.info(C.m)  -- the method learns no name from info: find it by its counts
    for _, s in ipairs(methodcache.report()) do
      if s.kind == "method" and s.objects == 3 and s.entries == 6 then return end
    end
    error("report() has no method with 3 objects and 6 entries")
  end)
end)

describe("store = 'object' with policy fast", function()
  it("is refused, as fast's other unsupported options", function()
    assert.are.equal("bad argument #2 to 'method' (policy 'fast' does not support option "
                     .. "'store')",
                     H.errmsg(methodcache.method, function() end,
                              { policy = "fast", store = "object" }))
  end)

  it("takes store = 'weak', the layout fast has", function()
    local f = methodcache.method(function(_, x) return x end,
                                 { policy = "fast", store = "weak" })
    assert.are.equal(1, f({}, 1))
  end)
end)
