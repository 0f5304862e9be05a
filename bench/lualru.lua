-- bench/lualru.lua: a plain-Lua LRU cache, written the way a careful Lua programmer
-- would: a hash table from key to node plus a doubly-linked list with a sentinel,
-- O(1) get and set, and the evicted node reused for the new entry.
-- It is the "plain-Lua LRU" that methodcache is compared with.

local LRU = {}
LRU.__index = LRU

function LRU.new(maxsize)
  local head = {}
  head.prev, head.next = head, head
  return setmetatable({ map = {}, head = head, size = 0, maxsize = maxsize }, LRU)
end

-- Move node to the front (most recently used).
local function front(head, node)
  if head.next ~= node then
    node.prev.next, node.next.prev = node.next, node.prev
    node.prev, node.next = head, head.next
    head.next.prev = node
    head.next = node
  end
end

function LRU:get(k)
  local node = self.map[k]
  if node == nil then return nil end
  front(self.head, node)
  return node.value
end

function LRU:set(k, v)
  local map, head = self.map, self.head
  local node = map[k]
  if node then
    node.value = v
    front(head, node)
    return
  end
  if self.size >= self.maxsize then
    node = head.prev -- the least recently used: unlink it and reuse it
    node.prev.next, head.prev = head, node.prev
    map[node.key] = nil
    node.key, node.value = k, v
  else
    node = { key = k, value = v }
    self.size = self.size + 1
  end
  node.prev, node.next = head, head.next
  head.next.prev = node
  head.next = node
  map[k] = node
end

return LRU
