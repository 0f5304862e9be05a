-- methodcache.report(): the statistics of every cached method and function
-- of the state, the data methodcache_stats gives C (spec/embed_spec.lua)
-- and mchost --stats prints (spec/mchost_spec.lua).
local methodcache = require("methodcache")

local function full_gc()
  collectgarbage()
  collectgarbage()
end

-- the entries of report() made by this spec: those defined in this file
local function mine()
  local out = {}
  for _, s in ipairs(methodcache.report()) do
    if s.source:match("report_spec%.lua$") then out[#out + 1] = s end
  end
  return out
end

-- a class whose method 'name' is cached and returns its argument
local function class(name, opts)
  local T = {}
  T.__index = T
  T[name] = methodcache.method(function(_, x) return x end, opts)
  return T
end

local function line_of(f)
  return debug.getinfo(f, "S").linedefined
end

describe("methodcache.report", function()
  before_each(full_gc)

  it("lists a method with its name, where it was defined, policy and counts", function()
    local Point = {}
    Point.__index = Point
    local function dist(self, k) return self.x * k end
    Point.dist = methodcache.method(dist, { maxsize = 5 })
    local a, b = setmetatable({ x = 1 }, Point), setmetatable({ x = 2 }, Point)
    a:dist(1); a:dist(1); a:dist(2); b:dist(1)
    local r = mine()
    assert.are.equal(1, #r)
    assert.are.same({
      kind = "method", name = "dist", source = debug.getinfo(1, "S").short_src,
      line = line_of(dist), policy = "lru", maxsize = 5, hits = 1, misses = 3,
      entries = 3, currsize = 3, objects = 2, collected = 0, bytes = r[1].bytes,
    }, r[1])
    assert.is_true(r[1].bytes > 0)
    assert.is_true(math.type(r[1].bytes) == "integer")
  end)

  it("counts the objects whose cache was collected, and drops their entries and bytes", function()
    local T = class("m")
    local keep = setmetatable({}, T)
    keep:m(1)
    local bytes_one = mine()[1].bytes
    for i = 1, 10 do setmetatable({}, T):m(i) end
    full_gc()
    local r = mine()[1]
    assert.are.same({ 1, 10, 1, 11 }, { r.objects, r.collected, r.entries, r.misses })
    assert.are.equal(bytes_one, r.bytes)
  end)

  it("lists methods and functions in the order they were made, and forgets collected ones",
     function()
    local a = methodcache.cached(function(x) return x end)
    methodcache.cached(function(x) return x end) -- dropped at once
    local b = methodcache.method(function(self) return self end, { policy = "fifo" })
    assert.are.same({ "function", "function", "method" },
                    { mine()[1].kind, mine()[2].kind, mine()[3].kind })
    full_gc()
    local r = mine()
    assert.are.equal(2, #r)
    assert.are.same({ "lru", "fifo" }, { r[1].policy, r[2].policy })
    assert.is_function(a)
    assert.is_function(b)
  end)

  it("gives a cached function one object, and math.huge for an unbounded maxsize", function()
    local sq = methodcache.cached(function(x) return x * x end, { policy = "unbounded" })
    sq(2); sq(2); sq(3)
    local r = mine()[1]
    assert.are.same({ "function", "sq", 1, 0, 2, 1, 2, math.huge },
                    { r.kind, r.name, r.objects, r.collected, r.entries, r.hits, r.misses,
                      r.maxsize })
  end)

  it("has no name until a miss is called by one, then keeps the first", function()
    local T = class("first")
    local o = setmetatable({}, T)
    assert.is_nil(mine()[1].name)
    pcall(T.first, o, 1) -- called by pcall: no name
    assert.is_nil(mine()[1].name)
    local alias = T.first
    alias(o, 2)
    assert.are.equal("alias", mine()[1].name)
    o:first(3)
    assert.are.equal("alias", mine()[1].name)
  end)

  it("says [C] for a C function and has no line for it", function()
    local f = methodcache.cached(math.sqrt)
    f(4)
    local found
    for _, s in ipairs(methodcache.report()) do
      if s.name == "f" and s.source == "[C]" then found = s end
    end
    assert.is_table(found)
    assert.is_nil(found.line)
  end)

  it("has no policy nor maxsize for a factory method that made no cache yet, then the cache's",
     function()
    local T = {}
    T.__index = T
    T.m = methodcache(function() return methodcache.lfu(7) end)(function(_, x) return x end)
    local r = mine()[1]
    assert.are.same({ "method", nil, nil }, { r.kind, r.policy, r.maxsize })
    setmetatable({}, T):m(1)
    r = mine()[1]
    assert.are.same({ "lfu", 7 }, { r.policy, r.maxsize })
  end)

  it("agrees with info() on hits, misses, entries and objects", function()
    local T = class("m", { maxsize = 2 })
    local objs = {}
    for i = 1, 5 do
      objs[i] = setmetatable({}, T)
      for k = 1, i do objs[i]:m(k); objs[i]:m(1) end
    end
    local info, r = methodcache.info(T.m), mine()[1]
    assert.are.same({ info.hits, info.misses, info.currsize, info.instances },
                    { r.hits, r.misses, r.entries, r.objects })
  end)
end)
