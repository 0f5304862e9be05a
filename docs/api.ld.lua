--- The functions, cache methods and options implemented in C.
--
-- Documentation only: LDoc reads this file (see `config.ld`) next to
-- `lua/methodcache.lua`; nothing loads it.  The C core (`csrc/`) registers
-- these names in `methodcache.core` and the Lua layer copies them into the
-- module table, so that a cache hit never passes through a Lua frame.
-- `tools/check_api.lua` (run by `make docs` and `spec/api_docs_spec.lua`)
-- checks that this file and `types/methodcache.lua` name every public
-- function, cache method and option, and nothing else.
-- @module methodcache

--- The version of the library (`"0.1.0"` for this release).
-- @field version

--- Cached methods and functions.
-- A cached method keeps one cache per object, in a weak-keyed table (an
-- ephemeron): a cache, its values and whatever they refer to never keep
-- their object alive.  Object arguments are held weakly the same way.
--
-- The key of a call is its arguments after `self`, position by position,
-- with their count: `o:m(1)` and `o:m(1, nil)` differ.  Strings, numbers
-- and booleans compare by value (`1` and `1.0` are one argument unless
-- `typed`); tables, userdata, functions and threads by identity.  A NaN
-- argument makes the call uncached.  Every result is cached with their
-- count; an error passes through unchanged and nothing is stored.  A cached
-- method may yield.
-- @section methods

--- Caches a method: one cache per object, made from `opts`.
-- @function method
-- @tparam function fn the method, `fn(self, ...)`; a callable table works too
-- @tparam[opt] Options opts the cache of each object (default: LRU of 128 entries)
-- @treturn function the cached method, to assign in place of `fn`
-- @raise `bad argument #1 to 'method' (function expected, got number)`;
-- `bad argument #2 to 'method' (unknown option 'x')` and the like for `opts`.
-- Calling the cached method with `.` instead of `:` raises `bad argument #1
-- to 'NAME' (self is a number: call the method with ':', as in obj:NAME(...))`.
-- @usage
-- Point.norm = methodcache.method(Point.norm, { maxsize = 256 })

--- Caches a function of its arguments: one cache for every call.
-- Use it for functions of strings or numbers, which cannot be held weakly.
-- @function cached
-- @tparam function fn the function
-- @tparam[opt] Options opts the one cache (default: LRU of 128 entries)
-- @treturn function the cached function
-- @usage
-- local slow_sqrt = methodcache.cached(math.sqrt, { maxsize = 1000 })

--- Caches a method with caches of your making: `methodcache(factory)(fn)`.
-- `factory()` is called once for each new object and must return a new
-- cache (`methodcache.lru(256)`, ...); that cache then holds the object's
-- results.  Otherwise the cached method behaves as with `method`.
-- @function methodcache
-- @tparam function factory makes one cache per object (any callable)
-- @treturn function a decorator: give it the method, get the cached method
-- @raise `bad argument #1 to 'methodcache' (cache factory function expected,
-- got nil)`; a factory that returns anything but a new cache makes the call
-- of the method raise `methodcache: the cache factory must return a new
-- methodcache cache (got ...)`.
-- @usage
-- Point.dist = methodcache(function() return methodcache.lru(256) end)(Point.dist)

--- The statistics of every cached method and function of this Lua state,
-- the same that `methodcache_stats` gives C and `mchost --stats` prints.
-- @function report
-- @treturn {table,...} one table per cached method or function: `kind`,
-- `name`, `source`, `line`, `policy`, `maxsize`, `hits`, `misses`,
-- `entries`, `live` and `collected` objects, `bytes` (see docs/API.md)

--- Coalescing: the scheduler's part of the option `coalesce`.
-- A table with `wait(flight)`, which suspends the calling coroutine until
-- `notify(flight)` or for a while (the waiter looks again each time it
-- returns); `notify(flight)`, called once when a computation that someone
-- waits for ends, which must wake its waiters and must not yield; `WAIT`,
-- what the default `wait` yields (with the flight) outside a cqueues
-- controller; and `cqueues`, the same table as `require("methodcache.cqueues")`
-- (`wait`, `notify`, `poll` = 1 second), which the default `wait` and
-- `notify` use inside a controller.  Replace `wait` and `notify` to use
-- another scheduler; `flight` is an opaque table, the same for every waiter
-- of one computation.
-- @field coalesce

--- Statistics of a cached method or function.
-- @function info
-- @tparam function f what `methodcache(...)`, `method` or `cached` returned
-- @param[opt] obj one object: the statistics of its cache only (zeros if it
-- has none)
-- @treturn Info the statistics
-- @raise `bad argument #1 to 'info' (not a function made by methodcache, got number)`

--- Empties the caches of a cached method or function.
-- Each dropped entry is an `on_evict` notice with reason `"cleared"`.
-- @function clear
-- @tparam function f what `methodcache(...)`, `method` or `cached` returned
-- @param[opt] obj one object: empty its cache only (every object's when absent)
-- @raise `bad argument #1 to 'clear' (not a function made by methodcache, got number)`

--- What `info` returns.
-- @table Info
-- @field hits calls answered from a cache
-- @field misses calls that ran the function
-- @field currsize entries held (their total weight with `getsizeof`)
-- @field maxsize the bound of each cache (`math.huge` for `unbounded`; `nil`
-- for a decorated method before its factory has made a cache)
-- @field instances objects whose cache is alive (1 for `cached`); absent
-- with `obj`
-- @field evictions with `obj` or for `cached`, as in `Cache:stats`
-- @field expirations likewise
-- @field bytes likewise

--- The options of `method` and `cached`, and of the cache constructors.
-- The constructors take `maxsize`, `ttl` and `ttu` as arguments, and
-- `policy` from their name: in their `opts` those four are unknown options.
-- An unknown option, or a value of the wrong type, is an error (`bad
-- argument #N to 'F' (unknown option 'x')`).
-- @table Options
-- @field policy `"lru"` (default), `"lfu"`, `"fifo"`, `"rr"`, `"ttl"`,
-- `"tlru"` or `"unbounded"`.  Without it, `ttl` implies `"ttl"` and `ttu`
-- implies `"tlru"`.
-- @field maxsize entries per cache (default 128), a non-negative integer;
-- with `getsizeof`, the bound of the total weight
-- @field typed `true`: `1` and `1.0` are different keys (default `false`)
-- @field ttl seconds an entry lives after its set, a positive number (policy
-- `"ttl"`, which it needs)
-- @field ttu `function(key, value, now)` returning the time at which the entry
-- expires (policy `"tlru"`, which needs it); an entry whose time is not after
-- `now` is not stored
-- @field timer `function()` returning the current time in seconds, for the
-- time policies (default: a monotonic clock in C)
-- @field getsizeof `function(value)` returning the weight of an entry, a
-- non-negative integer; a value heavier than `maxsize` is not stored
-- @field on_evict `function(key, value, reason)` called for each entry that
-- leaves the cache but through its object key's collection; reason `"size"`,
-- `"expired"`, `"deleted"` or `"cleared"`.  It runs once the cache is
-- consistent again and may use the cache; its error propagates.
-- @field seed an integer: random replacement (`"rr"`) repeats its choices
-- @field coalesce `true` (`method` and `cached` only): while one coroutine
-- computes a key, the other coroutines that miss on it wait and get the same
-- results, or raise the same error (see `coalesce`).  Calls that cannot yield
-- compute as without it.
-- @field store where `method` keeps each object's cache (`method` only):
-- `"weak"` (default), a weak-keyed table of the method, object -> cache; or
-- `"object"`: a table object holds its cache in a private field of its own,
-- so that the collector reaches it in one pass (full collections stay linear
-- on chains and trees of objects built through cached methods, where the
-- weak table needs one pass per link).  `next`/`pairs` then show one extra key
-- per method, a userdata whose metatable's `__name` is
-- `"methodcache.method"`: serializers must skip it; a copy made with `pairs`
-- gets a cache of its own at its first call (until then it holds the
-- original's, and the original with it).  Any other `self` (userdata,
-- function, coroutine) uses the weak table.  `bad argument #2 to 'method'
-- (option 'store' must be 'weak' or 'object', got 'x')`.

--- Caches usable on their own.
-- Every constructor returns a `Cache`; they differ in what they evict
-- first.  `opts` takes `typed`, `timer`, `getsizeof`, `on_evict` and `seed`
-- (see `Options`).  `maxsize` is a non-negative integer: `bad argument #1 to
-- 'lru' (maxsize must be a non-negative integer, got -1)`.
-- @section caches

--- A least-recently-used cache.
-- @function lru
-- @int maxsize entries (or total weight) it holds
-- @tparam[opt] Options opts
-- @treturn Cache
-- @usage
-- local c = methodcache.lru(100)

--- A least-frequently-used cache; a set counts as a use, ties go least
-- recently used first.
-- @function lfu
-- @int maxsize entries (or total weight) it holds
-- @tparam[opt] Options opts
-- @treturn Cache

--- A first-in, first-out cache; setting a key again moves it to the back, as
-- in cachetools.
-- @function fifo
-- @int maxsize entries (or total weight) it holds
-- @tparam[opt] Options opts
-- @treturn Cache

--- A random-replacement cache (repeatable with the `seed` option).
-- @function rr
-- @int maxsize entries (or total weight) it holds
-- @tparam[opt] Options opts
-- @treturn Cache

--- An LRU cache whose entries expire `ttl` seconds after their set.
-- An entry lives while `timer() < set time + ttl`, as in cachetools 5.2.
-- @function ttl
-- @int maxsize entries (or total weight) it holds
-- @number ttl seconds, a positive number
-- @tparam[opt] Options opts
-- @treturn Cache

--- An LRU cache whose entries expire each at its own time.
-- @function tlru
-- @int maxsize entries (or total weight) it holds
-- @tparam function ttu `ttu(key, value, now)` returns the entry's expiry time
-- @tparam[opt] Options opts
-- @treturn Cache

--- A cache that never evicts (its `maxsize` is `math.huge`).
-- @function unbounded
-- @tparam[opt] Options opts
-- @treturn Cache

--- Bytes of C memory held by every cache of this Lua state, which
-- `collectgarbage("count")` does not include.
-- @function memory
-- @treturn integer

--- A cache: what `lru`, `lfu`, `fifo`, `rr`, `ttl`, `tlru` and `unbounded`
-- return, and what each object of a cached method gets.
-- Its metatable is `"methodcache.cache"`.  A key is any Lua value but `nil`
-- and NaN; tables, userdata, functions and threads are keys by identity and
-- held weakly: once such a key is collected its entry goes, even if its value
-- refers back to it.  Expired entries are never returned, but count in `#c`
-- and `currsize` until `expire`, a `set`, or a `delete`/`pop` of their key
-- drops them.
--
-- Besides its methods: `#c` is the number of entries; `c.maxsize` its bound;
-- `c.policy` its policy's name; `pairs(c)` walks a snapshot (the loop may use
-- the cache), the entry that would be evicted last first; `tostring(c)` reads
-- `methodcache.lru(3): 2 entries (0x...)`.
-- @type Cache

--- The value of a key; a hit counts and makes the entry recently used.
-- @function Cache:get
-- @param key
-- @return the value, or `nil` for a miss (and for a `nil` or NaN key)

--- Stores a value (`nil` included), evicting what the policy says.
-- Expired entries are dropped first.
-- @function Cache:set
-- @param key any value but `nil` and NaN
-- @param value
-- @treturn boolean `true` when stored; `false` when the value is heavier than
-- `maxsize` (an entry the key had is dropped, reason `"size"`) or, for
-- `tlru`, expires at once (likewise, reason `"expired"`)
-- @raise `bad argument #1 to 'set' (key expected, got nil)`,
-- `bad argument #1 to 'set' (NaN cannot be a key, got nan)`

--- The value of a key, without counting or changing the order.
-- @function Cache:peek
-- @param key
-- @return the value, or `nil`

--- Whether a key has a live entry, without counting or changing the order.
-- @function Cache:has
-- @param key
-- @treturn boolean

--- Drops a key's entry (an `on_evict` notice with reason `"deleted"`).
-- @function Cache:delete
-- @param key
-- @treturn boolean `true` if it was there

--- Drops a key's entry and returns its value.
-- @function Cache:pop
-- @param key
-- @param[opt] default returned when the key has no live entry
-- @return the value, or `default`

--- Drops every entry (notices with reason `"cleared"`).
-- @function Cache:clear

--- Drops the expired entries (notices with reason `"expired"`).
-- @function Cache:expire
-- @treturn integer how many (always 0 for policies without time)

--- Statistics of this cache.
-- @function Cache:stats
-- @treturn Stats

--- What `Cache:stats` returns.
-- @table Stats
-- @field hits gets that found their key
-- @field misses gets that did not
-- @field evictions entries evicted for room (reason `"size"`)
-- @field expirations entries dropped because they expired
-- @field currsize entries held (their total weight with `getsizeof`)
-- @field maxsize the bound (`math.huge` for `unbounded`)
-- @field bytes C memory held by this cache
