-- bench/gcgraph.lua: the time of a full collection with one graph of objects alive, in a
-- process of its own (so that no other measurement's heap is traversed or swept too).
--   INTERPRETER bench/gcgraph.lua SHAPE STORE OBJECTS REPS
-- SHAPE: "chain" (node:next() returns a new node) or "tree" (node:child(i), i = 1, 2,
-- built breadth first); STORE: "uncached" (the same nodes held by plain fields),
-- "weak" or "object" (the method's option store). Prints
--   <median ms per collectgarbage()> <Lua heap + C bytes per object> <build seconds>

local shape, store = arg[1], arg[2]
local n, reps = math.tointeger(tonumber(arg[3])), math.tointeger(tonumber(arg[4]))
assert((shape == "chain" or shape == "tree") and n and reps,
  "usage: gcgraph.lua chain|tree uncached|weak|object OBJECTS REPS")
local methodcache = require("methodcache")

local Node = {}
Node.__index = Node
local function new() return setmetatable({}, Node) end

if store == "uncached" then
  function Node:next()
    local x = self.nx
    if not x then x = new(); self.nx = x end
    return x
  end
  function Node:child(i)
    local x = self[i]
    if not x then x = new(); self[i] = x end
    return x
  end
else
  Node.next = methodcache.method(function() return new() end, { store = store })
  Node.child = methodcache.method(function() return new() end, { store = store })
end

local function bytes()
  collectgarbage()
  collectgarbage()
  return collectgarbage("count") * 1024 + methodcache.memory()
end

local b0, t0 = bytes(), os.clock()
local root = new()
if shape == "chain" then
  local p = root
  for _ = 2, n do p = p:next() end
else
  local queue, head, made = { root }, 1, 1
  while made < n do
    local p = queue[head]
    head = head + 1
    for i = 1, 2 do
      if made < n then
        queue[#queue + 1] = p:child(i)
        made = made + 1
      end
    end
  end
end
local build = os.clock() - t0
local per_object = (bytes() - b0) / n

local times = {}
for i = 1, reps do
  local c0 = os.clock()
  collectgarbage()
  times[i] = os.clock() - c0
end
table.sort(times)
assert(root)
print(string.format("%.6f %.1f %.3f", times[(reps + 1) // 2] * 1e3, per_object, build))
