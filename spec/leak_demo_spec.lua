-- examples/leak_demo.lua, as `make demo` runs it (through mchost) and as the
-- README shows it: its verdict, and info(f).collected in its table.
local H = require("spec.support.helpers")

describe("examples/leak_demo.lua", function()
  local function check(ok, how, code, out, n)
    assert(ok, ("%s %s\n%s"):format(how, code, out))
    assert.matches("OK: the naive cache keeps all " .. n .. " objects alive; methodcache keeps "
                   .. "none.", out, 1, true)
    assert.matches("hits%s+misses%s+instances%s+currsize%s+collected%s+maxsize\n", out)
    local rows = 0
    for name, collected in out:gmatch("\n  (methodcache[^:]-)%s*:%s+%d+%s+%d+%s+0%s+0%s+(%d+)") do
      rows = rows + 1
      assert.are.equal(tostring(n), collected, name .. ": every per-object cache collected")
    end
    assert.are.equal(2, rows, "two methodcache rows with collected\n" .. out)
  end

  it("prints collected = N for both methodcache rows and its verdict, through mchost", function()
    local f = io.open(H.root .. "mchost")
    assert.is_truthy(f, "./mchost is missing: run make")
    f:close()
    local ok, how, code, out = H.run("./mchost examples/leak_demo.lua 2000")
    check(ok, how, code, out, 2000)
  end)

  it("does the same under lua5.4", function()
    local ok, how, code, out = H.run(H.lua_command("examples/leak_demo.lua", { 1500 }))
    check(ok, how, code, out, 1500)
  end)
end)
