-- Finalizers that use a cache while one of its operations runs: the cases
-- of spec/safety_spec.lua, which runs each in busted's state and, through
-- spec/support/run_case.lua, in a child process under valgrind (most of
-- what goes wrong here is a write to freed memory that no result shows).
--
-- Each case takes a scale (1: the full size) and returns what it counted:
-- fin (finalizers run) and nested (of those, how many ran inside an
-- operation of the cache).  A wrong result, or a case that did not exercise
-- what it is about, raises an error.
local methodcache = require("methodcache")
local H = require("spec.support.helpers")

local M = {}

local function check(cond, fmt, ...)
  if not cond then error(fmt:format(...), 2) end
end

-- Raises unless the finalizers ran, and some of them inside an operation.
local function exercised(counts, min_fin)
  check(counts.fin >= min_fin, "only %d finalizers ran (at least %d expected)", counts.fin, min_fin)
  check(counts.nested > 0, "no finalizer ran inside an operation (%d ran)", counts.fin)
  return counts
end

-- The C functions of a cache's metatable, for H.inside().
local function cache_functions(c)
  local set, mt = {}, debug.getmetatable(c)
  for _, name in ipairs({ "get", "set", "has", "peek", "delete", "pop", "clear",
                          "expire", "stats" }) do
    set[c[name]] = true
  end
  set[mt.__pairs] = true
  set[mt.__len] = true
  return set
end
M.cache_functions = cache_functions

-- Step i of a loop of n: one garbage object of metatable Res, and at every
-- 100th a burst of 'size' more, all due at the next allocation (which the
-- caller's operation makes).
local function garbage(Res, i, n, size)
  setmetatable({ id = i }, Res)
  if i % 100 == 0 then
    collectgarbage("stop")
    for j = 1, size do setmetatable({ id = n + i * size + j }, Res) end
    collectgarbage("restart")
  end
end

-- svc:lookup(id) returns id, "ok"; the finalizers of garbage objects call
-- it as well, all with different ids, while the main loop's calls store.
local function lookups(n, opts)
  local Svc = {}
  Svc.__index = Svc
  Svc.lookup = methodcache.method(function(_, id) return id, "ok" end, opts)
  local svc = setmetatable({}, Svc)
  local fns = { [Svc.lookup] = true }
  local counts = { fin = 0, nested = 0 }
  local wrong = {}
  local Res = { __gc = function(r)
    counts.fin = counts.fin + 1
    if H.inside(fns) then counts.nested = counts.nested + 1 end
    local a, b = svc:lookup(-r.id)
    if a ~= -r.id or b ~= "ok" then
      wrong[#wrong + 1] = ("finalizer: lookup(%d) gave %s, %s")
        :format(-r.id, tostring(a), tostring(b))
    end
  end }
  for i = 1, n do
    -- bursts of 150 finalizers, more than maxsize, so that their own
    -- lookups evict whatever the interrupted one holds
    garbage(Res, i, n, 150)
    local a, b = svc:lookup(i)
    if a ~= i or b ~= "ok" then
      wrong[#wrong + 1] = ("lookup(%d) gave %s, %s"):format(i, tostring(a), tostring(b))
    end
  end
  H.full_gc()
  check(#wrong == 0, "%d wrong results, the first: %s", #wrong, wrong[1])
  local size = methodcache.info(Svc.lookup, svc).currsize
  local max = opts and opts.maxsize or 128
  check(size <= max, "currsize %d > maxsize %d", size, max)
  return exercised(counts, n // 2)
end

--- The cached method of the review: svc:lookup(i) for 20,000 ids.
function M.lookups(scale)
  return lookups(20000 // scale)
end

--- The same with maxsize 8 and an on_evict that checks what it gets.
function M.lookups_evicting(scale)
  local evicted, wrong = 0, 0
  local counts = lookups(20000 // scale, { maxsize = 8, on_evict = function(k, v)
    evicted = evicted + 1
    if not (type(v) == "table" and v[1] == k and v[2] == "ok") then wrong = wrong + 1 end
  end })
  check(wrong == 0, "%d of %d on_evict calls got a value that is not the key's", wrong, evicted)
  check(evicted > 10000 // scale, "only %d evictions", evicted)
  return counts
end

--- pairs(c) on a standalone cache while finalizers call c:clear().
-- The finalizers act only while pairs(c) takes its snapshot ('armed', every
-- other round): they clear the cache and fill it again with the same
-- values, so that a snapshot cut by a later finalizer has entries to lose.
-- A snapshot that a finalizer cut may hold fewer entries, even none; what
-- it holds must be right.  Two of them set
-- their metatable again, which makes the collector finalize them again at
-- the end of the next cycle (in a small heap, cycles are short); two more
-- are made each round (young garbage, for the generational collector).
function M.pairs_clear(scale)
  local c = methodcache.lru(64)
  local fns = cache_functions(c)
  local counts = { fin = 0, nested = 0 }
  local armed, done, round = false, false, 0
  local function key(i)  -- long: each key pairs pushes is a new string, an allocation
    return ("key %d "):format(i) .. string.rep("k", 48)
  end
  local function fill()
    for i = 1, 64 do c:set(key(i), { key = key(i), round = round }) end
  end
  local Clearer = {}
  Clearer.__gc = function(self)
    counts.fin = counts.fin + 1
    if armed then
      if H.inside(fns) then counts.nested = counts.nested + 1 end
      c:clear()
      fill()
    end
    if self.again and not done then setmetatable(self, Clearer) end
  end
  for _ = 1, 2 do setmetatable({ again = true }, Clearer) end
  local seen = 0
  for r = 1, 500 // scale do
    round = r
    fill()
    for _ = 1, 2 do setmetatable({}, Clearer) end
    armed = r % 2 == 1
    local iter, state, first = pairs(c)
    armed = false
    local keys = {}
    for k, v in iter, state, first do
      seen = seen + 1
      check(type(k) == "string" and type(v) == "table",
            "round %d: pairs gave %s, %s", round, tostring(k), tostring(v))
      check(v.key == k and v.round == round, "round %d: the value of %s is that of %s (round %s)",
            round, k, tostring(v.key), tostring(v.round))
      check(not keys[k], "round %d: %s twice in one pairs loop", round, k)
      keys[k] = true
    end
  end
  done = true
  H.full_gc()
  check(seen > 0, "pairs never gave an entry")
  return exercised(counts, 4)
end

--- methodcache.clear(f, o) while finalizers call o:m(): every call gives
-- the method's results (a hit never gives nil, nil).  Two methods: without
-- on_evict a clear allocates only after it emptied the C cache; with it, a
-- clear first lists the entries for on_evict.  Besides the garbage of each
-- round, eight callers set their metatable again in their finalizer, so
-- that some finalizer runs at the end of every collection cycle.
function M.clear_calls(scale)
  local C = {}
  C.__index = C
  local evicted = 0
  local function body(_, x) return x, "v" .. x end
  C.m = methodcache.method(body, { maxsize = 64 })
  C.n = methodcache.method(body, { maxsize = 64, on_evict = function() evicted = evicted + 1 end })
  local o = setmetatable({}, C)
  local fns = { [C.m] = true, [C.n] = true, [methodcache.clear] = true }
  local counts = { fin = 0, nested = 0 }
  local wrong = {}
  local done = false
  local function verify(where, x, a, b)
    if a ~= x or b ~= "v" .. x then
      wrong[#wrong + 1] = ("%s: m(%d) gave %s, %s"):format(where, x, tostring(a), tostring(b))
    end
  end
  local Caller = {}
  Caller.__gc = function(r)
    counts.fin = counts.fin + 1
    if H.inside(fns) then counts.nested = counts.nested + 1 end
    for x = r.x, r.x + 3 do
      verify("finalizer", x, o:m(x))
      verify("finalizer", x, o:n(x))
    end
    if r.again and not done then setmetatable(r, Caller) end
  end
  for j = 1, 8 do setmetatable({ x = j, again = true }, Caller) end
  for round = 1, 250 // scale do
    for x = 1, 40 do
      verify("before clear", x, o:m(x))
      verify("before clear", x, o:n(x))
    end
    for j = 1, 4 do setmetatable({ x = (round + j) % 40 + 1 }, Caller) end
    methodcache.clear(C.m, o)
    methodcache.clear(C.n, o)
    for x = 1, 40 do
      verify("after clear", x, o:m(x))
      verify("after clear", x, o:n(x))
    end
  end
  done = true
  H.full_gc()
  check(#wrong == 0, "%d wrong results, the first: %s", #wrong, wrong[1])
  check(evicted > 0, "on_evict never ran")
  return exercised(counts, 500 // scale)
end

-- Twenty table keys get a __gc after they became keys of c; each one's
-- finalizer asks c about itself.  make_value(k, i) is the value of key k.
-- The expected answers, and why, are in spec/safety_spec.lua.
local function key_gc(make_value)
  local notices = {}
  local c = methodcache.lru(100, { on_evict = function(k, v, reason)
    notices[#notices + 1] = { k, v, reason }
  end })
  local reference = setmetatable({}, { __mode = "k" })  -- a weak-keyed table
  local log = {}
  ;(function()
    for i = 1, 20 do
      local k = {}
      local v = make_value(k, i)
      c:set(k, v)
      reference[k] = v
      setmetatable(k, { __gc = function(self)
        local n = #notices
        log[#log + 1] = {
          i = i, v = v, key = self, in_table = reference[self],
          has = c:has(self), peek = c:peek(self), get = c:get(self),
          pop = c:pop(self, "default"), has_after = c:has(self),
          popped_again = c:pop(self, "default"),
        }
        log[#log].notices = table.move(notices, n + 1, #notices, 1, {})
      end })
    end
  end)()
  c:set("other", "kept")
  H.full_gc()
  H.full_gc()
  check(#log == 20, "%d of 20 key finalizers ran", #log)
  for _, r in ipairs(log) do
    local function same(field, expected)
      check(rawequal(r[field], expected), "key %d: %s gave %s, not %s",
            r.i, field, tostring(r[field]), tostring(expected))
    end
    same("in_table", r.v)   -- what a weak-keyed table does
    same("has", true)
    same("peek", r.v)
    same("get", r.v)
    same("pop", r.v)
    same("has_after", false)
    same("popped_again", "default")
    -- on_evict hears of the pop with the key itself
    local notice = r.notices[1] or {}
    check(#r.notices == 1 and rawequal(notice[1], r.key) and rawequal(notice[2], r.v) and
          notice[3] == "deleted", "key %d: pop made %d notices, the first (%s, %s, %s)",
          r.i, #r.notices, tostring(notice[1]), tostring(notice[2]), tostring(notice[3]))
  end
  local left = H.entries(c)
  check(#c == 1 and #left == 1 and left[1][1] == "other" and left[1][2] == "kept",
        "the cache holds %d entries, pairs gives %d", #c, #left)
  check(c:stats().hits == 20, "%d hits, not 20", c:stats().hits)
  return { fin = #log, nested = #log }
end

--- A key's own finalizer: has, peek, get and pop, with a string value.
function M.key_gc()
  return key_gc(function(_, i) return "v" .. i end)
end

--- The same with a table value that refers to its key.
function M.key_gc_table()
  return key_gc(function(k, i) return { key = k, i = i } end)
end

--- A method with option total over many objects (spec/budget_spec.lua):
-- the main loop and the finalizers of garbage call it on objects of a pool
-- and on new ones, so that evictions take other objects' entries (holding
-- them while the notices allocate) while finalizers use those very caches,
-- and objects die with entries in the budget.  Every result, every notice
-- and the bound are checked.
function M.budget_evicting(scale)
  local Svc = {}
  Svc.__index = Svc
  local evicted, wrong = 0, {}
  Svc.lookup = methodcache.method(function(self, id) return { self.n, id } end, {
    maxsize = 4, total = 24, on_evict = function(k, v, reason)
      evicted = evicted + 1
      if not (type(v) == "table" and v[2] == k and reason == "size") then
        wrong[#wrong + 1] = ("on_evict(%s, %s, %s)"):format(tostring(k), tostring(v), reason)
      end
    end })
  local pool = {}
  for i = 1, 16 do pool[i] = setmetatable({ n = i }, Svc) end
  local fns = { [Svc.lookup] = true }
  local counts = { fin = 0, nested = 0 }
  local r = H.rng(5)
  local function call(o, id, where)
    local v = o:lookup(id)
    if not (v[1] == o.n and v[2] == id) then
      wrong[#wrong + 1] = ("%s: lookup(%d) on %d gave {%s, %s}"):format(where, id, o.n,
        tostring(v[1]), tostring(v[2]))
    end
    local ok, why, size = methodcache._budget(Svc.lookup)
    if not ok or size > 24 then wrong[#wrong + 1] = where .. ": " .. tostring(why) end
  end
  local Res = { __gc = function(res)
    counts.fin = counts.fin + 1
    if H.inside(fns) then counts.nested = counts.nested + 1 end
    call(pool[res.id % 16 + 1], -res.id, "finalizer")
    call(setmetatable({ n = -res.id }, Svc), res.id, "finalizer, new object")
  end }
  local n = 20000 // scale
  for i = 1, n do
    garbage(Res, i, n, 50)
    if r(3) == 1 then pool[r(16)] = setmetatable({ n = n + i }, Svc) end
    local o = pool[r(16)]
    call(o, r(6), "main")
  end
  H.full_gc()
  check(#wrong == 0, "%d wrong, the first: %s", #wrong, wrong[1])
  check(evicted > n // 2, "only %d evictions", evicted)
  local inf = methodcache.info(Svc.lookup)
  check(inf.size == inf.currsize and inf.size <= 24, "size %d, currsize %d", inf.size,
        inf.currsize)
  return exercised(counts, n // 2)
end

return M
