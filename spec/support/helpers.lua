-- Helpers shared by the specs of bad input, finalizers and memory safety
-- (spec/safety_spec.lua, spec/bad_input_spec.lua, spec/torture_spec.lua).
--
-- Plain functions: they raise plain errors (luassert is not needed here), so
-- spec/support/torture.lua can use them in a child process too.
local M = {}

--- The repository root, with a trailing slash ("" when run from it).
M.root = (debug.getinfo(1, "S").source:match("^@(.*)spec[/\\]support[/\\][^/\\]*$") or "")

--- 'count' keys drawn from Zipf(s) over 1..n (key i with weight 1 / i^s),
-- from math.randomseed(seed): the same sequence on every run.  Used by
-- spec/fast_policy_spec.lua and tools/fast_hitratio.lua.
function M.zipf(n, s, count, seed)
  local cum, total = {}, 0
  for i = 1, n do
    total = total + 1 / i ^ s
    cum[i] = total
  end
  math.randomseed(seed)
  local keys = {}
  for j = 1, count do
    local x, lo, hi = math.random() * total, 1, n
    while lo < hi do
      local mid = (lo + hi) // 2
      if cum[mid] < x then lo = mid + 1 else hi = mid end
    end
    keys[j] = lo
  end
  return keys
end

function M.full_gc()
  collectgarbage()
  collectgarbage()
end

--- A table with weak values, to watch objects be collected.
function M.weak()
  return setmetatable({}, { __mode = "v" })
end

--- The number of keys of t.
function M.count(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

--- A fresh class C whose method C.m (methodcache.method with opts) counts its
-- calls in C.calls and gives the results of body(self, ...).
function M.counting_class(body, opts)
  local C = { calls = 0 }
  C.__index = C
  C.m = require("methodcache").method(function(self, ...)
    C.calls = C.calls + 1
    return body(self, ...)
  end, opts)
  return C
end

--- The message of the error that f(...) must raise, as a string.
function M.errmsg(f, ...)
  local ok, err = pcall(f, ...)
  if ok then error("expected an error, got none", 2) end
  return tostring(err)
end

--- Raises unless every fragment is in msg (plain find) and no fragment of
-- 'absent' is.
function M.check_fragments(msg, fragments, absent)
  for _, frag in ipairs(fragments) do
    if not msg:find(frag, 1, true) then
      error(("message %q lacks %q"):format(msg, frag), 2)
    end
  end
  for _, frag in ipairs(absent or {}) do
    if msg:find(frag, 1, true) then
      error(("message %q should not contain %q"):format(msg, frag), 2)
    end
  end
end

--- pairs(c) as a list of {key, value}.
function M.entries(c)
  local out = {}
  for k, v in pairs(c) do out[#out + 1] = { k, v } end
  return out
end

--- What a cache looks like from outside: its pairs, stats() and #c.
function M.snapshot(c)
  return { entries = M.entries(c), stats = c:stats(), len = #c }
end

--- A clock for the timer option that moves only when told.
function M.fakeclock(t)
  local clock = { now = t or 0 }
  clock.timer = function() return clock.now end
  return clock
end

--- A seeded PRNG of its own (xorshift64*), so that a finalizer drawing
-- numbers does not shift the main sequence: r(n) is in 1..n, r() in [0, 1).
function M.rng(seed)
  local s = seed ~ 0x2545F4914F6CDD1D
  if s == 0 then s = 1 end
  return function(n)
    s = s ~ (s << 13)
    s = s ~ (s >> 7)
    s = s ~ (s << 17)
    local x = (s * 0x2545F4914F6CDD1D) >> 11     -- 53 bits, non-negative
    if n == nil then return x / (1 << 53) end
    return x % n + 1
  end
end

-- Lua 5.4's defaults for what collectgarbage cannot read back (lgc.h:
-- LUAI_GCSTEPSIZE, LUAI_GENMINORMUL, LUAI_GENMAJORMUL).
local DEFAULT_STEPSIZE, DEFAULT_MINORMUL, DEFAULT_MAJORMUL = 13, 20, 100

--- Puts the collector in 'mode' ("incremental" or "generational") with its
-- most eager parameters and returns a function that restores the previous
-- mode and parameters.
--
-- Incremental: pause 1 (stored divided by 4: 0, a new cycle as soon as one
-- ends; 0 would mean "leave it"), step multiplier 1000, step size 2 bytes.
-- Generational: a minor collection after each 1% of growth (the least the
-- API takes).  In a small heap (spec/support/torture.lua) a finalizer then
-- runs within 99% (incremental) and 50% (generational) of the allocations
-- that follow garbage with __gc; in busted's heap of a few MB, within about
-- 1% and 0.5% of them.
function M.eager_gc(mode)
  local pause = collectgarbage("setpause", 200)
  collectgarbage("setpause", pause)
  local stepmul = collectgarbage("setstepmul", 100)
  collectgarbage("setstepmul", stepmul)
  local previous
  if mode == "incremental" then
    previous = collectgarbage("incremental", 1, 1000, 1)
  else
    previous = collectgarbage("generational", 1, 100)
  end
  return function()
    collectgarbage("generational", DEFAULT_MINORMUL, DEFAULT_MAJORMUL)
    collectgarbage("incremental", 0, 0, DEFAULT_STEPSIZE)  -- 0: unchanged
    collectgarbage("setpause", pause)
    collectgarbage("setstepmul", stepmul)
    collectgarbage(previous)
  end
end

--- Runs body(mode) as one busted test per collector mode, each with the
-- eager collector (M.eager_gc) and full collections around it; 'it' is
-- busted's.
function M.each_mode(it, name, body)
  for _, mode in ipairs({ "incremental", "generational" }) do
    it(name .. " (" .. mode .. ")", function()
      M.full_gc()
      local restore = M.eager_gc(mode)
      local ok, err = pcall(body, mode)
      restore()
      M.full_gc()
      if not ok then error(err, 0) end
    end)
  end
end

--- True if one of the functions in the set 'fns' (fns[f] = true) is
-- running below the caller: tells a finalizer whether it interrupted one
-- of them.
function M.inside(fns)
  for level = 3, 200 do
    local info = debug.getinfo(level, "f")
    if info == nil then return false end
    if fns[info.func] then return true end
  end
  return false
end

--- Quotes a string for sh.
function M.shquote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

--- Runs a shell command from the repository root; returns whether it exited
-- with 0, how it ended ("exit" or "signal"), its code, and its output
-- (stdout and stderr).
function M.run(cmd)
  local p = assert(io.popen("cd " .. M.shquote(M.root == "" and "." or M.root) ..
                            " && " .. cmd .. " 2>&1"))
  local out = p:read("a")
  local ok, how, code = p:close()
  return ok == true, how, code, out
end

--- Whether a program is on PATH.
function M.have(program)
  local ok = M.run("command -v " .. M.shquote(program) .. " >/dev/null")
  return ok
end

--- valgrind as `make valgrind` runs it: any error, or a definite leak, is
-- exit status 1.
M.VALGRIND = "valgrind -q --error-exitcode=1 --leak-check=full " ..
             "--errors-for-leak-kinds=definite --show-leak-kinds=definite --num-callers=30"

--- The shell command that runs a Lua script of the repository in a child
-- lua5.4 that finds the module in build/ and lua/; 'wrapper' (valgrind...)
-- goes in front of the interpreter.
function M.lua_command(script, args, wrapper)
  local words = {}
  for i, a in ipairs(args or {}) do words[i] = M.shquote(tostring(a)) end
  return "LUA_PATH='lua/?.lua;;' LUA_CPATH='build/?.so;;' " .. (wrapper and wrapper .. " " or "") ..
         "lua5.4 " .. M.shquote(script) .. " " .. table.concat(words, " ")
end

--- Whether this run is itself under valgrind (`make valgrind` sets it).
M.under_valgrind = os.getenv("MC_VALGRIND") ~= nil

return M
