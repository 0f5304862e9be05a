-- Specs for the option `key` of methodcache.method and methodcache.cached: a function
-- of the arguments (after self) whose one result is the key. Contract: docs/api.ld.lua
-- (Options), issue 9.

local methodcache = require("methodcache")

local function error_of(fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, "expected an error, got success")
  return err
end

-- a method counting its calls, keyed by `key`
local function counted(key, extra)
  local t = { calls = 0, keys = 0 }
  local opts = { key = function(...)
    t.keys = t.keys + 1
    return key(...)
  end }
  for k, v in pairs(extra or {}) do opts[k] = v end
  t.m = methodcache.method(function(self, ...)
    t.calls = t.calls + 1
    return self.name, ...
  end, opts)
  return t
end

describe("option key of methodcache.method", function()
  it("gives the key function the arguments after self and caches by its one result", function()
    local seen
    local t = counted(function(...) seen = table.pack(...); return (...) % 10 end)
    local o = { name = "o" }
    assert.are.same({ "o", 3, "x" }, { t.m(o, 3, "x") })
    assert.are.same({ n = 2, 3, "x" }, seen)
    -- 13 has the key of 3: the cached results of the first call come back
    assert.are.same({ "o", 3, "x" }, { t.m(o, 13, "y") })
    assert.are.equal(1, t.calls)
  end)

  it("still keeps one cache per object", function()
    local t = counted(function() return "same" end)
    local a, b = { name = "a" }, { name = "b" }
    assert.are.equal("a", (t.m(a, 1)))
    assert.are.equal("b", (t.m(b, 2)))
    assert.are.equal("a", (t.m(a, 3)))
    assert.are.equal(2, t.calls)
    assert.are.equal(2, methodcache.info(t.m).instances)
  end)

  it("calls the key function on every call, hits included, and counts hits and misses", function()
    local t = counted(function(x) return x end)
    local o = { name = "o" }
    t.m(o, 1); t.m(o, 1); t.m(o, 1)
    assert.are.equal(3, t.keys)
    local info = methodcache.info(t.m)
    assert.are.equal(2, info.hits)
    assert.are.equal(1, info.misses)
  end)

  it("makes a key of nil when the key function returns nil", function()
    local t = counted(function() return nil end)
    local o = { name = "o" }
    t.m(o, 1); t.m(o, 2)
    assert.are.equal(1, t.calls)
    assert.are.equal(1, methodcache.info(t.m, o).currsize)
  end)

  it("never caches a call whose key is NaN", function()
    local t = counted(function() return 0 / 0 end)
    local o = { name = "o" }
    t.m(o, 1); t.m(o, 1)
    assert.are.equal(2, t.calls)
    assert.are.equal(0, methodcache.info(t.m, o).currsize)
  end)

  it("raises when the key function returns no value, and computes nothing", function()
    local t = counted(function() end)
    local err = error_of(t.m, { name = "o" }, 1)
    assert.matches("the key function must return one value, got 0", err, 1, true)
    assert.are.equal(0, t.calls)
  end)

  it("raises when the key function returns several values", function()
    local t = counted(function(a, b) return a, b end)
    local err = error_of(t.m, { name = "o" }, 1, 2)
    assert.matches("the key function must return one value, got 2", err, 1, true)
    assert.are.equal(0, t.calls)
  end)

  it("names the method in that error when Lua knows its name", function()
    local C = {}
    C.__index = C
    C.area = methodcache.method(function() return 1 end, { key = function() end })
    local o = setmetatable({}, C)
    local ok, err = pcall(function() return o:area() end)
    assert.is_false(ok)
    assert.matches("area: the key function must return one value, got 0", err, 1, true)
  end)

  it("lets an error of the key function through unchanged, with nothing computed", function()
    local boom = {}
    local t = counted(function() error(boom) end)
    local ok, err = pcall(t.m, { name = "o" }, 1)
    assert.is_false(ok)
    assert.are.equal(boom, err)
    assert.are.equal(0, t.calls)
  end)

  it("checks self before the key function runs", function()
    local t = counted(function(x) return x end)
    assert.matches("self is a number: call the method with ':'", error_of(t.m, 5, 1), 1, true)
    assert.are.equal(0, t.keys)
  end)

  it("lets the key function and the method yield", function()
    local calls = 0
    local m = methodcache.method(function(_, x)
      calls = calls + 1
      coroutine.yield("method")
      return x * 2
    end, { key = function(x)
      coroutine.yield("key")
      return x
    end })
    local o = {}
    local co = coroutine.wrap(function() return "done", m(o, 21) end)
    assert.are.equal("key", co())
    assert.are.equal("method", co())
    assert.are.same({ "done", 42 }, { co() })
    -- a hit still runs the key function, which yields once
    co = coroutine.wrap(function() return "done", m(o, 21) end)
    assert.are.equal("key", co())
    assert.are.same({ "done", 42 }, { co() })
    assert.are.equal(1, calls)
  end)

  it("holds an object key weakly, as an object argument", function()
    local m = methodcache.method(function() return "v" end, { key = function(t) return t end })
    local o, k = {}, {}
    m(o, k)
    assert.are.equal(1, methodcache.info(m, o).currsize)
    local watch = setmetatable({ k }, { __mode = "v" })
    k = nil -- luacheck: ignore (drop the last reference)
    collectgarbage()
    collectgarbage()
    assert.is_nil(watch[1])
    assert.are.equal(0, methodcache.info(m, o).currsize)
  end)

  it("keeps 1 and 1.0 apart with typed", function()
    local t = counted(function(x) return x end, { typed = true })
    local o = { name = "o" }
    t.m(o, 1); t.m(o, 1.0); t.m(o, 1)
    assert.are.equal(2, t.calls)
  end)

  it("accepts a callable table as the key function", function()
    local key = setmetatable({}, { __call = function(_, x) return x % 2 end })
    local calls = 0
    local m = methodcache.method(function(_, x) calls = calls + 1; return x end, { key = key })
    local o = {}
    assert.are.equal(1, m(o, 1))
    assert.are.equal(1, m(o, 3))
    assert.are.equal(1, calls)
  end)

  it("coalesces the calls that share a key", function()
    local calls = 0
    local m = methodcache.method(function(_, a)
      calls = calls + 1
      coroutine.yield("working")
      return a
    end, { coalesce = true, key = function(a) return a // 10 end })
    local o, got = {}, {}
    local cos = {}
    for i = 1, 3 do
      cos[i] = coroutine.create(function() got[i] = m(o, 10 + i) end)
    end
    for _ = 1, 4 do
      for i = 1, 3 do
        if coroutine.status(cos[i]) == "suspended" then assert(coroutine.resume(cos[i])) end
      end
    end
    assert.are.equal(1, calls)
    assert.are.same({ 11, 11, 11 }, got)
    assert.are.equal(11, m(o, 19))
  end)

  it("empties with methodcache.clear as any cached method", function()
    local t = counted(function(x) return x end)
    local o = { name = "o" }
    t.m(o, 1)
    methodcache.clear(t.m)
    t.m(o, 1)
    assert.are.equal(2, t.calls)
  end)

  it("must be a function", function()
    assert.are.equal("bad argument #2 to 'method' (option 'key' must be a function, got number)",
      error_of(methodcache.method, print, { key = 1 }))
  end)

  it("is not an option of the cache constructors", function()
    assert.are.equal("bad argument #2 to 'lru' (unknown option 'key')",
      error_of(methodcache.lru, 4, { key = print }))
  end)
end)

describe("option key of methodcache.cached", function()
  it("gives the key function every argument", function()
    local calls = 0
    local f = methodcache.cached(function(a, b)
      calls = calls + 1
      return a + b
    end, { key = function(a, b) return math.min(a, b) .. "," .. math.max(a, b) end })
    assert.are.equal(3, f(1, 2))
    assert.are.equal(3, f(2, 1))
    assert.are.equal(1, calls)
    assert.are.equal(1, methodcache.info(f).currsize)
  end)

  it("works with no arguments", function()
    local calls = 0
    local f = methodcache.cached(function() calls = calls + 1; return calls end,
      { key = function(...) return select("#", ...) end })
    assert.are.equal(1, f())
    assert.are.equal(1, f())
    assert.are.equal(2, f(nil))
  end)
end)
