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

set -u

LUA=${LUA:-lua5.4}
BUSTED=${BUSTED:-busted}

log=$(mktemp "${TMPDIR:-/tmp}/mc-busted-log.XXXXXX") || exit 1
rcfile=$(mktemp "${TMPDIR:-/tmp}/mc-busted-rc.XXXXXX") || exit 1
trap 'rm -f "$log" "$rcfile"' EXIT
trap 'exit 130' INT TERM

# busted's output goes to the terminal as it runs, and to the log; its exit
# status survives the pipe through the file (POSIX sh has no pipefail)
{
  "$BUSTED" --lua="$LUA" -o utfTerminal --lang=en "$@" 2>&1
  echo $? > "$rcfile"
} | tee "$log"

rc=$(cat "$rcfile")
[ -n "$rc" ] || rc=1

esc=$(printf '\033')
summary=$(sed "s/${esc}\[[0-9;]*m//g" "$log" |
  grep -E '^[0-9]+ success(es)? / [0-9]+ failures? / [0-9]+ errors? / [0-9]+ pending : ' |
  tail -n 1)

if [ -z "$summary" ]; then
  echo "busted: no summary from busted (exit status $rc): it crashed or could not start" >&2
  exit 1
fi

# split on blanks: '12 successes / 0 failures / 0 errors / 0 pending : ...'
set -f
# shellcheck disable=SC2086
set -- $summary
passed=$1 failures=$4 errors=$7 pending=${10}
failed=$((failures + errors))

status=0
if [ "$failed" -ne 0 ]; then
  status=1
elif [ "$rc" -ne 0 ]; then
  echo "busted: exit status $rc although its summary shows no failure" >&2
  echo "busted: the run is not trusted; see the output above" >&2
  exit 1
elif [ "$passed" -eq 0 ]; then
  echo "busted: ran no test" >&2
  status=1
fi

echo "busted: $passed passed, $failed failed, $pending skipped"
exit $status
