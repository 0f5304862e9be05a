-- Per-entry TTL: c:set(k, v, ttl) on ttl and tlru caches (as resty.lrucache's
-- set(key, value, ttl)), and the error it is on every other policy.
--
-- TTL keeps the entries that expire after the cache's ttl in a sorted list and
-- those with a ttl of their own in a heap (csrc/mc_cache.c): the specs check
-- both through what the cache does, core._check (mc_cache_check) after each
-- step, and a seeded differential run against spec/support/models.lua.
local methodcache = require("methodcache")
local H = require("spec.support.helpers")
local core = require("methodcache.core")
local models = require("spec.support.models")

local fakeclock = H.fakeclock

local function recorder()
  local log = {}
  return log, function(k, v, r) log[#log + 1] = { k, v, r } end
end

local function sound(c)
  local ok, why = core._check(c)
  assert(ok, why)
end

-- the message without the position luaL_error adds
local function errmsg(f, ...)
  return (H.errmsg(f, ...):gsub("^[^:\n]+:%d+: ", ""))
end

local function ttu_plus(d)
  return function(_, _, now) return now + d end
end

describe("set with a ttl on a ttl cache", function()
  it("makes that entry expire ttl seconds after the set, by the cache's timer", function()
    local clock = fakeclock(100)
    local c = methodcache.ttl(10, 5, { timer = clock.timer })
    assert.is_true(c:set("short", 1, 2))
    assert.is_true(c:set("long", 2, 20))
    assert.is_true(c:set("plain", 3))
    sound(c)
    clock.now = 101.9
    assert.are.same({ 1, 2, 3 }, { c:get("short"), c:get("long"), c:get("plain") })
    clock.now = 102
    assert.is_nil((c:get("short")))
    assert.are.equal(2, c:get("long"))
    clock.now = 105
    assert.is_nil((c:get("plain")))
    assert.are.equal(2, c:get("long"))
    clock.now = 119.5
    assert.are.equal(2, c:get("long"))
    clock.now = 120
    assert.is_nil((c:get("long")))
    assert.are.equal(3, c:expire())
    sound(c)
    assert.are.equal(0, #c)
  end)

  it("drops expired entries in expiry order, whether their ttl is their own or the cache's",
     function()
    local clock = fakeclock(0)
    local log, on_evict = recorder()
    local c = methodcache.ttl(10, 5, { timer = clock.timer, on_evict = on_evict })
    c:set("a", 1)          -- expires at 5
    c:set("b", 2, 1.5)     -- 1.5
    c:set("c", 3, 7.25)    -- 7.25
    clock.now = 1
    c:set("d", 4)          -- 6
    c:set("e", 5, 3)       -- 4
    c:set("f", 6, 0.25)    -- 1.25
    sound(c)
    clock.now = 10
    assert.are.equal(6, c:expire())
    assert.are.same({ { "f", 6, "expired" }, { "b", 2, "expired" }, { "e", 5, "expired" },
                      { "a", 1, "expired" }, { "d", 4, "expired" }, { "c", 3, "expired" } }, log)
    assert.are.equal(6, c:stats().expirations)
    sound(c)
  end)

  it("gives the entry the cache's ttl again when the key is set again without one", function()
    local clock = fakeclock(0)
    local c = methodcache.ttl(4, 5, { timer = clock.timer })
    c:set("k", 1, 100)
    clock.now = 1
    c:set("k", 2)          -- now expires at 6
    sound(c)
    clock.now = 5.5
    assert.are.equal(2, c:get("k"))
    clock.now = 6
    assert.is_nil((c:get("k")))
    assert.are.equal(1, c:expire())
    sound(c)
  end)

  it("replaces an entry's own ttl when the key is set again with another", function()
    local clock = fakeclock(0)
    local c = methodcache.ttl(4, 5, { timer = clock.timer })
    c:set("k", 1)
    c:set("k", 2, 1)       -- from the list into the heap
    sound(c)
    c:set("k", 3, 30)      -- later in the heap
    sound(c)
    c:set("k", 4, 0.5)     -- earlier in the heap
    sound(c)
    clock.now = 0.4
    assert.are.equal(4, c:get("k"))
    clock.now = 0.5
    assert.is_nil((c:get("k")))
    assert.are.equal(1, c:expire())
    assert.are.equal(0, #c)
    sound(c)
  end)

  it("may outlive the cache's ttl, and eviction for size still goes by recency", function()
    local clock = fakeclock(0)
    local log, on_evict = recorder()
    local c = methodcache.ttl(2, 1, { timer = clock.timer, on_evict = on_evict })
    c:set("a", 1, 50)
    c:set("b", 2)
    c:get("a")             -- b is now the least recently used
    c:set("c", 3, 50)
    assert.are.same({ { "b", 2, "size" } }, log)
    clock.now = 10
    assert.are.same({ 1, 3 }, { c:get("a"), c:get("c") })
    c:set("d", 4, 50)      -- a, read before c, is the least recently used
    assert.are.same({ "a", 1, "size" }, log[2])
    sound(c)
  end)

  it("keeps the heap sound through delete, pop and eviction of entries in it", function()
    local clock = fakeclock(0)
    local c = methodcache.ttl(5, 10, { timer = clock.timer })
    for i = 1, 5 do c:set(i, i, 10 - i) end
    sound(c)
    assert.is_true(c:delete(3))
    sound(c)
    assert.are.equal(1, c:pop(1))
    sound(c)
    for i = 6, 9 do c:set(i, i, i) end  -- evicts 2 and 4, the least recently used
    sound(c)
    assert.are.equal(5, #c)
    assert.is_nil(c:peek(2))
    clock.now = 6.5                      -- 5 (at 5) and 6 (at 6) have expired
    assert.are.equal(2, c:expire())
    assert.are.same({ 7, 8, 9 }, { c:get(7), c:get(8), c:get(9) })
    sound(c)
    c:clear()
    sound(c)
    c:set("x", 1, 1)
    sound(c)
    assert.are.equal(1, c:get("x"))
  end)

  it("accepts math.huge, an entry that never expires", function()
    local clock = fakeclock(0)
    local c = methodcache.ttl(4, 1, { timer = clock.timer })
    c:set("k", 1, math.huge)
    clock.now = 1e300
    assert.are.equal(1, c:get("k"))
    assert.are.equal(0, c:expire())
  end)

  it("treats a nil ttl as none: the cache's ttl applies", function()
    local clock = fakeclock(0)
    local c = methodcache.ttl(4, 1, { timer = clock.timer })
    assert.is_true(c:set("k", 1, nil))
    clock.now = 1
    assert.is_nil((c:get("k")))
  end)

  it("calls the timer once per set, as a set without ttl does", function()
    local calls = 0
    local c = methodcache.ttl(4, 1, { timer = function() calls = calls + 1; return 0 end })
    c:set("k", 1, 3)
    assert.are.equal(1, calls)
  end)
end)

describe("set with a ttl on a tlru cache", function()
  it("overrides ttu for that entry, and ttu is not called", function()
    local clock = fakeclock(0)
    local calls = 0
    local c = methodcache.tlru(4, function(_, _, now)
      calls = calls + 1
      return now + 100
    end, { timer = clock.timer })
    c:set("own", 1, 2)
    assert.are.equal(0, calls)
    c:set("ttu", 2)
    assert.are.equal(1, calls)
    sound(c)
    clock.now = 2
    assert.is_nil((c:get("own")))
    assert.are.equal(2, c:get("ttu"))
    c:set("ttu", 3, 1)     -- the key set again with a ttl (this set dropped "own")
    assert.are.equal(1, calls)
    clock.now = 3
    assert.is_nil((c:get("ttu")))
    assert.are.equal(1, c:expire())
    sound(c)
  end)

  it("stores an entry whose ttl outlives what ttu would reject", function()
    local clock = fakeclock(0)
    local c = methodcache.tlru(4, ttu_plus(-1), { timer = clock.timer })
    assert.is_false(c:set("k", 1))          -- ttu says it is already expired
    assert.is_true(c:set("k", 1, 5))
    assert.are.equal(1, c:get("k"))
  end)
end)

describe("set with a ttl", function()
  local untimed = {
    { "lru", function() return methodcache.lru(4) end },
    { "lfu", function() return methodcache.lfu(4) end },
    { "fifo", function() return methodcache.fifo(4) end },
    { "rr", function() return methodcache.rr(4) end },
    { "unbounded", function() return methodcache.unbounded() end },
  }
  for _, case in ipairs(untimed) do
    local name, make = case[1], case[2]
    it("is an error on a " .. name .. " cache, which has no time, and stores nothing", function()
      local c = make()
      assert.are.equal(("bad argument #3 to 'set' (a ttl needs policy 'ttl' or 'tlru', "
                        .. "this cache's is '%s')"):format(name), errmsg(c.set, c, "k", 1, 5))
      assert.are.equal(0, #c)
      assert.is_true(c:set("k", 1, nil))    -- nil is no ttl
      assert.are.equal(1, c:get("k"))
    end)
  end

  for _, case in ipairs({
    { "ttl", function() return methodcache.ttl(4, 5) end },
    { "tlru", function() return methodcache.tlru(4, ttu_plus(5)) end },
  }) do
    local name, make = case[1], case[2]
    for _, b in ipairs({ { "0", 0, "got 0" }, { "-1", -1, "got -1" }, { "NaN", 0 / 0, "got nan" },
                         { "-inf", -math.huge, "got -inf" },
                         { "a numeric string", "5", "got string" },
                         { "a boolean", true, "got boolean" }, { "a table", {}, "got table" } }) do
      it(("on a %s cache rejects the ttl %s, saying what was given"):format(name, b[1]), function()
        local c = make()
        assert.are.equal("bad argument #3 to 'set' (ttl must be a positive number of seconds, "
                         .. b[3] .. ")", errmsg(c.set, c, "k", 1, b[2]))
        assert.are.equal(0, #c)
      end)
    end
  end
end)

-- A seeded random run against the model, core._check after every operation.
describe("per-entry ttl against the model", function()
  local function show(x)
    if type(x) == "string" then return ("%q"):format(x) end
    return tostring(x)
  end

  local function run(policy, seed, nops, weighted)
    local rng = seed
    local function random(n)
      rng = (rng * 1103515245 + 12345) % 2147483648
      return rng % n + 1
    end
    local now, eps, ttu_delta = 0, 0, 1
    local got = {}
    local opts = {
      timer = function() return now end,
      on_evict = function(k, v, r) got[#got + 1] = { k, v, r } end,
      getsizeof = weighted and function(v) return v % 3 end or nil,
    }
    local c, m
    if policy == "ttl" then
      c = methodcache.ttl(6, 5, opts)
    else
      c = methodcache.tlru(6, function(_, _, t) return t + ttu_delta end, opts)
    end
    m = models.new({ policy = policy, maxsize = 6, ttl = 5, getsizeof = opts.getsizeof })
    local function fail(op, fmt, ...)
      error(("seed=%d policy=%s op#%d: " .. fmt):format(seed, policy, op, ...), 0)
    end
    local function same(op, a, b, what)
      if a ~= b then fail(op, "%s: got %s, want %s", what, show(a), show(b)) end
    end
    for op = 1, nops do
      got, m.notices = {}, {}
      local r, k = random(100), random(10)
      if r <= 40 then
        local v, ttl = random(1000), nil
        local expires
        if random(2) == 1 then
          eps = eps + 1
          ttl = ({ 0.5, 1, 2, 7, 12 })[random(5)] + eps * 2^-20
        end
        if policy == "tlru" then
          eps = eps + 1
          ttu_delta = ({ -1, 0.5, 3, 9 })[random(4)] + eps * 2^-20
          expires = now + ttu_delta
        end
        same(op, c:set(k, v, ttl), m:set(k, v, now, expires, nil, ttl), "set")
      elseif r <= 60 then
        local a1, a2 = c:get(k)
        local b1, b2 = m:get(k, now)
        same(op, a1, b1, "get")
        same(op, a2, b2, "get's stale value")
      elseif r <= 67 then
        local a1, a2 = c:peek(k)
        local b1, b2 = m:peek(k, now)
        same(op, a1, b1, "peek")
        same(op, a2, b2, "peek's stale value")
      elseif r <= 72 then
        same(op, c:has(k), m:has(k, now), "has")
      elseif r <= 78 then
        same(op, c:delete(k), m:delete(k, now), "delete")
      elseif r <= 82 then
        same(op, c:pop(k, "d"), m:pop(k, "d", now), "pop")
      elseif r <= 86 then
        same(op, c:expire(), m:expire(now), "expire()")
      elseif r <= 99 then
        now = now + ({ 0.25, 0.5, 1, 3 })[random(4)]
      else
        c:clear()
        m:clear(now)
      end
      local ok, why = core._check(c)
      if not ok then fail(op, "mc_cache_check: %s", why) end
      same(op, #got, #m.notices, "number of notices")
      for i, n in ipairs(got) do
        for j = 1, 3 do
          same(op, n[j], m.notices[i][j], ("notice %d field %d"):format(i, j))
        end
      end
      local s, ms = c:stats(), m:stats()
      for _, f in ipairs({ "hits", "misses", "evictions", "expirations", "currsize" }) do
        same(op, s[f], ms[f], "stats()." .. f)
      end
      same(op, #c, m.count, "#c")
    end
  end

  local seed = tonumber(os.getenv("METHODCACHE_SEED")) or 20261203
  for _, policy in ipairs({ "ttl", "tlru" }) do
    for _, weighted in ipairs({ false, true }) do
      it(("agrees on every result, notice and statistic (%s, %s, seed %d)")
           :format(policy, weighted and "weighted" or "unweighted", seed), function()
        run(policy, seed, 3000, weighted)
      end)
    end
  end
end)
