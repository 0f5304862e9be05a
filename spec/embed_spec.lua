-- methodcache from C: luaopen_methodcache in every order with luaL_openlibs
-- (spec/support/embed_orders.c, built against the static and the shared
-- library), methodcache_stats, what the libraries export, and the README's
-- "Embedding in C" run as written, from `make install` to both programs.
local sh = require("spec.support.shell")

local ROOT = sh.root
local BUILD = ROOT .. "build"

local ORDERS = {
  "requiref-after-openlibs", "requiref-before-openlibs", "requiref-only",
  "preload-after-openlibs", "preload-before-openlibs", "plain-call", "twice",
}

local LIBS = {
  static = sh.quote(BUILD .. "/libmethodcache.a"),
  shared = ("-L%s -lmethodcache -Wl,-rpath,%s"):format(sh.quote(BUILD), sh.quote(BUILD)),
}

describe("luaopen_methodcache", function()
  local dir
  setup(function()
    dir = sh.tmpdir()
    for kind, lib in pairs(LIBS) do
      sh.check(("cc -Wall -Wextra -Werror %s -I%s %s -o %s %s -llua5.4 -lm -ldl"):format(
        sh.lua_cflags(), sh.quote(ROOT .. "csrc"), sh.quote(ROOT .. "spec/support/embed_orders.c"),
        sh.quote(dir .. "/orders-" .. kind), lib))
    end
  end)
  teardown(function() sh.rmtree(dir) end)

  for _, kind in ipairs({ "static", "shared" }) do
    for _, order in ipairs(ORDERS) do
      it(("works on its own in a new state: %s (%s library)"):format(order, kind), function()
        local r = sh.run(sh.quote(dir .. "/orders-" .. kind) .. " " .. order)
        assert.are.equal("", r.err)
        assert.is_truthy(r.out:match("^ok\n") and not r.out:find("[^ok\n]"), r.out)
        assert.are.equal(0, r.code)
      end)
    end
    it(("gives methodcache_stats the live methods oldest first, stops when the callback "
        .. "asks, keeps the stack and returns -1 for a callback's error (%s library)"):format(kind),
       function()
      local r = sh.run(sh.quote(dir .. "/orders-" .. kind) .. " stats")
      assert.are.same({ "ok\n", 0 }, { r.out, r.code })
    end)
  end
end)

describe("the libraries", function()
  local api = { "luaopen_methodcache", "luaopen_methodcache_core", "methodcache_openlibs",
                "methodcache_stats" }

  local function exports(file)
    local r = sh.check(("sh %s -l %s"):format(sh.quote(ROOT .. "tools/check_exports.sh"),
                                              sh.quote(file)))
    local names = {}
    for name in r.out:gmatch("%S+") do names[#names + 1] = name end
    return names
  end

  it("export the MC_API functions and nothing else (libmethodcache.so and .a)", function()
    assert.are.same(api, exports(BUILD .. "/libmethodcache.so"))
    assert.are.same(api, exports(BUILD .. "/libmethodcache.a"))
  end)

  it("export only luaopen_methodcache_core and methodcache_stats from core.so", function()
    assert.are.same({ "luaopen_methodcache_core", "methodcache_stats" },
                    exports(BUILD .. "/methodcache/core.so"))
  end)

  it("give libmethodcache.so the soname libmethodcache.so.0, and the links to it", function()
    local r = sh.check("objdump -p " .. sh.quote(BUILD .. "/libmethodcache.so"))
    assert.is_truthy(r.out:match("SONAME%s+libmethodcache%.so%.0\n"), r.out)
    r = sh.check("readlink " .. sh.quote(BUILD .. "/libmethodcache.so.0"))
    assert.are.equal("libmethodcache.so.0.1.0\n", r.out)
  end)
end)

describe("README.md, Embedding in C", function()
  local text = sh.slurp(ROOT .. "README.md")
  local section = text:match("\n## Embedding in C\n(.-)\n## ") or ""
  local commands = section:match("```sh\n(.-)\n```")
  local program = section:match("```c\n(.-)\n```")

  it("has the commands and the program", function()
    assert.is_string(commands)
    assert.is_string(program)
    assert.is_true(select(2, commands:gsub("\n", "")) + select(2, program:gsub("\n", "")) < 40)
  end)

  it("builds the program as written, shared and static, against the installed tree", function()
    local dir = sh.tmpdir()
    local prefix = dir .. "/prefix"
    local script = { "set -e", "cd " .. sh.quote(dir),
                     "export PKG_CONFIG_PATH=" .. sh.quote(prefix .. "/lib/pkgconfig"),
                     "export LD_LIBRARY_PATH=" .. sh.quote(prefix .. "/lib") }
    local expected
    sh.write(dir .. "/app.c", program .. "\n")
    for line in commands:gmatch("[^\n]+") do
      local cmd, comment = line:match("^(.-)%s*#%s*(.*)$")
      cmd = (cmd or line):gsub("sudo ", "")
      local packages = cmd:match("^apt%-get install (.*)")
      if packages then
        -- not run here: on Debian, what it installs must be installed
        local dpkg = sh.run("command -v dpkg-query").code == 0
        for pkg in packages:gmatch("%S+") do
          if dpkg and pkg:sub(1, 1) ~= "-" then
            local r = sh.run("dpkg-query -W -f='${Status}' " .. pkg)
            assert.is_truthy(r.out:match("install ok installed"), pkg .. " is not installed")
          end
        end
      else
        -- make and make install run at the top, and install into a prefix
        -- of the test's own; ldconfig is for /usr/local only
        cmd = cmd:gsub("make install", "make install PREFIX=" .. sh.quote(prefix))
                 :gsub("make", "make -s --no-print-directory -C " .. sh.quote(ROOT))
                 :gsub("%s*&&%s*ldconfig", "")
        script[#script + 1] = cmd
        if cmd:match("^%./") then expected = comment end
      end
    end
    local r = sh.run(table.concat(script, "\n"))
    sh.rmtree(dir)
    assert.are.equal(0, r.code, r.err)
    -- the comment says what one program prints, "(twice)" that both do
    local once = expected:match("^(.-) %(twice%)$")
    assert.are.equal(once .. "\n" .. once .. "\n", r.out)
  end)
end)
