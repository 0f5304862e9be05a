-- bench/run.lua: methodcache's benchmarks, printed and saved to bench/results/latest.md,
-- with a chart of them in bench/results/latest.svg (svg.lua).
--
-- Run:  make bench
--   or  ./mchost bench/run.lua
--   or  LUA_PATH='lua/?.lua' LUA_CPATH='build/?.so' lua5.4 bench/run.lua
-- Environment: BENCH_TARGET (seconds per repetition, default 0.2), BENCH_REPS (default 5),
-- BENCH_GC_LIMIT (gc.lua: the weak store stops before a size predicted slower than this
-- many seconds per collection, default 2).
--
-- Each benchmark is a file in bench/ that returns sections (see lib.lua); to add one,
-- add its file name to BENCHMARKS.

local here = (arg and arg[0] and arg[0]:match("^(.*)[/\\]")) or "bench"
local lib = assert(loadfile(here .. "/lib.lua"))()

local BENCHMARKS = {
  "methods.lua",  -- hit, miss+evict, bytes per entry; against hand-written Lua
  "policies.lua", -- every policy at 10^3, 10^5, 10^6 entries
  "gc.lua",       -- full collections with graphs built through cached methods, per store
}

local HIT_TARGET = 1.30 -- issue 2: a hit costs at most 1.3x the hand-written memo
local FAST_TARGET = 1.15 -- issue 7: a hit of policy "fast" at most 1.15x the hand memo,
local FAST_VS_LUALRU = 3 -- and hits and miss+evict at least 3x faster than the Lua LRU

io.stdout:setvbuf("line") -- show each table as soon as it is measured
local t0 = os.clock()
local wall0 = os.time()
local info = lib.sysinfo()
print(string.format("methodcache %s, %s, %s", info.methodcache, info.lua, info.cpu))
print(string.format("best of %d repetitions of ~%.2f s each; CPU time (os.clock)", lib.reps,
  lib.target))
print()

local all, summary = {}, {}
for _, file in ipairs(BENCHMARKS) do
  local sections, s = lib.load(file)
  for _, sec in ipairs(sections) do
    lib.print_section(sec)
    all[#all + 1] = sec
  end
  for k, v in pairs(s or {}) do summary[k] = v end
end

local verdict = {}
if summary.hit_ratio then
  verdict[#verdict + 1] = string.format(
    "hit ratio methodcache/hand-memo = %.2fx (target <= %.2fx)%s", summary.hit_ratio,
    HIT_TARGET, summary.hit_ratio <= HIT_TARGET and "" or "  ** above target **")
end
if summary.hit_vs_lualru then
  verdict[#verdict + 1] = string.format(
    "plain-Lua LRU/methodcache: hit %.2fx, miss+evict %.2fx slower",
    summary.hit_vs_lualru, summary.miss_vs_lualru)
end
if summary.fast_hit_ratio then
  local ok = summary.fast_hit_ratio <= FAST_TARGET and summary.fast_hit_vs_lualru >= FAST_VS_LUALRU
    and summary.fast_miss_vs_lualru >= FAST_VS_LUALRU
  verdict[#verdict + 1] = string.format(
    "policy fast: hit %.2fx the hand memo (target <= %.2fx); plain-Lua LRU/fast: hit %.2fx, "
      .. "miss+evict %.2fx slower (target >= %dx)%s", summary.fast_hit_ratio, FAST_TARGET,
    summary.fast_hit_vs_lualru, summary.fast_miss_vs_lualru, FAST_VS_LUALRU,
    ok and "" or "  ** off target **")
end
if summary.bytes_over_memo then
  verdict[#verdict + 1] = string.format(
    "methodcache uses %.0f bytes per entry more than the hand memo (resident memory)",
    summary.bytes_over_memo)
end
if summary.gc_worst then
  verdict[#verdict + 1] = string.format(
    "full collection, store \"object\": at most %.1fx the uncached graph (target <= %gx)%s; " ..
    "ms per object at 64k / at 1k: chain %.1fx, tree %.1fx",
    summary.gc_worst, summary.gc_target,
    summary.gc_worst <= summary.gc_target and "" or "  ** above target **",
    summary.gc_linear.chain, summary.gc_linear.tree)
end
for _, v in ipairs(verdict) do print(v) end
print(string.format("(whole run: %.1f s of CPU time, about %d s of wall time)", os.clock() - t0,
  os.time() - wall0))

-- The results file.
local md = {
  "# methodcache benchmark results",
  "",
  string.format("- date: %s", info.date),
  string.format("- methodcache: %s", info.methodcache),
  string.format("- Lua: %s", info.lua),
  string.format("- CPU: %s", info.cpu),
  string.format("- method: CPU time (os.clock), best of %d repetitions of ~%.2f s each", lib.reps,
    lib.target),
  "- produced by `bench/run.lua` (`make bench`); numbers from a shared machine vary by 10-20%",
  "- chart of these tables: [latest.svg](latest.svg) (`bench/svg.lua`)",
  "",
}
for _, sec in ipairs(all) do md[#md + 1] = lib.md_section(sec) end
md[#md + 1] = "## Summary"
md[#md + 1] = ""
for _, v in ipairs(verdict) do md[#md + 1] = "- " .. v end
md[#md + 1] = ""

local dir = here .. "/results"
local function save(name, text)
  local path = dir .. "/" .. name
  local f = io.open(path .. ".tmp", "w")
  if not f then
    os.execute("mkdir -p '" .. dir .. "'")
    f = io.open(path .. ".tmp", "w")
  end
  if f then
    f:write(text)
    f:close()
    assert(os.rename(path .. ".tmp", path))
    print("results written to " .. path)
  else
    print("could not write " .. path)
  end
end
save("latest.md", table.concat(md, "\n"))
save("latest.svg", lib.load("svg.lua")(info, all, summary))
