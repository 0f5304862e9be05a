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
**      computations (mc_lcoalesce.c).
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

static void checkself(lua_State *L) {
  const char *fname;
  int t = lua_type(L, 1);
  if (t == LUA_TTABLE || t == LUA_TUSERDATA || t == LUA_TFUNCTION ||
      t == LUA_TTHREAD)
    return;
  fname = mc_fname(L, NULL);
  if (t == LUA_TSTRING)
    mc_argerror(L, 1, fname, "self is a string and cannot be held weakly: "
                "use methodcache.cached for functions of strings");
  if (t == LUA_TLIGHTUSERDATA)
    mc_argerror(L, 1, fname, "self is a light userdata, which is never "
                "collected: use methodcache.cached for functions of it");
  mc_argerror(L, 1, fname, "self is %s: call the method with ':', as in "
              "obj:%s(...)", t == LUA_TNONE || t == LUA_TNIL ? "nil" :
              t == LUA_TBOOLEAN ? "a boolean" : "a number", fname);
}

/* Pushes a new cache made from the options; 'fns' is the shared table of
** option functions. */
static mc_handle *newcache(lua_State *L, mc_method *m, int fns) {
  mc_handle *h = mc_lcache_new(L, &m->o, fns);
  h->core->bound = 1;
  return h;
}

static int m_done(lua_State *L, int status, lua_KContext ctx) {
  mc_method *m = (mc_method *)lua_touserdata(L, lua_upvalueindex(1));
  int n = (int)(ctx >> 1);
  int nres = lua_gettop(L) - (n + 1);
  (void)status;
  if (ctx & 1)
    mc_op_store(L, n + 1, m->self ? 2 : 1, n, n + 2, nres, NULL);
  return nres;
}

/* A miss: calls the function with the arguments (n), then stores its
** results if 'store'.  Stack: the arguments, the cache. */
int mc_lmethod_compute(lua_State *L, int n, int store) {
  lua_KContext ctx = ((lua_KContext)n << 1) | (store != 0);
  int i;
  luaL_checkstack(L, n + 2, "too many arguments");
  lua_pushvalue(L, lua_upvalueindex(3));
  for (i = 1; i <= n; i++)
    lua_pushvalue(L, i);
  lua_callk(L, n, LUA_MULTRET, ctx, m_done);
  return m_done(L, LUA_OK, ctx);
}

/* Stack: the arguments (n), the cache 'h'. */
static int m_lookup(lua_State *L, mc_method *m, mc_handle *h, int n) {
  int r = mc_op_fetch(L, h, n + 1, m->self ? 2 : 1, n);
  if (r >= 0) {
    m->hits++;
    return r;
  }
  m->misses++;
  if (!m->named)
    mc_lstats_name(L, m, lua_upvalueindex(5));
  /* a call that cannot yield could not wait: it computes as without */
  if (m->o.coalesce && r == MC_MISS && lua_isyieldable(L))
    return mc_lcoalesce_miss(L, n, m->self ? 2 : 1);
  return mc_lmethod_compute(L, n, r != MC_NOKEY);
}

/* Stack: the arguments (n), what the factory returned. */
static int m_gotcache(lua_State *L, int status, lua_KContext ctx) {
  mc_method *m = (mc_method *)lua_touserdata(L, lua_upvalueindex(1));
  int n = (int)ctx;
  mc_handle *h = mc_lcache_test(L, n + 1);
  (void)status;
  if (h == NULL || h->core->bound)
    luaL_error(L, "methodcache: the cache factory must return a new "
                  "methodcache cache (got %s)",
               h ? "a cache already in use" : luaL_typename(L, n + 1));
  h->core->bound = 1;
  m->caches++;
  m->o.maxsize = h->core->c.maxsize;
  m->o.policy = h->core->c.policy;
  lua_pushvalue(L, 1);
  lua_pushvalue(L, n + 1);
  lua_rawset(L, lua_upvalueindex(2));
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
    checkself(L);
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

/* Store "object": the method's list of caches is a weak-valued sequence.
** Not a weak-keyed set: the collector visits such a table in hash order and
** reads the mark of each key, a cache miss per cache, which took 4/5 of a
** full collection of a chain of 16,000 objects (docs/DESIGN.md, section
** 13); the array of a weak-valued table is only read once, in the atomic
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

/* Lists the handle on top.  The set may grow the table and so run a
** finalizer that renews the list: then the slot written is in the old one,
** and the handle is listed again in the new one. */
static void listcache(lua_State *L, mc_method *m) {
  int udidx = lua_upvalueindex(5);
  int again;
  if (m->listed >= m->listmax)
    renewlist(L, m, udidx);
  do {
    lua_getiuservalue(L, udidx, MC_METHOD_UV_LIST);
    lua_pushvalue(L, -2);
    lua_rawseti(L, -2, ++m->listed);
    lua_getiuservalue(L, udidx, MC_METHOD_UV_LIST);
    again = !lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
  } while (again);
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
    h->tag = mc_objstore_tag(lua_topointer(L, 1), m);
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, MC_UV_OWNER);
    m->caches++;
    /* listed before it is reachable from self: a finalizer run by these
    ** sets that calls the method on self makes its own cache, which ours
    ** then replaces */
    listcache(L, m);
    lua_pushvalue(L, lua_upvalueindex(5));
    lua_pushvalue(L, -2);
    lua_rawset(L, 1);
  }
  return m_lookup(L, m, h, n);
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
  else
    mc_opts_read(L, 2, 2, fname, MC_FOR_METHOD, &m->o);  /* upvalue 4 */
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
  if (m->o.coalesce)
    mc_lcoalesce_pushstate(L);  /* upvalue 6 */
  lua_pushcclosure(L, m->o.store == MC_STORE_OBJECT ? m_callobj : m_call,
                   m->o.coalesce ? 6 : 5);
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

/* The method at 1 (an argument error if it is none); leaves arguments 1
** and 2 and pushes its table of caches, or its cache, at index 3. */
static mc_method *checkfn(lua_State *L, const char *fname) {
  mc_method *m;
  lua_CFunction f = lua_tocfunction(L, 1);
  if (f != m_call && f != m_callobj)
    mc_argerror(L, 1, fname, "not a function made by methodcache, got %s",
                luaL_typename(L, 1));
  lua_settop(L, 2);
  lua_getupvalue(L, 1, 1);
  m = (mc_method *)lua_touserdata(L, -1);
  lua_pop(L, 1);
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


/* The cache of 'obj' (argument 2) for method at 1, or NULL; pushes it
** (or, for NULL, whatever). */
static mc_handle *objcache(lua_State *L, mc_method *m) {
  if (!m->self) {
    lua_pushvalue(L, 3);
    return (mc_handle *)lua_touserdata(L, -1);
  }
  if (m->o.store == MC_STORE_OBJECT && lua_type(L, 2) == LUA_TTABLE) {
    mc_handle *h;
    lua_getupvalue(L, 1, 5);  /* the private key */
    h = mc_objstore_get(L, 2, lua_gettop(L), m);
    if (h != NULL)
      lua_remove(L, -2);
    return h;
  }
  lua_pushvalue(L, 2);
  lua_rawget(L, 3);
  return mc_lcache_test(L, -1);
}

static int l_info(lua_State *L) {
  mc_method *m;
  m = checkfn(L, "info");
  if (!lua_isnil(L, 2) || !m->self) {
    mc_handle *h = objcache(L, m);
    if (h != NULL) {
      mc_lcache_pushinfo(L, h);
      if (!m->self) {  /* one cache: the totals are the method's */
        setint(L, "hits", m->hits);
        setint(L, "misses", m->misses);
        setint(L, "instances", 1);
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
    long long currsize = 0, instances = 0;
    lua_Integer i, n = allcaches(L, m);
    for (i = 1; i <= n; i++) {
      mc_handle *h;
      lua_rawgeti(L, 4, i);
      h = mc_lcache_test(L, -1);
      if (h != NULL && !h->core->closed) {
        mc_lcache_count(h);  /* purges the dead */
        currsize += h->core->c.currsize;
        instances++;
      }
      lua_pop(L, 1);
    }
    lua_createtable(L, 0, 5);
    setint(L, "hits", m->hits);
    setint(L, "misses", m->misses);
    setint(L, "currsize", currsize);
    setint(L, "instances", instances);
    mc_lcache_pushmaxsize(L, m->o.policy, m->o.maxsize);
    lua_setfield(L, -2, "maxsize");
  }
  return 1;
}

static int l_clear(lua_State *L) {
  mc_method *m;
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


static const luaL_Reg funcs[] = {
  {"method", l_method},
  {"cached", l_cached},
  {"info", l_info},
  {"clear", l_clear},
  {NULL, NULL}
};

/* Stack: the module table. */
int mc_lmethod_open(lua_State *L) {
  luaL_newmetatable(L, MC_METHOD_MT);
  lua_pop(L, 1);
  luaL_setfuncs(L, funcs, 0);
  return 0;
}
