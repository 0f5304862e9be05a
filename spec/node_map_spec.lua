-- A cache makes the node table of an object (csrc/mc_lnode.c) with a few
-- allocations, and a finalizer run by one of them may use the same cache:
-- make the cache's map of node tables first, clear the cache, or store
-- under the very same object.  The store must then keep that map and that
-- node, else an entry is counted by #c but skipped by pairs for as long as
-- its key lives, or pairs gives a key twice until the next collection
-- (both found by the finalizer torture, in generational mode, about 1 run
-- in 40).  Each case runs in a child process: spec/support/map_race.lua
-- says how it lands a collection on those allocations, and why a child.
local H = require("spec.support.helpers")

local WHAT = {
  set = "stores another object key while the cache makes its first node",
  clear = "clears the cache and stores another object key while it makes its first node",
  same = "stores the same object key while the cache makes its node",
}

for _, mode in ipairs({ "incremental", "generational" }) do
  for _, variant in ipairs({ "set", "clear", "same" }) do
    describe("a finalizer that " .. WHAT[variant] .. ", in " .. mode .. " mode", function()
      it("leaves each key once in pairs, as many as #c, each with its value", function()
        local ok, how, code, out = H.run(H.lua_command("spec/support/map_race.lua",
                                                       { mode, variant }))
        assert(ok, ("child %s %s:\n%s"):format(how, tostring(code), out))
        local hits, bad = out:match("hits (%d+) bad (%d+)")
        assert(hits, "no summary from the child:\n" .. out)
        -- not vacuous: some stores were interrupted before the node was made
        assert.is_true(tonumber(hits) > 0, "no finalizer ran there:\n" .. out)
        assert.are.equal(0, tonumber(bad), out)
      end)
    end)
  end
end
