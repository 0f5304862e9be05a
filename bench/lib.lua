-- bench/lib.lua: what every benchmark shares: timing, tables, the results file.
--
-- A benchmark is a file that returns (or, run on its own, prints) "sections":
--   { title = "...", headers = { "a", "b" }, rows = { { "x", 1.5 }, ... }, notes = { "..." } }
-- run.lua loads each with lib.load("name.lua") and prints and saves them all.
-- Time is CPU time (os.clock), the best (minimum) of several repetitions, each
-- calibrated to run about `target` seconds: the minimum is the run least disturbed
-- by other processes, which is what a comparison between implementations wants.

local lib = {}

local clock = os.clock

lib.here = (arg and arg[0] and arg[0]:match("^(.*)[/\\]")) or "bench"

-- Load another file of bench/ whatever the current directory and LUA_PATH are.
function lib.load(name, ...)
  local chunk = assert(loadfile(lib.here .. "/" .. name))
  return chunk(lib, ...)
end

lib.target = tonumber(os.getenv("BENCH_TARGET")) or 0.2 -- seconds per repetition
lib.reps = tonumber(os.getenv("BENCH_REPS")) or 5

-- Find how many iterations of loop(n) take about `target` seconds.
function lib.calibrate(loop, target)
  local n = 1000
  while true do
    local t0 = clock()
    loop(n)
    local dt = clock() - t0
    if dt >= 0.02 then
      return math.max(1, math.floor(n * target / dt))
    end
    n = n * (dt > 0.002 and math.ceil(0.03 / dt) or 16)
  end
end

-- Nanoseconds per operation of loop(n), which must do n operations:
-- the best of `reps` repetitions of about `target` seconds each.
function lib.ns_per_op(loop, opts)
  opts = opts or {}
  local target = opts.target or lib.target
  local reps = opts.reps or lib.reps
  local n = opts.n or lib.calibrate(loop, target)
  local best = math.huge
  for _ = 1, reps do
    if opts.setup then opts.setup() end
    collectgarbage()
    local t0 = clock()
    loop(n)
    local dt = clock() - t0
    best = math.min(best, dt / n)
  end
  return best * 1e9
end

-- Memory in bytes, after a full collection.
function lib.bytes()
  collectgarbage()
  collectgarbage()
  return collectgarbage("count") * 1024
end

local function cell(v)
  if type(v) == "number" then
    if v ~= v then return "n/a" end
    if math.type(v) == "integer" then return tostring(v) end
    if math.abs(v) >= 100 then return string.format("%.0f", v) end
    return string.format("%.1f", v)
  end
  return tostring(v == nil and "-" or v)
end
lib.cell = cell

-- A ratio as a table cell: "1.23x".
function lib.ratio(r)
  return string.format("%.2fx", r)
end

-- Print one section as an aligned text table.
function lib.print_section(s)
  print(s.title)
  local w = {}
  local all = { s.headers }
  for _, r in ipairs(s.rows) do all[#all + 1] = r end
  for _, r in ipairs(all) do
    for i = 1, #s.headers do w[i] = math.max(w[i] or 0, #cell(r[i])) end
  end
  for k, r in ipairs(all) do
    local parts = {}
    for i = 1, #s.headers do
      local c = cell(r[i])
      parts[i] = i == 1 and c .. string.rep(" ", w[i] - #c) or string.rep(" ", w[i] - #c) .. c
    end
    print("  " .. table.concat(parts, "  "))
    if k == 1 then
      local rule = {}
      for i = 1, #s.headers do rule[i] = string.rep("-", w[i]) end
      print("  " .. table.concat(rule, "  "))
    end
  end
  for _, n in ipairs(s.notes or {}) do print("  " .. n) end
  print()
end

-- One section as markdown.
function lib.md_section(s)
  local out = { "## " .. s.title, "" }
  out[#out + 1] = "| " .. table.concat(s.headers, " | ") .. " |"
  local align = {}
  for i = 1, #s.headers do align[i] = i == 1 and "---" or "---:" end
  out[#out + 1] = "|" .. table.concat(align, "|") .. "|"
  for _, r in ipairs(s.rows) do
    local c = {}
    for i = 1, #s.headers do c[i] = cell(r[i]) end
    out[#out + 1] = "| " .. table.concat(c, " | ") .. " |"
  end
  out[#out + 1] = ""
  for _, n in ipairs(s.notes or {}) do out[#out + 1] = n .. "  " end
  if s.notes and #s.notes > 0 then out[#out + 1] = "" end
  return table.concat(out, "\n")
end

-- The command that runs this interpreter (arg's lowest index), for child processes.
function lib.interpreter()
  local interp
  for i = -1, -100, -1 do
    if arg == nil or arg[i] == nil then break end
    interp = arg[i]
  end
  return interp or "lua5.4"
end

function lib.quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- "Lua 5.4.4" from `interpreter -v` (lua5.4 and mchost both print it); else _VERSION.
local function lua_release()
  local p = io.popen(lib.quote(lib.interpreter()) .. " -v 2>&1")
  local out = p and p:read("a") or ""
  if p then p:close() end
  local v = out:match("Lua (%d+%.%d+%.%d+)")
  return v and "Lua " .. v or _VERSION
end

-- Where and on what the numbers were taken.
function lib.sysinfo()
  local cpu = "unknown CPU"
  local f = io.open("/proc/cpuinfo")
  if f then
    local ncpu = 0
    for line in f:lines() do
      local name = line:match("^model name%s*:%s*(.-)%s*$")
      if name then
        cpu = name
        ncpu = ncpu + 1
      end
    end
    f:close()
    if ncpu > 0 then cpu = string.format("%s (%d logical CPUs)", cpu, ncpu) end
  end
  local ok, mc = pcall(require, "methodcache")
  return {
    date = os.date("!%Y-%m-%d %H:%M UTC"),
    lua = lua_release(),
    cpu = cpu,
    methodcache = ok and mc.version or "not loaded",
  }
end

return lib
