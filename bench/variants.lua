-- bench/variants.lua: the competing ways to cache a one-argument method.
--   uncached     the method itself
--   memo         weak[self][x] in two weak-keyed tables (the usual hand-written memo)
--   methodcache  methodcache.method(m, { maxsize = size }) (LRU)
--   fast         methodcache.method(m, { maxsize = size, policy = "fast" }) (bytecode hits)
--   lualru       a plain-Lua LRU per object (bench/lualru.lua), in a weak-keyed table
-- Loaded with lib.load("variants.lua").

local lib = ...
local methodcache = require("methodcache")
local LRU = lib.load("lualru.lua")

local V = {}

-- The method body is cheap on purpose, so that the cost of the cache shows.
function V.raw(self, x)
  return x * 2 + self.k
end

function V.hand_memo(fn)
  local weak = setmetatable({}, { __mode = "k" })
  return function(self, a)
    local t = weak[self]
    if t then
      local v = t[a]
      if v ~= nil then return v end
    else
      t = setmetatable({}, { __mode = "k" })
      weak[self] = t
    end
    local v = fn(self, a)
    t[a] = v
    return v
  end
end

function V.lua_lru_memo(fn, maxsize)
  local caches = setmetatable({}, { __mode = "k" })
  return function(self, a)
    local c = caches[self]
    if c then
      local v = c:get(a)
      if v ~= nil then return v end
    else
      c = LRU.new(maxsize)
      caches[self] = c
    end
    local v = fn(self, a)
    c:set(a, v)
    return v
  end
end

-- A cached version of V.raw by variant name; size is the maxsize where there is one.
function V.make(name, size)
  if name == "uncached" then return V.raw end
  if name == "memo" then return V.hand_memo(V.raw) end
  if name == "methodcache" then return methodcache.method(V.raw, { maxsize = size or 128 }) end
  if name == "fast" then
    return methodcache.method(V.raw, { maxsize = size or 128, policy = "fast" })
  end
  if name == "lualru" then return V.lua_lru_memo(V.raw, size or 128) end
  error("unknown variant " .. tostring(name))
end

V.labels = {
  uncached = "uncached method",
  memo = "hand memo weak[self][x]",
  methodcache = "methodcache.method",
  fast = "methodcache.method, policy fast",
  lualru = "plain-Lua LRU memo",
}

return V
