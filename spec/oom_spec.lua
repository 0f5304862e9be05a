-- Out of memory: each workload runs again and again with the 1st, 2nd, 3rd
-- ... allocation refused (methodcache.testing.failafter, csrc/test/), until
-- a run meets no refusal.  Every run that fails must fail cleanly with
-- "not enough memory", leave its caches consistent and usable, and give
-- all C memory back once everything is dropped.
-- The workloads are tagged #slow: make valgrind leaves them out (about 20 s
-- each under valgrind); make test and make check-asan run them.
local methodcache = require("methodcache")
local testing = require("methodcache.testing")

-- Lua's own memory error, and the binding's when the C core is refused
local NOMEM = {
  ["not enough memory"] = true,
  ["methodcache: not enough memory"] = true,
}

-- no workload makes more allocations than this: a run that still meets a
-- refusal at this count never stops refusing
local MAXRUNS = 20000

local POLICIES = { "lru", "lfu", "fifo", "rr", "ttl", "tlru", "unbounded" }

describe("methodcache.testing.failafter", function()
  it("refuses the n-th next allocation and every later one until failafter(nil)", function()
    local a, b, c
    collectgarbage("stop")  -- no finalizer may allocate in between
    local ok, msg = pcall(function()
      testing.failafter(3)
      a = {}  -- an empty table is one allocation
      b = {}
      c = {}
    end)
    local refused = testing.failafter(nil)
    collectgarbage("restart")
    assert.is_false(ok)
    assert.are.equal("not enough memory", msg)
    assert.is_true(refused >= 1)
    assert.are.same({}, a)
    assert.are.same({}, b)
    assert.is_nil(c)
    c = { 1, 2, 3 }
    assert.are.same({ 1, 2, 3 }, c)
    assert.are.equal(0, testing.failafter(nil))
  end)

  it("lets a cache made before a failure free and reuse its memory after it", function()
    local c = methodcache.lru(4)
    for i = 1, 4 do c:set(i, tostring(i)) end
    local ok, msg = pcall(function()
      testing.failafter(1)
      for i = 5, 8 do c:set(i, { i }) end
    end)
    testing.failafter(nil)
    assert.is_false(ok)
    assert.is_truthy(NOMEM[msg], msg)
    for i = 9, 20 do c:set(i, { i }) end
    assert.are.same({ 20 }, c:get(20))
    assert.are.equal(4, #c)
  end)

  it("rejects a count below 1", function()
    assert.has_error(function() testing.failafter(0) end)
    assert.are.equal(0, testing.failafter(nil))
  end)
end)

-- Runs work(fixture) with the n-th allocation refused, for n = 1, 2, ...
-- until a run meets no refusal; after each run check(fixture) must pass.
-- 'cold': a new fixture for each run, so that every allocation of a first
-- run is refused once; else one fixture for all runs, which then meet the
-- states failed runs left.  Returns the last n (a whole run's allocations,
-- plus one).
local function exhaust(make, work, check, cold)
  local fixture = make()
  local n = 0
  while true do
    n = n + 1
    assert(n <= MAXRUNS, "a run still meets a refusal after " .. MAXRUNS .. " allocations")
    if cold and n > 1 then fixture = make() end
    local ok, msg = pcall(function()
      testing.failafter(n)
      work(fixture)
    end)
    local refused = testing.failafter(nil)
    if not ok then
      assert(NOMEM[msg], ("refusing allocation %d: error %s"):format(n, tostring(msg)))
    end
    local cok, cerr = pcall(check, fixture)
    if not cok then
      error(("%s run, after refusing allocation %d (%s): %s"):format(
        cold and "cold" or "warm", n,
        ok and "the run went on" or "the run failed", tostring(cerr)), 0)
    end
    if ok and refused == 0 then
      return n
    end
  end
end

-- both ways, then the C memory of every fixture comes back once dropped
local function runs_out_of_memory(make, work, check)
  collectgarbage()
  collectgarbage()
  local base = methodcache.memory()
  exhaust(make, work, check, false)
  exhaust(make, work, check, true)
  collectgarbage()
  collectgarbage()
  assert.are.equal(base, methodcache.memory())
end

local function fakeclock()
  local clock = { now = 0 }
  clock.timer = function() return clock.now end
  return clock
end

-- values of every kind the binding stores: inline, one in a table, a table
local function value(i)
  if i % 3 == 0 then return i end
  if i % 3 == 1 then return "v" .. i end
  return { i }
end

local function weight(v)
  return type(v) == "table" and 2 or 1
end

describe("a cache out of memory", function()
  for _, policy in ipairs(POLICIES) do
    local function new(opts)
      if policy == "ttl" then return methodcache.ttl(6, 3, opts) end
      if policy == "tlru" then
        return methodcache.tlru(6, function(_, _, now) return now + 3 end, opts)
      end
      opts.timer = nil  -- the time policies alone take one
      if policy == "unbounded" then return methodcache.unbounded(opts) end
      if policy == "rr" then opts.seed = 7 end
      return methodcache[policy](6, opts)
    end

    local function make()
      local f = { clock = fakeclock(), objs = {} }
      for i = 1, 4 do f.objs[i] = { i } end
      f.c = new({
        timer = f.clock.timer,
        getsizeof = weight,
        -- no workload stores nil: every notice has a key and a value
        on_evict = function(k, v, reason)
          assert(k ~= nil and v ~= nil, "on_evict without a key or a value")
          f.last = { k, v, reason }
        end,
      })
      return f
    end

    local function work(f)
      local c, objs = f.c, f.objs
      f.clock.now = f.clock.now + 1  -- entries of earlier runs expire
      for i = 1, 5 do
        c:set("s" .. i, value(i))
        c:set(objs[i % 4 + 1], value(i + 1))
        c:set(i, value(i + 2))
      end
      c:get("s5"); c:get(objs[1]); c:get(4); c:get("absent")
      c:peek("s4"); c:has(objs[2])
      c:delete("s5"); c:delete(objs[3]); c:delete(5)
      c:pop("s4"); c:pop(objs[4], "default"); c:pop(4)
      for k, v in pairs(c) do
        assert(k ~= nil and v ~= nil)
      end
      c:stats()
      c:expire()
      c:set({}, "dies with its key")
      c:clear()
      for i = 1, 3 do
        c:set("t" .. i, value(i))
        c:set(objs[i], value(i))
      end
      -- a new cache of the same kind, made and filled under the limit
      local d = new({ timer = f.clock.timer, getsizeof = weight })
      d:set("x", { 1 })
      d:set(objs[1], "y")
    end

    -- pairs, #c and stats().currsize agree, and every value is there
    local function tally(c)
      local n, size = 0, 0
      for k, v in pairs(c) do
        n = n + 1
        size = size + weight(v)
        assert(v ~= nil, "pairs gives a nil value for a key no run set to nil")
        assert(c:peek(k) == v, "peek disagrees with pairs")
      end
      assert.are.equal(n, #c)
      assert.are.equal(size, c:stats().currsize)
    end

    local function check(f)
      local c = f.c
      -- an emergency collection of the failed run may have cleared the
      -- tables of dead object keys without running their finalizers: until
      -- those run, #c still counts the entries (docs/DESIGN.md, section 3)
      collectgarbage()
      c:expire()  -- expired entries are counted until dropped
      tally(c)
      -- a node table a failed run left half made shows once it has entries
      for i, obj in ipairs(f.objs) do
        c:set(obj, i)
        assert.are.equal(i, c:get(obj))
      end
      tally(c)
      -- each value is read back before the next set may evict it
      local o = {}
      assert.is_true(c:set("probe", { "p" }))
      assert.are.same({ "p" }, c:get("probe"))
      assert.is_true(c:set(o, "q"))
      assert.are.equal("q", c:get(o))
      tally(c)
      c:delete("probe")
      assert.are.equal("q", c:pop(o))
      assert.is_false(c:has("probe"))
      tally(c)
    end

    it("ends every failed " .. policy .. " operation in 'not enough memory'"
       .. " and stays consistent #slow", function()
      runs_out_of_memory(make, work, check)
    end)
  end
end)

describe("a cached method out of memory", function()
  for _, policy in ipairs(POLICIES) do
    local opts = { policy = policy, maxsize = 4 }
    if policy == "ttl" then opts.ttl = 3 end
    if policy == "tlru" then opts.ttu = function(_, _, now) return now + 3 end end
    if policy == "rr" then opts.seed = 7 end

    local function make()
      local f = { clock = fakeclock(), objs = {}, args = {} }
      local o = {}
      for k, v in pairs(opts) do o[k] = v end
      if policy == "ttl" or policy == "tlru" then o.timer = f.clock.timer end
      o.on_evict = function(k, v, reason) f.last = { k, v, reason } end
      o.getsizeof = function(...) return select("#", ...) - 1 end  -- 2 a call
      local Class = {}
      Class.__index = Class
      Class.m = methodcache.method(function(self, a, b)
        return a, b, { self, a }
      end, o)
      f.Class = Class
      for i = 1, 3 do
        f.objs[i] = setmetatable({ id = i }, Class)
        f.args[i] = { "arg" .. i }
      end
      -- the decorator form and a cached free function, with object arguments
      f.dec = methodcache(function() return methodcache.lfu(3) end)(function(self, x)
        return self, x
      end)
      f.fn = methodcache.cached(function(a, b) return b, a end, { maxsize = 3 })
      return f
    end

    -- the calls of a run, given to method(obj, x, y), decorated(obj, a)
    -- and cached(a, i)
    local function calls(f, method, decorated, cached)
      local objs, args = f.objs, f.args
      for i = 1, 3 do
        local o, a = objs[i], args[i]
        method(o, i, a)
        method(o, a, i)
        method(o, a, args[i % 3 + 1])
        decorated(o, a)
        cached(a, i)
      end
    end

    local function work(f)
      f.clock.now = f.clock.now + 1
      calls(f, function(o, x, y) o:m(x, y) end, f.dec, f.fn)
      -- an object that lives for one call
      setmetatable({}, f.Class):m(1, {})
      methodcache.info(f.Class.m)
      methodcache.info(f.Class.m, f.objs[1])
      methodcache.clear(f.Class.m, f.objs[2])
    end

    local function check(f)
      local m = f.Class.m
      local o, a = f.objs[1], f.args[1]
      local x, y, t = o:m("probe", a)
      assert.are.equal("probe", x)
      assert.are.equal(a, y)
      assert.are.equal(o, t[1])
      local hits = methodcache.info(m, o).hits
      local x2, y2, t2 = o:m("probe", a)
      assert.are.equal(x, x2)
      assert.are.equal(y, y2)
      assert.are.equal(t, t2)
      assert.are.equal(hits + 1, methodcache.info(m, o).hits)
      -- what failed runs stored answers right
      calls(f, function(obj, x1, y1)
        local r1, r2, r3 = obj:m(x1, y1)
        assert(r1 == x1 and r2 == y1 and r3[1] == obj and r3[2] == x1,
               "a cached method gives back wrong results")
      end, function(obj, a1)
        local d1, d2 = f.dec(obj, a1)
        assert(d1 == obj and d2 == a1, "a decorated method gives back wrong results")
      end, function(a1, i)
        local b1, b2 = f.fn(a1, i)
        assert(b1 == i and b2 == a1, "a cached function gives back wrong results")
      end)
      local total = 0
      for _, obj in ipairs(f.objs) do
        local info = methodcache.info(m, obj)
        assert.is_true(info.currsize <= info.maxsize)
        total = total + info.currsize
      end
      assert.is_true(methodcache.info(m).currsize >= total)
    end

    it("ends every failed " .. policy .. " call in 'not enough memory'"
       .. " and stays consistent #slow", function()
      runs_out_of_memory(make, work, check)
    end)
  end
end)

describe("a method with store = 'object' out of memory", function()
  -- each run: hits and misses on long-lived objects, 5 objects that live for one call
  -- (the list of caches is renewed every few runs), a copy, info and clear
  local function make()
    local f = { objs = {} }
    local Class = {}
    Class.__index = Class
    Class.m = methodcache.method(function(self, a) return a, { self, a } end,
      { store = "object", maxsize = 4 })
    f.Class = Class
    for i = 1, 3 do f.objs[i] = setmetatable({ id = i }, Class) end
    f.fn = function() end  -- a self that is not a table: the weak table
    return f
  end

  local function work(f)
    for i, o in ipairs(f.objs) do
      o:m(i)
      o:m({ i })
    end
    f.Class.m(f.fn, 1)
    for i = 1, 5 do setmetatable({}, f.Class):m(i) end
    local copy = setmetatable({}, f.Class)
    for k, v in pairs(f.objs[1]) do copy[k] = v end
    copy:m(1)
    methodcache.info(f.Class.m)
    methodcache.clear(f.Class.m, f.objs[2])
  end

  local function check(f)
    local m = f.Class.m
    for i, o in ipairs(f.objs) do
      local x, t = o:m(i)
      assert(x == i and t[1] == o and t[2] == i, "a cached method gives back wrong results")
      local x2, t2 = o:m(i)
      assert(x2 == x and t2 == t, "a second call does not hit")
    end
    local x, t = m(f.fn, 2)
    assert(x == 2 and t[1] == f.fn)
    local info = methodcache.info(m)
    assert.is_true(info.instances >= 4)  -- the 3 objects and the function, at least
    local sum = 0
    for _, o in ipairs(f.objs) do sum = sum + methodcache.info(m, o).currsize end
    assert.is_true(info.currsize >= sum)
    -- clear(f) clears every cache, which makes a root table each: its allocations grow
    -- with the caches of dead objects not collected yet, so it runs here, unrefused
    methodcache.clear(m)
    assert.are.equal(0, methodcache.info(m).currsize)
  end

  it("ends every failed call in 'not enough memory' and stays consistent #slow", function()
    runs_out_of_memory(make, work, check)
  end)
end)
