-- Specs for the option coalesce with plain coroutines: the fallback, where a waiting
-- coroutine yields methodcache.coalesce.WAIT and the flight to its resumer.
-- Contract: issue 10; README.md, "Coalescing". The cqueues specs are in
-- spec/coalesce_cqueues_spec.lua.

local methodcache = require("methodcache")
local WAIT = methodcache.coalesce.WAIT

-- Runs each function as a coroutine, round-robin, until all are dead. Returns, for each,
-- its results packed (or { err = error }) and what it yielded, in order.
local function run(fns, on_round)
  local tasks = {}
  for i, fn in ipairs(fns) do
    tasks[i] = { co = coroutine.create(fn), yields = {} }
  end
  local live, rounds = #tasks, 0
  while live > 0 do
    rounds = rounds + 1
    assert(rounds < 1000, "the tasks never end")
    for _, t in ipairs(tasks) do
      if coroutine.status(t.co) == "suspended" then
        local r = table.pack(coroutine.resume(t.co))
        if coroutine.status(t.co) == "dead" then
          live = live - 1
          t.result = r[1] and table.pack(table.unpack(r, 2, r.n)) or { err = r[2] }
        else
          t.yields[#t.yields + 1] = r[2]
          t.flight = r[2] == WAIT and r[3] or t.flight
        end
      end
    end
    if on_round then on_round(rounds, tasks) end
  end
  return tasks
end

local function pack(...) return table.pack(...) end

-- a class whose method m(x) counts its calls, yields once ("work"), then returns x * 2
-- and two more values
local function slow_class(opts)
  local C = { calls = 0 }
  C.__index = C
  C.m = methodcache.method(function(_, x)
    C.calls = C.calls + 1
    coroutine.yield("work")
    return x * 2, nil, "third"
  end, opts or { coalesce = true })
  return C
end

describe("a coalescing method called by plain coroutines", function()
  it("runs once for many coroutines that ask for the same key together", function()
    local C = slow_class()
    local o = setmetatable({}, C)
    local fns = {}
    for i = 1, 20 do fns[i] = function() return o:m(21) end end
    local tasks = run(fns)
    assert.are.equal(1, C.calls)
    for i = 1, 20 do
      assert.are.same(pack(42, nil, "third"), tasks[i].result)
    end
    local info = methodcache.info(C.m, o)
    assert.are.equal(20, info.misses)
    assert.are.equal(1, info.currsize)
    assert.are.same(pack(42, nil, "third"), pack(o:m(21))) -- and a hit after
    assert.are.equal(1, methodcache.info(C.m, o).hits)
  end)

  it("gives every waiter the same values, tables included, with their count", function()
    local made = 0
    local f = methodcache.cached(function()
      made = made + 1
      coroutine.yield()
      return {}, nil, nil
    end, { coalesce = true })
    local tasks = run({ f, f, f })
    assert.are.equal(1, made)
    assert.are.equal(3, tasks[2].result.n)
    assert.is_true(rawequal(tasks[1].result[1], tasks[2].result[1]))
    assert.is_true(rawequal(tasks[1].result[1], tasks[3].result[1]))
  end)

  it("makes a waiter yield methodcache.coalesce.WAIT and the flight, the same for all", function()
    local C = slow_class()
    local o = setmetatable({}, C)
    local tasks = run({ function() return o:m(1) end, function() return o:m(1) end,
                        function() return o:m(1) end })
    assert.are.same({ "work" }, tasks[1].yields)
    assert.are.equal(WAIT, tasks[2].yields[1])
    assert.are.equal("table", type(tasks[2].flight))
    assert.is_true(rawequal(tasks[2].flight, tasks[3].flight))
    assert.are.equal("methodcache.coalesce.WAIT", tostring(WAIT))
  end)

  it("keeps a waiter waiting, however often it is resumed, until the owner returns", function()
    local C = slow_class()
    local o = setmetatable({}, C)
    local owner = coroutine.create(function() return o:m(5) end)
    local waiter = coroutine.create(function() return o:m(5) end)
    assert.are.same({ true, "work" }, { coroutine.resume(owner) })
    for _ = 1, 5 do
      local ok, what = coroutine.resume(waiter, "ignored")
      assert.is_true(ok)
      assert.are.equal(WAIT, what)
    end
    assert.are.same({ true, 10, nil, "third" }, { coroutine.resume(owner) })
    assert.are.same({ true, 10, nil, "third" }, { coroutine.resume(waiter) })
    assert.are.equal(1, C.calls)
  end)

  it("gives every waiter the owner's error, the same value, and stores nothing", function()
    local err = { reason = "backend down" }
    local calls = 0
    local f = methodcache.cached(function()
      calls = calls + 1
      coroutine.yield()
      error(err)
    end, { coalesce = true })
    local tasks = run({ function() return f(1) end, function() return f(1) end,
                        function() return f(1) end })
    assert.are.equal(1, calls)
    for i = 1, 3 do
      assert.is_true(rawequal(err, tasks[i].result.err))
    end
    assert.are.equal(0, methodcache.info(f).currsize)
    run({ function() return pcall(f, 1) end }) -- the next call computes again
    assert.are.equal(2, calls)
  end)

  it("raises a string error in the waiters unchanged, with the owner's position", function()
    local line
    local f = methodcache.cached(function()
      coroutine.yield()
      line = debug.getinfo(1, "l").currentline; error("late failure")
    end, { coalesce = true })
    local tasks = run({ f, f })
    local want = ("spec/coalesce_spec.lua:%d: late failure"):format(line)
    assert.are.equal(want, tasks[1].result.err)
    assert.are.equal(want, tasks[2].result.err)
  end)

  it("lets a waiter catch the owner's error with pcall", function()
    local f = methodcache.cached(function() coroutine.yield(); error("no") end,
                                 { coalesce = true })
    local tasks = run({ function() return pcall(f) end, function() return pcall(f) end })
    assert.is_false(tasks[2].result[1])
    assert.matches("no$", tasks[2].result[2])
  end)

  it("lets the waiters take over when the owner is closed: one of them computes", function()
    local C = slow_class()
    local o = setmetatable({}, C)
    local owner = coroutine.create(function() return o:m(3) end)
    coroutine.resume(owner)
    local tasks = run({ function() return o:m(3) end, function() return o:m(3) end },
      function(round)
        if round == 1 then assert.is_true(coroutine.close(owner)) end
      end)
    assert.are.equal(2, C.calls)
    assert.are.same(pack(6, nil, "third"), tasks[1].result)
    assert.are.same(pack(6, nil, "third"), tasks[2].result)
    assert.are.same({ WAIT, "work" }, tasks[1].yields) -- the first waiter took over
    assert.are.same({ WAIT, WAIT }, tasks[2].yields)    -- and the second waited for it
    assert.are.equal(1, methodcache.info(C.m, o).currsize)
  end)

  -- it(name, fn), once in each GC mode
  local function it_in_both_gc_modes(name, fn)
    for _, mode in ipairs({ "incremental", "generational" }) do
      it(("%s (%s)"):format(name, mode), function()
        collectgarbage(mode)
        local ok, err = pcall(fn)
        collectgarbage("incremental")
        assert(ok, err)
      end)
    end
  end

  it_in_both_gc_modes("lets the waiters take over when the owner is collected unresumed",
                      function()
    local C = slow_class()
    local o = setmetatable({}, C)
    local watch = setmetatable({}, { __mode = "v" })
    do
      local owner = coroutine.create(function() return o:m(4) end)
      coroutine.resume(owner)
      watch[1] = owner
    end
    local tasks = run({ function() return o:m(4) end }, function(round)
      if round == 2 then
        collectgarbage()
        collectgarbage()
        assert.is_nil(watch[1])
      end
    end)
    assert.are.equal(2, C.calls)
    assert.are.same(pack(8, nil, "third"), tasks[1].result)
    assert.are.same({ WAIT, WAIT, "work" }, tasks[1].yields)
  end)

  it_in_both_gc_modes("keeps no abandoned owner alive: once collected, the next call computes",
                      function()
    local C = slow_class()
    local o = setmetatable({}, C)
    local watch = setmetatable({}, { __mode = "v" })
    do
      local owner = coroutine.create(function() return o:m(7) end)
      coroutine.resume(owner)
      watch[1] = owner
    end
    collectgarbage()
    collectgarbage()
    assert.is_nil(watch[1])
    local tasks = run({ function() return o:m(7) end })
    assert.are.same({ "work" }, tasks[1].yields) -- it computed, it did not wait
    assert.are.equal(2, C.calls)
  end)

  it("treats an owner that died without its call being unwound as abandoned", function()
    local testing = require("methodcache.testing")
    local calls = 0
    local f = methodcache.cached(function(x)
      calls = calls + 1
      coroutine.yield("work")
      if calls == 1 then
        collectgarbage("stop") -- no finalizer may allocate in between
        testing.failafter(1)   -- the owner's copy of the results for the waiter fails
      end
      return x * 2
    end, { coalesce = true })
    local owner = coroutine.create(f)
    coroutine.resume(owner, 9)
    local waiter = coroutine.create(f)
    assert.are.equal(WAIT, select(2, coroutine.resume(waiter, 9)))
    -- a memory error once the method returned, outside its protected call: under
    -- coroutine.resume nothing unwinds the owner's call
    local ok, err = coroutine.resume(owner)
    testing.failafter(nil)
    collectgarbage("restart")
    assert.is_false(ok)
    assert.are.equal("not enough memory", err)
    assert.are.equal("dead", coroutine.status(owner))
    assert.are.same({ true, "work" }, { coroutine.resume(waiter) }) -- took over
    assert.are.same({ true, 18 }, { coroutine.resume(waiter) })
    assert.are.equal(2, calls)
  end)

  it("never waits in the main thread: it computes as without coalesce", function()
    local calls = 0
    local f = methodcache.cached(function(x)
      calls = calls + 1
      if coroutine.isyieldable() then coroutine.yield() end
      return x + 1
    end, { coalesce = true })
    local owner = coroutine.create(function() return f(1) end)
    coroutine.resume(owner)
    assert.are.equal(2, f(1)) -- the main thread, while the owner is suspended
    assert.are.equal(2, calls)
    assert.are.same({ true, 2 }, { coroutine.resume(owner) })
  end)

  it("never waits where the coroutine cannot yield (a table.sort comparator)", function()
    local C = slow_class()
    local o = setmetatable({}, C)
    local owner = coroutine.create(function() return o:m(2) end)
    coroutine.resume(owner)
    local plain = methodcache.method(function(_, x) return x end, { coalesce = true })
    local co = coroutine.create(function()
      local got
      table.sort({ 2, 1 }, function(a, b)
        got = plain(o, 7)
        return a < b
      end)
      return got
    end)
    assert.are.same({ true, 7 }, { coroutine.resume(co) })
  end)

  it("computes a recursive call of its own key instead of waiting for itself", function()
    local depth = 0
    local f
    f = methodcache.cached(function(x)
      depth = depth + 1
      if depth == 1 then
        coroutine.yield()
        return f(x) + 1
      end
      return 10
    end, { coalesce = true })
    local tasks = run({ function() return f(1) end })
    assert.are.same(pack(11), tasks[1].result)
  end)

  it("does not deadlock when two owners wait for each other's keys", function()
    local calls = { a = 0, b = 0 }
    local f
    f = methodcache.cached(function(k)
      calls[k] = calls[k] + 1
      local first = calls[k] == 1
      coroutine.yield()
      if not first then return k:upper() end
      if k == "a" then return "A" .. f("b") end
      return "B" .. f("a")
    end, { coalesce = true })
    local tasks = run({ function() return f("a") end, function() return f("b") end })
    -- "a" waits for "b", whose owner then asks for "a": it computes "a" itself (without
    -- coalescing, a sequential f("a") would make the same calls)
    assert.are.same(pack("ABA"), tasks[1].result)
    assert.are.same(pack("BA"), tasks[2].result)
    assert.are.same({ a = 2, b = 1 }, calls)
  end)

  it("coalesces per object: two objects compute the same arguments each", function()
    local C = slow_class()
    local a, b = setmetatable({}, C), setmetatable({}, C)
    run({ function() return a:m(1) end, function() return b:m(1) end,
          function() return a:m(1) end, function() return b:m(1) end })
    assert.are.equal(2, C.calls)
  end)

  it("keys object arguments by identity and value arguments as the cache does", function()
    local C = slow_class()
    C.m = methodcache.method(function(_, ...)
      C.calls = C.calls + 1
      coroutine.yield()
      return select("#", ...)
    end, { coalesce = true })
    local o, t1, t2 = setmetatable({}, C), {}, {}
    run({ function() return o:m(t1) end, function() return o:m(t1) end,
          function() return o:m(t2) end })
    assert.are.equal(2, C.calls)
    C.calls = 0
    run({ function() return o:m(1, "x") end, function() return o:m(1.0, "x") end,
          function() return o:m(1, "x", nil) end })
    assert.are.equal(2, C.calls) -- 1 and 1.0 are one key; a third argument is another
  end)

  it("keeps 1 and 1.0 apart with typed = true", function()
    local C = slow_class({ coalesce = true, typed = true })
    local o = setmetatable({}, C)
    run({ function() return o:m(1) end, function() return o:m(1.0) end })
    assert.are.equal(2, C.calls)
  end)

  it("coalesces keys longer than the key buffer", function()
    local calls = 0
    local f = methodcache.cached(function(s)
      calls = calls + 1
      coroutine.yield()
      return #s
    end, { coalesce = true })
    local long = string.rep("k", 1000)
    local tasks = run({ function() return f(long) end, function() return f(long) end,
                        function() return f(long .. "!") end })
    assert.are.equal(2, calls)
    assert.are.same(pack(1000), tasks[2].result)
    assert.are.same(pack(1001), tasks[3].result)
  end)

  it("does not coalesce a NaN argument: the call is not cacheable", function()
    local calls = 0
    local f = methodcache.cached(function() calls = calls + 1; coroutine.yield() end,
                                 { coalesce = true })
    run({ function() return f(0 / 0) end, function() return f(0 / 0) end })
    assert.are.equal(2, calls)
  end)

  it("looks the cache up again when the owner is abandoned after another call stored", function()
    local calls = 0
    local f = methodcache.cached(function(x)
      calls = calls + 1
      if coroutine.isyieldable() then coroutine.yield() end
      return x * 2
    end, { coalesce = true })
    local owner = coroutine.create(function() return f(6) end)
    coroutine.resume(owner)
    local waiter = coroutine.create(function() return f(6) end)
    assert.are.equal(WAIT, select(2, coroutine.resume(waiter)))
    assert.are.equal(12, f(6)) -- the main thread does not wait: it computes and stores
    coroutine.close(owner)
    assert.are.same({ true, 12 }, { coroutine.resume(waiter) }) -- a hit, no computing
    assert.are.equal(2, calls)
  end)

  it("gives the waiters the results even when the store raises in the owner", function()
    local calls = 0
    local f = methodcache.cached(function()
      calls = calls + 1
      coroutine.yield()
      return "v"
    end, { coalesce = true, getsizeof = function() error("no size") end })
    local tasks = run({ f, f })
    assert.matches("no size$", tasks[1].result.err)
    assert.are.same(pack("v"), tasks[2].result)
    assert.are.equal(1, calls)
  end)

  it("calls the wait and notify hooks that replace the defaults", function()
    local C = slow_class()
    local o = setmetatable({}, C)
    local saved_wait, saved_notify = methodcache.coalesce.wait, methodcache.coalesce.notify
    local waited, notified = {}, {}
    methodcache.coalesce.wait = function(flight)
      waited[#waited + 1] = flight
      coroutine.yield("my scheduler")
    end
    methodcache.coalesce.notify = function(flight) notified[#notified + 1] = flight end
    local ok, err = pcall(run, { function() return o:m(1) end, function() return o:m(1) end })
    methodcache.coalesce.wait, methodcache.coalesce.notify = saved_wait, saved_notify
    assert(ok, err)
    local tasks = err
    assert.are.same({ "my scheduler" }, tasks[2].yields)
    assert.are.equal(1, #waited)
    assert.are.same({ waited[1] }, notified)
  end)

  it("does not change a method without coalesce: both coroutines compute", function()
    local C = slow_class({})
    local o = setmetatable({}, C)
    run({ function() return o:m(1) end, function() return o:m(1) end })
    assert.are.equal(2, C.calls)
  end)
end)

describe("the option coalesce", function()
  local function err(f, ...)
    local ok, msg = pcall(f, ...)
    assert.is_false(ok)
    return msg
  end

  it("must be a boolean", function()
    assert.are.equal(
      "bad argument #2 to 'method' (option 'coalesce' must be a boolean, got number)",
      err(methodcache.method, print, { coalesce = 1 }))
    assert.are.equal(
      "bad argument #2 to 'cached' (option 'coalesce' must be a boolean, got string)",
      err(methodcache.cached, print, { coalesce = "yes" }))
  end)

  it("is an option of method and cached only, not of caches", function()
    assert.are.equal("bad argument #2 to 'lru' (unknown option 'coalesce')",
      err(methodcache.lru, 4, { coalesce = true }))
  end)

  it("may be false: the method does not coalesce", function()
    local C = slow_class({ coalesce = false })
    local o = setmetatable({}, C)
    run({ function() return o:m(1) end, function() return o:m(1) end })
    assert.are.equal(2, C.calls)
  end)
end)
