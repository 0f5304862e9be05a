/*
** mc_lbudget.c: what a cached method shares with its per-object cores.
**
** The block (mc_budget.h) lives in a userdata with no finalizer, user value
** 2 of the method's userdata and user value 1 of each of its cores, so it
** outlives every one of them whatever order the collector (or lua_close)
** frees them in: a core's __gc reaches it through a reference the core
** itself keeps alive, never through the method, which may be gone.  It
** counts the caches the collector freed (info(f).collected) and, with
** option total, holds the budget across objects.
**
** Evicting another object's entry needs that object's cache handle: its
** values live in the handle's tables.  User value 1 of a budget's userdata
** is a weak-valued table, core address -> handle ("live").  A handle leaves
** it in the collection that finds its object dead, before the core's __gc
** runs; so a core of the budget whose handle is not there belongs to a dead
** object (or to one being finalized: Lua takes those out of weak values
** too), and its entries are "orphaned": they leave the cache and the budget
** at once, without notices (their values cannot be reached), before any
** entry of a live object.  Its handle, should its object come back to life,
** starts afresh at its next store (mc_lbudget_prestore).
*/
#include "mc_lua.h"

#define core_of_blink(l)  ((mc_lcore *)(void *)((char *)(l) - \
                                                offsetof(mc_lcore, blink)))

/* Stack: the method's userdata at 'midx'.  Makes its block (and, with a
** budget, the table of live handles). */
void mc_lbudget_new(lua_State *L, mc_method *m, int midx) {
  mc_budget *b;
  midx = lua_absindex(L, midx);
  b = (mc_budget *)lua_newuserdatauv(L, sizeof(mc_budget), 1);
  mc_budget_init(b, m->o.total);
  if (m->o.total >= 0) {
    mc_pushweak(L, 'v');
    lua_setiuservalue(L, -2, 1);
  }
  lua_setiuservalue(L, midx, MC_METHOD_UV_BUDGET);
  m->budget = b;
}

/* Pushes the table of live handles of the budget of the core of the handle
** at 'hidx'.  Raw reads only. */
static void pushlive(lua_State *L, int hidx) {
  lua_getiuservalue(L, hidx, MC_UV_CORE);
  lua_getiuservalue(L, -1, 1);                          /* the budget */
  lua_getiuservalue(L, -1, 1);                          /* live */
  lua_replace(L, -3);
  lua_pop(L, 1);
}

/* The new cache of the handle at 'hidx' joins the method at 'midx'. */
void mc_lbudget_bind(lua_State *L, int midx, int hidx) {
  mc_method *m = (mc_method *)lua_touserdata(L, midx);
  mc_handle *h = (mc_handle *)lua_touserdata(L, hidx);
  mc_lcore *lc = h->core;
  mc_budget *b = m->budget;
  if (b == NULL || lc->closed)
    return;
  luaL_checkstack(L, 3, NULL);
  lua_getiuservalue(L, hidx, MC_UV_CORE);
  lua_getiuservalue(L, midx, MC_METHOD_UV_BUDGET);
  lua_setiuservalue(L, -2, 1);  /* the core keeps the block alive */
  lua_pop(L, 1);
  lc->budget = b;
  lc->stamp = b->stamp;  /* made during info's walk: seen */
  lc->blink.prev = b->cores.prev;
  lc->blink.next = &b->cores;
  b->cores.prev->next = &lc->blink;
  b->cores.prev = &lc->blink;
  if (b->total >= 0) {
    mc_budget_attach(b, &lc->c);
    pushlive(L, hidx);
    lua_pushvalue(L, hidx);
    lua_rawsetp(L, -2, lc);  /* may grow the table: nothing is held */
    lua_pop(L, 1);
  }
}

/* The core's C memory goes (its __gc, or lua_close): it leaves the list. */
void mc_lbudget_release(mc_lcore *lc, int collected) {
  mc_budget *b = lc->budget;
  if (b == NULL)
    return;
  if (b->cursor == &lc->blink)
    b->cursor = lc->blink.next;
  lc->blink.prev->next = lc->blink.next;
  lc->blink.next->prev = lc->blink.prev;
  lc->blink.prev = lc->blink.next = &lc->blink;
  b->collected += collected;
}

/* Its entries go from the cache and the budget; raw C, and safe under a
** hold (mc_cache_clear detaches what is held). */
static void orphan(mc_lcore *x) {
  mc_cache_clear(&x->c);
  x->orphaned = 1;
}

/* Pushes the handle of core 'x' (from 'live', the budget's table of
** handles) and returns 1; or, if its object is dead or being finalized,
** orphans 'x', pushes nothing and returns 0.  Raw reads only. */
int mc_lbudget_pushhandle(lua_State *L, int live, mc_lcore *x) {
  mc_handle *xh;
  luaL_checkstack(L, 2, NULL);
  lua_rawgetp(L, live, x);
  xh = (mc_handle *)lua_touserdata(L, -1);
  if (xh != NULL && xh->core == x)
    return 1;
  lua_pop(L, 1);
  orphan(x);
  return 0;
}

/* Step 2 of a store into a cache under a budget: its handle is listed (an
** object that came back to life in a finalizer is listed again), and an
** orphaned cache starts afresh, as a clear would make it: its old tables
** may hold values of entries that went without their handle.  Leaves the
** table of live handles pushed, for the evictions, and returns its index. */
int mc_lbudget_prestore(lua_State *L, mc_lcore *lc, int hidx) {
  int root, live;
  luaL_checkstack(L, 4, NULL);
  pushlive(L, hidx);
  live = lua_gettop(L);
  if (lua_rawgetp(L, live, lc) != LUA_TUSERDATA ||
      lua_touserdata(L, -1) != lua_touserdata(L, hidx)) {
    lua_pushvalue(L, hidx);
    lua_rawsetp(L, live, lc);  /* may allocate: nothing is held yet */
  }
  lua_pop(L, 1);
  if (!lc->orphaned)
    return live;
  lua_createtable(L, 0, 0);                             /* the new root */
  root = lua_gettop(L);
  if (lc->orphaned && !lc->closed) {  /* raw from here */
    mc_cache_clear(&lc->c);
    lc->epoch++;
    lc->orphaned = 0;
    lua_pushvalue(L, root);
    lua_setiuservalue(L, hidx, MC_UV_ROOT);
    lua_pushnil(L);
    lua_setiuservalue(L, hidx, MC_UV_NODES);
  }
  lua_settop(L, live);
  return live;
}

/* Orphans the cores of 'b' that info's walk of the method's objects did
** not see (stamp): their objects are dead, and their finalizers have not
** run yet.  Raw C. */
void mc_lbudget_sweep(mc_budget *b, unsigned stamp) {
  mc_link *l;
  for (l = b->cores.next; l != &b->cores; l = l->next) {
    mc_lcore *x = core_of_blink(l);
    if (x->stamp != stamp && x->c.count > 0)
      orphan(x);
  }
}

/* Looks at up to 'n' cores from the cursor on and orphans those whose
** handle is gone: entries of dead objects go before any live one does.
** 'live' is the budget's table of handles.  Raw reads only. */
void mc_lbudget_scan(lua_State *L, int live, mc_budget *b, int n) {
  luaL_checkstack(L, 2, NULL);
  while (n-- > 0 && b->cores.next != &b->cores) {
    mc_lcore *x;
    if (b->cursor == &b->cores)
      b->cursor = b->cores.next;
    x = core_of_blink(b->cursor);
    b->cursor = b->cursor->next;
    if (x->c.count == 0)
      continue;
    lua_rawgetp(L, live, x);
    if (lua_touserdata(L, -1) == NULL ||
        ((mc_handle *)lua_touserdata(L, -1))->core != x)
      orphan(x);
    lua_pop(L, 1);
  }
}
