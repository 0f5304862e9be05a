/*
** mc_ldebug.c: introspection for the specs, not part of the API (the names
** start with '_' and docs/API.md does not list them).
**
**   core._chains(c) -> longest, probes, count
**     the longest hash chain of cache c, the key comparisons that finding
**     each of its entries once takes, and the number of entries: probes /
**     count is the mean cost of a lookup, so a spec can show that a lookup
**     stays O(1) on hostile keys without timing anything.
*/
#include "mc_lua.h"

static int d_chains(lua_State *L) {
  mc_handle *h = mc_lcache_test(L, 1);
  size_t longest = 0, probes = 0, count = 0;
  luaL_argexpected(L, h != NULL, 1, "methodcache cache");
  if (!h->core->closed) {
    mc_cache_chains(&h->core->c, &longest, &probes);
    count = h->core->c.count;
  }
  lua_pushinteger(L, (lua_Integer)longest);
  lua_pushinteger(L, (lua_Integer)probes);
  lua_pushinteger(L, (lua_Integer)count);
  return 3;
}

static const luaL_Reg debug_funcs[] = {
  {"_chains", d_chains},
  {NULL, NULL}
};

/* Stack: the module table.  Adds the functions to it. */
int mc_ldebug_open(lua_State *L) {
  luaL_setfuncs(L, debug_funcs, 0);
  return 0;
}
