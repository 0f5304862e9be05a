/*
** mc_core.c: the methodcache.core module, the only luaopen_ of core.so.
** Each concept lives in its own file and adds its functions here.
*/
#include "methodcache.h"
#include "mc_lua.h"

MC_API int luaopen_methodcache_core(lua_State *L) {
  luaL_checkversion(L);
  lua_createtable(L, 0, 16);
  mc_lcache_open(L);
  mc_lmethod_open(L);
  mc_ldebug_open(L);
  lua_pushliteral(L, METHODCACHE_VERSION);
  lua_setfield(L, -2, "version");
  return 1;
}
