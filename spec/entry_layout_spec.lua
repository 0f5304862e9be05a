-- Compact entries (issue 7): what an entry costs by policy and options, as
-- docs/DESIGN.md ("What an entry costs") tabulates it, and the parts only
-- some entries have (weight, expiry, node) kept right through churn.
local methodcache = require("methodcache")
local core = require("methodcache.core")
local H = require("spec.support.helpers")

-- 4096 entries, as many as buckets (and array slots): each entry's bytes in
-- stats().bytes are its own plus exactly 8 of buckets (and 8 of array)
local N = 4096

local function ttu(_, _, now) return now + 1e9 end

-- bytes per entry of integer keys to integer values: a 42-byte header, the
-- key (6 bytes for the keys of 'sparse' below), the policy part, the
-- weight, buckets and arrays
local KEY = 6
local COST = {
  { "lru", function(o) return methodcache.lru(N, o) end, 42 + KEY + 8 },
  { "fifo", function(o) return methodcache.fifo(N, o) end, 42 + KEY + 8 },
  { "unbounded", function(o) return methodcache.unbounded(o) end, 42 + KEY + 8 },
  { "lfu", function(o) return methodcache.lfu(N, o) end, 42 + KEY + 8 + 8 },
  { "rr", function(o) return methodcache.rr(N, o) end, 42 + KEY + 8 + 8 },
  { "ttl", function(o) return methodcache.ttl(N, 1e9, o) end, 42 + KEY + 8 + 24 },
  { "tlru", function(o) return methodcache.tlru(N, ttu, o) end, 42 + KEY + 8 + 16 + 8 },
}

local function per_entry(c, n, key)
  local empty = c:stats().bytes
  for i = 1, n do c:set(key(i), i) end
  assert.are.equal(n, #c)
  return (c:stats().bytes - empty) / n
end

-- 2^32 + i * 1000003 for i <= N: zigzag-coded below 2^34, 5 bytes, and a
-- tag byte
local function sparse(i) return (1 << 32) + i * 1000003 end

-- A check's result (core._check, methodcache._budget) after a random step.
local function assert_sound(seed, step, sound, why)
  assert(sound, ("seed %d, step %d: %s"):format(seed, step, tostring(why)))
end

describe("an entry", function()
  for _, p in ipairs(COST) do
    local name, make, bytes = p[1], p[2], p[3]

    it("of a " .. name .. " cache costs " .. bytes .. " bytes for an integer key and value",
       function()
      -- LFU's lists of equal counts add a few bytes for the whole cache
      assert.are.equal(bytes, math.floor(per_entry(make(), N, sparse)))
    end)

    it("of a weighted " .. name .. " cache costs 8 bytes more for its weight", function()
      local weighed = make({ getsizeof = function() return 1 end })
      assert.are.equal(bytes + 8, math.floor(per_entry(weighed, N, sparse)))
    end)
  end

  it("of an LRU cache under a budget (option total) costs 24 bytes more, its link and cache",
     function()
    -- one object per method: the same buckets, so the difference is the part
    local function per_object_entry(opts)
      local m = methodcache.method(function(_, k) return k end, opts)
      local o = {}
      local before = methodcache.memory()
      for i = 1, N do m(o, sparse(i)) end
      return (methodcache.memory() - before) / N, m, o
    end
    local plain = per_object_entry({ maxsize = N })
    local budgeted = per_object_entry({ maxsize = N, total = 10 * N })
    assert.are.equal(24, budgeted - plain)
  end)

  it("of an LRU cache with a key of 14 bytes fits a 64-byte malloc chunk", function()
    -- glibc gives a request of up to 56 bytes a 64-byte chunk: header 42
    -- plus the key; a 12-character string encodes to 14 bytes (the item's
    -- tag and length, the characters)
    local c = methodcache.lru(N)
    local b = per_entry(c, N, function(i) return ("%012d"):format(i) end)
    assert.are.equal(42 + 14 + 8, b)
  end)

  it("of a full rr or tlru cache has a slot in an array of maxsize + 1, not of a power of two",
     function()
    -- the array holds maxsize entries and the one being stored: 5001 slots,
    -- not 8192; the other bytes are those of an LRU entry and, for TLRU, its part
    local n = 5000
    local function bytes(c)
      local empty = c:stats().bytes
      for i = 1, n + 10 do c:set(sparse(i), i) end
      assert.are.equal(n, #c)
      return c:stats().bytes - empty
    end
    local lru = bytes(methodcache.lru(n))
    assert.are.equal((n + 1) * 8, bytes(methodcache.rr(n)) - lru)
    assert.are.equal(n * 16 + (n + 1) * 8, bytes(methodcache.tlru(n, ttu)) - lru)
  end)

  describe("key of one integer", function()
    -- the item's tag byte and the zigzag-coded value in the bytes it needs
    local SIZES = {
      { 0, 2 }, { 1, 2 }, { -1, 2 }, { 127, 2 }, { -128, 2 }, { 128, 3 }, { -129, 3 },
      { 32767, 3 }, { -32768, 3 }, { 32768, 4 }, { 1 << 31, 6 }, { -(1 << 31), 5 },
      { 1 << 55, 9 }, { (1 << 55) - 1, 8 }, { math.maxinteger, 9 }, { math.mininteger, 9 },
    }

    local function keybytes(k)
      local c = methodcache.lru(4)
      local empty = c:stats().bytes
      c:set(k, true)
      return c:stats().bytes - empty
    end

    it("takes the bytes its magnitude needs, 2 to 9", function()
      local base = keybytes(0) - 2
      for _, p in ipairs(SIZES) do
        assert.are.equal(p[2], keybytes(p[1]) - base, "key " .. p[1])
      end
    end)

    it("comes back from the cache as the very integer, at every size", function()
      local c, want = methodcache.unbounded(), {}
      for _, p in ipairs(SIZES) do
        for _, k in ipairs({ p[1], -p[1] }) do -- mininteger is its own negation
          c:set(k, k)
          want[k] = true
        end
      end
      local n = 0
      for k, v in pairs(c) do
        n = n + 1
        assert.are.equal("integer", math.type(k))
        assert.are.equal(v, k)
        assert.are.equal(v, c:get(k))
        assert.is_true(want[k])
        want[k] = nil
      end
      assert.are.equal(#c, n)
      assert.are.same({}, want)
    end)
  end)
end)

describe("the parts of entries", function()
  local POLICIES = { "lru", "lfu", "fifo", "rr", "ttl", "tlru", "unbounded" }

  local function make(policy, weighted)
    local o = {}
    if weighted then o.getsizeof = function(v) return type(v) == "number" and v % 3 or 2 end end
    if policy == "ttl" then return methodcache.ttl(64, 1e9, o) end
    if policy == "tlru" then return methodcache.tlru(64, ttu, o) end
    if policy == "unbounded" then return methodcache.unbounded(o) end
    return methodcache[policy](64, o)
  end

  for _, policy in ipairs(POLICIES) do
    for _, weighted in ipairs({ false, true }) do
      it("stay consistent in a " .. (weighted and "weighted " or "") .. policy
         .. " cache of value and object keys under churn", function()
        local seed = 7919 + #policy + (weighted and 1 or 0)
        local rng = H.rng(seed)
        local c = make(policy, weighted)
        local objs = {}
        for i = 1, 16 do objs[i] = {} end
        for step = 1, 3000 do
          local r = rng(10)
          local k = (r <= 5) and rng(100) or objs[rng(16)]
          if r <= 7 then
            c:set(k, rng(2) == 1 and rng(1000) or { step })
          elseif r == 8 then
            c:get(k)
          elseif r == 9 then
            c:delete(k)
          else
            objs[rng(16)] = {}  -- an object key dies
            if step % 50 == 0 then collectgarbage() end
          end
          assert_sound(seed, step, core._check(c))
        end
      end)
    end
  end
end)

describe("the parts of timed entries", function()
  for _, policy in ipairs({ "ttl", "tlru" }) do
    it("stay consistent in a " .. policy .. " cache whose entries get ttls of their own, "
       .. "the cache's again, and expire", function()
      local seed = 4099 + #policy
      local rng = H.rng(seed)
      local now = 0
      local timer = function() return now end
      local c = policy == "ttl" and methodcache.ttl(32, 5, { timer = timer })
        or methodcache.tlru(32, function(_, _, t) return t + 5 end, { timer = timer })
      for step = 1, 4000 do
        local r, k = rng(10), rng(48)
        if r <= 4 then
          c:set(k, step, rng(20) / 2)  -- its own ttl: TTL's heap
        elseif r <= 7 then
          c:set(k, step)               -- the cache's: TTL's list
        elseif r == 8 then
          c:get(k)
        elseif r == 9 then
          c:delete(k)
        else
          now = now + rng(3) / 2
        end
        assert_sound(seed, step, core._check(c))
      end
    end)
  end
end)

describe("the parts of entries under a budget", function()
  it("stay consistent while objects store, hit, delete and die", function()
    local seed = 6007
    local rng = H.rng(seed)
    local m = methodcache.method(function(_, k) return k * 2 end, { maxsize = 16, total = 40 })
    local objs = {}
    for i = 1, 8 do objs[i] = {} end
    for step = 1, 3000 do
      local r, o = rng(10), objs[rng(8)]
      if r <= 7 then
        assert.are.equal(m(o, rng(30)) % 2, 0)
      elseif r <= 8 then
        methodcache.delete(m, o, rng(30))
      else
        objs[rng(8)] = {}  -- an object dies
        if step % 40 == 0 then collectgarbage() end
      end
      assert_sound(seed, step, methodcache._budget(m))
    end
  end)
end)

describe("a cached result count", function()
  for _, n in ipairs({ 255, 256, 65537 }) do
    it("of " .. n .. " values comes back whole", function()
      local t = {}
      for i = 1, n do t[i] = i end
      t[n // 2] = nil  -- a hole: the count cannot come from the values
      local calls = 0
      local m = methodcache.method(function() calls = calls + 1; return table.unpack(t, 1, n) end)
      local o = {}
      local first = table.pack(m(o))
      local hit = table.pack(m(o))
      assert.are.equal(1, calls)
      assert.are.equal(n, first.n)
      assert.are.equal(n, hit.n)
      assert.is_nil(hit[n // 2])
      assert.are.equal(n, hit[n])
    end)
  end
end)
