-- Option total: a budget across the objects of a cached method (issue 7),
-- and info(f).collected.  The budget's invariants are checked with
-- core._budget (mc_budget_check: the order's links, that the weights add up
-- to the sum, that the sum is within total, and that the caches listed
-- under the budget hold exactly the entries of its order).
--
-- Objects are made inside helper functions, never in the spec's own locals:
-- a dead register of the running Lua frame is still a root.
local methodcache = require("methodcache")
local H = require("spec.support.helpers")
local Model = require("spec.support.budget_model")

local full_gc = H.full_gc
local MODES = { "incremental", "generational" }
-- where the method keeps each object's cache: the budget's rules hold for both
local STORES = { "weak", "object" }

local function check_budget(f, where)
  local ok, why = methodcache._budget(f)
  if not ok then error((where or "") .. ": " .. why, 2) end
end

-- The entries the budget holds, those of dead objects whose finalizers have
-- not run included (core._budget sweeps nothing, unlike info).
local function held(f)
  local ok, n = methodcache._budget(f)
  assert(ok, n)
  return n
end

-- A class whose method m(key) returns value(key) (default key * 10), with
-- the given options; C.calls counts the calls that ran.
local function class(opts, value)
  local C = { calls = 0 }
  C.__index = C
  value = value or function(k) return k * 10 end
  C.m = methodcache.method(function(_, k)
    C.calls = C.calls + 1
    return value(k)
  end, opts)
  C.new = function() return setmetatable({}, C) end
  return C
end

-- Runs body(mode) as one `it` per collector mode, with the eager collector.
local function each_mode(name, body)
  H.each_mode(it, name, body)
end

describe("option total", function()
  it("is refused with a policy other than lru, naming the policy", function()
    for _, policy in ipairs({ "lfu", "fifo", "rr", "unbounded" }) do
      local msg = H.errmsg(methodcache.method, print, { total = 10, policy = policy })
      assert.are.equal("bad argument #2 to 'method' (option 'total' needs policy 'lru', got '"
                       .. policy .. "')", msg)
    end
    assert.matches("option 'total' needs policy 'lru', got 'ttl'",
                   H.errmsg(methodcache.method, print, { total = 10, ttl = 5 }), 1, true)
  end)

  it("is refused by cached, which has one cache to bound with maxsize", function()
    assert.are.equal("bad argument #2 to 'cached' (option 'total' bounds the caches of a "
                     .. "method's objects together; a cached function has one cache: bound "
                     .. "it with maxsize)", H.errmsg(methodcache.cached, print, { total = 5 }))
  end)

  it("must be a non-negative integer", function()
    assert.are.equal("bad argument #2 to 'method' (option 'total' must be a non-negative "
                     .. "integer, got -1)", H.errmsg(methodcache.method, print, { total = -1 }))
    assert.are.equal("bad argument #2 to 'method' (option 'total': number expected, got string)",
                     H.errmsg(methodcache.method, print, { total = "9" }))
  end)

  it("shows in info(f) as total and size, and not without it", function()
    local C = class({ maxsize = 4, total = 6 })
    local a, b = C.new(), C.new()
    a:m(1); a:m(2); b:m(1)
    local i = methodcache.info(C.m)
    assert.are.same({ 6, 3, 3, 2 }, { i.total, i.size, i.currsize, i.instances })
    local plain = class({ maxsize = 4 })
    plain.new():m(1)
    i = methodcache.info(plain.m)
    assert.is_nil(i.total)
    assert.is_nil(i.size)
    assert.are.equal(0, i.collected)
    assert.is_nil(methodcache.info(C.m, a).total)
  end)

  it("bounds the entries of all objects together, one object's maxsize still applying", function()
    local C = class({ maxsize = 3, total = 5 })
    local objs = {}
    for i = 1, 4 do objs[i] = C.new() end
    for k = 1, 5 do objs[1]:m(k) end
    assert.are.equal(3, methodcache.info(C.m, objs[1]).currsize, "maxsize bounds one object")
    for i = 2, 4 do objs[i]:m(1); objs[i]:m(2) end
    local i = methodcache.info(C.m)
    assert.are.same({ 5, 5 }, { i.size, i.currsize })
    -- the oldest entries went first: all of objs[1]'s, then objs[2]'s first
    assert.are.equal(0, methodcache.info(C.m, objs[1]).currsize)
    assert.are.equal(1, methodcache.info(C.m, objs[2]).currsize)
    check_budget(C.m)
  end)

  it("evicts the least recently used entry of any object, as a global LRU model does", function()
    local seed = 7
    for round = 1, 4 do
      local r = H.rng(seed + round)
      local maxsize, total = 2 + r(4), 3 + r(12)
      local store = STORES[round % 2 + 1]
      local C = class({ maxsize = maxsize, total = total, store = store })
      local model = Model.new({ maxsize = maxsize, total = total })
      local objs = {}
      for i = 1, 6 do objs[i] = C.new() end
      for step = 1, 3000 do
        local o, k = objs[r(6)], r(8)
        local calls = C.calls
        assert.are.equal(k * 10, o:m(k))
        local hit = model:call(o, k, k * 10)
        if hit ~= (C.calls == calls) then
          error(("seed %d round %d (store %s) step %d: the cache %s, the model %s"):format(
                seed, round, store, step, C.calls == calls and "hit" or "missed",
                hit and "hit" or "missed"))
        end
      end
      for _, o in ipairs(objs) do
        assert.are.equal(model:size(o), methodcache.info(C.m, o).currsize)
      end
      assert.are.equal(model:size(), methodcache.info(C.m).size)
      check_budget(C.m)
    end
  end)

  it("gives on_evict the key, value and reason size of another object's entry", function()
    for _, store in ipairs(STORES) do
      local notices = {}
      local C = class({ maxsize = 4, total = 3, store = store, on_evict = function(k, v, reason)
        notices[#notices + 1] = { k, v, reason }
      end }, function(k) return { k } end)
      local model = Model.new({ maxsize = 4, total = 3 })
      local objs = { C.new(), C.new(), C.new() }
      local r = H.rng(3)
      for _ = 1, 500 do
        local o, k = objs[r(3)], r(5)
        local v = o:m(k)
        assert.are.equal(k, v[1])
        model:call(o, k, k)
      end
      assert.are.equal(#model.notices, #notices)
      for i, n in ipairs(notices) do
        assert.are.same({ model.notices[i][1], model.notices[i][1], "size" },
                        { n[1], n[2][1], n[3] })
      end
    end
  end)

  it("bounds the weights of getsizeof, and stores no value heavier than total", function()
    local C = class({ maxsize = 100, total = 10, getsizeof = function(v) return v end },
                    function(k) return k end)
    local model = Model.new({ maxsize = 100, total = 10, getsizeof = function(v) return v end })
    local objs = { C.new(), C.new(), C.new() }
    local r = H.rng(11)
    for step = 1, 2000 do
      local o, k = objs[r(3)], r(12)
      local calls = C.calls
      assert.are.equal(k, o:m(k))
      local hit = model:call(o, k, k)
      assert(hit == (C.calls == calls), "step " .. step)
      assert(methodcache.info(C.m).size <= 10)
    end
    assert.are.equal(model:size(), methodcache.info(C.m).size)
    check_budget(C.m)
    local calls = C.calls
    objs[1]:m(11); objs[1]:m(11)
    assert.are.equal(calls + 2, C.calls, "11 is heavier than total: never stored")
  end)

  it("keeps the sum exact through clear(f, obj) and clear(f)", function()
    local C = class({ maxsize = 5, total = 12 })
    local a, b, c = C.new(), C.new(), C.new()
    for k = 1, 4 do a:m(k); b:m(k); c:m(k) end
    assert.are.equal(12, methodcache.info(C.m).size)
    methodcache.clear(C.m, b)
    assert.are.same({ 8, 8 }, { methodcache.info(C.m).size, methodcache.info(C.m).currsize })
    check_budget(C.m)
    for k = 1, 4 do b:m(k + 10) end  -- room again: nobody else loses an entry
    assert.are.same({ 4, 4, 4 }, { methodcache.info(C.m, a).currsize,
                                   methodcache.info(C.m, b).currsize,
                                   methodcache.info(C.m, c).currsize })
    methodcache.clear(C.m)
    assert.are.same({ 0, 0 }, { methodcache.info(C.m).size, methodcache.info(C.m).currsize })
    check_budget(C.m)
  end)

  it("lets on_evict call the method on the object whose entry it was told of", function()
    local C, calls = nil, 0
    C = class({ maxsize = 4, total = 4, on_evict = function(k, v, reason)
      calls = calls + 1
      assert(v == k * 10 and reason == "size")
      local o = C.owner[k]
      if o and calls < 200 then assert(o:m(k + 100) == (k + 100) * 10) end
      check_budget(C.m, "in on_evict")
    end })
    C.owner = setmetatable({}, { __mode = "v" })
    local objs = {}
    for i = 1, 6 do objs[i] = C.new() end
    for step = 1, 300 do
      local o, k = objs[step % 6 + 1], step % 9
      C.owner[k] = o
      assert.are.equal(k * 10, o:m(k))
      check_budget(C.m, "step " .. step)
      assert(methodcache.info(C.m).size <= 4)
    end
    assert(calls > 100, "only " .. calls .. " notices")
  end)

  it("stores a coroutine's result after other objects evicted its object's entries "
     .. "while it was suspended in the method", function()
    local C = class({ maxsize = 4, total = 3 }, function(k)
      if k == 0 then coroutine.yield("waiting") end
      return k * 10
    end)
    local a = C.new()
    a:m(1); a:m(2)
    local co = coroutine.wrap(function() return a:m(0) end)
    assert.are.equal("waiting", co())
    local others = { C.new(), C.new() }
    for k = 1, 3 do others[1]:m(k); others[2]:m(k) end  -- a's entries all go
    assert.are.equal(0, methodcache.info(C.m, a).currsize)
    assert.are.equal(0, co())
    assert.are.equal(1, methodcache.info(C.m, a).currsize)
    assert.are.equal(3, methodcache.info(C.m).size)
    check_budget(C.m)
    local calls = C.calls
    assert.are.equal(0, a:m(0))
    assert.are.equal(calls, C.calls, "a:m(0) is cached")
  end)

  it("puts the caches that refresh makes under the budget, and counts them as collected",
    function()
      local C = class({ maxsize = 4, total = 3 })
      local a, b = C.new(), C.new()
      a:m(1); a:m(2)
      assert.are.equal(30, methodcache.refresh(C.m, b, 3))  -- b's first cache
      assert.are.equal(10, methodcache.refresh(C.m, b, 1))  -- full: a's least recent goes
      assert.are.same({ 1, 2, 3 }, { methodcache.info(C.m, a).currsize,
                                     methodcache.info(C.m, b).currsize,
                                     methodcache.info(C.m).size })
      check_budget(C.m)
      b = nil -- luacheck: ignore (the object must die)
      full_gc()
      assert.are.same({ 1, 1 }, { methodcache.info(C.m).size, methodcache.info(C.m).collected })
    end)

  it("lets a method call itself on other objects while it evicts them", function()
    local C
    C = class({ maxsize = 3, total = 4 }, function(k)
      if k > 1 then return C.new():m(k - 1) + 1 end
      return 1
    end)
    local o = C.new()
    assert.are.equal(30, o:m(30))
    check_budget(C.m)
    assert(methodcache.info(C.m).size <= 4)
  end)
end)

describe("the sum of a budget", function()
  -- fill(C, n, k): n new objects, k keys each; returns a weak list of them
  local function fill(C, n, k)
    local weak = setmetatable({}, { __mode = "v" })
    for i = 1, n do
      local o = C.new()
      for j = 1, k do o:m(j) end
      weak[i] = o
    end
    return weak
  end

  for _, store in ipairs(STORES) do
    each_mode("equals the entries of the objects alive after collectgarbage()"
              .. " (store " .. store .. ")", function()
      local C = class({ store = store, maxsize = 8, total = 1000 })
      local keep = {}
      for i = 1, 10 do keep[i] = C.new(); keep[i]:m(1); keep[i]:m(2) end
      fill(C, 100, 3)
      collectgarbage()
      local i = methodcache.info(C.m)
      assert.are.same({ 20, 20, 10 }, { i.size, i.currsize, i.instances })
      check_budget(C.m)
    end)

    each_mode("equals the entries of the objects alive after every collectgarbage('step')"
              .. " (store " .. store .. ")",
      function(mode)
        -- small steps (2^2 bytes of work each), so that one ends between the
        -- collection that finds the objects dead and their caches' finalizers
        if mode == "incremental" then collectgarbage("incremental", 100, 100, 2) end
        local C = class({ store = store, maxsize = 8, total = 1000 })
        local keep = {}
        for i = 1, 5 do keep[i] = C.new(); keep[i]:m(1) end
        collectgarbage("stop")  -- they all die in the cycle that the steps make
        local weak = fill(C, 200, 4)
        -- a finalizer of an object that dies with them runs before their
        -- caches' finalizers (Lua runs them in the reverse order of marking):
        -- what info says there must not count the dead objects' entries
        local gap, fin = 0, 0
        setmetatable({}, { __gc = function()
          fin = fin + 1
          local n = held(C.m)
          local i = methodcache.info(C.m)
          assert(i.currsize == i.size and i.size == 5 + 4 * (i.instances - 5),
                 "inside a finalizer: size " .. i.size .. ", currsize " .. i.currsize)
          gap = math.max(gap, n - i.size)
        end })
        collectgarbage("restart")
        local steps, cycles = 0, 0
        repeat
          collectgarbage("stop")
          local n = held(C.m)
          local i = methodcache.info(C.m)
          gap = math.max(gap, n - i.size)
          assert.are.equal(i.currsize, i.size, "step " .. steps)
          assert.are.equal(5 + 4 * (i.instances - 5), i.size, "step " .. steps)
          check_budget(C.m, "step " .. steps)
          collectgarbage("restart")
          -- bounded by cycles, not steps: a step's work is fixed, so a big
          -- heap (every spec in one process, as check-asan runs them) takes
          -- many more steps per cycle
          if collectgarbage("step") then cycles = cycles + 1 end
          steps = steps + 1
        until fin == 1 and next(weak) == nil and methodcache.info(C.m).instances == 5
          or cycles > 10
        assert.is_true(cycles <= 10, "the objects were never collected")
        assert.are.equal(5, methodcache.info(C.m).size)
        assert.are.equal(1, fin)
        assert.is_true(gap > 0, "the dead objects' caches were finalized first")
      end)

    each_mode("takes a dead object's entries, before its finalizer ran, before a live one's"
              .. " (store " .. store .. ")",
      function()
        local C = class({ store = store, maxsize = 8, total = 20 })
        local keep = C.new()
        for k = 1, 4 do keep:m(k) end  -- the least recent entries of all
        local fin, early = 0, nil
        -- the objects of fill() die in the same cycle as this sentinel, made
        -- after their caches: Lua runs finalizers in the reverse order of
        -- their marking, so theirs have not run when this one runs
        do
          fill(C, 4, 4)                 -- 16 entries, more recent than keep's
          setmetatable({}, { __gc = function()
            fin = fin + 1
            early = held(C.m) == 20
            for k = 5, 8 do keep:m(k) end  -- full: must not evict keep's
            assert(methodcache.info(C.m, keep).currsize == 8, "keep lost entries")
          end })
        end
        full_gc()
        assert.are.equal(1, fin)
        assert.is_true(early, "the caches' finalizers ran before the sentinel's")
        assert.are.equal(8, methodcache.info(C.m).size)
        check_budget(C.m)
      end)

    each_mode("counts an object revived by its finalizer once it is used again"
              .. " (store " .. store .. ")", function()
      local C = class({ store = store, maxsize = 8, total = 30 })
      local revived
      local R = setmetatable({}, { __index = C })
      R.__index = R
      R.__gc = function(self) revived = self end
      do
        local o = setmetatable({}, R)
        for k = 1, 3 do o:m(k) end
      end
      full_gc()
      assert.is_table(revived)
      for k = 1, 5 do revived:m(k) end
      local i = methodcache.info(C.m)
      assert.are.equal(i.currsize, i.size)
      assert.are.equal(methodcache.info(C.m, revived).currsize, i.size)
      check_budget(C.m)
      for _ = 1, 40 do C.new():m(1) end  -- the others push it out
      check_budget(C.m)
      assert(methodcache.info(C.m).size <= 30)
      revived = nil -- luacheck: ignore (the object must die)
      full_gc()
      i = methodcache.info(C.m)
      assert.are.same({ 0, 0 }, { i.size, i.currsize })
    end)
  end
end)

describe("info(f).collected", function()
  each_mode("counts the per-object caches that the collector freed", function()
    local C = class({ maxsize = 4 })
    local keep = C.new()
    keep:m(1)
    for _ = 1, 3 do for _ = 1, 25 do C.new():m(1) end; collectgarbage() end
    local i = methodcache.info(C.m)
    assert.are.same({ 75, 1 }, { i.collected, i.instances })
    local D = class({ maxsize = 4, total = 10 })
    for _ = 1, 30 do D.new():m(1) end
    full_gc()
    assert.are.equal(30, methodcache.info(D.m).collected)
  end)

  each_mode("counts the caches of the decorator form, and report() agrees", function()
    local C = {}
    C.__index = C
    C.m = methodcache(function() return methodcache.lru(4) end)(function(_, x) return x end)
    for i = 1, 12 do setmetatable({}, C):m(i) end
    full_gc()
    assert.are.equal(12, methodcache.info(C.m).collected)
    for _, s in ipairs(methodcache.report()) do
      if s.kind == "method" and s.collected == 12 and s.objects == 0 then return end
    end
    error("report() has no method with 12 collected caches")
  end)

  it("is 0 for a cached function", function()
    local f = methodcache.cached(function(x) return x end)
    f(1)
    assert.are.equal(0, methodcache.info(f).collected)
  end)
end)

describe("the block a method shares with its caches", function()
  each_mode("outlives the method when the method is collected before its objects", function()
    local objs = {}
    local gone = setmetatable({}, { __mode = "v" })
    do
      local C = class({ maxsize = 4, total = 10 })
      for i = 1, 20 do objs[i] = C.new(); objs[i]:m(i) end
      gone[1] = C.m
      C.m = nil
    end
    full_gc()  -- the method goes; the objects keep their caches
    assert.is_nil(gone[1], "the method was not collected")
    for i = 1, 20 do objs[i] = nil end
    full_gc()  -- now the caches: their __gc must not reach a freed block
    assert.is_nil(next(objs))
  end)

  each_mode("outlives the caches when the objects are collected before the method", function()
    local C = class({ maxsize = 4, total = 10 })
    for _ = 1, 20 do C.new():m(1) end
    full_gc()
    assert.are.equal(20, methodcache.info(C.m).collected)
    C.new():m(2)
    assert.are.equal(1, methodcache.info(C.m).size)
  end)

  it("is freed in any order when the state closes (a child lua5.4, freed memory or a leak "
     .. "would show under valgrind)", function()
    local script = [[
      local methodcache = require("methodcache")
      local C = {}; C.__index = C
      C.m = methodcache.method(function(_, k) return { k } end, { maxsize = 4, total = 10 })
      KEEP = {}
      for i = 1, 30 do KEEP[i] = setmetatable({}, C); KEEP[i]:m(i); KEEP[i]:m(-i) end
      METHOD = C.m
      C.m = nil
      -- a finalizer at close uses the method on a live object and a new one
      setmetatable({}, { __gc = function()
        METHOD(KEEP[1], 99); METHOD(setmetatable({}, C), 1)
      end })
      GUARD = setmetatable({}, { __gc = function() METHOD(KEEP[2], 7) end })
      print("ok")
      os.exit(0, true)
    ]]
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write(script)
    f:close()
    local wrapper = (H.have("valgrind") and not H.under_valgrind) and H.VALGRIND or nil
    local ok, how, code, out = H.run(H.lua_command(path, {}, wrapper))
    os.remove(path)
    assert(ok, ("%s %s\n%s"):format(how, code, out))
    assert.matches("ok", out, 1, true)
  end)
end)

-- Random churn: a pool of 50 objects, each call on one of them; an object
-- is replaced by a new one at a quarter of the calls, so that 'nobj'
-- objects live and die; collections full and stepped come at random
-- points, on top of the eager collector's own.  After every call the
-- budget is checked (never above total, the order and the caches agree);
-- every 500 calls, with the collector stopped, info(f).size must be the
-- entries of the objects still alive, the pool and the dropped ones the
-- collector has not found dead yet.
local function churn(nobj, mode, seed, weighted, store)
  local r = H.rng(seed)
  local total = weighted and 200 or 64
  local notices, wrong = 0, 0
  local C = class({ maxsize = 6, total = total, store = store,
                    getsizeof = weighted and function(v) return v % 7 end or nil,
                    on_evict = function(k, v, reason)
                      notices = notices + 1
                      if v ~= k * 10 or reason ~= "size" then wrong = wrong + 1 end
                    end })
  local pool, dropped = {}, setmetatable({}, { __mode = "k" })
  local made, calls = 0, 0
  local function fail(fmt, ...)
    error(("%s store %s seed %d call %d: " .. fmt):format(mode, store or "weak", seed, calls,
          ...), 2)
  end
  while made < nobj do
    local i = r(50)
    if pool[i] == nil or r(4) == 1 then
      if pool[i] then dropped[pool[i]] = true end
      pool[i] = C.new()
      made = made + 1
    end
    local k = r(12)
    if pool[i]:m(k) ~= k * 10 then fail("a wrong result") end
    calls = calls + 1
    local ok, n, size = methodcache._budget(C.m)
    if not ok then fail("%s", n) end
    if size > total then fail("size %d above total %d", size, total) end
    local x = r(1000)
    if x == 1 then collectgarbage() elseif x <= 30 then collectgarbage("step") end
    if calls % 500 == 0 then
      collectgarbage("stop")
      local sum = 0
      for _, o in pairs(pool) do sum = sum + methodcache.info(C.m, o).currsize end
      for o in pairs(dropped) do sum = sum + methodcache.info(C.m, o).currsize end
      local inf = methodcache.info(C.m)
      collectgarbage("restart")
      if inf.size ~= sum or inf.currsize ~= sum then
        fail("size %d, currsize %d, the live objects' entries %d", inf.size, inf.currsize, sum)
      end
    end
  end
  if wrong > 0 then fail("%d of %d notices wrong", wrong, notices) end
  if notices < calls // 10 then fail("only %d notices", notices) end
  pool = nil -- luacheck: ignore
  full_gc()
  local inf = methodcache.info(C.m)
  if inf.size ~= 0 or inf.instances ~= 0 then fail("left %d entries", inf.size) end
  if inf.collected ~= made then fail("collected %d of %d", inf.collected, made) end
end

describe("a budget under random churn", function()
  each_mode("stays within total, exact, with 3,000 objects", function(mode)
    churn(3000, mode, 1)
    churn(3000, mode, 2, true)
  end)

  each_mode("stays within total, exact, with 3,000 objects that hold their caches (store "
            .. "object)", function(mode)
    churn(3000, mode, 5, false, "object")
    churn(3000, mode, 6, true, "object")
  end)

  each_mode("stays within total, exact, with 100,000 objects #slow", function(mode)
    churn(100000, mode, 3)
    churn(20000, mode, 4, true)
  end)

  each_mode("stays within total, exact, with 100,000 objects that hold their caches "
            .. "(store object) #slow", function(mode)
    churn(100000, mode, 7, false, "object")
  end)
end)

-- spec/support/finalizer_cases.lua's budget_evicting in a child process of
-- its own (a small heap, where the eager collector runs finalizers inside
-- most allocations), and under valgrind (#slow).
describe("finalizers calling a method with option total while it evicts", function()
  for _, mode in ipairs(MODES) do
    it("leave every result, notice and the bound right (" .. mode .. ")", function()
      local ok, how, code, out = H.run(H.lua_command("spec/support/run_case.lua",
        { "budget_evicting", mode, H.under_valgrind and 4 or 1 }))
      assert(ok, ("%s %s\n%s"):format(how, code, out))
      assert.matches("budget_evicting (" .. mode .. "): ", out, 1, true)
    end)
    local name = "leave every result, notice and the bound right (" .. mode
                 .. ", under valgrind) #slow"
    if H.under_valgrind or not H.have("valgrind") then
      pending(name .. ": under valgrind already, or no valgrind")
    else
      it(name, function()
        local ok, how, code, out = H.run(H.lua_command("spec/support/run_case.lua",
          { "budget_evicting", mode, 10 }, H.VALGRIND))
        assert(ok, ("%s %s\n%s"):format(how, code, out))
        assert.matches("budget_evicting (" .. mode .. "): ", out, 1, true)
      end)
    end
  end
end)
