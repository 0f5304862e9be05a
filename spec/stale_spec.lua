-- Stale reads: local v, stale = c:get(k) gives nil and the value of an entry
-- that has expired but is still held (as resty.lrucache's get), so a caller can
-- serve it while it recomputes.  The contract (docs/API.md, "Stale reads"):
-- * get of an expired entry still held: nil, then its value; it counts as a
--   miss and does not refresh the entry; the entry stays until expire(), a set
--   (of any key), a delete or pop of its key, eviction or clear drops it;
-- * get of a key that is not held: one nil (get takes no default);
-- * peek: the same values as get, without counting;  has: false;
--   pairs: leaves it out;  #c and stats().currsize count it until it is dropped;
-- * the on_evict notice "expired" comes once, when it is dropped, however many
--   stale reads came before (clear drops expired entries without a notice).
local methodcache = require("methodcache")
local H = require("spec.support.helpers")

local fakeclock = H.fakeclock

local function recorder()
  local log = {}
  return log, function(k, v, r) log[#log + 1] = { k, v, r } end
end

local function pack(...) return { n = select("#", ...), ... } end

local function keys(c)
  local ks = {}
  for k in pairs(c) do ks[#ks + 1] = k end
  return ks
end

-- a ttl cache and a tlru cache whose entries live 5 seconds
local makers = {
  ttl = function(opts) return methodcache.ttl(4, 5, opts) end,
  tlru = function(opts)
    return methodcache.tlru(4, function(_, _, now) return now + 5 end, opts)
  end,
}

for _, policy in ipairs({ "ttl", "tlru" }) do
  local make = makers[policy]

  describe("get on a " .. policy .. " cache", function()
    it("gives nil and the stale value for an expired entry still held", function()
      local clock = fakeclock(0)
      local c = make({ timer = clock.timer })
      c:set("k", "v")
      clock.now = 5
      assert.are.same({ n = 2, nil, "v" }, pack(c:get("k")))
    end)

    it("gives one value for a live entry and one nil for a key not held", function()
      local clock = fakeclock(0)
      local c = make({ timer = clock.timer })
      c:set("k", "v")
      assert.are.same({ n = 1, "v" }, pack(c:get("k")))
      assert.are.same({ n = 1 }, pack(c:get("absent")))
      assert.are.same({ n = 1 }, pack(c:get("absent", "a default")))  -- get has none
    end)

    it("counts a stale read as a miss and keeps the entry for the next reads", function()
      local clock = fakeclock(0)
      local c = make({ timer = clock.timer })
      c:set("k", "v")
      clock.now = 6
      for _ = 1, 3 do assert.are.same({ n = 2, nil, "v" }, pack(c:get("k"))) end
      local s = c:stats()
      assert.are.same({ 0, 3, 0 }, { s.hits, s.misses, s.expirations })
      assert.are.equal(1, #c)
    end)

    it("gives the stale value of an entry whose ttl was its own", function()
      local clock = fakeclock(0)
      local c = make({ timer = clock.timer })
      c:set("k", "v", 1)
      clock.now = 1
      assert.are.same({ n = 2, nil, "v" }, pack(c:get("k")))
    end)

    it("gives the stale value of a table key and a table value, held as before", function()
      local clock = fakeclock(0)
      local c = make({ timer = clock.timer })
      local key, value = {}, { "payload" }
      c:set(key, value)
      c:set("s", value)
      clock.now = 5
      local v, stale = c:get(key)
      assert.is_nil(v)
      assert.are.equal(value, stale)
      assert.are.same({ n = 2, nil, value }, pack(c:peek("s")))
      assert.are.same({ n = 1 }, pack(c:get({})))  -- another table: not held
    end)

    it("tells a stale nil from a miss by the count of values", function()
      local clock = fakeclock(0)
      local c = make({ timer = clock.timer })
      c:set("k", nil)
      clock.now = 5
      assert.are.same({ n = 2 }, pack(c:get("k")))
      assert.are.same({ n = 1 }, pack(c:get("other")))
    end)

    it("gives nothing stale once expire() dropped the entry", function()
      local clock = fakeclock(0)
      local c = make({ timer = clock.timer })
      c:set("k", "v")
      clock.now = 5
      assert.are.equal(1, c:expire())
      assert.are.same({ n = 1 }, pack(c:get("k")))
      assert.are.equal(0, #c)
    end)

    it("gives nothing stale once a set of another key dropped the entry", function()
      local clock = fakeclock(0)
      local c = make({ timer = clock.timer })
      c:set("k", "v")
      clock.now = 5
      c:set("other", 1)
      assert.are.same({ n = 1 }, pack(c:get("k")))
    end)

    it("gives the new value once the key is set again", function()
      local clock = fakeclock(0)
      local c = make({ timer = clock.timer })
      c:set("k", "old")
      clock.now = 5
      local v, stale = c:get("k")
      assert.is_nil(v)
      assert.are.equal("old", stale)
      c:set("k", "new")
      assert.are.same({ n = 1, "new" }, pack(c:get("k")))
    end)

    it("lets a set drop stale entries as expired, not evict them for size", function()
      local clock = fakeclock(0)
      local log, on_evict = recorder()
      local c = make({ timer = clock.timer, on_evict = on_evict })
      for i = 1, 4 do c:set(i, i) end
      clock.now = 5
      c:get(1)
      assert.is_false(c:has(1))
      c:set(9, 9)          -- drops every expired entry first: no eviction for size
      assert.are.equal(4, #log)
      for _, n in ipairs(log) do assert.are.equal("expired", n[3]) end
      assert.are.equal(0, c:stats().evictions)
    end)
  end)

  describe("peek, has and pairs on a " .. policy .. " cache", function()
    it("peek gives nil and the stale value too, without counting", function()
      local clock = fakeclock(0)
      local c = make({ timer = clock.timer })
      c:set("k", "v")
      clock.now = 5
      assert.are.same({ n = 2, nil, "v" }, pack(c:peek("k")))
      assert.are.same({ n = 1 }, pack(c:peek("absent")))
      local s = c:stats()
      assert.are.same({ 0, 0 }, { s.hits, s.misses })
    end)

    it("has says false and pairs leaves the entry out", function()
      local clock = fakeclock(0)
      local c = make({ timer = clock.timer })
      c:set("old", 1)
      clock.now = 3
      c:set("new", 2)
      clock.now = 5
      assert.is_false(c:has("old"))
      assert.is_true(c:has("new"))
      assert.are.same({ "new" }, keys(c))
      assert.are.equal(2, #c)
    end)
  end)

  describe("a stale entry of a " .. policy .. " cache and getsizeof", function()
    it("still weighs in currsize until it is dropped", function()
      local clock = fakeclock(0)
      local c = make({ timer = clock.timer, getsizeof = function(v) return v end })
      c:set("k", 3)
      clock.now = 5
      assert.are.same({ n = 2, nil, 3 }, pack(c:get("k")))
      assert.are.equal(3, c:stats().currsize)
      c:expire()
      assert.are.equal(0, c:stats().currsize)
    end)
  end)

  describe("on_evict with stale reads on a " .. policy .. " cache", function()
    local function setup()
      local clock = fakeclock(0)
      local log, on_evict = recorder()
      local c = make({ timer = clock.timer, on_evict = on_evict })
      c:set("k", "v")
      clock.now = 5
      for _ = 1, 3 do c:get("k"); c:peek("k") end
      return c, log
    end

    it("is not called by the stale reads themselves", function()
      local _, log = setup()
      assert.are.same({}, log)
    end)

    it("reports 'expired' exactly once when expire() drops the entry", function()
      local c, log = setup()
      c:expire(); c:expire()
      c:get("k")
      assert.are.same({ { "k", "v", "expired" } }, log)
      assert.are.equal(1, c:stats().expirations)
    end)

    it("reports 'expired' exactly once when a set drops the entry", function()
      local c, log = setup()
      c:set("other", 1); c:set("k", "again")
      assert.are.same({ { "k", "v", "expired" } }, log)
    end)

    it("reports 'expired' exactly once when delete or pop meets the entry", function()
      local c, log = setup()
      assert.is_false(c:delete("k"))
      assert.is_false(c:delete("k"))
      assert.are.same({ { "k", "v", "expired" } }, log)
      local d, dlog = setup()
      assert.are.equal("none", d:pop("k", "none"))
      assert.are.equal("none", d:pop("k", "none"))
      assert.are.same({ { "k", "v", "expired" } }, dlog)
    end)

    it("is not called when clear drops the stale entry", function()
      local c, log = setup()
      c:clear()
      assert.are.same({}, log)
      assert.are.equal(0, #c)
    end)
  end)
end

describe("get on a cache without time", function()
  it("never gives a second value", function()
    for _, make in ipairs({ methodcache.lru, methodcache.lfu, methodcache.fifo, methodcache.rr }) do
      local c = make(2)
      c:set(1, "a"); c:set(2, "b"); c:set(3, "c")   -- one of them evicted
      for k = 1, 3 do
        local r = pack(c:get(k))
        assert.are.equal(1, r.n)
      end
    end
  end)
end)

describe("a cached method with policy ttl", function()
  it("never serves stale results: it computes again", function()
    local clock = fakeclock(0)
    local calls = 0
    local obj = { m = methodcache.method(function(_, x)
      calls = calls + 1
      return x * 10, calls
    end, { ttl = 5, timer = clock.timer }) }
    assert.are.same({ 10, 1 }, { obj:m(1) })
    clock.now = 5
    assert.are.same({ 10, 2 }, { obj:m(1) })
  end)
end)
