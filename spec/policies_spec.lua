-- Differential random specs: every policy against its plain-Lua model
-- (spec/support/models.lua), operation by operation.
--
-- A failure prints the seed and the operation number; set METHODCACHE_SEED
-- to replay it.  Every run derives its own stream from that one seed.
local methodcache = require("methodcache")
local models = require("spec.support.models")

local SEED = tonumber(os.getenv("METHODCACHE_SEED") or "") or 20240603
local random = math.random

-- {{{ values and keys

-- Objects kept alive by the spec: identity keys without collection.
local objs = {}
for i = 1, 8 do objs[i] = { name = "obj" .. i } end
objs[9] = function() end
objs[10] = coroutine.create(function() end)

local keys = {}
for i = -3, 20 do keys[#keys + 1] = i end
for _, k in ipairs({ math.maxinteger, math.mininteger,
                     0.5, -1.25, 1e-300, 7.75, 2^63, math.huge, -math.huge,
                     3.0, -0.0, 2^53,
                     "", "a", "b", "hello", "1", "true",
                     string.rep("x", 41), string.rep("long key ", 20),
                     string.rep("k", 200) .. "1", string.rep("k", 200) .. "2",
                     true, false }) do
  keys[#keys + 1] = k
end
for _, o in ipairs(objs) do keys[#keys + 1] = o end

local function randkey()
  return keys[random(#keys)]
end

local strings = { "", "v", "value", string.rep("w", 50) }
local function randvalue()
  local r = random(13)
  if r == 1 then return nil
  elseif r == 2 then return true
  elseif r == 3 then return false
  elseif r == 4 then return random(-1000, 1000)
  elseif r == 5 then return random() * 100 + 0.5
  elseif r == 6 then return strings[random(#strings)]
  elseif r == 7 then return {}
  elseif r == 8 then return objs[random(#objs)]
  elseif r == 9 then return -0.0
  elseif r == 10 then return 0 / 0
  elseif r == 11 then return math.mininteger
  elseif r == 12 then return 2^63
  else return random(0, 3) end
end

-- Weights: a pure function of the value; objs[1] is heavier than any maxsize
-- used with weights.
local function weigh(v)
  local t = type(v)
  if t == "number" then
    if math.type(v) == "integer" then return v % 4 end
    return 2
  elseif t == "string" then return #v % 6
  elseif v == objs[1] then return 100
  elseif t == "table" then return 3
  elseif t == "nil" then return 0
  end
  return 1
end

local function same(a, b)
  if a ~= a then return b ~= b end
  if type(a) ~= type(b) then return false end
  if type(a) == "number" then
    if math.type(a) ~= math.type(b) then return false end
    if a == 0 and math.type(a) == "float" then return 1 / a == 1 / b end
    return a == b
  end
  return rawequal(a, b)
end

local function show(v)
  if math.type(v) == "integer" then
    return ("integer(%d)"):format(v)
  elseif type(v) == "number" then
    return ("%s(%s)"):format(math.type(v), v == v and ("%.17g"):format(v) or "nan")
  elseif type(v) == "string" then
    return #v > 24 and ("%q..(%d bytes)"):format(v:sub(1, 12), #v) or ("%q"):format(v)
  end
  return tostring(v)
end

-- }}}

-- {{{ the driver

local ctx = {}  -- where we are, for failure messages

local function where()
  local recent = {}
  for i = math.max(1, ctx.op - 7), ctx.op do
    local r = ctx.ring[i % 8]
    if r then
      recent[#recent + 1] = ("  #%d %s(%s, %s)"):format(i, r[1], show(r[2]), show(r[3]))
    end
  end
  return ("seed=%d run=%s op#%d (set METHODCACHE_SEED=%d to replay)\n%s")
    :format(SEED, ctx.run, ctx.op, SEED, table.concat(recent, "\n"))
end

local function check(cond, fmt, ...)
  if not cond then
    error(("%s\n%s"):format(fmt:format(...), where()), 0)
  end
end

local function check_same(got, want, what)
  if not same(got, want) then
    check(false, "%s: got %s, want %s", what, show(got), show(want))
  end
end

local function check_notices(got, want)
  check(#got == #want, "on_evict: %d notices, want %d", #got, #want)
  for i = 1, #want do
    check_same(got[i][1], want[i][1], "on_evict #" .. i .. " key")
    check_same(got[i][2], want[i][2], "on_evict #" .. i .. " value")
    check_same(got[i][3], want[i][3], "on_evict #" .. i .. " reason")
  end
end

local function check_stats(c, m)
  local s, w = c:stats(), m:stats()
  for _, f in ipairs({ "hits", "misses", "evictions", "expirations",
                       "currsize", "maxsize" }) do
    check_same(s[f], w[f], "stats()." .. f)
  end
  check_same(#c, m.count, "#c")
end

local function check_order(c, m, now, unordered)
  local got = {}
  for k, v in pairs(c) do got[#got + 1] = { k, v } end
  local want = m:order(now)
  check(#got == #want, "pairs: %d entries, want %d", #got, #want)
  if unordered then
    local byc = {}
    for _, kv in ipairs(want) do byc[models.canon(kv[1], m.typed)] = kv end
    for i, kv in ipairs(got) do
      local w = byc[models.canon(kv[1], m.typed)]
      check(w ~= nil, "pairs #%d: key %s is not in the model", i, show(kv[1]))
      check_same(kv[1], w[1], "pairs #" .. i .. " key")
      check_same(kv[2], w[2], "pairs #" .. i .. " value")
    end
    return
  end
  for i = 1, #want do
    check_same(got[i][1], want[i][1], "pairs #" .. i .. " key")
    check_same(got[i][2], want[i][2], "pairs #" .. i .. " value")
  end
end

local constructors = {
  lru = methodcache.lru, lfu = methodcache.lfu, fifo = methodcache.fifo,
  rr = methodcache.rr,
}

--- Runs 'nops' random operations on a cache and its model, comparing all.
-- cfg: policy, maxsize, nops, weighted, typed, seed (the run's own)
local function run(cfg)
  local policy = cfg.policy
  ctx.run = cfg.name
  ctx.op = 0
  ctx.ring = {}
  math.randomseed(SEED, cfg.stream)
  local now = 0
  local got = {}
  local ttu_calls = {}
  local ttu_delta = 1
  local timer = function() return now end
  local opts = {
    timer = (policy == "ttl" or policy == "tlru") and timer or nil,
    on_evict = function(k, v, r) got[#got + 1] = { k, v, r } end,
    getsizeof = cfg.weighted and weigh or nil,
    typed = cfg.typed,
  }
  local ttl = 5
  local ttu = function(k, v, n)
    ttu_calls[#ttu_calls + 1] = { k, v, n }
    return n + ttu_delta
  end
  local c
  if policy == "ttl" then c = methodcache.ttl(cfg.maxsize, ttl, opts)
  elseif policy == "tlru" then c = methodcache.tlru(cfg.maxsize, ttu, opts)
  elseif policy == "unbounded" then c = methodcache.unbounded(opts)
  else c = constructors[policy](cfg.maxsize, opts) end
  local m = models.new({ policy = policy, maxsize = cfg.maxsize, ttl = ttl,
                         getsizeof = opts.getsizeof, typed = cfg.typed })

  -- rr: the cache picks the victims; the model checks and follows them
  local chooser
  if policy == "rr" then
    chooser = function(model, avoid)
      local n = got[#model.notices + 1]
      check(n ~= nil, "rr: too few evictions (model needs another)")
      check(n[3] == "size", "rr: eviction reason %s, want size", show(n[3]))
      local e = model:find(n[1])
      check(e ~= nil, "rr: evicted key %s was not in the cache", show(n[1]))
      check(e ~= avoid, "rr: evicted the key being set")
      return e
    end
  end

  local ring = ctx.ring
  local eps = 0
  for op = 1, cfg.nops do
    ctx.op = op
    got = {}
    m.notices = {}
    local r = random(1000)
    if r <= 350 then
      local k, v = randkey(), randvalue()
      ring[op % 8] = { "set", k, v }
      local expires
      if policy == "tlru" then
        local d = random(7)
        if d == 1 then ttu_delta = -1
        elseif d == 2 then ttu_delta = 0
        else
          eps = eps + 1
          ttu_delta = ({ 0.5, 2, 5, 9, 30 })[d - 2] + eps * 2^-24
        end
        expires = now + ttu_delta
        ttu_calls = {}
      end
      local ok = c:set(k, v)
      if policy == "tlru" then
        check(#ttu_calls == 1, "ttu called %d times, want 1", #ttu_calls)
        check_same(ttu_calls[1][1], k, "ttu key")
        check_same(ttu_calls[1][2], v, "ttu value")
        check_same(ttu_calls[1][3], now + 0.0, "ttu now")
      end
      check_same(ok, m:set(k, v, now, expires, chooser), "set")
    elseif r <= 600 then
      local k = randkey()
      ring[op % 8] = { "get", k }
      check_same(c:get(k), m:get(k, now), "get")
    elseif r <= 680 then
      local k = randkey()
      ring[op % 8] = { "peek", k }
      check_same(c:peek(k), m:peek(k, now), "peek")
    elseif r <= 760 then
      local k = randkey()
      ring[op % 8] = { "has", k }
      check_same(c:has(k), m:has(k, now), "has")
    elseif r <= 820 then
      local k = randkey()
      ring[op % 8] = { "delete", k }
      check_same(c:delete(k), m:delete(k, now), "delete")
    elseif r <= 880 then
      local k, d = randkey(), randvalue()
      ring[op % 8] = { "pop", k, d }
      check_same(c:pop(k, d), m:pop(k, d, now), "pop")
    elseif r <= 900 then
      ring[op % 8] = { "expire" }
      check_same(c:expire(), m:expire(now), "expire()")
    elseif r <= 980 then
      local dt = ({ 0.25, 0.5, 1, 3 })[random(4)]
      ring[op % 8] = { "tick", dt }
      now = now + dt
    elseif r <= 999 then
      ring[op % 8] = { "collectgarbage" }
      collectgarbage("step")
    else
      ring[op % 8] = { "clear" }
      c:clear()
      m:clear(now)
      if policy == "rr" then
        -- pairs order, so the notices' order, is unspecified for rr: the
        -- same notices as a set
        check(#got == #m.notices, "clear: %d notices, want %d", #got, #m.notices)
        local want = {}
        for _, n in ipairs(m.notices) do want[models.canon(n[1], m.typed)] = n end
        for i, n in ipairs(got) do
          local w = want[models.canon(n[1], m.typed)]
          check(w ~= nil, "clear notice #%d: key %s was not in the cache", i, show(n[1]))
          check_same(n[2], w[2], "clear notice value")
          check_same(n[3], "cleared", "clear notice reason")
          want[models.canon(n[1], m.typed)] = nil
        end
        m.notices = got
      end
    end
    check_notices(got, m.notices)
    check_stats(c, m)
    if op % 500 == 0 or op == cfg.nops then
      check_order(c, m, now, policy == "rr")
    end
  end
  return c, m
end

-- }}}

local function runs(policy, segments)
  local total = 0
  for i, s in ipairs(segments) do
    s.policy = policy
    s.stream = i * 7919 + #policy * 104729 + (s.weighted and 13 or 0)
    s.name = ("%s[%d] maxsize=%s%s%s"):format(policy, i, s.maxsize,
      s.weighted and " weighted" or "", s.typed and " typed" or "")
    run(s)
    total = total + s.nops
  end
  return total
end

-- 200,000+ operations for each policy, most on a cache of 16 entries (the
-- key pool has ~60 keys), then tiny, empty and roomy caches.
local function standard()
  return {
    { maxsize = 16, nops = 150000 },
    { maxsize = 2, nops = 30000 },
    { maxsize = 0, nops = 3000 },
    { maxsize = 80, nops = 20000 },
  }
end

-- `make test` compares every policy over a few thousand operations (the
-- first fiftieth of each run); `make test-long` runs the specs tagged #slow,
-- the same comparisons over 200,000 operations and more.
local function short(segments)
  for _, s in ipairs(segments) do s.nops = (s.nops + 49) // 50 end
  return segments
end

local function weighted()
  return {
    { maxsize = 12, nops = 150000, weighted = true },
    { maxsize = 3, nops = 30000, weighted = true },
    { maxsize = 40, nops = 20000, weighted = true },
  }
end

-- Each comparison twice: over the first fiftieth of its operations, and in
-- full, tagged #slow.
local function compare(sentence, policy, segments)
  it(sentence .. " over 4,000 random operations", function()
    assert.is_true(runs(policy, short(segments())) >= 4000)
  end)

  it(sentence .. " over 200,000 random operations #slow", function()
    assert.is_true(runs(policy, segments()) >= 200000)
  end)
end

local function unbounded(nops)
  local _, m = run({ policy = "unbounded", maxsize = nil, nops = nops,
                     stream = 1, name = "unbounded" })
  assert.is_true(m.hits > 0 and m.misses > 0)
end

describe("policies against their models", function()
  for _, policy in ipairs({ "lru", "lfu", "fifo", "ttl", "tlru" }) do
    compare(policy .. " gives the model's results, notices, stats and order", policy, standard)
  end

  it("unbounded gives the model's results, notices, stats and order"
     .. " over 4,000 random operations", function()
    unbounded(4000)
  end)

  it("unbounded gives the model's results, notices, stats and order"
     .. " over 200,000 random operations #slow", function()
    unbounded(200000)
  end)

  it("lru with typed keys keeps 1 and 1.0 apart like its model", function()
    local c = run({ policy = "lru", maxsize = 16, nops = 30000, typed = true,
                    stream = 2, name = "lru typed" })
    c:clear()
    c:set(3, "int")
    c:set(3.0, "float")
    assert.are.equal(2, #c)
  end)

  for _, policy in ipairs({ "lru", "lfu" }) do
    compare(policy .. " with getsizeof weighs entries like its model", policy, weighted)
  end
end)

describe("rr", function()
  -- the model follows the victims the cache names and checks each one
  compare("evicts only present entries, one per missing slot, reported as 'size',",
          "rr", standard)

  it("never holds more than maxsize entries", function()
    local c = methodcache.rr(7, { seed = 3 })
    for i = 1, 1000 do
      c:set(i % 50, i)
      assert.is_true(#c <= 7, "size " .. #c .. " after set #" .. i)
    end
    assert.are.equal(7, #c)
  end)

  local function evictions(seed, n)
    local out = {}
    local c = methodcache.rr(10, { seed = seed, on_evict = function(k, _, r)
      assert.are.equal("size", r)
      out[#out + 1] = k
    end })
    for i = 1, n do c:set(i, i) end
    return out
  end

  it("evicts the same entries for the same seed and operations", function()
    local a, b = evictions(42, 2000), evictions(42, 2000)
    assert.are.equal(1990, #a)
    assert.are.same(a, b)
  end)

  it("evicts other entries with another seed", function()
    assert.are_not.same(evictions(42, 200), evictions(43, 200))
  end)

  it("chooses victims uniformly over the positions in insertion order", function()
    -- fill 10 slots; each set of a new key evicts one: record its age rank
    local N, EVICTIONS = 10, 20000
    local ages = {}   -- key -> insertion time
    local victim
    local c = methodcache.rr(N, { seed = 7, on_evict = function(k) victim = k end })
    for i = 1, N do c:set(i, true); ages[i] = i end
    local hist = {}
    for r = 1, N do hist[r] = 0 end
    for i = N + 1, N + EVICTIONS do
      victim = nil
      c:set(i, true)
      assert.is_not_nil(victim)
      -- rank of the victim among the present keys, oldest = 1
      local rank = 1
      for k, t in pairs(ages) do
        if k ~= victim and t < ages[victim] then rank = rank + 1 end
      end
      hist[rank] = hist[rank] + 1
      ages[victim] = nil
      ages[i] = i
    end
    local expected = EVICTIONS / N
    local chi2 = 0
    for r = 1, N do chi2 = chi2 + (hist[r] - expected)^2 / expected end
    -- 9 degrees of freedom: P(chi2 > 40) < 1e-5; a biased choice (always
    -- the oldest, the newest, or twice as often one slot) is far above
    assert.is_true(chi2 < 40, ("chi2 = %.2f, histogram %s"):format(chi2,
      table.concat(hist, " ")))
    for r = 1, N do assert.is_true(hist[r] > 0) end
  end)
end)
