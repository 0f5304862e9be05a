-- The LuaLS definitions and the LDoc reference cover the API the module has
-- (tools/check_api.lua, which `make docs` runs too).
local methodcache = require("methodcache")
local check_api = dofile("tools/check_api.lua")

local function sorted(list)
  table.sort(list)
  return list
end

local function readme_chunks()
  local f = assert(io.open("README.md"))
  local text = f:read("a")
  f:close()
  local chunks = {}
  for body in text:gmatch("\n```lua\n(.-)\n```") do
    chunks[#chunks + 1] = { name = "README.md block " .. #chunks + 1, text = body }
  end
  return chunks
end

describe("types/methodcache.lua, the LuaLS definitions", function()
  it("is valid Lua that returns the module's table of stubs", function()
    local chunk = assert(loadfile("types/methodcache.lua", "t", {}))
    local stub = chunk()
    assert.are.equal("table", type(stub))
    assert.are.equal(methodcache.version, stub.version)
    assert.are.equal("function", type(stub.method))
  end)

  it("starts with ---@meta and declares methodcache.Cache and generic wrappers", function()
    local f = assert(io.open("types/methodcache.lua"))
    local text = f:read("a")
    f:close()
    assert.truthy(text:match("^%-%-%-@meta methodcache\n"))
    assert.truthy(text:find("\n---@class methodcache.Cache\n", 1, true))
    for _, name in ipairs({ "method", "cached" }) do
      assert.truthy(text:find("---@generic F: function\n---@param fn F[^\n]*\n"
                              .. "---@param opts%? methodcache.Options\n---@return F\n"
                              .. "function methodcache%." .. name .. "%("),
                    name .. " keeps the signature of the function it caches")
    end
  end)
end)

describe("the API docs and definitions", function()
  it("name every public function, cache method and option, and nothing else", function()
    assert.are.same({}, check_api.coverage())
  end)

  it("are found lacking when the module gains a function or loses one", function()
    local grown = setmetatable({}, getmetatable(methodcache))
    for k, v in pairs(methodcache) do grown[k] = v end
    grown.frobnicate = function() end
    grown.memory = nil
    assert.are.same(sorted({
      "lua/methodcache.lua, docs/api.ld.lua: function or field frobnicate is not documented",
      "lua/methodcache.lua, docs/api.ld.lua: function or field memory is documented"
        .. " but does not exist",
      "types/methodcache.lua: function or field frobnicate is not documented",
      "types/methodcache.lua: function or field memory is documented but does not exist",
    }), sorted(check_api.coverage(grown)))
  end)
end)

describe("tools/check_api.lua --usage", function()
  it("flags a file that misuses the API: unknown names and unknown options", function()
    assert.are.same(sorted({
      "spec/fixtures/api_misuse.lua:9: methodcache.methd is not declared",
      "spec/fixtures/api_misuse.lua:10: methodcache.lru has no option 'on_evcit'",
      "spec/fixtures/api_misuse.lua:11: methodcache.cached has no option 'ttl_seconds'",
      "spec/fixtures/api_misuse.lua:14: methodcache.ttl has no option 'maxsize'",
      "spec/fixtures/api_misuse.lua:15: methodcache.VERSION is not declared",
    }), sorted(check_api.usage({ "spec/fixtures/api_misuse.lua" })))
  end)

  it("finds nothing to flag in the examples and the README's Lua blocks", function()
    local examples = {}
    local p = assert(io.popen("ls examples/*.lua"))
    for f in p:lines() do examples[#examples + 1] = f end
    p:close()
    assert.is_true(#examples >= 4)
    local chunks = readme_chunks()
    assert.is_true(#chunks >= 8)
    assert.are.same({}, check_api.usage(examples, chunks))
  end)
end)
