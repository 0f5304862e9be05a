/*
** mc_embed.c: methodcache for embedders and mchost.
**
** Owns luaopen_methodcache (the Lua layer, lua/methodcache.lua, compiled
** into the library as bytes by tools/embed.lua into build/mc_lualayer.h)
** and methodcache_openlibs, which preloads both modules so that
** require("methodcache") needs neither LUA_PATH nor LUA_CPATH.
** Not part of the methodcache.core shared object: the Lua layer of that
** build is found on LUA_PATH like any other module.
*/

#include "lua.h"
#include "lauxlib.h"

#include "methodcache.h"
#include "mc_lualayer.h"

/*
** require("methodcache") calls this with the module name (and the loader
** data) as arguments; the chunk gets the same arguments, as it would from
** the searcher that finds lua/methodcache.lua on LUA_PATH.
*/
MC_API int luaopen_methodcache(lua_State *L) {
  int nargs = lua_gettop(L);
  int status = luaL_loadbufferx(L, mc_lualayer, MC_LUALAYER_LEN,
                                "@lua/methodcache.lua", "t");
  if (status != LUA_OK)
    return lua_error(L);
  lua_insert(L, 1);                        /* chunk below its arguments */
  if (nargs == 0) {                        /* called directly from C */
    lua_pushliteral(L, "methodcache");
    nargs = 1;
  }
  lua_call(L, nargs, 1);
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
