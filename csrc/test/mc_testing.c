/*
** mc_testing.c: methodcache.testing, a module for the specs only (built by
** the test targets into build/methodcache/testing.so, never installed nor
** part of the rock).
**
** testing.failafter(n) makes allocations fail: from the n-th next one that
** grows memory (a new block, or a realloc to a larger size), every one is
** refused until testing.failafter(nil).  Shrinks and frees always go
** through: Lua assumes they cannot fail.  spec/oom_spec.lua uses it to
** check that running out of memory anywhere in an operation ends in a
** clean "not enough memory" error that leaves the caches consistent.
**
** It works by wrapping the state's allocator (lua_setallocf) once, when the
** module is first loaded in a state.  Caches keep the allocator they saw at
** creation (mc_cache.alloc, .aud), so the wrapper must stay valid and keep
** forwarding for the rest of the state's life: its state is a userdata in
** the registry (no C globals: many states may run at once), which is freed
** only by lua_close, after every finalizer ran.  Its __gc runs at
** lua_close, before any object is freed, and gives the state back the
** allocator it had, because lua_close frees its last blocks (the string
** table, the stack, the state itself) after the userdata is gone.
*/
#include "lua.h"
#include "lauxlib.h"

#include "methodcache.h"

#define FAILER_MT "methodcache.testing.failer"

static const char failer_key = 'f';   /* registry: this state's failer */

typedef struct failer {
  lua_Alloc f;              /* the allocator wrapped */
  void *ud;
  lua_Integer left;         /* growths still allowed; -1: no limit */
  lua_Integer refused;      /* growths refused since the last failafter */
} failer;

static void *failalloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  failer *fl = (failer *)ud;
  /* for a new block (ptr == NULL) osize is a type tag, not a size */
  int grows = nsize > 0 && (ptr == NULL || nsize > osize);
  if (grows && fl->left >= 0) {
    if (fl->left == 0) {
      fl->refused++;
      return NULL;
    }
    fl->left--;
  }
  return fl->f(fl->ud, ptr, osize, nsize);
}

static int failer_gc(lua_State *L) {
  failer *fl = (failer *)lua_touserdata(L, 1);
  void *ud;
  if (lua_getallocf(L, &ud) == failalloc && ud == fl)
    lua_setallocf(L, fl->f, fl->ud);
  fl->left = -1;  /* memory taken through it may still be freed through it */
  return 0;
}

/* The failer of this state, installing it on first use. */
static failer *getfailer(lua_State *L) {
  failer *fl;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &failer_key) == LUA_TUSERDATA) {
    fl = (failer *)lua_touserdata(L, -1);
    lua_pop(L, 1);
    return fl;
  }
  lua_pop(L, 1);
  fl = (failer *)lua_newuserdatauv(L, sizeof(failer), 0);
  fl->f = lua_getallocf(L, &fl->ud);
  fl->left = -1;
  fl->refused = 0;
  if (luaL_newmetatable(L, FAILER_MT)) {
    lua_pushcfunction(L, failer_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &failer_key);
  lua_setallocf(L, failalloc, fl);
  return fl;
}

/* failafter(n): the n-th next growth and all later ones fail (n >= 1);
** failafter(nil): none fails.  Returns how many were refused under the
** previous setting, so a caller can tell whether a run met a failure. */
static int t_failafter(lua_State *L) {
  failer *fl = (failer *)lua_touserdata(L, lua_upvalueindex(1));
  lua_Integer refused = fl->refused;
  lua_Integer left = -1;
  if (!lua_isnoneornil(L, 1)) {
    lua_Integer n = luaL_checkinteger(L, 1);
    luaL_argcheck(L, n >= 1, 1, "a count of allocations (1 or more) expected");
    left = n - 1;
  }
  /* nothing below allocates, so the new limit cannot cut this call short */
  fl->left = left;
  fl->refused = 0;
  lua_pushinteger(L, refused);
  return 1;
}

MC_API int luaopen_methodcache_testing(lua_State *L);

MC_API int luaopen_methodcache_testing(lua_State *L) {
  luaL_checkversion(L);
  lua_createtable(L, 0, 1);
  getfailer(L);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &failer_key);
  lua_pushcclosure(L, t_failafter, 1);
  lua_setfield(L, -2, "failafter");
  return 1;
}
