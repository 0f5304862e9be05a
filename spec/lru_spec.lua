-- Specs for the standalone LRU cache object: methodcache.lru(maxsize[, opts]).
-- Contract: docs/API.md ("cache objects") and issue 2.

local methodcache = require("methodcache")

-- pcall a function and return its error message (fails the spec if it did not raise)
local function error_of(fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, "expected an error, got success")
  return err
end

-- the keys of pairs(c), in iteration order
local function keys_of(c)
  local ks = {}
  for k in pairs(c) do ks[#ks + 1] = k end
  return ks
end

describe("methodcache.lru", function()

  describe("construction", function()
    it("makes a cache whose maxsize is the given number", function()
      local c = methodcache.lru(3)
      assert.are.equal(3, c.maxsize)
      assert.are.equal(0, #c)
      assert.are.equal(3, c:stats().maxsize)
    end)

    it("rejects a negative maxsize with the contract's message", function()
      local err = error_of(function() local _ = methodcache.lru(-1) end)
      assert.matches("bad argument #1 to 'lru' (maxsize must be a non-negative integer, got -1)",
        err, 1, true)
    end)

    it("rejects a string maxsize with a type error", function()
      local err = error_of(function() local _ = methodcache.lru("x") end)
      assert.matches("bad argument #1 to 'lru' (number expected, got string)", err, 1, true)
    end)

    it("rejects a non-integer maxsize", function()
      local err = error_of(function() local _ = methodcache.lru(2.5) end)
      assert.matches("bad argument #1 to 'lru'", err, 1, true)
    end)

    it("makes a cache of maxsize 0 that stores nothing", function()
      local c = methodcache.lru(0)
      assert.are.equal(0, c.maxsize)
      -- decided: an entry of weight 1 is "too heavy" for maxsize 0, so set reports false
      assert.is_false(c:set("a", 1))
      assert.are.equal(0, #c)
      assert.is_false(c:has("a"))
      assert.is_nil(c:get("a"))
      assert.are.equal(0, c:stats().currsize)
    end)
  end)

  describe("get/set/has/peek", function()
    it("returns exactly one nil from get and peek on a miss, as a table would", function()
      local c = methodcache.lru(3)
      assert.are.equal(1, select("#", c:get("x")))
      assert.are.equal(1, select("#", c:peek("x")))
      assert.are.equal(1, select("#", c:get(nil)))
      assert.is_nil(c:get(0 / 0))
      assert.is_nil(c:peek(0 / 0))
    end)

    it("returns true from set and the stored value from get", function()
      local c = methodcache.lru(3)
      assert.is_true(c:set("a", 10))
      assert.are.equal(10, c:get("a"))
      assert.are.equal(1, #c)
    end)

    it("returns nil from get for a missing key", function()
      local c = methodcache.lru(3)
      assert.is_nil(c:get("missing"))
      assert.are.equal(0, #c)
    end)

    it("replaces the value of an existing key without growing", function()
      local c = methodcache.lru(3)
      c:set("a", 1)
      c:set("a", 2)
      assert.are.equal(2, c:get("a"))
      assert.are.equal(1, #c)
    end)

    it("counts a hit for a present key and a miss for a missing one in get", function()
      local c = methodcache.lru(3)
      c:set("a", 1)
      c:get("a"); c:get("a"); c:get("b")
      local s = c:stats()
      assert.are.equal(2, s.hits)
      assert.are.equal(1, s.misses)
      assert.are.equal(0, s.evictions)
      assert.are.equal(0, s.expirations)
      assert.are.equal(1, s.currsize)
      assert.are.equal(3, s.maxsize)
    end)

    it("does not count peek or has as hits or misses", function()
      local c = methodcache.lru(3)
      c:set("a", 1)
      assert.are.equal(1, c:peek("a"))
      assert.is_nil(c:peek("b"))
      assert.is_true(c:has("a"))
      assert.is_false(c:has("b"))
      local s = c:stats()
      assert.are.equal(0, s.hits)
      assert.are.equal(0, s.misses)
    end)

    it("stores nil values: has() is true and get() returns nil", function()
      local c = methodcache.lru(3)
      assert.is_true(c:set("n", nil))
      assert.is_true(c:has("n"))
      assert.are.equal(1, #c)
      assert.is_nil(c:get("n"))
      -- the lookup of a stored nil is a hit, not a miss
      assert.are.equal(1, c:stats().hits)
      assert.are.equal(0, c:stats().misses)
    end)

    it("stores false values", function()
      local c = methodcache.lru(3)
      c:set("f", false)
      assert.is_false(c:get("f"))
      assert.is_false(c:peek("f"))
      assert.is_true(c:has("f"))
    end)

    it("returns the very same table it was given as a value", function()
      local c = methodcache.lru(3)
      local v = {}
      c:set("t", v)
      assert.are.equal(v, c:get("t"))
    end)
  end)

  describe("delete/pop/clear", function()
    it("deletes a present key and returns true, false for a missing key", function()
      local c = methodcache.lru(3)
      c:set("a", 1)
      assert.is_true(c:delete("a"))
      assert.is_false(c:delete("a"))
      assert.is_false(c:has("a"))
      assert.are.equal(0, #c)
    end)

    it("pops a present key, returning its value and removing it", function()
      local c = methodcache.lru(3)
      c:set("a", 1)
      assert.are.equal(1, c:pop("a"))
      assert.is_false(c:has("a"))
      assert.are.equal(0, #c)
    end)

    it("pops a missing key to the default, or nil without one", function()
      local c = methodcache.lru(3)
      assert.are.equal("dflt", c:pop("a", "dflt"))
      assert.is_nil(c:pop("a"))
      assert.are.equal(0, #c)
    end)

    it("clears every entry", function()
      local c = methodcache.lru(3)
      c:set("a", 1); c:set("b", 2); c:set("c", 3)
      c:clear()
      assert.are.equal(0, #c)
      assert.is_nil(c:peek("a"))
      assert.are.same({}, keys_of(c))
      -- the cache is usable after clear
      c:set("d", 4)
      assert.are.equal(4, c:get("d"))
      assert.are.equal(1, #c)
    end)

    it("returns 0 from expire, having no notion of time", function()
      local c = methodcache.lru(3)
      c:set("a", 1)
      assert.are.equal(0, c:expire())
      assert.are.equal(1, #c)
    end)
  end)

  describe("eviction", function()
    it("evicts the least recently set key when full", function()
      local c = methodcache.lru(3)
      c:set("a", 1); c:set("b", 2); c:set("c", 3); c:set("d", 4)
      assert.are.equal(3, #c)
      assert.is_false(c:has("a"))
      assert.is_true(c:has("b"))
      assert.is_true(c:has("d"))
      assert.are.equal(1, c:stats().evictions)
    end)

    it("lets get refresh recency so the key survives the next eviction", function()
      local c = methodcache.lru(3)
      c:set("a", 1); c:set("b", 2); c:set("c", 3)
      c:get("a")
      c:set("d", 4)
      assert.is_true(c:has("a"))
      assert.is_false(c:has("b"))
    end)

    it("does not let peek refresh recency", function()
      local c = methodcache.lru(3)
      c:set("a", 1); c:set("b", 2); c:set("c", 3)
      c:peek("a")
      c:set("d", 4)
      assert.is_false(c:has("a"))
      assert.is_true(c:has("b"))
    end)

    it("does not let has refresh recency", function()
      local c = methodcache.lru(3)
      c:set("a", 1); c:set("b", 2); c:set("c", 3)
      assert.is_true(c:has("a"))
      c:set("d", 4)
      assert.is_false(c:has("a"))
    end)

    it("lets set on an existing key refresh its recency", function()
      local c = methodcache.lru(3)
      c:set("a", 1); c:set("b", 2); c:set("c", 3)
      c:set("a", 10)
      c:set("d", 4)
      assert.are.equal(10, c:peek("a"))
      assert.is_false(c:has("b"))
    end)

    it("never holds more than maxsize entries", function()
      local c = methodcache.lru(5)
      for i = 1, 100 do c:set(i, i) end
      assert.are.equal(5, #c)
      assert.are.same({ 100, 99, 98, 97, 96 }, keys_of(c))
      assert.are.equal(95, c:stats().evictions)
    end)
  end)

  describe("pairs", function()
    it("iterates from the most recently used to the least", function()
      local c = methodcache.lru(4)
      c:set("a", 1); c:set("b", 2); c:set("c", 3)
      c:get("a")
      local ks, vs = {}, {}
      for k, v in pairs(c) do ks[#ks + 1] = k; vs[#vs + 1] = v end
      assert.are.same({ "a", "c", "b" }, ks)
      assert.are.same({ 1, 3, 2 }, vs)
    end)

    it("yields entries whose value is nil", function()
      local c = methodcache.lru(4)
      c:set("a", nil); c:set("b", 2)
      local seen = {}
      for k, v in pairs(c) do seen[#seen + 1] = { k, v } end
      assert.are.equal(2, #seen)
      assert.are.equal("b", seen[1][1])
      assert.are.equal("a", seen[2][1])
      assert.is_nil(seen[2][2])
    end)

    it("does not change recency or hit counts while iterating", function()
      local c = methodcache.lru(3)
      c:set("a", 1); c:set("b", 2); c:set("c", 3)
      for _ in pairs(c) do end
      c:set("d", 4)
      assert.is_false(c:has("a"))
      assert.are.equal(0, c:stats().hits)
    end)

    it("is a snapshot: the cache may be modified during the loop", function()
      local c = methodcache.lru(3)
      c:set("a", 1); c:set("b", 2); c:set("c", 3)
      local ks = {}
      for k in pairs(c) do
        ks[#ks + 1] = k
        c:delete(k)
        c:set(k .. "x", 0)
        c:set(k .. "y", 0)
        c:get("zz")
      end
      assert.are.same({ "c", "b", "a" }, ks)
      assert.are.equal(3, #c)
    end)

    it("survives clear() in the middle of the loop", function()
      local c = methodcache.lru(3)
      c:set(1, "a"); c:set(2, "b"); c:set(3, "c")
      local n = 0
      for _ in pairs(c) do
        n = n + 1
        c:clear()
        collectgarbage()
      end
      assert.are.equal(3, n)
      assert.are.equal(0, #c)
    end)

    it("gives back table keys by identity", function()
      local c = methodcache.lru(3)
      local t = {}
      c:set(t, "v")
      local k, v
      for kk, vv in pairs(c) do k, v = kk, vv end
      assert.are.equal(t, k)
      assert.are.equal("v", v)
    end)
  end)

  describe("keys", function()
    it("treats 1 and 1.0 as the same key", function()
      local c = methodcache.lru(3)
      c:set(1, "int")
      assert.are.equal("int", c:get(1.0))
      c:set(1.0, "float")
      assert.are.equal(1, #c)
      assert.are.equal("float", c:get(1))
    end)

    it("treats -0.0 and 0 as the same key", function()
      local c = methodcache.lru(3)
      c:set(0, "zero")
      assert.are.equal("zero", c:get(-0.0))
      assert.are.equal("zero", c:get(0.0))
      assert.are.equal(1, #c)
    end)

    it("separates 1 and 1.0 when typed = true", function()
      local c = methodcache.lru(3, { typed = true })
      c:set(1, "int")
      c:set(1.0, "float")
      assert.are.equal(2, #c)
      assert.are.equal("int", c:get(1))
      assert.are.equal("float", c:get(1.0))
    end)

    it("keeps large integers exact", function()
      local c = methodcache.lru(5)
      c:set(math.maxinteger, "max")
      c:set(math.maxinteger - 1, "max-1")
      c:set(2^53, "f53")
      c:set((1 << 53) + 1, "i53+1")
      assert.are.equal(4, #c)
      assert.are.equal("max", c:get(math.maxinteger))
      assert.are.equal("max-1", c:get(math.maxinteger - 1))
      assert.are.equal("f53", c:get(1 << 53))
      assert.are.equal("i53+1", c:get((1 << 53) + 1))
      -- 2^63 is a float that no integer equals
      assert.is_nil(c:get(2^63))
      -- -2^63 is equal to math.mininteger
      c:set(math.mininteger, "min")
      assert.are.equal("min", c:get(-2^63))
    end)

    it("separates floats that differ in the last bit", function()
      local c = methodcache.lru(3)
      c:set(0.1, "a")
      c:set(0.1 + 2^-56 * 2, "b")
      assert.are_not.equal(0.1, 0.1 + 2^-56 * 2)
      assert.are.equal(2, #c)
      assert.are.equal("a", c:get(0.1))
      c:set(math.huge, "inf")
      assert.are.equal("inf", c:get(math.huge))
      assert.is_nil(c:get(-math.huge))
    end)

    it("compares short strings by value", function()
      local c = methodcache.lru(3)
      c:set("abc", 1)
      assert.are.equal(1, c:get(("ab") .. ("c"):lower()))
    end)

    it("compares long strings (over 40 chars) by value, not identity", function()
      local c = methodcache.lru(3)
      local s1 = string.rep("x", 50) .. tostring(12345)
      local s2 = string.rep("x", 50) .. tostring(12300 + 45)
      c:set(s1, "long")
      assert.are.equal("long", c:get(s2))
      assert.is_nil(c:get(string.rep("x", 50) .. "12346"))
      assert.are.equal(1, #c)
    end)

    it("separates strings with embedded zeros and the empty string", function()
      local c = methodcache.lru(5)
      c:set("a\0b", 1); c:set("a\0c", 2); c:set("a", 3); c:set("", 4)
      assert.are.equal(4, #c)
      assert.are.equal(1, c:get("a\0b"))
      assert.are.equal(2, c:get("a\0c"))
      assert.are.equal(3, c:get("a"))
      assert.are.equal(4, c:get(""))
    end)

    it("separates a number from its string form", function()
      local c = methodcache.lru(3)
      c:set(1, "number")
      c:set("1", "string")
      assert.are.equal(2, #c)
      assert.are.equal("number", c:get(1))
      assert.are.equal("string", c:get("1"))
    end)

    it("accepts booleans as keys, false distinct from true", function()
      local c = methodcache.lru(3)
      c:set(true, "t")
      c:set(false, "f")
      c:set("true", "s")
      assert.are.equal(3, #c)
      assert.are.equal("t", c:get(true))
      assert.are.equal("f", c:get(false))
    end)

    it("matches tables, functions and coroutines by identity", function()
      local c = methodcache.lru(10)
      local t1, t2 = {}, {}
      local f1 = function() return t1 end
      local f2 = function() return t2 end
      local co1, co2 = coroutine.create(f1), coroutine.create(f2)
      c:set(t1, "t1"); c:set(f1, "f1"); c:set(co1, "co1")
      assert.are.equal("t1", c:get(t1))
      assert.are.equal("f1", c:get(f1))
      assert.are.equal("co1", c:get(co1))
      assert.is_nil(c:get(t2))
      assert.is_nil(c:get(f2))
      assert.is_nil(c:get(co2))
      assert.are.equal(3, #c)
    end)

    it("matches tables by raw identity even when __eq says equal", function()
      local mt = { __eq = function() return true end }
      local a, b = setmetatable({}, mt), setmetatable({}, mt)
      assert.is_true(a == b)
      local c = methodcache.lru(3)
      c:set(a, "a")
      assert.is_nil(c:get(b))
    end)

    it("accepts a userdata (another cache) as a key", function()
      local c = methodcache.lru(3)
      local other = methodcache.lru(1)
      c:set(other, "ud")
      assert.are.equal("ud", c:get(other))
      assert.is_nil(c:get(methodcache.lru(1)))
    end)

    it("rejects a nil key in set", function()
      local c = methodcache.lru(3)
      local err = error_of(function() local _ = c:set(nil, 1) end)
      assert.matches("bad argument #1 to 'set'", err, 1, true)
      assert.are.equal(0, #c)
    end)

    it("rejects a NaN key in set", function()
      local c = methodcache.lru(3)
      local err = error_of(function() local _ = c:set(0 / 0, 1) end)
      assert.matches("bad argument #1 to 'set'", err, 1, true)
      assert.are.equal(0, #c)
    end)
  end)

  describe("against a plain-Lua LRU model", function()
    -- a tiny, obviously-correct LRU: an array of {k, v}, most recently used first
    local function norm(k)
      if math.type(k) == "float" and math.tointeger(k) then return math.tointeger(k) end
      return k
    end
    local function model_new(maxsize)
      return { maxsize = maxsize, list = {}, hits = 0, misses = 0, evictions = 0 }
    end
    local function model_find(m, k)
      k = norm(k)
      for i, e in ipairs(m.list) do
        if rawequal(e.k, k) then return i, e end
      end
    end
    local function model_set(m, k, v)
      local i, e = model_find(m, k)
      if i then table.remove(m.list, i); e.v = v
      else e = { k = norm(k), v = v } end
      table.insert(m.list, 1, e)
      if #m.list > m.maxsize then
        table.remove(m.list)
        m.evictions = m.evictions + 1
      end
    end
    local function model_get(m, k)
      local i, e = model_find(m, k)
      if not i then m.misses = m.misses + 1; return nil end
      m.hits = m.hits + 1
      table.remove(m.list, i)
      table.insert(m.list, 1, e)
      return e.v
    end
    local function model_delete(m, k)
      local i = model_find(m, k)
      if i then table.remove(m.list, i); return true end
      return false
    end

    it("agrees on every operation over 30,000 random operations", function()
      local seed = tonumber(os.getenv("METHODCACHE_SEED")) or 20240611
      math.randomseed(seed)
      local live = { {}, {}, {}, function() end, coroutine.create(function() end) }
      local function random_key()
        local r = math.random(1, 10)
        if r <= 4 then return math.random(1, 12)
        elseif r == 5 then return math.random(1, 4) + 0.0       -- same keys as integers
        elseif r == 6 then return ({ 2.5, -0.0, 1e300 })[math.random(1, 3)]
        elseif r == 7 then return ("k" .. math.random(1, 5))
        elseif r == 8 then return string.rep("L", 45) .. math.random(1, 3) -- long strings
        elseif r == 9 then return math.random(1, 2) == 1
        else return live[math.random(1, #live)] end
      end
      local c = methodcache.lru(8)
      local m = model_new(8)
      local function check(cond, op, i, detail)
        if not cond then
          error(("seed=%d op#%d %s: %s (set METHODCACHE_SEED=%d to replay)")
            :format(seed, i, op, detail or "", seed), 2)
        end
      end
      for i = 1, 30000 do
        local op = math.random(1, 100)
        local k = random_key()
        if op <= 35 then
          local v = math.random(1, 1000)
          if v <= 200 then v = nil end -- one set in five stores nil
          check(c:set(k, v) == true, "set", i)
          model_set(m, k, v)
        elseif op <= 65 then
          check(rawequal(c:get(k), model_get(m, k)), "get", i, tostring(k))
        elseif op <= 75 then
          local _, e = model_find(m, k)
          check(rawequal(c:peek(k), e and e.v), "peek", i, tostring(k))
        elseif op <= 85 then
          check(c:has(k) == (model_find(m, k) ~= nil), "has", i, tostring(k))
        elseif op <= 92 then
          check(c:delete(k) == model_delete(m, k), "delete", i, tostring(k))
        elseif op <= 98 then
          local _, e = model_find(m, k)
          local expect = e and e.v
          if e then model_delete(m, k) else expect = "D" end
          check(rawequal(c:pop(k, "D"), expect), "pop", i, tostring(k))
        elseif op == 99 then
          c:clear(); m.list = {}
        else
          collectgarbage()
        end
        if i % 7 == 0 then collectgarbage("step") end
        check(#c == #m.list, "#c", i, ("%d vs %d"):format(#c, #m.list))
        if i % 50 == 0 then
          local j = 0
          for kk, vv in pairs(c) do
            j = j + 1
            local e = m.list[j]
            check(e ~= nil and rawequal(norm(kk), e.k) and rawequal(vv, e.v),
              "pairs order", i, ("position %d: %s"):format(j, tostring(kk)))
          end
          check(j == #m.list, "pairs count", i)
          local s = c:stats()
          check(s.hits == m.hits and s.misses == m.misses, "stats", i,
            ("hits %d/%d misses %d/%d"):format(s.hits, m.hits, s.misses, m.misses))
        end
      end
      local s = c:stats()
      check(s.hits == m.hits and s.misses == m.misses and s.evictions == m.evictions
        and s.currsize == #m.list, "final stats", 30000,
        ("hits %d/%d misses %d/%d evictions %d/%d"):format(
          s.hits, m.hits, s.misses, m.misses, s.evictions, m.evictions))
    end)
  end)
end)

describe("tostring of a cache", function()
  it("names the policy, maxsize once and the count of entries", function()
    local c = methodcache.lru(5)
    c:set("a", 1)
    assert.matches("^methodcache%.lru%(5%): 1 entries %(0?x?%x+%)$", tostring(c))
    assert.matches("^methodcache%.unbounded%(inf%): 0 entries", tostring(methodcache.unbounded()))
  end)
end)
