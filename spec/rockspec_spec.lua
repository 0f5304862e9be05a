-- The rockspecs build the same C module as the Makefile: every core source is listed.
describe("the rockspecs", function()
  local function core_sources()
    local list = {}
    local p = assert(io.popen("ls csrc/mc_*.c"))
    for f in p:lines() do
      if f ~= "csrc/mc_host.c" and f ~= "csrc/mc_embed.c" then list[#list + 1] = f end
    end
    p:close()
    return list
  end

  local function rockspecs()
    local list = {}
    local p = assert(io.popen("ls rockspec/*.rockspec"))
    for f in p:lines() do list[#list + 1] = f end
    p:close()
    return list
  end

  it("exist", function()
    assert.is_true(#rockspecs() >= 1)
  end)

  for _, spec in ipairs(rockspecs()) do
    it(spec .. " lists every C source of methodcache.core and nothing else", function()
      local env = {}
      assert(loadfile(spec, "t", env))()
      local listed = {}
      for _, f in ipairs(env.build.modules["methodcache.core"].sources) do listed[f] = true end
      local want = core_sources()
      assert.is_true(#want > 5)
      for _, f in ipairs(want) do
        assert.is_true(listed[f] == true, f .. " is missing from " .. spec)
        listed[f] = nil
      end
      assert.are.same({}, listed)
    end)
  end
end)
