-- bench/gc.lua: the time of a full collection (collectgarbage(), incremental mode) with a
-- graph of objects alive that was built through cached methods, for the two stores of
-- methodcache.method against the same graph held by plain fields. Each point is a
-- process of its own (gcgraph.lua). Loaded by run.lua; returns its sections, a summary,
-- and the curves for the chart.
--
-- chain: node:next() returns a new node (a lazy list); tree: node:child(i), i = 1, 2,
-- built breadth first (a binary tree). The weak store's chain grows quadratically: a
-- size is skipped when 4 times the time of the size before (what a doubling costs a
-- quadratic curve) is more than BENCH_GC_LIMIT seconds per collection (default 2).

local lib = ...

local SIZES = { 1000, 2000, 4000, 8000, 16000, 32000, 64000 }
local STORES = { "uncached", "object", "weak" }
local SHAPES = { "chain", "tree" }
local LIMIT = tonumber(os.getenv("BENCH_GC_LIMIT")) or 2
local TARGET = 3 -- issue 7: store "object" within 3x of the uncached graph

local function point(shape, store, n, reps)
  local env = ""
  if lib.interpreter():match("lua[%d.]*$") then -- plain lua: find the module here
    env = "LUA_PATH='lua/?.lua;;' LUA_CPATH='build/?.so;;' "
  end
  local cmd = ("%s%s %s %s %s %d %d"):format(env, lib.quote(lib.interpreter()),
    lib.quote(lib.here .. "/gcgraph.lua"), shape, store, n, reps)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  p:close()
  local ms, bytes = out:match("^(%S+) (%S+)")
  assert(ms, "gcgraph.lua failed: " .. cmd .. "\n" .. out)
  return tonumber(ms), tonumber(bytes)
end

local function ms3(v) return string.format("%.3g", v) end

local sections, curves = {}, {}
local worst, linear = 0, {}
for _, shape in ipairs(SHAPES) do
  local rows, ms, bytes, skipped = {}, {}, {}, {}
  for _, store in ipairs(STORES) do
    ms[store], bytes[store] = {}, {}
    local last
    for _, n in ipairs(SIZES) do
      if store == "weak" and last and 4 * last > LIMIT * 1e3 then
        skipped[#skipped + 1] = tostring(n)
      else
        -- a collection of the slow store's large graphs takes seconds: fewer repetitions
        local reps = (last and last > 100) and 3 or 7
        ms[store][n], bytes[store][n] = point(shape, store, n, reps)
        last = ms[store][n]
      end
    end
  end
  for _, n in ipairs(SIZES) do
    local u, o, w = ms.uncached[n], ms.object[n], ms.weak[n]
    worst = math.max(worst, o / u)
    rows[#rows + 1] = { n, ms3(u), ms3(o), lib.ratio(o / u), w and ms3(w) or "skipped",
      w and lib.ratio(w / u) or "-", bytes.uncached[n], bytes.object[n] }
  end
  local first, last = SIZES[1], SIZES[#SIZES]
  linear[shape] = (ms.object[last] / last) / (ms.object[first] / first)
  local notes = {
    "median of 7 collections (3 once one takes over 0.1 s), each size in a fresh process;",
    "uncached: the same nodes held by plain fields; B/object: Lua heap + methodcache.memory()",
  }
  if #skipped > 0 then
    notes[#notes + 1] = ("store weak not measured at %s objects: 4 times the time of the " ..
      "size before (a doubling of a quadratic curve) is over %g s per collection " ..
      "(BENCH_GC_LIMIT)"):format(table.concat(skipped, ", "), LIMIT)
  end
  sections[#sections + 1] = {
    title = ("Full collection with a %s alive, ms per collectgarbage()"):format(
      shape == "chain" and "chain built by node:next()" or "binary tree built by node:child(i)"),
    headers = { "objects", "uncached", "store object", "x uncached", "store weak", "x uncached",
      "B/object uncached", "B/object cached" },
    rows = rows,
    notes = notes,
  }
  for _, store in ipairs(STORES) do
    local pts = {}
    for _, n in ipairs(SIZES) do
      if ms[store][n] then pts[#pts + 1] = { n, ms[store][n] } end
    end
    curves[#curves + 1] = { shape = shape, store = store, points = pts }
  end
end
return sections, {
  gc_worst = worst, gc_target = TARGET, gc_linear = linear, gc_curves = curves,
}
