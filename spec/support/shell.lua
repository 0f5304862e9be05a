-- spec/support/shell.lua: run programs from the specs (mchost next to
-- lua5.4, C programs built from the specs) and look at what they did.
local M = {}

--- The repository root, absolute, with a trailing slash.
M.root = debug.getinfo(1, "S").source:match("^@(.*)spec[/\\]support[/\\][^/\\]*$") or ""
if M.root:sub(1, 1) ~= "/" then
  M.root = assert(os.getenv("PWD"), "no PWD") .. "/" .. M.root
end

--- s quoted for /bin/sh.
function M.quote(s)
  return "'" .. tostring(s):gsub("'", [['\'']]) .. "'"
end

local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end
M.slurp = slurp

function M.write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

--- A new empty directory; M.rmtree removes it.
function M.tmpdir()
  local p = os.tmpname()
  os.remove(p)
  assert(os.execute("mkdir " .. M.quote(p)))
  return p
end

function M.rmtree(p)
  if p then os.execute("rm -rf " .. M.quote(p)) end
end

--- Runs 'cmd' with /bin/sh, 'stdin' (a string) as its input (default:
-- none). Returns { out =, err =, code = exit status }.
function M.run(cmd, stdin)
  local base = os.tmpname()
  local input = "/dev/null"
  if stdin then
    input = base .. ".in"
    M.write(input, stdin)
  end
  os.execute(("(%s) <%s >%s 2>%s; echo $? >%s"):format(cmd, M.quote(input),
    M.quote(base .. ".out"), M.quote(base .. ".err"), M.quote(base .. ".rc")))
  local r = { out = slurp(base .. ".out"), err = slurp(base .. ".err"),
              code = tonumber(slurp(base .. ".rc")) }
  for _, ext in ipairs({ "", ".in", ".out", ".err", ".rc" }) do os.remove(base .. ext) end
  return r
end

--- Raises with what the command printed unless it exited with 0.
function M.check(cmd, stdin)
  local r = M.run(cmd, stdin)
  if r.code ~= 0 then
    error(("command failed (%s): %s\n%s%s"):format(tostring(r.code), cmd, r.out, r.err), 2)
  end
  return r
end

--- The compiler flags for Lua's headers (the Makefile's default).
function M.lua_cflags()
  local r = M.run("pkg-config --cflags lua5.4")
  if r.code == 0 and r.out:match("%S") then return (r.out:gsub("%s+$", "")) end
  return "-I/usr/include/lua5.4"
end

return M
