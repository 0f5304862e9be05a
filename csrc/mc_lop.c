/*
** mc_lop.c: the operations on a cache, shared by cache objects and methods.
**
** Each operation has the same shape, which is how it keeps THE RULE of
** mc_lua.h:
**   1. the option callbacks it needs (timer, getsizeof, ttu) run first,
**      when no pointer into the core is in hand;
**   2. what it will need to allocate is allocated next (the sequence of
**      several values, the table of eviction notices, a new root table);
**   3. then it takes pointers: either with raw reads and writes only (no GC
**      step: the hot paths, lookup and a store of value keys without
**      on_evict), or under a hold, checking each pointer again (entry_ok,
**      the epoch, the node chain) after anything that may allocate;
**   4. on_evict runs last, for the notices queued in step 3, with the cache
**      consistent and no hold.
*/
#include <string.h>

#include "mc_lua.h"

#define timed(c)  ((c)->policy == MC_TTL || (c)->policy == MC_TLRU)

/* An entry that is still in the cache and whose objects are alive. */
static int entry_ok(const mc_cache *c, const mc_entry *e) {
  mc_node *n;
  if (!mc_entry_live(e))
    return 0;
  n = mc_entry_node(c, e);
  return n == NULL || n->state == MC_NODE_LIVE;
}

/* Whether 'e' of a timed cache has expired at 'now'. */
#define expired_at(c, e, now)  \
  (timed(c) && !((now) < mc_entry_expires(c, e)))

/* The cache, ready for an operation; NULL if it was finalized. */
mc_cache *mc_op_live(mc_handle *h) {
  mc_lcore *lc = h->core;
  if (lc->closed)
    return NULL;
  if (mc_cache_dirty(&lc->c))
    mc_cache_purge(&lc->c);
  return &lc->c;
}

static void pushopt(lua_State *L, int hidx, int opt) {
  lua_getiuservalue(L, hidx, MC_UV_OPTS);
  lua_rawgeti(L, -1, opt);
  lua_remove(L, -2);                                    /* pop options */
}


/* {======================================================
** Option callbacks: before any pointer is taken (on_evict: after).  They
** may raise; they run with lua_call and cannot yield (docs/DESIGN.md).
** 'fname' names the operation in messages (NULL: the running function).
** ======================================================= */

static double getnow(lua_State *L, mc_lcore *lc, int hidx,
                     const char *fname) {
  double now;
  if (!(lc->flags & MC_HAS(MC_OPT_TIMER)))
    return mc_clock_now();
  luaL_checkstack(L, 2, NULL);
  pushopt(L, hidx, MC_OPT_TIMER);
  lua_call(L, 0, 1);
  now = (double)lua_tonumber(L, -1);
  if (lua_type(L, -1) != LUA_TNUMBER || now != now)
    luaL_error(L, "%s: timer must return a number (got %s)",
               mc_fname(L, fname), mc_given(L, -1));
  lua_pop(L, 1);
  return now;
}

static long long getweight(lua_State *L, mc_lcore *lc, int hidx, int vfirst,
                           int nres, const char *fname) {
  lua_Integer w = -1;
  int isint = 0, i;
  if (!(lc->flags & MC_HAS(MC_OPT_GETSIZEOF)))
    return 1;
  luaL_checkstack(L, nres + 2, "too many values");
  pushopt(L, hidx, MC_OPT_GETSIZEOF);
  for (i = 0; i < nres; i++)
    lua_pushvalue(L, vfirst + i);
  lua_call(L, nres, 1);
  if (lua_type(L, -1) == LUA_TNUMBER)
    w = lua_tointegerx(L, -1, &isint);
  if (!isint || w < 0)
    luaL_error(L, "%s: getsizeof must return a non-negative integer (got %s)",
               mc_fname(L, fname), mc_given(L, -1));
  lua_pop(L, 1);
  return (long long)w;
}

static double getexpiry(lua_State *L, mc_lcore *lc, int hidx, int first,
                        int last, int vfirst, int nres, double now,
                        const char *fname) {
  double t;
  if (lc->c.policy == MC_TTL)
    return now + lc->ttl;
  luaL_checkstack(L, 4, NULL);
  pushopt(L, hidx, MC_OPT_TTU);
  mc_lvalue_pack(L, first, last - first + 1);
  mc_lvalue_pack(L, vfirst, nres);
  lua_pushnumber(L, (lua_Number)now);
  lua_call(L, 3, 1);
  t = (double)lua_tonumber(L, -1);
  if (lua_type(L, -1) != LUA_TNUMBER || t != t)
    luaL_error(L, "%s: ttu must return a number (got %s)",
               mc_fname(L, fname), mc_given(L, -1));
  lua_pop(L, 1);
  return t;
}

/* }====================================================== */


/* {======================================================
** Eviction notices: (key, value, reason) triples queued in a table during
** the operation, given to on_evict after it
** ======================================================= */

typedef struct notices {
  int idx;                  /* stack index of the table, 0: no on_evict */
  int n;                    /* values queued */
} notices;

static void notices_init(lua_State *L, mc_lcore *lc, notices *pd) {
  pd->n = 0;
  pd->idx = 0;
  if (lc->flags & MC_HAS(MC_OPT_ONEVICT)) {
    lua_createtable(L, 6, 0);
    pd->idx = lua_gettop(L);
  }
}

/* Calls on_evict for each notice, the cache being consistent; then removes
** the table.  An error propagates (the remaining notices are lost with it). */
static void notices_run(lua_State *L, int hidx, notices *pd) {
  int i;
  if (pd->idx == 0)
    return;
  luaL_checkstack(L, 4, NULL);
  for (i = 1; i <= pd->n; i += 3) {
    pushopt(L, hidx, MC_OPT_ONEVICT);
    lua_rawgeti(L, pd->idx, i);
    lua_rawgeti(L, pd->idx, i + 1);
    lua_rawgeti(L, pd->idx, i + 2);
    lua_call(L, 3, 0);
  }
  lua_remove(L, pd->idx);
  pd->idx = 0;
}

/* Stack: key, value, reason.  Queues them (and pops them). */
static void notices_add(lua_State *L, notices *pd) {
  lua_rawseti(L, pd->idx, pd->n + 3);
  lua_rawseti(L, pd->idx, pd->n + 2);
  lua_rawseti(L, pd->idx, pd->n + 1);
  pd->n += 3;
}

/* }====================================================== */


/* {======================================================
** Removing entries
** ======================================================= */

/* Removes 'e' and its value; with on_evict (then under a hold) queues a
** notice.  'tidx' is the table of its value if the caller has it (0: found
** from its node); 'kidx' the key, if the caller has it as one value (0:
** made from the entry).  Returns 0 for an entry that was already gone or a
** zombie (its object died: no value, no notice). */
static int drop(lua_State *L, mc_lcore *lc, int hidx, mc_entry *e,
                notices *pd, const char *reason, int tidx, int kidx) {
  mc_cache *c = &lc->c;
  mc_node *node = mc_entry_node(c, e);
  int top = lua_gettop(L);
  if (!entry_ok(c, e)) {
    if (mc_entry_live(e))
      mc_cache_remove(c, e);  /* a zombie */
    return 0;
  }
  luaL_checkstack(L, 4, NULL);
  if (tidx == 0) {
    if (!mc_lnode_push(L, hidx, node)) {  /* dying: the table is gone */
      lua_settop(L, top);
      mc_cache_remove(c, e);
      return 0;
    }
    tidx = lua_gettop(L);
  }
  if (pd->idx != 0 && e->vtag != VT_ABSENT) {
    /* the notice allocates: a finalizer may remove 'e' meanwhile, so it is
    ** checked before its value is read, and again at the end.  A key the
    ** caller has is better than one made from the entry: in the key's own
    ** finalizer its node table is already gone from the map */
    if (kidx != 0 && lua_type(L, kidx) != LUA_TNUMBER)
      lua_pushvalue(L, kidx);
    else  /* numbers as the key holds them: 1.0 is 1, -0.0 is 0 */
      mc_lkey_push(L, hidx, e);
    if (entry_ok(c, e))
      mc_lvalue_pushpacked(L, e, tidx);
    lua_pushstring(L, reason);
    if (!entry_ok(c, e)) {
      lua_settop(L, top);
      if (mc_entry_live(e))
        mc_cache_remove(c, e);
      return 0;
    }
    notices_add(L, pd);
  }
  if (mc_intable(e)) {  /* clearing a key that is there never allocates */
    lua_pushnil(L);
    lua_rawsetp(L, tidx, e);
  }
  lua_settop(L, top);
  mc_cache_remove(c, e);
  if (node != NULL)
    mc_lnode_prune(L, lc, hidx, node);
  return 1;
}

/* Evicts the entry 'v' of another object's cache 'x' for the budget
** (mc_lbudget.c): through x's handle, holding x while notices allocate;
** an object found dead loses all its entries instead. */
static void drop_other(lua_State *L, int live, mc_lcore *x, mc_entry *v,
                       notices *pd) {
  int top = lua_gettop(L), hold = 0;
  if (!mc_lbudget_pushhandle(L, live, x))
    return;
  if (pd->idx != 0)
    hold = mc_op_hold(L, top + 1);
  if (drop(L, x, top + 1, v, pd, "size", 0, 0))
    x->c.stats.evictions++;
  if (hold)
    mc_op_release(L, hold);
  lua_settop(L, top);
}

#define fits_all(c, w, keep)  (mc_cache_fits(c, w, keep) && \
  ((c)->budget == NULL || mc_budget_fits((c)->budget, c, w, keep)))

/* Evicts until 'weight' fits beside the entry 'keep' (NULL: beside all),
** in the cache and in the budget it is under: the budget's victim is the
** least recently used entry of any object.  Returns 1 when it fits, 0 when
** nothing is left to evict, -1 when 'keep' was removed meanwhile (by a
** finalizer, under a hold).  'live': under a budget, the stack index of
** its table of handles (mc_lbudget_prestore). */
static int evict(lua_State *L, mc_lcore *lc, int hidx, int live,
                 long long weight, mc_entry *keep, notices *pd) {
  mc_cache *c = &lc->c;
  if (c->budget != NULL && !fits_all(c, weight, keep))
    mc_lbudget_scan(L, live, c->budget, 2);
  while (!fits_all(c, weight, keep)) {
    mc_entry *v;
    mc_lcore *x = lc;
    if (mc_cache_dirty(c))
      mc_cache_purge(c);
    if (keep != NULL && !entry_ok(c, keep))
      return -1;
    if (!mc_cache_fits(c, weight, keep))
      v = mc_cache_victim(c, keep);
    else if (c->budget != NULL && !mc_budget_fits(c->budget, c, weight, keep))
      v = mc_budget_victim(c->budget, keep);
    else
      return 1;  /* the purge made room */
    if (v == NULL)
      return fits_all(c, weight, keep);
    if (c->budget != NULL)
      x = mc_lcore_of(*mc_entry_cache(c, v));  /* same layout: same part */
    if (x != lc)
      drop_other(L, live, x, v, pd);
    else if (drop(L, lc, hidx, v, pd, "size", 0, 0))
      c->stats.evictions++;
    if (keep != NULL && !entry_ok(c, keep))
      return -1;
  }
  return 1;
}

static int expire(lua_State *L, mc_lcore *lc, int hidx, double now,
                  notices *pd) {
  mc_entry *e;
  int n = 0;
  while ((e = mc_cache_expired(&lc->c, now)) != NULL) {
    if (drop(L, lc, hidx, e, pd, "expired", 0, 0)) {
      lc->c.stats.expirations++;
      n++;
    }
  }
  return n;
}

/* Whether 'n' and its ancestors are all still in the tree. */
static int chain_live(const mc_node *n) {
  for (; n != NULL; n = n->parent)
    if (n->state != MC_NODE_LIVE)
      return 0;
  return 1;
}

/* Removes the 'extra' slots that lie under the top 'n' values. */
static void dropextra(lua_State *L, int extra, int n) {
  if (extra > 0) {
    if (n > 0)
      lua_rotate(L, -(n + extra), -extra);
    lua_pop(L, extra);
  }
}

/* }====================================================== */


/* {======================================================
** Lookups: raw reads only, no hold
** ======================================================= */

/* Looks the key first..last up in the cache 'h' (at 'hidx').  On a hit
** (MC_PUSH) pushes the values and returns their count; MC_MISS or MC_NOKEY
** otherwise. */
int mc_op_lookup(lua_State *L, mc_handle *h, int hidx, int first, int last,
                 int flags, const char *fname) {
  mc_lcore *lc = h->core;
  mc_cache *c = &lc->c;
  double now = 0;
  mc_lkey kc;
  mc_entry *e;
  int st, n = 0, extra;
  if (mc_op_live(h) == NULL)
    return MC_MISS;
  if (timed(c))
    now = getnow(L, lc, hidx, fname);
  /* from here on raw reads only: nothing can run a finalizer */
  st = mc_lkey_encode(L, lc, hidx, first, last, &kc, 0);
  if (st == MC_KEY_NAN)
    return MC_NOKEY;
  extra = (kc.ntab != 0);
  e = (st == MC_KEY_OK) ? mc_lkey_find(L, lc, hidx, first, last, &kc) : NULL;
  if (e == NULL || e->vtag == VT_ABSENT || expired_at(c, e, now)) {
    if (flags & MC_COUNT)
      c->stats.misses++;
    lua_pop(L, extra);
    return MC_MISS;
  }
  if (flags & MC_TOUCH)
    mc_cache_touch(c, e);
  if (flags & MC_COUNT)
    c->stats.hits++;
  if (flags & MC_PUSH) {
    int tidx = kc.ntab;
    if (tidx == 0 && mc_intable(e)) {
      lua_getiuservalue(L, hidx, MC_UV_ROOT);
      tidx = lua_gettop(L);
      extra++;
    }
    n = mc_lvalue_push(L, e, tidx);
  }
  dropextra(L, extra, n);
  return n;
}

/* get's stale read, right after mc_op_lookup missed the key first..last
** (nothing ran in between): if an entry for it is still held, it has
** expired; pushes nil and its values and returns their count + 1, without
** counting or touching anything.  MC_MISS when there is none.  A second
** lookup on a miss, rather than a branch in mc_op_lookup: its hit path
** stays instruction for instruction what it was.  Raw reads only. */
int mc_op_stale(lua_State *L, mc_handle *h, int hidx, int first, int last) {
  mc_lcore *lc = h->core;
  mc_cache *c = mc_op_live(h);
  mc_lkey kc;
  mc_entry *e = NULL;
  int st, extra, tidx, n;
  if (c == NULL || !timed(c))
    return MC_MISS;
  st = mc_lkey_encode(L, lc, hidx, first, last, &kc, 0);
  if (st == MC_KEY_NAN)
    return MC_MISS;
  extra = (kc.ntab != 0);
  if (st == MC_KEY_OK)
    e = mc_lkey_find(L, lc, hidx, first, last, &kc);
  if (e == NULL || e->vtag == VT_ABSENT) {
    lua_pop(L, extra);
    return MC_MISS;
  }
  tidx = kc.ntab;
  if (tidx == 0 && mc_intable(e)) {
    lua_getiuservalue(L, hidx, MC_UV_ROOT);
    tidx = lua_gettop(L);
    extra++;
  }
  luaL_checkstack(L, 1, "too many results to return");
  lua_pushnil(L);
  n = mc_lvalue_push(L, e, tidx);
  dropextra(L, extra, n + 1);
  return n + 1;
}

/* The hit path of cached calls.  Arguments compared by value are encoded
** straight into a buffer on the C stack; anything else (object arguments,
** timed policies, dead nodes to purge, a finalized cache, long keys) takes
** mc_op_lookup.  Raw reads only.  The values are the top slots of the
** stack, with slots of no use under them: m_lookup returns them to Lua at
** once, which takes the top ones (a lua_replace or lua_rotate to drop
** those slots cost a table result 12% of its hit). */
int mc_op_fetch(lua_State *L, mc_handle *h, int hidx, int first, int last) {
  const int all = MC_COUNT | MC_TOUCH | MC_PUSH;
  mc_lcore *lc = h->core;
  mc_cache *c = &lc->c;
  unsigned char buf[MC_KEYBUF];
  mc_kbuf k;
  mc_entry *e;
  lua_Integer li = 0;
  int i, n, isint = 0;
  if (lc->closed || mc_cache_dirty(c) || timed(c))
    return mc_op_lookup(L, h, hidx, first, last, all, NULL);
  if (first == last) {  /* one argument, the commonest call: no loop */
    int t = lua_type(L, first);
    if (mc_byidentity(t))  /* its node table: only mc_op_lookup finds it */
      return mc_op_lookup(L, h, hidx, first, last, all, NULL);
    mc_key_begin(&k, buf, MC_KEYBUF, &c->hkey);
    /* one API call for an integer (or, untyped, a float of integral value,
    ** which mc_lkey_number would take to the same key) */
    if (t == LUA_TNUMBER) {
      if (!lc->typed)
        li = lua_tointegerx(L, first, &isint);
      else if ((isint = lua_isinteger(L, first)) != 0)
        li = lua_tointeger(L, first);
    }
    if (isint)
      mc_key_int(&k, (long long)li);
    else if (mc_lkey_value(L, first, t, lc->typed, &k) == 0)
      return MC_NOKEY;
  }
  else {
    mc_key_begin(&k, buf, MC_KEYBUF, &c->hkey);
    for (i = first; i <= last; i++) {
      int r = mc_lkey_value(L, i, lua_type(L, i), lc->typed, &k);
      if (r <= 0)
        return r == 0 ? MC_NOKEY :
               mc_op_lookup(L, h, hidx, first, last, all, NULL);
    }
  }
  if (k.len > k.cap)
    return mc_op_lookup(L, h, hidx, first, last, all, NULL);
  mc_key_end(&k, NULL);
  e = mc_cache_find(c, buf, k.len, mc_key_hash(&k));
  if (e == NULL || e->vtag == VT_ABSENT) {
    c->stats.misses++;
    return MC_MISS;
  }
  mc_cache_touch(c, e);
  c->stats.hits++;
  switch (e->vtag) {  /* the inline values of mc_lvalue_push, inline */
    case VT_INT: lua_pushinteger(L, (lua_Integer)e->v.i); return 1;
    case VT_FLT: lua_pushnumber(L, (lua_Number)e->v.n); return 1;
    case VT_ONE:  /* the root under the value */
      lua_getiuservalue(L, hidx, MC_UV_ROOT);
      lua_rawgetp(L, -1, e);
      return 1;
    case VT_PACK:  /* the root and the sequence under the values */
      n = (int)e->v.i;  /* the count (mc_lvalue_set) */
      luaL_checkstack(L, n + 2, "too many results to return");
      lua_getiuservalue(L, hidx, MC_UV_ROOT);
      lua_rawgetp(L, -1, e);
      for (i = 1; i <= n; i++)
        lua_rawgeti(L, -i, i);
      return n;
    default: return mc_lvalue_push(L, e, 0);
  }
}

/* }====================================================== */


/* {======================================================
** Stores
** ======================================================= */

/* Stores the values vfirst..vfirst+nres-1 under the key first..last.
** Returns 1 if stored, 0 if not (too heavy, already expired, a NaN key, or
** given up after finalizers changed the cache under it three times).  The
** stack is left as it was.  A store of value keys without on_evict runs
** with raw reads and writes only; one with object keys (it may make node
** tables) or with on_evict (notices) runs under a hold. */
int mc_op_store(lua_State *L, int hidx, int first, int last, int vfirst,
                int nres, const char *fname) {
  return mc_op_store_ttl(L, hidx, first, last, vfirst, nres, 0, fname);
}

/* The same with 'ttl' > 0 (timed policies only): the entry expires 'ttl'
** seconds from now, instead of after the cache's ttl or its ttu (which is
** then not called). */
int mc_op_store_ttl(lua_State *L, int hidx, int first, int last, int vfirst,
                    int nres, double ttl, const char *fname) {
  mc_handle *h = (mc_handle *)lua_touserdata(L, hidx);
  mc_lcore *lc = h->core;
  mc_cache *c = mc_op_live(h);
  int top = lua_gettop(L);
  long long weight;
  double now = 0, expires = 0;
  notices pd;
  mc_lkey kc;
  mc_node *made = NULL;
  int hold = 0, packidx, base, tries, stored = 0, oom = 0, live = 0;
  if (c == NULL)
    return 0;
  luaL_checkstack(L, 12, NULL);
  /* 1. callbacks */
  weight = getweight(L, lc, hidx, vfirst, nres, fname);
  if (timed(c)) {
    now = getnow(L, lc, hidx, fname);
    expires = ttl > 0 ? now + ttl
                      : getexpiry(L, lc, hidx, first, last, vfirst, nres, now,
                                  fname);
  }
  /* 2. allocations */
  if (c->budget != NULL)
    live = mc_lbudget_prestore(L, lc, hidx);
  packidx = mc_lvalue_prepare(L, vfirst, nres);
  notices_init(L, lc, &pd);
  if (pd.idx != 0 || mc_lkey_hasobject(L, first, last))
    hold = mc_op_hold(L, hidx);
  base = lua_gettop(L);
  /* 3. pointers */
  for (tries = 0; ; tries++) {
    unsigned epoch = lc->epoch;
    mc_entry *e;
    int fits, tidx, heavy;
    if (timed(c) && !(c->policy == MC_TLRU && !(now < expires)))
      expire(L, lc, hidx, now, &pd);
    if (mc_lkey_encode(L, lc, hidx, first, last, &kc, hold != 0) !=
        MC_KEY_OK)
      break;  /* NaN: never stored */
    made = kc.node;
    e = mc_lkey_find(L, lc, hidx, first, last, &kc);
    heavy = weight > c->maxsize ||
            (c->budget != NULL && weight > c->budget->total);
    if (heavy || (timed(c) && !(now < expires))) {
      /* not stored; an older value must not stand in for this one */
      if (e != NULL)
        drop(L, lc, hidx, e, &pd, heavy ? "size" : "expired",
             kc.ntab, first == last ? first : 0);
      break;
    }
    fits = evict(L, lc, hidx, live, weight, e, &pd);
    /* under a hold the notices may have let a finalizer store this very
    ** key (a second entry for it) or clear the cache: look again */
    if (hold && (fits < 0 || lc->epoch != epoch || !chain_live(kc.node) ||
                 mc_lkey_find(L, lc, hidx, first, last, &kc) != e)) {
      /* a finalizer changed the cache under the hold: start again */
      lua_settop(L, base);
      if (made != NULL)
        mc_lnode_prune(L, lc, hidx, made);
      made = NULL;
      if (tries < 2)
        continue;
      break;
    }
    if (!fits) {  /* nothing to evict and the total would overflow */
      if (e != NULL)
        drop(L, lc, hidx, e, &pd, "size", kc.ntab, first == last ? first : 0);
      break;
    }
    /* from here to the end no GC step: the pointers stay good */
    if (ttl > 0 && !mc_cache_reserve_own(c)) {
      oom = 1;
      break;
    }
    tidx = kc.ntab;
    if (tidx == 0) {
      lua_getiuservalue(L, hidx, MC_UV_ROOT);
      tidx = lua_gettop(L);
    }
    if (e != NULL) {
      /* a value set that fails for memory leaves the old value */
      mc_lvalue_set(L, e, tidx, vfirst, nres, packidx);
      mc_cache_update(c, e, weight);
    }
    else {
      /* the value first, keyed by the reserved entry's address, and the
      ** entry linked after: a value set that fails for memory leaves
      ** nothing but the spare, which the next reserve frees */
      e = mc_cache_reserve(c, kc.k.len, kc.node != NULL);
      if (e == NULL) {
        oom = 1;
        break;
      }
      if (kc.k.len <= kc.k.cap)
        memcpy(e->key, kc.k.p, kc.k.len);
      else  /* the same key into the entry: its nodes are there */
        mc_lkey_encodeinto(L, lc, hidx, first, last, e->key, e->keylen);
      mc_lvalue_set(L, e, tidx, vfirst, nres, packidx);
      mc_cache_link(c, e, mc_key_hash(&kc.k), weight, kc.node);
    }
    if (ttl > 0)
      mc_cache_setexpiry_own(c, e, expires);
    else if (timed(c))
      mc_cache_setexpiry(c, e, expires);
    stored = 1;
    break;
  }
  if (!stored && made != NULL)
    mc_lnode_prune(L, lc, hidx, made);  /* nodes made for nothing */
  /* 4. release, then on_evict */
  if (hold) {
    lua_settop(L, hold);
    mc_op_release(L, hold);
  }
  else
    lua_settop(L, pd.idx ? pd.idx : base);
  notices_run(L, hidx, &pd);
  lua_settop(L, top);
  if (oom)
    luaL_error(L, "not enough memory");
  return stored;
}

/* }====================================================== */


/* {======================================================
** Operations under a hold: delete and pop, expire, pairs, clear
** ======================================================= */

/* Removes the key first..last; if 'push' (a key of one value), replaces
** the value at 'last' + 1 by the removed value (all of them packed into
** one).  Returns whether a live entry was there. */
static int removekey(lua_State *L, int hidx, int first, int last, int push,
                     const char *fname) {
  mc_handle *h = (mc_handle *)lua_touserdata(L, hidx);
  mc_lcore *lc = h->core;
  mc_cache *c = mc_op_live(h);
  double now = 0;
  notices pd;
  mc_lkey kc;
  int top = lua_gettop(L), hold, found = 0;
  if (c == NULL)
    return 0;
  if (timed(c))
    now = getnow(L, lc, hidx, fname);
  luaL_checkstack(L, 8, NULL);
  notices_init(L, lc, &pd);
  hold = mc_op_hold(L, hidx);
  if (mc_lkey_encode(L, lc, hidx, first, last, &kc, 0) == MC_KEY_OK) {
    mc_entry *e = mc_lkey_find(L, lc, hidx, first, last, &kc);
    int tidx = kc.ntab;
    if (tidx == 0) {
      lua_getiuservalue(L, hidx, MC_UV_ROOT);
      tidx = lua_gettop(L);
    }
    /* the key's node table came from the object itself, so this works
    ** also from the key's own finalizer (see mc_lnode.c) */
    if (e != NULL && entry_ok(c, e)) {
      int expired = expired_at(c, e, now);
      found = !expired && e->vtag != VT_ABSENT;
      if (push && found) {
        mc_lvalue_pushpacked(L, e, tidx);
        if (entry_ok(c, e))
          lua_replace(L, last + 1);
        else {  /* removed by a finalizer meanwhile: it was not there */
          lua_pop(L, 1);
          found = 0;
        }
      }
      if (drop(L, lc, hidx, e, &pd, expired ? "expired" : "deleted", tidx,
               first == last ? first : 0) && expired)
        c->stats.expirations++;
    }
  }
  lua_settop(L, hold);
  mc_op_release(L, hold);
  notices_run(L, hidx, &pd);
  lua_settop(L, top);
  return found;
}

/* Removes the key at 'kidx' (a cache's key); see removekey. */
int mc_op_remove(lua_State *L, int hidx, int kidx, int push,
                 const char *fname) {
  return removekey(L, hidx, kidx, kidx, push, fname);
}

/* Removes the key first..last (the arguments of a cached call). */
int mc_op_delete(lua_State *L, int hidx, int first, int last,
                 const char *fname) {
  return removekey(L, hidx, first, last, 0, fname);
}

int mc_op_expire(lua_State *L, int hidx) {
  mc_handle *h = (mc_handle *)lua_touserdata(L, hidx);
  mc_cache *c = mc_op_live(h);
  int top = lua_gettop(L), hold = 0, n;
  double now;
  notices pd;
  if (c == NULL || !timed(c))
    return 0;
  now = getnow(L, h->core, hidx, "expire");
  notices_init(L, h->core, &pd);
  if (pd.idx != 0)  /* notices allocate */
    hold = mc_op_hold(L, hidx);
  n = expire(L, h->core, hidx, now, &pd);
  if (hold)
    mc_op_release(L, hold);
  notices_run(L, hidx, &pd);
  lua_settop(L, top);
  return n;
}

/* Under a hold: appends the key and the packed value of every live entry,
** in pairs order (and 'reason' after each, if not NULL), to the table at
** 'dest' from index *n + 1.  Zombies and expired entries are left out. */
static void collect(lua_State *L, mc_lcore *lc, int hidx, int dest, int *n,
                    const char *reason, double now) {
  mc_cache *c = &lc->c;
  mc_entry **list, *e;
  size_t cap, len = 0, i;
  int top = lua_gettop(L);
  luaL_checkstack(L, 6, NULL);
  /* the entries first, in a block made before any is read: a finalizer
  ** run by the allocations below may add or remove entries */
  for (;;) {
    cap = c->count;
    list = (mc_entry **)lua_newuserdatauv(L, (cap ? cap : 1) * sizeof(*list),
                                          0);
    if (c->count <= cap)
      break;
    lua_pop(L, 1);  /* the allocation let a finalizer add some: again */
  }
  for (e = mc_cache_next(c, NULL); e != NULL && len < cap;
       e = mc_cache_next(c, e))
    list[len++] = e;
  for (i = 0; i < len; i++) {
    int tidx;
    e = list[i];
    if (!entry_ok(c, e) || e->vtag == VT_ABSENT || expired_at(c, e, now))
      continue;
    if (!mc_lnode_push(L, hidx, mc_entry_node(c, e))) {
      lua_pop(L, 1);
      continue;
    }
    tidx = lua_gettop(L);
    mc_lkey_push(L, hidx, e);
    if (entry_ok(c, e))  /* still there after that allocation? */
      mc_lvalue_pushpacked(L, e, tidx);
    if (entry_ok(c, e)) {  /* and after this one */
      if (reason != NULL) {
        lua_pushstring(L, reason);
        lua_rawseti(L, dest, *n + 3);
      }
      lua_rawseti(L, dest, *n + 2);
      lua_rawseti(L, dest, *n + 1);
      *n += reason != NULL ? 3 : 2;
    }
    lua_settop(L, tidx - 1);
  }
  lua_settop(L, top);
}

/* Pushes a table {k1, v1, k2, v2, ...} of the live entries, in pairs
** order (a snapshot), and returns its length. */
int mc_op_snapshot(lua_State *L, int hidx) {
  mc_handle *h = (mc_handle *)lua_touserdata(L, hidx);
  mc_cache *c = mc_op_live(h);
  double now = 0;
  int n = 0, dest, hold;
  if (c != NULL && timed(c))
    now = getnow(L, h->core, hidx, "__pairs");
  c = mc_op_live(h);  /* the timer may have let finalizers run */
  lua_createtable(L, c ? (int)(c->count * 2) : 0, 0);
  dest = lua_gettop(L);
  if (c == NULL)
    return 0;
  hold = mc_op_hold(L, hidx);
  collect(L, h->core, hidx, dest, &n, NULL, now);
  mc_op_release(L, hold);
  return n;
}

/* Every entry goes; with on_evict each is reported as "cleared". */
void mc_op_clear(lua_State *L, int hidx) {
  mc_handle *h = (mc_handle *)lua_touserdata(L, hidx);
  mc_lcore *lc = h->core;
  mc_cache *c = mc_op_live(h);
  int top = lua_gettop(L), root, hold;
  double now = 0;
  notices pd;
  if (c == NULL)
    return;
  if (timed(c) && (lc->flags & MC_HAS(MC_OPT_ONEVICT)))
    now = getnow(L, lc, hidx, "clear");
  luaL_checkstack(L, 6, NULL);
  notices_init(L, lc, &pd);
  lua_createtable(L, 0, 0);                             /* the new root */
  root = lua_gettop(L);
  hold = mc_op_hold(L, hidx);
  if (pd.idx != 0)
    collect(L, lc, hidx, pd.idx, &pd.n, "cleared", now);
  /* the old tables go with their values; live nodes of the old tree die
  ** with them and are freed when their notices come */
  mc_cache_clear(c);
  lc->epoch++;
  lc->orphaned = 0;  /* the new root is what mc_lbudget_prestore makes */
  lua_pushvalue(L, root);
  lua_setiuservalue(L, hidx, MC_UV_ROOT);
  lua_pushnil(L);
  lua_setiuservalue(L, hidx, MC_UV_NODES);
  mc_op_release(L, hold);
  lua_settop(L, root - 1);
  notices_run(L, hidx, &pd);
  lua_settop(L, top);
}

/* }====================================================== */
