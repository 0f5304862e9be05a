-- Memory safety (issue 6): one spec per reproducer of the hostile review.
-- Each crashed, corrupted memory or misbehaved before the fixes; each
-- asserts the correct behaviour, not only that nothing crashed, and counts
-- what it relies on (finalizers that ran, and ran inside an operation) so
-- that it cannot pass without exercising the case.
--
-- Objects are created inside helper functions, never in the spec's own
-- locals: a dead register of the running Lua frame is still a root.
local methodcache = require("methodcache")
local H = require("spec.support.helpers")

local full_gc = H.full_gc

-- The collector modes every finalizer case runs in, each as eager as the
-- API allows (H.eager_gc); after_each puts the previous settings back.
local MODES = { "incremental", "generational" }

-- Runs body(mode) as one `it` per mode, with the eager collector.
local function each_mode(name, body)
  H.each_mode(it, name, body)
end

describe("a NaN argument after an object argument the cache has not seen", function()
  it("is never cached by a cached function, with a long string between them", function()
    local calls = 0
    local f = methodcache.cached(function(_, s, x)
      calls = calls + 1
      return #s, x
    end)
    local s = string.rep("x", 4000)
    for i = 1, 3 do
      local n, x = f({}, s, 0 / 0)
      assert.are.equal(4000, n)
      assert.is_true(x ~= x, "the NaN comes back")
      assert.are.equal(i, calls)
      assert.are.equal(0, methodcache.info(f).currsize)
    end
  end)

  it("is never cached by a method, with a long string between them", function()
    local T = { calls = 0 }
    T.__index = T
    T.m = methodcache.method(function(_, _, s, x)
      T.calls = T.calls + 1
      return #s, x
    end)
    local o = setmetatable({}, T)
    local s = string.rep("y", 4000)
    for i = 1, 3 do
      local n, x = o:m({}, s, 0 / 0)
      assert.are.equal(4000, n)
      assert.is_true(x ~= x)
      assert.are.equal(i, T.calls)
      assert.are.equal(0, methodcache.info(T.m, o).currsize)
    end
  end)

  it("does not make the object's cache grow while earlier entries die", function()
    local T = { calls = 0 }
    T.__index = T
    T.m = methodcache.method(function()
      T.calls = T.calls + 1
      return 1
    end)
    local o = setmetatable({}, T)
    for i = 1, 50 do
      (function()
        local k = {}
        assert.are.equal(1, o:m(k, i))
      end)()
      collectgarbage()
      local before = methodcache.info(T.m, o).currsize
      local calls = T.calls
      assert.are.equal(1, o:m({}, 0 / 0))
      assert.are.equal(calls + 1, T.calls, "a NaN call always calls the method")
      assert.are.equal(before, methodcache.info(T.m, o).currsize,
        "step " .. i .. ": a NaN call stored an entry")
    end
    full_gc()
    assert.are.equal(0, methodcache.info(T.m, o).currsize)
    assert.are.equal(100, T.calls)
  end)
end)

-- Each case of spec/support/finalizer_cases.lua runs in a child process, and
-- in another under valgrind: most of what goes wrong when a finalizer
-- changes a cache under an operation is a write to freed memory that no
-- result shows.  A case raises if a result is wrong or if no finalizer ran
-- inside an operation.

local have_valgrind = H.have("valgrind")
-- a corrupted list can make a child loop for ever: it gets this long
local TIMEOUT = H.have("timeout") and "timeout 300" or nil

-- case: name in finalizer_cases; what: the sentence; scale: how much smaller
-- the valgrind run is.
local function finalizer_case(case, what, scale)
  -- in a fresh state of its own (a child), where the eager collector runs
  -- finalizers inside most allocations; in busted's big heap it may run none
  -- inside an operation, and the case would prove nothing
  each_mode(what, function(mode)
    local ok, how, code, out = H.run(H.lua_command("spec/support/run_case.lua",
      { case, mode, H.under_valgrind and 2 or 1 }, TIMEOUT))
    assert(ok, ("%s %s\n%s"):format(how, code, out))
    assert.matches(case .. " (" .. mode .. "): ", out, 1, true)
  end)
  for _, mode in ipairs(MODES) do
    -- #slow: make test-long (and CI) runs them; make test runs the plain children
    local name = ("%s (%s, in a child process under valgrind) #slow"):format(what, mode)
    if H.under_valgrind then
      pending(name .. ": this run is under valgrind already")
    elseif not have_valgrind then
      pending(name .. ": valgrind is not installed")
    else
      it(name, function()
        local ok, how, code, out = H.run(H.lua_command("spec/support/run_case.lua",
          { case, mode, scale }, (TIMEOUT and TIMEOUT .. " " or "") .. H.VALGRIND))
        assert(ok, ("%s %s\n%s"):format(how, code, out))
        assert.matches(case .. " (" .. mode .. "): ", out, 1, true)
      end)
    end
  end
end

describe("finalizers using a cache while one of its operations runs", function()
  finalizer_case("lookups",
    "leave every svc:lookup(id) of the review with its own results", 10)
  finalizer_case("lookups_evicting",
    "leave every call right with maxsize 8, and on_evict gets matching keys and values", 10)
  finalizer_case("pairs_clear",
    "leave pairs(c) a snapshot of matching keys and values while they clear c", 10)
  finalizer_case("clear_calls",
    "never make a hit answer nil, nil while methodcache.clear(f, o) runs", 10)
end)

-- A table key that gets a __gc metamethod after it became a key runs that
-- finalizer while the cache still holds its entry.  What the library does
-- then: the entry is still there, as in a weak-keyed Lua table (docs/API.md:
-- object keys are held "like a weak-keyed table"), whose keys the manual
-- (2.5.4) removes only when the object is actually freed, after its
-- finalizer.  So has() is true, peek() and get() give the value and pop()
-- takes it out: has, get and pop agree; after pop the key is absent; and
-- on_evict hears of the pop with the key itself.
describe("a key's own finalizer", function()
  finalizer_case("key_gc",
    "sees its entry: has, peek, get and pop agree, and pop removes it", 1)
  finalizer_case("key_gc_table",
    "sees its entry when the value is a table referring to the key", 1)
end)

describe("total weights near math.maxinteger", function()
  -- the weight of a value is the value
  local function weighted(maxsize, log)
    return methodcache.lru(maxsize, {
      getsizeof = function(v) return v end,
      on_evict = log and function(k, v, r) log[#log + 1] = { k, v, r } end,
    })
  end

  local function check_total(c, maxsize, step)
    local sum, n, over = 0, 0, false
    for _, w in pairs(c) do
      if w > math.maxinteger - sum then over = true else sum = sum + w end
      n = n + 1
    end
    local cur = c:stats().currsize
    assert.is_false(over, step .. ": the weights of the entries pass math.maxinteger")
    assert.is_true(sum <= maxsize, step .. ": the weights of the entries pass maxsize")
    assert.are.equal("integer", math.type(cur), step)
    assert.is_true(cur >= 0, step .. ": currsize " .. cur .. " < 0")
    assert.is_true(cur <= maxsize, step .. ": currsize " .. cur .. " > maxsize")
    assert.are.equal(sum, cur, step .. ": currsize is not the sum of the weights")
    assert.are.equal(n, #c, step)
  end

  it("keep currsize non-negative and within maxsize through sets and updates", function()
    local max = math.maxinteger
    local big = 1 << 62
    local c = weighted(max)
    local steps = {
      { "a", big }, { "b", big - 1 }, { "c", big }, { "b", max }, { "d", 1 },
      { "e", big + 1 }, { "e", big + 2 }, { "d", big }, { "f", max }, { "f", max - 1 },
      { "g", 1 }, { "g", big }, { "h", max }, { "h", 0 }, { "i", big }, { "i", max },
    }
    for i, s in ipairs(steps) do
      assert.is_true(c:set(s[1], s[2]))
      local label = ("step %d, set(%s, %d)"):format(i, s[1], s[2])
      check_total(c, max, label)
      assert.are.equal(s[2], c:peek(s[1]), label .. ": the value just set is there")
    end
  end)

  it("evict in order until the new weight fits, however large the total", function()
    local log = {}
    local max = math.maxinteger
    local third = max // 3
    local c = weighted(max, log)
    c:set(1, third); c:set(2, third); c:set(3, third)
    check_total(c, max, "three thirds")
    assert.are.same({}, log)
    assert.is_true(c:set(4, third))       -- 4 * third > max: the oldest goes
    assert.are.same({ { 1, third, "size" } }, log)
    check_total(c, max, "fourth")
    assert.is_true(c:set(3, max))         -- an update to the whole of maxsize
    assert.are.same({ 2, third, "size" }, log[2])
    assert.are.same({ 4, third, "size" }, log[3])
    assert.are.same({ { 3, max } }, H.entries(c))
    check_total(c, max, "update to max")
  end)

  it("let lru(math.maxinteger).maxsize be math.maxinteger, an integer", function()
    local c = methodcache.lru(math.maxinteger)
    assert.are.equal(math.maxinteger, c.maxsize)
    assert.are.equal("integer", math.type(c.maxsize))
    assert.are.equal(math.maxinteger, c:stats().maxsize)
    assert.are.equal("integer", math.type(c:stats().maxsize))
    local C = {}
    C.__index = C
    C.m = methodcache.method(function(_, x) return x end, { maxsize = math.maxinteger })
    local o = setmetatable({}, C)
    o:m(1)
    assert.are.equal(math.maxinteger, methodcache.info(C.m, o).maxsize)
    assert.are.equal("integer", math.type(methodcache.info(C.m).maxsize))
    -- and an unbounded cache still says math.huge
    assert.are.equal(math.huge, methodcache.unbounded().maxsize)
  end)
end)

-- methodcache.memory() cannot be read after lua_close: valgrind tells.
describe("lua_close", function()
  local run_it = have_valgrind and it or pending
  local suffix = have_valgrind and "" or " (pending: valgrind is not installed)"

  local function mchost(file, mode)
    local f = io.open(H.root .. "mchost")
    assert.is_truthy(f, "./mchost is missing: run make")
    f:close()
    return H.run((TIMEOUT and TIMEOUT .. " " or "") .. H.VALGRIND .. " ./mchost " ..
                 H.shquote(file) .. " " .. mode)
  end

  run_it("leaks nothing when finalizers run at close without a new cache" .. suffix, function()
    local ok, how, code, out = mchost("spec/support/close_finalizers.lua", "plain")
    assert.is_true(ok, ("mchost under valgrind: %s %s\n%s"):format(how, code, out))
    assert.matches("finalizers at close: 2, caches made at close: 0", out, 1, true)
  end)

  run_it("frees the caches that finalizers create while the state closes" .. suffix, function()
    local ok, how, code, out = mchost("spec/support/close_finalizers.lua", "new-caches")
    assert.is_true(ok, ("mchost under valgrind: %s %s\n%s"):format(how, code, out))
    -- the finalizers did run at close, and did make caches
    assert.matches("finalizers at close: 2, caches made at close: 4", out, 1, true)
  end)
end)

describe("a key longer than the key buffer", function()
  local MB = 1024 * 1024

  -- KiB allocated by 'n' calls of f(), the collector stopped
  local function garbage_of(n, f)
    full_gc()
    collectgarbage("stop")
    local before = collectgarbage("count")
    for _ = 1, n do f() end
    local grown = collectgarbage("count") - before
    collectgarbage("restart")
    return grown
  end

  it("does not allocate a copy of the key at each get, hit or miss", function()
    local c = methodcache.lru(4)
    local hit = string.rep("h", MB)
    local miss = string.rep("m", MB)
    c:set(hit, "value")
    assert.are.equal("value", c:get(hit))
    assert.is_nil(c:get(miss))
    local grown = garbage_of(10, function()
      assert(c:get(hit) == "value")
      assert(c:get(miss) == nil)
    end)
    assert.is_true(grown < 64, ("20 gets of a 1 MiB key allocated %.0f KiB"):format(grown))
    assert.are.same({ hits = 11, misses = 11 },
                    { hits = c:stats().hits, misses = c:stats().misses })
  end)

  it("does not allocate a copy of the key at each has, peek or cached call", function()
    local c = methodcache.lfu(4)
    local f = methodcache.cached(function(s) return #s end)
    local k = string.rep("k", MB)
    c:set(k, true)
    assert.are.equal(MB, f(k))
    local grown = garbage_of(10, function()
      assert(c:has(k))
      assert(c:peek(k) == true)
      assert(f(k) == MB)
    end)
    assert.is_true(grown < 64, ("30 lookups of a 1 MiB key allocated %.0f KiB"):format(grown))
    assert.are.equal(10, methodcache.info(f).hits)
  end)
end)

describe("error messages", function()
  local function fails_with(fragments, absent, f, ...)
    H.check_fragments(H.errmsg(f, ...), fragments, absent)
  end

  -- a cache whose getsizeof returns what the value says
  local function weighing(name)
    return methodcache[name](10, { getsizeof = function(v) return v.w end })
  end

  for _, bad in ipairs({ { 0 / 0, "got nan" }, { math.huge, "got inf" }, { -1, "got -1" },
                         { 1.5, "got 1.5" }, { "3", "got string" } }) do
    it("say getsizeof must return a non-negative integer, " .. bad[2], function()
      local c = weighing("lru")
      c:set("k", { w = 1 })
      fails_with({ "set: ", "getsizeof", "non-negative integer", bad[2] }, nil,
                 c.set, c, "k", { w = bad[1] })
      assert.are.equal(1, #c)
      assert.are.equal(1, c:stats().currsize)
    end)
  end

  it("name the method whose getsizeof returned a bad weight", function()
    local C = {}
    C.__index = C
    C.weigh = methodcache.method(function(_, x) return x end,
                                 { getsizeof = function(x) return x end })
    local o = setmetatable({}, C)
    fails_with({ "weigh", "getsizeof", "non-negative integer", "got 1.5" }, nil,
               function() return o:weigh(1.5) end)
    assert.are.equal(0, methodcache.info(C.weigh, o).currsize)
  end)

  for _, bad in ipairs({ { 0 / 0, "got nan" }, { "5", "got string" } }) do
    it("say the timer must return a number, " .. bad[2], function()
      local c = methodcache.ttl(4, 10, { timer = function() return bad[1] end })
      fails_with({ "timer", "must return a number", bad[2] }, nil, c.set, c, 1, 1)
      fails_with({ "timer", "must return a number", bad[2] }, nil, c.get, c, 1)
      assert.are.equal(0, #c)
    end)
  end

  it("say ttu must return a number, got nan", function()
    local c = methodcache.tlru(4, function() return 0 / 0 end)
    fails_with({ "ttu", "must return a number", "got nan" }, nil, c.set, c, 1, 1)
    assert.are.equal(0, #c)
  end)

  it("name an array item in the options of method and lru", function()
    fails_with({ "bad argument #2 to 'method' (unexpected array item [1] in options)" }, nil,
               methodcache.method, print, { 1, 2 })
    fails_with({ "bad argument #2 to 'lru' (unexpected array item [1] in options)" }, nil,
               methodcache.lru, 10, { 1 })
  end)

  it("say self is a light userdata without telling to call with ':'", function()
    local C = {}
    C.__index = C
    C.m = methodcache.method(function() return 1 end)
    local lud = debug.upvalueid(function() return C end, 1)
    assert.are.equal("userdata", type(lud))
    fails_with({ "bad argument #1 to 'm'", "self is a light userdata" },
               { "call the method with ':'" }, function() return C.m(lud) end)
  end)

  it("treat numeric strings as strings where a number is expected", function()
    fails_with({ "bad argument #2 to 'ttl'", "number expected, got string" }, nil,
               methodcache.ttl, 5, "2")
    fails_with({ "bad argument #1 to 'lru'", "number expected, got string" }, nil,
               methodcache.lru, "3")
    fails_with({ "bad argument #2 to 'rr'", "seed", "got string" }, nil,
               methodcache.rr, 5, { seed = "7" })
    local c = methodcache.lru(10, { getsizeof = function() return "3" end })
    fails_with({ "getsizeof", "non-negative integer", "got string" }, nil, c.set, c, 1, 1)
    assert.are.equal(0, #c)
  end)
end)
