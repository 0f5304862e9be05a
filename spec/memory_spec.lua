-- C memory that collectgarbage("count") cannot see: methodcache.memory()
-- and stats().bytes account for it.
local methodcache = require("methodcache")

describe("methodcache.memory", function()
  for _, mode in ipairs({ "incremental", "generational" }) do
    it("returns to its baseline after 100,000 short-lived objects are collected (" .. mode .. ")", function()
      collectgarbage(mode)
      local Class = {}
      Class.__index = Class
      Class.m = methodcache.method(function(self, x) return { self, x } end, { maxsize = 8 })
      local peak
      local function churn()
        for i = 1, 100000 do
          local o = setmetatable({}, Class)
          o:m(i)
          o:m({})
          if i % 10000 == 0 then peak = math.max(peak, methodcache.memory()) end
        end
      end
      collectgarbage()
      collectgarbage()
      local base = methodcache.memory()
      peak = base
      churn()  -- warm up: the weak table of objects reaches its size (see gc_spec)
      collectgarbage()
      collectgarbage()
      assert.are.equal(base, methodcache.memory())
      local heap = collectgarbage("count")
      churn()
      assert.is_true(peak > base, "the caches took C memory while objects lived")
      collectgarbage()
      collectgarbage()
      assert.are.equal(base, methodcache.memory())
      assert.are.equal(0, methodcache.info(Class.m).instances)
      assert.is_true(collectgarbage("count") - heap < 512, "Lua heap back within 512 KiB")
      collectgarbage("incremental")
    end)
  end

  it("counts a cache's entries in stats().bytes and gives them back on clear", function()
    local c = methodcache.lru(100)
    local empty = c:stats().bytes
    for i = 1, 100 do c:set(i, tostring(i)) end
    local full = c:stats().bytes
    assert.is_true(full > empty + 100 * 16)
    c:clear()
    assert.is_true(c:stats().bytes < full)
    for i = 1, 100 do c:set(i, i) end
    assert.are.equal(full, c:stats().bytes)
  end)

  it("frees the C memory of a dropped cache on collection", function()
    collectgarbage()
    local base = methodcache.memory()
    do
      local c = methodcache.lfu(1000)
      for i = 1, 1000 do c:set("k" .. i, i) end
      assert.is_true(methodcache.memory() > base)
    end
    collectgarbage()
    collectgarbage()
    assert.are.equal(base, methodcache.memory())
  end)
end)
