#!/bin/sh
# tools/check_exports.sh FILE...: fail unless every symbol that FILE defines
# for other objects is one that csrc/methodcache.h declares MC_API.
#
# Internal functions are hidden by -fvisibility=hidden and by the pragmas of
# the internal headers (which also hold in the LuaRocks build); this checks
# the result: the dynamic symbols of a shared object, the global symbols of
# an archive (the Makefile makes the hidden ones local). With -l, prints
# the exported names instead, one a line.
set -u

list=0
if [ "${1:-}" = "-l" ]; then list=1; shift; fi
header=$(dirname "$0")/../csrc/methodcache.h
api=$(sed -n 's/^MC_API [^(]*[ *]\([A-Za-z_0-9]*\)(.*/\1/p' "$header")

status=0
for f in "$@"; do
  case $f in
    *.a) syms=$(nm -g --defined-only "$f" | awk 'NF == 3 { print $3 }') ;;
    *) syms=$(nm -D --defined-only "$f" | awk 'NF == 3 { print $3 }') ;;
  esac
  if [ "$list" = 1 ]; then
    printf '%s\n' "$syms" | sort -u
    continue
  fi
  extra=$(printf '%s\n' "$syms" | grep -vxF -e "$api" | sort -u)
  if [ -n "$extra" ]; then
    echo "check_exports: $f exports symbols that are not MC_API:" $extra >&2
    status=1
  fi
done
exit $status
