/*
** mc_lcache.c: Lua binding of cache objects (methodcache.lru and friends).
**
** A cache is three GC objects (docs/DESIGN.md explains why):
**   handle  "methodcache.cache", no __gc: what users and methods hold;
**   root    a weak-keyed table (user value of the handle) that holds the
**           values: by entry address for keys without objects, and for
**           each object key a node table (ephemeron: alive while the object
**           is), which holds the values of the entries with that object;
**   core    "methodcache.core", with __gc: the C memory (mc_cache).  It
**           references no Lua value, so finalizing it never resurrects the
**           values, the objects they point to or the object owning the cache.
** Each node table holds a small "methodcache.node" userdata whose __gc tells
** the core that the object died; the core only marks the node then, and the
** entries go at the next operation (mc_cache_purge).  Finalizers therefore
** never change the structure under a C function holding entry pointers.
*/
#include <limits.h>
#include <math.h>
#include <string.h>

#include "mc_lua.h"

static const char weakk_key = 'k';   /* registry: metatable {__mode="k"} */
static const char weakv_key = 'v';   /* registry: metatable {__mode="v"} */
static const char memory_key = 'm';  /* registry: this state's mc_memory */

/* C memory of every cache of a state; in the registry, so it outlives
** every core (objects are freed only after all finalizers ran). */
typedef struct mc_memory {
  long long bytes;
} mc_memory;

/* how an entry's value is stored (mc_entry.vtag) */
enum { VT_NONE, VT_NIL, VT_FALSE, VT_TRUE, VT_INT, VT_FLT, VT_LUD,
       VT_ONE, VT_PACK };

#define intable(e)  ((e)->vtag >= VT_ONE)

/* mc_lookup flags */
#define F_COUNT  1
#define F_TOUCH  2
#define F_PUSH   4

#define KEYBUF  128

enum { KEY_OK, KEY_ABSENT, KEY_NAN };

typedef struct mc_sentinel {
  mc_node *node;            /* NULL once dead or detached */
  mc_lcore *core;
} mc_sentinel;

/* evictions waiting for on_evict: triples in a table */
typedef struct pending {
  int idx;                  /* stack index of the table, 0: no on_evict */
  int n;                    /* values stored */
} pending;


static int fail(lua_State *L, int arg, const char *fname, const char *msg) {
  return luaL_error(L, "bad argument #%d to '%s' (%s)", arg, fname, msg);
}

static void pushweak(lua_State *L, const char *mode) {
  lua_createtable(L, 0, 0);
  lua_rawgetp(L, LUA_REGISTRYINDEX, mode);
  lua_setmetatable(L, -2);
}

mc_handle *mc_lcache_test(lua_State *L, int idx) {
  return (mc_handle *)luaL_testudata(L, idx, MC_CACHE_MT);
}

static mc_handle *checkcache(lua_State *L, const char *fname) {
  mc_handle *h = mc_lcache_test(L, 1);
  if (h == NULL)
    luaL_error(L, "bad self to '%s' (methodcache cache expected, got %s);"
                  " call it with ':'", fname, luaL_typename(L, 1));
  return h;
}

/* The cache, ready for an operation; NULL if it was finalized. */
static mc_cache *live(mc_handle *h) {
  mc_lcore *lc = h->core;
  if (lc->closed)
    return NULL;
  if (mc_cache_dirty(&lc->c))
    mc_cache_purge(&lc->c);
  return &lc->c;
}

static int timed(const mc_cache *c) {
  return c->policy == MC_TTL || c->policy == MC_TLRU;
}

static void pushopt(lua_State *L, int hidx, int opt) {
  lua_getiuservalue(L, hidx, MC_UV_OPTS);
  lua_rawgeti(L, -1, opt);
  lua_remove(L, -2);
}

static double getnow(lua_State *L, mc_lcore *lc, int hidx) {
  double now;
  int isnum;
  if (!(lc->flags & MC_HAS(MC_OPT_TIMER)))
    return mc_clock_now();
  pushopt(L, hidx, MC_OPT_TIMER);
  lua_call(L, 0, 1);
  now = (double)lua_tonumberx(L, -1, &isnum);
  if (!isnum || now != now)
    luaL_error(L, "methodcache: the timer must return a number (got %s)",
               luaL_typename(L, -1));
  lua_pop(L, 1);
  return now;
}

/* Pushes the values first..first+n-1 as one value: itself if n == 1, else
** a table {n = n, ...}. */
static void pushpacked(lua_State *L, int first, int n) {
  int i;
  if (n == 1) {
    lua_pushvalue(L, first);
    return;
  }
  lua_createtable(L, n, 1);
  for (i = 0; i < n; i++) {
    lua_pushvalue(L, first + i);
    lua_rawseti(L, -2, i + 1);
  }
  lua_pushinteger(L, n);
  lua_setfield(L, -2, "n");
}


/* {======================================================
** Keys
** ======================================================= */

MC_INLINE int encode_number(lua_State *L, int i, int typed, mc_kbuf *k) {
  lua_Number n;
  lua_Integer li;
  int isint;
  if (!typed) {
    /* floats with an integral value convert, as table keys do */
    li = lua_tointegerx(L, i, &isint);
    if (isint) {
      mc_key_int(k, (long long)li);
      return 1;
    }
  }
  else if (lua_isinteger(L, i)) {
    mc_key_int(k, (long long)lua_tointeger(L, i));
    return 1;
  }
  n = lua_tonumber(L, i);
  if (n != n)
    return 0;
  if (!typed && floor(n) == n && lua_numbertointeger(n, &li))
    mc_key_int(k, (long long)li);  /* 1.0 and -0.0 are keys 1 and 0 */
  else
    mc_key_flt(k, n == 0 ? 0.0 : (double)n);
  return 1;
}

static void pushnodes(lua_State *L, int hidx) {
  if (lua_getiuservalue(L, hidx, MC_UV_NODES) != LUA_TTABLE) {
    lua_pop(L, 1);
    pushweak(L, &weakv_key);
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, hidx, MC_UV_NODES);
  }
}

/* Stack: parent table.  Pushes a new node table for the object at 'i',
** stored in the parent under that object, and returns its node. */
static mc_node *newnode(lua_State *L, mc_lcore *lc, int hidx, int i,
                        mc_node *parent) {
  mc_sentinel *s;
  mc_node *n;
  pushweak(L, &weakk_key);
  s = (mc_sentinel *)lua_newuserdatauv(L, sizeof(mc_sentinel), 1);
  s->node = NULL;
  s->core = lc;
  lua_getiuservalue(L, hidx, MC_UV_CORE);
  lua_setiuservalue(L, -2, 1);
  luaL_setmetatable(L, MC_NODE_MT);
  n = mc_node_new(&lc->c, parent);
  if (n == NULL)
    luaL_error(L, "methodcache: not enough memory");
  s->node = n;
  lua_rawseti(L, -2, 1);
  lua_pushvalue(L, i);
  lua_rawseti(L, -2, 2);
  lua_pushvalue(L, i);
  lua_pushvalue(L, -2);
  lua_rawset(L, -4);
  pushnodes(L, hidx);
  lua_pushvalue(L, -2);
  lua_rawsetp(L, -2, n);
  lua_pop(L, 1);
  return n;
}

/* Stack: table of the objects so far.  Replaces it by the node table of
** the object at 'i'; NULL (and the table popped) if there is none and
** 'create' is off. */
static mc_node *step(lua_State *L, mc_lcore *lc, int hidx, int i,
                     mc_node *parent, int create) {
  mc_node *n = NULL;
  lua_pushvalue(L, i);
  if (lua_rawget(L, -2) == LUA_TTABLE) {
    lua_rawgeti(L, -1, 1);
    n = ((mc_sentinel *)lua_touserdata(L, -1))->node;
    lua_pop(L, 1);
  }
  if (n == NULL) {
    /* none, or one left by a finalized node (a resurrected object) */
    lua_pop(L, 1);
    if (!create) {
      lua_pop(L, 1);
      return NULL;
    }
    n = newnode(L, lc, hidx, i, parent);
  }
  lua_remove(L, -2);
  return n;
}

/* Encodes the value at 'i' (of type 't') if it is compared by value:
** returns 1, 0 for NaN (no key), -1 for an object (compared by identity). */
MC_INLINE int encode_value(lua_State *L, int i, int t, int typed,
                               mc_kbuf *k) {
  switch (t) {
    case LUA_TNUMBER:
      return encode_number(L, i, typed, k);
    case LUA_TSTRING: {
      size_t l;
      const char *s = lua_tolstring(L, i, &l);
      mc_key_str(k, s, l);
      return 1;
    }
    case LUA_TBOOLEAN:
      mc_key_tag(k, lua_toboolean(L, i) ? MC_KTRUE : MC_KFALSE);
      return 1;
    case LUA_TNIL:
      mc_key_tag(k, MC_KNIL);
      return 1;
    case LUA_TLIGHTUSERDATA:
      mc_key_lud(k, lua_touserdata(L, i));
      return 1;
    default:
      return -1;
  }
}

/* Encodes the values first..last into 'k'.  The first object argument
** pushes the root table and each one steps down to its node table, so that
** on KEY_OK the node table of the last object is on the top (*pushed = 1);
** keys without objects push nothing.  Nothing stays pushed unless KEY_OK. */
static int encode(lua_State *L, mc_lcore *lc, int hidx, int first, int last,
                  mc_kbuf *k, mc_node **pnode, int create, int *pushed) {
  mc_node *node = NULL;
  int i;
  *pushed = 0;
  for (i = first; i <= last; i++) {
    int r = encode_value(L, i, lua_type(L, i), lc->typed, k);
    if (r == 0) {
      lua_pop(L, *pushed);
      return KEY_NAN;
    }
    if (r < 0) {  /* by identity, through the node of this object */
      mc_key_tag(k, MC_KOBJ);
      if (!*pushed) {
        lua_getiuservalue(L, hidx, MC_UV_ROOT);
        *pushed = 1;
      }
      node = step(L, lc, hidx, i, node, create);
      if (node == NULL) {  /* step() popped the table */
        *pushed = 0;
        return KEY_ABSENT;
      }
    }
  }
  mc_key_end(k, node);
  *pnode = node;
  return KEY_OK;
}

typedef struct keyctx {
  mc_kbuf k;
  mc_node *node;
  int extra;                /* slots pushed: the key box, the value table */
  int tidx;                 /* stack index of the value table, 0: none yet */
  unsigned char buf[KEYBUF];
} keyctx;

/* encode(), with a box on the stack for keys too long for the buffer */
static int getkey(lua_State *L, mc_lcore *lc, int hidx, int first, int last,
                  keyctx *kc, int create) {
  int st, pushed;
  mc_key_begin(&kc->k, kc->buf, KEYBUF, lc->c.seed);
  st = encode(L, lc, hidx, first, last, &kc->k, &kc->node, create, &pushed);
  kc->extra = pushed;
  if (st == KEY_OK && kc->k.len > kc->k.cap) {
    size_t len = kc->k.len;
    unsigned char *box;
    lua_pop(L, pushed);
    box = (unsigned char *)lua_newuserdatauv(L, len, 0);
    mc_key_begin(&kc->k, box, len, lc->c.seed);
    st = encode(L, lc, hidx, first, last, &kc->k, &kc->node, create,
                &pushed);
    kc->extra = 1 + pushed;
    if (st != KEY_OK) {
      lua_pop(L, 1);
      kc->extra = 0;
    }
  }
  kc->tidx = (st == KEY_OK && pushed) ? lua_gettop(L) : 0;
  return st;
}

/* The stack index of the table holding the key's value, pushing the root
** table if the key has no object. */
static int valtable(lua_State *L, keyctx *kc, int hidx) {
  if (kc->tidx == 0) {
    lua_getiuservalue(L, hidx, MC_UV_ROOT);
    kc->tidx = lua_gettop(L);
    kc->extra++;
  }
  return kc->tidx;
}

/* Removes the 'extra' slots below the top 'n' values. */
static void dropextra(lua_State *L, keyctx *kc, int n) {
  if (kc->extra > 0) {
    if (n > 0)
      lua_rotate(L, -(n + kc->extra), -kc->extra);
    lua_pop(L, kc->extra);
    kc->extra = 0;
  }
}

static mc_entry *findkey(mc_cache *c, keyctx *kc) {
  return mc_cache_find(c, kc->k.p, kc->k.len, mc_key_hash(&kc->k));
}

/* The object of the j-th object item of 'e''s key (0-based, 'depth' in all). */
static void pushobject(lua_State *L, int hidx, mc_entry *e, int j, int depth) {
  mc_node *n = e->node;
  int up;
  for (up = depth - 1 - j; up > 0; up--)
    n = n->parent;
  pushnodes(L, hidx);
  if (lua_rawgetp(L, -1, n) == LUA_TTABLE)
    lua_rawgeti(L, -1, 2);
  else
    lua_pushnil(L);  /* cannot happen for a live node */
  lua_replace(L, -3);
  lua_pop(L, 1);
}

static void pushitem(lua_State *L, const mc_kitem *it) {
  switch (it->tag) {
    case MC_KFALSE: lua_pushboolean(L, 0); break;
    case MC_KTRUE: lua_pushboolean(L, 1); break;
    case MC_KINT: lua_pushinteger(L, (lua_Integer)it->i); break;
    case MC_KFLT: lua_pushnumber(L, (lua_Number)it->n); break;
    case MC_KSTR: lua_pushlstring(L, it->s, it->len); break;
    case MC_KLUD: lua_pushlightuserdata(L, it->p); break;
    default: lua_pushnil(L); break;
  }
}

/* Pushes the key of 'e' as one value: the argument itself if there is
** exactly one, else a table {n = count, ...}. */
static void pushkey(lua_State *L, int hidx, mc_entry *e) {
  const unsigned char *end;
  const unsigned char *p = mc_key_items(e->key, e->keylen, &end);
  const unsigned char *q;
  mc_kitem it;
  int n = 0, depth = 0, j = 0, i;
  for (q = p; (q = mc_key_next(q, end, &it)) != NULL; n++)
    depth += (it.tag == MC_KOBJ);
  luaL_checkstack(L, 4, NULL);
  if (n != 1)
    lua_createtable(L, n, 1);
  for (i = 1; (p = mc_key_next(p, end, &it)) != NULL; i++) {
    if (it.tag == MC_KOBJ)
      pushobject(L, hidx, e, j++, depth);
    else
      pushitem(L, &it);
    if (n != 1)
      lua_rawseti(L, -2, i);
  }
  if (n != 1) {
    lua_pushinteger(L, n);
    lua_setfield(L, -2, "n");
  }
}

/* }====================================================== */


/* {======================================================
** Values
** ======================================================= */

/* Stores the values vfirst..vfirst+nres-1 as the value of 'e'; the table
** at 'tidx' is the one that holds its values. */
static void setvalue(lua_State *L, mc_entry *e, int tidx, int vfirst,
                     int nres) {
  int wasintable = intable(e);
  e->nres = nres;
  if (nres == 1) {
    switch (lua_type(L, vfirst)) {
      case LUA_TNIL: e->vtag = VT_NIL; break;
      case LUA_TBOOLEAN:
        e->vtag = lua_toboolean(L, vfirst) ? VT_TRUE : VT_FALSE;
        break;
      case LUA_TNUMBER:
        if (lua_isinteger(L, vfirst)) {
          e->vtag = VT_INT;
          e->v.i = (long long)lua_tointeger(L, vfirst);
        }
        else {
          e->vtag = VT_FLT;
          e->v.n = (double)lua_tonumber(L, vfirst);
        }
        break;
      case LUA_TLIGHTUSERDATA:
        e->vtag = VT_LUD;
        e->v.p = lua_touserdata(L, vfirst);
        break;
      default:
        e->vtag = VT_ONE;
        lua_pushvalue(L, vfirst);
        lua_rawsetp(L, tidx, e);
        return;
    }
  }
  else if (nres == 0)
    e->vtag = VT_NONE;
  else {
    int i;
    lua_createtable(L, nres, 0);
    for (i = 0; i < nres; i++) {
      lua_pushvalue(L, vfirst + i);
      lua_rawseti(L, -2, i + 1);
    }
    lua_rawsetp(L, tidx, e);
    e->vtag = VT_PACK;
    return;
  }
  if (wasintable) {
    lua_pushnil(L);
    lua_rawsetp(L, tidx, e);
  }
}

/* Pushes the values of 'e' (all of them, or packed into one if 'packed'),
** returning how many were pushed.  'tidx' holds its table of values. */
static int pushvalues(lua_State *L, mc_entry *e, int tidx, int packed) {
  int n = e->nres, i, t;
  switch (e->vtag) {
    case VT_NONE: break;
    case VT_NIL: lua_pushnil(L); return 1;
    case VT_FALSE: lua_pushboolean(L, 0); return 1;
    case VT_TRUE: lua_pushboolean(L, 1); return 1;
    case VT_INT: lua_pushinteger(L, (lua_Integer)e->v.i); return 1;
    case VT_FLT: lua_pushnumber(L, (lua_Number)e->v.n); return 1;
    case VT_LUD: lua_pushlightuserdata(L, e->v.p); return 1;
    case VT_ONE: lua_rawgetp(L, tidx, e); return 1;
    default: break;
  }
  if (packed) {
    lua_createtable(L, n, 1);
    if (n > 0) {
      lua_rawgetp(L, tidx, e);
      for (i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, i);
        lua_rawseti(L, -3, i);
      }
      lua_pop(L, 1);
    }
    lua_pushinteger(L, n);
    lua_setfield(L, -2, "n");
    return 1;
  }
  if (n == 0)
    return 0;
  luaL_checkstack(L, n + 1, "too many results to return");
  lua_rawgetp(L, tidx, e);
  t = lua_gettop(L);
  for (i = 1; i <= n; i++)
    lua_rawgeti(L, t, i);
  lua_remove(L, t);
  return n;
}

/* Pushes the table holding the values of the entries of 'node'.  Returns
** 0 (and pushes nil) when that table is gone: its object died and the
** collector cleared it, but the node's finalizer has not run yet (with the
** incremental collector it runs steps later).  Such a node is dying: its
** entries are zombies already. */
static int pushowner(lua_State *L, int hidx, mc_node *node) {
  int t;
  if (node == NULL)
    return lua_getiuservalue(L, hidx, MC_UV_ROOT) == LUA_TTABLE;
  pushnodes(L, hidx);
  t = lua_rawgetp(L, -1, node);
  lua_remove(L, -2);
  return t == LUA_TTABLE;
}

/* Empty live nodes leave the tree, so that a long-lived object argument
** whose entries were all evicted costs nothing. */
static void prune(lua_State *L, mc_lcore *lc, int hidx, mc_node *n) {
  while (n != NULL && n->state == MC_NODE_LIVE && n->nentries == 0 &&
         n->nchildren == 0) {
    mc_node *p = n->parent;
    pushnodes(L, hidx);
    if (lua_rawgetp(L, -1, n) != LUA_TTABLE) {
      /* dying (see pushowner): its finalizer will free it, and its
      ** sentinel still points to it, so it must not be freed now */
      lua_pop(L, 2);
      return;
    }
    lua_rawgeti(L, -1, 1);
    ((mc_sentinel *)lua_touserdata(L, -1))->node = NULL;
    lua_pop(L, 1);
    pushowner(L, hidx, p);  /* alive: it holds the child's table */
    lua_rawgeti(L, -2, 2);
    lua_pushnil(L);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    lua_pushnil(L);
    lua_rawsetp(L, -3, n);
    lua_pop(L, 2);
    mc_node_detach(&lc->c, n);
    n = p;
  }
}

/* Removes 'e' and its value; with on_evict, queues (key, value, reason).
** Returns 0 for a zombie (its object died: no value, no notice). */
static int drop(lua_State *L, mc_lcore *lc, int hidx, mc_entry *e,
                pending *pd, const char *reason) {
  mc_node *node = e->node;
  int t;
  if ((node != NULL && node->state != MC_NODE_LIVE) ||
      !pushowner(L, hidx, node)) {
    if (node != NULL && node->state == MC_NODE_LIVE)
      lua_pop(L, 1);  /* the nil of a dying node */
    mc_cache_remove(&lc->c, e);
    return 0;
  }
  t = lua_gettop(L);
  if (pd->idx != 0) {
    luaL_checkstack(L, 4, NULL);
    pushkey(L, hidx, e);
    lua_rawseti(L, pd->idx, ++pd->n);
    pushvalues(L, e, t, 1);
    lua_rawseti(L, pd->idx, ++pd->n);
    lua_pushstring(L, reason);
    lua_rawseti(L, pd->idx, ++pd->n);
  }
  if (intable(e)) {
    lua_pushnil(L);
    lua_rawsetp(L, t, e);
  }
  lua_pop(L, 1);
  mc_cache_remove(&lc->c, e);
  if (node != NULL)
    prune(L, lc, hidx, node);
  return 1;
}

static void pending_init(lua_State *L, mc_lcore *lc, pending *pd) {
  pd->n = 0;
  pd->idx = 0;
  if (lc->flags & MC_HAS(MC_OPT_ONEVICT)) {
    lua_createtable(L, 6, 0);
    pd->idx = lua_gettop(L);
  }
}

/* Calls on_evict for each queued eviction, the cache being consistent; an
** error propagates (the remaining notices are lost with it). */
static void pending_run(lua_State *L, int hidx, pending *pd) {
  int i;
  if (pd->idx == 0)
    return;
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

/* Evicts until 'need' more weight fits, never 'avoid'. */
static void evict(lua_State *L, mc_lcore *lc, int hidx, long long need,
                  mc_entry *avoid, pending *pd) {
  mc_cache *c = &lc->c;
  while (c->currsize > c->maxsize - need) {
    mc_entry *v;
    if (mc_cache_dirty(c))
      mc_cache_purge(c);
    v = mc_cache_victim(c, avoid);
    if (v == NULL)
      break;
    if (drop(L, lc, hidx, v, pd, "size"))
      c->stats.evictions++;
  }
}

static int expire(lua_State *L, mc_lcore *lc, int hidx, double now,
                  pending *pd) {
  mc_entry *e;
  int n = 0;
  while ((e = mc_cache_expired(&lc->c, now)) != NULL) {
    if (drop(L, lc, hidx, e, pd, "expired")) {
      lc->c.stats.expirations++;
      n++;
    }
  }
  return n;
}

/* }====================================================== */


/* {======================================================
** Operations shared with the method wrappers
** ======================================================= */

/* Looks the key first..last up in the cache 'h' (at 'hidx').  On a hit
** (F_PUSH) pushes the values and returns their count; MC_MISS or MC_NOKEY
** otherwise.  This is the hit path of every cached call: keep it lean. */
static int lookup(lua_State *L, mc_handle *h, int hidx, int first, int last,
                  int flags) {
  mc_lcore *lc = h->core;
  mc_cache *c = &lc->c;
  double now = 0;
  keyctx kc;
  mc_entry *e;
  int st, n;
  if (lc->closed)
    return MC_MISS;
  if (mc_cache_dirty(c))
    mc_cache_purge(c);
  if (timed(c))
    now = getnow(L, lc, hidx);
  st = getkey(L, lc, hidx, first, last, &kc, 0);
  if (st == KEY_NAN)
    return MC_NOKEY;
  e = (st == KEY_OK) ? findkey(c, &kc) : NULL;
  if (e == NULL || (timed(c) && !(now < e->expires)) ||
      (e->node != NULL && e->node->state != MC_NODE_LIVE)) {
    if (flags & F_COUNT)
      c->stats.misses++;
    lua_pop(L, kc.extra);
    return MC_MISS;
  }
  if (flags & F_TOUCH)
    mc_cache_touch(c, e);
  if (flags & F_COUNT)
    c->stats.hits++;
  n = 0;
  if (flags & F_PUSH)
    n = pushvalues(L, e, intable(e) ? valtable(L, &kc, hidx) : 0, 0);
  dropextra(L, &kc, n);
  return n;
}

/* The hit path of cached calls.  Arguments compared by value are encoded
** straight into a buffer on the C stack; anything else (object arguments,
** timed policies, dead nodes to purge, a finalized cache, long keys) takes
** the general lookup(). */
int mc_lcache_fetch(lua_State *L, mc_handle *h, int hidx, int first,
                    int last) {
  const int all = F_COUNT | F_TOUCH | F_PUSH;
  mc_lcore *lc = h->core;
  mc_cache *c = &lc->c;
  unsigned char buf[KEYBUF];
  mc_kbuf k;
  mc_entry *e;
  int i, n;
  if (lc->closed || mc_cache_dirty(c) || timed(c))
    return lookup(L, h, hidx, first, last, all);
  mc_key_begin(&k, buf, KEYBUF, c->seed);
  for (i = first; i <= last; i++) {
    int r = encode_value(L, i, lua_type(L, i), lc->typed, &k);
    if (r <= 0)
      return r == 0 ? MC_NOKEY : lookup(L, h, hidx, first, last, all);
  }
  if (k.len > k.cap)
    return lookup(L, h, hidx, first, last, all);
  mc_key_end(&k, NULL);
  e = mc_cache_find(c, buf, k.len, mc_key_hash(&k));
  if (e == NULL) {
    c->stats.misses++;
    return MC_MISS;
  }
  mc_cache_touch(c, e);
  c->stats.hits++;
  switch (e->vtag) {  /* the inline values of pushvalues(), inline */
    case VT_INT: lua_pushinteger(L, (lua_Integer)e->v.i); return 1;
    case VT_FLT: lua_pushnumber(L, (lua_Number)e->v.n); return 1;
    case VT_ONE: case VT_PACK: break;
    default: return pushvalues(L, e, 0, 0);
  }
  lua_getiuservalue(L, hidx, MC_UV_ROOT);
  n = pushvalues(L, e, lua_gettop(L), 0);
  lua_rotate(L, -(n + 1), -1);
  lua_pop(L, 1);
  return n;
}

static long long getweight(lua_State *L, mc_lcore *lc, int hidx, int vfirst,
                           int nres) {
  lua_Integer w;
  int isint, i;
  if (!(lc->flags & MC_HAS(MC_OPT_GETSIZEOF)))
    return 1;
  luaL_checkstack(L, nres + 2, "too many values");
  pushopt(L, hidx, MC_OPT_GETSIZEOF);
  for (i = 0; i < nres; i++)
    lua_pushvalue(L, vfirst + i);
  lua_call(L, nres, 1);
  w = lua_tointegerx(L, -1, &isint);
  if (!isint || w < 0)
    luaL_error(L, "methodcache: getsizeof must return a non-negative integer"
                  " (got %s)", luaL_typename(L, -1));
  lua_pop(L, 1);
  return (long long)w;
}

static double getexpiry(lua_State *L, mc_lcore *lc, int hidx, int first,
                        int last, int vfirst, int nres, double now) {
  double t;
  int isnum;
  if (lc->c.policy == MC_TTL)
    return now + lc->ttl;
  luaL_checkstack(L, 4, NULL);
  pushopt(L, hidx, MC_OPT_TTU);
  pushpacked(L, first, last - first + 1);
  pushpacked(L, vfirst, nres);
  lua_pushnumber(L, (lua_Number)now);
  lua_call(L, 3, 1);
  t = (double)lua_tonumberx(L, -1, &isnum);
  if (!isnum || t != t)
    luaL_error(L, "methodcache: ttu must return a number (got %s)",
               luaL_typename(L, -1));
  lua_pop(L, 1);
  return t;
}

/* Stores the values vfirst..vfirst+nres-1 under the key first..last.
** Returns 1 if stored, 0 if not (too heavy, already expired, NaN key).
** The stack is left as it was. */
int mc_lcache_store(lua_State *L, int hidx, int first, int last, int vfirst,
                    int nres) {
  mc_handle *h = (mc_handle *)lua_touserdata(L, hidx);
  mc_lcore *lc = h->core;
  mc_cache *c = live(h);
  int top = lua_gettop(L);
  long long weight;
  double now = 0, expires = 0;
  pending pd;
  keyctx kc;
  mc_entry *e;
  int st, stored = 0;
  if (c == NULL)
    return 0;
  luaL_checkstack(L, 12, NULL);
  weight = getweight(L, lc, hidx, vfirst, nres);
  if (timed(c)) {
    now = getnow(L, lc, hidx);
    expires = getexpiry(L, lc, hidx, first, last, vfirst, nres, now);
  }
  pending_init(L, lc, &pd);
  if (timed(c) && !(c->policy == MC_TLRU && !(now < expires)))
    expire(L, lc, hidx, now, &pd);
  st = getkey(L, lc, hidx, first, last, &kc, 0);
  if (st == KEY_NAN)
    goto done;
  e = (st == KEY_OK) ? findkey(c, &kc) : NULL;
  if (weight > c->maxsize || (timed(c) && !(now < expires))) {
    /* not stored; an older value must not stand in for this one */
    if (e != NULL)
      drop(L, lc, hidx, e, &pd, weight > c->maxsize ? "size" : "expired");
    goto done;
  }
  if (e != NULL && c->policy == MC_UNBOUNDED && weight > e->weight &&
      weight - e->weight > c->maxsize - c->currsize) {
    /* nothing to evict and the total weight would overflow */
    drop(L, lc, hidx, e, &pd, "size");
    goto done;
  }
  if (e != NULL) {
    setvalue(L, e, valtable(L, &kc, hidx), vfirst, nres);
    mc_cache_update(c, e, weight);
    if (timed(c))
      mc_cache_setexpiry(c, e, expires);
    evict(L, lc, hidx, 0, e, &pd);
  }
  else {
    lua_pop(L, kc.extra);
    evict(L, lc, hidx, weight, NULL, &pd);
    if (c->currsize > c->maxsize - weight)
      goto done;  /* unbounded and the total weight would overflow */
    st = getkey(L, lc, hidx, first, last, &kc, 1);
    e = mc_cache_insert(c, kc.k.p, kc.k.len,
                        mc_key_hash(&kc.k), weight, kc.node);
    if (e == NULL) {
      prune(L, lc, hidx, kc.node);
      luaL_error(L, "methodcache: not enough memory");
    }
    setvalue(L, e, valtable(L, &kc, hidx), vfirst, nres);
    if (timed(c))
      mc_cache_setexpiry(c, e, expires);
  }
  stored = 1;
 done:
  lua_settop(L, pd.idx ? pd.idx : top);
  pending_run(L, hidx, &pd);
  lua_settop(L, top);
  return stored;
}

/* Appends the key and the packed value of every live entry, in pairs
** order (and 'reason' after each, if not NULL), to the table at 'dest'
** from index *n + 1.  Zombies and expired entries are left out. */
static void collect(lua_State *L, mc_lcore *lc, int hidx, int dest, int *n,
                    const char *reason) {
  mc_cache *c = &lc->c;
  double now = timed(c) ? getnow(L, lc, hidx) : 0;
  mc_entry *e;
  luaL_checkstack(L, 4, NULL);
  for (e = mc_cache_next(c, NULL); e != NULL; e = mc_cache_next(c, e)) {
    if ((e->node != NULL && e->node->state != MC_NODE_LIVE) ||
        (timed(c) && !(now < e->expires)))
      continue;
    if (!pushowner(L, hidx, e->node)) {
      lua_pop(L, 1);
      continue;
    }
    pushkey(L, hidx, e);
    lua_rawseti(L, dest, ++*n);
    pushvalues(L, e, lua_gettop(L), 1);
    lua_rawseti(L, dest, ++*n);
    if (reason != NULL) {
      lua_pushstring(L, reason);
      lua_rawseti(L, dest, ++*n);
    }
    lua_pop(L, 1);
  }
}

/* Every entry goes; with on_evict each is reported as "cleared". */
void mc_lcache_clear(lua_State *L, int hidx) {
  mc_handle *h = (mc_handle *)lua_touserdata(L, hidx);
  mc_lcore *lc = h->core;
  mc_cache *c = live(h);
  int top = lua_gettop(L);
  pending pd;
  if (c == NULL)
    return;
  pending_init(L, lc, &pd);
  if (pd.idx != 0)
    collect(L, lc, hidx, pd.idx, &pd.n, "cleared");
  /* the old tables go with their values; live nodes of the old tree die
  ** with them and are freed when their notices come */
  mc_cache_clear(c);
  pushweak(L, &weakk_key);
  lua_setiuservalue(L, hidx, MC_UV_ROOT);
  lua_pushnil(L);
  lua_setiuservalue(L, hidx, MC_UV_NODES);
  pending_run(L, hidx, &pd);
  lua_settop(L, top);
}

/* maxsize as Lua sees it: math.huge for unbounded caches, nil while a
** method's factory has not made a cache yet (-1). */
void mc_lcache_pushmaxsize(lua_State *L, long long maxsize) {
  if (maxsize == LLONG_MAX)
    lua_pushnumber(L, HUGE_VAL);
  else if (maxsize < 0)
    lua_pushnil(L);
  else
    lua_pushinteger(L, (lua_Integer)maxsize);
}

size_t mc_lcache_count(mc_handle *h) {
  mc_cache *c = live(h);
  return c ? c->count : 0;
}

void mc_lcache_pushinfo(lua_State *L, mc_handle *h) {
  mc_cache *c = live(h);
  mc_stats zero = { 0, 0, 0, 0 };
  const mc_stats *s = c ? &c->stats : &zero;
  lua_createtable(L, 0, 6);
  lua_pushinteger(L, s->hits);
  lua_setfield(L, -2, "hits");
  lua_pushinteger(L, s->misses);
  lua_setfield(L, -2, "misses");
  lua_pushinteger(L, s->evictions);
  lua_setfield(L, -2, "evictions");
  lua_pushinteger(L, s->expirations);
  lua_setfield(L, -2, "expirations");
  lua_pushinteger(L, c ? c->currsize : 0);
  lua_setfield(L, -2, "currsize");
  lua_pushinteger(L, c ? c->bytes : 0);
  lua_setfield(L, -2, "bytes");
  mc_lcache_pushmaxsize(L, h->core->c.maxsize);
  lua_setfield(L, -2, "maxsize");
}

/* }====================================================== */


/* {======================================================
** Cache objects
** ======================================================= */

static int core_gc(lua_State *L) {
  mc_lcore *lc = (mc_lcore *)lua_touserdata(L, 1);
  if (!lc->closed) {
    lc->closed = 1;
    mc_cache_free(&lc->c);
  }
  return 0;
}

static int node_gc(lua_State *L) {
  mc_sentinel *s = (mc_sentinel *)lua_touserdata(L, 1);
  if (s->node != NULL && !s->core->closed)
    mc_node_kill(&s->core->c, s->node);
  s->node = NULL;
  return 0;
}

static long long checkmaxsize(lua_State *L, int arg, const char *fname) {
  lua_Integer n;
  int isint;
  if (lua_type(L, arg) != LUA_TNUMBER) {
    lua_pushfstring(L, "number expected, got %s", luaL_typename(L, arg));
    fail(L, arg, fname, lua_tostring(L, -1));
  }
  n = lua_tointegerx(L, arg, &isint);
  if (!isint)
    fail(L, arg, fname, "number has no integer representation");
  if (n < 0)
    fail(L, arg, fname, "maxsize must be a non-negative integer");
  return (long long)n;
}

/* Reads the options table at 'optidx' into the handle at the top. */
static void readopts(lua_State *L, mc_lcore *lc, int optidx, int arg,
                     const char *fname) {
  static const char *const fnopts[] = { "timer", "getsizeof", "on_evict" };
  int i;
  if (optidx == 0 || lua_isnoneornil(L, optidx))
    return;
  if (!lua_istable(L, optidx)) {
    lua_pushfstring(L, "options table expected, got %s",
                    luaL_typename(L, optidx));
    fail(L, arg, fname, lua_tostring(L, -1));
  }
  for (i = 0; i < 3; i++) {
    int t = lua_getfield(L, optidx, fnopts[i]);
    if (t == LUA_TFUNCTION) {
      lua_getiuservalue(L, -2, MC_UV_OPTS);
      lua_pushvalue(L, -2);
      lua_rawseti(L, -2, MC_OPT_TIMER + i);
      lua_pop(L, 1);
      lc->flags |= MC_HAS(MC_OPT_TIMER + i);
    }
    else if (t != LUA_TNIL) {
      lua_pushfstring(L, "option '%s' must be a function, got %s", fnopts[i],
                      luaL_typename(L, -1));
      fail(L, arg, fname, lua_tostring(L, -1));
    }
    lua_pop(L, 1);
  }
  lua_getfield(L, optidx, "typed");
  lc->typed = lua_toboolean(L, -1);
  lua_pop(L, 1);
  if (lua_getfield(L, optidx, "seed") != LUA_TNIL) {
    int isint;
    lua_Integer seed = lua_tointegerx(L, -1, &isint);
    if (!isint)
      fail(L, arg, fname, "option 'seed' must be an integer");
    mc_cache_seed_rr(&lc->c, (unsigned long long)seed);
  }
  lua_pop(L, 1);
}

/* Pushes a new cache.  'optidx' is the options table (0: none); the names
** of options not meant for caches ('policy', 'maxsize', ...) are checked by
** the caller. */
mc_handle *mc_lcache_new(lua_State *L, int policy, long long maxsize,
                         double ttl, int optidx, int argbase,
                         const char *fname) {
  mc_handle *h;
  mc_lcore *lc;
  unsigned seed;
  luaL_checkstack(L, 6, NULL);
  h = (mc_handle *)lua_newuserdatauv(L, sizeof(mc_handle), MC_NUV);
  h->core = NULL;
  luaL_setmetatable(L, MC_CACHE_MT);
  pushweak(L, &weakk_key);
  lua_setiuservalue(L, -2, MC_UV_ROOT);
  lua_createtable(L, 4, 0);
  lua_setiuservalue(L, -2, MC_UV_OPTS);
  lc = (mc_lcore *)lua_newuserdatauv(L, sizeof(mc_lcore), 0);
  /* an address of this state's memory, so seeds differ between caches */
  seed = (unsigned)((size_t)lc >> 4) ^ (unsigned)(size_t)&seed;
  mc_cache_init(&lc->c, NULL, NULL, policy, maxsize, seed);
  lc->c.alloc = lua_getallocf(L, &lc->c.aud);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &memory_key);
  lc->c.total = &((mc_memory *)lua_touserdata(L, -1))->bytes;
  lua_pop(L, 1);
  lc->closed = 0;
  lc->bound = 0;
  lc->typed = 0;
  lc->flags = 0;
  lc->ttl = ttl;
  luaL_setmetatable(L, MC_CORE_MT);
  lua_setiuservalue(L, -2, MC_UV_CORE);
  h->core = lc;
  readopts(L, lc, optidx, argbase, fname);
  return h;
}

static int construct(lua_State *L, int policy, const char *fname) {
  long long maxsize = LLONG_MAX;
  double ttl = 0;
  int optidx = 1;
  if (policy != MC_UNBOUNDED) {
    maxsize = checkmaxsize(L, 1, fname);
    optidx = 2;
  }
  if (policy == MC_TTL) {
    int isnum;
    ttl = (double)lua_tonumberx(L, 2, &isnum);
    if (!isnum || !(ttl > 0))
      fail(L, 2, fname, "ttl must be a positive number of seconds");
    optidx = 3;
  }
  else if (policy == MC_TLRU) {
    if (lua_type(L, 2) != LUA_TFUNCTION) {
      lua_pushfstring(L, "ttu function expected, got %s", luaL_typename(L, 2));
      fail(L, 2, fname, lua_tostring(L, -1));
    }
    optidx = 3;
  }
  lua_settop(L, optidx);
  if (!lua_isnil(L, optidx)) {
    /* options of caches only: anything else is a typo */
    luaL_checkstack(L, 4, NULL);
    if (lua_istable(L, optidx)) {
      lua_pushnil(L);
      while (lua_next(L, optidx)) {
        const char *k = lua_type(L, -2) == LUA_TSTRING
                        ? lua_tostring(L, -2) : "?";
        if (strcmp(k, "timer") && strcmp(k, "getsizeof") &&
            strcmp(k, "on_evict") && strcmp(k, "typed") &&
            strcmp(k, "seed")) {
          lua_pushfstring(L, "unknown option '%s'", k);
          fail(L, optidx, fname, lua_tostring(L, -1));
        }
        lua_pop(L, 1);
      }
    }
  }
  mc_lcache_new(L, policy, maxsize, ttl, optidx, optidx, fname);
  if (policy == MC_TLRU) {
    lua_getiuservalue(L, -1, MC_UV_OPTS);
    lua_pushvalue(L, 2);
    lua_rawseti(L, -2, MC_OPT_TTU);
    lua_pop(L, 1);
    ((mc_handle *)lua_touserdata(L, -1))->core->flags |= MC_HAS(MC_OPT_TTU);
  }
  return 1;
}

static int l_lru(lua_State *L) { return construct(L, MC_LRU, "lru"); }
static int l_lfu(lua_State *L) { return construct(L, MC_LFU, "lfu"); }
static int l_fifo(lua_State *L) { return construct(L, MC_FIFO, "fifo"); }
static int l_rr(lua_State *L) { return construct(L, MC_RR, "rr"); }
static int l_ttl(lua_State *L) { return construct(L, MC_TTL, "ttl"); }
static int l_tlru(lua_State *L) { return construct(L, MC_TLRU, "tlru"); }
static int l_unbounded(lua_State *L) {
  return construct(L, MC_UNBOUNDED, "unbounded");
}

/* A key for get/set/...: anything but nil (set only) and NaN. */
static int keyarg(lua_State *L, const char *fname, int strict) {
  int t = lua_type(L, 2);
  if (t == LUA_TNONE || t == LUA_TNIL) {
    if (strict)
      fail(L, 1, fname, "key expected, got nil");
    return 0;
  }
  if (t == LUA_TNUMBER && lua_tonumber(L, 2) != lua_tonumber(L, 2)) {
    if (strict)
      fail(L, 1, fname, "NaN cannot be a key");
    return 0;
  }
  return 1;
}

static int c_get(lua_State *L) {
  mc_handle *h = checkcache(L, "get");
  int n;
  lua_settop(L, 2);
  if (!keyarg(L, "get", 0)) {  /* nil or NaN: never a key */
    lua_pushnil(L);
    return 1;
  }
  n = lookup(L, h, 1, 2, 2, F_COUNT | F_TOUCH | F_PUSH);
  if (n >= 0)
    return n;
  lua_pushnil(L);  /* a miss is one nil, as for a table */
  return 1;
}

static int c_peek(lua_State *L) {
  mc_handle *h = checkcache(L, "peek");
  int n;
  lua_settop(L, 2);
  if (!keyarg(L, "peek", 0)) {
    lua_pushnil(L);
    return 1;
  }
  n = lookup(L, h, 1, 2, 2, F_PUSH);
  if (n >= 0)
    return n;
  lua_pushnil(L);
  return 1;
}

static int c_has(lua_State *L) {
  mc_handle *h = checkcache(L, "has");
  lua_settop(L, 2);
  lua_pushboolean(L, keyarg(L, "has", 0) && lookup(L, h, 1, 2, 2, 0) >= 0);
  return 1;
}

static int c_set(lua_State *L) {
  checkcache(L, "set");
  lua_settop(L, 3);
  keyarg(L, "set", 1);
  lua_pushboolean(L, mc_lcache_store(L, 1, 2, 2, 3, 1));
  return 1;
}

/* delete and pop: removes the key; pushes its value (if 'push') and
** returns whether a live entry was there. */
static int remove_key(lua_State *L, const char *fname, int push) {
  mc_handle *h = checkcache(L, fname);
  mc_lcore *lc = h->core;
  mc_cache *c = live(h);
  double now = 0;
  pending pd;
  keyctx kc;
  mc_entry *e = NULL;
  int found = 0;
  if (c == NULL || !keyarg(L, fname, 0))
    return 0;
  if (timed(c))
    now = getnow(L, lc, 1);
  pending_init(L, lc, &pd);
  if (getkey(L, lc, 1, 2, 2, &kc, 0) == KEY_OK) {
    e = findkey(c, &kc);
    if (e != NULL && e->node != NULL && e->node->state != MC_NODE_LIVE)
      e = NULL;
    lua_pop(L, kc.extra);
  }
  if (e != NULL) {
    int expired = timed(c) && !(now < e->expires);
    found = !expired;
    if (push && found) {
      pushowner(L, 1, e->node);
      pushvalues(L, e, lua_gettop(L), 1);
      lua_replace(L, 3);
    }
    drop(L, lc, 1, e, &pd, expired ? "expired" : "deleted");
    if (expired)
      c->stats.expirations++;
  }
  pending_run(L, 1, &pd);
  return found;
}

static int c_delete(lua_State *L) {
  lua_settop(L, 2);
  lua_pushboolean(L, remove_key(L, "delete", 0));
  return 1;
}

static int c_pop(lua_State *L) {
  lua_settop(L, 3);
  remove_key(L, "pop", 1);
  lua_settop(L, 3);
  return 1;
}

static int c_clear(lua_State *L) {
  checkcache(L, "clear");
  lua_settop(L, 1);
  mc_lcache_clear(L, 1);
  return 0;
}

static int c_expire(lua_State *L) {
  mc_handle *h = checkcache(L, "expire");
  mc_cache *c = live(h);
  pending pd;
  int n = 0;
  lua_settop(L, 1);
  if (c != NULL && timed(c)) {
    double now = getnow(L, h->core, 1);
    pending_init(L, h->core, &pd);
    n = expire(L, h->core, 1, now, &pd);
    pending_run(L, 1, &pd);
  }
  lua_pushinteger(L, n);
  return 1;
}

static int c_stats(lua_State *L) {
  mc_lcache_pushinfo(L, checkcache(L, "stats"));
  return 1;
}

static int c_len(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)mc_lcache_count(checkcache(L, "__len")));
  return 1;
}

static int snapshot_next(lua_State *L) {
  lua_Integer i = lua_tointeger(L, lua_upvalueindex(2));
  lua_Integer n = lua_tointeger(L, lua_upvalueindex(3));
  if (i >= n)
    return 0;
  lua_pushinteger(L, i + 2);
  lua_replace(L, lua_upvalueindex(2));
  lua_rawgeti(L, lua_upvalueindex(1), i + 1);
  lua_rawgeti(L, lua_upvalueindex(1), i + 2);
  return 2;
}

/* pairs(c): a snapshot, so that the loop body may use the cache freely
** (a get would otherwise move entries under the iterator's feet). */
static int c_pairs(lua_State *L) {
  mc_handle *h = checkcache(L, "__pairs");
  mc_cache *c = live(h);
  int n = 0;
  lua_settop(L, 1);
  lua_createtable(L, c ? (int)(c->count * 2) : 0, 0);
  if (c != NULL)
    collect(L, h->core, 1, 2, &n, NULL);
  lua_pushinteger(L, 0);
  lua_pushinteger(L, n);
  lua_pushcclosure(L, snapshot_next, 3);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

static int c_tostring(lua_State *L) {
  mc_handle *h = checkcache(L, "__tostring");
  lua_pushfstring(L, "methodcache.%s(%I): %I entries (%p)",
                  mc_policy_names[h->core->c.policy],
                  (lua_Integer)h->core->c.maxsize,
                  (lua_Integer)mc_lcache_count(h), (void *)h);
  return 1;
}

static int c_index(lua_State *L) {
  const char *k;
  lua_settop(L, 2);
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL)
    return 1;
  k = lua_tostring(L, 2);
  if (k != NULL && strcmp(k, "maxsize") == 0) {
    mc_lcache_pushmaxsize(L, checkcache(L, "__index")->core->c.maxsize);
    return 1;
  }
  if (k != NULL && strcmp(k, "policy") == 0) {
    mc_handle *h = checkcache(L, "__index");
    lua_pushstring(L, mc_policy_names[h->core->c.policy]);
    return 1;
  }
  return 0;
}

static const luaL_Reg cache_methods[] = {
  {"get", c_get},
  {"set", c_set},
  {"has", c_has},
  {"peek", c_peek},
  {"delete", c_delete},
  {"pop", c_pop},
  {"clear", c_clear},
  {"expire", c_expire},
  {"stats", c_stats},
  {NULL, NULL}
};

static const luaL_Reg cache_meta[] = {
  {"__len", c_len},
  {"__pairs", c_pairs},
  {"__tostring", c_tostring},
  {"__index", NULL},  /* placeholder, set below */
  {NULL, NULL}
};

/* methodcache.memory(): bytes of C memory held by all caches of this
** state, which collectgarbage("count") does not include. */
static int l_memory(lua_State *L) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &memory_key);
  lua_pushinteger(L, ((mc_memory *)lua_touserdata(L, -1))->bytes);
  return 1;
}

static const luaL_Reg constructors[] = {
  {"memory", l_memory},
  {"lru", l_lru},
  {"lfu", l_lfu},
  {"fifo", l_fifo},
  {"rr", l_rr},
  {"ttl", l_ttl},
  {"tlru", l_tlru},
  {"unbounded", l_unbounded},
  {NULL, NULL}
};

/* Stack: the module table.  Adds the constructors to it. */
int mc_lcache_open(lua_State *L) {
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_rawsetp(L, LUA_REGISTRYINDEX, &weakk_key);
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "v");
  lua_setfield(L, -2, "__mode");
  lua_rawsetp(L, LUA_REGISTRYINDEX, &weakv_key);

  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &memory_key) != LUA_TUSERDATA) {
    mc_memory *m = (mc_memory *)lua_newuserdatauv(L, sizeof(mc_memory), 0);
    m->bytes = 0;
    lua_rawsetp(L, LUA_REGISTRYINDEX, &memory_key);
  }
  lua_pop(L, 1);
  if (luaL_newmetatable(L, MC_CORE_MT)) {
    lua_pushcfunction(L, core_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  if (luaL_newmetatable(L, MC_NODE_MT)) {
    lua_pushcfunction(L, node_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  if (luaL_newmetatable(L, MC_CACHE_MT)) {
    luaL_setfuncs(L, cache_meta, 0);
    luaL_newlib(L, cache_methods);
    lua_pushcclosure(L, c_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushliteral(L, "methodcache");
    lua_setfield(L, -2, "__metatable");
  }
  lua_pop(L, 1);
  luaL_setfuncs(L, constructors, 0);
  return 0;
}

/* }====================================================== */
