-- Specs for cached methods and functions: methodcache(factory)(f), methodcache.method,
-- methodcache.cached, methodcache.info/clear. Contract: docs/API.md and issue 2.

local methodcache = require("methodcache")

local function error_of(fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, "expected an error, got success")
  return err
end

-- a fresh class whose method `m` counts its calls; `body(self, ...)` gives the results
local function class_with(body, opts)
  local C = { calls = 0 }
  C.__index = C
  function C.new(name) return setmetatable({ name = name }, C) end
  C.m = methodcache.method(function(self, ...)
    C.calls = C.calls + 1
    return body(self, ...)
  end, opts)
  return C
end

local function pack(...) return { n = select("#", ...), ... } end

local FACTORY_ERROR = "methodcache: the cache factory must return a new methodcache cache (got"

describe("methodcache", function()
  it("has version 0.1.0", function()
    assert.are.equal("0.1.0", methodcache.version)
  end)
end)

describe("methodcache(factory) decorator", function()
  it("returns the cached result on a second call and counts hits and misses", function()
    local calls, made = 0, 0
    local P = {}
    P.__index = P
    P.dist = methodcache(function() made = made + 1; return methodcache.lru(256) end)(
      function(self, x) calls = calls + 1; return self.v + x end)
    local p = setmetatable({ v = 10 }, P)
    assert.are.equal(15, p:dist(5))
    assert.are.equal(15, p:dist(5))
    assert.are.equal(1, calls)
    local i = methodcache.info(P.dist)
    assert.are.equal(1, i.hits)
    assert.are.equal(1, i.misses)
    assert.are.equal(1, i.currsize)
    assert.are.equal(1, i.instances)
    assert.are.equal(1, made)
  end)

  it("calls the factory once per object, on its first call", function()
    local made = 0
    local P = {}
    P.__index = P
    P.m = methodcache(function() made = made + 1; return methodcache.lru(4) end)(
      function(_, x) return x end)
    local a, b = setmetatable({}, P), setmetatable({}, P)
    assert.are.equal(0, made)
    a:m(1); a:m(2); a:m(1)
    assert.are.equal(1, made)
    b:m(1)
    assert.are.equal(2, made)
    assert.are.equal(2, methodcache.info(P.m).instances)
  end)

  it("uses the factory's cache size for each object", function()
    local P = {}
    P.__index = P
    P.m = methodcache(function() return methodcache.lru(2) end)(function(_, x) return x end)
    local p = setmetatable({}, P)
    p:m(1); p:m(2); p:m(3)
    local i = methodcache.info(P.m, p)
    assert.are.equal(2, i.currsize)
    assert.are.equal(2, i.maxsize)
    assert.are.equal(3, i.misses)
  end)

  it("refuses a factory that returns something other than a cache", function()
    local P = {}
    P.__index = P
    local ok, err = pcall(function()
      P.m = methodcache(function() return {} end)(function(_, x) return x end)
      return setmetatable({}, P):m(1)
    end)
    assert.is_false(ok)
    assert.matches(FACTORY_ERROR, err, 1, true)
  end)

  it("refuses a factory that returns the same cache twice", function()
    local shared = methodcache.lru(8)
    local P = {}
    P.__index = P
    P.m = methodcache(function() return shared end)(function(_, x) return x end)
    local a, b = setmetatable({}, P), setmetatable({}, P)
    assert.are.equal(1, a:m(1))
    local err = error_of(function() local _ = b:m(1) end)
    assert.matches(FACTORY_ERROR, err, 1, true)
    -- the first object's cache still works
    assert.are.equal(1, a:m(1))
  end)

  it("passes a factory's error through and calls the factory again next time", function()
    local tries = 0
    local P = {}
    P.__index = P
    P.m = methodcache(function()
      tries = tries + 1
      if tries == 1 then error("factory failed") end
      return methodcache.lru(3)
    end)(function(_, x) return x end)
    local p = setmetatable({}, P)
    local ok, err = pcall(function() local r = p:m(1); return r end)
    assert.is_false(ok)
    assert.matches("factory failed$", err)
    assert.are.equal(0, methodcache.info(P.m).instances)
    assert.are.equal(1, p:m(1))
    assert.are.equal(1, p:m(1))
    assert.are.equal(2, tries)
    assert.are.equal(1, methodcache.info(P.m).instances)
    assert.are.equal(1, methodcache.info(P.m, p).hits)
  end)

  it("refuses a factory that is not a function", function()
    local ok = pcall(function()
      local f = methodcache(42)(function(_, x) return x end)
      return f({}, 1)
    end)
    assert.is_false(ok)
  end)
end)

describe("methodcache.method", function()
  it("defaults to an LRU cache of 128 entries per object", function()
    local C = class_with(function(_, x) return x end)
    local o = C.new("o")
    for i = 1, 130 do o:m(i) end
    local i = methodcache.info(C.m, o)
    assert.are.equal(128, i.maxsize)
    assert.are.equal(128, i.currsize)
    assert.are.equal(130, i.misses)
    -- 1 and 2 were evicted, 3 was not
    o:m(3)
    assert.are.equal(130, C.calls)
    o:m(1)
    assert.are.equal(131, C.calls)
  end)

  it("honours the maxsize option", function()
    local C = class_with(function(_, x) return x end, { maxsize = 3 })
    local o = C.new("o")
    for i = 1, 10 do o:m(i) end
    assert.are.equal(3, methodcache.info(C.m, o).currsize)
    assert.are.equal(3, methodcache.info(C.m, o).maxsize)
  end)

  it("passes self and the arguments through exactly", function()
    local seen
    local C = class_with(function(self, ...) seen = pack(self, ...); return true end)
    local o = C.new("o")
    o:m(1, nil, "x", nil)
    assert.are.equal(o, seen[1])
    assert.are.equal(5, seen.n)
    assert.are.same({ n = 5, o, 1, nil, "x", nil }, seen)
  end)

  it("rejects a non-function with the contract's message", function()
    local err = error_of(function() local _ = methodcache.method(42) end)
    assert.matches("bad argument #1 to 'method' (function expected, got number)", err, 1, true)
  end)

  it("rejects an unknown policy with the contract's message", function()
    local err = error_of(function()
      local _ = methodcache.method(function() end, { policy = "xyz" })
    end)
    assert.matches("bad argument #2 to 'method' (unknown policy 'xyz')", err, 1, true)
  end)

  it("rejects an unknown option, naming it", function()
    local err = error_of(function()
      local _ = methodcache.method(function() end, { maxsise = 3 })
    end)
    assert.matches("bad argument #2 to 'method'", err, 1, true)
    assert.matches("maxsise", err, 1, true)
  end)

  it("rejects a negative maxsize option", function()
    local err = error_of(function()
      local _ = methodcache.method(function() end, { maxsize = -1 })
    end)
    assert.matches("bad argument #2 to 'method'", err, 1, true)
  end)
end)

describe("methodcache.cached", function()
  it("caches a free function in one shared cache", function()
    local calls = 0
    local sq = methodcache.cached(function(x) calls = calls + 1; return x * x end,
      { maxsize = 1000 })
    assert.are.equal(9, sq(3))
    assert.are.equal(9, sq(3))
    assert.are.equal(16, sq(4))
    assert.are.equal(2, calls)
    local i = methodcache.info(sq)
    assert.are.equal(1, i.hits)
    assert.are.equal(2, i.misses)
    assert.are.equal(2, i.currsize)
    assert.are.equal(1000, i.maxsize)
  end)

  it("accepts strings as the first argument", function()
    local calls = 0
    local up = methodcache.cached(function(s) calls = calls + 1; return s:upper() end)
    assert.are.equal("ABC", up("abc"))
    assert.are.equal("ABC", up("ab" .. "c"))
    assert.are.equal(1, calls)
  end)

  it("caches a C function such as math.sqrt", function()
    local s = methodcache.cached(math.sqrt, { maxsize = 10 })
    assert.are.equal(3.0, s(9))
    assert.are.equal(3.0, s(9))
    assert.are.equal(1, methodcache.info(s).hits)
  end)

  it("rejects a non-function", function()
    local err = error_of(function() local _ = methodcache.cached("nope") end)
    assert.matches("bad argument #1 to 'cached' (function expected, got string)", err, 1, true)
  end)

  it("memoizes recursion: fib(90) with 91 misses and 88 hits", function()
    local fib
    fib = methodcache.cached(function(n)
      if n < 2 then return n end
      return fib(n - 1) + fib(n - 2)
    end, { maxsize = 1000 })
    assert.are.equal(2880067194370816120, fib(90))
    local i = methodcache.info(fib)
    assert.are.equal(91, i.misses)
    assert.are.equal(88, i.hits)
    assert.are.equal(91, i.currsize)
  end)
end)

describe("memoized recursion deeper than the C stack allows", function()
  it("raises a clean error and leaves the cache consistent", function()
    -- each level is a C call (the cached function calls back into Lua), so Lua's
    -- C-call limit (LUAI_MAXCCALLS, 200) bounds the depth; 150 must work
    local depth
    depth = methodcache.cached(function(n)
      if n == 0 then return 0 end
      return depth(n - 1) + 1
    end, { maxsize = 10000 })
    assert.are.equal(150, depth(150))
    local ok = pcall(depth, 100000)
    assert.is_false(ok)
    local i = methodcache.info(depth)
    assert.is_true(i.currsize <= 10000)
    -- climbing in steps stays within the limit and gives right answers
    for n = 300, 3000, 100 do assert.are.equal(n, depth(n)) end
    assert.are.equal(3001, methodcache.info(depth).currsize)
  end)
end)

describe("methodcache.info", function()
  it("reports one object's figures with info(f, obj)", function()
    local C = class_with(function(self, x) return self.name .. x end)
    local a, b = C.new("a"), C.new("b")
    a:m(1); a:m(1); a:m(2); b:m(1)
    local ia, ib = methodcache.info(C.m, a), methodcache.info(C.m, b)
    assert.are.same({ 1, 2, 2 }, { ia.hits, ia.misses, ia.currsize })
    assert.are.same({ 0, 1, 1 }, { ib.hits, ib.misses, ib.currsize })
    local all = methodcache.info(C.m)
    assert.are.same({ 1, 3, 3, 2 }, { all.hits, all.misses, all.currsize, all.instances })
  end)

  it("reports zeros for an object that was never called", function()
    local C = class_with(function(_, x) return x end)
    C.new("a"):m(1)
    local i = methodcache.info(C.m, C.new("b"))
    assert.are.same({ 0, 0, 0 }, { i.hits, i.misses, i.currsize })
    -- asking did not create a cache
    assert.are.equal(1, methodcache.info(C.m).instances)
  end)

  it("refuses a function not made by methodcache", function()
    local err = error_of(function() local _ = methodcache.info(print) end)
    assert.matches("bad argument #1 to 'info'"
                   .. " (not a function made by methodcache, got function)", err, 1, true)
  end)
end)

describe("methodcache.clear", function()
  it("empties every object's cache with clear(f)", function()
    local C = class_with(function(_, x) return x end)
    local a, b = C.new("a"), C.new("b")
    a:m(1); b:m(1); b:m(2)
    methodcache.clear(C.m)
    assert.are.equal(0, methodcache.info(C.m).currsize)
    local hits = methodcache.info(C.m).hits
    a:m(1); b:m(2)
    assert.are.equal(5, C.calls)
    assert.are.equal(hits, methodcache.info(C.m).hits)
    assert.are.equal(2, methodcache.info(C.m).currsize)
  end)

  it("empties only the given object's cache with clear(f, obj)", function()
    local C = class_with(function(_, x) return x end)
    local a, b = C.new("a"), C.new("b")
    a:m(1); b:m(1)
    methodcache.clear(C.m, a)
    assert.are.equal(0, methodcache.info(C.m, a).currsize)
    assert.are.equal(1, methodcache.info(C.m, b).currsize)
    a:m(1); b:m(1)
    assert.are.equal(3, C.calls)
  end)

  it("accepts clear(f, obj) for an object that has no cache", function()
    local C = class_with(function(_, x) return x end)
    local o = C.new("o")
    methodcache.clear(C.m, o)
    assert.are.equal(0, methodcache.info(C.m).instances)
    o:m(1)
    assert.are.equal(1, methodcache.info(C.m, o).currsize)
  end)

  it("empties the shared cache of a cached function", function()
    local calls = 0
    local f = methodcache.cached(function(x) calls = calls + 1; return x end)
    f(1); f(2)
    methodcache.clear(f)
    assert.are.equal(0, methodcache.info(f).currsize)
    f(1)
    assert.are.equal(3, calls)
  end)
end)

describe("method keys", function()
  it("distinguishes o:m(1) from o:m(1, nil)", function()
    local C = class_with(function(_, ...) return select("#", ...) end)
    local o = C.new("o")
    assert.are.equal(1, o:m(1))
    assert.are.equal(2, o:m(1, nil))
    assert.are.equal(1, o:m(1))
    assert.are.equal(2, o:m(1, nil))
    local i = methodcache.info(C.m, o)
    assert.are.same({ 2, 2, 2 }, { i.hits, i.misses, i.currsize })
  end)

  it("accepts nil anywhere and keeps the calls apart", function()
    local C = class_with(function(_, ...) return pack(...) end)
    local o = C.new("o")
    local calls = {
      function() return o:m() end,
      function() return o:m(nil) end,
      function() return o:m(nil, 1) end,
      function() return o:m(1, nil) end,
      function() return o:m(nil, nil) end,
      function() return o:m(nil, nil, nil) end,
    }
    local first = {}
    for i, call in ipairs(calls) do first[i] = call() end
    for i, call in ipairs(calls) do assert.are.equal(first[i], call()) end
    assert.are.equal(#calls, C.calls)
    assert.are.equal(#calls, methodcache.info(C.m, o).currsize)
    assert.are.equal(#calls, methodcache.info(C.m, o).hits)
    assert.are.same({ n = 2, nil, 1 }, first[3])
  end)

  it("distinguishes false from nil", function()
    local C = class_with(function(_, x) return tostring(x) end)
    local o = C.new("o")
    assert.are.equal("false", o:m(false))
    assert.are.equal("nil", o:m(nil))
    assert.are.equal("false", o:m(false))
    assert.are.equal(2, C.calls)
  end)

  it("compares strings by value, short and long", function()
    local C = class_with(function(_, s) return #s end)
    local o = C.new("o")
    local long = string.rep("y", 64)
    o:m("ab"); o:m(("a") .. "b")
    o:m(long); o:m(string.rep("y", 32) .. string.rep("y", 32))
    assert.are.equal(2, C.calls)
    assert.are.equal(2, methodcache.info(C.m, o).hits)
  end)

  it("does not confuse argument boundaries", function()
    local C = class_with(function(_, a, b) return a .. "|" .. b end)
    local o = C.new("o")
    assert.are.equal("a|bc", o:m("a", "bc"))
    assert.are.equal("ab|c", o:m("ab", "c"))
    assert.are.equal("a\0|b", o:m("a\0", "b"))
    assert.are.equal("a|\0b", o:m("a", "\0b"))
    assert.are.equal(4, C.calls)
  end)

  it("keeps the order of arguments", function()
    local C = class_with(function(_, a, b) return a - b end)
    local o = C.new("o")
    assert.are.equal(-1, o:m(1, 2))
    assert.are.equal(1, o:m(2, 1))
  end)

  it("separates a number from its string form, and true from 'true'", function()
    local C = class_with(function(_, x) return type(x) end)
    local o = C.new("o")
    assert.are.equal("number", o:m(1))
    assert.are.equal("string", o:m("1"))
    assert.are.equal("boolean", o:m(true))
    assert.are.equal("string", o:m("true"))
    assert.are.equal(4, C.calls)
  end)

  it("treats 1 and 1.0 as the same argument by default", function()
    local C = class_with(function(_, x) return math.type(x) end)
    local o = C.new("o")
    assert.are.equal("integer", o:m(1))
    assert.are.equal("integer", o:m(1.0))
    assert.are.equal(1, C.calls)
  end)

  it("separates 1 and 1.0 when typed = true", function()
    local C = class_with(function(_, x) return math.type(x) end, { typed = true })
    local o = C.new("o")
    assert.are.equal("integer", o:m(1))
    assert.are.equal("float", o:m(1.0))
    assert.are.equal("float", o:m(1.0))
    assert.are.equal(2, C.calls)
    assert.are.equal(2, methodcache.info(C.m, o).currsize)
  end)

  it("matches table arguments by raw identity, even with __eq", function()
    local mt = { __eq = function() return true end }
    local a, b = setmetatable({}, mt), setmetatable({}, mt)
    local C = class_with(function(_, t) return t end)
    local o = C.new("o")
    assert.are.equal(a, o:m(a))
    assert.is_true(rawequal(b, o:m(b)))
    assert.is_true(rawequal(a, o:m(a)))
    assert.are.equal(2, C.calls)
  end)

  it("handles many arguments", function()
    local C = class_with(function(_, ...)
      local s = 0
      for i = 1, select("#", ...) do s = s + select(i, ...) end
      return s
    end)
    local o = C.new("o")
    local args = {}
    for i = 1, 40 do args[i] = i end
    assert.are.equal(820, o:m(table.unpack(args)))
    args[40] = 41
    assert.are.equal(821, o:m(table.unpack(args)))
    args[40] = 40
    assert.are.equal(820, o:m(table.unpack(args)))
    assert.are.equal(2, C.calls)
  end)

  it("runs a call with a NaN argument every time and never stores it", function()
    local C = class_with(function(_, a, b) return tostring(a) .. tostring(b) end)
    local o = C.new("o")
    o:m(1, 2)
    local nan = 0 / 0
    local r1 = o:m(nan, 1)
    local r2 = o:m(nan, 1)
    o:m(1, nan)
    o:m(1, nan)
    assert.are.equal(tostring(nan) .. "1", r1)
    assert.are.equal(r1, r2)
    assert.are.equal(5, C.calls)
    local i = methodcache.info(C.m, o)
    assert.are.equal(1, i.currsize)
    assert.are.equal(0, i.hits)
  end)

  it("runs a cached function with a NaN argument every time", function()
    local calls = 0
    local f = methodcache.cached(function(x) calls = calls + 1; return x end)
    f(0 / 0); f(0 / 0)
    assert.are.equal(2, calls)
    assert.are.equal(0, methodcache.info(f).currsize)
  end)
end)

describe("method results", function()
  it("caches multiple results with their nils and count", function()
    local C = class_with(function() return 1, nil, 3, nil end)
    local o = C.new("o")
    local miss = pack(o:m())
    local hit = pack(o:m())
    assert.are.same({ n = 4, 1, nil, 3, nil }, miss)
    assert.are.same({ n = 4, 1, nil, 3, nil }, hit)
    assert.are.equal(1, C.calls)
  end)

  it("caches a single nil as one result", function()
    local C = class_with(function() return nil end)
    local o = C.new("o")
    assert.are.equal(1, select("#", o:m()))
    assert.are.equal(1, select("#", o:m()))
    assert.are.equal(1, C.calls)
  end)

  it("caches a method returning nothing", function()
    local C = class_with(function() end)
    local o = C.new("o")
    assert.are.equal(0, select("#", o:m(1)))
    assert.are.equal(0, select("#", o:m(1)))
    assert.are.equal(1, C.calls)
    assert.are.equal(1, methodcache.info(C.m, o).currsize)
    assert.are.equal(1, methodcache.info(C.m, o).hits)
  end)

  it("caches many results (250)", function()
    local t = {}
    for i = 1, 250 do t[i] = i end
    local C = class_with(function() return table.unpack(t, 1, 250) end)
    local o = C.new("o")
    local miss = pack(o:m())
    local hit = pack(o:m())
    assert.are.equal(250, miss.n)
    assert.are.equal(250, hit.n)
    assert.are.equal(250, hit[250])
    assert.are.equal(1, C.calls)
  end)

  it("returns the very same table on a hit", function()
    local C = class_with(function() return {} end)
    local o = C.new("o")
    local r = o:m()
    assert.are.equal(r, o:m())
    assert.is_true(rawequal(r, o:m()))
  end)

  it("keeps two objects' results apart for the same arguments", function()
    local C = class_with(function(self, x) return self.name .. ":" .. x end)
    local a, b = C.new("a"), C.new("b")
    assert.are.equal("a:1", a:m(1))
    assert.are.equal("b:1", b:m(1))
    assert.are.equal("a:1", a:m(1))
    assert.are.equal("b:1", b:m(1))
    assert.are.equal(2, C.calls)
    assert.are.equal(2, methodcache.info(C.m).instances)
  end)

  it("accepts userdata, functions and coroutines as self", function()
    local C = class_with(function(self, x) return type(self) .. x end)
    local ud, fn, co = methodcache.lru(1), function() end, coroutine.create(function() end)
    assert.are.equal("userdata1", C.m(ud, 1))
    assert.are.equal("function1", C.m(fn, 1))
    assert.are.equal("thread1", C.m(co, 1))
    C.m(ud, 1); C.m(fn, 1); C.m(co, 1)
    assert.are.equal(3, C.calls)
    assert.are.equal(3, methodcache.info(C.m).instances)
  end)
end)

describe("method errors", function()
  it("pass a string error through unchanged and store nothing", function()
    local function raw() error("boom-string") end
    local C = class_with(raw)
    local o = C.new("o")
    local _, expected = pcall(raw)
    local ok, err = pcall(function() return o:m(1) end)
    assert.is_false(ok)
    assert.matches("boom%-string$", expected)
    assert.are.equal(expected, err)
    assert.are.equal(select(2, pcall(C.m, o, 1)), select(2, pcall(C.m, o, 1)))
    assert.are.equal(3, C.calls)
    assert.are.equal(0, methodcache.info(C.m, o).currsize)
  end)

  it("keeps the error's position: the method's own line", function()
    local line
    local C = class_with(function()
      line = debug.getinfo(1, "l").currentline; error("boom-line")
    end)
    local o = C.new("o")
    local _, err = pcall(function() return o:m() end)
    assert.are.equal(("spec/method_spec.lua:%d: boom-line"):format(line), err)
  end)

  it("pass a table error through with the same identity", function()
    local e = { code = 42 }
    local C = class_with(function() error(e) end)
    local o = C.new("o")
    local ok, err = pcall(function() return o:m() end)
    assert.is_false(ok)
    assert.is_true(rawequal(e, err))
    assert.are.equal(0, methodcache.info(C.m, o).currsize)
  end)

  it("pass false as an error value", function()
    local C = class_with(function() error(false) end)
    local o = C.new("o")
    local r = pack(pcall(function() return o:m() end))
    assert.are.equal(2, r.n)
    assert.is_false(r[1])
    assert.is_false(r[2])
    assert.are.equal(0, methodcache.info(C.m, o).currsize)
  end)

  it("pass a nil error value as nil", function()
    local C = class_with(function() error(nil) end)
    local o = C.new("o")
    local r = pack(pcall(function() return o:m() end))
    assert.is_false(r[1])
    assert.is_nil(r[2])
  end)

  it("count nothing as a hit after an error, and run again next time", function()
    local fail = true
    local C = class_with(function() if fail then error("once") end; return "ok" end)
    local o = C.new("o")
    assert.is_false(pcall(function() return o:m() end))
    fail = false
    assert.are.equal("ok", o:m())
    assert.are.equal("ok", o:m())
    assert.are.equal(2, C.calls)
    assert.are.equal(1, methodcache.info(C.m, o).hits)
  end)

  it("leave the method's own frame in a traceback", function()
    local defline, errline
    local C = class_with(function()
      local info = debug.getinfo(1, "Sl")
      defline, errline = info.linedefined, info.currentline + 2
      error("boom-traceback")
    end)
    local o = C.new("o")
    local _, tb = xpcall(function() return o:m() end, debug.traceback)
    assert.matches("boom-traceback", tb, 1, true)
    -- the frame line of the error inside the method, and its definition
    assert.matches(("method_spec.lua:%d: in "):format(errline), tb, 1, true)
    assert.is_truthy(tb:find(("method_spec.lua:%d"):format(defline), 1, true))
  end)
end)

describe("wrong use of a cached method", function()
  local P = {}
  P.__index = P
  P.dist = methodcache.method(function(_, x) return x end)

  it("says to use ':' when self is a number", function()
    local p = setmetatable({}, P)
    local err = error_of(function() local _ = p.dist(5) end)
    assert.matches("bad argument #1 to 'dist' (self is a number: " ..
      "call the method with ':', as in obj:dist(...))", err, 1, true)
  end)

  it("says to use ':' with a placeholder name when the call has no name", function()
    local ok, err = pcall(P.dist, 5)
    assert.is_false(ok)
    assert.are.equal("bad argument #1 to '?' (self is a number: " ..
      "call the method with ':', as in obj:method(...))", err)
  end)

  it("says to use ':' when self is a boolean", function()
    local p = setmetatable({}, P)
    local err = error_of(function() local _ = p.dist(true) end)
    assert.matches("bad argument #1 to 'dist' (self is a boolean: " ..
      "call the method with ':', as in obj:dist(...))", err, 1, true)
  end)

  it("says to use ':' when self is nil", function()
    local p = setmetatable({}, P)
    local err = error_of(function() local _ = p.dist() end)
    assert.matches("bad argument #1 to 'dist' (self is", err, 1, true)
    assert.matches("nil", err, 1, true)
    assert.matches("call the method with ':', as in obj:dist(...))", err, 1, true)
  end)

  it("still says to use ':' when Lua cannot tell the method's name", function()
    local err = error_of(P.dist, 5)
    assert.matches("bad argument #1 to '", err, 1, true)
    assert.matches("self is a number: call the method with ':'", err, 1, true)
  end)

  it("points to methodcache.cached when self is a string", function()
    local S = {}
    S.len = methodcache.method(function(s) return #s end)
    local err = error_of(function() local _ = S.len("abc") end)
    assert.matches("bad argument #1 to 'len' (self is a string and cannot be held weakly: " ..
      "use methodcache.cached for functions of strings)", err, 1, true)
  end)

  it("stores nothing and runs nothing on wrong use", function()
    local C = class_with(function(_, x) return x end)
    assert.is_false(pcall(function() return C.m(5) end))
    assert.are.equal(0, C.calls)
    assert.are.equal(0, methodcache.info(C.m).instances)
  end)
end)

describe("re-entrancy", function()
  it("lets a method clear its own object's cache while running", function()
    local C = {}
    C.__index = C
    local calls = 0
    C.m = methodcache.method(function(self, x)
      calls = calls + 1
      methodcache.clear(C.m, self)
      return x * 2
    end, { maxsize = 4 })
    local o = setmetatable({}, C)
    assert.are.equal(2, o:m(1))
    assert.are.equal(4, o:m(2))
    -- entry 1 was cleared by the second call; entry 2 was stored after the clear
    local i = methodcache.info(C.m, o)
    assert.are.equal(1, i.currsize)
    assert.are.equal(4, o:m(2))
    assert.are.equal(2, o:m(1))
    assert.are.equal(3, calls)
  end)

  it("lets a method clear every cache of its function while running", function()
    local C = {}
    C.__index = C
    C.m = methodcache.method(function(self, x)
      methodcache.clear(C.m)
      collectgarbage()
      return self, x
    end, { maxsize = 4 })
    local a, b = setmetatable({}, C), setmetatable({}, C)
    a:m(1); b:m(1); a:m(2)
    assert.are.equal(1, methodcache.info(C.m).currsize)
    local s, x = a:m(2)
    assert.are.equal(a, s)
    assert.are.equal(2, x)
    assert.are.equal(1, methodcache.info(C.m).hits)
  end)

  it("stays consistent when a method evicts entries of its maxsize=2 cache while running",
  function()
    local C = {}
    C.__index = C
    local calls = 0
    C.m = methodcache.method(function(self, n)
      calls = calls + 1
      if n <= 0 then return 0 end
      -- these inner calls evict the entries around the outer one
      return n + self:m(n - 1) + self:m(n - 2) * 0
    end, { maxsize = 2 })
    local function expected(n) return n <= 0 and 0 or n * (n + 1) // 2 end
    local o = setmetatable({}, C)
    assert.are.equal(expected(20), o:m(20))
    local i = methodcache.info(C.m, o)
    assert.is_true(i.currsize <= 2)
    assert.are.equal(2, i.currsize)
    math.randomseed(7)
    for _ = 1, 300 do
      local n = math.random(-2, 25)
      assert.are.equal(expected(n), o:m(n))
      assert.is_true(methodcache.info(C.m, o).currsize <= 2)
    end
  end)

  it("stores a single entry when a method calls itself with the same arguments", function()
    local C = {}
    C.__index = C
    local depth = 0
    C.m = methodcache.method(function(self, x)
      depth = depth + 1
      if depth == 1 then self:m(x) end
      return x + depth
    end)
    local o = setmetatable({}, C)
    local r = o:m(1)
    assert.are.equal(3, r) -- the outer call's result: 1 + depth 2
    assert.are.equal(1, methodcache.info(C.m, o).currsize)
    assert.are.equal(3, o:m(1))
    assert.are.equal(2, depth)
  end)

  it("survives a method that triggers a full collection on every call", function()
    local C = class_with(function(_, x) collectgarbage(); return { x } end, { maxsize = 3 })
    local o = C.new("o")
    for i = 1, 20 do assert.are.equal(i, o:m(i)[1]) end
    assert.are.equal(3, methodcache.info(C.m, o).currsize)
    assert.are.equal(20, o:m(20)[1])
    assert.are.equal(20, C.calls)
  end)
end)
