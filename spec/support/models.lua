-- Plain-Lua models of the methodcache policies, for spec/policies_spec.lua.
--
-- One model type covers lru, lfu, fifo, ttl, tlru and unbounded (and rr,
-- whose victims are not predictable: the spec tells the model which entry
-- the cache evicted, and the model checks that choice).  Every structure is
-- a plain table scanned linearly: slow, obviously right, for small caches.
--
-- A model mirrors a cache made as
--   methodcache.<policy>(maxsize[, ttl | ttu], { timer = ..., getsizeof = ...,
--                                                 on_evict = ..., typed = ... })
-- and every operation returns what the cache should return, appending the
-- on_evict notices it should make to model.notices ({key, value, reason}).
local M = {}

local Model = {}
Model.__index = Model

-- The key as the cache gives it back (pairs, on_evict): untyped, a float
-- with an integral value that fits an integer becomes that integer.
local function normkey(k, typed)
  if math.type(k) == "float" then
    if typed then
      if k == 0 then return 0.0 end  -- -0.0 and 0.0 are one key
      return k
    end
    local i = math.tointeger(k)
    if i then return i end
  end
  return k
end
M.normkey = normkey

-- An index for the model's table: value keys by their canonical spelling,
-- objects by identity.
local function canon(k, typed)
  k = normkey(k, typed)
  local t = type(k)
  if t == "number" then
    if math.type(k) == "integer" then return "i" .. k end
    return "f" .. string.format("%a", k)
  elseif t == "string" then
    return "s" .. k
  elseif t == "boolean" then
    return k and "T" or "F"
  end
  return k
end

--- opts: policy, maxsize, ttl (ttl), ttu (tlru: function(key, value, now)),
-- getsizeof (function(value) -> weight), typed.
function M.new(opts)
  local m = setmetatable({
    policy = opts.policy,
    maxsize = opts.policy == "unbounded" and math.huge or opts.maxsize,
    ttl = opts.ttl,
    ttu = opts.ttu,
    getsizeof = opts.getsizeof,
    typed = opts.typed or false,
    entries = {},     -- canon -> entry
    count = 0,
    currsize = 0,
    stamp = 0,        -- recency clock
    setseq = 0,       -- set clock, for ties in expiry order
    hits = 0, misses = 0, evictions = 0, expirations = 0,
    notices = {},
  }, Model)
  return m
end

function Model:timed()
  return self.policy == "ttl" or self.policy == "tlru"
end

function Model:alive(e, now)
  return not self:timed() or now < e.expires
end

function Model:tick()
  self.stamp = self.stamp + 1
  return self.stamp
end

function Model:notice(e, reason)
  self.notices[#self.notices + 1] = { e.key, e.value, reason }
end

function Model:remove(e)
  self.entries[e.canon] = nil
  self.count = self.count - 1
  self.currsize = self.currsize - e.weight
end

-- Entries in eviction order, the next victim first.
function Model:victims(avoid)
  local list = {}
  for _, e in pairs(self.entries) do
    if e ~= avoid then list[#list + 1] = e end
  end
  local lfu = self.policy == "lfu"
  table.sort(list, function(a, b)
    if lfu and a.count ~= b.count then return a.count < b.count end
    return a.stamp < b.stamp
  end)
  return list
end

--- pairs(c): the entry that would be evicted last first, live ones only.
-- Returns a list of {key, value}.
function Model:order(now)
  local v = self:victims()
  local out = {}
  for i = #v, 1, -1 do
    if self:alive(v[i], now) then out[#out + 1] = { v[i].key, v[i].value } end
  end
  return out
end

function Model:expired_list(now)
  local list = {}
  for _, e in pairs(self.entries) do
    if not (now < e.expires) then list[#list + 1] = e end
  end
  table.sort(list, function(a, b)
    if a.expires ~= b.expires then return a.expires < b.expires end
    return a.setseq < b.setseq
  end)
  return list
end

function Model:expire(now)
  if not self:timed() then return 0 end
  local list = self:expired_list(now)
  for _, e in ipairs(list) do
    self:remove(e)
    self:notice(e, "expired")
    self.expirations = self.expirations + 1
  end
  return #list
end

function Model:find(k)
  return self.entries[canon(k, self.typed)]
end

-- How a hit changes the entry (get; and set of an existing key, where FIFO
-- and unbounded count the key as new instead).
function Model:touch(e)
  local p = self.policy
  if p == "lru" or p == "ttl" or p == "tlru" then
    e.stamp = self:tick()
  elseif p == "lfu" then
    e.count = e.count + 1
    e.stamp = self:tick()
  end
end

-- An expired entry still held is a miss that gives nil and its stale value.
function Model:get(k, now)
  local e = self:find(k)
  if e == nil or not self:alive(e, now) then
    self.misses = self.misses + 1
    if e ~= nil then return nil, e.value end
    return nil
  end
  self.hits = self.hits + 1
  self:touch(e)
  return e.value
end

function Model:peek(k, now)
  local e = self:find(k)
  if e == nil then return nil end
  if not self:alive(e, now) then return nil, e.value end
  return e.value
end

function Model:has(k, now)
  local e = self:find(k)
  return e ~= nil and self:alive(e, now)
end

-- delete (push = false) and pop: returns found, value.
function Model:remove_key(k, now)
  local e = self:find(k)
  if e == nil then return false end
  self:remove(e)
  if self:alive(e, now) then
    self:notice(e, "deleted")
    return true, e.value
  end
  self:notice(e, "expired")
  self.expirations = self.expirations + 1
  return false
end

function Model:delete(k, now)
  return (self:remove_key(k, now))
end

function Model:pop(k, default, now)
  local found, v = self:remove_key(k, now)
  if found then return v end
  return default
end

function Model:clear(now)
  for _, kv in ipairs(self:order(now)) do
    self.notices[#self.notices + 1] = { kv[1], kv[2], "cleared" }
  end
  self.entries = {}
  self.count = 0
  self.currsize = 0
end

-- Evicts until 'need' more weight fits, never 'avoid'.  'chooser', for rr,
-- names the victim (the spec reads it from the cache's notices).
function Model:evict(need, avoid, chooser)
  while self.currsize > self.maxsize - need do
    local victim
    if chooser then
      victim = chooser(self, avoid)
    else
      victim = self:victims(avoid)[1]
    end
    if victim == nil then break end
    self:remove(victim)
    self:notice(victim, "size")
    self.evictions = self.evictions + 1
  end
end

--- set(k, v, now[, expires[, chooser[, ttl]]]): 'expires' is what ttu returned
-- (tlru); 'ttl' is the entry's own (set's third argument), which overrides both
-- the cache's ttl and ttu.
function Model:set(k, v, now, expires, chooser, ttl)
  local weight = self.getsizeof and self.getsizeof(v) or 1
  if ttl then
    expires = now + ttl
  elseif self.policy == "ttl" then
    expires = now + self.ttl
  end
  local rejected = self.policy == "tlru" and not (now < expires)
  if self:timed() and not rejected then self:expire(now) end
  local e = self:find(k)
  if weight > self.maxsize or rejected then
    if e then
      self:remove(e)
      self:notice(e, rejected and "expired" or "size")
    end
    return false
  end
  self.setseq = self.setseq + 1
  if e then
    e.value = v
    self.currsize = self.currsize + weight - e.weight
    e.weight = weight
    local p = self.policy
    if p == "fifo" or p == "unbounded" then
      e.stamp = self:tick()
    elseif p ~= "rr" then
      self:touch(e)
    end
    e.expires = expires
    e.setseq = self.setseq
    self:evict(0, e, chooser)
  else
    self:evict(weight, nil, chooser)
    e = {
      key = normkey(k, self.typed), canon = canon(k, self.typed), value = v,
      weight = weight, count = 1, stamp = self:tick(), expires = expires,
      setseq = self.setseq,
    }
    self.entries[e.canon] = e
    self.count = self.count + 1
    self.currsize = self.currsize + weight
  end
  return true
end

function Model:stats()
  return {
    hits = self.hits, misses = self.misses, evictions = self.evictions,
    expirations = self.expirations, currsize = self.currsize,
    maxsize = self.maxsize,
  }
end

M.canon = canon
return M
