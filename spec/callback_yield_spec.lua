-- Specs for option callbacks that try to yield: they may not (README.md, "Coroutines"),
-- and the attempt is an error of the operation that called them, with the cache as that
-- step of the operation left it. Contract: issue 10.

local methodcache = require("methodcache")

local ACROSS = "attempt to yield across a C-call boundary"

-- Runs fn in a new coroutine; returns what resume returned.
local function in_coroutine(fn, ...)
  return coroutine.resume(coroutine.create(fn), ...)
end

local function yielding(value)
  return function() coroutine.yield("from a callback"); return value end
end

describe("an option callback that yields", function()
  it("makes getsizeof's operation fail before anything is stored", function()
    local c = methodcache.lru(4, { getsizeof = yielding(1) })
    assert.are.same({ false, ACROSS }, { in_coroutine(c.set, c, "k", "v") })
    assert.are.equal(0, #c)
  end)

  it("makes a cached call fail after the method ran, storing nothing", function()
    local calls = 0
    local f = methodcache.cached(function(x) calls = calls + 1; return x end,
                                 { getsizeof = yielding(1) })
    assert.are.same({ false, ACROSS }, { in_coroutine(f, 1) })
    assert.are.equal(1, calls)
    assert.are.equal(0, methodcache.info(f).currsize)
  end)

  it("makes a coalescing call fail the same way, for the owner and its waiters", function()
    local calls = 0
    local f = methodcache.cached(function(x) calls = calls + 1; coroutine.yield(); return x end,
                                 { getsizeof = yielding(1), coalesce = true })
    local owner, waiter = coroutine.create(f), coroutine.create(f)
    coroutine.resume(owner, 1)
    assert.are.equal(methodcache.coalesce.WAIT, select(2, coroutine.resume(waiter, 1)))
    -- the waiters get the results before the owner stores them; the store is the
    -- owner's alone
    assert.are.same({ false, ACROSS }, { coroutine.resume(owner) })
    assert.are.same({ true, 1 }, { coroutine.resume(waiter) })
    assert.are.equal(1, calls)
    assert.are.equal(0, methodcache.info(f).currsize)
  end)

  it("makes timer's operation fail before it looks anything up", function()
    local t = methodcache.ttl(4, 10, { timer = yielding(0) })
    assert.are.same({ false, ACROSS }, { in_coroutine(t.get, t, "k") })
    local s = t:stats()
    assert.are.equal(0, s.hits + s.misses)
  end)

  it("makes ttu's operation fail before anything is stored", function()
    local c = methodcache.tlru(4, yielding(100), { timer = function() return 0 end })
    assert.are.same({ false, ACROSS }, { in_coroutine(c.set, c, "k", "v") })
    assert.are.equal(0, #c)
  end)

  it("makes on_evict's operation fail after it is done: the eviction happened", function()
    local c = methodcache.lru(1, { on_evict = yielding() })
    c:set("a", 1)
    assert.are.same({ false, ACROSS }, { in_coroutine(c.set, c, "b", 2) })
    assert.is_nil(c:peek("a"))
    assert.are.equal(2, c:peek("b"))
    assert.are.equal(1, c:stats().evictions)
  end)

  it("raises 'attempt to yield from outside a coroutine' in the main thread", function()
    local c = methodcache.lru(4, { getsizeof = yielding(1) })
    assert.are.same({ false, "attempt to yield from outside a coroutine" },
                    { pcall(c.set, c, "k", "v") })
    assert.are.equal(0, #c)
  end)
end)
