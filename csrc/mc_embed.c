/*
** mc_embed.c: methodcache for embedders and mchost.
**
** Owns luaopen_methodcache, methodcache_openlibs and methodcache_stats.
** They need nothing of the state: the module is built in C (mc_core.c),
** and the loaded and preload tables live in the registry, where
** luaL_openlibs finds them later.  Not part of the core.so that Lua loads
** from LUA_CPATH, which exports luaopen_methodcache_core alone: there,
** lua/methodcache.lua plays the part of luaopen_methodcache.
*/

#include "methodcache.h"
#include "mc_lua.h"

/* The same table as methodcache.core, which it registers as loaded (as
** require would), so that require("methodcache.core") finds it whatever
** the state has opened. */
MC_API int luaopen_methodcache(lua_State *L) {
  luaL_requiref(L, "methodcache.core", luaopen_methodcache_core, 0);
  return 1;
}

/* methodcache.cqueues, the cqueues waiting of option coalesce: the
** table methodcache.coalesce.cqueues (lua/methodcache/cqueues.lua on
** LUA_PATH) */
static int open_cqueues(lua_State *L) {
  luaL_requiref(L, "methodcache.core", luaopen_methodcache_core, 0);
  lua_getfield(L, -1, "coalesce");
  lua_getfield(L, -1, "cqueues");
  return 1;
}

MC_API void methodcache_openlibs(lua_State *L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_methodcache_core);
  lua_setfield(L, -2, "methodcache.core");
  lua_pushcfunction(L, luaopen_methodcache);
  lua_setfield(L, -2, "methodcache");
  lua_pushcfunction(L, open_cqueues);
  lua_setfield(L, -2, "methodcache.cqueues");
  lua_pop(L, 1);
}


typedef struct visitor {
  methodcache_stats_fn fn;
  void *ud;
  int n;
} visitor;

static int pvisit(lua_State *L) {
  visitor *v = (visitor *)lua_touserdata(L, 1);
  lua_pop(L, 1);
  v->n = mc_lstats_visit(L, v->fn, v->ud);
  return 0;
}

/* The walk of mc_lstats.c in a protected call: a C caller gets -1 for an
** error, not a longjmp. */
MC_API int methodcache_stats(lua_State *L, methodcache_stats_fn fn,
                             void *ud) {
  visitor v;
  int top = lua_gettop(L);
  if (!lua_checkstack(L, 2))
    return -1;
  v.fn = fn;
  v.ud = ud;
  v.n = -1;
  lua_pushcfunction(L, pvisit);
  lua_pushlightuserdata(L, &v);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    lua_settop(L, top);
    return -1;
  }
  return v.n;
}
