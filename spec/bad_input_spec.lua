-- Bad input to every public function (issue 6), one table of cases: each
-- case is its own `it`, named from the table ("lru rejects maxsize NaN").
--
-- A rejected call must raise an error whose message has the function's
-- name, the argument's number and what it got (the convention of docs/API.md
-- and of the issue: `bad argument #N to 'FNAME' (DETAIL)`; `X expected, got
-- TYPE` with Lua's type name, numeric strings being strings; `got VALUE`
-- for bad numbers, written as Lua writes them: nan, inf, -inf, -1, 1.5).
-- Messages are checked by fragments, not whole.
--
-- And whatever a case does, the caches made at the top of this file (the
-- witnesses, some of them the very caches the bad calls are made on) keep
-- the same pairs, the same stats() and the same #c; on_evict is not called.
--
-- Decisions this spec pins:
-- * a value with a __call metamethod is accepted wherever a function is
--   (methods, factories, callbacks): Lua calls it as one, and the binding
--   checks callability (mc_iscallable) since the split of the binding;
-- * `typed` takes a boolean (a string or a number there is a mistake);
-- * a float with an integral value is a valid weight (cache_options_spec);
-- * ttl = math.huge is a valid ttl (never expires), so inf is not a bad ttl;
-- * get, peek, has, delete and pop of nil or NaN are misses, not errors
--   (as indexing a table with them): only set rejects them;
-- * a timer that goes backwards is no error; expire() then still drops
--   every entry that pairs would not give, so #c stays the number of pairs.
local methodcache = require("methodcache")
local H = require("spec.support.helpers")

local NONE = setmetatable({}, { __tostring = function() return "no value" end })
local NAN = 0 / 0
local LUD = debug.upvalueid(function() return NONE end, 1)  -- a light userdata
local function callable() return setmetatable({}, { __call = function() return 1 end }) end

-- Calls f with the arguments of the list 'args' up to the first NONE.
local function invoke(f, args)
  local n = args.n or #args
  for i = 1, n do
    if args[i] == NONE then n = i - 1 break end
  end
  return f(table.unpack(args, 1, n))
end

--{{ The witnesses: caches kept across the whole spec.

local clock = H.fakeclock(100)
-- what the witnesses' timer returns instead of the time while 'on'
local bad_timer = { on = false }
local function timer()
  if bad_timer.on then return bad_timer.value end
  return clock.now
end
local evictions = {}
local function on_evict(k, v, r) evictions[#evictions + 1] = { k, v, r } end

-- A value {bad = "getsizeof", result = X} makes getsizeof return X, one
-- {bad = "ttu", result = X} makes ttu return X (nothing if X is nil).
local function weight(v)
  if type(v) == "table" and v.bad == "getsizeof" then return v.result end
  return 1
end
local function ttu(_, v, now)
  if type(v) == "table" and v.bad == "ttu" then return v.result end
  return now + 10
end

local okey = {}
local plain = methodcache.lru(8)
plain:set("a", 1); plain:set(2, { "two" }); plain:set(okey, "object"); plain:set(1.5, true)
plain:get("a"); plain:get("missing")

local weighted = methodcache.ttl(100, 10,
  { timer = timer, getsizeof = weight, on_evict = on_evict })
weighted:set("a", "A"); weighted:set(okey, { "o" }); weighted:get("a"); weighted:get("b")

local timed = methodcache.tlru(16, ttu, { timer = timer, on_evict = on_evict })
timed:set("t", "T"); timed:set(3, 4); timed:get(3)

local K = {}
K.__index = K
K.m = methodcache.method(function(_, x) return x * 2 end, { maxsize = 4 })
K.weigh = methodcache.method(function(_, x) return x end,
                             { getsizeof = weight, ttu = ttu, timer = timer })
local ko = setmetatable({}, K)
ko:m(1); ko:m(2); ko:m(1)
ko:weigh(7)

-- K.weigh is left out but for its entries: the bad calls made on it are
-- misses, and count as such.
local function witnesses()
  return {
    plain = H.snapshot(plain), weighted = H.snapshot(weighted), timed = H.snapshot(timed),
    object = methodcache.info(K.m, ko), method = methodcache.info(K.m),
    weigh = methodcache.info(K.weigh, ko).currsize, evictions = #evictions,
  }
end

--}}

local cases = {}

-- A call that must fail: 'frags' must be in the message, 'absent' not.
local function rejects(name, call, frags, absent)
  cases[#cases + 1] = { name = name, call = call, frags = frags, absent = absent }
end

-- A call that must succeed; check(...) gets its results.
local function accepts(name, call, check)
  cases[#cases + 1] = { name = name, call = call, check = check }
end

local function bad(n, f) return ("bad argument #%d to '%s' ("):format(n, f) end

-- Values of the wrong type where a number is expected.
local NOT_NUMBERS = {
  { "no value", NONE, "number expected, got no value" },
  { "nil", nil, "number expected, got nil" },
  { "a numeric string", "3", "number expected, got string" },
  { "a table", {}, "number expected, got table" },
  { "a boolean", true, "number expected, got boolean" },
  { "a function", print, "number expected, got function" },
}
-- Numbers that are no count (maxsize, seed...): { label, value, fragments }
local NOT_COUNTS = {
  { "NaN", NAN, { "got nan" } },
  { "inf", math.huge, { "got inf" } },
  { "-inf", -math.huge, { "got -inf" } },
  { "negative", -1, { "got -1" } },
  { "fractional", 1.5, { "got 1.5" } },
  { "2^63", 2 ^ 63, { "got 9.22", "e+18" } },
}
-- Values of the wrong type where a function is expected.
local NOT_FUNCTIONS = {
  { "a number", 42, "got number" },
  { "a numeric string", "3", "got string" },
  { "a table", {}, "got table" },
  { "a boolean", true, "got boolean" },
}

--{{ Constructors

local CONSTRUCTORS = {
  -- name, valid arguments, where the options go, the policy's own argument
  { "lru", { 3, NONE }, 2 },
  { "lfu", { 3, NONE }, 2 },
  { "fifo", { 3, NONE }, 2 },
  { "rr", { 3, NONE }, 2 },
  { "ttl", { 3, 10, NONE }, 3, "ttl" },
  { "tlru", { 3, ttu, NONE }, 3, "ttu" },
  { "unbounded", { NONE }, 1 },
}

-- The valid arguments of 'ctor' with argument i replaced by v.
local function with(ctor, i, v)
  local args = table.move(ctor[2], 1, #ctor[2], 1, { n = #ctor[2] })
  args[i] = v
  if i > args.n then args.n = i end
  return args
end

for _, ctor in ipairs(CONSTRUCTORS) do
  local fname, optarg, own = ctor[1], ctor[3], ctor[4]
  local f = methodcache[fname]
  local function case(label, i, v, frags, absent)
    local args = with(ctor, i, v)
    rejects(fname .. " rejects " .. label, function() return invoke(f, args) end, frags, absent)
  end

  if fname ~= "unbounded" then
    for _, b in ipairs(NOT_NUMBERS) do
      case("maxsize " .. b[1], 1, b[2], { bad(1, fname), b[3] })
    end
    for _, b in ipairs(NOT_COUNTS) do
      case("maxsize " .. b[1], 1, b[2], { bad(1, fname), table.unpack(b[3]) })
    end
  end

  if own == "ttl" then
    for _, b in ipairs(NOT_NUMBERS) do
      case("ttl " .. b[1], 2, b[2], { bad(2, fname), b[3] })
    end
    for _, b in ipairs({ { "NaN", NAN, "got nan" }, { "-inf", -math.huge, "got -inf" },
                         { "0", 0, "got 0" }, { "negative", -1, "got -1" },
                         { "-0.5", -0.5, "got -0.5" } }) do
      case("ttl " .. b[1], 2, b[2], { bad(2, fname), b[3] })
    end
  elseif own == "ttu" then
    case("ttu no value", 2, NONE, { bad(2, fname), "function expected, got no value" })
    case("ttu nil", 2, nil, { bad(2, fname), "function expected, got nil" })
    for _, b in ipairs(NOT_FUNCTIONS) do
      case("ttu " .. b[1], 2, b[2], { bad(2, fname), "function expected, " .. b[3] })
    end
  end

  -- the options table
  for _, b in ipairs({ { "a string", "typed", "got string" }, { "a number", 7, "got number" },
                       { "a boolean", true, "got boolean" },
                       { "a function", print, "got function" } }) do
    case("options " .. b[1], optarg, b[2], { bad(optarg, fname), "table expected, " .. b[3] })
  end
  case("options {1}", optarg, { 1 },
       { bad(optarg, fname) .. "unexpected array item [1] in options)" })
  case("options {\"typed\"}", optarg, { "typed" },
       { bad(optarg, fname) .. "unexpected array item [1] in options)" })
  for _, name in ipairs({ "x", "maxsize", "policy" }) do
    case("the unknown option " .. name, optarg, { [name] = 1 },
         { bad(optarg, fname), "unknown option '" .. name .. "'" })
  end
  for _, opt in ipairs({ "timer", "getsizeof", "on_evict" }) do
    for _, b in ipairs(NOT_FUNCTIONS) do
      case("option " .. opt .. " " .. b[1], optarg, { [opt] = b[2] },
           { bad(optarg, fname), opt, b[3] })
    end
  end
  for _, b in ipairs(NOT_COUNTS) do
    if b[1] ~= "negative" then  -- any integer seeds
      case("option seed " .. b[1], optarg, { seed = b[2] },
           { bad(optarg, fname), "seed", table.unpack(b[3]) })
    end
  end
  case("option seed a numeric string", optarg, { seed = "7" },
       { bad(optarg, fname), "seed", "integer", "got string" })
  case("option seed a boolean", optarg, { seed = true },
       { bad(optarg, fname), "seed", "integer", "got boolean" })
  case("option typed a string", optarg, { typed = "yes" },
       { bad(optarg, fname), "typed", "boolean", "got string" })
  case("option typed a number", optarg, { typed = 1 },
       { bad(optarg, fname), "typed", "boolean", "got number" })
end

--}}

--{{ method, cached and the decorator

for _, fname in ipairs({ "method", "cached" }) do
  local f = methodcache[fname]
  local function case(label, fn, opts, frags, absent)
    rejects(fname .. " rejects " .. label, function() return invoke(f, { fn, opts, n = 2 }) end,
            frags, absent)
  end
  local function body() return 1 end

  case("a function no value", NONE, nil, { bad(1, fname), "function expected, got no value" })
  case("a function nil", nil, nil, { bad(1, fname), "function expected, got nil" })
  for _, b in ipairs(NOT_FUNCTIONS) do
    case("a function " .. b[1], b[2], nil, { bad(1, fname), "function expected, " .. b[3] })
  end
  for _, b in ipairs({ { "a string", "lru", "got string" }, { "a number", 7, "got number" },
                       { "a boolean", true, "got boolean" } }) do
    case("options " .. b[1], body, b[2], { bad(2, fname), "table expected, " .. b[3] })
  end
  case("options {1, 2}", body, { 1, 2 },
       { bad(2, fname) .. "unexpected array item [1] in options)" })
  case("the unknown option maxsixe", body, { maxsixe = 3 },
       { bad(2, fname), "unknown option 'maxsixe'" })
  case("option policy a number", body, { policy = 3 }, { bad(2, fname), "policy", "got number" })
  case("option policy 'mru'", body, { policy = "mru" }, { bad(2, fname), "unknown policy 'mru'" })
  for _, b in ipairs(NOT_COUNTS) do
    case("option maxsize " .. b[1], body, { maxsize = b[2] },
         { bad(2, fname), "maxsize", table.unpack(b[3]) })
  end
  case("option maxsize a numeric string", body, { maxsize = "3" },
       { bad(2, fname), "maxsize", "expected, got string" })
  for _, b in ipairs({ { "NaN", NAN, "got nan" }, { "0", 0, "got 0" }, { "negative", -1, "got -1" },
                       { "-inf", -math.huge, "got -inf" },
                       { "a numeric string", "2", "expected, got string" } }) do
    case("option ttl " .. b[1], body, { ttl = b[2] }, { bad(2, fname), "ttl", b[3] })
  end
  for _, opt in ipairs({ "ttu", "timer", "getsizeof", "on_evict" }) do
    for _, b in ipairs(NOT_FUNCTIONS) do
      case("option " .. opt .. " " .. b[1], body, { [opt] = b[2] }, { bad(2, fname), opt, b[3] })
    end
  end
  case("option seed a numeric string", body, { policy = "rr", seed = "7" },
       { bad(2, fname), "seed", "integer", "got string" })
  case("option seed NaN", body, { policy = "rr", seed = NAN }, { bad(2, fname), "seed", "got nan" })
  case("option seed 1.5", body, { policy = "rr", seed = 1.5 }, { bad(2, fname), "seed", "got 1.5" })
  case("option typed a string", body, { typed = "yes" },
       { bad(2, fname), "typed", "boolean", "got string" })
end

do
  local function decorate(factory)
    return function() return invoke(methodcache, { factory, n = 1 }) end
  end
  rejects("methodcache rejects a factory no value", decorate(NONE),
          { bad(1, "methodcache"), "function expected, got no value" })
  rejects("methodcache rejects a factory nil", decorate(nil),
          { bad(1, "methodcache"), "function expected, got nil" })
  for _, b in ipairs(NOT_FUNCTIONS) do
    rejects("methodcache rejects a factory " .. b[1], decorate(b[2]),
            { bad(1, "methodcache"), "function expected, " .. b[3] })
  end
  local decorator = methodcache(function() return methodcache.lru(2) end)
  for _, b in ipairs(NOT_FUNCTIONS) do
    rejects("methodcache(factory) rejects a method " .. b[1], function() return decorator(b[2]) end,
            { bad(1, "methodcache"), "function expected, " .. b[3] })
  end

  -- what a factory returns is checked at the first call of each object
  local function first_call(result)
    return function()
      local C = {}
      C.__index = C
      C.m = methodcache(function() return result() end)(function() return 1 end)
      return setmetatable({}, C):m()
    end
  end
  local FACTORY = "cache factory must return a new methodcache cache"
  rejects("a factory result 42 is rejected", first_call(function() return 42 end),
          { FACTORY, "got number" })
  rejects("a factory result nothing is rejected", first_call(function() end),
          { FACTORY, "got nil" })
  rejects("a factory result a table is rejected", first_call(function() return {} end),
          { FACTORY, "got table" })
  rejects("a factory result a cache already in use is rejected", function()
    local shared = methodcache.lru(2)
    local C = {}
    C.__index = C
    C.m = methodcache(function() return shared end)(function() return 1 end)
    setmetatable({}, C):m()
    return setmetatable({}, C):m()
  end, { FACTORY })
end

--}}

--{{ Callable tables, taken as functions

-- a table whose __call counts its calls and answers body(...)
local function counted(body)
  local t = { calls = 0 }
  return setmetatable(t, { __call = function(self, ...)
    self.calls = self.calls + 1
    return body(...)
  end })
end

accepts("method and cached accept a callable table as the function", function()
  local double = counted(function(_, x) return 2 * x end)
  local C = {}
  C.__index = C
  C.m = methodcache.method(double)
  local o = setmetatable({}, C)
  local sum = counted(function(a, b) return a + b end)
  local f = methodcache.cached(sum)
  return { o:m(3), o:m(3), f(1, 2), f(1, 2), double.calls, sum.calls }
end, function(r) assert.are.same({ 6, 6, 3, 3, 1, 1 }, r) end)

accepts("methodcache accepts a callable factory and a callable method", function()
  local factory = counted(function() return methodcache.lru(2) end)
  local ident = counted(function(self) return self end)
  local C = {}
  C.__index = C
  C.m = methodcache(factory)(ident)
  local a, b = setmetatable({}, C), setmetatable({}, C)
  return { a:m() == a, a:m() == a, b:m() == b, factory.calls, ident.calls }
end, function(r) assert.are.same({ true, true, true, 2, 2 }, r) end)

accepts("lru accepts a callable getsizeof and on_evict", function()
  local weigh = counted(function() return 2 end)
  local log = counted(function() end)
  local c = methodcache.lru(3, { getsizeof = weigh, on_evict = log })
  c:set(1, 1); c:set(2, 2)
  return { c:stats().currsize, #c, weigh.calls, log.calls }
end, function(r) assert.are.same({ 2, 1, 2, 1 }, r) end)

accepts("ttl and tlru accept a callable timer and ttu", function()
  local now = 0
  local clock_fn = counted(function() return now end)
  local ttu_fn = counted(function(_, v, t) return t + v end)
  local a = methodcache.ttl(4, 5, { timer = clock_fn })
  local b = methodcache.tlru(4, ttu_fn, { timer = clock_fn })
  a:set("k", 1); b:set("k", 3)
  now = 4
  local live = { a:get("k"), b:get("k") }
  return { live[1], live[2], clock_fn.calls > 0, ttu_fn.calls }
end, function(r) assert.are.same({ 1, nil, true, 1 }, r) end)

accepts("method accepts callable option functions", function()
  local now = 0
  local weigh = counted(function() return 1 end)
  local clock_fn = counted(function() return now end)
  local ttu_fn = counted(function(_, _, t) return t + 1 end)
  local log = counted(function() end)
  local C = {}
  C.__index = C
  C.m = methodcache.method(function(_, x) return x end,
    { maxsize = 1, getsizeof = weigh, timer = clock_fn, ttu = ttu_fn, on_evict = log })
  local o = setmetatable({}, C)
  o:m(1); o:m(2)
  return { weigh.calls, ttu_fn.calls, log.calls, clock_fn.calls > 0 }
end, function(r) assert.are.same({ 2, 2, 1, true }, r) end)

--}}

--{{ info, clear, memory

for _, fname in ipairs({ "info", "clear" }) do
  local f = methodcache[fname]
  rejects(fname .. " rejects a function no value", function() return f() end,
          { bad(1, fname), "got no value" })
  rejects(fname .. " rejects a function nil", function() return f(nil) end,
          { bad(1, fname), "got nil" })
  for _, b in ipairs({ { "a number", 42, "got number" }, { "a string", "m", "got string" },
                       { "a table", {}, "got table" },
                       { "a callable table", callable(), "got table" },
                       { "a cache", plain, "got userdata" } }) do
    rejects(fname .. " rejects a function " .. b[1], function() return f(b[2]) end,
            { bad(1, fname), b[3] })
  end
  rejects(fname .. " rejects a function not made by methodcache", function() return f(print) end,
          { bad(1, fname), "not a function made by methodcache" })
end

accepts("memory ignores extra arguments", function() return methodcache.memory("x", {}) end,
  function(n)
    assert.are.equal("integer", math.type(n))
    assert.is_true(n > 0)
  end)

--}}

--{{ Cache methods and metamethods

local METHODS = { "get", "set", "has", "peek", "delete", "pop", "clear", "expire", "stats" }
local mt = debug.getmetatable(plain)
for _, b in ipairs({ { "no value", NONE, "got no value" }, { "nil", nil, "got nil" },
                     { "a number", 42, "got number" }, { "a string", "x", "got string" },
                     { "a table", {}, "got table" }, { "a light userdata", LUD, "got userdata" },
                     { "a method's function", K.m, "got function" } }) do
  for _, name in ipairs(METHODS) do
    rejects(name .. " rejects self " .. b[1],
            function() return invoke(plain[name], { b[2], "a", n = 2 }) end,
            { "'" .. name .. "'", "cache expected, " .. b[3] })
  end
  for _, name in ipairs({ "__len", "__pairs" }) do
    rejects(name .. " rejects self " .. b[1],
            function() return invoke(mt[name], { b[2], n = 1 }) end,
            { "'" .. name .. "'", "cache expected, " .. b[3] })
  end
end

for _, b in ipairs({ { "nil", function() return plain:set(nil, 1) end, "got nil" },
                     { "no value", function() return plain.set(plain) end, "got" },
                     { "NaN", function() return plain:set(NAN, 1) end, "got nan" },
                     { "-NaN", function() return plain:set(-NAN, 1) end, "got nan" } }) do
  rejects("set rejects key " .. b[1], b[2], { bad(1, "set"), b[3] })
end

-- lookups of keys that cannot be: misses, on a cache of their own
for _, b in ipairs({ { "nil", nil }, { "NaN", NAN } }) do
  for _, op in ipairs({ { "get", "is nil", nil }, { "peek", "is nil", nil },
                        { "has", "is false", false }, { "delete", "is false", false },
                        { "pop", "is the default", "default" } }) do
    accepts(("%s of key %s %s"):format(op[1], b[1], op[2]), function()
      local c = methodcache.lru(4)
      c:set("x", 1)
      return c, c[op[1]](c, b[2], "default")
    end, function(c, v)
      assert.are.equal(op[3], v)
      assert.are.same({ { "x", 1 } }, H.entries(c))
      assert.are.equal(1, #c)
    end)
  end
end

--}}

--{{ Callbacks that return garbage, on the witnesses themselves

local NOT_WEIGHTS = {
  { "NaN", NAN, { "got nan" } }, { "inf", math.huge, { "got inf" } },
  { "-inf", -math.huge, { "got -inf" } }, { "-1", -1, { "got -1" } },
  { "1.5", 1.5, { "got 1.5" } }, { "2^63", 2 ^ 63, { "got 9.22", "e+18" } },
  { "a numeric string", "3", { "got string" } }, { "a table", {}, { "got table" } },
  { "a boolean", true, { "got boolean" } }, { "nothing", nil, { "got nil" } },
}
for _, b in ipairs(NOT_WEIGHTS) do
  local garbage = { bad = "getsizeof", result = b[2] }
  local frags = { "getsizeof", "non-negative integer", table.unpack(b[3]) }
  rejects("set rejects a getsizeof result " .. b[1] .. " for a new key",
          function() return weighted:set("new", garbage) end, { "set: ", table.unpack(frags) })
  rejects("set rejects a getsizeof result " .. b[1] .. " for a key it holds",
          function() return weighted:set("a", garbage) end, { "set: ", table.unpack(frags) })
  rejects("a method rejects a getsizeof result " .. b[1],
          function() return ko:weigh(garbage) end, { "weigh", table.unpack(frags) })
end

local NOT_TIMES = {
  { "NaN", NAN, "got nan" }, { "a numeric string", "5", "got string" },
  { "a table", {}, "got table" }, { "a boolean", true, "got boolean" },
  { "nothing", nil, "got nil" },
}
local TIMED_OPS = {
  get = function(c) return c:get("a") end, set = function(c) return c:set("a", 2) end,
  has = function(c) return c:has("a") end, peek = function(c) return c:peek("a") end,
  delete = function(c) return c:delete("a") end, pop = function(c) return c:pop("a") end,
  expire = function(c) return c:expire() end, pairs = function(c) return pairs(c) end,
}
for _, b in ipairs(NOT_TIMES) do
  local frags = { "timer", "must return a number", b[3] }
  for _, op in ipairs({ "get", "set", "has", "peek", "delete", "pop", "expire", "pairs" }) do
    rejects(op .. " rejects a timer result " .. b[1], function()
      bad_timer.on, bad_timer.value = true, b[2]
      local ok, err = pcall(TIMED_OPS[op], weighted)
      bad_timer.on = false
      if not ok then error(err, 0) end
    end, frags)
  end
  rejects("a method rejects a timer result " .. b[1], function()
    bad_timer.on, bad_timer.value = true, b[2]
    local ok, err = pcall(ko.weigh, ko, 5)
    bad_timer.on = false
    if not ok then error(err, 0) end
  end, frags)
end

for _, b in ipairs({ { "NaN", NAN, "got nan" }, { "a numeric string", "5", "got string" },
                     { "a table", {}, "got table" }, { "nothing", nil, "got nil" } }) do
  local garbage = { bad = "ttu", result = b[2] }
  rejects("set rejects a ttu result " .. b[1], function() return timed:set("t", garbage) end,
          { "set: ", "ttu", "must return a number", b[3] })
  rejects("a method rejects a ttu result " .. b[1], function() return ko:weigh(garbage) end,
          { "weigh", "ttu", "must return a number", b[3] })
end

-- A timer that goes backwards: no error, and expire() leaves only what
-- pairs gives.
for _, policy in ipairs({ "ttl", "tlru" }) do
  accepts(policy .. " accepts a timer that goes backwards", function()
    local back = H.fakeclock(0)
    local opts = { timer = back.timer, getsizeof = function(v) return v end }
    local c = policy == "ttl" and methodcache.ttl(1000, 10, opts)
              or methodcache.tlru(1000, function(_, v, now) return now + v end, opts)
    local report = {}
    for step, t in ipairs({ 0, 20, 5, 3, 40, 1, 22, 15, 60, 2, 9, 30, 0, 12 }) do
      back.now = t
      c:set(step, step % 4 + 3)
      c:get(step - 1)
      c:expire()
      local n, sum = 0, 0
      for _, v in pairs(c) do n, sum = n + 1, sum + v end
      report[#report + 1] = { t = t, len = #c, pairs = n, currsize = c:stats().currsize, sum = sum }
    end
    return report
  end, function(report)
    for _, r in ipairs(report) do
      assert.are.equal(r.pairs, r.len, "time " .. r.t .. ": #c is not the number of pairs")
      assert.are.equal(r.sum, r.currsize, "time " .. r.t .. ": currsize is not the sum of weights")
    end
  end)
end

--}}

--{{ Methods called with a bad self

-- (called as K.m, so that the message can name the method 'm')
for _, b in ipairs({ { "a number", function() return K.m(42, 1) end, "self is a number" },
                     { "NaN", function() return K.m(NAN, 1) end, "self is a number" },
                     { "a boolean", function() return K.m(true, 1) end, "self is a boolean" },
                     { "nil", function() return K.m(nil, 1) end, "self is nil" },
                     { "no value", function() return K.m() end, "self is nil" },
                     { "a string", function() return K.m("s", 1) end, "self is a string" } }) do
  rejects("a method rejects self " .. b[1], b[2], { bad(1, "m"), b[3] })
end
rejects("a method rejects self a light userdata", function() return K.m(LUD, 1) end,
        { bad(1, "m"), "self is a light userdata" }, { "call the method with ':'" })

--}}

describe("bad input", function()
  local names = {}
  for _, case in ipairs(cases) do
    assert(not names[case.name], "two cases named " .. case.name)
    names[case.name] = true

    it(case.name, function()
      local before = witnesses()
      local results = table.pack(pcall(case.call))
      bad_timer.on = false
      local after = witnesses()
      if case.check then
        assert(results[1], results[2])
        case.check(table.unpack(results, 2, results.n))
      else
        assert.is_false(results[1], "no error")
        H.check_fragments(tostring(results[2]), case.frags, case.absent)
      end
      assert.are.same(before, after)
    end)
  end
end)
