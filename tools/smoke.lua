-- tools/smoke.lua: a tiny check that an installed methodcache works.
--
--   LUA_PATH=TREE/share/lua/5.4/?.lua LUA_CPATH=TREE/lib/lua/5.4/?.so \
--     lua5.4 tools/smoke.lua TREE
--
-- Used by `make rock-check` on the tree that `luarocks make` filled, and by
-- `make dist-check` on the tree the .src.rock was installed into.  With a
-- TREE argument it also checks that both modules came from that tree and
-- that the rock installed its documents (tools/check_exports.sh checks what
-- core.so exports).

local tree = arg[1]

local function check(cond, what)
  if not cond then
    io.stderr:write("smoke: FAILED: ", what, "\n")
    os.exit(1)
  end
end

if tree then
  for _, m in ipairs({ { "methodcache", package.path },
                       { "methodcache.core", package.cpath } }) do
    local where = package.searchpath(m[1], m[2])
    check(where and where:sub(1, #tree) == tree,
          m[1] .. " found in " .. tostring(where) .. ", not in " .. tree)
  end

  local p = assert(io.popen("ls -d '" .. tree .. "'/lib/luarocks/rocks-*/methodcache/*/"))
  local rockdir = p:read("l")
  p:close()
  check(rockdir ~= nil, "the rock's directory is in " .. tree)
  for _, doc in ipairs({ "README.md", "docs/API.md", "docs/DESIGN.md",
                         "types/methodcache.lua" }) do
    local f = io.open(rockdir .. doc)
    check(f ~= nil, "the rock installed " .. doc)
    f:close()
  end
end

local methodcache = require("methodcache")
check(methodcache.version == "0.1.0", "methodcache.version is 0.1.0")

local c = methodcache.lru(2)
c:set("a", 1)
c:set("b", 2)
c:set("c", 3)
check(#c == 2, "an lru(2) holds 2 entries")
check(c:get("a") == nil and c:get("c") == 3, "lru evicts the least recent")

local calls = 0
local Point = {}
Point.__index = Point
function Point.dist(self, k)
  calls = calls + 1
  return self.x * k
end
Point.dist = methodcache.method(Point.dist, { maxsize = 8 })
local p = setmetatable({ x = 2 }, Point)
check(p:dist(3) == 6 and p:dist(3) == 6 and calls == 1, "a method is cached")

local weak = setmetatable({ p }, { __mode = "v" })
p = nil -- luacheck: ignore 311
collectgarbage()
collectgarbage()
check(weak[1] == nil, "a cached object is collected")

print("smoke: methodcache " .. methodcache.version .. " ok"
      .. (tree and (" from " .. tree) or ""))
