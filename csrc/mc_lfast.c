/*
** mc_lfast.c: policy "fast" of methods and cached functions, whose hits
** run as Lua bytecode.
**
** A hit of the C closure of mc_lmethod.c costs 1.2-1.9x the hand-written
** weak[self][x] memo: the C call protocol and the API entry points cost
** more than the two table reads of the memo itself.  So a fast method is a
** Lua closure, made from the chunk below (compiled once per state, kept in
** the registry): a hit is objs[self] then young[x] and a counter, as in the
** memo.  Everything else (first calls, nil and NaN arguments, results that
** are not one non-nil value, old entries, misses) goes to the chunk's miss
** function, in Lua too, so that the method may yield.
**
** Recency is approximate, in two generations per object (the chunk says
** how); docs/DESIGN.md compares it with exact LRU.  The chunk uses no
** library: what it needs from C are the helpers below, passed as its
** arguments, so it works in a state that opened no library.  It holds no
** pointer into a core: THE RULE of mc_lua.h does not concern it.
**
** Which calls take the bytecode hit path: the wrapped function is read
** once; a Lua function with fixed parameters cannot see arguments beyond
** them nor tell a missing one from nil, so its key is exactly its
** parameters after self (0 or 1 of them: a specialized closure; more: the
** general one).  A vararg Lua function, a C function or a callable object
** can count its arguments: the key is every argument with their count, as
** in policy lru.
*/
#include <string.h>

#include "mc_lua.h"

static const char chunk[] =
  "-- methodcache.fast: policy \"fast\", whose hits run as Lua bytecode. Run\n"
  "-- once per state with the C helpers; returns make(fn, method, arity,\n"
  "-- maxsize), which returns the cached function and its control table\n"
  "-- {info, clear, delete, refresh, fn, method, stats}.\n"
  "local nargs, weak, nxt, unpack, checkself, cut = ...\n"
  "\n"
  "-- Private keys, never given to users: the slot of a nil argument, of a\n"
  "-- call without arguments, and the subtree of calls with two or more.\n"
  "local NILK, ZERO, MULTI = {}, {}, {}\n"
  "\n"
  "local function key(a)\n"
  "  if a == nil then return NILK end\n"
  "  return a\n"
  "end\n"
  "\n"
  "-- A generation root maps the key of a call to its value: a call of one\n"
  "-- argument a at root[a] (root[NILK] for nil), of none at root[ZERO], of\n"
  "-- n >= 2 at root[MULTI][n][a1]...[an]; every level is weak-keyed, so\n"
  "-- object arguments are held as ephemerons.\n"
  "\n"
  "-- The value of the call (n, ...) under root, or nil; reads only.\n"
  "local function getn(t, n, a, ...)\n"
  "  if t == nil then return nil end\n"
  "  if n == 1 then return t[key(a)] end\n"
  "  return getn(t[key(a)], n - 1, ...)\n"
  "end\n"
  "\n"
  "local function get(root, n, ...)\n"
  "  if n == 0 then return root[ZERO] end\n"
  "  if n == 1 then return root[key((...))] end\n"
  "  local m = root[MULTI]\n"
  "  return getn(m and m[n], n, ...)\n"
  "end\n"
  "\n"
  "-- The table and key of the slot of a call under root (false: none): k\n"
  "-- is the key itself for n <= 1, the table of arguments for n >= 2. With\n"
  "-- 'make' the missing levels are made.\n"
  "local function slot(root, n, k, make)\n"
  "  if not root then return nil end\n"
  "  if n <= 1 then return root, k end\n"
  "  local t = root[MULTI]\n"
  "  if t == nil then\n"
  "    if not make then return nil end\n"
  "    t = weak()\n"
  "    root[MULTI] = t\n"
  "  end\n"
  "  local u = t[n]\n"
  "  if u == nil then\n"
  "    if not make then return nil end\n"
  "    u = weak()\n"
  "    t[n] = u\n"
  "  end\n"
  "  for i = 1, n - 1 do\n"
  "    local ki = key(k[i])\n"
  "    t = u[ki]\n"
  "    if t == nil then\n"
  "      if not make then return nil end\n"
  "      t = weak()\n"
  "      u[ki] = t\n"
  "    end\n"
  "    u = t\n"
  "  end\n"
  "  return u, key(k[n])\n"
  "end\n"
  "\n"
  "-- Live entries under a generation root; t at 'depth' levels above its\n"
  "-- values.\n"
  "local function countlevel(t, depth)\n"
  "  local c, k, v = 0, nxt(t)\n"
  "  while k ~= nil do\n"
  "    c = c + (depth == 1 and 1 or countlevel(v, depth - 1))\n"
  "    k, v = nxt(t, k)\n"
  "  end\n"
  "  return c\n"
  "end\n"
  "\n"
  "local function countgen(root)\n"
  "  if not root then return 0 end\n"
  "  local c, k, v = 0, nxt(root)\n"
  "  while k ~= nil do\n"
  "    if k == MULTI then\n"
  "      local n, t = nxt(v)\n"
  "      while n ~= nil do\n"
  "        c = c + countlevel(t, n)\n"
  "        n, t = nxt(v, n)\n"
  "      end\n"
  "    else\n"
  "      c = c + 1\n"
  "    end\n"
  "    k, v = nxt(root, k)\n"
  "  end\n"
  "  return c\n"
  "end\n"
  "\n"
  "-- A record per object: [1] young values, [2] young boxes, [3] old\n"
  "-- values, [4] old boxes (false: none), [5] entries counted young, [6]\n"
  "-- old, [7] misses, [8] a version, bumped by every store and clear, [9]\n"
  "-- and [10] where the eviction of old entries goes on (see room).  A box\n"
  "-- {n = count, ...} holds results that are not one non-nil value; it\n"
  "-- lives in a table of its own, so that a value found in [1] or [3] is\n"
  "-- always the one result, whatever its type.\n"
  "local function size(r)\n"
  "  return countgen(r[1]) + countgen(r[2]) + countgen(r[3])\n"
  "    + countgen(r[4])\n"
  "end\n"
  "\n"
  "return function(fn, method, arity, maxsize)\n"
  "  local objs, recs = weak(), weak() -- obj -> young values, record\n"
  "  local hits, misses, made = 0, 0, 0 -- made: records, ever\n"
  "  local half = maxsize - maxsize // 4 -- a full young generation\n"
  "  local batch = maxsize // 32 + 1 -- old entries evicted at a time\n"
  "  local SELF = {} -- the one \"object\" of a cached function\n"
  "\n"
  "  -- Where an object's tables are found: objs[obj] (read inline by the\n"
  "  -- hit paths below) and recs[obj].\n"
  "  local function newrec(obj)\n"
  "    local y = weak(0)\n"
  "    local r = { y, false, false, false, 0, 0, 0, 0, nil, 3 }\n"
  "    objs[obj], recs[obj] = y, r\n"
  "    made = made + 1\n"
  "    return r\n"
  "  end\n"
  "\n"
  "  local function reset(obj, r)\n"
  "    local y = weak(0)\n"
  "    r[1], r[2], r[3], r[4], r[5], r[6] = y, false, false, false, 0, 0\n"
  "    r[8], r[9], r[10] = r[8] + 1, nil, 3\n"
  "    objs[obj] = y\n"
  "  end\n"
  "\n"
  "  -- The young generation becomes the old one; what was left of the old\n"
  "  -- one goes.\n"
  "  local function retire(obj, r)\n"
  "    local y = weak(half) -- first: a memory error leaves r as it was\n"
  "    r[3], r[4], r[6] = r[1], r[2], r[5]\n"
  "    r[1], r[2], r[5] = y, false, 0\n"
  "    r[9], r[10] = nil, 3\n"
  "    objs[obj] = y\n"
  "  end\n"
  "\n"
  "  -- Room for one more young entry: a full young generation retires; in\n"
  "  -- a full cache old entries go, 'batch' at a time, in the order of the\n"
  "  -- old tables (r[10] the table, r[9] the key to go on from).  Entries\n"
  "  -- of calls of two or more arguments are left to go with their\n"
  "  -- generation.\n"
  "  local function room(obj, r)\n"
  "    if r[5] >= half then retire(obj, r) end\n"
  "    while r[5] + r[6] >= maxsize do\n"
  "      if r[6] <= 0 then retire(obj, r) end\n"
  "      local g, n = r[10], 0\n"
  "      if g > 4 then\n"
  "        r[3], r[4], r[6] = false, false, 0\n"
  "      else\n"
  "        local t = r[g]\n"
  "        if t then n, r[9] = cut(t, r[9], batch, MULTI) end\n"
  "        if n < batch then r[9], r[10] = nil, g + 1 end\n"
  "        r[6] = r[6] - n\n"
  "      end\n"
  "    end\n"
  "  end\n"
  "\n"
  "  -- Stores v (boxed or not) under the call (n, k), which is in no\n"
  "  -- generation.\n"
  "  local function put(obj, r, n, k, v, boxed)\n"
  "    if r[5] >= half or r[5] + r[6] >= maxsize then room(obj, r) end\n"
  "    local g = boxed and 2 or 1\n"
  "    if not r[g] then r[g] = weak(0) end\n"
  "    local t, kk = slot(r[g], n, k, true)\n"
  "    t[kk] = v\n"
  "    r[5], r[8] = r[5] + 1, r[8] + 1\n"
  "  end\n"
  "\n"
  "  -- Removes the call (n, k) from every generation of r.\n"
  "  local function remove(r, n, k)\n"
  "    for g = 1, 4 do\n"
  "      local t, kk = slot(r[g], n, k, false)\n"
  "      if t ~= nil and t[kk] ~= nil then\n"
  "        t[kk] = nil\n"
  "        local c = g <= 2 and 5 or 6\n"
  "        r[c] = r[c] - 1\n"
  "      end\n"
  "    end\n"
  "  end\n"
  "\n"
  "  -- Looks the call (n, k) up in every generation; an old entry found\n"
  "  -- moves to the young generation.  Returns whether found, the value,\n"
  "  -- whether boxed.\n"
  "  local function find(obj, r, n, k)\n"
  "    for g = 1, 4 do\n"
  "      local t, kk = slot(r[g], n, k, false)\n"
  "      local v\n"
  "      if t ~= nil then v = t[kk] end\n"
  "      if v ~= nil then\n"
  "        if g >= 3 then\n"
  "          t[kk] = nil\n"
  "          r[6] = r[6] - 1\n"
  "          put(obj, r, n, k, v, g == 4)\n"
  "        end\n"
  "        return true, v, g % 2 == 0\n"
  "      end\n"
  "    end\n"
  "    return false\n"
  "  end\n"
  "\n"
  "  -- The record of obj, made at its first call. (objs[obj] without\n"
  "  -- recs[obj]: a memory error between the two sets)\n"
  "  local function record(obj)\n"
  "    local r = recs[obj]\n"
  "    if r == nil then\n"
  "      r = newrec(obj)\n"
  "    elseif objs[obj] == nil then\n"
  "      objs[obj] = r[1]\n"
  "    end\n"
  "    return r\n"
  "  end\n"
  "\n"
  "  -- Stores the results (...) of the call (n, k) made when r was at\n"
  "  -- version 'ver'; returns them.\n"
  "  local function finish(obj, r, n, k, ver, ...)\n"
  "    local v, boxed = ..., false\n"
  "    if v == nil or nargs(...) ~= 1 then\n"
  "      v, boxed = { n = nargs(...), ... }, true\n"
  "    end\n"
  "    -- stored meanwhile (recursion, another coroutine), or cleared\n"
  "    if r[8] ~= ver then remove(r, n, k) end\n"
  "    put(obj, r, n, k, v, boxed)\n"
  "    return ...\n"
  "  end\n"
  "\n"
  "  -- finish for a call of n <= 1 arguments, whose key is k: put inline.\n"
  "  local function finish1(obj, r, k, ver, ...)\n"
  "    local v, g = ..., 1\n"
  "    if v == nil or nargs(...) ~= 1 then\n"
  "      v, g = { n = nargs(...), ... }, 2\n"
  "    end\n"
  "    if r[8] ~= ver then remove(r, 1, k) end\n"
  "    local yn = r[5]\n"
  "    if yn >= half or yn + r[6] >= maxsize then\n"
  "      room(obj, r)\n"
  "      yn = r[5]\n"
  "    end\n"
  "    local t = r[g]\n"
  "    if not t then\n"
  "      t = weak(0)\n"
  "      r[g] = t\n"
  "    end\n"
  "    t[k] = v\n"
  "    r[5], r[8] = yn + 1, r[8] + 1\n"
  "    return ...\n"
  "  end\n"
  "\n"
  "  -- A hit found by a miss function.\n"
  "  local function hit(v, boxed)\n"
  "    hits = hits + 1\n"
  "    if boxed then return unpack(v) end\n"
  "    return v\n"
  "  end\n"
  "\n"
  "  -- Whether a call of one argument a, not in the young values of r, is\n"
  "  -- a plain miss: a cached argument (not nil, not NaN) found in no other\n"
  "  -- generation.  The closures below then call finish1 themselves: a\n"
  "  -- miss+evict through miss1's general case took 6,080 instructions, this\n"
  "  -- way 5,030 (callgrind).\n"
  "  local function fresh(r, a)\n"
  "    if maxsize == 0 or a == nil or a ~= a then return false end\n"
  "    local t = r[2]\n"
  "    if t and t[a] ~= nil then return false end\n"
  "    t = r[3]\n"
  "    if t and t[a] ~= nil then return false end\n"
  "    t = r[4]\n"
  "    return not t or t[a] == nil\n"
  "  end\n"
  "\n"
  "  -- Everything but a hit on the young values of a call of n <= 1\n"
  "  -- arguments (a): a first call (after checkself), nil and NaN\n"
  "  -- arguments, boxes, old entries, misses.  y: the young values, where\n"
  "  -- the hit path found nothing for a (nil: no young values yet).\n"
  "  local function miss1(obj, n, a, y)\n"
  "    local r = recs[obj]\n"
  "    if y == nil or r == nil then r = record(obj) end\n"
  "    local k = ZERO\n"
  "    if n == 1 then\n"
  "      if a == nil then\n"
  "        k = NILK\n"
  "      elseif a == a then\n"
  "        k = a\n"
  "      else\n"
  "        k = nil -- NaN: never cached\n"
  "      end\n"
  "    end\n"
  "    if k ~= nil and maxsize > 0 then\n"
  "      local v, boxed = nil, false\n"
  "      if y == nil or k == NILK then v = r[1][k] end\n"
  "      if v == nil then\n"
  "        local g, t = 2, r[2]\n"
  "        if t then v = t[k] end\n"
  "        if v == nil then\n"
  "          g, t = 3, r[3]\n"
  "          if t then v = t[k] end\n"
  "          if v == nil then\n"
  "            g, t = 4, r[4]\n"
  "            if t then v = t[k] end\n"
  "          end\n"
  "          if v ~= nil then -- old: it moves to the young generation\n"
  "            t[k], r[6] = nil, r[6] - 1\n"
  "            put(obj, r, 1, k, v, g == 4)\n"
  "          end\n"
  "        end\n"
  "        boxed = g % 2 == 0\n"
  "      end\n"
  "      if v ~= nil then return hit(v, boxed) end\n"
  "    end\n"
  "    misses, r[7] = misses + 1, r[7] + 1\n"
  "    if k == nil or maxsize == 0 then\n"
  "      if method then\n"
  "        if n == 0 then return fn(obj) end\n"
  "        return fn(obj, a)\n"
  "      end\n"
  "      if n == 0 then return fn() end\n"
  "      return fn(a)\n"
  "    end\n"
  "    if method then\n"
  "      if n == 0 then return finish1(obj, r, k, r[8], fn(obj)) end\n"
  "      return finish1(obj, r, k, r[8], fn(obj, a))\n"
  "    end\n"
  "    if n == 0 then return finish1(obj, r, k, r[8], fn()) end\n"
  "    return finish1(obj, r, k, r[8], fn(a))\n"
  "  end\n"
  "\n"
  "  -- miss1 for calls of n >= 2 arguments (...).\n"
  "  local function missn(obj, n, ...)\n"
  "    local r = record(obj)\n"
  "    local k = { ... }\n"
  "    for i = 1, n do\n"
  "      local ai = k[i]\n"
  "      if ai ~= ai then\n"
  "        k = nil -- NaN: never cached\n"
  "        break\n"
  "      end\n"
  "    end\n"
  "    if k ~= nil and maxsize > 0 then\n"
  "      local found, v, boxed = find(obj, r, n, k)\n"
  "      if found then return hit(v, boxed) end\n"
  "    end\n"
  "    misses, r[7] = misses + 1, r[7] + 1\n"
  "    if k == nil or maxsize == 0 then\n"
  "      if method then return fn(obj, ...) end\n"
  "      return fn(...)\n"
  "    end\n"
  "    if method then return finish(obj, r, n, k, r[8], fn(obj, ...)) end\n"
  "    return finish(obj, r, n, k, r[8], fn(...))\n"
  "  end\n"
  "\n"
  "  local f\n"
  "  if method then\n"
  "    if arity == 1 then\n"
  "      f = function(self, a)\n"
  "        local y = objs[self]\n"
  "        if y then\n"
  "          local v = y[a]\n"
  "          if v ~= nil then\n"
  "            hits = hits + 1\n"
  "            return v\n"
  "          end\n"
  "          local r = recs[self]\n"
  "          if r and fresh(r, a) then\n"
  "            misses, r[7] = misses + 1, r[7] + 1\n"
  "            return finish1(self, r, a, r[8], fn(self, a))\n"
  "          end\n"
  "        else\n"
  "          checkself(self)\n"
  "        end\n"
  "        return miss1(self, 1, a, y)\n"
  "      end\n"
  "    elseif arity == 0 then\n"
  "      f = function(self)\n"
  "        local y = objs[self]\n"
  "        if y then\n"
  "          local v = y[ZERO]\n"
  "          if v ~= nil then\n"
  "            hits = hits + 1\n"
  "            return v\n"
  "          end\n"
  "        else\n"
  "          checkself(self)\n"
  "        end\n"
  "        return miss1(self, 0, nil, y)\n"
  "      end\n"
  "    else\n"
  "      f = function(self, ...)\n"
  "        local y = objs[self]\n"
  "        local n = arity\n"
  "        if n < 0 then n = nargs(...) end\n"
  "        if y then\n"
  "          local v = get(y, n, ...)\n"
  "          if v ~= nil then\n"
  "            hits = hits + 1\n"
  "            return v\n"
  "          end\n"
  "        else\n"
  "          checkself(self)\n"
  "        end\n"
  "        if n <= 1 then return miss1(self, n, (...), y) end\n"
  "        return missn(self, n, ...)\n"
  "      end\n"
  "    end\n"
  "  else\n"
  "    newrec(SELF)\n"
  "    if arity == 1 then\n"
  "      f = function(a)\n"
  "        local y = objs[SELF]\n"
  "        local v = y[a]\n"
  "        if v ~= nil then\n"
  "          hits = hits + 1\n"
  "          return v\n"
  "        end\n"
  "        local r = recs[SELF]\n"
  "        if fresh(r, a) then\n"
  "          misses, r[7] = misses + 1, r[7] + 1\n"
  "          return finish1(SELF, r, a, r[8], fn(a))\n"
  "        end\n"
  "        return miss1(SELF, 1, a, y)\n"
  "      end\n"
  "    elseif arity == 0 then\n"
  "      f = function()\n"
  "        local y = objs[SELF]\n"
  "        local v = y[ZERO]\n"
  "        if v ~= nil then\n"
  "          hits = hits + 1\n"
  "          return v\n"
  "        end\n"
  "        return miss1(SELF, 0, nil, y)\n"
  "      end\n"
  "    else\n"
  "      f = function(...)\n"
  "        local n = arity\n"
  "        if n < 0 then n = nargs(...) end\n"
  "        local y = objs[SELF]\n"
  "        local v = get(y, n, ...)\n"
  "        if v ~= nil then\n"
  "          hits = hits + 1\n"
  "          return v\n"
  "        end\n"
  "        if n <= 1 then return miss1(SELF, n, (...), y) end\n"
  "        return missn(SELF, n, ...)\n"
  "      end\n"
  "    end\n"
  "  end\n"
  "\n"
  "  -- methodcache.info(f[, obj]) and clear(f[, obj]); 'one': obj was\n"
  "  -- given.\n"
  "  local function info(one, obj)\n"
  "    if not method then\n"
  "      return { hits = hits, misses = misses, maxsize = maxsize,\n"
  "               currsize = size(recs[SELF]), instances = 1 }\n"
  "    end\n"
  "    if one then\n"
  "      local r = recs[obj]\n"
  "      return { misses = r and r[7] or 0, currsize = r and size(r) or 0,\n"
  "               maxsize = maxsize }\n"
  "    end\n"
  "    local cur, n, o, r = 0, 0, nxt(recs)\n"
  "    while o ~= nil do\n"
  "      cur, n = cur + size(r), n + 1\n"
  "      o, r = nxt(recs, o)\n"
  "    end\n"
  "    return { hits = hits, misses = misses, currsize = cur,\n"
  "             maxsize = maxsize, instances = n }\n"
  "  end\n"
  "\n"
  "  local function clear(one, obj)\n"
  "    if not method then\n"
  "      one, obj = true, SELF\n"
  "    end\n"
  "    if one then\n"
  "      local r = recs[obj]\n"
  "      if r ~= nil then reset(obj, r) end\n"
  "      return\n"
  "    end\n"
  "    local o, r = nxt(recs)\n"
  "    while o ~= nil do\n"
  "      reset(o, r)\n"
  "      o, r = nxt(recs, o)\n"
  "    end\n"
  "  end\n"
  "\n"
  "  -- The key a call of (...) makes (nil for a NaN): n and k as in miss1\n"
  "  -- and missn.\n"
  "  local function keyof(...)\n"
  "    local n = arity\n"
  "    if n < 0 then n = nargs(...) end\n"
  "    if n == 0 then return n, ZERO end\n"
  "    local k = { ... }\n"
  "    for i = 1, n do\n"
  "      local ai = k[i]\n"
  "      if ai ~= ai then return n, nil end\n"
  "    end\n"
  "    if n == 1 then return n, key(k[1]) end\n"
  "    return n, k\n"
  "  end\n"
  "\n"
  "  -- methodcache.delete(f[, obj], ...): whether the key had an entry.\n"
  "  local function delete(obj, ...)\n"
  "    local n, k = keyof(...)\n"
  "    local r = recs[obj]\n"
  "    if r == nil or k == nil then return false end\n"
  "    local c = r[5] + r[6]\n"
  "    remove(r, n, k)\n"
  "    return r[5] + r[6] < c\n"
  "  end\n"
  "\n"
  "  -- methodcache.refresh(f[, obj], ...): computes again and stores.\n"
  "  local function refresh(obj, ...)\n"
  "    local n, k = keyof(...)\n"
  "    local r = record(obj)\n"
  "    if k == nil or maxsize == 0 then\n"
  "      if method then return fn(obj, ...) end\n"
  "      return fn(...)\n"
  "    end\n"
  "    -- a version that is never r's: finish removes the old entry\n"
  "    if method then return finish(obj, r, n, k, -1, fn(obj, ...)) end\n"
  "    return finish(obj, r, n, k, -1, fn(...))\n"
  "  end\n"
  "\n"
  "  -- For methodcache.report(): hits, misses, entries, objects, the\n"
  "  -- records made that were collected since, maxsize.\n"
  "  local function stats()\n"
  "    local i = info(false)\n"
  "    return hits, misses, i.currsize, i.instances, made - i.instances,\n"
  "      maxsize\n"
  "  end\n"
  "\n"
  "  local ctl = { info, clear, delete, refresh, fn, method, stats }\n"
  "  if not method then\n"
  "    ctl[3] = function(...) return delete(SELF, ...) end\n"
  "    ctl[4] = function(...) return refresh(SELF, ...) end\n"
  "  end\n"
  "  return f, ctl\n"
  "end\n";

static const char make_key = 'f';   /* registry: what the chunk returned */
static const char ctl_key = 'c';    /* registry, weak keys: fast closure ->
                                       {info, clear} of its chunk */


/* {======================================================
** The chunk's helpers
** ======================================================= */

static int f_nargs(lua_State *L) {
  lua_pushinteger(L, lua_gettop(L));
  return 1;
}

/* weak(n): a weak-keyed table with room for n keys; upvalue 1 is the
** metatable of mc_pushweak's */
static int f_weak(lua_State *L) {
  lua_createtable(L, 0, (int)luaL_optinteger(L, 1, 0));
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_setmetatable(L, -2);
  return 1;
}

static int f_next(lua_State *L) {
  lua_settop(L, 2);
  if (lua_next(L, 1))
    return 2;
  return 0;
}

/* cut(t, k, n, skip): removes up to n keys of t, but 'skip', going on
** after key k (nil: from the start); returns how many, and the last key
** removed if it is no object (an object is not held: the next cut then
** starts again from the start).  Clearing keys while traversing is what
** next allows, and raw sets of nil never allocate. */
static int f_cut(lua_State *L) {
  lua_Integer want = luaL_checkinteger(L, 3), got = 0;
  lua_settop(L, 4);
  lua_pushvalue(L, 2);
  while (got < want && lua_next(L, 1)) {
    lua_pop(L, 1);                                      /* the value */
    if (lua_rawequal(L, -1, 4))
      continue;
    lua_pushvalue(L, -1);
    lua_pushnil(L);
    lua_rawset(L, 1);
    got++;
  }
  lua_pushinteger(L, got);
  if (lua_gettop(L) == 6 && !mc_byidentity(lua_type(L, 5))) {
    lua_pushvalue(L, 5);
    return 2;
  }
  return 1;
}

/* A box {n = count, ...}: its values. */
static int f_unpack(lua_State *L) {
  lua_Integer n, i;
  lua_getfield(L, 1, "n");
  n = lua_tointeger(L, -1);
  luaL_checkstack(L, (int)n, "too many results to return");
  for (i = 1; i <= n; i++)
    lua_rawgeti(L, 1, i);
  return (int)n;
}

static int badself(lua_State *L) {
  mc_lmethod_checkself(L, lua_tostring(L, 2));
  return 0;
}

/* The first call of an object: the errors of the C closure, naming the
** method as its caller called it (level 1) and placed at that caller's
** call (level 2).  The message is made under a pcall, where luaL_error
** finds a C function at level 1 and adds no position of its own. */
static int f_checkself(lua_State *L) {
  lua_Debug ar;
  const char *fname = "?";
  if (mc_byidentity(lua_type(L, 1)))
    return 0;
  if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "n", &ar) && ar.name)
    fname = ar.name;
  lua_settop(L, 1);
  luaL_where(L, 2);
  lua_pushcfunction(L, badself);
  lua_pushvalue(L, 1);
  lua_pushstring(L, fname);
  lua_pcall(L, 2, 0, 0);
  lua_concat(L, 2);
  return lua_error(L);
}

/* Pushes the chunk's make function, running the chunk the first time. */
static void pushmake(lua_State *L) {
  static const lua_CFunction helpers[] = {
    f_nargs, f_weak, f_next, f_unpack, f_checkself, f_cut
  };
  int i, n = (int)(sizeof(helpers) / sizeof(helpers[0]));
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &make_key) == LUA_TFUNCTION)
    return;
  lua_pop(L, 1);
  luaL_checkstack(L, n + 2, NULL);
  if (luaL_loadbuffer(L, chunk, sizeof(chunk) - 1, "=methodcache.fast") !=
      LUA_OK)
    lua_error(L);
  for (i = 0; i < n; i++) {
    if (helpers[i] == f_weak) {
      mc_pushweak(L, 'k');
      lua_getmetatable(L, -1);
      lua_replace(L, -2);
    }
    lua_pushcclosure(L, helpers[i], helpers[i] == f_weak);
  }
  lua_call(L, n, 1);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &make_key);
}

/* }====================================================== */


/* The options policy fast cannot honour: an error that names them. */
void mc_lfast_checkopts(lua_State *L, const mc_opts *o, int arg,
                        const char *fname) {
  static const struct { int opt; const char *name; } fns[] = {
    {MC_OPT_ONEVICT, "on_evict"}, {MC_OPT_GETSIZEOF, "getsizeof"},
    {MC_OPT_TIMER, "timer"}, {MC_OPT_KEY, "key"}
  };
  const char *bad = NULL;
  size_t i;
  for (i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
    if (o->flags & MC_HAS(fns[i].opt))
      bad = fns[i].name;
  if (o->typed)
    bad = "typed";
  if (o->coalesce)
    bad = "coalesce";
  if (o->seeded)
    bad = "seed";
  /* its records live in the weak tables of the chunk (docs/DESIGN.md,
  ** section 16) */
  if (o->store != MC_STORE_WEAK)
    bad = "store";
  if (bad != NULL)
    mc_argerror(L, arg, fname, "policy 'fast' does not support option '%s'",
                bad);
}

/* Pushes the fast method (self) or cached function of the function at 1,
** made with the options 'o' read from argument 'arg'. */
void mc_lfast_new(lua_State *L, const mc_opts *o, int self, int arg,
                  const char *fname) {
  int arity = -1;
  mc_lfast_checkopts(L, o, arg, fname);
  luaL_checkstack(L, 8, NULL);
  if (lua_type(L, 1) == LUA_TFUNCTION) {
    lua_Debug ar;
    lua_pushvalue(L, 1);
    lua_getinfo(L, ">u", &ar);
    if (!ar.isvararg)
      arity = ar.nparams - (self && ar.nparams > 0);
  }
  pushmake(L);
  lua_pushvalue(L, 1);
  lua_pushboolean(L, self);
  lua_pushinteger(L, arity);
  lua_pushinteger(L, (lua_Integer)o->maxsize);
  lua_call(L, 4, 2);                        /* f, its control table */
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &ctl_key) != LUA_TTABLE) {
    lua_pop(L, 1);
    mc_pushweak(L, 'k');
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &ctl_key);
  }
  lua_pushvalue(L, -3);
  lua_pushvalue(L, -3);
  lua_rawset(L, -3);
  lua_pop(L, 2);                            /* f */
  mc_lstats_register(L);
}

/* For mc_lstats: if the value at 'f' is a fast function, fills 's' from
** it (its stats function walks its tables: Lua code, no core pointer),
** pushes nil for its name (fast functions do not learn it) and returns 1;
** else returns 0 and pushes nothing. */
int mc_lfast_stat(lua_State *L, int f, methodcache_stat *s, lua_Debug *ar) {
  int ctl;
  if (!mc_lfast_pushcontrol(L, f))
    return 0;
  ctl = lua_gettop(L);
  memset(s, 0, sizeof(*s));
  lua_rawgeti(L, ctl, MC_FAST_METHOD);
  s->kind = lua_toboolean(L, -1) ? "method" : "function";
  s->policy = "fast";
  lua_rawgeti(L, ctl, MC_FAST_STATS);
  lua_call(L, 0, 6);
  s->hits = (long long)lua_tointeger(L, -6);
  s->misses = (long long)lua_tointeger(L, -5);
  s->entries = s->currsize = (long long)lua_tointeger(L, -4);
  s->objects = (long long)lua_tointeger(L, -3);
  s->collected = (long long)lua_tointeger(L, -2);
  s->maxsize = (long long)lua_tointeger(L, -1);
  s->source = "?";
  s->line = -1;
  lua_rawgeti(L, ctl, MC_FAST_FN);
  if (lua_type(L, -1) == LUA_TFUNCTION && lua_getinfo(L, ">S", ar)) {
    s->source = ar->short_src;
    s->line = ar->linedefined;
  }
  lua_settop(L, ctl - 1);
  lua_pushnil(L);
  return 1;
}

/* If the value at 'idx' is a fast function, pushes its control table
** (MC_FAST_*) and returns 1; else returns 0 and pushes nothing. */
int mc_lfast_pushcontrol(lua_State *L, int idx) {
  if (lua_type(L, idx) != LUA_TFUNCTION || lua_iscfunction(L, idx))
    return 0;
  idx = lua_absindex(L, idx);
  luaL_checkstack(L, 2, NULL);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &ctl_key) == LUA_TTABLE) {
    lua_pushvalue(L, idx);
    if (lua_rawget(L, -2) == LUA_TTABLE) {
      lua_remove(L, -2);
      return 1;
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return 0;
}

/* info(f[, obj]) and clear(f[, obj]) (op MC_FAST_INFO, MC_FAST_CLEAR) of a
** fast function at 1: returns their count of results, or -1 if f is not
** one. */
int mc_lfast_control(lua_State *L, int op) {
  if (lua_type(L, 1) != LUA_TFUNCTION)  /* and the stack as it was */
    return -1;
  lua_settop(L, 2);
  if (!mc_lfast_pushcontrol(L, 1))
    return -1;
  lua_rawgeti(L, -1, op);
  lua_pushboolean(L, !lua_isnil(L, 2));
  lua_pushvalue(L, 2);
  lua_call(L, 2, op == MC_FAST_INFO);
  return op == MC_FAST_INFO;
}

static int allresults(lua_State *L, int status, lua_KContext ctx) {
  (void)status;
  (void)ctx;
  return lua_gettop(L);
}

/* refresh(f[, obj], ...) and delete(f[, obj], ...) of a fast function at
** 1: returns their count of results, or -1 if f is not one.  refresh
** calls the function, which may yield. */
int mc_lfast_onekey(lua_State *L, int refresh) {
  int n = lua_gettop(L);
  if (!mc_lfast_pushcontrol(L, 1))
    return -1;
  lua_rawgeti(L, -1, MC_FAST_METHOD);
  if (lua_toboolean(L, -1) && !mc_byidentity(lua_type(L, 2)))
    mc_argerror(L, 2, refresh ? "refresh" : "delete", "object expected, "
                "got %s", luaL_typename(L, 2));
  lua_rawgeti(L, -2, refresh ? MC_FAST_REFRESH : MC_FAST_DELETE);
  lua_replace(L, 1);
  lua_settop(L, n);
  lua_callk(L, n - 1, LUA_MULTRET, 0, allresults);
  return allresults(L, LUA_OK, 0);
}
