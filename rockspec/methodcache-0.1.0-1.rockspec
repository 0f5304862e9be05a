-- The 0.1.0 release: `make dist` packs it with its source tarball into
-- dist/methodcache-0.1.0-1.src.rock, which installs offline:
--   luarocks --lua-version 5.4 install dist/methodcache-0.1.0-1.src.rock
-- It differs from methodcache-scm-1.rockspec only in version and source
-- (spec/release_spec.lua checks that).
rockspec_format = "3.0"
package = "methodcache"
version = "0.1.0-1"
source = {
  -- the tarball that `make dist` makes (git archive of the release commit).
  -- The .src.rock carries it, so installing the rock never fetches this
  -- URL: set it to where the tarball is published before uploading.
  url = "https://example.invalid/methodcache/methodcache-0.1.0.tar.gz",
  dir = "methodcache-0.1.0",
}
description = {
  summary = "Memoize object methods without keeping the objects alive",
  detailed = [[
methodcache caches the results of methods per object, in C caches (LRU,
LFU, FIFO, RR, TTL, TLRU, unbounded) held in weak-keyed tables: an object
whose last outside reference is dropped is collected with its cache, even
when a cached value refers back to it.
]],
  license = "MIT",  -- see LICENSE
  labels = { "cache", "memoize", "lru", "weak" },
}
dependencies = {
  "lua >= 5.4, < 5.5",
}
-- `luarocks test` builds with the Makefile and runs `make test` (busted, the
-- specs but those tagged #slow); `luarocks test -- test-long` runs those too.
-- No test_dependencies: Debian's busted is not a rock, and make test checks
-- for it (tools/deps.sh).
test = {
  type = "command",
  command = "make test",
}
build = {
  type = "builtin",
  modules = {
    ["methodcache.core"] = {
      sources = {
        "csrc/mc_core.c",
        "csrc/mc_budget.c",
        "csrc/mc_cache.c",
        "csrc/mc_clock.c",
        "csrc/mc_key.c",
        "csrc/mc_check.c",
        "csrc/mc_lbudget.c",
        "csrc/mc_lcache.c",
        "csrc/mc_lcore.c",
        "csrc/mc_lkey.c",
        "csrc/mc_lmethod.c",
        "csrc/mc_lcoalesce.c",
        "csrc/mc_lfast.c",
        "csrc/mc_lnode.c",
        "csrc/mc_lop.c",
        "csrc/mc_lopts.c",
        "csrc/mc_lstate.c",
        "csrc/mc_lstats.c",
        "csrc/mc_lvalue.c",
        "csrc/mc_ldebug.c",
        "csrc/mc_secret.c",
      },
      incdirs = { "csrc" },
    },
    methodcache = "lua/methodcache.lua",
    ["methodcache.cqueues"] = "lua/methodcache/cqueues.lua",
  },
  -- into the rock's directory (`luarocks doc methodcache` lists docs/):
  -- docs/ (API.md, DESIGN.md, LAYOUT.md), types/methodcache.lua (the LuaLS
  -- definitions), and README.md beside them as in the source tree.  The
  -- builtin build has no install category for documents: conf files go to
  -- the rock's conf/, so "../README.md" lands in the rock's directory.
  copy_directories = { "docs", "types" },
  install = {
    conf = { ["../README.md"] = "README.md" },
  },
}
