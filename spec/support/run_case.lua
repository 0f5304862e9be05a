-- Runs one case of spec/support/finalizer_cases.lua in a fresh state, with
-- the collector as eager as it goes (spec/safety_spec.lua runs it under
-- valgrind).  From the repository root:
--   LUA_PATH='lua/?.lua;;' LUA_CPATH='build/?.so;;' \
--     lua5.4 spec/support/run_case.lua CASE incremental|generational [SCALE]
local cases = require("spec.support.finalizer_cases")
local H = require("spec.support.helpers")

local name, mode = arg[1], arg[2]
local scale = math.tointeger(tonumber(arg[3] or "1"))
assert(cases[name] and (mode == "incremental" or mode == "generational") and scale,
       "usage: run_case.lua CASE incremental|generational [SCALE]")
H.eager_gc(mode)
local counts = cases[name](scale)
print(("%s (%s): %d finalizers ran, %d inside an operation")
      :format(name, mode, counts.fin, counts.nested))
