--- Per-object method caches that never keep objects alive.
--
-- `require("methodcache")` returns the table of the C module
-- `methodcache.core` (csrc/mc_core.c builds all of it, the
-- `methodcache(factory)` decorator included, so that C programs can open it
-- in a state with no library open). This file is what LUA_PATH finds; C
-- programs linked with libmethodcache get the same table from
-- `luaopen_methodcache`. See README.md and docs/API.md.
-- @module methodcache
return require("methodcache.core")
