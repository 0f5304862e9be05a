-- Specs for cached methods that yield: the result is stored once the method returns.
-- Contract: issue 2 ("Methods may yield").

local methodcache = require("methodcache")

local function pack(...) return { n = select("#", ...), ... } end

-- a class whose method `m(x)` yields `yields` times, then returns x * 2
local function yielding_class(yields, opts)
  local C = { calls = 0 }
  C.__index = C
  C.m = methodcache.method(function(_, x)
    C.calls = C.calls + 1
    for i = 1, yields do coroutine.yield("waiting " .. i) end
    return x * 2
  end, opts)
  return C
end

describe("a cached method that yields", function()
  it("can be resumed several times and stores its result once it returns", function()
    local C = yielding_class(3)
    local o = setmetatable({}, C)
    local co = coroutine.wrap(function() return "done", o:m(21) end)
    assert.are.equal("waiting 1", co())
    assert.are.equal(0, methodcache.info(C.m, o).currsize)
    assert.are.equal("waiting 2", co())
    assert.are.equal("waiting 3", co())
    local tag, v = co()
    assert.are.equal("done", tag)
    assert.are.equal(42, v)
    local i = methodcache.info(C.m, o)
    assert.are.equal(1, i.currsize)
    assert.are.equal(1, i.misses)
    assert.are.equal(0, i.hits)
  end)

  it("does not yield on a second call: the result comes from the cache", function()
    local C = yielding_class(2)
    local o = setmetatable({}, C)
    local co = coroutine.wrap(function() return "done", o:m(5) end)
    co(); co()
    assert.are.same({ "done", 10 }, { co() })
    local again = coroutine.wrap(function() return "done", o:m(5) end)
    assert.are.same({ "done", 10 }, { again() })
    assert.are.equal(10, o:m(5)) -- and outside any coroutine
    assert.are.equal(1, C.calls)
    assert.are.equal(2, methodcache.info(C.m, o).hits)
  end)

  it("keeps all results, nils and their count, across yields", function()
    local C = {}
    C.__index = C
    C.m = methodcache.method(function()
      coroutine.yield()
      return nil, 2, nil
    end)
    local o = setmetatable({}, C)
    local co = coroutine.wrap(function() return pack(o:m()) end)
    co()
    assert.are.same({ n = 3, nil, 2, nil }, co())
    assert.are.same({ n = 3, nil, 2, nil }, pack(o:m()))
    assert.are.equal(1, methodcache.info(C.m, o).hits)
  end)

  it("passes values sent by resume back as the results of yield", function()
    local C = {}
    C.__index = C
    C.m = methodcache.method(function(_, x)
      local a = coroutine.yield("need a")
      local b = coroutine.yield("need b")
      return x + a + b
    end)
    local o = setmetatable({}, C)
    local co = coroutine.create(function() return o:m(1) end)
    assert.are.same({ true, "need a" }, { coroutine.resume(co) })
    assert.are.same({ true, "need b" }, { coroutine.resume(co, 10) })
    assert.are.same({ true, 111 }, { coroutine.resume(co, 100) })
    assert.are.equal("dead", coroutine.status(co))
    assert.are.equal(111, o:m(1))
  end)

  it("lets two coroutines interleave on different keys", function()
    local C = yielding_class(1)
    local o = setmetatable({}, C)
    local a = coroutine.wrap(function() return o:m(1) end)
    local b = coroutine.wrap(function() return o:m(2) end)
    assert.are.equal("waiting 1", a())
    assert.are.equal("waiting 1", b())
    assert.are.equal(4, b())
    assert.are.equal(2, a())
    local i = methodcache.info(C.m, o)
    assert.are.equal(2, i.currsize)
    assert.are.equal(2, i.misses)
    assert.are.equal(2, o:m(1))
    assert.are.equal(4, o:m(2))
    assert.are.equal(2, C.calls)
  end)

  it("lets two coroutines interleave on the same key: both run, one entry", function()
    local C = yielding_class(1)
    local o = setmetatable({}, C)
    local a = coroutine.wrap(function() return o:m(7) end)
    local b = coroutine.wrap(function() return o:m(7) end)
    a(); b()
    assert.are.equal(14, a())
    assert.are.equal(14, b())
    assert.are.equal(2, C.calls)
    assert.are.equal(1, methodcache.info(C.m, o).currsize)
    assert.are.equal(14, o:m(7))
    assert.are.equal(2, C.calls)
  end)

  it("lets a nested cached call yield through the outer cached method", function()
    local C = {}
    C.__index = C
    C.inner = methodcache.method(function(_, x) coroutine.yield("inner"); return x + 1 end)
    C.outer = methodcache.method(function(self, x)
      coroutine.yield("outer")
      return self:inner(x) * 10
    end)
    local o = setmetatable({}, C)
    local co = coroutine.wrap(function() return o:outer(1) end)
    assert.are.equal("outer", co())
    assert.are.equal("inner", co())
    assert.are.equal(20, co())
    assert.are.equal(20, o:outer(1))
    assert.are.equal(2, o:inner(1))
    assert.are.equal(1, methodcache.info(C.outer, o).hits)
    assert.are.equal(1, methodcache.info(C.inner, o).hits)
  end)

  it("passes an error raised after a yield through unchanged, storing nothing", function()
    local e = { reason = "after yield" }
    local C = {}
    C.__index = C
    C.m = methodcache.method(function() coroutine.yield(); error(e) end)
    local o = setmetatable({}, C)
    local co = coroutine.create(function() return o:m(1) end)
    assert.is_true(coroutine.resume(co))
    local ok, err = coroutine.resume(co)
    assert.is_false(ok)
    assert.is_true(rawequal(e, err))
    assert.are.equal(0, methodcache.info(C.m, o).currsize)
  end)

  it("passes a string error raised after a yield through, with its position", function()
    local line
    local C = {}
    C.__index = C
    C.m = methodcache.method(function()
      coroutine.yield()
      line = debug.getinfo(1, "l").currentline; error("late failure")
    end)
    local o = setmetatable({}, C)
    local co = coroutine.create(function() return o:m(1) end)
    coroutine.resume(co)
    local ok, err = coroutine.resume(co)
    assert.is_false(ok)
    assert.are.equal(("spec/coroutine_spec.lua:%d: late failure"):format(line), err)
  end)

  it("can be caught by pcall inside the coroutine after a yield", function()
    local C = {}
    C.__index = C
    C.m = methodcache.method(function() coroutine.yield(); error("caught") end)
    local o = setmetatable({}, C)
    local co = coroutine.wrap(function()
      local ok, err = pcall(function() return o:m(1) end)
      return ok, err
    end)
    co()
    local ok, err = co()
    assert.is_false(ok)
    assert.matches("caught$", err)
  end)

  it("leaves no entry when the coroutine is abandoned while the method is suspended", function()
    local C = yielding_class(1)
    local o = setmetatable({}, C)
    ;(function()
      local co = coroutine.create(function() return o:m(3) end)
      coroutine.resume(co)
    end)()
    collectgarbage()
    collectgarbage()
    assert.are.equal(0, methodcache.info(C.m, o).currsize)
    -- outside a coroutine the same call now runs to completion (it would yield: wrap it)
    local co = coroutine.wrap(function() return o:m(3) end)
    co()
    assert.are.equal(6, co())
    assert.are.equal(6, o:m(3))
    assert.are.equal(2, C.calls)
  end)

  it("leaves no entry when the suspended coroutine is closed", function()
    local C = yielding_class(1)
    local o = setmetatable({}, C)
    local co = coroutine.create(function() return o:m(3) end)
    coroutine.resume(co)
    assert.is_true(coroutine.close(co))
    assert.are.equal(0, methodcache.info(C.m, o).currsize)
  end)

  it("yields through a pcall around the cached call", function()
    local C = yielding_class(1)
    local o = setmetatable({}, C)
    local co = coroutine.wrap(function() return pcall(o.m, o, 8) end)
    assert.are.equal("waiting 1", co())
    assert.are.same({ true, 16 }, { co() })
    assert.are.equal(1, methodcache.info(C.m, o).currsize)
  end)

  it("works for a cached free function that yields", function()
    local calls = 0
    local f = methodcache.cached(function(x) calls = calls + 1; coroutine.yield(); return -x end)
    local co = coroutine.wrap(function() return f(4) end)
    co()
    assert.are.equal(-4, co())
    assert.are.equal(-4, f(4))
    assert.are.equal(1, calls)
  end)
end)

describe("a cached method under cqueues", function()
  -- a test dependency (tools/deps.sh installs lua-cqueues): never skipped
  local cqueues = require("cqueues")

  it("sleeps inside a controller, returns, and is cached", function()
    local C = { calls = 0 }
    C.__index = C
    C.m = methodcache.method(function(_, x)
      C.calls = C.calls + 1
      cqueues.sleep(0.01)
      return x * 3
    end)
    local o = setmetatable({}, C)
    local results = {}
    local cq = cqueues.new()
    cq:wrap(function() results[1] = o:m(5) end)
    cq:wrap(function() results[2] = o:m(6) end)
    assert(cq:loop())
    assert.are.same({ 15, 18 }, results)
    cq:wrap(function() results[3] = o:m(5) end)
    assert(cq:loop())
    assert.are.equal(15, results[3])
    assert.are.equal(2, C.calls)
    local i = methodcache.info(C.m, o)
    assert.are.equal(1, i.hits)
    assert.are.equal(2, i.misses)
    assert.are.equal(2, i.currsize)
  end)
end)
