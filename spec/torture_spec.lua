-- Finalizer torture (issue 6): garbage whose finalizers make random calls
-- on the very caches and cached methods a random main loop is using, with
-- the collector as eager as it goes, over every policy and option set.
--
-- Each run is a child process (spec/support/torture.lua says what it
-- checks, and why a child): there finalizers run within most allocations,
-- and a crash fails one spec instead of ending busted.  This process's own
-- collector is left alone.  A failure names the seed and the command that
-- replays it; METHODCACHE_SEED=N runs that seed alone in every spec here.
-- The main loop's calls depend on the seed alone, but where collections
-- fall also depends on Lua's string-hash seed, which differs from run to
-- run: a replay fails the same way often, not always (run it a few times).
-- The longer runs are tagged #slow (busted --exclude-tags=slow skips them).
local H = require("spec.support.helpers")

local POLICIES = { "lru", "lfu", "fifo", "rr", "ttl", "tlru", "unbounded" }
local MODES = { "incremental", "generational" }
local SEED = math.tointeger(tonumber(os.getenv("METHODCACHE_SEED") or ""))

-- a corrupted list can make a child loop for ever: it gets this long
local TIMEOUT = H.have("timeout") and "timeout 600" or nil

local function torture(mode, policy, seeds, steps, first)
  if SEED then first, seeds = SEED, 1 end
  local command = H.lua_command("spec/support/torture.lua", { mode, policy, seeds, steps, first },
                                TIMEOUT)
  local ok, how, code, out = H.run(command)
  if not ok then
    local seed = 0
    for s in out:gmatch("seed (%d+)\n") do seed = s end
    error(("%s (%s %d) at seed %s: %s\nreplay: %s\n"):format(
      policy, how, code, seed, out:match("FAIL[^\n]*") or "no report",
      H.lua_command("spec/support/torture.lua", { mode, policy, 1, steps, seed })) .. out, 0)
  end
  local main, fins, nested, fin_ops = out:match(
    "total: (%d+) main operations, (%d+) finalizers, (%d+) nested, (%d+) finalizer operations")
  assert(main, "no summary from the child:\n" .. out)
  main, fins, nested, fin_ops = tonumber(main), tonumber(fins), tonumber(nested), tonumber(fin_ops)
  local all = seeds * steps
  -- not vacuous: finalizers ran, made calls, and many ran inside a call of
  -- methodcache (when this was written: about 15% of the steps in
  -- incremental mode, 30% in generational)
  assert.is_true(fins >= all // 4, ("%d finalizers for %d steps"):format(fins, all))
  assert.is_true(fin_ops >= all // 4, ("%d finalizer operations for %d steps"):format(fin_ops, all))
  assert.is_true(nested >= all // 50,
    ("only %d finalizers ran inside an operation, for %d steps"):format(nested, all))
  assert.is_true(main >= all // 2)
end

describe("finalizers calling the caches a main loop is using", function()
  for _, mode in ipairs(MODES) do
    -- #known: in generational mode about one run in 40 ends with an entry
    -- that #c counts and pairs does not see, or one key listed twice, after
    -- full collections (not a memory error: ASan and valgrind are clean).
    -- Under investigation; the CI targets leave these runs out until it is
    -- fixed.  Run them with: busted --lua=lua5.4 --tags=known
    local known = mode == "generational" and " #known" or ""
    for _, policy in ipairs(POLICIES) do
      it(("break no property of %s caches and methods (%s, 4 seeds of 2000 steps)%s")
         :format(policy, mode, known), function()
        torture(mode, policy, 4, 2000, 1)
      end)

      it(("break no property of %s caches and methods (%s, 20 seeds of 5000 steps) #slow%s")
         :format(policy, mode, known), function()
        torture(mode, policy, 20, 5000, 1001)
      end)
    end
  end
end)
