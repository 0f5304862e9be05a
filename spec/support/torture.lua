-- Finalizer torture, run by spec/torture_spec.lua in a child process:
--
--   LUA_PATH='lua/?.lua;;' LUA_CPATH='build/?.so;;' \
--     lua5.4 spec/support/torture.lua MODE POLICY SEEDS STEPS [FIRST_SEED]
--
-- MODE is incremental or generational, POLICY one of lru lfu fifo rr ttl
-- tlru unbounded.  For each seed, a main loop makes random calls on a few
-- standalone caches (plain, with on_evict, weighted, typed) and cached
-- methods (plain, and typed with getsizeof and on_evict), and leaves
-- garbage whose finalizers make random calls on the same caches, with the
-- collector as eager as it goes (spec/support/helpers.lua, eager_gc).
-- With policy lru, a third method has option total: its evictions take
-- other objects' entries.
--
-- A child process because finalizers run far more often in a small heap
-- (within 99% of allocations here, 1% in busted's), and so that a crash
-- is a failed spec rather than the end of busted.
--
-- What finalizers cannot break, checked all along:
-- * a cached method returns exactly what the pure function returns;
-- * a get, peek or pop gives nil or a value set for that key (values are
--   {key =, serial =, w =}): by the main loop and not deleted by it since,
--   or by a finalizer;
-- * on_evict gets a key and the value set for that key;
-- * pairs gives each key once, with a value of that key;
-- * has, peek and pop agree in a key's own finalizer;
-- * every 250 steps, after full collections and with the collector
--   stopped: mc_cache_check (core._check) finds every invariant of the C
--   core holds, #c is the number of pairs, currsize their total weight, and
--   within maxsize; the budget of option total holds (core._budget) and
--   info's size is its currsize;
-- * once all is dropped and collectgarbage() ran twice, methodcache.memory()
--   is 0.
-- Prints "seed N" before each seed, a summary line after it, and on a
-- violation "FAIL seed=N step=S: what" (exit status 1).
local methodcache = require("methodcache")
local H = require("spec.support.helpers")
local canon = require("spec.support.models").canon

local NAN = 0 / 0
local POLICIES = { lru = true, lfu = true, fifo = true, rr = true, ttl = true, tlru = true,
                   unbounded = true }

local mode, policy = arg[1], arg[2]
local nseeds, steps = math.tointeger(tonumber(arg[3])), math.tointeger(tonumber(arg[4]))
local first = math.tointeger(tonumber(arg[5] or "1"))
if not ((mode == "incremental" or mode == "generational") and POLICIES[policy] and
        nseeds and steps and first) then
  io.stderr:write("usage: torture.lua incremental|generational POLICY SEEDS STEPS [FIRST_SEED]\n")
  os.exit(2)
end
local timed = policy == "ttl" or policy == "tlru"
local bounded = policy ~= "unbounded"

local function same(a, b)
  return rawequal(a, b) or (a ~= a and b ~= b)
end

-- What the pure function gives for an argument: numbers by value (1 and
-- 1.0 alike unless typed; 0.0 and -0.0 always alike), anything else itself.
local function describe(x, typed)
  if type(x) ~= "number" then return x end
  if x ~= x then return "nan" end
  local s = x == 0 and "0" or ("%.17g"):format(x)
  return typed and math.type(x) .. ":" .. s or s
end

-- f(self, ...) = self.id, select("#", ...), describe(each argument)
local function pure(typed)
  return function(self, ...)
    local n = select("#", ...)
    local out = { self.id, n }
    for i = 1, n do out[2 + i] = describe((select(i, ...)), typed) end
    return table.unpack(out, 1, n + 2)
  end
end

local function run(seed)
  local R = H.rng(seed)                 -- the main loop's choices
  local FR = H.rng(seed * 7919 + 17)    -- the finalizers' choices
  local clock = H.fakeclock(0)
  local st = {
    step = 0, serial = 0, errors = {},
    counts = { main = 0, finalizers = 0, fin_ops = 0, nested = 0, own_gc = 0 },
  }

  local function violation(where, fmt, ...)
    local msg = where .. ": " .. fmt:format(...)
    st.errors[#st.errors + 1] = msg
    error(msg, 0)
  end

  --{{ the standalone caches

  local caches = {}
  local function make(maxsize, opts)
    if timed then opts.timer = clock.timer end
    if policy == "ttl" then return methodcache.ttl(maxsize, 5, opts) end
    if policy == "tlru" then
      return methodcache.tlru(maxsize, function(_, v, now) return now + 1 + v.serial % 5 end, opts)
    end
    if policy == "unbounded" then return methodcache.unbounded(opts) end
    return methodcache[policy](maxsize, opts)
  end
  local function add_cache(name, maxsize, opts)
    local cc = { name = name, maxsize = maxsize, typed = opts.typed or false,
                 weighted = opts.getsizeof ~= nil,
                 valid = setmetatable({}, { __mode = "k" }) }  -- canon(key) -> {serial = true}
    if opts.on_evict then
      opts.on_evict = function(k, v, reason)
        if not (type(v) == "table" and v.key ~= nil and
                canon(v.key, cc.typed) == canon(k, cc.typed)) then
          violation(name .. " on_evict", "key %s got the value of %s (reason %s)", tostring(k),
                    type(v) == "table" and tostring(v.key) or tostring(v), tostring(reason))
        end
        if reason ~= "size" and reason ~= "deleted" and reason ~= "cleared" and
           reason ~= "expired" then
          violation(name .. " on_evict", "reason %s", tostring(reason))
        end
      end
    end
    cc.cache = make(maxsize, opts)
    caches[#caches + 1] = cc
  end
  add_cache("plain", 8, {})
  add_cache("evicting", 8, { on_evict = true })
  add_cache("weighted", 16, { getsizeof = function(v) return v.w end, on_evict = true })
  add_cache("typed", 8, { typed = true })

  --}}

  --{{ the cached methods

  local Cls = {}
  Cls.__index = Cls
  local function method_opts(extra)
    local o = { policy = policy, maxsize = 6, timer = timed and clock.timer or nil }
    if policy == "ttl" then o.ttl = 5 end
    if policy == "tlru" then o.ttu = function(_, v, now) return now + 1 + v[2] % 4 end end
    for k, v in pairs(extra) do o[k] = v end
    return o
  end
  local methods = {
    { name = "m", typed = false },
    { name = "n", typed = true, weighted = true },
  }
  Cls.m = methodcache.method(pure(false), method_opts({}))
  Cls.n = methodcache.method(pure(true), method_opts({
    typed = true,
    getsizeof = function(...) return select("#", ...) % 3 end,
    on_evict = function(k, v)
      local items = (type(k) == "table" and k.n ~= nil) and k or { n = 1, k }
      local ok = type(v) == "table" and v.n == items.n + 2 and v[2] == items.n
      for i = 1, items.n do
        ok = ok and same(v[2 + i], describe(items[i], true))
      end
      if not ok then
        violation("n on_evict", "a key of %d items got another key's results", items.n)
      end
    end,
  }))
  if policy == "lru" then  -- total needs lru
    methods[3] = { name = "b", typed = false }
    Cls.b = methodcache.method(pure(false), method_opts({ total = 10 }))
  end
  local fpure = pure(false)
  local F = methodcache.cached(function(...) return fpure({ id = "F" }, ...) end, method_opts({}))
  local GcSelf = { __index = Cls }   -- objects that call their own method in their finalizer

  local fns = {}   -- methodcache's C functions, to tell a finalizer it interrupted one
  for _, name in ipairs({ "get", "set", "has", "peek", "delete", "pop", "clear", "expire",
                          "stats" }) do
    fns[caches[1].cache[name]] = true
  end
  local cmt = debug.getmetatable(caches[1].cache)
  fns[cmt.__pairs], fns[cmt.__len] = true, true
  fns[Cls.m], fns[Cls.n], fns[F] = true, true, true
  if Cls.b then fns[Cls.b] = true end
  fns[methodcache.clear], fns[methodcache.info] = true, true

  --}}

  --{{ pools: objects, arguments, keys

  local objs, argobjs, tkeys = {}, {}, {}
  local next_id = 0
  local function new_obj(mt)
    next_id = next_id + 1
    return setmetatable({ id = next_id }, mt or Cls)
  end
  for i = 1, 4 do objs[i] = new_obj() end
  for i = 1, 4 do argobjs[i] = { arg = i } end
  for i = 1, 6 do tkeys[i] = { tkey = i } end
  local long = { ("L1"):rep(100), ("L2"):rep(100) }

  local function pick_arg(r)
    local x = r(13)
    if x == 1 then return nil end
    if x == 2 then return r(3) end
    if x == 3 then return r(3) + 0.0 end
    if x == 4 then return 0.5 * r(3) end
    if x == 5 then return "s" .. r(3) end
    if x == 6 then return long[r(2)] end
    if x == 7 then return r(2) == 1 end
    if x == 8 then return NAN end
    if x == 9 then return {} end   -- dies right after the call
    return argobjs[r(#argobjs)]
  end

  local function pick_key(r)
    local x = r(9)
    if x == 1 then return r(10) end
    if x == 2 then return r(3) + 0.0 end
    if x == 3 then return r(3) + 0.5 end
    if x == 4 then return "k" .. r(6) end
    if x == 5 then return long[r(2)] end
    if x == 6 then return r(2) == 1 end
    return tkeys[r(#tkeys)]
  end

  --}}

  --{{ operations, shared by the main loop (fin = false) and finalizers

  -- v must be nil or a value of key k in cc that may still be there
  local function check_value(cc, k, v, where)
    if v == nil then return end
    if type(v) ~= "table" or v.key == nil or canon(v.key, cc.typed) ~= canon(k, cc.typed) then
      violation(where, "%s: key %s gave %s (of key %s)", cc.name, tostring(k), tostring(v),
                type(v) == "table" and tostring(v.key) or "?")
    end
    if not v.fin then
      local set = cc.valid[canon(k, cc.typed)]
      if not (set and set[v.serial]) then
        violation(where, "%s: key %s gave value #%d, deleted or never set", cc.name,
                  tostring(k), v.serial)
      end
    end
  end

  local function forget(cc, k) cc.valid[canon(k, cc.typed)] = {} end

  local function call_method(r, where)
    local which = r(#methods + 1)
    local n = r(4) - 1
    local args = { n = n }
    for i = 1, n do args[i] = pick_arg(r) end
    local self, got, expected
    if which > #methods then
      got = table.pack(F(table.unpack(args, 1, n)))
      expected = table.pack(fpure({ id = "F" }, table.unpack(args, 1, n)))
    else
      local m = methods[which]
      self = objs[r(#objs)]
      got = table.pack(self[m.name](self, table.unpack(args, 1, n)))
      expected = table.pack(pure(m.typed)(self, table.unpack(args, 1, n)))
    end
    local ok = got.n == expected.n
    for i = 1, expected.n do ok = ok and same(got[i], expected[i]) end
    if not ok then
      local show = {}
      for i = 1, got.n do show[i] = tostring(got[i]) end
      violation(where, "cached call with %d arguments gave %d results: %s", n, got.n,
                table.concat(show, ", "))
    end
  end

  local OPS = {
    function(r, _, where)  -- get, peek
      local cc, k = caches[r(#caches)], pick_key(r)
      -- an expired entry still held: nil and its stale value, also one set for k
      local v, stale = cc.cache:get(k)
      check_value(cc, k, v, where .. " get")
      check_value(cc, k, stale, where .. " get (stale)")
      v, stale = cc.cache:peek(k)
      check_value(cc, k, v, where .. " peek")
      check_value(cc, k, stale, where .. " peek (stale)")
    end,
    function(r, _, where)  -- has
      local cc = caches[r(#caches)]
      local h = cc.cache:has(pick_key(r))
      if type(h) ~= "boolean" then violation(where, "has gave %s", tostring(h)) end
    end,
    function(r, fin, where)  -- set
      local cc, k = caches[r(#caches)], pick_key(r)
      st.serial = st.serial + 1
      local v = { key = k, serial = st.serial, w = r(4) - 1, fin = fin or nil }
      if not fin then
        local ck = canon(k, cc.typed)
        cc.valid[ck] = cc.valid[ck] or {}
        cc.valid[ck][v.serial] = true
      end
      -- timed policies: every other set with a ttl of its own (TTL's heap)
      local ttl = timed and r(2) == 1 and r(8) / 2 or nil
      local stored = cc.cache:set(k, v, ttl)
      if type(stored) ~= "boolean" then violation(where, "set gave %s", tostring(stored)) end
    end,
    function(r, fin, where)  -- delete, pop
      local cc, k = caches[r(#caches)], pick_key(r)
      if r(2) == 1 then
        cc.cache:delete(k)
      else
        local v = cc.cache:pop(k, "default")
        if v ~= "default" then check_value(cc, k, v, where .. " pop") end
      end
      if not fin then forget(cc, k) end
    end,
    function(r, fin, where)  -- clear (rarely), expire, stats, #c
      local cc = caches[r(#caches)]
      local x = r(6)
      if x == 1 then
        cc.cache:clear()
        if not fin then cc.valid = setmetatable({}, { __mode = "k" }) end
      elseif x == 2 then
        cc.cache:expire()
      else
        local s, n = cc.cache:stats(), #cc.cache
        if s.currsize < 0 or n < 0 or (bounded and s.currsize > cc.maxsize) then
          violation(where, "%s: currsize %d, #c %d", cc.name, s.currsize, n)
        end
      end
    end,
    function(r, _, where)  -- pairs
      local cc = caches[r(#caches)]
      local seen = {}
      for k, v in pairs(cc.cache) do
        check_value(cc, k, v, where .. " pairs")
        local ck = canon(k, cc.typed)
        if seen[ck] then violation(where, "%s: pairs gave %s twice", cc.name, tostring(k)) end
        seen[ck] = true
      end
    end,
    function(r, _, where) call_method(r, where) end,
    function(r, _, where) call_method(r, where) end,
    function(r, _, where) call_method(r, where) end,
    function(r)  -- methodcache.clear, info
      local x = r(8)
      local f = x <= 4 and Cls.m or Cls.n
      if x == 1 then methodcache.clear(f)
      elseif x == 2 then methodcache.clear(f, objs[r(#objs)])
      elseif x == 3 then methodcache.clear(F)
      else methodcache.info(f, objs[r(#objs)]) end
    end,
  }

  --}}

  --{{ finalizers

  local function finalizer(body)
    return function(self)
      st.counts.finalizers = st.counts.finalizers + 1
      if H.inside(fns) then st.counts.nested = st.counts.nested + 1 end
      -- an error in __gc would only be a warning: keep it
      local ok, err = pcall(body, self)
      if not ok and err ~= st.errors[#st.errors] then
        st.errors[#st.errors + 1] = "in a finalizer: " .. tostring(err)
      end
    end
  end
  local Garbage = { __gc = finalizer(function(g)
    for _ = 1, g.ops do
      st.counts.fin_ops = st.counts.fin_ops + 1
      OPS[FR(#OPS)](FR, true, "finalizer")
    end
  end) }
  GcSelf.__gc = finalizer(function(self)
    st.counts.fin_ops = st.counts.fin_ops + 1
    local x = FR(3)
    local got = table.pack(self:m(x, "own"))
    local expected = table.pack(pure(false)(self, x, "own"))
    for i = 1, expected.n do
      if got.n ~= expected.n or not same(got[i], expected[i]) then
        violation("own finalizer", "self:m(%d) gave a wrong result", x)
      end
    end
  end)

  -- A table key in some cache gets a __gc that asks that cache about it
  -- (spec/safety_spec.lua says why has, peek and pop must agree there).
  local function own_gc_key(r)
    local i = r(#tkeys)
    local k, cc = tkeys[i], caches[r(#caches)]
    if not cc.cache:has(k) or getmetatable(k) then return end
    setmetatable(k, { __gc = finalizer(function(self)
      st.counts.own_gc = st.counts.own_gc + 1
      local h, p = cc.cache:has(self), cc.cache:peek(self)
      local v = cc.cache:pop(self, "default")
      local where = "own key finalizer"
      if h then
        check_value(cc, self, p, where .. " peek")
        if p == nil or v ~= p then
          violation(where, "has is true, peek gave %s, pop %s", tostring(p), tostring(v))
        end
      elseif p ~= nil or v ~= "default" then
        violation(where, "has is false, peek gave %s, pop %s", tostring(p), tostring(v))
      end
      if cc.cache:has(self) then violation("own key finalizer", "has is true after pop") end
    end) })
    tkeys[i] = { tkey = i }
  end

  --}}

  local function invariants(where)
    collectgarbage()
    collectgarbage()
    collectgarbage()
    collectgarbage("stop")
    for _, cc in ipairs(caches) do
      local c = cc.cache
      if timed then c:expire() end
      local n, sum, seen = 0, 0, {}
      for k, v in pairs(c) do
        n = n + 1
        check_value(cc, k, v, where .. " pairs")
        local ck = canon(k, cc.typed)
        if seen[ck] then violation(where, "%s: pairs gave %s twice", cc.name, tostring(k)) end
        seen[ck] = true
        sum = sum + (cc.weighted and v.w or 1)
      end
      local s = c:stats()
      local sound, why = require("methodcache.core")._check(c)
      if not sound then violation(where, "%s: mc_cache_check: %s", cc.name, why) end
      if #c ~= n then violation(where, "%s: #c is %d, pairs gave %d", cc.name, #c, n) end
      if s.currsize ~= sum then
        violation(where, "%s: currsize %d, the pairs weigh %d", cc.name, s.currsize, sum)
      end
      if bounded and sum > cc.maxsize then
        violation(where, "%s: the pairs weigh %d > maxsize %d", cc.name, sum, cc.maxsize)
      end
    end
    for _, o in ipairs(objs) do
      for _, m in ipairs(methods) do
        local size = methodcache.info(Cls[m.name], o).currsize
        if size < 0 or (bounded and size > 6) then
          violation(where, "method %s: currsize %d", m.name, size)
        end
      end
    end
    if Cls.b then
      local sound, why = require("methodcache.core")._budget(Cls.b)
      if not sound then violation(where, "method b: the budget: %s", why) end
      local inf = methodcache.info(Cls.b)
      if inf.size ~= inf.currsize or inf.size > 10 then
        violation(where, "method b: size %d, currsize %d, total 10", inf.size, inf.currsize)
      end
    end
    collectgarbage("restart")
  end

  for step = 1, steps do
    st.step = step
    local where = "step " .. step
    local x = R(20)
    if x <= 14 then
      st.counts.main = st.counts.main + 1
      OPS[R(#OPS)](R, false, where)
    elseif x == 15 and timed then
      clock.now = clock.now + R(3)
    elseif x == 16 then
      objs[R(#objs)] = new_obj()
    elseif x == 17 then
      argobjs[R(#argobjs)] = { arg = step }
    elseif x == 18 then
      tkeys[R(#tkeys)] = { tkey = step }
    elseif x == 19 then
      own_gc_key(R)
    else
      new_obj(GcSelf):m(R(3), "own")
    end
    -- garbage for the finalizers
    if R(2) == 1 then setmetatable({ ops = R(3) }, Garbage) end
    if #st.errors > 0 then error(st.errors[1], 0) end
    if step % 250 == 0 then invariants(where) end
  end
  invariants("end")
  return { errors = st.errors, counts = st.counts }
end

local totals = { main = 0, finalizers = 0, fin_ops = 0, nested = 0, own_gc = 0 }
H.eager_gc(mode)
for seed = first, first + nseeds - 1 do
  print("seed " .. seed)
  io.stdout:flush()
  local ok, result = pcall(run, seed)
  if ok then
    collectgarbage()
    collectgarbage()
    if #result.errors > 0 then ok, result = false, result.errors[1] end
  end
  if not ok then
    print(("FAIL seed=%d: %s"):format(seed, tostring(result)))
    os.exit(1)
  end
  local bytes = methodcache.memory()
  if bytes ~= 0 then
    print(("FAIL seed=%d: methodcache.memory() is %d once all is dropped"):format(seed, bytes))
    os.exit(1)
  end
  local c = result.counts
  print(("seed %d: %d main operations, %d finalizers (%d inside an operation of methodcache), " ..
         "%d finalizer operations, %d own-key finalizers")
        :format(seed, c.main, c.finalizers, c.nested, c.fin_ops, c.own_gc))
  for k, v in pairs(c) do totals[k] = totals[k] + v end
end
print(("total: %d main operations, %d finalizers, %d nested, %d finalizer operations, %d own-key")
      :format(totals.main, totals.finalizers, totals.nested, totals.fin_ops, totals.own_gc))
