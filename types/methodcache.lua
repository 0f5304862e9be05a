---@meta methodcache
-- LuaLS (lua-language-server) definitions of methodcache, for completion
-- and type checks in editors: add this directory to `workspace.library`
-- (the rock installs it as types/ in its directory; see the README).
-- Nothing loads it at run time.  The reference is docs/api.ld.lua and
-- lua/methodcache.lua (`make docs`); tools/check_api.lua checks that this
-- file names every public function, cache method and option.

---@alias methodcache.Policy "lru"|"lfu"|"fifo"|"rr"|"ttl"|"tlru"|"unbounded"
---The policies of `method` and `cached`: a cache's, and "fast" (hits in Lua bytecode,
---approximate recency, `maxsize` the only other option).
---@alias methodcache.MethodPolicy methodcache.Policy|"fast"
---@alias methodcache.Reason "size"|"expired"|"deleted"|"cleared"
---@alias methodcache.Store "weak"|"object"

---The options a cache constructor takes.
---@class methodcache.CacheOptions
---@field typed? boolean `1` and `1.0` are different keys
---@field timer? fun(): number the current time in seconds (policies "ttl" and "tlru" only)
---@field getsizeof? fun(value: any): integer the weight of an entry
---@field on_evict? fun(key: any, value: any, reason: methodcache.Reason) an entry left
---@field seed? integer repeatable random replacement (policy "rr" only)

---The options of `method` and `cached`: a cache constructor's, and what the
---constructors take as arguments.
---@class methodcache.Options: methodcache.CacheOptions
---@field policy? methodcache.MethodPolicy default "lru"; `ttl` implies "ttl", `ttu` "tlru"
---@field maxsize? integer entries per cache (default 128), or total weight with `getsizeof`
---@field ttl? number seconds an entry lives (policy "ttl")
---@field ttu? fun(key: any, value: any, now: number): number expiry time (policy "tlru")
---@field coalesce? boolean one computation per key across coroutines; waiters get its results
---@field key? fun(...): any the arguments after `self` (all, for `cached`) to the one key value
---@field total? integer `method`, policy "lru" only: bound of all objects' entries together
---@field store? methodcache.Store `method` only: "weak" (default); "object": a field of self

---What `methodcache.info` returns.
---@class methodcache.Info
---@field hits? integer calls answered from a cache (absent with `obj` for policy "fast")
---@field misses integer calls that ran the function
---@field currsize integer entries held (total weight with `getsizeof`)
---@field maxsize? number the bound of each cache
---@field instances? integer objects whose cache is alive (absent with `obj`)
---@field collected? integer per-object caches the collector freed so far (absent with `obj`)
---@field total? integer the budget across objects (option `total`; absent without it)
---@field size? integer what `total` bounds now: every object's entries (with `total` only)
---@field evictions? integer with `obj` or for `cached`
---@field expirations? integer with `obj` or for `cached`
---@field bytes? integer with `obj` or for `cached`

---What `Cache:stats` returns.
---@class methodcache.Stats
---@field hits integer
---@field misses integer
---@field evictions integer entries evicted for room
---@field expirations integer entries dropped because they expired
---@field currsize integer entries held (total weight with `getsizeof`)
---@field maxsize number the bound (`math.huge` for unbounded)
---@field bytes integer C memory held by this cache

---A cache (metatable "methodcache.cache"). `#c` counts its entries;
---`pairs(c)` walks a snapshot, the entry evicted last first.
---@class methodcache.Cache
---@field maxsize number the bound (`math.huge` for unbounded)
---@field policy methodcache.Policy
---@operator len: integer
local Cache = {}

---The value of a key, or `nil`; a hit counts and makes the entry recently used.
---An expired entry still held gives `nil, stale_value` (a miss).
---@param key any
---@return any value
---@return any stale the value of an expired entry still held, after `nil`
function Cache:get(key) end

---Stores a value; `false` when it is too heavy (or, for tlru, expires at once).
---`ttl` (policies "ttl" and "tlru" only): this entry expires `ttl` seconds from now.
---@param key any any value but nil and NaN
---@param value any
---@param ttl? number seconds, overriding the cache's ttl or ttu for this entry
---@return boolean stored
function Cache:set(key, value, ttl) end

---The value of a key, or `nil`, without counting or changing the order.
---An expired entry still held gives `nil, stale_value`.
---@param key any
---@return any value
---@return any stale the value of an expired entry still held, after `nil`
function Cache:peek(key) end

---Whether a key has a live entry, without counting or changing the order.
---@param key any
---@return boolean
function Cache:has(key) end

---Drops a key's entry; `true` if it was there.
---@param key any
---@return boolean
function Cache:delete(key) end

---Drops a key's entry and returns its value, or `default`.
---@generic D
---@param key any
---@param default? D
---@return any|D value
function Cache:pop(key, default) end

---Drops every entry.
function Cache:clear() end

---Drops the expired entries and says how many.
---@return integer
function Cache:expire() end

---Statistics of this cache.
---@return methodcache.Stats
function Cache:stats() end

---Per-object method caches that never keep objects alive.
---`methodcache(factory)(fn)` caches a method with one cache per object, each
---made by `factory()` (which must return a new cache).
---@class methodcache
---@overload fun(factory: fun(): methodcache.Cache): (fun(fn: function): function)
local methodcache = {}

---The version of the library, "0.1.0".
methodcache.version = "0.1.0"

---Caches a method: one cache per object. The result keeps `fn`'s signature.
---@generic F: function
---@param fn F the method, `fn(self, ...)`
---@param opts? methodcache.Options
---@return F
function methodcache.method(fn, opts) end

---Caches a function of its arguments: one cache for every call.
---@generic F: function
---@param fn F
---@param opts? methodcache.Options
---@return F
function methodcache.cached(fn, opts) end

---Statistics of a cached method or function; with `obj`, of its cache only.
---@param f function what `methodcache(...)`, `method` or `cached` returned
---@param obj? any
---@return methodcache.Info
function methodcache.info(f, obj) end

---Empties the caches of a cached method or function; with `obj`, its cache only.
---@param f function what `methodcache(...)`, `method` or `cached` returned
---@param obj? any
function methodcache.clear(f, obj) end

---Caches methods of a class in place: `Class[name] = methodcache.method(Class[name], opts)`,
---in `Class.__index` if that is a table; a method cached already is left as it is.
---@generic C: table
---@param Class C the metatable of the instances, or the table of their methods
---@param ... string|methodcache.Options the names of the methods, then `opts` if any
---@return C
function methodcache.wrap(Class, ...) end

---The function a cached method or function calls (`__wrapped__`).
---@generic F: function
---@param f F what `methodcache(...)`, `method`, `cached` or `wrap` made
---@return F
function methodcache.wrapped(f) end

---Computes one key again, stores and returns all the results:
---`refresh(method, obj, ...)`, or `refresh(cachedfn, ...)`.
---@param f function a cached method or function
---@param ... any the object (methods), then the arguments
---@return any ...
function methodcache.refresh(f, ...) end

---Drops one key; `true` if it had an entry: `delete(method, obj, ...)`, or `delete(cachedfn, ...)`.
---@param f function a cached method or function
---@param ... any the object (methods), then the arguments
---@return boolean
function methodcache.delete(f, ...) end

---A least-recently-used cache.
---@param maxsize integer
---@param opts? methodcache.CacheOptions
---@return methodcache.Cache
function methodcache.lru(maxsize, opts) end

---A least-frequently-used cache.
---@param maxsize integer
---@param opts? methodcache.CacheOptions
---@return methodcache.Cache
function methodcache.lfu(maxsize, opts) end

---A first-in, first-out cache.
---@param maxsize integer
---@param opts? methodcache.CacheOptions
---@return methodcache.Cache
function methodcache.fifo(maxsize, opts) end

---A random-replacement cache.
---@param maxsize integer
---@param opts? methodcache.CacheOptions
---@return methodcache.Cache
function methodcache.rr(maxsize, opts) end

---An LRU cache whose entries expire `ttl` seconds after their set.
---@param maxsize integer
---@param ttl number seconds
---@param opts? methodcache.CacheOptions
---@return methodcache.Cache
function methodcache.ttl(maxsize, ttl, opts) end

---An LRU cache whose entries expire each at the time `ttu` gives.
---@param maxsize integer
---@param ttu fun(key: any, value: any, now: number): number
---@param opts? methodcache.CacheOptions
---@return methodcache.Cache
function methodcache.tlru(maxsize, ttu, opts) end

---A cache that never evicts.
---@param opts? methodcache.CacheOptions
---@return methodcache.Cache
function methodcache.unbounded(opts) end

---The waiting of cqueues coroutines for a coalesced computation
---(`require("methodcache.cqueues")` is the same table).
---@class methodcache.CqueuesAdapter
---@field poll number seconds a waiter sleeps at most before it looks again (1)
local CqueuesAdapter = {}

---Suspends the calling coroutine, run by a cqueues controller, until `notify(flight)`.
---@param flight table
function CqueuesAdapter.wait(flight) end

---Wakes every coroutine waiting for `flight`.
---@param flight table
function CqueuesAdapter.notify(flight) end

---The scheduler's part of option `coalesce`; `wait` and `notify` may be replaced.
---@class methodcache.Coalesce
---@field WAIT table what the default `wait` yields, with the flight, outside cqueues
---@field cqueues methodcache.CqueuesAdapter
local Coalesce = {}

---Suspends the calling coroutine until `notify(flight)`, or for a while.
---@param flight table the computation waited for (opaque, a table key)
function Coalesce.wait(flight) end

---Wakes every coroutine waiting for `flight`; must not yield.
---@param flight table the computation that ended
function Coalesce.notify(flight) end

---Coalescing: one computation per key across coroutines (option `coalesce`).
---@type methodcache.Coalesce
methodcache.coalesce = Coalesce

---Bytes of C memory held by every cache of this Lua state.
---@return integer
function methodcache.memory() end

---The statistics of every cached method and function of this Lua state.
---@return table[]
function methodcache.report() end

return methodcache
