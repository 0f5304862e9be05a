-- Specs for methodcache.method's option store = "object": a table self keeps its cache in
-- a private field of its own, so that the collector reaches it in one pass like any field
-- (docs/DESIGN.md, section 16). Every guarantee of the weak store holds; the GC cases run
-- in both incremental and generational mode.
--
-- Objects are created inside helper functions, never in the spec's own locals: a dead
-- register of the running Lua frame is still a root for the collector.

local methodcache = require("methodcache")
local H = require("spec.support.helpers")
local weak, count = H.weak, H.count

-- a class whose counting method `m` has store = "object" unless opts says otherwise
local function new_class(body, opts)
  opts = opts or {}
  if opts.store == nil then opts.store = "object" end
  return H.counting_class(body, opts)
end

-- the keys of t that are not strings
local function private_keys(t)
  local keys = {}
  for k in pairs(t) do
    if type(k) ~= "string" then keys[#keys + 1] = k end
  end
  return keys
end

local function shallow_copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return setmetatable(c, getmetatable(t))
end

describe("store = 'object'", function()
  it("keeps the cache in one field of the object, under a key of the method's own", function()
    local C = new_class(function(_, x) return x * 2 end)
    local D = new_class(function(_, x) return x * 3 end)
    C.d = D.m
    local o = setmetatable({ name = "o" }, C)
    assert.equal(4, o:m(2))
    assert.equal(4, o:m(2))
    assert.equal(1, C.calls)
    local keys = private_keys(o)
    assert.equal(1, #keys)
    assert.equal("userdata", type(keys[1]))
    assert.equal("methodcache.method", getmetatable(keys[1]).__name)
    assert.equal(6, o:d(2))                -- a second method: a second key
    assert.equal(2, #private_keys(o))
    assert.equal(4, o:m(2))
    assert.equal(6, o:d(2))
    assert.equal("o", o.name)
  end)

  it("reads and writes the field raw, past __index and __newindex", function()
    local C = new_class(function(self, x) return self.base + x end)
    C.__index = function(_, k)
      if k == "m" then return C.m end
      if k == "base" then return 10 end
      error("no field " .. tostring(k))
    end
    C.__newindex = function() error("read-only object") end
    local o = setmetatable({}, C)
    assert.equal(11, o:m(1))
    assert.equal(11, o:m(1))
    assert.equal(1, C.calls)
  end)

  it("gives each object a cache of its own, and a class table too", function()
    local C = new_class(function(self, x) return tostring(self) .. x end)
    local a, b = setmetatable({}, C), setmetatable({}, C)
    assert.equal(tostring(a) .. 1, a:m(1))
    assert.equal(tostring(b) .. 1, b:m(1))
    assert.equal(tostring(C) .. 1, C.m(C, 1))
    -- the class's field is not seen through __index: rawget only
    local c = setmetatable({}, C)
    assert.equal(tostring(c) .. 1, c:m(1))
    assert.equal(4, C.calls)
  end)

  describe("copies", function()
    it("gives a copy made with pairs a cache of its own at its first call", function()
      local C = new_class(function(self, x) return { owner = self, x = x } end)
      local o = setmetatable({}, C)
      local r = o:m(1)
      local copy = shallow_copy(o)
      assert.equal(1, #private_keys(copy))  -- the field came along...
      local rc = copy:m(1)                  -- ...but is not the copy's
      assert.are_not.equal(r, rc)
      assert.equal(copy, rc.owner)
      assert.equal(2, C.calls)
      assert.equal(rc, copy:m(1))
      assert.equal(r, o:m(1))
      assert.equal(2, C.calls)
      assert.equal(1, methodcache.info(C.m, o).currsize)
      assert.equal(1, methodcache.info(C.m, copy).currsize)
      assert.equal(2, methodcache.info(C.m).instances)
    end)

    it("reports no cache for a copy that has not called yet, and clears none", function()
      local C = new_class(function(_, x) return x end)
      local o = setmetatable({}, C)
      o:m(1)
      local copy = shallow_copy(o)
      assert.equal(0, methodcache.info(C.m, copy).currsize)
      methodcache.clear(C.m, copy)
      assert.equal(1, methodcache.info(C.m, o).currsize)
    end)

    it("lets the original go once the copy has a cache of its own", function()
      local C = new_class(function(self) return self end)
      local w = weak()
      local copy
      ;(function()
        local o = setmetatable({}, C)
        o:m()
        w[1] = o
        copy = shallow_copy(o)
      end)()
      collectgarbage()
      assert.is_not_nil(w[1])  -- the copied field holds the original's cache, and it
      copy:m()                 -- the first call replaces the field
      collectgarbage()
      assert.is_nil(w[1])
      assert.equal(copy, copy:m())
    end)
  end)

  describe("fields that are not a cache of this object", function()
    local function key_of(C)
      local o = setmetatable({}, C)
      o:m(0)
      return private_keys(o)[1]
    end

    it("replaces a cache of the same type made by a constructor", function()
      local C = new_class(function(_, x) return x + 1 end)
      local key = key_of(C)
      local o = setmetatable({}, C)
      local other = methodcache.lru(4)
      other:set(1, "not this")
      rawset(o, key, other)
      assert.equal(2, o:m(1))
      assert.are_not.equal(other, rawget(o, key))
      assert.equal("not this", other:get(1))
    end)

    it("replaces a userdata of the same size that is not a cache", function()
      local C = new_class(function(_, x) return x + 1 end)
      local key = key_of(C)
      local o = setmetatable({}, C)
      local f = io.tmpfile() -- luaL_Stream: two pointers, the size of a cache handle
      rawset(o, key, f)
      assert.equal(2, o:m(1))
      assert.equal(2, o:m(1))
      assert.equal(io.type(f), "file")
      f:close()
    end)

    it("replaces any other value", function()
      local C = new_class(function(_, x) return x + 1 end)
      local key = key_of(C)
      for _, v in ipairs({ true, 42, "s", {}, print }) do
        local o = setmetatable({}, C)
        rawset(o, key, v)
        assert.equal(2, o:m(1))
        assert.equal(2, o:m(1))
      end
    end)

    -- does this allocator give a freed table's address to a new table? (AddressSanitizer's
    -- quarantine does not, for hundreds of MB)
    local function allocator_reuses()
      local seen = {}
      for _ = 1, 200 do
        local id = tostring({})
        if seen[id] then return true end
        seen[id] = true
        collectgarbage()
      end
      return false
    end

    it("never gives a new object the results of a collected one at the same address", function()
      local C = new_class(function(self, x) return tostring(self) .. ":" .. x end)
      local seen, reused = {}, 0
      for _ = 1, 200 do
        local o = setmetatable({}, C)
        local before = C.calls
        local id = tostring(o)
        if seen[id] then reused = reused + 1 end
        seen[id] = true
        assert.equal(id .. ":1", o:m(1))
        assert.equal(before + 1, C.calls) -- a miss: nothing came from a dead object
        o = nil -- luacheck: ignore 311
        collectgarbage()
      end
      if reused == 0 and not allocator_reuses() then
        pending("this allocator reuses no freed address (a sanitizer?): the case was not exercised")
        return
      end
      assert.is_true(reused > 0, "the allocator reuses addresses, but no object got a dead one's")
    end)
  end)

  describe("a self that is not a table", function()
    it("caches a full userdata, a function and a coroutine in the weak table", function()
      local C = new_class(function(self, x) return type(self) .. x end)
      local f = io.tmpfile()
      local fn = function() end
      local co = coroutine.create(fn)
      for _, self in ipairs({ f, fn, co }) do
        assert.equal(type(self) .. 1, C.m(self, 1))
        assert.equal(type(self) .. 1, C.m(self, 1))
      end
      assert.equal(3, C.calls)
      assert.equal(3, methodcache.info(C.m).instances)
      assert.equal(1, methodcache.info(C.m, fn).currsize)
      methodcache.clear(C.m, fn)
      assert.equal(0, methodcache.info(C.m, fn).currsize)
      assert.equal(2, methodcache.info(C.m).currsize)
      f:close()
    end)

    it("raises the weak store's error for a string or a number", function()
      local C = new_class(function() return 1 end)
      assert.has_error(function() C.m("s") end,
        "bad argument #1 to 'm' (self is a string and cannot be held weakly: " ..
        "use methodcache.cached for functions of strings)")
      assert.has_error(function() C.m(1) end,
        "bad argument #1 to 'm' (self is a number: call the method with ':', as in obj:m(...))")
    end)
  end)

  describe("info and clear", function()
    it("add up every object's cache, tables and others", function()
      local C = new_class(function(_, x) return x end, { maxsize = 4 })
      local a, b = setmetatable({}, C), setmetatable({}, C)
      local fn = function() end
      a:m(1); a:m(2); a:m(1); b:m(1); C.m(fn, 1)
      local i = methodcache.info(C.m)
      assert.same({ hits = 1, misses = 4, currsize = 4, instances = 3, maxsize = 4,
                     collected = 0 }, i)
      local ia = methodcache.info(C.m, a)
      assert.equal(1, ia.hits)
      assert.equal(2, ia.misses)
      assert.equal(2, ia.currsize)
      methodcache.clear(C.m, a)
      assert.equal(0, methodcache.info(C.m, a).currsize)
      assert.equal(2, methodcache.info(C.m).currsize)
      methodcache.clear(C.m)
      assert.equal(0, methodcache.info(C.m).currsize)
      assert.equal(3, methodcache.info(C.m).instances)
      local z = methodcache.info(C.m, setmetatable({}, C))
      assert.equal(0, z.currsize)
      assert.equal(0, z.hits)
    end)

    it("count in methodcache.report() as the weak store's do", function()
      local C = new_class(function(_, x) return x end, { maxsize = 8 })
      ;(function()
        local a, b = setmetatable({}, C), setmetatable({}, C)
        a:m(1); a:m(2); b:m(1)
        C.keep = a
      end)()
      collectgarbage()
      local found
      for _, s in ipairs(methodcache.report()) do
        if s.name == "m" and s.maxsize == 8 and s.misses == 3 then found = s end
      end
      assert.is_table(found)
      assert.equal(1, found.objects)
      assert.equal(1, found.collected)
      assert.equal(2, found.entries)
    end)
  end)

  describe("options", function()
    it("accepts store = 'weak', the default", function()
      local C = new_class(function(_, x) return x end, { store = "weak" })
      local o = setmetatable({}, C)
      assert.equal(1, o:m(1))
      assert.equal(0, #private_keys(o))
    end)

    it("rejects a store that is not 'weak' or 'object', and store for cached", function()
      assert.has_error(function() methodcache.method(print, { store = "field" }) end,
        "bad argument #2 to 'method' (option 'store' must be 'weak' or 'object', got 'field')")
      assert.has_error(function() methodcache.method(print, { store = true }) end,
        "bad argument #2 to 'method' (option 'store' must be a string, got boolean)")
      assert.has_error(function() methodcache.cached(print, { store = "object" }) end,
        "bad argument #2 to 'cached' (option 'store' is for methods: " ..
        "a cached function has one cache)")
    end)

    it("works with the other options: a policy, on_evict, coalesce", function()
      local evicted = {}
      local C = new_class(function(_, x) return x * 10 end, {
        policy = "fifo", maxsize = 2, coalesce = true,
        on_evict = function(k, v, reason) evicted[#evicted + 1] = { k, v, reason } end,
      })
      local o = setmetatable({}, C)
      o:m(1); o:m(2); o:m(3)
      assert.same({ { 1, 10, "size" } }, evicted)
      local co = coroutine.wrap(function() return o:m(3) end)
      assert.equal(30, co())
    end)
  end)

  describe("the collector's path to a cache", function()
    it("goes through no ephemeron: the method lists caches in a weak-valued sequence", function()
      local C = new_class(function() return {} end)
      local objs = {}
      for i = 1, 50 do
        objs[i] = setmetatable({}, C)
        objs[i]:m()
      end
      -- the weak store's table object -> cache (an ephemeron, which the collector
      -- must traverse again for each link of a chain) stays empty...
      local _, ephemerons = debug.getupvalue(C.m, 2)
      assert.is_nil(next(ephemerons))
      -- ...and the list of caches holds no object: handles, by their order
      local key = private_keys(objs[1])[1]
      local list = debug.getuservalue(key, 3)
      assert.equal("v", getmetatable(list).__mode)
      assert.equal(50, count(list))
      for i = 1, 50 do
        assert.equal(rawget(objs[i], key), list[i])
      end
      local Weak = new_class(function() return {} end, { store = "weak" })
      local _, wtable = debug.getupvalue(Weak.m, 2)
      Weak.m(objs[1])
      assert.equal(objs[1], next(wtable))
    end)

    it("lists every cache, those that finalizers make while it lists others too", function()
      local C = new_class(function(_, x) return x end)
      local keep = {}
      local gcmt = { __gc = function()
        local o = setmetatable({}, C)
        o:m(1)
        keep[#keep + 1] = o
      end }
      collectgarbage("incremental", 10, 400) -- a collector step at almost every allocation
      for i = 1, 1000 do
        setmetatable({}, gcmt)                -- garbage whose finalizer makes a cache
        local o = setmetatable({}, C)
        o:m(1)
        if i % 3 == 0 then keep[#keep + 1] = o end
      end
      collectgarbage("incremental", 200, 100)
      collectgarbage()
      collectgarbage()
      assert.is_true(#keep > 600)
      assert.equal(#keep, methodcache.info(C.m).instances)
      methodcache.clear(C.m)
      for _, o in ipairs(keep) do
        assert.equal(0, methodcache.info(C.m, o).currsize)
        assert.equal(1, o:m(1))
      end
      assert.equal(#keep, methodcache.info(C.m).currsize)
    end)

    it("squeezes the caches of collected objects out of its list", function()
      local C = new_class(function() return {} end)
      local keep = {}
      for i = 1, 3000 do
        local o = setmetatable({}, C)
        o:m()
        if i % 100 == 0 then keep[#keep + 1] = o end
        if i % 30 == 0 then collectgarbage() end
      end
      -- at most 60 caches were alive at a time: the list grows to twice that
      -- between squeezes, never to the 3000 caches made
      local key = private_keys(keep[1])[1]
      local slots = 0
      for k in pairs(debug.getuservalue(key, 3)) do slots = math.max(slots, k) end
      assert.is_true(slots <= 2 * 60 + 1, "the list has " .. slots .. " slots")
      assert.equal(30, methodcache.info(C.m).instances)
      collectgarbage()
      assert.equal(30, count(debug.getuservalue(key, 3)))
    end)
  end)
end)

for _, mode in ipairs({ "incremental", "generational" }) do
  describe("store = 'object' and the collector in " .. mode .. " mode", function()
    before_each(function()
      collectgarbage(mode)
      collectgarbage()
    end)
    after_each(function()
      collectgarbage("incremental")
    end)

    it("frees a dropped object whose cached value refers back to it in one collection", function()
      local C = new_class(function(self, x) return { self = self, x = x } end)
      local w = weak()
      ;(function()
        local o = setmetatable({}, C)
        w[1] = o
        w[2] = o:m(1)
      end)()
      collectgarbage()
      assert.is_nil(w[1])
      assert.is_nil(w[2])
      assert.equal(0, methodcache.info(C.m).instances)
    end)

    it("frees a chain built through the method, with every cache and its C memory", function()
      local C
      C = new_class(function() return setmetatable({}, C) end)
      local mem0 = methodcache.memory()
      local w = weak()
      ;(function()
        local head = setmetatable({}, C)
        local p = head
        for i = 1, 2000 do
          p = p:m()
          if i % 100 == 0 then w[#w + 1] = p end
        end
        w[#w + 1] = head
        assert.equal(2000, methodcache.info(C.m).instances)
      end)()
      collectgarbage()
      collectgarbage() -- the cores' finalizers free their C memory
      assert.equal(0, count(w))
      assert.equal(0, methodcache.info(C.m).instances)
      assert.equal(mem0, methodcache.memory())
    end)

    it("holds object arguments weakly", function()
      local C = new_class(function(self, other) return { self, other } end)
      local w = weak()
      local o = setmetatable({}, C)
      ;(function()
        local arg = {}
        w[1] = arg
        o:m(arg)
        assert.equal(1, methodcache.info(C.m, o).currsize)
      end)()
      collectgarbage()
      collectgarbage()
      assert.is_nil(w[1])
      assert.equal(0, methodcache.info(C.m, o).currsize)
    end)

    it("frees two objects whose cached values refer to each other", function()
      local C = new_class(function(self, other) return { self, other } end)
      local w = weak()
      ;(function()
        local a, b = setmetatable({}, C), setmetatable({}, C)
        a:m(b); b:m(a)
        w[1], w[2] = a, b
      end)()
      collectgarbage()
      assert.equal(0, count(w))
    end)

    it("gives an object that its own finalizer brings back a working cache", function()
      local C = new_class(function(_, x) return x + 1 end)
      local got
      ;(function()
        local o = setmetatable({}, C)
        o:m(1)
        C.__gc = function(self) got = self:m(1) end
        setmetatable(o, C)
      end)()
      collectgarbage()
      collectgarbage()
      C.__gc = nil
      assert.equal(2, got)
    end)

    for _, store in ipairs({ "object", "weak" }) do
      it("keeps a cache working (store " .. store .. ") for an object that another object's "
         .. "finalizer brings back after its cache was finalized", function()
        local C = new_class(function(_, x) return x * 2 end, { store = store })
        local box = {} -- box.o: the object, once b's finalizer has brought it back
        ;(function()
          local o = setmetatable({}, C)
          o:m(1); o:m(2)
          -- b dies with o and saves it; the collection that runs b's finalizer runs
          -- that of o's cache too
          o.b = setmetatable({ o = o }, { __gc = function(b) box.o = b.o end })
        end)()
        collectgarbage()
        collectgarbage()
        local o = box.o
        assert.is_table(o)
        local calls = C.calls
        for _ = 1, 3 do
          assert.equal(2, o:m(1))
          assert.equal(10, o:m(5))
        end
        assert.equal(2, C.calls - calls) -- 1 (lost with the finalized cache) and 5, once each
        assert.equal(2, methodcache.info(C.m, o).currsize)
        assert.equal(1, methodcache.info(C.m).instances)
        o, box.o = nil, nil -- luacheck: ignore 311 (dropped for the collector)
        collectgarbage()
        collectgarbage()
        assert.equal(0, methodcache.info(C.m).instances)
      end)
    end
  end)
end
