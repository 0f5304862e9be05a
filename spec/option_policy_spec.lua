-- Options that do not apply to a policy are errors, not silently ignored: a seed
-- on lru, a timer on lfu or a ttl beside policy "lfu" says the caller expects
-- something the cache will never do.  For methods and cached functions, ttl
-- without a policy means policy "ttl", and ttu means "tlru".  Numbers are
-- numbers: a numeric string where a number is expected is an error that says
-- a string was given.
local methodcache = require("methodcache")
local H = require("spec.support.helpers")

-- the message without the position luaL_error adds
local function errmsg(f, ...)
  return (H.errmsg(f, ...):gsub("^[^:\n]+:%d+: ", ""))
end

local function clock() return 0 end
local function ttu(_, _, now) return now + 1 end

-- every constructor: its options argument's number and how to call it
local constructors = {
  { "lru", 2, function(o) return methodcache.lru(3, o) end },
  { "lfu", 2, function(o) return methodcache.lfu(3, o) end },
  { "fifo", 2, function(o) return methodcache.fifo(3, o) end },
  { "rr", 2, function(o) return methodcache.rr(3, o) end },
  { "ttl", 3, function(o) return methodcache.ttl(3, 1, o) end },
  { "tlru", 3, function(o) return methodcache.tlru(3, ttu, o) end },
  { "unbounded", 1, function(o) return methodcache.unbounded(o) end },
}

describe("a cache constructor", function()
  for _, case in ipairs(constructors) do
    local name, arg, make = case[1], case[2], case[3]
    local function msg(s) return ("bad argument #%d to '%s' (%s)"):format(arg, name, s) end
    local timed = name == "ttl" or name == "tlru"

    if name == "rr" then
      it("rr accepts a seed", function()
        assert.are.equal("rr", make({ seed = 7 }).policy)
      end)
    else
      it(name .. " refuses a seed, which only rr uses", function()
        assert.are.equal(msg("option 'seed' needs policy 'rr', got policy '" .. name .. "'"),
                         errmsg(make, { seed = 7 }))
      end)
    end

    if timed then
      it(name .. " accepts a timer", function()
        assert.are.equal(name, make({ timer = clock }).policy)
      end)
    else
      it(name .. " refuses a timer, which only ttl and tlru call", function()
        assert.are.equal(msg("option 'timer' needs policy 'ttl' or 'tlru', got policy '"
                             .. name .. "'"), errmsg(make, { timer = clock }))
      end)
    end

    it(name .. " checks an option's type before whether its policy takes it", function()
      assert.are.equal(msg("option 'seed' must be an integer, got string"),
                       errmsg(make, { seed = "7" }))
      assert.are.equal(msg("option 'timer' must be a function, got number"),
                       errmsg(make, { timer = 1 }))
    end)
  end

  it("refuses numeric strings for maxsize and ttl, saying a string was given", function()
    assert.are.equal("bad argument #1 to 'lru' (number expected, got string)",
                     errmsg(methodcache.lru, "5"))
    assert.are.equal("bad argument #2 to 'ttl' (number expected, got string)",
                     errmsg(methodcache.ttl, 5, "2"))
    assert.are.equal("bad argument #2 to 'rr' (option 'seed' must be an integer, got string)",
                     errmsg(methodcache.rr, 5, { seed = "7" }))
  end)
end)

-- The policy the cache of a cached method or function has, read from report().
local function policy_of(fn, made)
  local line = debug.getinfo(fn, "S").linedefined
  for _, r in ipairs(methodcache.report()) do
    if r.line == line and r.source:match("option_policy_spec%.lua$") then return r.policy end
  end
  error("not in methodcache.report(): " .. tostring(made))
end

for _, fname in ipairs({ "method", "cached" }) do
  local wrap = methodcache[fname]
  local function msg(s) return ("bad argument #2 to '%s' (%s)"):format(fname, s) end
  -- calls f with the argument 1 (for a method, on one object each time)
  local function caller(f)
    if fname == "method" then
      local obj = { f = f }
      return function() return obj:f(1) end
    end
    return function() return f(1) end
  end

  describe(fname, function()
    it("refuses a seed without policy 'rr', saying which policy it got", function()
      local function body() return 1 end
      assert.are.equal(msg("option 'seed' needs policy 'rr', got policy 'lru'"),
                       errmsg(wrap, body, { seed = 1 }))
      assert.are.equal(msg("option 'seed' needs policy 'rr', got policy 'ttl'"),
                       errmsg(wrap, body, { seed = 1, ttl = 5 }))
      assert.are.equal(msg("option 'seed' needs policy 'rr', got policy 'fifo'"),
                       errmsg(wrap, body, { seed = 1, policy = "fifo" }))
      assert.is_function(wrap(body, { seed = 1, policy = "rr" }))
    end)

    it("refuses a timer without a time policy", function()
      local function body() return 1 end
      assert.are.equal(msg("option 'timer' needs policy 'ttl' or 'tlru', got policy 'lru'"),
                       errmsg(wrap, body, { timer = clock }))
      assert.are.equal(msg("option 'timer' needs policy 'ttl' or 'tlru', got policy 'unbounded'"),
                       errmsg(wrap, body, { timer = clock, policy = "unbounded" }))
      assert.is_function(wrap(body, { timer = clock, ttl = 1 }))
      assert.is_function(wrap(body, { timer = clock, ttu = ttu }))
    end)

    it("refuses ttl and ttu beside a policy that does not use them", function()
      local function body() return 1 end
      assert.are.equal(msg("option 'ttl' needs policy 'ttl', got policy 'lfu'"),
                       errmsg(wrap, body, { ttl = 1, policy = "lfu" }))
      -- both without a policy: ttl chose policy "ttl", which has no ttu
      assert.are.equal(msg("option 'ttu' needs policy 'tlru', got policy 'ttl'"),
                       errmsg(wrap, body, { ttl = 1, ttu = ttu }))
      assert.are.equal(msg("option 'ttu' needs policy 'tlru', got policy 'ttl'"),
                       errmsg(wrap, body, { ttu = ttu, policy = "ttl", ttl = 1 }))
    end)

    it("takes ttl without a policy to mean policy 'ttl'", function()
      local now = 0
      local calls = 0
      local function body() calls = calls + 1; return calls end
      local run = caller(wrap(body, { ttl = 5, timer = function() return now end }))
      assert.are.equal(1, run())
      assert.are.equal("ttl", policy_of(body, fname))
      now = 4.5
      assert.are.equal(1, run())
      now = 5
      assert.are.equal(2, run())        -- expired: computed again
    end)

    it("takes ttu without a policy to mean policy 'tlru'", function()
      local function body() return 1 end
      caller(wrap(body, { ttu = ttu }))()
      assert.are.equal("tlru", policy_of(body, fname))
    end)

    it("refuses numeric strings where numbers go, saying a string was given", function()
      local function body() return 1 end
      assert.are.equal(msg("option 'ttl': number expected, got string"),
                       errmsg(wrap, body, { ttl = "5" }))
      assert.are.equal(msg("option 'maxsize': number expected, got string"),
                       errmsg(wrap, body, { maxsize = "5" }))
      assert.are.equal(msg("option 'seed' must be an integer, got string"),
                       errmsg(wrap, body, { seed = "7", policy = "rr" }))
    end)
  end)
end
