/*
** mc_lcore.c: the core userdata ("methodcache.core") and holds.
**
** The core owns a cache's C memory.  It references no Lua value, so its
** finalizer resurrects nothing (docs/DESIGN.md, "Three objects").  Its
** metatable also has __close, which is how an operation holds the cache:
** mc_op_hold pushes the core as a to-be-closed value, so that the hold is
** released when the operation closes the slot and also when an error (out
** of memory) unwinds through it.  Users never see a core, so the __close is
** ours alone.
*/
#include "mc_lua.h"

static void unlink_core(mc_lcore *lc) {
  lc->link.prev->next = lc->link.next;
  lc->link.next->prev = lc->link.prev;
  lc->link.prev = lc->link.next = &lc->link;
}

/* Idempotent: after it the core is closed and acts as an empty cache. */
static int core_gc(lua_State *L) {
  mc_lcore *lc = (mc_lcore *)lua_touserdata(L, 1);
  if (!lc->closed) {
    lc->closed = 1;
    unlink_core(lc);
    mc_lbudget_release(lc, 1);
    mc_cache_free(&lc->c);
  }
  return 0;
}

static int core_close(lua_State *L) {
  mc_lcore *lc = (mc_lcore *)lua_touserdata(L, 1);
  if (!lc->closed)
    mc_cache_unhold(&lc->c);
  return 0;
}

/* Pushes a new core made from 'o'.  While the state closes, the core is
** born closed: Lua would not run its finalizer. */
mc_lcore *mc_lcore_new(lua_State *L, const mc_opts *o) {
  mc_state *st = mc_state_get(L);
  /* user value 1: a method's block (mc_lbudget.c), for its cores */
  mc_lcore *lc = (mc_lcore *)lua_newuserdatauv(L, sizeof(mc_lcore), 1);
  mc_cache_init(&lc->c, NULL, NULL, o->policy, o->maxsize, &st->hkey);
  lc->c.alloc = lua_getallocf(L, &lc->c.aud);
  lc->c.total = &st->bytes;
  if (o->flags & MC_HAS(MC_OPT_GETSIZEOF))
    mc_cache_weigh(&lc->c);
  if (o->seeded)
    mc_cache_seed_rr(&lc->c, (unsigned long long)o->seed);
  lc->state = st;
  lc->epoch = 0;
  lc->closed = st->closing;
  lc->bound = 0;
  lc->typed = o->typed;
  lc->flags = o->flags;
  lc->ttl = o->ttl;
  lc->budget = NULL;
  lc->blink.prev = lc->blink.next = &lc->blink;
  lc->stamp = 0;
  lc->orphaned = 0;
  lc->link.prev = lc->link.next = &lc->link;
  luaL_setmetatable(L, MC_CORE_MT);
  if (!lc->closed) {  /* linked last: nothing above can fail after it */
    lc->link.next = st->cores.next;
    lc->link.prev = &st->cores;
    st->cores.next->prev = &lc->link;
    st->cores.next = &lc->link;
  }
  return lc;
}

/* Holds the cache of the handle at 'hidx' (see mc_cache.h, "Holds"): pushes
** its core as a to-be-closed slot and returns the slot's index. */
int mc_op_hold(lua_State *L, int hidx) {
  mc_lcore *lc;
  luaL_checkstack(L, 2, NULL);
  lua_getiuservalue(L, hidx, MC_UV_CORE);
  lc = (mc_lcore *)lua_touserdata(L, -1);
  if (!lc->closed)
    mc_cache_hold(&lc->c);
  lua_toclose(L, -1);
  return lua_gettop(L);
}

/* Releases the hold of 'slot' and removes the slot from the stack. */
void mc_op_release(lua_State *L, int slot) {
  lua_closeslot(L, slot);
  lua_remove(L, slot);
}

void mc_lcore_open(lua_State *L) {
  if (luaL_newmetatable(L, MC_CORE_MT)) {
    lua_pushcfunction(L, core_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, core_close);
    lua_setfield(L, -2, "__close");
  }
  lua_pop(L, 1);
}
