-- A plain-Lua model of a cached method with option total, for
-- spec/budget_spec.lua: one recency list over every (object, key) pair,
-- each object's cache bounded by maxsize and all of them by total.  The
-- list is a plain array scanned linearly: slow, obviously right, for small
-- sizes.
--
-- model:call(obj, key, value) says whether the call hits, and for a miss
-- stores value as the method does: first the object's own least recent
-- entries go while its cache is too heavy, then the least recent entries of
-- any object while the total is; each leaves a notice {key, value, "size"}
-- in model.notices.
local M = {}

local Model = {}
Model.__index = Model

-- opts: maxsize, total, getsizeof (optional: value -> weight)
function M.new(opts)
  return setmetatable({ maxsize = opts.maxsize, total = opts.total,
                        getsizeof = opts.getsizeof, list = {}, notices = {} }, Model)
end

local function weight(m, value)
  return m.getsizeof and m.getsizeof(value) or 1
end

local function find(m, obj, key)
  for i, e in ipairs(m.list) do
    if e.obj == obj and e.key == key then return i end
  end
end

-- The weight of obj's entries (all objects' when obj is nil).
function Model:size(obj)
  local n = 0
  for _, e in ipairs(self.list) do
    if obj == nil or e.obj == obj then n = n + e.w end
  end
  return n
end

-- The index of the least recent entry (of obj, or of any object).
local function last(m, obj)
  for i = #m.list, 1, -1 do
    if obj == nil or m.list[i].obj == obj then return i end
  end
end

local function evict(m, i)
  local e = table.remove(m.list, i)
  m.notices[#m.notices + 1] = { e.key, e.value, "size" }
end

function Model:call(obj, key, value)
  local i = find(self, obj, key)
  if i then
    table.insert(self.list, 1, table.remove(self.list, i))
    return true
  end
  local w = weight(self, value)
  if w > self.maxsize or w > self.total then return false end
  while self:size(obj) + w > self.maxsize do evict(self, last(self, obj)) end
  while self:size() + w > self.total do evict(self, last(self)) end
  table.insert(self.list, 1, { obj = obj, key = key, value = value, w = w })
  return false
end

-- Entries of obj go without notices (its object died, or clear: the caller
-- adds the notices it expects).
function Model:forget(obj)
  for i = #self.list, 1, -1 do
    if self.list[i].obj == obj then table.remove(self.list, i) end
  end
end

return M
