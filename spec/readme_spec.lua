-- Every Lua block of README.md runs, so the README keeps saying what the code does.
local function readme_blocks()
  local here = debug.getinfo(1, "S").source:match("^@(.*)spec[/\\][^/\\]*$") or ""
  local f = assert(io.open(here .. "README.md"))
  local text = f:read("a")
  f:close()
  local blocks = {}
  for body in text:gmatch("\n```lua\n(.-)\n```") do
    blocks[#blocks + 1] = body
  end
  return blocks
end

describe("README.md", function()
  local blocks = readme_blocks()

  it("has Lua examples to run", function()
    assert.is_true(#blocks >= 8)
  end)

  for i, body in ipairs(blocks) do
    local first = body:match("[^\n]*")
    for _, mode in ipairs({ "incremental", "generational" }) do
      it(("runs Lua block %d (%s) in %s mode"):format(i, first, mode), function()
        collectgarbage(mode)
        local chunk = assert(load(body, "=README.md block " .. i, "t",
                                  setmetatable({ print = function() end }, { __index = _G })))
        local ok, err = pcall(chunk)
        collectgarbage("incremental")
        assert(ok, err)
      end)
    end
  end
end)
