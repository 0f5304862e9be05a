-- Specs for the option coalesce under a real cqueues event loop: with `{ coalesce = true }`
-- and nothing else, coroutines of a controller wait on a cqueues condition.
-- Contract: issue 10; README.md, "Coalescing". cqueues is a test dependency
-- (tools/deps.sh installs lua-cqueues): without it this file fails, it is never skipped.

local cqueues = require("cqueues")
local methodcache = require("methodcache")

local SLOW = 0.05 -- seconds the slow methods sleep
-- upper bounds on wall time (they tell a wake-up from the adapter's 1 s
-- poll) hold for a plain run; under valgrind (make valgrind sets
-- MC_VALGRIND) everything runs tens of times slower, so they only bound a
-- hang there, and the counts of calls and results carry the spec
local SCALE = os.getenv("MC_VALGRIND") and 40 or 1

-- Runs the functions as threads of a new controller until all are done; returns the
-- seconds it took. A thread's error fails the spec.
local function loop(fns)
  local cq = cqueues.new()
  for _, fn in ipairs(fns) do cq:wrap(fn) end
  local t0 = cqueues.monotime()
  assert(cq:loop(5))
  assert.is_true(cq:empty(), "the threads did not finish in 5 s")
  return cqueues.monotime() - t0
end

-- a class whose method fetch(x) sleeps SLOW seconds, then returns x * 2, nil, "ok"
local function slow_class()
  local C = { calls = 0 }
  C.__index = C
  C.fetch = methodcache.method(function(_, x)
    C.calls = C.calls + 1
    cqueues.sleep(SLOW)
    return x * 2, nil, "ok"
  end, { coalesce = true })
  return C
end

describe("a coalescing method under cqueues", function()
  it("runs once when 100 coroutines call it with the same key; all get every result", function()
    local C = slow_class()
    local o = setmetatable({}, C)
    local got, fns = {}, {}
    for i = 1, 100 do
      fns[i] = function() got[i] = table.pack(o:fetch(21)) end
    end
    local took = loop(fns)
    assert.are.equal(1, C.calls)
    for i = 1, 100 do
      assert.are.same(table.pack(42, nil, "ok"), got[i])
    end
    assert.is_true(took < SLOW * 5 * SCALE, ("took %.3f s"):format(took))
    local info = methodcache.info(C.fetch, o)
    assert.are.equal(100, info.misses)
    assert.are.equal(1, info.currsize)
  end)

  it("runs different keys at the same time: one computation per key", function()
    local C = slow_class()
    local o = setmetatable({}, C)
    local got, fns = {}, {}
    for i = 1, 100 do
      fns[i] = function() got[i] = o:fetch(i % 10) end
    end
    local took = loop(fns)
    assert.are.equal(10, C.calls)
    for i = 1, 100 do assert.are.equal((i % 10) * 2, got[i]) end
    assert.is_true(took < SLOW * 5 * SCALE, ("took %.3f s"):format(took))
  end)

  it("gives all 100 callers the owner's error, the same value, and stores nothing", function()
    local calls = 0
    local err = setmetatable({}, { __tostring = function() return "service unavailable" end })
    local fetch = methodcache.cached(function()
      calls = calls + 1
      cqueues.sleep(SLOW)
      error(err)
    end, { coalesce = true })
    local results, fns = {}, {}
    for i = 1, 100 do
      fns[i] = function() results[i] = table.pack(pcall(fetch, "/down")) end
    end
    loop(fns)
    assert.are.equal(1, calls)
    for i = 1, 100 do
      assert.is_false(results[i][1])
      assert.is_true(rawequal(err, results[i][2]))
    end
    assert.are.equal(0, methodcache.info(fetch).currsize)
    loop({ function() pcall(fetch, "/down") end }) -- the next call computes again
    assert.are.equal(2, calls)
  end)

  -- The owner below is a plain coroutine inside a controller's thread, parked by a plain
  -- yield of the method: a computation that its coroutine's resumer then closes or drops.
  -- In the controller's own threads the method sleeps. (A controller runs the threads it
  -- has not started yet last first: the waiters sleep a little before they call.)
  local function parking_class()
    local C = { calls = 0 }
    C.__index = C
    C.fetch = methodcache.method(function(_, x)
      C.calls = C.calls + 1
      if select(2, cqueues.running()) then
        cqueues.sleep(SLOW)
      else
        coroutine.yield("parked") -- to the plain resumer below
      end
      return x + 1
    end, { coalesce = true })
    return C
  end

  -- The first thread parks an owner of o:fetch(x) (held in `held[1]`), waits while 19
  -- threads start waiting for it, then abandons it with abandon(held). Returns what the
  -- waiters got, the calls of the method and the seconds it all took.
  local function abandon_owner(x, abandon)
    local C = parking_class()
    local o = setmetatable({}, C)
    local got, fns = {}, {}
    fns[1] = function()
      local held = { coroutine.create(function() return o:fetch(x) end) }
      assert.are.same({ true, "parked" }, { coroutine.resume(held[1]) })
      cqueues.sleep(SLOW)
      abandon(held)
    end
    for i = 2, 20 do
      fns[i] = function() cqueues.sleep(SLOW / 5); got[i - 1] = o:fetch(x) end
    end
    local took = loop(fns)
    return got, C.calls, took
  end

  it("lets the waiters take over when the owner's coroutine is closed", function()
    local got, calls, took = abandon_owner(1, function(held)
      assert.is_true(coroutine.close(held[1]))
    end)
    assert.are.equal(2, calls) -- the owner's, then one waiter's for all
    for i = 1, 19 do assert.are.equal(2, got[i]) end
    assert.is_true(took < SLOW * 6 * SCALE, ("took %.3f s"):format(took))
  end)

  it("lets the waiters take over when the owner is never resumed and is collected", function()
    local watch = setmetatable({}, { __mode = "v" })
    local got, calls, took = abandon_owner(5, function(held)
      watch[1], held[1] = held[1], nil
      collectgarbage()
      collectgarbage()
      assert.is_nil(watch[1])
    end)
    assert.are.equal(2, calls)
    for i = 1, 19 do assert.are.equal(6, got[i]) end
    -- woken by the collection, not by the adapter's poll (1 s)
    assert.is_true(took < SLOW * 6 * SCALE, ("took %.3f s"):format(took))
  end)

  it("makes a plain coroutine in a controller's thread yield WAIT, not wait on cqueues", function()
    local C = slow_class()
    local o = setmetatable({}, C)
    local yielded, got, inner_got = {}, nil, nil
    loop({
      function() got = o:fetch(3) end,
      function()
        cqueues.sleep(SLOW / 5) -- the first thread computes
        local inner = coroutine.create(function() return o:fetch(3) end)
        repeat
          local _, v = coroutine.resume(inner)
          if coroutine.status(inner) == "dead" then
            inner_got = v
          else
            yielded[#yielded + 1] = v
            cqueues.sleep(SLOW / 5)
          end
        until inner_got
      end,
    })
    assert.is_true(#yielded >= 2)
    for _, v in ipairs(yielded) do assert.are.equal(methodcache.coalesce.WAIT, v) end
    assert.are.equal(6, got)
    assert.are.equal(6, inner_got)
    assert.are.equal(1, C.calls)
  end)
end)

describe("methodcache.cqueues", function()
  local adapter = require("methodcache.cqueues")

  it("wakes every waiter of a flight at notify, and only those", function()
    local flight, other = {}, {}
    local woke = {}
    loop({
      function() adapter.wait(flight); woke[#woke + 1] = "a" end,
      function() adapter.wait(flight); woke[#woke + 1] = "b" end,
      function() adapter.wait(other); woke[#woke + 1] = "other" end,
      function()
        cqueues.sleep(SLOW)
        adapter.notify(flight)
        cqueues.sleep(SLOW)
        assert.are.same({ "a", "b" }, woke)
        adapter.notify(other)
      end,
    })
    assert.are.same({ "a", "b", "other" }, woke)
  end)

  it("returns from wait after poll seconds when nothing notifies", function()
    local saved = adapter.poll
    adapter.poll = SLOW
    local took = loop({ function() adapter.wait({}) end })
    adapter.poll = saved
    assert.is_true(took >= SLOW * 0.9 and took < SLOW * 10 * SCALE, ("took %.3f s"):format(took))
  end)

  it("is preloaded by mchost with the rest of methodcache", function()
    local p = assert(io.popen(
      "./mchost -e \"print(package.preload['methodcache.cqueues'] ~= nil)\""))
    local out = p:read("a")
    p:close()
    assert.are.equal("true\n", out)
  end)
end)
