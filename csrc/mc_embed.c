/*
** mc_embed.c: methodcache for embedders and mchost.
**
** Owns luaopen_methodcache and methodcache_openlibs.  Both need nothing of
** the state: the module is built in C (mc_core.c), and the loaded and
** preload tables live in the registry, where luaL_openlibs finds them
** later.  Not part of the core.so that Lua loads from LUA_CPATH: there,
** lua/methodcache.lua plays the part of luaopen_methodcache.
*/

#include "lua.h"
#include "lauxlib.h"

#include "methodcache.h"

/* The same table as methodcache.core, which it registers as loaded (as
** require would), so that require("methodcache.core") finds it whatever
** the state has opened. */
MC_API int luaopen_methodcache(lua_State *L) {
  luaL_requiref(L, "methodcache.core", luaopen_methodcache_core, 0);
  return 1;
}

MC_API void methodcache_openlibs(lua_State *L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_methodcache_core);
  lua_setfield(L, -2, "methodcache.core");
  lua_pushcfunction(L, luaopen_methodcache);
  lua_setfield(L, -2, "methodcache");
  lua_pop(L, 1);
}
