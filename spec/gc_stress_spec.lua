-- Collection racing with cache operations: object keys that die while the
-- collector is between clearing their tables and running their finalizers.
local methodcache = require("methodcache")

local function modes(body)
  for _, mode in ipairs({ "incremental", "generational" }) do
    body(mode)
  end
  collectgarbage("incremental")
end

describe("a cache under incremental collection", function()
  modes(function(mode)
    it("evicts entries of object arguments that just died"
       .. " without touching freed memory (" .. mode .. ")", function()
      collectgarbage(mode)
      local obj = {}
      local m = methodcache.method(function(_, a, b) return { a, b } end, { maxsize = 300 })
      local c = methodcache.lru(300)
      local kept = {}
      for i = 1, 30000 do
        local a = {}
        local r = m(obj, a, i % 3)
        assert(r[1] == a)
        c:set({}, a)
        c:set(i, {})
        if i % 1000 == 0 then kept[#kept + 1] = a end
        if i % 7 == 0 then collectgarbage("step", 1) end
      end
      assert.is_true(methodcache.info(m).currsize <= 300)
      assert.is_true(#c <= 300)
      -- every entry still reachable answers the right value
      for _, a in ipairs(kept) do
        assert.are.equal(a, m(obj, a, 0)[1])
      end
      collectgarbage()
      collectgarbage()
      assert.is_true(methodcache.info(m).currsize <= 300)
      local n = 0
      for k, v in pairs(c) do
        n = n + 1
        assert.is_not_nil(k)
        assert.is_not_nil(v)
      end
      assert.are.equal(#c, n)
    end)
  end)
end)
