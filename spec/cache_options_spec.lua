-- Cache options (getsizeof, on_evict, timer, ttu, typed, seed), their
-- checking, expire() and stats(), and the same choices through
-- methodcache.method.
local methodcache = require("methodcache")

-- on_evict that records {key, value, reason} triples
local function recorder()
  local log = {}
  return log, function(k, v, r) log[#log + 1] = { k, v, r } end
end

local function entries(c)
  local out = {}
  for k, v in pairs(c) do out[#out + 1] = { k, v } end
  return out
end

local function fakeclock(t)
  local clock = { now = t or 0 }
  clock.timer = function() return clock.now end
  return clock
end

local function errmsg(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  -- called through a Lua function, luaL_error adds the caller's position
  return (tostring(err):gsub("^[^:\n]+:%d+: ", ""))
end

local function weight_of_value(v) return v end

-- the documented fields of stats() (it may carry more)
local function stats(c)
  local s, out = c:stats(), {}
  for _, f in ipairs({ "hits", "misses", "evictions", "expirations", "currsize", "maxsize" }) do
    out[f] = s[f]
  end
  return out
end

describe("getsizeof", function()
  it("makes maxsize a total weight: a set evicts until the new value fits", function()
    local log, on_evict = recorder()
    local c = methodcache.lru(10, { getsizeof = weight_of_value, on_evict = on_evict })
    assert.is_true(c:set("a", 4))
    assert.is_true(c:set("b", 4))
    assert.is_true(c:set("c", 2))
    assert.are.same({}, log)
    assert.is_true(c:set("d", 5))
    assert.are.same({ { "a", 4, "size" }, { "b", 4, "size" } }, log)
    assert.are.same({ { "d", 5 }, { "c", 2 } }, entries(c))
    assert.are.equal(7, c:stats().currsize)
    assert.are.equal(2, #c)
    assert.are.equal(2, c:stats().evictions)
  end)

  it("is called once per set with the value alone", function()
    local calls = {}
    local c = methodcache.lru(10, { getsizeof = function(...)
      calls[#calls + 1] = table.pack(...)
      return 1
    end })
    local t = {}
    c:set("k", t)
    c:set("n", nil)
    c:get("k"); c:peek("k"); c:has("k"); c:delete("n")
    assert.are.equal(2, #calls)
    assert.are.equal(1, calls[1].n)
    assert.are.equal(t, calls[1][1])
    assert.are.equal(1, calls[2].n)
    assert.is_nil(calls[2][1])
  end)

  it("does not store a value heavier than maxsize:"
     .. " set returns false and nothing is evicted", function()
    local log, on_evict = recorder()
    local c = methodcache.lfu(10, { getsizeof = weight_of_value, on_evict = on_evict })
    c:set("a", 6)
    assert.is_false(c:set("b", 11))
    assert.is_false(c:has("b"))
    assert.are.same({ { "a", 6 } }, entries(c))
    assert.are.same({}, log)
    assert.are.equal(6, c:stats().currsize)
  end)

  it("stores a value exactly as heavy as maxsize, evicting everything else", function()
    local c = methodcache.fifo(10, { getsizeof = weight_of_value })
    c:set("a", 3); c:set("b", 3)
    assert.is_true(c:set("c", 10))
    assert.are.same({ { "c", 10 } }, entries(c))
    assert.are.equal(10, c:stats().currsize)
  end)

  it("drops the existing entry of a key whose new value is too heavy,"
     .. " with reason 'size'", function()
    local log, on_evict = recorder()
    local c = methodcache.lru(5, { getsizeof = weight_of_value, on_evict = on_evict })
    c:set("a", 2); c:set("b", 2)
    assert.is_false(c:set("a", 9))
    assert.are.same({ { "a", 2, "size" } }, log)
    assert.is_nil(c:get("a"))
    assert.are.same({ { "b", 2 } }, entries(c))
    assert.are.equal(2, c:stats().currsize)
    -- the drop is not counted as an eviction (stats().evictions counts
    -- entries pushed out to make room)
    assert.are.equal(0, c:stats().evictions)
  end)

  it("evicts other entries, never the one being updated,"
     .. " when an update makes it heavier", function()
    local log, on_evict = recorder()
    local c = methodcache.lru(10, { getsizeof = weight_of_value, on_evict = on_evict })
    c:set("a", 3); c:set("b", 3); c:set("c", 3)
    -- "a" is the least recently used, but it is the entry being set
    assert.is_true(c:set("a", 6))
    assert.are.same({ { "b", 3, "size" } }, log)
    assert.are.same({ { "a", 6 }, { "c", 3 } }, entries(c))
    assert.are.equal(9, c:stats().currsize)
  end)

  it("accepts weight 0: such entries take no room", function()
    local c = methodcache.lru(1, { getsizeof = function(v) return v and 1 or 0 end })
    c:set("x", true)
    for i = 1, 20 do c:set(i, false) end
    assert.are.equal(21, #c)
    assert.are.equal(1, c:stats().currsize)
    c:set("y", true)          -- "x", the least recently used, makes room
    assert.are.equal(21, #c)
    assert.is_false(c:has("x"))
    assert.are.equal(1, c:stats().evictions)
    -- weightless entries still go in eviction order when room is needed
    c:get("y")
    c:set("z", true)
    assert.are.equal(1, #c)
    assert.are.equal(22, c:stats().evictions)
  end)

  it("accepts a float with an integral value as a weight", function()
    local c = methodcache.lru(10, { getsizeof = function() return 4.0 end })
    c:set(1, 1)
    assert.are.equal(4, c:stats().currsize)
    assert.are.equal("integer", math.type(c:stats().currsize))
  end)

  for _, bad in ipairs({ { -1, "-1" }, { 1.5, "1.5" }, { "x", "string" },
                         { {}, "table" }, { true, "boolean" }, { 0 / 0, "nan" } }) do
    it("raises an error naming getsizeof when it returns " .. tostring(bad[1]) ..
       ", and leaves the cache as it was", function()
      local c = methodcache.lru(10, { getsizeof = function(v)
        if v == "bad" then return bad[1] end
        return 1
      end })
      c:set("k", "old")
      local err = errmsg(c.set, c, "k", "bad")
      assert.are.equal("set: getsizeof must return a non-negative integer (got "
                       .. bad[2] .. ")", err)
      assert.are.equal("old", c:get("k"))
      assert.are.equal(1, #c)
      assert.are.equal(1, c:stats().currsize)
    end)
  end

  it("raises an error naming getsizeof when it returns nothing", function()
    local c = methodcache.lru(10, { getsizeof = function() end })
    assert.are.equal("set: getsizeof must return a non-negative integer (got nil)",
                     errmsg(c.set, c, 1, 1))
    assert.are.equal(0, #c)
  end)

  it("propagates an error raised by getsizeof and stores nothing", function()
    local c = methodcache.lru(10, { getsizeof = function() error("weigh failed", 0) end })
    assert.are.equal("weigh failed", errmsg(c.set, c, 1, 1))
    assert.are.equal(0, #c)
    assert.are.equal(0, c:stats().currsize)
  end)

  it("with lfu, evicts the least frequently used entries first until the value fits", function()
    local log, on_evict = recorder()
    local c = methodcache.lfu(10, { getsizeof = weight_of_value, on_evict = on_evict })
    c:set("a", 3); c:set("b", 3); c:set("c", 3)
    c:get("a"); c:get("a"); c:get("c")
    c:set("d", 6)   -- needs 5 more: b (count 1), then c (count 2)
    assert.are.same({ { "b", 3, "size" }, { "c", 3, "size" } }, log)
    assert.are.same({ { "a", 3 }, { "d", 6 } }, entries(c))
  end)
end)

describe("on_evict", function()
  it("is called with reason 'size' for an entry evicted to make room", function()
    local log, on_evict = recorder()
    local c = methodcache.lru(2, { on_evict = on_evict })
    c:set("a", 1); c:set("b", 2); c:get("a")
    c:set("c", 3)
    assert.are.same({ { "b", 2, "size" } }, log)
  end)

  it("is called with reason 'deleted' by delete and pop", function()
    local log, on_evict = recorder()
    local c = methodcache.lru(4, { on_evict = on_evict })
    c:set("a", 1); c:set("b", 2)
    assert.is_true(c:delete("a"))
    assert.are.equal(2, c:pop("b"))
    assert.is_false(c:delete("zz"))
    assert.are.equal("dflt", c:pop("zz", "dflt"))
    assert.are.same({ { "a", 1, "deleted" }, { "b", 2, "deleted" } }, log)
  end)

  it("is called with reason 'cleared' for every entry by clear, in pairs order", function()
    local log, on_evict = recorder()
    local c = methodcache.lru(4, { on_evict = on_evict })
    c:set("a", 1); c:set("b", 2); c:set("c", 3); c:get("a")
    c:clear()
    assert.are.same({ { "a", 1, "cleared" }, { "c", 3, "cleared" }, { "b", 2, "cleared" } }, log)
    assert.are.equal(0, #c)
  end)

  it("is called with reason 'expired' by expire(), by a set"
     .. " and by delete and pop of expired keys", function()
    local clock = fakeclock(0)
    local log, on_evict = recorder()
    local c = methodcache.ttl(10, 5, { timer = clock.timer, on_evict = on_evict })
    c:set("a", 1); clock.now = 1; c:set("b", 2); clock.now = 2; c:set("c", 3)
    clock.now = 5
    assert.are.equal(1, c:expire())
    assert.are.same({ { "a", 1, "expired" } }, log)
    clock.now = 6
    c:set("d", 4)        -- drops b first
    assert.are.same({ "b", 2, "expired" }, log[2])
    clock.now = 7.5
    assert.is_false(c:delete("c"))
    assert.are.same({ "c", 3, "expired" }, log[3])
    clock.now = 11
    assert.are.equal("none", c:pop("d", "none"))
    assert.are.same({ "d", 4, "expired" }, log[4])
    assert.are.equal(4, #log)
    assert.are.equal(4, c:stats().expirations)
    assert.are.equal(0, #c)
  end)

  it("is not called for expired entries that clear drops", function()
    local clock = fakeclock(0)
    local log, on_evict = recorder()
    local c = methodcache.ttl(10, 5, { timer = clock.timer, on_evict = on_evict })
    c:set("old", 1); clock.now = 3; c:set("new", 2); clock.now = 6
    c:clear()
    assert.are.same({ { "new", 2, "cleared" } }, log)
    assert.are.equal(0, #c)
  end)

  it("reports several evictions of one set in eviction order", function()
    local log, on_evict = recorder()
    local c = methodcache.fifo(3, { getsizeof = weight_of_value, on_evict = on_evict })
    c:set("a", 1); c:set("b", 1); c:set("c", 1)
    c:get("a")
    c:set("d", 3)
    assert.are.same({ { "a", 1, "size" }, { "b", 1, "size" }, { "c", 1, "size" } }, log)
  end)

  it("gets the object key and the table value themselves", function()
    local log, on_evict = recorder()
    local c = methodcache.lru(1, { on_evict = on_evict })
    local k, v = {}, {}
    c:set(k, v)
    c:set(print, nil)
    assert.are.equal(1, #log)
    assert.are.equal(k, log[1][1])
    assert.are.equal(v, log[1][2])
    assert.are.equal("size", log[1][3])
    c:clear()
    assert.are.equal(print, log[2][1])
    assert.is_nil(log[2][2])
    assert.are.equal("cleared", log[2][3])
  end)

  it("gets a key given as a float with an integral value as the integer key", function()
    local log, on_evict = recorder()
    local c = methodcache.lru(1, { on_evict = on_evict })
    c:set(2.0, "x")
    c:delete(2)
    assert.are.equal(2, log[1][1])
    assert.are.equal("integer", math.type(log[1][1]))
  end)

  it("runs after the operation, when the cache is consistent", function()
    local seen
    local c
    c = methodcache.lru(2, { on_evict = function(k)
      seen = { key = k, len = #c, has_new = c:peek("c"), has_old = c:has(k),
               currsize = c:stats().currsize, order = entries(c) }
    end })
    c:set("a", 1); c:set("b", 2); c:set("c", 3)
    assert.are.same({ key = "a", len = 2, has_new = 3, has_old = false,
                      currsize = 2, order = { { "c", 3 }, { "b", 2 } } }, seen)
  end)

  it("propagates an error after the set is complete;"
     .. " the other notices of that set are lost", function()
    local log = {}
    local c = methodcache.lru(3, { getsizeof = weight_of_value, on_evict = function(k)
      log[#log + 1] = k
      error("callback failed on " .. k, 0)
    end })
    c:set("a", 1); c:set("b", 1); c:set("c", 1)
    assert.are.equal("callback failed on a", errmsg(c.set, c, "d", 2))
    assert.are.same({ "a" }, log)
    assert.are.same({ { "d", 2 }, { "c", 1 } }, entries(c))
    assert.are.equal(3, c:stats().currsize)
    assert.are.equal(2, c:stats().evictions)
    -- the cache keeps working
    log = {}
    assert.are.equal("callback failed on c", errmsg(c.set, c, "e", 1))
    assert.are.same({ "c" }, log)
    assert.are.same({ { "e", 1 }, { "d", 2 } }, entries(c))
  end)

  it("propagates an error from clear's notices after the cache is empty", function()
    local c = methodcache.lru(3, { on_evict = function(k) error("no " .. k, 0) end })
    c:set("a", 1); c:set("b", 2)
    assert.are.equal("no b", errmsg(c.clear, c))
    assert.are.equal(0, #c)
    assert.are.equal(0, c:stats().currsize)
    assert.is_nil(c:get("a"))
  end)

  it("propagates an error from delete's notice after the entry is gone", function()
    local c = methodcache.lfu(3, { on_evict = function() error("boom", 0) end })
    c:set("a", 1)
    assert.are.equal("boom", errmsg(c.delete, c, "a"))
    assert.are.equal(0, #c)
    assert.is_false(c:has("a"))
  end)

  it("may set in the same cache: the callback's set evicts normally", function()
    local log = {}
    local c
    c = methodcache.lru(2, { on_evict = function(k, _, r)
      log[#log + 1] = k .. ":" .. r
      if k == "a" then assert.is_true(c:set("x", 24)) end
    end })
    c:set("a", 1); c:set("b", 2); c:set("c", 3)
    assert.are.same({ "a:size", "b:size" }, log)
    assert.are.same({ { "x", 24 }, { "c", 3 } }, entries(c))
  end)

  it("may get, delete and clear in the same cache from the callback", function()
    local log = {}
    local c
    c = methodcache.lru(3, { on_evict = function(k, _, r)
      log[#log + 1] = k .. ":" .. r
      if k == "b" and r == "cleared" then
        assert.is_nil(c:get("a"))  -- already cleared
        c:clear()
        c:set("z", 26)
      elseif k == "z" then
        assert.is_false(c:delete("z"))
      end
    end })
    c:set("a", 1); c:set("b", 2); c:set("c", 3)
    c:clear()
    assert.are.same({ "c:cleared", "b:cleared", "a:cleared" }, log)
    assert.are.same({ { "z", 26 } }, entries(c))
    assert.are.equal(1, c:stats().misses)
    assert.is_true(c:delete("z"))
    assert.are.same({ "c:cleared", "b:cleared", "a:cleared", "z:deleted" }, log)
  end)

  it("is not called for an entry whose object key was collected", function()
    local log, on_evict = recorder()
    local c = methodcache.lru(10, { getsizeof = weight_of_value, on_evict = on_evict })
    do
      local k = {}
      c:set(k, 3)
    end
    c:set("s", 2)
    collectgarbage(); collectgarbage()
    assert.are.equal(1, #c)
    assert.are.equal(2, c:stats().currsize)
    c:clear()
    assert.are.same({ { "s", 2, "cleared" } }, log)
    assert.are.equal(0, c:stats().evictions)
  end)
end)

describe("timer", function()
  it("gives ttl its time: an entry lives while timer() < set time + ttl", function()
    local clock = fakeclock(100)
    local c = methodcache.ttl(4, 2.5, { timer = clock.timer })
    c:set("a", 1)
    clock.now = 102.25
    assert.are.equal(1, c:get("a"))
    clock.now = 102.5
    assert.is_nil(c:get("a"))
    assert.is_false(c:has("a"))
    assert.is_nil(c:peek("a"))
    assert.are.equal(1, #c)       -- still counted until dropped
    assert.are.same({}, entries(c))
    assert.are.equal(1, c:expire())
    assert.are.equal(0, #c)
  end)

  it("is refused by policies without time, which would never call it", function()
    local function timer() error("called") end
    for _, name in ipairs({ "lru", "lfu", "fifo", "rr" }) do
      assert.are.equal(("bad argument #2 to '%s' (option 'timer' needs policy 'ttl' or 'tlru',"
                        .. " got policy '%s')"):format(name, name),
                       errmsg(methodcache[name], 2, { timer = timer }))
    end
    assert.are.equal("bad argument #1 to 'unbounded' (option 'timer' needs policy 'ttl' or"
                     .. " 'tlru', got policy 'unbounded')",
                     errmsg(methodcache.unbounded, { timer = timer }))
  end)

  it("raises an error when it returns a non-number", function()
    local c = methodcache.ttl(2, 1, { timer = function() return "soon" end })
    assert.are.equal("set: timer must return a number (got string)",
                     errmsg(c.set, c, 1, 1))
    assert.are.equal("get: timer must return a number (got string)",
                     errmsg(c.get, c, 1))
    local n = methodcache.tlru(2, function() return 1 end, { timer = function() end })
    assert.are.equal("expire: timer must return a number (got nil)",
                     errmsg(n.expire, n))
  end)

  it("raises an error when it returns NaN", function()
    local c = methodcache.ttl(2, 1, { timer = function() return 0 / 0 end })
    assert.are.equal("set: timer must return a number (got nan)",
                     errmsg(c.set, c, 1, 1))
    assert.are.equal(0, #c)
  end)

  it("defaults to a clock that moves in real time", function()
    local c = methodcache.ttl(2, 0.02)
    c:set("a", 1)
    assert.are.equal(1, c:get("a"))
    local start = os.time()
    while c:has("a") and os.time() - start < 5 do end
    assert.is_false(c:has("a"))
    assert.are.equal(1, c:expire())
  end)
end)

describe("ttu", function()
  it("receives the key, the value and now, and its result is the entry's expiry", function()
    local clock = fakeclock(10)
    local calls = {}
    local c = methodcache.tlru(4, function(...)
      calls[#calls + 1] = table.pack(...)
      return select(3, ...) + select(2, ...)
    end, { timer = clock.timer })
    local k = {}
    assert.is_true(c:set(k, 3))
    assert.are.equal(1, #calls)
    assert.are.equal(3, calls[1].n)
    assert.are.equal(k, calls[1][1])
    assert.are.equal(3, calls[1][2])
    assert.are.equal(10, calls[1][3])
    clock.now = 12.9
    assert.are.equal(3, c:get(k))
    clock.now = 13
    assert.is_nil(c:get(k))
    assert.are.equal(1, #calls)
  end)

  it("gives each entry its own expiry: expire() drops them by time, earliest first", function()
    local clock = fakeclock(0)
    local log, on_evict = recorder()
    local c = methodcache.tlru(10, function(_, v, now) return now + v end,
                               { timer = clock.timer, on_evict = on_evict })
    c:set("a", 5); c:set("b", 1); c:set("c", 3); c:set("d", 10)
    clock.now = 4
    assert.are.equal(2, c:expire())
    assert.are.same({ { "b", 1, "expired" }, { "c", 3, "expired" } }, log)
    assert.are.same({ { "d", 10 }, { "a", 5 } }, entries(c))
    assert.are.equal(2, c:stats().expirations)
  end)

  it("stores nothing when it returns now or earlier:"
     .. " set returns false and the old entry goes", function()
    local clock = fakeclock(5)
    local log, on_evict = recorder()
    local c = methodcache.tlru(4, function(_, v, now) return now + v end,
                               { timer = clock.timer, on_evict = on_evict })
    assert.is_true(c:set("a", 2))
    assert.is_true(c:set("b", 1))
    assert.is_false(c:set("a", 0))
    assert.is_false(c:set("new", -1))
    assert.are.same({ { "a", 2, "expired" } }, log)
    assert.is_nil(c:get("a"))
    assert.is_false(c:has("new"))
    assert.are.same({ { "b", 1 } }, entries(c))
    assert.are.equal(1, #c)
  end)

  it("raises an error naming ttu when it returns a non-number", function()
    local c = methodcache.tlru(4, function() return "later" end)
    assert.are.equal("set: ttu must return a number (got string)",
                     errmsg(c.set, c, 1, 1))
    assert.are.equal(0, #c)
  end)

  it("propagates its own error and stores nothing", function()
    local c = methodcache.tlru(4, function() error("ttu failed", 0) end)
    assert.are.equal("ttu failed", errmsg(c.set, c, 1, 1))
    assert.are.equal(0, #c)
  end)
end)

describe("typed", function()
  it("keeps 1 and 1.0 apart when true", function()
    local c = methodcache.lru(4, { typed = true })
    c:set(1, "int"); c:set(1.0, "float")
    assert.are.equal(2, #c)
    assert.are.equal("int", c:get(1))
    assert.are.equal("float", c:get(1.0))
    local kinds = {}
    for k in pairs(c) do kinds[#kinds + 1] = math.type(k) end
    assert.are.same({ "float", "integer" }, kinds)
  end)

  it("makes 1 and 1.0 one key by default", function()
    local c = methodcache.lru(4)
    c:set(1, "int"); c:set(1.0, "float")
    assert.are.equal(1, #c)
    assert.are.equal("float", c:get(1))
    for k in pairs(c) do assert.are.equal("integer", math.type(k)) end
  end)

  it("still makes 0.0 and -0.0 one key when true", function()
    local c = methodcache.lfu(4, { typed = true })
    c:set(0.0, "a"); c:set(-0.0, "b")
    assert.are.equal(1, #c)
    assert.are.equal("b", c:get(0.0))
    assert.is_nil(c:get(0))
  end)
end)

describe("seed", function()
  local function victims(seed)
    local log, on_evict = recorder()
    local c = methodcache.rr(5, { seed = seed, on_evict = on_evict })
    for i = 1, 100 do c:set(i, i) end
    local keys = {}
    for i, n in ipairs(log) do keys[i] = n[1] end
    return keys
  end

  it("makes rr evict the same entries for the same operations", function()
    local a = victims(123)
    assert.are.equal(95, #a)
    assert.are.same(a, victims(123))
    assert.are_not.same(a, victims(124))
  end)

  it("must be an integer", function()
    assert.are.equal("bad argument #2 to 'rr' (option 'seed' must be an integer, got 1.5)",
                     errmsg(methodcache.rr, 3, { seed = 1.5 }))
    assert.are.equal("bad argument #2 to 'rr' (option 'seed' must be an integer, got string)",
                     errmsg(methodcache.rr, 3, { seed = "x" }))
  end)
end)

describe("constructor options", function()
  local cases = {
    { "lru", function(o) return methodcache.lru(3, o) end, 2 },
    { "lfu", function(o) return methodcache.lfu(3, o) end, 2 },
    { "fifo", function(o) return methodcache.fifo(3, o) end, 2 },
    { "rr", function(o) return methodcache.rr(3, o) end, 2 },
    { "ttl", function(o) return methodcache.ttl(3, 1, o) end, 3 },
    { "tlru", function(o) return methodcache.tlru(3, function() return 1 end, o) end, 3 },
    { "unbounded", function(o) return methodcache.unbounded(o) end, 1 },
  }
  for _, case in ipairs(cases) do
    local name, make, arg = case[1], case[2], case[3]
    local function msg(s) return ("bad argument #%d to '%s' (%s)"):format(arg, name, s) end

    it(name .. " rejects an unknown option by name", function()
      assert.are.equal(msg("unknown option 'x'"), errmsg(make, { x = 1 }))
      assert.are.equal(msg("unknown option 'maxsize'"), errmsg(make, { maxsize = 3 }))
      assert.are.equal(msg("unknown option 'policy'"), errmsg(make, { policy = name }))
    end)

    it(name .. " rejects option functions of other types", function()
      for _, f in ipairs({ "timer", "getsizeof", "on_evict" }) do
        assert.are.equal(msg(("option '%s' must be a function, got number"):format(f)),
                         errmsg(make, { [f] = 42 }))
      end
      assert.are.equal(msg("option 'seed' must be an integer, got 0.5"),
                       errmsg(make, { seed = 0.5 }))
    end)

    it(name .. " rejects options that are not a table", function()
      assert.are.equal(msg("options table expected, got number"), errmsg(make, 7))
      assert.are.equal(msg("options table expected, got string"), errmsg(make, "typed"))
    end)

    it(name .. " accepts every cache option of its policy at once", function()
      local timed = name == "ttl" or name == "tlru"
      local c = make({ timer = timed and function() return 0 end or nil,
                       getsizeof = function() return 1 end,
                       on_evict = function() end, typed = true, seed = name == "rr" and 9 or nil })
      assert.is_true(c:set(1, 1))
      assert.are.equal(1, #c)
    end)
  end

  it("check maxsize", function()
    assert.are.equal("bad argument #1 to 'lfu' (maxsize must be a non-negative integer, got -1)",
                     errmsg(methodcache.lfu, -1))
    assert.are.equal("bad argument #1 to 'fifo' (number expected, got string)",
                     errmsg(methodcache.fifo, "x"))
    assert.are.equal("bad argument #1 to 'rr' (maxsize must be a non-negative integer, got 2.5)",
                     errmsg(methodcache.rr, 2.5))
    assert.are.equal("bad argument #1 to 'ttl' (number expected, got no value)",
                     errmsg(methodcache.ttl))
  end)

  it("check ttl and ttu", function()
    for _, bad in ipairs({ { 0, "0" }, { -1, "-1" }, { 0 / 0, "nan" }, { -math.huge, "-inf" } }) do
      assert.are.equal("bad argument #2 to 'ttl' (ttl must be a positive number of seconds, got "
                       .. bad[2] .. ")", errmsg(methodcache.ttl, 3, bad[1]))
    end
    assert.are.equal("bad argument #2 to 'ttl' (number expected, got string)",
                     errmsg(methodcache.ttl, 3, "5"))
    assert.are.equal("bad argument #2 to 'ttl' (number expected, got no value)",
                     errmsg(methodcache.ttl, 3))
    assert.are.equal("bad argument #2 to 'tlru' (ttu function expected, got number)",
                     errmsg(methodcache.tlru, 3, 5))
    assert.are.equal("bad argument #2 to 'tlru' (ttu function expected, got no value)",
                     errmsg(methodcache.tlru, 3))
  end)
end)

describe("expire()", function()
  it("returns 0 for policies without time", function()
    for _, name in ipairs({ "lru", "lfu", "fifo", "rr" }) do
      local c = methodcache[name](3)
      c:set(1, 1)
      assert.are.equal(0, c:expire())
      assert.are.equal(1, #c)
    end
    assert.are.equal(0, methodcache.unbounded():expire())
  end)

  it("returns how many expired entries it dropped, and 0 when called again", function()
    local clock = fakeclock(0)
    local c = methodcache.ttl(10, 10, { timer = clock.timer })
    for i = 1, 5 do c:set(i, i); clock.now = clock.now + 1 end
    -- set at 0, 1, 2, 3, 4; now 13: those of 0..3 have expired
    clock.now = 13
    assert.are.equal(4, c:expire())
    assert.are.equal(0, c:expire())
    assert.are.equal(1, #c)
    assert.are.equal(1, c:stats().currsize)
    assert.are.equal(4, c:stats().expirations)
  end)

  it("renews a ttl entry at each set, not at each get", function()
    local clock = fakeclock(0)
    local c = methodcache.ttl(10, 2, { timer = clock.timer })
    c:set("a", 1); c:set("b", 1)
    clock.now = 1; c:set("a", 2); c:get("b")
    clock.now = 2
    assert.are.equal(1, c:expire())
    assert.are.equal(2, c:get("a"))
    assert.is_false(c:has("b"))
  end)
end)

describe("stats()", function()
  it("counts hits and misses of get only", function()
    local c = methodcache.lru(2)
    c:set("a", 1)
    c:get("a"); c:get("a"); c:get("b")
    c:peek("a"); c:peek("b"); c:has("a"); c:has("b"); c:pop("b"); c:pop("a")
    assert.are.same({ hits = 2, misses = 1, evictions = 0, expirations = 0,
                      currsize = 0, maxsize = 2 }, stats(c))
  end)

  it("counts size evictions only as evictions", function()
    local c = methodcache.fifo(2)
    for i = 1, 5 do c:set(i, i) end
    c:delete(5); c:clear()
    assert.are.same({ hits = 0, misses = 0, evictions = 3, expirations = 0,
                      currsize = 0, maxsize = 2 }, stats(c))
  end)

  it("counts expirations, keeps expired entries in currsize until dropped", function()
    local clock = fakeclock(0)
    local c = methodcache.ttl(3, 1, { timer = clock.timer, getsizeof = weight_of_value })
    c:set("a", 2)
    clock.now = 1
    assert.is_nil(c:get("a"))
    assert.are.same({ hits = 0, misses = 1, evictions = 0, expirations = 0,
                      currsize = 2, maxsize = 3 }, stats(c))
    assert.are.equal(1, #c)
    c:set("b", 3)
    assert.are.same({ hits = 0, misses = 1, evictions = 0, expirations = 1,
                      currsize = 3, maxsize = 3 }, stats(c))
  end)

  it("gives unbounded caches a maxsize of math.huge", function()
    local c = methodcache.unbounded()
    for i = 1, 1000 do c:set(i, i) end
    assert.are.same({ hits = 0, misses = 0, evictions = 0, expirations = 0,
                      currsize = 1000, maxsize = math.huge }, stats(c))
    assert.are.equal(math.huge, c.maxsize)
    assert.are.equal(1000, #c)
  end)

  it("does not reset on clear", function()
    local c = methodcache.lfu(1)
    c:set(1, 1); c:get(1); c:get(2); c:set(2, 2)
    c:clear()
    assert.are.same({ hits = 1, misses = 1, evictions = 1, expirations = 0,
                      currsize = 0, maxsize = 1 }, stats(c))
  end)
end)

describe("methodcache.method with a policy", function()
  local function class()
    local C = {}
    C.__index = C
    C.calls = 0
    return C, function() return setmetatable({}, C) end
  end

  it("ttl: results expire ttl seconds after the call that stored them", function()
    local clock = fakeclock(0)
    local C, new = class()
    C.double = methodcache.method(function(_, x) C.calls = C.calls + 1; return 2 * x end,
      { policy = "ttl", maxsize = 64, ttl = 5, timer = clock.timer })
    local o = new()
    assert.are.equal(6, o:double(3))
    clock.now = 4.5
    assert.are.equal(6, o:double(3))
    assert.are.equal(1, C.calls)
    clock.now = 5
    assert.are.equal(6, o:double(3))
    assert.are.equal(2, C.calls)
    local info = methodcache.info(C.double, o)
    assert.are.equal(1, info.hits)
    assert.are.equal(2, info.misses)
    assert.are.equal(1, info.currsize)
    assert.are.equal(64, info.maxsize)
  end)

  it("ttl alone implies policy ttl", function()
    local clock = fakeclock(0)
    local C, new = class()
    C.f = methodcache.method(function(_, x) C.calls = C.calls + 1; return x end,
      { ttl = 1, timer = clock.timer })
    local o = new()
    o:f(1); o:f(1)
    clock.now = 1
    o:f(1)
    assert.are.equal(2, C.calls)
  end)

  it("ttu alone implies policy tlru, with the arguments and results as key and value", function()
    local clock = fakeclock(0)
    local C, new = class()
    local seen = {}
    C.f = methodcache.method(function(_, x) C.calls = C.calls + 1; return x, "r" end,
      { timer = clock.timer, ttu = function(k, v, now)
        seen[#seen + 1] = { k, v, now }
        return now + k
      end })
    local o = new()
    o:f(2); o:f(2)
    assert.are.equal(1, C.calls)
    assert.are.same({ { 2, { n = 2, 2, "r" }, 0 } }, seen)
    clock.now = 2
    o:f(2)
    assert.are.equal(2, C.calls)
  end)

  it("lfu: evicts the least frequently called arguments", function()
    local C, new = class()
    local log, on_evict = recorder()
    C.f = methodcache.method(function(_, x) C.calls = C.calls + 1; return x * 10 end,
      { policy = "lfu", maxsize = 2, on_evict = on_evict })
    local o = new()
    o:f(1); o:f(1); o:f(1); o:f(2)
    o:f(3)                    -- evicts 2 (one use) and keeps 1 (three)
    assert.are.same({ { 2, 20, "size" } }, log)
    assert.are.equal(3, C.calls)
    assert.are.equal(10, o:f(1))
    assert.are.equal(3, C.calls)
    o:f(2)
    assert.are.equal(4, C.calls)
    assert.are.same({ 3, 30, "size" }, log[2])
  end)

  it("fifo: a call that hits does not save its result from eviction", function()
    local C, new = class()
    C.f = methodcache.method(function(_, x) C.calls = C.calls + 1; return x end,
      { policy = "fifo", maxsize = 2 })
    local o = new()
    o:f(1); o:f(2); o:f(1); o:f(3)
    assert.are.equal(3, C.calls)
    o:f(1)
    assert.are.equal(4, C.calls)
  end)

  it("rr with a seed: the same calls evict the same results", function()
    local function trace()
      local C, new = class()
      local log, on_evict = recorder()
      C.f = methodcache.method(function(_, x) return x end,
        { policy = "rr", maxsize = 3, seed = 5, on_evict = on_evict })
      local o = new()
      for i = 1, 30 do o:f(i) end
      local keys = {}
      for i, n in ipairs(log) do keys[i] = n[1] end
      return keys
    end
    local a = trace()
    assert.are.equal(27, #a)
    assert.are.same(a, trace())
  end)

  it("unbounded: keeps every result", function()
    local C, new = class()
    C.f = methodcache.method(function(_, x) C.calls = C.calls + 1; return x end,
      { policy = "unbounded" })
    local o = new()
    for i = 1, 500 do o:f(i) end
    for i = 1, 500 do o:f(i) end
    assert.are.equal(500, C.calls)
    assert.are.equal(math.huge, methodcache.info(C.f, o).maxsize)
    assert.are.equal(500, methodcache.info(C.f, o).currsize)
  end)

  it("getsizeof receives all the results and bounds the total weight", function()
    local C, new = class()
    local seen = {}
    C.f = methodcache.method(function(_, n) C.calls = C.calls + 1; return string.rep("x", n), n end,
      { maxsize = 10, getsizeof = function(...)
        seen[#seen + 1] = table.pack(...)
        return #(...)
      end })
    local o = new()
    o:f(4); o:f(5)
    assert.are.same({ n = 2, "xxxx", 4 }, seen[1])
    assert.are.equal(9, methodcache.info(C.f, o).currsize)
    o:f(3)                    -- evicts 4 (least recently used)
    assert.are.equal(8, methodcache.info(C.f, o).currsize)
    o:f(5)
    assert.are.equal(3, C.calls)
    o:f(4)
    assert.are.equal(4, C.calls)
  end)

  it("returns a result heavier than maxsize without caching it", function()
    local C, new = class()
    C.f = methodcache.method(function(_, n) C.calls = C.calls + 1; return n end,
      { maxsize = 3, getsizeof = weight_of_value })
    local o = new()
    assert.are.equal(5, o:f(5))
    assert.are.equal(5, o:f(5))
    assert.are.equal(2, C.calls)
    assert.are.equal(0, methodcache.info(C.f, o).currsize)
  end)

  it("on_evict gets one argument and one result themselves, several as {n = ...} tables", function()
    local C, new = class()
    local log, on_evict = recorder()
    C.one = methodcache.method(function(_, x) return x + 1 end,
      { maxsize = 1, on_evict = on_evict })
    C.many = methodcache.method(function(_, a, b) return a, b, nil end,
      { maxsize = 1, on_evict = on_evict })
    C.none = methodcache.method(function() end, { maxsize = 1, on_evict = on_evict })
    local o = new()
    o:one(1); o:one(2)
    o:many(1, nil); o:many(3, 4)
    o:none(); o:none(1)
    assert.are.same({
      { 1, 2, "size" },
      { { n = 2, 1, nil }, { n = 3, 1, nil, nil }, "size" },
      { { n = 0 }, { n = 0 }, "size" },
    }, log)
  end)

  it("on_evict reports 'cleared' for methodcache.clear and 'expired' for stale results", function()
    local clock = fakeclock(0)
    local C, new = class()
    local log, on_evict = recorder()
    C.f = methodcache.method(function(_, x) return -x end,
      { ttl = 2, timer = clock.timer, on_evict = on_evict })
    local o = new()
    o:f(1)
    clock.now = 2
    o:f(2)
    assert.are.same({ { 1, -1, "expired" } }, log)
    methodcache.clear(C.f, o)
    assert.are.same({ 2, -2, "cleared" }, log[2])
    assert.are.equal(2, #log)
  end)

  it("typed keeps 1 and 1.0 apart for method arguments", function()
    local C, new = class()
    C.f = methodcache.method(function(_, x) C.calls = C.calls + 1; return math.type(x) end,
      { typed = true })
    local o = new()
    assert.are.equal("integer", o:f(1))
    assert.are.equal("float", o:f(1.0))
    assert.are.equal(2, C.calls)
  end)

  it("checks the policy options", function()
    local function m(o) return methodcache.method(function() end, o) end
    local function msg(s) return "bad argument #2 to 'method' (" .. s .. ")" end
    assert.are.equal(msg("unknown policy 'mru'"), errmsg(m, { policy = "mru" }))
    assert.are.equal(msg("option 'ttl' needs policy 'ttl', got policy 'lfu'"),
                     errmsg(m, { policy = "lfu", ttl = 3 }))
    assert.are.equal(msg("option 'ttu' needs policy 'tlru', got policy 'lru'"),
                     errmsg(m, { policy = "lru", ttu = print }))
    assert.are.equal(msg("policy 'tlru' needs option 'ttu'"), errmsg(m, { policy = "tlru" }))
    assert.are.equal(msg("option 'ttl' must be a positive number of seconds for policy 'ttl'"),
                     errmsg(m, { policy = "ttl" }))
    assert.are.equal(msg("option 'ttu' must be a function, got number"), errmsg(m, { ttu = 3 }))
    assert.are.equal(msg("option 'getsizeof' must be a function, got string"),
                     errmsg(m, { getsizeof = "x" }))
    assert.are.equal(msg("option 'seed' must be an integer, got 1.5"),
                     errmsg(m, { policy = "rr", seed = 1.5 }))
    assert.are.equal(msg("option 'maxsize' must be a non-negative integer, got -1"),
                     errmsg(m, { maxsize = -1 }))
    assert.are.equal(msg("unknown option 'maxsixe'"), errmsg(m, { maxsixe = 3 }))
  end)
end)
