#!/bin/sh
# tools/deps.sh: make sure the tools a make target needs are installed.
#
#   sh tools/deps.sh [build|test|demo|bench|rock|valgrind|asan|fuzz|lint|docs|dist|all]
#   (default: build)
#
# Quiet when everything is there. Otherwise, as root with apt-get, runs
# `apt-get update` once and installs the missing Debian packages; as
# anyone else, prints the exact command to run and exits 1.
# Debian's plain `lua` may be Lua 5.1 (lua-busted pulls it in): methodcache
# is always run with lua5.4, and busted with --lua=lua5.4.

set -u

LUA=${LUA:-lua5.4}
LUA_INCDIR=${LUA_INCDIR:-/usr/include/lua5.4}
what=${1:-build}

case $what in
  build|test|demo|bench|rock|valgrind|asan|fuzz|lint|docs|dist|all) ;;
  *) echo "usage: sh tools/deps.sh [build|test|demo|bench|rock|valgrind|asan|fuzz|lint|docs|dist|all]" >&2
     exit 2 ;;
esac

missing=""
need() {  # need PACKAGE: add it to the list once
  case " $missing " in
    *" $1 "*) ;;
    *) missing="${missing:+$missing }$1" ;;
  esac
}
have() { command -v "$1" >/dev/null 2>&1; }

# a module of the lua5.4 tree, found without loading it
lua_has() {
  have "$LUA" && "$LUA" -e "assert(package.searchpath('$1', package.path) or package.searchpath('$1', package.cpath))" >/dev/null 2>&1
}

check_build() {
  have "$LUA" || need lua5.4
  [ -f "$LUA_INCDIR/lua.h" ] || pkg-config --exists lua5.4 2>/dev/null || need liblua5.4-dev
  have cc || need gcc
  [ -f /usr/include/stdio.h ] || need libc6-dev
  have make || need make
}

check_test() {
  # busted itself, and its modules for Lua 5.4 (not only for 5.1)
  if ! have busted || ! lua_has busted.runner || ! lua_has luassert; then
    need lua-busted
  fi
  check_embed
}

# make test also builds examples/embed with pkg-config (embed-check), runs
# mchost's REPL next to lua5.4's, which has readline (so mchost must have it
# too), and types into both in a terminal (tmux)
check_embed() {
  have pkg-config || need pkg-config
  [ -f /usr/include/readline/readline.h ] || need libreadline-dev
  have tmux || need tmux
}

# clang and its sanitizer runtimes (libclang-rt-dev is only a recommendation
# of clang, and apt-get runs here without recommendations): a program built
# with them links
check_asan() {
  if ! have clang; then
    need clang
    need libclang-rt-dev
  elif ! echo 'int main(void) { return 0; }' |
       clang -fsanitize=address,undefined -x c - -o /dev/null >/dev/null 2>&1; then
    need libclang-rt-dev
  fi
}

# make lint: luacheck; make docs: LDoc and the Markdown module it formats
# with (Debian's, for the Lua 5.1 that runs ldoc); make dist: git archive,
# zip for the .src.rock, luarocks to install it
check_lint() { have luacheck || need lua-check; }
check_docs() {
  have ldoc || need lua-ldoc
  [ -f /usr/share/lua/5.1/markdown.lua ] || need lua-markdown
}
check_dist() {
  have git || need git
  have zip || need zip
  have luarocks || need luarocks
}

# make fuzz: what check-asan needs, and libFuzzer's runtime (same package)
check_fuzz() {
  check_asan
  if have clang && ! echo 'int LLVMFuzzerTestOneInput(void) { return 0; }' |
       clang -fsanitize=fuzzer -x c - -o /dev/null >/dev/null 2>&1; then
    need libclang-rt-dev
  fi
}

check() {
  missing=""
  check_build
  case $what in
    test) check_test ;;
    rock) have luarocks || need luarocks ;;
    valgrind) check_test; have valgrind || need valgrind ;;
    asan) check_test; check_asan ;;
    fuzz) check_fuzz ;;
    lint) check_lint ;;
    docs) check_docs ;;
    dist) check_dist ;;
    all) check_test; have luarocks || need luarocks; have valgrind || need valgrind
         check_lint; check_docs; check_dist ;;
  esac
}

check
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ] && have apt-get; then
  echo "deps.sh: installing $missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || { echo "deps.sh: apt-get update failed" >&2; exit 1; }
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >&2 || {
    echo "deps.sh: apt-get install $missing failed" >&2
    exit 1
  }
  check
  [ -z "$missing" ] && exit 0
  echo "deps.sh: still missing after apt-get install: $missing" >&2
  exit 1
fi

if have apt-get; then
  echo "deps.sh: missing $missing; install them with:" >&2
  echo "  sudo apt-get install -y --no-install-recommends $missing" >&2
else
  echo "deps.sh: missing Debian packages $missing (no apt-get here: install their equivalents)" >&2
fi
exit 1
