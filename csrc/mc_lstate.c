/*
** mc_lstate.c: what methodcache keeps once per lua_State.
**
** A userdata in the registry ("methodcache.state") holds the C memory
** counter of all caches, the list of cores whose C memory is not freed
** yet, and the secret key of the key hash (mc_secret.c), copied into each
** cache.  Its __gc runs only at lua_close (the registry is never collected
** before), and that is its job: during lua_close Lua registers no new
** finalizer, so a cache made then by another object's __gc (a cached method
** called from a finalizer) would never be freed.  The state's __gc frees
** every core still in the list and marks the state closing, after which
** new cores take no C memory at all.
*/
#include "mc_lua.h"

static const char state_key = 's';   /* registry: the mc_state userdata */
static const char weakk_key = 'k';   /* registry: metatable {__mode="k"} */
static const char weakv_key = 'v';   /* registry: metatable {__mode="v"} */

mc_state *mc_state_get(lua_State *L) {
  mc_state *st;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &state_key);
  st = (mc_state *)lua_touserdata(L, -1);
  lua_pop(L, 1);
  return st;
}

void mc_pushweak(lua_State *L, int mode) {
  lua_createtable(L, 0, 0);
  mc_setweak(L, -1, mode);
}

/* Raw: allocates nothing, so it may run where a core pointer is held. */
void mc_setweak(lua_State *L, int idx, int mode) {
  idx = lua_absindex(L, idx);
  lua_rawgetp(L, LUA_REGISTRYINDEX, mode == 'k' ? &weakk_key : &weakv_key);
  lua_setmetatable(L, idx);
}

static int state_gc(lua_State *L) {
  mc_state *st = (mc_state *)lua_touserdata(L, 1);
  st->closing = 1;
  while (st->cores.next != &st->cores) {
    mc_lcore *lc = (mc_lcore *)(void *)((char *)st->cores.next -
                                        offsetof(mc_lcore, link));
    st->cores.next = lc->link.next;
    lc->link.next->prev = &st->cores;
    lc->link.prev = lc->link.next = &lc->link;
    lc->closed = 1;
    mc_lbudget_release(lc, 0);
    mc_cache_free(&lc->c);
  }
  return 0;
}

/* methodcache.memory(): bytes of C memory held by all caches of this
** state, which collectgarbage("count") does not include. */
static int l_memory(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)mc_state_get(L)->bytes);
  return 1;
}

static void newweakmeta(lua_State *L, const char *mode, const void *key) {
  lua_createtable(L, 0, 1);
  lua_pushstring(L, mode);
  lua_setfield(L, -2, "__mode");
  lua_rawsetp(L, LUA_REGISTRYINDEX, key);
}

/* Stack: the module table.  Idempotent: a second luaopen in the same state
** keeps the state's data. */
void mc_state_open(lua_State *L) {
  newweakmeta(L, "k", &weakk_key);
  newweakmeta(L, "v", &weakv_key);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &state_key) != LUA_TUSERDATA) {
    mc_state *st = (mc_state *)lua_newuserdatauv(L, sizeof(mc_state), 0);
    st->bytes = 0;
    mc_secret_fill(&st->hkey);
    st->closing = 0;
    st->cores.prev = st->cores.next = &st->cores;
    if (luaL_newmetatable(L, MC_STATE_MT)) {
      lua_pushcfunction(L, state_gc);
      lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &state_key);
  }
  lua_pop(L, 1);
  lua_pushcfunction(L, l_memory);
  lua_setfield(L, -2, "memory");
}
