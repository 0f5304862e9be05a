-- Run by spec/safety_spec.lua under valgrind:
--   ./mchost spec/support/close_finalizers.lua plain|new-caches
-- Two global objects are finalized by lua_close.  With "new-caches" their
-- finalizers call a cached method on a new object and fill a new standalone
-- cache: caches created while the state closes, whose memory must still be
-- freed.  Prints what ran, so the spec knows the finalizers did run.
-- luacheck: globals KEEP GLOBAL1 GLOBAL2
local methodcache = require("methodcache")

local mode = assert(arg[1], "usage: close_finalizers.lua plain|new-caches")
local finalized, made = 0, 0

local C = {}
C.__index = C
C.m = methodcache.method(function(_, x) return { x } end)

-- caches alive until the end, freed by lua_close as usual
local alive = setmetatable({}, C)
for i = 1, 10 do alive:m(i) end
KEEP = { alive, methodcache.lfu(8) }
KEEP[2]:set("k", {})

local function finalizer()
  finalized = finalized + 1
  if mode == "new-caches" then
    local o = setmetatable({}, C)
    for i = 1, 10 do o:m(i) end
    local c = methodcache.lru(16)
    for i = 1, 10 do c:set(i, { i }); c:set({}, i) end
    made = made + 2
  end
  print(("finalizers at close: %d, caches made at close: %d"):format(finalized, made))
end

GLOBAL1 = setmetatable({}, { __gc = finalizer })
GLOBAL2 = setmetatable({}, { __gc = finalizer })
