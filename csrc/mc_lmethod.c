/*
** mc_lmethod.c: cached methods and functions.
**
** A cached method is a C closure; its upvalues are
**   1  the mc_method, as a light userdata (a full userdata's address takes
**      more loads to compute, and this is read on every call);
**   2  methods: a weak-keyed table self -> cache handle (an ephemeron: the
**      cache, its values and whatever they point to never keep self alive);
**      with store "object", a table self keeps its handle in a field of its
**      own instead (m_callobj), and the list of upvalue 5 lists it;
**      functions: the one cache handle;
**   3  the wrapped function;
**   4  the factory (decorator form), or the shared table of option
**      functions given to every per-object cache (options form);
**   5  the mc_method userdata itself, which upvalue 1 points into; with
**      store "object", the key of the private field of each table self,
**      and its user value MC_METHOD_UV_LIST lists their caches;
**   6  with option coalesce only: the per-state table of in-flight
**      computations (mc_lcoalesce.c);
**   7  with option key only: the key function (upvalue 6 is then nil
**      without coalesce).
** Every one is listed in a per-state weak table, for statistics
** (mc_lstats.c).
** The hit path is m_call -> mc_op_fetch; misses call the function with
** lua_callk so that it may yield, and store in the continuation.  A miss of
** a coalescing method that may yield goes to mc_lcoalesce_miss instead.
*/
#include <limits.h>
#include <math.h>
#include <string.h>

#include "mc_lua.h"

/* Raises unless self (at 1) is an object; 'fname' names the method (NULL:
** the running function). */
void mc_lmethod_checkself(lua_State *L, const char *fname) {
  int t = lua_type(L, 1);
  if (mc_byidentity(t))
    return;
  fname = mc_fname(L, fname);
  if (t == LUA_TSTRING)
    mc_argerror(L, 1, fname, "self is a string and cannot be held weakly: "
                "use methodcache.cached for functions of strings");
  if (t == LUA_TLIGHTUSERDATA)
    mc_argerror(L, 1, fname, "self is a light userdata, which is never "
                "collected: use methodcache.cached for functions of it");
  mc_argerror(L, 1, fname, "self is %s: call the method with ':', as in "
              "obj:%s(...)", t == LUA_TNONE || t == LUA_TNIL ? "nil" :
              t == LUA_TBOOLEAN ? "a boolean" : "a number",
              strcmp(fname, "?") == 0 ? "method" : fname);  /* called unnamed,
                                                  as by pcall(o.m, 5) */
}

/* Pushes a new cache made from the options; 'fns' is the shared table of
** option functions.  A method's cache joins the method's block
** (mc_lbudget.c: upvalue 5 is the method's userdata). */
static mc_handle *newcache(lua_State *L, mc_method *m, int fns) {
  mc_handle *h = mc_lcache_new(L, &m->o, fns);
  h->core->bound = 1;
  if (m->self)
    mc_lbudget_bind(L, lua_upvalueindex(5), lua_gettop(L));
  return h;
}

static int m_done(lua_State *L, int status, lua_KContext ctx) {
  mc_method *m = (mc_method *)lua_touserdata(L, lua_upvalueindex(1));
  int n = (int)(ctx >> 1);
  int nres = lua_gettop(L) - (n + 1);
  (void)status;
  if (ctx & 1)
    mc_op_store(L, n + 1, MC_KEYFIRST(m, n), n, n + 2, nres, NULL);
  return nres;
}

/* A miss: calls the function with the arguments (n), then stores its
** results if 'store'.  Stack: the arguments, the cache. */
int mc_lmethod_compute(lua_State *L, int n, int store) {
  mc_method *m = (mc_method *)lua_touserdata(L, lua_upvalueindex(1));
  lua_KContext ctx = ((lua_KContext)n << 1) | (store != 0);
  int i, a = MC_NARGS(m, n);
  luaL_checkstack(L, a + 2, "too many arguments");
  lua_pushvalue(L, lua_upvalueindex(3));
  for (i = 1; i <= a; i++)
    lua_pushvalue(L, i);
  lua_callk(L, a, LUA_MULTRET, ctx, m_done);
  return m_done(L, LUA_OK, ctx);
}

/* Stack: the arguments (n), the cache 'h'. */
static int m_lookup(lua_State *L, mc_method *m, mc_handle *h, int n) {
  int r = mc_op_fetch(L, h, n + 1, MC_KEYFIRST(m, n), n);
  if (r >= 0) {
    m->hits++;
    return r;
  }
  m->misses++;
  if (!m->named)
    mc_lstats_name(L, m, lua_upvalueindex(5));
  /* a call that cannot yield could not wait: it computes as without */
  if (m->o.coalesce && r == MC_MISS && lua_isyieldable(L))
    return mc_lcoalesce_miss(L, n, MC_KEYFIRST(m, n));
  return mc_lmethod_compute(L, n, r != MC_NOKEY);
}

/* Store "object": the method's list of caches is a weak-valued sequence.
** Not a weak-keyed set: the collector visits such a table in hash order and
** reads the mark of each key, a cache miss per cache, which took 4/5 of a
** full collection of a chain of 16,000 objects (docs/DESIGN.md, section
** 16); the array of a weak-valued table is only read once, in the atomic
** phase, in the order the caches were made.  The sequence is made anew
** without its dead slots when it has grown to twice the caches alive the
** last time, so a listing costs O(1) amortized.
**
** Only the new table's allocation can run a finalizer here, which may list
** caches or renew the list itself: after it the list is read again, and
** copied with raw sets into the slots made for it, which allocate nothing;
** if finalizers listed more caches than those slots, the renewal is left
** for a later listing.  An error (memory) leaves the old list in place. */
static void renewlist(lua_State *L, mc_method *m, int udidx) {
  lua_Integer i, j = 0, n = m->listed;
  lua_createtable(L, n < INT_MAX ? (int)n : INT_MAX, 0);
  lua_getiuservalue(L, udidx, MC_METHOD_UV_LIST);  /* as it is now */
  if (m->listed >= m->listmax) {  /* no finalizer renewed it meanwhile */
    for (i = 1; i <= m->listed && j <= n; i++) {
      if (lua_rawgeti(L, -1, i) == LUA_TNIL)
        lua_pop(L, 1);
      else if (++j <= n)
        lua_rawseti(L, -3, j);
      else
        lua_pop(L, 1);
    }
    if (j <= n) {
      lua_getmetatable(L, -1);  /* the weak-valued metatable */
      lua_setmetatable(L, -3);
      lua_pushvalue(L, -2);
      lua_setiuservalue(L, udidx, MC_METHOD_UV_LIST);
      m->listed = j;
    }
    m->listmax = m->listed < 32 ? 64 : 2 * m->listed;
  }
  lua_pop(L, 2);
}

/* Lists the handle at 'hidx' in the list of the method's userdata at
** 'udidx'.  The set may grow the table and so run a finalizer that renews
** the list: then the slot written is in the old one, and the handle is
** listed again in the new one. */
static void listcache(lua_State *L, mc_method *m, int udidx, int hidx) {
  int again;
  if (m->listed >= m->listmax)
    renewlist(L, m, udidx);
  do {
    lua_getiuservalue(L, udidx, MC_METHOD_UV_LIST);
    lua_pushvalue(L, hidx);
    lua_rawseti(L, -2, ++m->listed);
    lua_getiuservalue(L, udidx, MC_METHOD_UV_LIST);
    again = !lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
  } while (again);
}

/* Store "object": the new cache at 'hidx' becomes the cache of the table
** at 'self', in its private field under the method's userdata at 'udidx'.
** It is listed before it is reachable from self: a finalizer run by these
** sets that calls the method on self makes its own cache, which ours then
** replaces. */
static void objstore_put(lua_State *L, mc_method *m, int self, int hidx,
                         int udidx) {
  mc_handle *h = (mc_handle *)lua_touserdata(L, hidx);
  h->tag = mc_objstore_tag(lua_topointer(L, self), m);
  lua_pushvalue(L, self);
  lua_setiuservalue(L, hidx, MC_UV_OWNER);
  listcache(L, m, udidx, hidx);
  lua_pushvalue(L, udidx);
  lua_pushvalue(L, hidx);
  lua_rawset(L, self);
}

/* The cache at 'idx', which the factory returned, becomes the cache of the
** object at 'self' in the table of caches at 'objs' (store "object": in
** the field of a table self); 'midx' is the method's userdata, whose block
** the cache joins (mc_lbudget.c). */
static mc_handle *adopt(lua_State *L, mc_method *m, int self, int idx,
                        int objs, int midx) {
  mc_handle *h = mc_lcache_test(L, idx);
  if (h == NULL || h->core->bound)
    luaL_error(L, "methodcache: the cache factory must return a new "
                  "methodcache cache (got %s)",
               h ? "a cache already in use" : luaL_typename(L, idx));
  h->core->bound = 1;
  mc_lbudget_bind(L, midx, idx);
  m->caches++;
  m->o.maxsize = h->core->c.maxsize;
  m->o.policy = h->core->c.policy;
  if (m->o.store == MC_STORE_OBJECT && lua_type(L, self) == LUA_TTABLE)
    objstore_put(L, m, self, idx, midx);
  else {
    lua_pushvalue(L, self);
    lua_pushvalue(L, idx);
    lua_rawset(L, objs);
  }
  return h;
}

/* Stack: the arguments (n), what the factory returned. */
static int m_gotcache(lua_State *L, int status, lua_KContext ctx) {
  mc_method *m = (mc_method *)lua_touserdata(L, lua_upvalueindex(1));
  int n = (int)ctx;
  mc_handle *h = adopt(L, m, 1, n + 1, lua_upvalueindex(2),
                       lua_upvalueindex(5));
  (void)status;
  return m_lookup(L, m, h, n);
}

static int m_call(lua_State *L) {
  mc_method *m = (mc_method *)lua_touserdata(L, lua_upvalueindex(1));
  mc_handle *h;
  int n = lua_gettop(L);
  if (!m->self) {
    lua_pushvalue(L, lua_upvalueindex(2));
    return m_lookup(L, m, (mc_handle *)lua_touserdata(L, -1), n);
  }
  lua_pushvalue(L, 1);
  if (lua_rawget(L, lua_upvalueindex(2)) != LUA_TUSERDATA ||
      (h = (mc_handle *)lua_touserdata(L, -1))->core->closed) {
    /* first call for this object (or its cache was finalized while the
    ** object came back to life in a finalizer): a new cache; only objects
    ** get there, so the check of self costs nothing on a hit */
    mc_lmethod_checkself(L, NULL);
    lua_pop(L, 1);
    if (m->factory) {
      luaL_checkstack(L, 2, NULL);
      lua_pushvalue(L, lua_upvalueindex(4));
      lua_callk(L, 0, 1, n, m_gotcache);
      return m_gotcache(L, LUA_OK, n);
    }
    h = newcache(L, m, lua_upvalueindex(4));
    m->caches++;
    lua_pushvalue(L, 1);
    lua_pushvalue(L, -2);
    lua_rawset(L, lua_upvalueindex(2));
  }
  return m_lookup(L, m, h, n);
}

/* Store "object".  Only a table can hold a field: any other self takes
** m_call and the weak table.  A copy of an object (made with pairs) brings
** the original's handle along; its owner is not the copy, so the copy gets
** a cache of its own at its first call. */
static int m_callobj(lua_State *L) {
  mc_method *m = (mc_method *)lua_touserdata(L, lua_upvalueindex(1));
  mc_handle *h;
  int n = lua_gettop(L);
  if (lua_type(L, 1) != LUA_TTABLE)
    return m_call(L);
  h = mc_objstore_get(L, 1, lua_upvalueindex(5), m);
  if (h == NULL || h->core->closed) {
    if (h != NULL)
      lua_pop(L, 1);
    h = newcache(L, m, lua_upvalueindex(4));
    m->caches++;
    objstore_put(L, m, 1, lua_gettop(L), lua_upvalueindex(5));
  }
  return m_lookup(L, m, h, n);
}

/* The key function returned the values after slot 'base': it must be one
** (a forgotten return gives none: not a key shared by every call). */
static void checkkey(lua_State *L, int base, const char *fname) {
  int nres = lua_gettop(L) - base;
  if (nres != 1)
    luaL_error(L, "%s: the key function must return one value, got %d",
               mc_fname(L, fname), nres);
}

/* Calls the key function at the top with the arguments first..last; its
** one result is pushed after them.  'k' goes on after a yield. */
static void callkey(lua_State *L, int first, int last, lua_KContext ctx,
                    lua_KFunction k) {
  int i;
  luaL_checkstack(L, last - first + 2, "too many arguments");
  for (i = first; i <= last; i++)
    lua_pushvalue(L, i);
  lua_callk(L, last - first + 1, LUA_MULTRET, ctx, k);
}

static int m_keyed(lua_State *L, int status, lua_KContext ctx) {
  mc_method *m = (mc_method *)lua_touserdata(L, lua_upvalueindex(1));
  (void)status;
  checkkey(L, (int)ctx, NULL);
  /* the key is one more argument (MC_KEYFIRST) */
  return m->o.store == MC_STORE_OBJECT ? m_callobj(L) : m_call(L);
}

/* A method or function with option key: the key function's result is the
** key; then as m_call (or m_callobj). */
static int m_keycall(lua_State *L) {
  mc_method *m = (mc_method *)lua_touserdata(L, lua_upvalueindex(1));
  int n = lua_gettop(L);
  if (m->self)
    mc_lmethod_checkself(L, NULL);  /* before the key function sees the arguments */
  luaL_checkstack(L, 1, NULL);
  lua_pushvalue(L, lua_upvalueindex(7));
  callkey(L, m->self ? 2 : 1, n, n, m_keyed);
  return m_keyed(L, LUA_OK, n);
}


/* {======================================================
** Construction
** ======================================================= */

/* core.method(fn, opts), core.cached(fn, opts), core.decorate(fn, factory) */
static int newmethod(lua_State *L, int self, int factory, const char *fname) {
  mc_method *m;
  if (!mc_iscallable(L, 1))
    mc_argerror(L, 1, fname, "function expected, got %s",
                luaL_typename(L, 1));
  lua_settop(L, 2);
  m = (mc_method *)lua_newuserdatauv(L, sizeof(mc_method), MC_METHOD_NUV);
  memset(m, 0, sizeof(*m));
  luaL_setmetatable(L, MC_METHOD_MT);
  m->self = self;
  m->factory = factory;
  mc_opts_init(&m->o, MC_LRU);
  if (factory) {
    if (!mc_iscallable(L, 2))
      mc_argerror(L, 1, "methodcache", "cache factory function expected, "
                  "got %s", luaL_typename(L, 2));
    m->o.maxsize = -1;  /* no cache yet */
    lua_pushvalue(L, 2);  /* upvalue 4 */
  }
  else {
    mc_opts_read(L, 2, 2, fname, MC_FOR_METHOD, &m->o);  /* upvalue 4 */
    if (m->o.policy == MC_FAST) {
      mc_lfast_new(L, &m->o, self, 2, fname);
      return 1;
    }
  }
  if (!self && m->o.total >= 0)
    mc_argerror(L, 2, fname, "option 'total' bounds the caches of a "
                "method's objects together; a cached function has one "
                "cache: bound it with maxsize");
  if (self)
    mc_lbudget_new(L, m, 3);
  if (!self && m->o.store != MC_STORE_WEAK)
    mc_argerror(L, 2, fname, "option 'store' is for methods: a cached "
                "function has one cache");
  if (m->o.store == MC_STORE_OBJECT) {
    mc_pushweak(L, 'v');
    lua_setiuservalue(L, 3, MC_METHOD_UV_LIST);
    m->listmax = 64;  /* renewlist's smallest */
  }
  if (self) {
    lua_createtable(L, 0, 0);
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
  }
  else
    newcache(L, m, 4);
  /* stack: fn, _, m, upvalue 4, upvalue 2 */
  lua_pushlightuserdata(L, m);
  lua_pushvalue(L, 5);
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 4);
  lua_pushvalue(L, 3);
  m->keyed = (m->o.flags & MC_HAS(MC_OPT_KEY)) != 0;
  if (m->o.coalesce)
    mc_lcoalesce_pushstate(L);  /* upvalue 6 */
  else if (m->keyed)
    lua_pushnil(L);
  if (m->keyed)
    lua_rawgeti(L, 4, MC_OPT_KEY);  /* upvalue 7 */
  lua_pushcclosure(L, m->keyed ? m_keycall :
                      m->o.store == MC_STORE_OBJECT ? m_callobj : m_call,
                   m->keyed ? 7 : m->o.coalesce ? 6 : 5);
  mc_lstats_register(L);
  return 1;
}

static int l_method(lua_State *L) { return newmethod(L, 1, 0, "method"); }
static int l_cached(lua_State *L) { return newmethod(L, 0, 0, "cached"); }
/* (fn, factory): what methodcache(factory)(fn) returns (mc_core.c) */
int mc_lmethod_decorate(lua_State *L) {
  return newmethod(L, 1, 1, "methodcache");
}

/* }====================================================== */


/* {======================================================
** info and clear
** ======================================================= */

/* The method at 'idx', or NULL if it is not a function made by us. */
static mc_method *tomethod(lua_State *L, int idx) {
  mc_method *m;
  lua_CFunction f = lua_tocfunction(L, idx);
  if (f != m_call && f != m_keycall && f != m_callobj)
    return NULL;
  lua_getupvalue(L, idx, 1);
  m = (mc_method *)lua_touserdata(L, -1);
  lua_pop(L, 1);
  return m;
}

/* What the value at 'idx' is: 0 nothing methodcache made, 1 a cached
** method, 2 a cached function (policy fast included). */
static int cachedkind(lua_State *L, int idx) {
  mc_method *m = tomethod(L, idx);
  int method;
  if (m != NULL)
    return m->self ? 1 : 2;
  if (!mc_lfast_pushcontrol(L, idx))
    return 0;
  lua_rawgeti(L, -1, MC_FAST_METHOD);
  method = lua_toboolean(L, -1);
  lua_pop(L, 2);
  return method ? 1 : 2;
}

/* The method at 1, or an argument error. */
static mc_method *checkmethod(lua_State *L, const char *fname) {
  mc_method *m = tomethod(L, 1);
  if (m == NULL)
    mc_argerror(L, 1, fname, "not a function made by methodcache, got %s",
                luaL_typename(L, 1));
  return m;
}

/* The method at 1 (an argument error if it is none); leaves arguments 1
** and 2 and pushes its table of caches, or its cache, at index 3. */
static mc_method *checkfn(lua_State *L, const char *fname) {
  mc_method *m = checkmethod(L, fname);
  lua_settop(L, 2);
  lua_getupvalue(L, 1, 2);  /* objects' caches, or the cache: index 3 */
  return m;
}

/* Pushes (at 4) a new sequence of every cache of the method at 1: the
** values of upvalue 2 (at 3) and of the list of store "object"; returns
** their count. */
static lua_Integer allcaches(lua_State *L, mc_method *m) {
  lua_Integer n = 0;
  lua_newtable(L);
  lua_pushvalue(L, 3);
  if (m->o.store == MC_STORE_OBJECT) {
    lua_getupvalue(L, 1, 5);
    lua_getiuservalue(L, -1, MC_METHOD_UV_LIST);
    lua_remove(L, -2);
  }
  while (lua_gettop(L) > 4) {  /* each table of caches, from the top */
    lua_pushnil(L);
    while (lua_next(L, -2))
      lua_rawseti(L, 4, ++n);
    lua_pop(L, 1);
  }
  return n;
}

static void setint(lua_State *L, const char *k, long long v) {
  lua_pushinteger(L, (lua_Integer)v);
  lua_setfield(L, -2, k);
}


/* Store "object": pushes the cache that the table at 2 holds for the
** method at 1 and returns it; or pushes nil and returns NULL. */
static mc_handle *pushobjstore(lua_State *L, mc_method *m) {
  mc_handle *h;
  lua_getupvalue(L, 1, 5);  /* the private key */
  h = mc_objstore_get(L, 2, lua_gettop(L), m);
  if (h == NULL)
    lua_pushnil(L);
  lua_remove(L, -2);
  return h;
}

/* Whether the object at 2 of the method 'm' keeps its cache in a field. */
#define inobject(L, m) \
  ((m)->o.store == MC_STORE_OBJECT && lua_type(L, 2) == LUA_TTABLE)

/* The cache of 'obj' (argument 2) for method at 1, or NULL; pushes it
** (or, for NULL, whatever). */
static mc_handle *objcache(lua_State *L, mc_method *m) {
  if (!m->self) {
    lua_pushvalue(L, 3);
    return (mc_handle *)lua_touserdata(L, -1);
  }
  if (inobject(L, m))
    return pushobjstore(L, m);
  lua_pushvalue(L, 2);
  lua_rawget(L, 3);
  return mc_lcache_test(L, -1);
}

static int l_info(lua_State *L) {
  mc_method *m;
  if (mc_lfast_control(L, MC_FAST_INFO) >= 0)
    return 1;
  m = checkfn(L, "info");
  if (!lua_isnil(L, 2) || !m->self) {
    mc_handle *h = objcache(L, m);
    if (h != NULL) {
      mc_lcache_pushinfo(L, h);
      if (!m->self) {  /* one cache: the totals are the method's */
        setint(L, "hits", m->hits);
        setint(L, "misses", m->misses);
        setint(L, "instances", 1);
        setint(L, "collected", 0);
      }
      return 1;
    }
    lua_createtable(L, 0, 6);
    setint(L, "hits", 0);
    setint(L, "misses", 0);
    setint(L, "currsize", 0);
    mc_lcache_pushmaxsize(L, m->o.policy, m->o.maxsize);
    lua_setfield(L, -2, "maxsize");
    return 1;
  }
  {
    long long currsize = 0, instances = 0, size, collected;
    mc_budget *b = m->budget;
    /* the walk marks the cores it sees; cores made meanwhile (by a
    ** finalizer run by allcaches' allocations) are marked when made */
    unsigned stamp = ++b->stamp;
    lua_Integer i, n = allcaches(L, m);
    for (i = 1; i <= n; i++) {
      mc_handle *h;
      lua_rawgeti(L, 4, i);
      h = mc_lcache_test(L, -1);
      if (h != NULL && !h->core->closed) {
        mc_lcache_count(h);  /* purges the dead */
        currsize += h->core->c.currsize;
        instances++;
        h->core->stamp = stamp;
      }
      lua_pop(L, 1);
    }
    /* entries of objects that died and whose finalizers have not run yet
    ** go now: the budget's sum is then the walk's.  All is read before
    ** the result allocates (and lets finalizers run): one snapshot */
    if (b->total >= 0)
      mc_lbudget_sweep(b, stamp);
    size = b->size;
    collected = b->collected;
    lua_createtable(L, 0, 8);
    setint(L, "hits", m->hits);
    setint(L, "misses", m->misses);
    setint(L, "currsize", currsize);
    setint(L, "instances", instances);
    setint(L, "collected", collected);
    mc_lcache_pushmaxsize(L, m->o.policy, m->o.maxsize);
    lua_setfield(L, -2, "maxsize");
    if (b->total >= 0) {
      setint(L, "total", b->total);
      setint(L, "size", size);
    }
  }
  return 1;
}

static int l_clear(lua_State *L) {
  mc_method *m;
  if (mc_lfast_control(L, MC_FAST_CLEAR) >= 0)
    return 0;
  m = checkfn(L, "clear");
  if (!lua_isnil(L, 2) || !m->self) {
    if (objcache(L, m) != NULL)
      mc_op_clear(L, lua_gettop(L));
    return 0;
  }
  /* a list first: on_evict may call the method and add objects */
  {
    lua_Integer i, n = allcaches(L, m);
    for (i = 1; i <= n; i++) {
      lua_rawgeti(L, 4, i);
      if (mc_lcache_test(L, -1) != NULL)
        mc_op_clear(L, lua_gettop(L));
      lua_pop(L, 1);
    }
  }
  return 0;
}

/* }====================================================== */


/* {======================================================
** One key from outside: refresh and delete
**
** Stack: the method f at 1, the arguments at 2..a+1 (a: the context), the
** object at 2 for a method.  With option key the key function's result
** follows them, as in a call (MC_KEYFIRST); then the cache.  Neither
** counts as a hit or a miss, and neither joins a flight of coalesce.
** ======================================================= */

#define R_FIRST(m, a)  (1 + MC_KEYFIRST(m, (a) + (m)->keyed))
#define R_LAST(m, a)   ((a) + 1 + (m)->keyed)

/* Pushes the live cache of the object at 2 (method) or the cache
** (function) and returns it; NULL (and nil pushed) if there is none. */
static mc_handle *pushcache(lua_State *L, mc_method *m) {
  mc_handle *h;
  if (m->self && inobject(L, m))
    h = pushobjstore(L, m);
  else {
    lua_getupvalue(L, 1, 2);
    if (m->self) {
      lua_pushvalue(L, 2);
      lua_rawget(L, -2);
      lua_remove(L, -2);
    }
    h = mc_lcache_test(L, -1);
  }
  if (h != NULL && h->core->closed) {
    lua_pop(L, 1);
    lua_pushnil(L);
    h = NULL;
  }
  return h;
}

static int d_key(lua_State *L, mc_method *m, int a) {
  lua_pushboolean(L, pushcache(L, m) != NULL &&
                     mc_op_delete(L, lua_gettop(L), R_FIRST(m, a),
                                  R_LAST(m, a), "delete"));
  return 1;
}

/* Stack: the key, the cache; the function's results after them. */
static int r_done(lua_State *L, int status, lua_KContext ctx) {
  mc_method *m = tomethod(L, 1);
  int a = (int)ctx, h = R_LAST(m, a) + 1;
  int nres = lua_gettop(L) - h;
  (void)status;
  mc_op_store(L, h, R_FIRST(m, a), R_LAST(m, a), h + 1, nres, "refresh");
  return nres;
}

/* Stack: the key, the cache. */
static int r_compute(lua_State *L, int a) {
  int i;
  luaL_checkstack(L, a + 1, "too many arguments");
  lua_getupvalue(L, 1, 3);
  for (i = 2; i <= a + 1; i++)
    lua_pushvalue(L, i);
  lua_callk(L, a, LUA_MULTRET, a, r_done);
  return r_done(L, LUA_OK, a);
}

/* Stack: the key, what the factory returned. */
static int r_gotcache(lua_State *L, int status, lua_KContext ctx) {
  mc_method *m = tomethod(L, 1);
  int a = (int)ctx, top = lua_gettop(L);
  (void)status;
  lua_getupvalue(L, 1, 2);
  lua_getupvalue(L, 1, 5);
  adopt(L, m, 2, top, top + 1, top + 2);
  lua_settop(L, top);
  return r_compute(L, a);
}

static int r_key(lua_State *L, mc_method *m, int a) {
  if (pushcache(L, m) == NULL) {  /* the object's first: a new cache */
    lua_pop(L, 1);
    lua_getupvalue(L, 1, 4);
    if (m->factory) {
      lua_callk(L, 0, 1, a, r_gotcache);
      return r_gotcache(L, LUA_OK, a);
    }
    mc_lcache_new(L, &m->o, lua_gettop(L));
    lua_remove(L, -2);
    return r_gotcache(L, LUA_OK, a);
  }
  return r_compute(L, a);
}

/* The key is there (context: a, and 1 for refresh): goes on with it. */
static int keyready(lua_State *L, int status, lua_KContext ctx) {
  mc_method *m = tomethod(L, 1);
  int a = (int)(ctx >> 1), refresh = (int)(ctx & 1);
  (void)status;
  if (m->keyed)
    checkkey(L, a + 1, refresh ? "refresh" : "delete");
  return refresh ? r_key(L, m, a) : d_key(L, m, a);
}

/* Checks f and the object; with option key, calls the key function. */
static int onekey(lua_State *L, int refresh) {
  const char *fname = refresh ? "refresh" : "delete";
  mc_method *m = checkmethod(L, fname);
  int a = lua_gettop(L) - 1;
  lua_KContext ctx = ((lua_KContext)a << 1) | refresh;
  if (m->self && !mc_lkey_hasobject(L, 2, 2))
    mc_argerror(L, 2, fname, "object expected, got %s", luaL_typename(L, 2));
  if (m->keyed) {
    luaL_checkstack(L, 1, NULL);
    lua_getupvalue(L, 1, 7);
    callkey(L, m->self ? 3 : 2, a + 1, ctx, keyready);
  }
  return keyready(L, LUA_OK, ctx);
}

/* methodcache.refresh(f, obj, ...), methodcache.refresh(f, ...) */
static int l_refresh(lua_State *L) {
  int r = mc_lfast_onekey(L, 1);
  return r >= 0 ? r : onekey(L, 1);
}

/* methodcache.delete(f, obj, ...), methodcache.delete(f, ...) */
static int l_delete(lua_State *L) {
  int r = mc_lfast_onekey(L, 0);
  return r >= 0 ? r : onekey(L, 0);
}

/* }====================================================== */


/* {======================================================
** wrapped and wrap
** ======================================================= */

/* methodcache.wrapped(f): the function f caches */
static int l_wrapped(lua_State *L) {
  if (mc_lfast_pushcontrol(L, 1)) {
    lua_rawgeti(L, -1, MC_FAST_FN);
    return 1;
  }
  checkmethod(L, "wrapped");
  lua_getupvalue(L, 1, 3);
  return 1;
}

/* Pushes the table in which the instances of the class at 'cls' find their
** methods: cls.__index if it is a table (cls itself when cls.__index =
** cls; the table of methods of a userdata's metatable), else cls (an
** __index function, as pl.class.properties makes).  It is where a helper
** for cached properties would hook __index. */
static void pushmethods(lua_State *L, int cls) {
  lua_pushliteral(L, "__index");
  if (lua_rawget(L, cls) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_pushvalue(L, cls);
  }
}

/* methodcache.wrap(Class, name, ...[, opts]): each method becomes
** methodcache.method(method, opts) in place; one that is a cached method
** already is left as it is. */
static int l_wrap(lua_State *L) {
  int last = lua_gettop(L), opts = 0, t, i;
  if (!lua_istable(L, 1))
    mc_argerror(L, 1, "wrap", "class table expected, got %s%s",
                luaL_typename(L, 1), lua_type(L, 1) == LUA_TUSERDATA ?
                ": give its metatable or its table of methods" : "");
  if (last >= 3 && (lua_istable(L, last) || lua_isnil(L, last)))
    opts = last--;
  if (last < 2)
    mc_argerror(L, 2, "wrap", "method name expected, got no value");
  if (opts) {  /* its errors name wrap; each method reads it again */
    mc_opts o;
    mc_opts_init(&o, MC_LRU);
    mc_opts_read(L, opts, opts, "wrap", MC_FOR_METHOD, &o);
    if (o.policy == MC_FAST)
      mc_lfast_checkopts(L, &o, opts, "wrap");
  }
  lua_settop(L, last + (opts != 0));
  luaL_checkstack(L, last + 4, NULL);
  pushmethods(L, 1);
  t = lua_gettop(L);
  /* every name is checked before any method is replaced: an error changes
  ** nothing.  The methods go at t + 1 .. */
  for (i = 2; i <= last; i++) {
    int kind;
    if (lua_type(L, i) != LUA_TSTRING)
      mc_argerror(L, i, "wrap", "method name expected, got %s",
                  luaL_typename(L, i));
    lua_pushvalue(L, i);
    lua_gettable(L, t);  /* as an instance finds it: inherited too */
    kind = cachedkind(L, -1);
    if (kind == 2)
      mc_argerror(L, i, "wrap", "'%s' is a function made by "
                  "methodcache.cached, not a method", lua_tostring(L, i));
    if (kind == 0 && !mc_iscallable(L, -1))
      mc_argerror(L, i, "wrap", "'%s' must be a method of the class, got %s",
                  lua_tostring(L, i), luaL_typename(L, -1));
  }
  for (i = 2; i <= last; i++) {
    int v = t + i - 1, twice;
    if (cachedkind(L, v) != 0)
      continue;  /* cached already */
    lua_pushvalue(L, i);
    lua_rawget(L, t);
    twice = cachedkind(L, -1) != 0;  /* named before in this call */
    lua_pop(L, 1);
    if (twice)
      continue;
    lua_pushvalue(L, i);
    lua_pushcfunction(L, l_method);
    lua_pushvalue(L, v);
    if (opts)
      lua_pushvalue(L, opts);
    else
      lua_pushnil(L);
    lua_call(L, 2, 1);
    lua_rawset(L, t);
  }
  lua_settop(L, 1);
  return 1;
}

/* }====================================================== */


static const luaL_Reg funcs[] = {
  {"method", l_method},
  {"cached", l_cached},
  {"info", l_info},
  {"clear", l_clear},
  {"wrap", l_wrap},
  {"wrapped", l_wrapped},
  {"refresh", l_refresh},
  {"delete", l_delete},
  {NULL, NULL}
};

/* Stack: the module table. */
int mc_lmethod_open(lua_State *L) {
  luaL_newmetatable(L, MC_METHOD_MT);
  lua_pop(L, 1);
  luaL_setfuncs(L, funcs, 0);
  return 0;
}
