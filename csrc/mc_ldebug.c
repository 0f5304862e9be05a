/*
** mc_ldebug.c: introspection for the specs, not part of the API (the names
** start with '_' and docs/API.md does not list them).
**
**   core._check(c) -> true | false, why
**     mc_cache_check: every invariant of the C core (counts, weights,
**     links, policy order, nodes, holds), O(size of the cache).
**   core._entries(c) -> a list describing every entry (see d_entries)
**   core._chains(c) -> longest, probes, count
**     the longest hash chain of cache c, the key comparisons that finding
**     each of its entries once takes, and the number of entries: probes /
**     count is the mean cost of a lookup, so a spec can show that a lookup
**     stays O(1) on hostile keys without timing anything.
**   core._budget(f) -> true, entries, size | false, why
**     for a method with option total: mc_budget_check, and that the caches
**     listed under the budget hold the entries of its order (those of dead
**     objects whose finalizers have not run yet included: unlike info, it
**     sweeps nothing).
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

/* core._entries(c) -> a list of {node = state or false, intable = bool,
** found = bool (its table is in the map), vtag = n} for every entry */
static int d_entries(lua_State *L) {
  mc_handle *h = mc_lcache_test(L, 1);
  mc_cache *c;
  mc_entry *e;
  int i = 0;
  luaL_argexpected(L, h != NULL, 1, "methodcache cache");
  lua_settop(L, 1);
  lua_newtable(L);
  if (h->core->closed)
    return 1;
  c = &h->core->c;
  for (e = mc_cache_next(c, NULL); e != NULL; e = mc_cache_next(c, e)) {
    mc_node *n = mc_entry_node(c, e);
    lua_createtable(L, 0, 4);
    if (n)
      lua_pushinteger(L, n->state);
    else
      lua_pushboolean(L, 0);
    lua_setfield(L, -2, "node");
    lua_pushinteger(L, e->vtag);
    lua_setfield(L, -2, "vtag");
    lua_pushfstring(L, "%p", (void *)n);
    lua_setfield(L, -2, "nodeaddr");
    lua_pushinteger(L, mc_entry_live(e) ? MC_ENTRY_LIVE : MC_ENTRY_DETACHED);
    lua_setfield(L, -2, "state");
    mc_lkey_push(L, 1, e);
    lua_setfield(L, -2, "key");
    lua_pushboolean(L, mc_lnode_push(L, 1, n));
    lua_setfield(L, -3, "found");
    lua_pop(L, 1);
    lua_rawseti(L, 2, ++i);
  }
  return 1;
}

/* core._check(c) -> true, or false and the first broken invariant of the
** C core (mc_cache_check); a finalized cache is trivially fine */
static int d_check(lua_State *L) {
  mc_handle *h = mc_lcache_test(L, 1);
  char why[256];
  luaL_argexpected(L, h != NULL, 1, "methodcache cache");
  if (h->core->closed || mc_cache_check(&h->core->c, why, sizeof(why))) {
    lua_pushboolean(L, 1);
    return 1;
  }
  lua_pushboolean(L, 0);
  lua_pushstring(L, why);
  return 2;
}

static int d_budget(lua_State *L) {
  mc_method *m = NULL;
  char why[256];
  long long count = 0, held = 0, size = 0;
  mc_link *l;
  if (lua_iscfunction(L, 1) && lua_getupvalue(L, 1, 1) != NULL &&
      lua_islightuserdata(L, -1) && lua_getupvalue(L, 1, 5) != NULL &&
      lua_touserdata(L, -1) == lua_touserdata(L, -2))
    m = (mc_method *)lua_touserdata(L, -1);
  luaL_argexpected(L, m != NULL && m->budget != NULL &&
                   m->budget->total >= 0, 1, "method with option total");
  lua_pushboolean(L, 0);
  if (!mc_budget_check(m->budget, &count, why, sizeof(why))) {
    lua_pushstring(L, why);
    return 2;
  }
  for (l = m->budget->cores.next; l != &m->budget->cores; l = l->next) {
    mc_lcore *lc = (mc_lcore *)(void *)((char *)l -
                                        offsetof(mc_lcore, blink));
    if (lc->closed || lc->c.budget != m->budget) {
      lua_pushliteral(L, "a closed or foreign core is listed");
      return 2;
    }
    held += (long long)lc->c.count;
    size += lc->c.currsize;
  }
  if (held != count || size != m->budget->size) {
    lua_pushfstring(L, "the caches hold %I entries of weight %I, the order "
                    "%I of weight %I", (LUAI_UACINT)held, (LUAI_UACINT)size,
                    (LUAI_UACINT)count, (LUAI_UACINT)m->budget->size);
    return 2;
  }
  lua_pushboolean(L, 1);
  lua_pushinteger(L, (lua_Integer)count);
  lua_pushinteger(L, (lua_Integer)m->budget->size);
  return 3;
}

static const luaL_Reg debug_funcs[] = {
  {"_budget", d_budget},
  {"_check", d_check},
  {"_chains", d_chains},
  {"_entries", d_entries},
  {NULL, NULL}
};

/* Stack: the module table.  Adds the functions to it. */
int mc_ldebug_open(lua_State *L) {
  luaL_setfuncs(L, debug_funcs, 0);
  return 0;
}
