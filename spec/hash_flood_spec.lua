-- Specs for hash flooding: keys chosen to collide must not make lookups slow.
--
-- The key hash used to be a plain mixer, s' = g((s ~ w) * C) with g(y) = y ~ (y >> 31),
-- applied to each 64-bit word of the key from a per-cache seed s. It collides whatever the
-- seed: flipping bit 63 of one word w1 flips bit 63 of the product, hence bits 63 and 32
-- of the state, which flipping bits 63 and 32 of the next word w2 undoes. Each pair
-- of words (one 16-byte block of a string, two integer arguments) can therefore take two
-- values that leave the state unchanged, and 17 such pairs give 2^17 keys with one hash.
-- They all land in one hash chain: 100,000 of them made each `set` walk the whole chain
-- (about 1.1 ms against 1 us for random keys).
--
-- The hash is now SipHash-1-3 under a random per-state key. These specs build those
-- colliding keys (and check, with the old mixer written in Lua, that they do collide
-- there), insert them, and read the cache's hash chains through the internal
-- methodcache.core._chains(c) -> longest chain, key comparisons to find every entry once,
-- entries. Nothing is timed. With the old mixer the first check (at 1,000 keys) sees one
-- chain of 1,000 entries and fails.
--
-- The two 100,000-key specs are tagged #slow: `make valgrind` skips them.
--
-- The construction assumes a little-endian host, as the old mixer read string bytes as
-- host-order words; the assertions on chains hold on any host.

local methodcache = require("methodcache")
local core = require("methodcache.core")

local NKEYS = 100000
local NPAIRS = 17                         -- 2^17 >= NKEYS
local TOP, BIT32 = math.mininteger, 1 << 32

-- The old mixer, word by word, with its closing fold to 32 bits.
local function old_hash(seed, words)
  local h = 0x9E3779B97F4A7C15 ~ seed
  for _, w in ipairs(words) do
    h = (h ~ w) * 0xbf58476d1ce4e5b9
    h = h ~ (h >> 31)
  end
  h = h ~ (h >> 32)
  return (h ~ (h >> 16)) & 0xFFFFFFFF
end

-- The words the old encoder hashed for a string and for a tuple of integers.
local function old_string_words(s)
  local words = { #s ~ (5 << 56) }        -- length ^ MC_KSTR << 56
  for i = 1, #s, 8 do words[#words + 1] = string.unpack("<i8", s, i) end
  return words
end

local function old_ints_words(ints)
  local words = {}
  for i, v in ipairs(ints) do words[i] = v ~ (3 << 56) end  -- value ^ MC_KINT << 56
  return words
end

-- Deterministic filler, so that a failure replays with the same keys.
local function filler(n)
  local x, t = 0x2545F4914F6CDD1D, {}
  for i = 1, n do
    x = x ~ (x << 13); x = x ~ (x >> 7); x = x ~ (x << 17)
    t[i] = x
  end
  return t
end

-- Key number n (0-based): pair j takes its flipped form when bit j of n is set.
local fill = filler(2 * NPAIRS)

local function colliding_string(n)
  local blocks = {}
  for j = 0, NPAIRS - 1 do
    local w1, w2 = fill[2 * j + 1], fill[2 * j + 2]
    if (n >> j) & 1 == 1 then w1, w2 = w1 ~ TOP, w2 ~ TOP ~ BIT32 end
    blocks[j + 1] = string.pack("<i8i8", w1, w2)
  end
  return table.concat(blocks)
end

local function colliding_ints(n)
  local ints = {}
  for j = 0, NPAIRS - 1 do
    local a, b = 2 * j + 1, 2 * j + 2  -- small integers, flipped into huge ones
    if (n >> j) & 1 == 1 then a, b = a ~ TOP, b ~ TOP ~ BIT32 end
    ints[2 * j + 1], ints[2 * j + 2] = a, b
  end
  return ints
end

-- Asserts that a lookup in c costs O(1) key comparisons.
local function assert_short_chains(c, inserted)
  local longest, probes, count = core._chains(c)
  assert.are.equal(inserted, count)
  -- at most one entry per bucket: a uniform hash gives chains of one to three, 1.5
  -- comparisons per key, and a chain of 16 among 2^17 buckets a probability below 10^-7
  assert.is_true(longest <= 16, ("%d keys: a hash chain of %d entries"):format(count, longest))
  assert.is_true(probes <= 2 * count,
    ("%d keys: %d comparisons to find each once"):format(count, probes))
end

-- Inserts keys 0 .. NKEYS-1 with insert(n), checking the chains as the cache grows.
local function fill_and_check(c, insert)
  local checks = { [1000] = true, [10000] = true, [NKEYS] = true }
  for n = 0, NKEYS - 1 do
    insert(n)
    if checks[n + 1] then assert_short_chains(c, n + 1) end
  end
end

describe("hash flooding", function()

  describe("the keys of these specs", function()
    it("collide under the old mixer for any seed: strings", function()
      for _, seed in ipairs({ 0, 1, 0x5eed, -1 }) do
        local h = old_hash(seed, old_string_words(colliding_string(0)))
        for n = 1, NKEYS - 1, 997 do
          local s = colliding_string(n)
          assert.are.equal(16 * NPAIRS, #s)
          assert.are.equal(h, old_hash(seed, old_string_words(s)))
        end
      end
    end)

    it("collide under the old mixer for any seed: integer tuples", function()
      for _, seed in ipairs({ 0, 1, 0x5eed, -1 }) do
        local h = old_hash(seed, old_ints_words(colliding_ints(0)))
        for n = 1, NKEYS - 1, 997 do
          assert.are.equal(h, old_hash(seed, old_ints_words(colliding_ints(n))))
        end
      end
    end)

    it("are all different", function()
      local seen = {}
      for n = 0, NKEYS - 1, 7 do
        local s = colliding_string(n)
        assert.is_nil(seen[s])
        seen[s] = true
      end
    end)
  end)

  describe("an lru cache", function()
    it("keeps hash chains short for 100,000 strings that collided before #slow", function()
      local c = methodcache.lru(NKEYS)
      fill_and_check(c, function(n) c:set(colliding_string(n), n) end)
      for n = 0, NKEYS - 1, 1009 do
        assert.are.equal(n, c:get(colliding_string(n)))
      end
      assert.are.equal(NKEYS, #c)
    end)
  end)

  describe("a cached method", function()
    it("keeps hash chains short for 100,000 integer tuples that collided before #slow", function()
      local cache = methodcache.lru(NKEYS)  -- the factory's one cache, for one object
      local calls = 0
      local Obj = {}
      Obj.__index = Obj
      Obj.first = methodcache(function() return cache end)(function(_, a)
        calls = calls + 1
        return a
      end)
      local obj = setmetatable({}, Obj)
      fill_and_check(cache, function(n)
        obj:first(table.unpack(colliding_ints(n)))
      end)
      local before = calls
      for n = 0, NKEYS - 1, 1009 do
        local ints = colliding_ints(n)
        assert.are.equal(ints[1], obj:first(table.unpack(ints)))
      end
      assert.are.equal(before, calls)  -- every one a hit
    end)
  end)
end)
