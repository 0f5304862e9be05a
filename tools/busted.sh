#!/bin/sh
# tools/busted.sh: run the specs with busted and end with one honest line
#
#   busted: N passed, N failed, N skipped
#
# computed from busted's own summary ("N successes / N failures / N errors /
# N pending : T seconds"; failed = failures + errors, skipped = pending).
# Exits non-zero when a spec failed or errored, when busted ran no test at
# all, or when busted ended without a summary (then no counts are printed).
#
#   LUA=lua5.4 BUSTED=busted sh tools/busted.sh [busted arguments...]
#   LUA=lua5.4 BUSTED=busted sh tools/busted.sh --each [busted arguments...]
#
# --each runs busted once per spec file, each in a fresh Lua state, and adds
# up their summaries. The files are the arguments that name a file or a
# directory (spec/ when none does); the other arguments go to every run.
# One process for all files is slower: busted keeps every spec's closures
# to the end, and the specs that collect garbage in a loop then walk the
# heap the files before them left (make test took twice the time).

set -u

LUA=${LUA:-lua5.4}
BUSTED=${BUSTED:-busted}

log=$(mktemp "${TMPDIR:-/tmp}/mc-busted-log.XXXXXX") || exit 1
rcfile=$(mktemp "${TMPDIR:-/tmp}/mc-busted-rc.XXXXXX") || exit 1
trap 'rm -f "$log" "$rcfile"' EXIT
trap 'exit 130' INT TERM

esc=$(printf '\033')
passed=0 failed=0 pending=0 broken=""

# run [busted arguments...]: one busted run, its counts added to the totals;
# a run that ends without a summary, or with an exit status its summary does
# not explain, is named in $broken
run() {
  # busted's output goes to the terminal as it runs, and to the log; its
  # exit status survives the pipe through the file (POSIX sh has no pipefail)
  {
    "$BUSTED" --lua="$LUA" -o utfTerminal --lang=en "$@" 2>&1
    echo $? > "$rcfile"
  } | tee "$log"

  rc=$(cat "$rcfile")
  [ -n "$rc" ] || rc=1

  summary=$(sed "s/${esc}\[[0-9;]*m//g" "$log" |
    grep -E '^[0-9]+ success(es)? / [0-9]+ failures? / [0-9]+ errors? / [0-9]+ pending : ' |
    tail -n 1)

  if [ -z "$summary" ]; then
    echo "busted: no summary from busted (exit status $rc): it crashed or could not start" >&2
    broken="${broken:+$broken }${run_name}"
    return
  fi

  # split on blanks: '12 successes / 0 failures / 0 errors / 0 pending : ...'
  set -f
  # shellcheck disable=SC2086
  set -- $summary
  set +f
  passed=$((passed + $1))
  failed=$((failed + $4 + $7))
  pending=$((pending + ${10}))
  if [ $(($4 + $7)) -eq 0 ] && [ "$rc" -ne 0 ]; then
    echo "busted: exit status $rc although its summary shows no failure" >&2
    broken="${broken:+$broken }${run_name}"
  fi
}

if [ "${1:-}" = "--each" ]; then
  shift
  flags="" paths=""
  for a in "$@"; do
    if [ -e "$a" ]; then paths="$paths $a"; else flags="$flags $a"; fi
  done
  files=$(find ${paths:-spec} -name '*_spec.lua' | sort)
  for f in $files; do
    run_name=$f
    # shellcheck disable=SC2086
    run $flags "$f"
  done
else
  run_name="the run"
  run "$@"
fi

if [ -n "$broken" ]; then
  echo "busted: the run is not trusted ($broken); see the output above" >&2
  exit 1
fi

status=0
if [ "$failed" -ne 0 ]; then
  status=1
elif [ "$passed" -eq 0 ]; then
  echo "busted: ran no test" >&2
  status=1
fi

echo "busted: $passed passed, $failed failed, $pending skipped"
exit $status
