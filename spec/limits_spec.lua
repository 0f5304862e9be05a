-- Bad input at the edges: totals that would overflow, option types.
local methodcache = require("methodcache")

describe("an unbounded weighted cache", function()
  it("refuses a value whose weight would overflow the total instead of wrapping it", function()
    local u = methodcache.unbounded({ getsizeof = function() return math.maxinteger end })
    assert.is_true(u:set(1, 1))
    assert.is_false(u:set(2, 1))
    assert.are.equal(math.maxinteger, u:stats().currsize)
    assert.are.equal(1, #u)
    assert.are.equal(1, u:get(1))
  end)
end)

describe("methodcache.method options", function()
  it("says the policy must be a string when it is a number", function()
    local ok, err = pcall(methodcache.method, print, { policy = 3 })
    assert.is_false(ok)
    assert.matches("bad argument #2 to 'method' (option 'policy' must be a string, got number)",
                   err, 1, true)
  end)
end)

describe("an unbounded weighted cache updated in place", function()
  it("refuses an update whose weight would overflow the total and drops the old value", function()
    local w = { a = 1, b = 1 }
    local u = methodcache.unbounded({ getsizeof = function(v) return w[v] end })
    assert.is_true(u:set(1, "a"))
    assert.is_true(u:set(2, "b"))
    w.a = math.maxinteger
    assert.is_false(u:set(2, "a"))
    assert.is_nil(u:get(2))
    assert.are.equal(1, u:stats().currsize)
  end)
end)
