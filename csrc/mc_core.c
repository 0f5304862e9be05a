/*
** mc_core.c: the methodcache module, the only luaopen_ of core.so.
** Each concept lives in its own file and adds its functions here.
**
** The table it returns is the whole module: require("methodcache") gives
** the same one (lua/methodcache.lua, luaopen_methodcache in mc_embed.c).
** It is built in C, decorator included, so that it needs no library of the
** state it is opened in: an embedder may open it before luaL_openlibs, or
** in a state that never opens one.
*/
#include "methodcache.h"
#include "mc_lua.h"

/* methodcache(factory)(fn): upvalue 1 is the factory */
static int decorator(lua_State *L) {
  lua_settop(L, 1);
  lua_pushvalue(L, lua_upvalueindex(1));
  return mc_lmethod_decorate(L);  /* (fn, factory) */
}

/* __call of the module: methodcache(factory); the factory may be any
** callable value, as the function of methodcache.method */
static int module_call(lua_State *L) {
  if (!mc_iscallable(L, 2))
    mc_argerror(L, 1, "methodcache", "cache factory function expected, "
                "got %s", luaL_typename(L, 2));
  lua_settop(L, 2);
  lua_pushcclosure(L, decorator, 1);
  return 1;
}

MC_API int luaopen_methodcache_core(lua_State *L) {
  luaL_checkversion(L);
  lua_createtable(L, 0, 20);
  mc_lcache_open(L);
  mc_lmethod_open(L);
  mc_lstats_open(L);
  mc_ldebug_open(L);
  lua_pushliteral(L, METHODCACHE_VERSION);
  lua_setfield(L, -2, "version");
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, module_call);
  lua_setfield(L, -2, "__call");
  lua_setmetatable(L, -2);
  return 1;
}
