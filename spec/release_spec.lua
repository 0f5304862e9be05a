-- The release rockspec, the version and the CHANGELOG agree (make dist packs
-- the release rockspec with the tarball its source names).
local methodcache = require("methodcache")

local function rockspec(path)
  local env = {}
  assert(loadfile(path, "t", env))()
  return env
end

local function without(t, ...)
  local copy = {}
  for k, v in pairs(t) do copy[k] = v end
  for _, k in ipairs({ ... }) do copy[k] = nil end
  return copy
end

local version = methodcache.version
local release_path = ("rockspec/methodcache-%s-1.rockspec"):format(version)

describe("the release rockspec", function()
  it("exists for methodcache.version as " .. release_path, function()
    local r = rockspec(release_path)
    assert.are.equal("methodcache", r.package)
    assert.are.equal(version .. "-1", r.version)
  end)

  it("names as its source the tarball that make dist makes", function()
    local r = rockspec(release_path)
    assert.are.equal(("methodcache-%s.tar.gz"):format(version), r.source.url:match("[^/]+$"))
    assert.are.equal("methodcache-" .. version, r.source.dir)
  end)

  it("differs from methodcache-scm-1.rockspec only in its version and source", function()
    local scm = rockspec("rockspec/methodcache-scm-1.rockspec")
    local release = rockspec(release_path)
    assert.are.same(without(scm, "version", "source"), without(release, "version", "source"))
  end)
end)

describe("CHANGELOG.md", function()
  it("has a section for methodcache.version", function()
    local f = assert(io.open("CHANGELOG.md"))
    local found = false
    for line in f:lines() do
      if line:match("^## ") and (" " .. line .. " "):find("[^%w.]" .. version:gsub("%.", "%%.")
                                                          .. "[^%w.]") then
        found = true
      end
    end
    f:close()
    assert.is_true(found, "no '## ...' heading names " .. version)
  end)
end)

for _, path in ipairs({ "rockspec/methodcache-scm-1.rockspec", release_path }) do
  describe(path, function()
    it("runs make test as its test suite, with no rock to install for it", function()
      local r = rockspec(path)
      assert.are.same({ type = "command", command = "make test" }, r.test)
      assert.is_nil(r.test_dependencies)
    end)

    it("installs docs/, types/ and README.md into the rock's directory", function()
      local build = rockspec(path).build
      assert.are.same({ "docs", "types" }, build.copy_directories)
      assert.are.same({ conf = { ["../README.md"] = "README.md" } }, build.install)
    end)
  end)
end
