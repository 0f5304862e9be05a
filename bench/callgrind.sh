#!/bin/sh
# bench/callgrind.sh: instructions per cache hit, counted by valgrind's callgrind.
#
#   sh bench/callgrind.sh [INTERPRETER]      (default: ./mchost; or lua5.4 with
#                                             LUA_PATH='lua/?.lua' LUA_CPATH='build/?.so')
#   KEYS=int|str|tbl   the argument: 8 integers (default), 8 short strings or 8 tables
#   VARIANTS="memo fast"   which variants of bench/variants.lua (default: all of them)
#
# Wall time on a shared machine moves by 10-20% from run to run; instruction counts do
# not. Each variant runs twice, with N1 and N2 hits; the difference of the two totals
# over N2 - N1 is the cost of one hit, loop included, with start-up and warm-up gone.

set -eu

INTERP=${1:-./mchost}
N1=${N1:-100000}
N2=${N2:-300000}
here=$(dirname "$0")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mc-callgrind.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

command -v valgrind >/dev/null 2>&1 || {
  echo "callgrind.sh: valgrind is not installed (apt-get install valgrind)" >&2
  exit 1
}

# the hit loop of bench/methods.lua, for one variant and n calls
cat > "$tmp/hit.lua" <<'LUA'
local here, variant, n, kind = arg[1], arg[2], math.tointeger(tonumber(arg[3])), arg[4]
local lib = assert(loadfile(here .. "/lib.lua"))()
lib.here = here
local V = lib.load("variants.lua")
local Obj = { m = V.make(variant) }
Obj.__index = Obj
local obj, keys = setmetatable({ k = 1 }, Obj), { 1, 2, 3, 4, 5, 6, 7, 8 }
-- V.raw computes x * 2 + self.k: strings convert, tables convert through __mul
local num = { __mul = function(t, y) return t.x * y end }
for i, x in ipairs(keys) do
  if kind == "str" then keys[i] = tostring(x)
  elseif kind == "tbl" then keys[i] = setmetatable({ x = x }, num) end
end
local s = 0
for i = 1, n do s = s + obj:m(keys[i % 8 + 1]) end
assert(s > 0)
LUA

# total instructions of one run
instructions() {
  valgrind --tool=callgrind --callgrind-out-file="$tmp/out" "$INTERP" "$tmp/hit.lua" \
    "$here" "$1" "$2" "$KEYS" 2> "$tmp/log" > /dev/null || { cat "$tmp/log" >&2; exit 1; }
  sed -n 's/^==[0-9]*== Collected : \([0-9]*\).*/\1/p' "$tmp/log"
}

KEYS=${KEYS:-int}
VARIANTS=${VARIANTS:-uncached memo methodcache fast lualru}
echo "instructions per call (callgrind, $INTERP, $KEYS argument, loop included):"
memo=""
for v in $VARIANTS; do
  a=$(instructions "$v" "$N1")
  b=$(instructions "$v" "$N2")
  per=$(( (b - a) / (N2 - N1) ))
  [ "$v" = memo ] && memo=$per
  if [ -n "$memo" ]; then
    printf '  %-12s %6d   %s\n' "$v" "$per" \
      "$(awk -v a="$per" -v b="$memo" 'BEGIN { printf "%.2fx hand memo", a / b }')"
  else
    printf '  %-12s %6d\n' "$v" "$per"
  fi
done
