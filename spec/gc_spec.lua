-- Specs for garbage collection: no object (self or argument) is kept alive by a cache.
-- Every case runs in both incremental and generational mode. Contract: issue 2.
--
-- Objects are created inside helper functions, never in the spec's own locals: a dead
-- register of the running Lua frame is still a root for the collector.

local methodcache = require("methodcache")

local function full_gc()
  collectgarbage()
  collectgarbage()
end

local function weak()
  return setmetatable({}, { __mode = "v" })
end

local function count(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

-- a fresh class with a counting method `m` whose results come from `body(self, ...)`
local function new_class(body, opts)
  local C = { calls = 0 }
  C.__index = C
  C.m = methodcache.method(function(self, ...)
    C.calls = C.calls + 1
    return body(self, ...)
  end, opts)
  return C
end

for _, mode in ipairs({ "incremental", "generational" }) do
  describe("methodcache and the collector in " .. mode .. " mode", function()
    before_each(function()
      collectgarbage(mode)
      full_gc()
    end)
    after_each(function()
      collectgarbage("incremental")
    end)

    describe("self", function()
      local function drops(body, label)
        it("lets a dropped object be collected when the cached value " .. label, function()
          local C = new_class(body)
          local w = weak()
          ;(function()
            local o = setmetatable({}, C)
            o:m(1); o:m(2); o:m(1)
            w[1] = o
          end)()
          local before = methodcache.info(C.m)
          assert.are.equal(1, before.instances)
          assert.are.equal(2, before.currsize)
          full_gc()
          assert.is_nil(w[1])
          local after = methodcache.info(C.m)
          assert.are.equal(0, after.instances)
          assert.are.equal(0, after.currsize)
        end)
      end
      drops(function(_, x) return x end, "is a number")
      drops(function(self) return self end, "is self")
      drops(function(self) return { self, { self } } end, "is a table containing self")
      drops(function(self) return function() return self end end, "is a closure capturing self")
      drops(function(self, x) return self, x, self end, "is several results referring to self")

      it("drops an object whose cache was used through the decorator form", function()
        local C = {}
        C.__index = C
        C.m = methodcache(function() return methodcache.lru(8) end)(function(self) return self end)
        local w = weak()
        ;(function()
          local o = setmetatable({}, C)
          o:m()
          w[1] = o
        end)()
        full_gc()
        assert.is_nil(w[1])
        assert.are.equal(0, methodcache.info(C.m).instances)
      end)

      it("keeps the caches of live objects across collections", function()
        local C = new_class(function(self, x) return { self, x } end)
        local a, b = setmetatable({}, C), setmetatable({}, C)
        local ra = a:m(1)
        b:m(1)
        full_gc()
        full_gc()
        assert.are.equal(ra, a:m(1))
        b:m(1)
        assert.are.equal(2, C.calls)
        local i = methodcache.info(C.m)
        assert.are.equal(2, i.instances)
        assert.are.equal(2, i.currsize)
        assert.are.equal(2, i.hits)
      end)

      it("collects one dropped object and keeps the other's cache", function()
        local C = new_class(function(self) return self end)
        local keep = setmetatable({}, C)
        keep:m(1)
        local w = weak()
        ;(function()
          local o = setmetatable({}, C)
          o:m(1); o:m(2)
          w[1] = o
        end)()
        full_gc()
        assert.is_nil(w[1])
        local i = methodcache.info(C.m)
        assert.are.equal(1, i.instances)
        assert.are.equal(1, i.currsize)
        assert.are.equal(keep, keep:m(1))
        assert.are.equal(3, C.calls)
      end)

      it("collects a cycle between two objects' caches (a:m(b) is b, b:m(a) is a)", function()
        local C = new_class(function(_, other) return other end)
        local w = weak()
        ;(function()
          local a, b = setmetatable({}, C), setmetatable({}, C)
          assert(a:m(b) == b)
          assert(b:m(a) == a)
          w[1], w[2] = a, b
        end)()
        assert.are.equal(2, methodcache.info(C.m).instances)
        full_gc()
        assert.is_nil(w[1])
        assert.is_nil(w[2])
        assert.are.equal(0, methodcache.info(C.m).instances)
        assert.are.equal(0, methodcache.info(C.m).currsize)
      end)

      it("collects an object with a __gc metamethod after two collections", function()
        local finalized = 0
        local C = {}
        C.__index = C
        C.__gc = function() finalized = finalized + 1 end
        C.m = methodcache.method(function(self) return self end)
        local w = weak()
        ;(function()
          local o = setmetatable({}, C)
          o:m(1)
          w[1] = o
        end)()
        full_gc()
        collectgarbage()
        assert.are.equal(1, finalized)
        assert.is_nil(w[1])
        assert.are.equal(0, methodcache.info(C.m).instances)
        assert.are.equal(0, methodcache.info(C.m).currsize)
      end)

      it("collects 100,000 short-lived objects and returns memory to its baseline", function()
        local C = new_class(function(self, x) return self, x end)
        local function churn(n)
          for i = 1, n do
            local o = setmetatable({}, C)
            o:m(i)
            o:m(i)
          end
        end
        -- warm up with the same churn: the method's weak table of objects grows as far
        -- as the collector's pace lets dead objects pile up between cycles (further in
        -- a big heap) and a table never shrinks by itself; a leak would show as growth
        -- in proportion to the second 100,000 objects
        churn(100000)
        full_gc()
        local baseline = collectgarbage("count")
        churn(100000)
        full_gc()
        local grown = collectgarbage("count") - baseline
        local i = methodcache.info(C.m)
        assert.are.equal(0, i.instances)
        assert.are.equal(0, i.currsize)
        assert.are.equal(200000, C.calls)
        assert.is_true(grown < 1024,
          ("memory grew by %.0f KiB after collecting 100,000 objects"):format(grown))
      end)
    end)

    describe("object arguments", function()
      local function arg_dropped(make, label, result)
        it("does not keep a " .. label .. " argument alive when the result " .. result.label,
        function()
          local C = new_class(function(_, a) return result.f(a) end)
          local o = setmetatable({}, C)
          o:m("plain")
          local w = weak()
          ;(function()
            local a = make()
            o:m(a)
            o:m(a, 2)
            assert(o:m(a) ~= nil)
            w[1] = a
          end)()
          assert.are.equal(3, methodcache.info(C.m, o).currsize)
          full_gc()
          assert.is_nil(w[1])
          assert.are.equal(1, methodcache.info(C.m, o).currsize)
          assert.are.equal(1, methodcache.info(C.m).currsize)
          -- the object itself and its remaining entry are fine
          o:m("plain")
          assert.are.equal(3, C.calls)
        end)
      end
      local makers = {
        { "table", function() return {} end },
        { "function", function() local up = {}; return function() return up end end },
        { "coroutine", function() return coroutine.create(function() end) end },
        { "userdata", function() return methodcache.lru(1) end },
      }
      local results = {
        { label = "is unrelated", f = function() return "r" end },
        { label = "is the argument", f = function(a) return a end },
        { label = "is a table holding the argument", f = function(a) return { a } end },
        { label = "is a closure capturing the argument",
          f = function(a) return function() return a end end },
      }
      for _, mk in ipairs(makers) do
        for _, r in ipairs(results) do arg_dropped(mk[2], mk[1], r) end
      end

      it("does not keep an argument alive through a cached free function", function()
        local f = methodcache.cached(function(a) return { a } end)
        local w = weak()
        ;(function()
          local a = {}
          f(a); f(a)
          w[1] = a
        end)()
        assert.are.equal(1, methodcache.info(f).currsize)
        full_gc()
        assert.is_nil(w[1])
        assert.are.equal(0, methodcache.info(f).currsize)
      end)

      it("keeps the entries of live arguments across collections", function()
        local C = new_class(function(_, a) return { a } end)
        local o = setmetatable({}, C)
        local a = {}
        local r = o:m(a)
        full_gc()
        assert.are.equal(r, o:m(a))
        assert.are.equal(1, C.calls)
        assert.are.equal(1, methodcache.info(C.m, o).currsize)
      end)

      it("drops an entry when the second of two object arguments dies", function()
        local C = new_class(function(_, a, b) return { a, b } end)
        local o = setmetatable({}, C)
        local a = {}
        local w = weak()
        ;(function()
          local b = {}
          o:m(a, b)
          w[1] = b
        end)()
        full_gc()
        assert.is_nil(w[1])
        assert.are.equal(0, methodcache.info(C.m, o).currsize)
      end)

      it("never gives a dropped argument's result to a new object at a reused address", function()
        local C = new_class(function(_, a) return a end, { maxsize = 100000 })
        local o = setmetatable({}, C)
        ;(function()
          local a = {}
          o:m(a)
        end)()
        full_gc()
        assert.are.equal(0, methodcache.info(C.m, o).currsize)
        local wrong = 0
        local keep = {}
        for i = 1, 20000 do
          local t = {}
          if o:m(t) ~= t then wrong = wrong + 1 end
          if i % 2 == 0 then keep[#keep + 1] = t end
          if i % 1000 == 0 then collectgarbage() end
        end
        assert.are.equal(0, wrong)
        assert.are.equal(10000, #keep)
        assert.are.equal(0, methodcache.info(C.m, o).hits)
        assert.are.equal(20001, methodcache.info(C.m, o).misses)
      end)

      it("never gives a dropped object's cache to a new object at a reused address", function()
        local C = new_class(function(self) return self end)
        ;(function()
          setmetatable({}, C):m(1)
        end)()
        full_gc()
        local wrong = 0
        for i = 1, 20000 do
          local o = setmetatable({}, C)
          if o:m(1) ~= o then wrong = wrong + 1 end
          if i % 1000 == 0 then collectgarbage() end
        end
        assert.are.equal(0, wrong)
        assert.are.equal(0, methodcache.info(C.m).hits)
        assert.are.equal(20001, C.calls)
      end)
    end)

    describe("random calls, deaths and collections", function()
      it("never return a result computed for another object or other arguments", function()
        local seed = tonumber(os.getenv("METHODCACHE_SEED")) or 20240612
        math.randomseed(seed)
        local C = new_class(function(self, ...)
          return { self = self, n = select("#", ...), ... }
        end, { maxsize = 6 })
        local steps = 20000
        local function fail(i, msg)
          error(("seed=%d step %d: %s (set METHODCACHE_SEED=%d to replay)")
            :format(seed, i, msg, seed), 2)
        end
        local function new_arg()
          local r = math.random(1, 4)
          if r == 1 then return {} end
          if r == 2 then local up = {}; return function() return up end end
          if r == 3 then return coroutine.create(function() end) end
          return methodcache.lru(1)
        end
        -- in a helper, so that no dead register of the spec keeps anything alive
        local function run()
          local objs, pool = {}, {}
          for j = 1, 8 do objs[j] = setmetatable({}, C); pool[j] = new_arg() end
          local function pick()
            local r = math.random(1, 8)
            if r == 1 then return nil end
            if r == 2 then return math.random(1, 3) end
            if r == 3 then return math.random(1, 3) + 0.0 end
            if r == 4 then return "s" .. math.random(1, 3) end
            if r == 5 then return false end
            return pool[math.random(1, #pool)]
          end
          for i = 1, steps do
            -- drop and replace objects and arguments now and then
            if math.random(1, 20) == 1 then objs[math.random(1, 8)] = setmetatable({}, C) end
            if math.random(1, 10) == 1 then pool[math.random(1, 8)] = new_arg() end
            local o = objs[math.random(1, 8)]
            local n = math.random(0, 3)
            local args = {}
            for j = 1, n do args[j] = pick() end
            local r = o:m(table.unpack(args, 1, n))
            if not rawequal(r.self, o) then fail(i, "result of another object") end
            if r.n ~= n then fail(i, ("%d results for %d arguments"):format(r.n, n)) end
            for j = 1, n do
              if not rawequal(r[j], args[j]) then
                fail(i, ("argument %d: got %s for %s"):format(j, tostring(r[j]), tostring(args[j])))
              end
            end
            if i % 97 == 0 then collectgarbage("step") end
            if i % 2000 == 0 then
              collectgarbage()
              local per = methodcache.info(C.m, objs[1])
              if per.currsize > 6 then fail(i, "currsize " .. per.currsize .. " > maxsize 6") end
            end
          end
        end
        run()
        local i = methodcache.info(C.m)
        assert.are.equal(steps, i.hits + i.misses)
        assert.are.equal(steps, C.calls + i.hits)
        full_gc()
        i = methodcache.info(C.m)
        assert.are.equal(0, i.instances)
        assert.are.equal(0, i.currsize)
      end)
    end)

    describe("a standalone lru cache", function()
      it("drops entries whose table key was collected", function()
        local c = methodcache.lru(10)
        c:set("s", 1)
        local keep = {}
        c:set(keep, 2)
        local w = weak()
        ;(function()
          for i = 1, 3 do
            local k = {}
            c:set(k, { k }) -- the value refers back to its key
            w[i] = k
          end
          local f = function() return keep end
          c:set(f, f)
          w[4] = f
        end)()
        assert.are.equal(6, #c)
        full_gc()
        assert.are.equal(0, count(w))
        assert.are.equal(2, #c)
        assert.are.equal(2, c:stats().currsize)
        local ks = {}
        for k in pairs(c) do ks[#ks + 1] = k end
        assert.are.equal(2, #ks)
        assert.are.equal(keep, ks[1])
        assert.are.equal("s", ks[2])
        assert.are.equal(2, c:get(keep))
      end)

      it("never answers for a new table at a dropped key's reused address", function()
        local c = methodcache.lru(100000)
        ;(function()
          for _ = 1, 100 do c:set({}, "stale") end
        end)()
        full_gc()
        assert.are.equal(0, #c)
        local wrong = 0
        for i = 1, 20000 do
          local t = {}
          if c:get(t) ~= nil or c:has(t) or c:peek(t) ~= nil then wrong = wrong + 1 end
          if i % 1000 == 0 then collectgarbage() end
        end
        assert.are.equal(0, wrong)
        assert.are.equal(0, c:stats().hits)
      end)

      it("lets the cache itself be collected with its entries", function()
        local w = weak()
        ;(function()
          local c = methodcache.lru(4)
          local k = {}
          c:set(k, c)
          w[1], w[2] = c, k
        end)()
        full_gc()
        assert.is_nil(w[1])
        assert.is_nil(w[2])
      end)
    end)

    describe("finalized caches reached again", function()
      it("do not crash when another object's __gc calls the cached method", function()
        local C = new_class(function(_, x) return x * 2 end)
        local outcomes = {}
        local function setup()
          -- the resurrector's __gc is set first, so it runs after the caches' own finalizers
          local r = setmetatable({}, {
            __gc = function(self)
              local ok, v = pcall(function() return self.obj:m(21) end)
              outcomes[#outcomes + 1] = { ok = ok, v = v }
              ok, v = pcall(function() return methodcache.info(C.m, self.obj).currsize end)
              outcomes[#outcomes + 1] = { ok = ok, v = v }
            end,
          })
          local o = setmetatable({}, C)
          o:m(21)
          r.obj = o
        end
        for _ = 1, 50 do setup() end
        full_gc()
        full_gc()
        assert.are.equal(100, #outcomes)
        -- a clean error is acceptable, a wrong value or a crash is not
        for i = 1, #outcomes, 2 do
          if outcomes[i].ok then assert.are.equal(42, outcomes[i].v) end
        end
        full_gc()
        assert.are.equal(0, methodcache.info(C.m).instances)
      end)

      it("do not crash when another object's __gc uses a finalized lru cache", function()
        local outcomes = {}
        local function setup()
          local r = setmetatable({}, {
            __gc = function(self)
              local c = self.cache
              local ok = pcall(function()
                c:set("k", 1); c:get("k"); c:peek("k"); c:has("k")
                c:delete("k"); c:pop("k"); c:set({}, 2)
                for _ in pairs(c) do end
                c:clear(); c:stats()
                return #c
              end)
              outcomes[#outcomes + 1] = ok
            end,
          })
          local c = methodcache.lru(4)
          c:set("x", {})
          c:set({}, "y")
          r.cache = c
        end
        for _ = 1, 50 do setup() end
        full_gc()
        full_gc()
        assert.are.equal(50, #outcomes)
      end)
    end)
  end)
end

describe("the root table of a cache", function()
  -- user value 1 of the handle (MC_UV_ROOT in csrc/mc_lua.h)
  local function root_mode(c)
    local mt = getmetatable(debug.getuservalue(c, 1))
    return mt and mt.__mode
  end

  it("is a plain table while no key has an object, and weak-keyed from the first one on",
    function()
      local c = methodcache.lru(8)
      c:set("a", {})
      c:set(1, function() end)
      assert.is_nil(root_mode(c), "no object key: no weak table for the collector")
      local key = {}
      c:set(key, 1)
      assert.are.equal("k", root_mode(c))
      c:delete(key)
      assert.are.equal("k", root_mode(c))
      c:clear()
      assert.is_nil(root_mode(c), "a clear starts a plain root again")
    end)

  for _, mode in ipairs({ "incremental", "generational" }) do
    it("never keeps an object key alive once it has one (" .. mode .. ")", function()
      collectgarbage(mode)
      local c = methodcache.lru(8)
      c:set("a", 1)
      local watch = weak()
      local function add() local k = {}; watch[1] = k; c:set(k, k) end
      add()
      full_gc()
      collectgarbage("incremental")
      assert.is_nil(watch[1])
    end)
  end
end)
