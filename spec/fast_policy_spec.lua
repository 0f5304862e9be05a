-- Specs for policy "fast" (issue 7): methods and cached functions whose hits run as Lua
-- bytecode, with recency in two generations per object.
--
-- Objects are created inside helper functions, never in the spec's own locals: a dead
-- register of the running Lua frame is still a root for the collector.

local methodcache = require("methodcache")
local H = require("spec.support.helpers")

local function full_gc()
  collectgarbage()
  collectgarbage()
end

-- A name for a value that is equal exactly when two arguments are the same key under
-- Lua's raw equality (1 and 1.0, 0 and -0.0 are one key; objects by identity).
local ids = setmetatable({}, { __mode = "k" })
local nextid = 0
local function canon(v)
  local t = type(v)
  if t == "number" then
    if v ~= v then return "nan" end
    if v == math.floor(v) and math.abs(v) < 2 ^ 63 then
      return ("n%d"):format(math.tointeger(v) or v)
    end
    return ("n%.17g"):format(v)
  elseif t == "string" then
    return "s" .. v
  elseif t == "nil" or t == "boolean" then
    return tostring(v)
  end
  if not ids[v] then
    nextid = nextid + 1
    ids[v] = nextid
  end
  return "o" .. ids[v]
end

-- The results of a call as a comparable list: count, then each value by identity.
local function results(...)
  return { n = select("#", ...), ... }
end

local function same(a, b)
  if a.n ~= b.n then return false end
  for i = 1, a.n do
    if a[i] ~= b[i] and not (a[i] ~= a[i] and b[i] ~= b[i]) then return false end
  end
  return true
end

-- Deterministic results of every shape, chosen by the key: one value of each type, a
-- table (always the same one for the key), nil, false, nothing, several with nils.
local pool = {}
local function shaped(key)
  local h = 0
  for i = 1, #key do h = (h * 31 + key:byte(i)) % 1000003 end
  local s = h % 9
  if s == 0 then return h end
  if s == 1 then return "r" .. h end
  if s == 2 then
    pool[key] = pool[key] or { key }
    return pool[key]
  end
  if s == 3 then return nil end
  if s == 4 then return false end
  if s == 5 then return end
  if s == 6 then return h, nil, "x" end
  if s == 7 then return nil, nil end
  return h + 0.5
end

local function argpool()
  return { nil, false, true, 0, 1, 1.0, -0.0, 2 ^ 53, 1.5, 0 / 0, "", "a", "1", {}, {},
    print, math.huge }
end

describe("policy fast", function()
  describe("results", function()
    -- Each shape of wrapped function: how many arguments the key uses (nil: all, with
    -- their count, as a vararg function can see them).
    local shapes = {
      { label = "no parameter",
        make = function(k) return function(self) return k(self) end end,
        makec = function(k) return function() return k("fn") end end },
      { label = "one parameter", fixed = 1,
        make = function(k) return function(self, a) return k(self, a) end end,
        makec = function(k) return function(a) return k("fn", a) end end },
      { label = "two parameters", fixed = 2,
        make = function(k) return function(self, a, b) return k(self, a, b) end end,
        makec = function(k) return function(a, b) return k("fn", a, b) end end },
      { label = "three parameters", fixed = 3,
        make = function(k) return function(self, a, b, c) return k(self, a, b, c) end end,
        makec = function(k) return function(a, b, c) return k("fn", a, b, c) end end },
      { label = "varargs", vararg = true,
        make = function(k) return function(self, ...) return k(self, ...) end end,
        makec = function(k) return function(...) return k("fn", ...) end end },
    }

    for _, shape in ipairs(shapes) do
      for _, kind in ipairs({ "method", "cached" }) do
        it("are those of the uncached function and of policy lru, for random calls of a "
          .. kind .. " with " .. shape.label, function()
          local seed = os.time()
          math.randomseed(seed)
          local calls = 0
          -- the uncached computation: a function of the key the shape can see
          local function key(self, ...)
            local n = shape.vararg and select("#", ...) or shape.fixed or 0
            local parts = { canon(self), n }
            for i = 1, n do parts[#parts + 1] = canon((select(i, ...))) end
            return table.concat(parts, "|")
          end
          local function compute(self, ...)
            calls = calls + 1
            return shaped(key(self, ...))
          end
          local raw = shape.make(compute)
          local f, lru
          if kind == "method" then
            f = methodcache.method(raw, { policy = "fast", maxsize = 6 })
            lru = methodcache.method(raw, { maxsize = 6 })
          else
            local unself = shape.makec(compute)
            f = methodcache.cached(unself, { policy = "fast", maxsize = 6 })
            lru = methodcache.cached(unself, { maxsize = 6 })
            raw = function(_, ...) return unself(...) end
          end
          local objs = { {}, {}, setmetatable({}, {}) }
          local args = argpool()
          for step = 1, 3000 do
            local o = objs[math.random(#objs)]
            local n = math.random(0, 4)
            local a = {}
            for i = 1, n do a[i] = args[math.random(#args + 1)] end
            local want = results(raw(o, table.unpack(a, 1, n)))
            local got, via_lru
            if kind == "method" then
              got = results(f(o, table.unpack(a, 1, n)))
              via_lru = results(lru(o, table.unpack(a, 1, n)))
            else
              got = results(f(table.unpack(a, 1, n)))
              via_lru = results(lru(table.unpack(a, 1, n)))
            end
            if not same(want, got) or not same(want, via_lru) then
              error(("seed %d, step %d: fast gave %d results, lru %d, uncached %d"):format(
                seed, step, got.n, via_lru.n, want.n))
            end
          end
          assert.is_true(calls < 3 * 3000, "seed " .. seed .. ": some calls hit")
        end)
      end
    end

    it("are every result with its count, nils and nothing included", function()
      local T = {}
      T.__index = T
      T.m = methodcache.method(function(_, x)
        if x == 1 then return end
        if x == 2 then return nil end
        if x == 3 then return 1, nil end
        if x == 4 then return nil, nil, 3 end
        return { x }
      end, { policy = "fast" })
      local o = setmetatable({}, T)
      for _ = 1, 3 do
        assert.are.equal(0, select("#", o:m(1)))
        assert.are.same({ n = 1 }, table.pack(o:m(2)))
        assert.are.same({ n = 2, 1 }, table.pack(o:m(3)))
        assert.are.same({ n = 3, nil, nil, 3 }, table.pack(o:m(4)))
      end
      assert.are.equal(o:m(5), o:m(5)) -- the same table
      assert.are.same({ 5 }, o:m(5))
      local i = methodcache.info(T.m)
      assert.are.equal(5, i.misses)
      assert.are.equal(10, i.hits)
    end)

    it("tell a table result from the box of several results", function()
      local T = {}
      T.__index = T
      -- a single table that looks like a box, and a real box
      local fake = { n = 2, "a", "b" }
      T.m = methodcache.method(function(_, x)
        if x == 1 then return fake end
        return "a", "b"
      end, { policy = "fast" })
      local o = setmetatable({}, T)
      for _ = 1, 2 do
        assert.are.equal(fake, o:m(1))
        assert.are.equal(1, select("#", o:m(1)))
        assert.are.equal(2, select("#", o:m(2)))
      end
    end)

    it("are never cached for a NaN argument", function()
      local calls = 0
      local f = methodcache.cached(function(_, y)
        calls = calls + 1
        return y
      end, { policy = "fast" })
      local g = methodcache.cached(function(x)
        calls = calls + 1
        return x
      end, { policy = "fast" })
      f(0 / 0, 1); f(0 / 0, 1); f(1, 0 / 0); f(1, 0 / 0)
      g(0 / 0); g(0 / 0)
      assert.are.equal(6, calls)
      assert.are.equal(0, methodcache.info(f).currsize)
      assert.are.equal(0, methodcache.info(g).currsize)
    end)

    it("use the parameters of a function with fixed parameters as the whole key", function()
      local calls = 0
      local f = methodcache.cached(function(a)
        calls = calls + 1
        return a
      end, { policy = "fast" })
      -- the function cannot see a second argument nor tell f(1) from f(1, nil)
      f(1); f(1, nil); f(1, 2); f(1.0)
      assert.are.equal(1, calls)
      -- a vararg function can: every argument with their count
      local g = methodcache.cached(function(...)
        calls = calls + 1
        return select("#", ...)
      end, { policy = "fast" })
      assert.are.equal(1, g(1)); assert.are.equal(2, g(1, nil)); assert.are.equal(2, g(1, 2))
      assert.are.equal(1, g(1))
      assert.are.equal(4, calls)
    end)

    it("work for a callable table, keyed by every argument", function()
      local calls = 0
      local callable = setmetatable({}, { __call = function(_, _, ...)
        calls = calls + 1
        return select("#", ...)
      end })
      local f = methodcache.cached(callable, { policy = "fast" })
      assert.are.equal(0, f(1)); assert.are.equal(1, f(1, nil)); assert.are.equal(0, f(1))
      assert.are.equal(2, calls)
    end)
  end)

  describe("eviction", function()
    for _, maxsize in ipairs({ 1, 2, 3, 5, 8, 64 }) do
      it("never keeps more than maxsize = " .. maxsize .. " entries of one object", function()
        local seed = os.time()
        math.randomseed(seed)
        local T = {}
        T.__index = T
        T.m = methodcache.method(function(_, x) return x end,
          { policy = "fast", maxsize = maxsize })
        T.v = methodcache.method(function(_, ...) return ... end,
          { policy = "fast", maxsize = maxsize })
        local o = setmetatable({}, T)
        for _ = 1, 2000 do
          local r = math.random(4)
          if r == 1 then
            o:v(math.random(20), math.random(3))
          elseif r == 2 then
            o:v()
          else
            o:m(math.random(maxsize * 3))
          end
          assert(methodcache.info(T.m, o).currsize <= maxsize, "seed " .. seed)
          assert(methodcache.info(T.v, o).currsize <= maxsize, "seed " .. seed)
        end
        assert.is_true(methodcache.info(T.m, o).currsize >= 1)
      end)
    end

    it("keeps a key used between every two other keys", function()
      local calls = {}
      local T = {}
      T.__index = T
      T.m = methodcache.method(function(_, x)
        calls[x] = (calls[x] or 0) + 1
        return x
      end, { policy = "fast", maxsize = 4 })
      local o = setmetatable({}, T)
      for i = 1, 1000 do
        o:m("hot")
        o:m(i)
      end
      assert.are.equal(1, calls.hot)
    end)

    it("hits at least 80% as often as exact LRU on a Zipf workload", function()
      -- tools/fast_hitratio.lua prints this comparison for more workloads
      local keys = H.zipf(1000, 1, 50000, 7)
      local hits = {}
      for _, policy in ipairs({ "lru", "fast" }) do
        local T = {}
        T.__index = T
        T.m = methodcache.method(function(_, k) return k end, { policy = policy, maxsize = 64 })
        local o = setmetatable({}, T)
        for j = 1, #keys do o:m(keys[j]) end
        hits[policy] = methodcache.info(T.m).hits
      end
      assert.is_true(hits.fast >= 0.8 * hits.lru, ("fast %d, lru %d"):format(hits.fast, hits.lru))
      assert.is_true(hits.fast > 0.3 * #keys)
    end)

    it("stores nothing with maxsize = 0", function()
      local calls = 0
      local f = methodcache.cached(function(x)
        calls = calls + 1
        return x
      end, { policy = "fast", maxsize = 0 })
      f(1); f(1); f(); f()
      assert.are.equal(4, calls)
      assert.are.same({ hits = 0, misses = 4, currsize = 0, maxsize = 0, instances = 1 },
        methodcache.info(f))
    end)

    it("counts a key that a recursive call stored meanwhile once", function()
      local T = {}
      T.__index = T
      local depth = 0
      T.m = methodcache.method(function(self, x)
        depth = depth + 1
        if depth < 3 then self:m(x) end -- the same key, stored by the inner call first
        return x
      end, { policy = "fast", maxsize = 8 })
      local o = setmetatable({}, T)
      assert.are.equal(7, o:m(7))
      assert.are.equal(1, methodcache.info(T.m, o).currsize)
      assert.are.equal(7, o:m(7))
      assert.are.equal(3, depth)
    end)
  end)

  describe("info and clear", function()
    it("report hits over every object, and misses and entries per object", function()
      local T = {}
      T.__index = T
      T.m = methodcache.method(function(_, x) return x end, { policy = "fast", maxsize = 10 })
      local p, q = setmetatable({}, T), setmetatable({}, T)
      p:m(1); p:m(1); p:m(2); q:m(1); q:m(1); q:m(1)
      assert.are.same({ hits = 3, misses = 3, currsize = 3, maxsize = 10, instances = 2 },
        methodcache.info(T.m))
      assert.are.same({ misses = 2, currsize = 2, maxsize = 10 }, methodcache.info(T.m, p))
      assert.are.same({ misses = 0, currsize = 0, maxsize = 10 }, methodcache.info(T.m, {}))
      methodcache.clear(T.m, p)
      assert.are.equal(0, methodcache.info(T.m, p).currsize)
      assert.are.equal(1, methodcache.info(T.m, q).currsize)
      methodcache.clear(T.m)
      assert.are.equal(0, methodcache.info(T.m).currsize)
      p:m(1)
      assert.are.equal(4, methodcache.info(T.m).misses)
    end)

    it("list fast methods and functions in methodcache.report()", function()
      local Sq = {}
      Sq.__index = Sq
      Sq.area = methodcache.method(function(self) return self.side ^ 2 end,
        { policy = "fast", maxsize = 8 })
      ;(function()
        local big, small = setmetatable({ side = 10 }, Sq), setmetatable({ side = 1 }, Sq)
        big:area(); big:area(); small:area()
        Sq.keep = big
      end)()
      full_gc()
      local found
      for _, s in ipairs(methodcache.report()) do
        if s.policy == "fast" and s.maxsize == 8 then found = s end
      end
      assert.is_table(found)
      assert.are.equal("method", found.kind)
      assert.are.equal(1, found.hits)
      assert.are.equal(2, found.misses)
      assert.are.equal(1, found.entries)
      assert.are.equal(1, found.objects)
      assert.are.equal(1, found.collected)
      assert.are.equal(0, found.bytes)
      assert.matches("fast_policy_spec", found.source)
    end)

    it("work for a cached function", function()
      local f = methodcache.cached(function(a, b) return a, b end, { policy = "fast" })
      f(1, 2); f(1, 2); f(3)
      assert.are.same({ hits = 1, misses = 2, currsize = 2, maxsize = 128, instances = 1 },
        methodcache.info(f))
      methodcache.clear(f)
      assert.are.equal(0, methodcache.info(f).currsize)
      f(1, 2)
      assert.are.equal(3, methodcache.info(f).misses)
    end)
  end)

  for _, mode in ipairs({ "incremental", "generational" }) do
    describe("and the collector in " .. mode .. " mode", function()
      before_each(function()
        collectgarbage(mode)
        full_gc()
      end)
      after_each(function()
        collectgarbage("incremental")
      end)

      local bodies = {
        { "is self", function(self) return self end },
        { "is a table holding self and the argument", function(self, x) return { self, x } end },
        { "is several results referring to self", function(self, x) return self, x, self end },
        { "is a closure capturing self", function(self) return function() return self end end },
      }
      for _, b in ipairs(bodies) do
        it("lets self and an object argument go when the value " .. b[1], function()
          local T = {}
          T.__index = T
          T.m = methodcache.method(b[2], { policy = "fast", maxsize = 4 })
          T.v = methodcache.method(function(self, ...) return b[2](self, ...) end,
            { policy = "fast", maxsize = 4 })
          local w = setmetatable({}, { __mode = "v" })
          ;(function()
            local o, arg = setmetatable({}, T), {}
            o:m(arg); o:m(arg); o:m(1); o:v(arg, arg); o:v(nil, arg); o:v()
            w[1], w[2] = o, arg
          end)()
          assert.are.equal(1, methodcache.info(T.m).instances)
          full_gc()
          assert.is_nil(w[1])
          assert.is_nil(w[2])
          assert.are.equal(0, methodcache.info(T.m).instances)
          assert.are.equal(0, methodcache.info(T.v).currsize)
        end)
      end

      it("lets an argument of a cached function go when its value refers back", function()
        local f = methodcache.cached(function(x) return { x } end, { policy = "fast" })
        local g = methodcache.cached(function(x, y) return { x, y } end, { policy = "fast" })
        local w = setmetatable({}, { __mode = "v" })
        ;(function()
          local a, b = {}, {}
          f(a); g(1, a); g(a, b)
          w[1], w[2] = a, b
        end)()
        full_gc()
        assert.is_nil(w[1])
        assert.is_nil(w[2])
        assert.are.equal(0, methodcache.info(f).currsize)
        assert.are.equal(0, methodcache.info(g).currsize)
      end)

      it("keeps the entries of live objects and arguments", function()
        local T = {}
        T.__index = T
        local calls = 0
        T.m = methodcache.method(function(_, x)
          calls = calls + 1
          return { x }
        end, { policy = "fast" })
        local o, a = setmetatable({}, T), {}
        local r = o:m(a)
        full_gc()
        assert.are.equal(r, o:m(a))
        assert.are.equal(1, calls)
      end)
    end)
  end

  describe("calls", function()
    it("let the method yield, and store its result when it returns", function()
      local T = {}
      T.__index = T
      T.fetch = methodcache.method(function(_, path) return coroutine.yield(path) end,
        { policy = "fast" })
      local c = setmetatable({}, T)
      local co = coroutine.wrap(function() return c:fetch("/a") end)
      assert.are.equal("/a", co())
      assert.are.equal("<html>", co("<html>"))
      assert.are.equal("<html>", c:fetch("/a"))
    end)

    it("pass the method's errors through untouched and store nothing", function()
      local T = {}
      T.__index = T
      local err = setmetatable({}, { __tostring = function() return "boom" end })
      local calls = 0
      T.m = methodcache.method(function()
        calls = calls + 1
        error(err)
      end, { policy = "fast" })
      local o = setmetatable({}, T)
      local ok, e = pcall(o.m, o, 1)
      assert.is_false(ok)
      assert.are.equal(err, e)
      pcall(o.m, o, 1)
      assert.are.equal(2, calls)
      assert.are.equal(0, methodcache.info(T.m, o).currsize)
    end)

    it("raise the errors of policy lru for a self that is not an object", function()
      local T = {}
      T.__index = T
      T.norm = methodcache.method(function(self) return self end, { policy = "fast" })
      T.dist = methodcache.method(function(_, x) return x end, { policy = "fast" })
      T.va = methodcache.method(function(_, ...) return ... end, { policy = "fast" })
      local function msg(f, ...)
        local ok, e = pcall(f, ...)
        assert.is_false(ok)
        return e
      end
      assert.matches("bad argument #1 to 'dist' %(self is a number: call the method with ':', "
        .. "as in obj:dist%(...%)%)", msg(function() local r = T.dist(5, 1); return r end))
      assert.matches("bad argument #1 to 'norm' %(self is nil", msg(function()
        local r = T.norm(); return r end))
      assert.matches("self is a string and cannot be held weakly", msg(function()
        local r = T.va("s", 1, 2); return r end))
    end)
  end)

  describe("wrap, wrapped, refresh and delete", function()
    it("work on fast methods with the key a call makes", function()
      local calls = 0
      local C = {}
      C.__index = C
      function C.sq(_, x)
        calls = calls + 1
        return x * x
      end
      function C.va(_, ...)
        calls = calls + 1
        return select("#", ...)
      end
      methodcache.wrap(C, "sq", "va", { policy = "fast", maxsize = 8 })
      local sq = C.sq
      methodcache.wrap(C, "sq") -- cached already: left as it is
      assert.are.equal(sq, C.sq)
      local o = setmetatable({}, C)
      assert.are.equal(9, o:sq(3))
      assert.are.equal(9, methodcache.refresh(C.sq, o, 3))
      assert.are.equal(2, calls)
      assert.are.equal(9, o:sq(3))
      assert.are.equal(2, calls)
      assert.is_true(methodcache.delete(C.sq, o, 3))
      assert.is_false(methodcache.delete(C.sq, o, 3))
      assert.is_false(methodcache.delete(C.sq, o, 0 / 0))
      assert.are.equal(9, o:sq(3))
      assert.are.equal(3, calls)
      assert.are.equal(1, methodcache.info(C.sq, o).currsize)
      -- a vararg method: the count of arguments is part of the key
      o:va(1, nil)
      assert.is_false(methodcache.delete(C.va, o, 1))
      assert.is_true(methodcache.delete(C.va, o, 1, nil))
      assert.are.equal(16, methodcache.wrapped(C.sq)(o, 4))
      assert.has_error(function() methodcache.refresh(C.sq, 5, 1) end,
        "bad argument #2 to 'refresh' (object expected, got number)")
    end)

    it("work on fast cached functions, and refresh may yield", function()
      local f = methodcache.cached(function(a, b)
        return a + (b or coroutine.yield("b?"))
      end, { policy = "fast" })
      assert.are.equal(3, f(1, 2))
      assert.are.equal(3, methodcache.refresh(f, 1, 2))
      assert.is_true(methodcache.delete(f, 1, 2))
      assert.is_false(methodcache.delete(f, 1, 2))
      local co = coroutine.wrap(function() return methodcache.refresh(f, 1) end)
      assert.are.equal("b?", co())
      assert.are.equal(11, co(10))
      assert.are.equal(11, f(1)) -- stored by the refresh
      assert.has_error(function() methodcache.wrap({ g = f }, "g") end,
        "bad argument #2 to 'wrap' ('g' is a function made by methodcache.cached, not a method)")
    end)
  end)

  describe("out of memory", function()
    it("fails cleanly at every allocation and leaves the caches right and bounded", function()
      local ok_testing, testing = pcall(require, "methodcache.testing")
      assert(ok_testing, "methodcache.testing is built by make test")
      local function workload(T, objs)
        for i = 1, 120 do
          local o = objs[i % 3 + 1]
          local k = i % 7 == 0 and { i } or i % 11
          local want = type(k) == "table" and k[1] or k
          local a, b = o:m(k)
          assert(a == want and b == nil, "a wrong result")
          local n = select("#", o:v(k, i % 5))
          assert(n == 2, "a wrong count of results")
        end
        for _, o in ipairs(objs) do
          assert(methodcache.info(T.m, o).currsize <= 6)
          assert(methodcache.info(T.v, o).currsize <= 6)
        end
      end
      local runs = 0
      for n = 1, 20000 do
        local T = {}
        T.__index = T
        T.m = methodcache.method(function(_, k)
          if type(k) == "table" then return k[1] end
          return k
        end, { policy = "fast", maxsize = 6 })
        T.v = methodcache.method(function(_, k, j) return k, j end,
          { policy = "fast", maxsize = 6 })
        local objs = { setmetatable({}, T), setmetatable({}, T), setmetatable({}, T) }
        local ok, msg = pcall(function()
          testing.failafter(n)
          workload(T, objs)
        end)
        local refused = testing.failafter(nil)
        runs = runs + 1
        if ok and refused == 0 then break end
        assert(ok or msg == "not enough memory", msg)
        for _, o in ipairs(objs) do -- as the failure left them
          assert(methodcache.info(T.m, o).currsize <= 6, "run " .. n)
          assert(methodcache.info(T.v, o).currsize <= 6, "run " .. n)
        end
        workload(T, objs) -- the same caches, after the failure: right and bounded
      end
      assert.is_true(runs > 10 and runs < 20000)
    end)
  end)

  describe("options", function()
    it("are refused with a message that names the option fast does not support", function()
      local f = function() end
      for _, opt in ipairs({
        { on_evict = f }, { getsizeof = f }, { timer = f }, { typed = true },
        { coalesce = true }, { seed = 1 }, { key = f },
      }) do
        local name = next(opt)
        opt.policy = "fast"
        local ok, e = pcall(methodcache.method, f, opt)
        assert.is_false(ok)
        assert.are.equal(("bad argument #2 to 'method' (policy 'fast' does not support "
          .. "option '%s')"):format(name), e)
        ok, e = pcall(methodcache.cached, f, opt)
        assert.is_false(ok)
        assert.matches("to 'cached' %(policy 'fast' does not support option '" .. name, e)
      end
      assert.has_error(function() methodcache.method(f, { policy = "fast", ttl = 1 }) end,
        "bad argument #2 to 'method' (option 'ttl' needs policy 'ttl', got policy 'fast')")
      assert.has_error(function() methodcache.method(f, { policy = "fast", total = 10 }) end,
        "bad argument #2 to 'method' (option 'total' needs policy 'lru', got 'fast')")
      assert.has_error(function() methodcache.method(f, { policy = "fast", maxsize = -1 }) end,
        "bad argument #2 to 'method' (option 'maxsize' must be a non-negative integer, got -1)")
      -- typed = false and coalesce = false are the defaults, so they are accepted
      methodcache.method(f, { policy = "fast", typed = false, coalesce = false })
    end)

    it("are refused by wrap in its own name, and the class is left as it was", function()
      local f = function(_, x) return x end
      for _, opt in ipairs({ { on_evict = print }, { store = "object" }, { key = f } }) do
        local name = next(opt)
        opt.policy = "fast"
        local C = { m = f, n = f }
        local ok, e = pcall(methodcache.wrap, C, "m", "n", opt)
        assert.is_false(ok)
        assert.are.equal(("bad argument #4 to 'wrap' (policy 'fast' does not support "
          .. "option '%s')"):format(name), e)
        assert.are.equal(f, C.m)
        assert.are.equal(f, C.n)
      end
    end)
  end)
end)
