--- Per-object method caches that never keep objects alive.
--
-- `require("methodcache")` returns this table; the caches themselves and the
-- cached calls are C (`methodcache.core`).  See README.md and docs/API.md.
-- @module methodcache

local core = require("methodcache.core")

local M = {
  --- Version of the library ("0.1.0").
  version = core.version,
}

-- The constructors, method, cached, info, clear and memory come straight
-- from the C core, so that a cache hit never passes through a Lua frame;
-- docs/api.ld.lua documents them.
for _, name in ipairs({ "lru", "lfu", "fifo", "rr", "ttl", "tlru", "unbounded",
                        "method", "cached", "info", "clear", "memory" }) do
  M[name] = core[name]
end

--- Caches a method with caches of your making: `methodcache(factory)(fn)`.
-- `factory()` is called once for each new object and must return a new
-- cache (`methodcache.lru(256)`, ...); that cache then holds the object's
-- results.  Otherwise the cached method behaves as with `method`.
-- @function methodcache
-- @tparam function factory makes one cache per object
-- @treturn function a decorator: give it the method, get the cached method
-- @raise `bad argument #1 to 'methodcache' (cache factory function expected,
-- got nil)`; a factory that returns anything but a new cache makes the call
-- of the method raise `methodcache: the cache factory must return a new
-- methodcache cache (got ...)`.
-- @usage
-- Point.dist = methodcache(function() return methodcache.lru(256) end)(Point.dist)
setmetatable(M, {
  __call = function(_, ...)
    local factory = ...
    local mt = getmetatable(factory)
    if type(factory) ~= "function" and not (type(mt) == "table" and mt.__call) then
      error(("bad argument #1 to 'methodcache' (cache factory function " ..
             "expected, got %s)"):format(select("#", ...) == 0 and "no value"
                                         or type(factory)), 2)
    end
    return function(fn)
      return core.decorate(fn, factory)
    end
  end,
})

return M
