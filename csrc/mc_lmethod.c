/*
** mc_lmethod.c: cached methods and functions.
**
** A cached method is a C closure; its upvalues are
**   1  the mc_method, as a light userdata (a full userdata's address takes
**      more loads to compute, and this is read on every call);
**   2  methods: a weak-keyed table self -> cache handle (an ephemeron: the
**      cache, its values and whatever they point to never keep self alive);
**      functions: the one cache handle;
**   3  the wrapped function;
**   4  the factory (decorator form), or the shared table of option
**      functions given to every per-object cache (options form);
**   5  the mc_method userdata itself, which upvalue 1 points into;
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

/* The cache at 'idx', which the factory returned, becomes the cache of the
** object at 'self' in the table of caches at 'objs'. */
static mc_handle *adopt(lua_State *L, mc_method *m, int self, int idx,
                        int objs) {
  mc_handle *h = mc_lcache_test(L, idx);
  if (h == NULL || h->core->bound)
    luaL_error(L, "methodcache: the cache factory must return a new "
                  "methodcache cache (got %s)",
               h ? "a cache already in use" : luaL_typename(L, idx));
  h->core->bound = 1;
  m->caches++;
  m->o.maxsize = h->core->c.maxsize;
  m->o.policy = h->core->c.policy;
  lua_pushvalue(L, self);
  lua_pushvalue(L, idx);
  lua_rawset(L, objs);
  return h;
}

/* Stack: the arguments (n), what the factory returned. */
static int m_gotcache(lua_State *L, int status, lua_KContext ctx) {
  mc_method *m = (mc_method *)lua_touserdata(L, lua_upvalueindex(1));
  int n = (int)ctx;
  mc_handle *h = adopt(L, m, 1, n + 1, lua_upvalueindex(2));
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
  (void)status;
  checkkey(L, (int)ctx, NULL);
  return m_call(L);  /* the key is one more argument (MC_KEYFIRST) */
}

/* A method or function with option key: the key function's result is the
** key; then as m_call. */
static int m_keycall(lua_State *L) {
  mc_method *m = (mc_method *)lua_touserdata(L, lua_upvalueindex(1));
  int n = lua_gettop(L);
  if (m->self)
    checkself(L);  /* before the key function sees the arguments */
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
  else
    mc_opts_read(L, 2, 2, fname, MC_FOR_METHOD, &m->o);  /* upvalue 4 */
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
  lua_pushcclosure(L, m->keyed ? m_keycall : m_call,
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
  if (f != m_call && f != m_keycall)
    return NULL;
  lua_getupvalue(L, idx, 1);
  m = (mc_method *)lua_touserdata(L, -1);
  lua_pop(L, 1);
  return m;
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

static void setint(lua_State *L, const char *k, long long v) {
  lua_pushinteger(L, (lua_Integer)v);
  lua_setfield(L, -2, k);
}


/* The cache of 'obj' (argument 2) for method at 1, or NULL; pushes it. */
static mc_handle *objcache(lua_State *L, mc_method *m) {
  if (!m->self) {
    lua_pushvalue(L, 3);
    return (mc_handle *)lua_touserdata(L, -1);
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
    lua_pushnil(L);
    while (lua_next(L, 3)) {
      mc_handle *h = mc_lcache_test(L, -1);
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
      mc_op_clear(L, 4);
    return 0;
  }
  /* a list first: on_evict may call the method and add objects */
  {
    lua_Integer n = 0, i;
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, 3)) {
      lua_rawseti(L, 4, ++n);
    }
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
  lua_getupvalue(L, 1, 2);
  if (m->self) {
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);
    lua_remove(L, -2);
  }
  h = mc_lcache_test(L, -1);
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
  adopt(L, m, 2, top, top + 1);
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
  return onekey(L, 1);
}

/* methodcache.delete(f, obj, ...), methodcache.delete(f, ...) */
static int l_delete(lua_State *L) {
  return onekey(L, 0);
}

/* }====================================================== */


/* {======================================================
** wrapped and wrap
** ======================================================= */

/* methodcache.wrapped(f): the function f caches */
static int l_wrapped(lua_State *L) {
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
  }
  lua_settop(L, last + (opts != 0));
  luaL_checkstack(L, last + 4, NULL);
  pushmethods(L, 1);
  t = lua_gettop(L);
  /* every name is checked before any method is replaced: an error changes
  ** nothing.  The methods go at t + 1 .. */
  for (i = 2; i <= last; i++) {
    mc_method *m;
    if (lua_type(L, i) != LUA_TSTRING)
      mc_argerror(L, i, "wrap", "method name expected, got %s",
                  luaL_typename(L, i));
    lua_pushvalue(L, i);
    lua_gettable(L, t);  /* as an instance finds it: inherited too */
    m = tomethod(L, -1);
    if (m != NULL && !m->self)
      mc_argerror(L, i, "wrap", "'%s' is a function made by "
                  "methodcache.cached, not a method", lua_tostring(L, i));
    if (m == NULL && !mc_iscallable(L, -1))
      mc_argerror(L, i, "wrap", "'%s' must be a method of the class, got %s",
                  lua_tostring(L, i), luaL_typename(L, -1));
  }
  for (i = 2; i <= last; i++) {
    int v = t + i - 1, twice;
    if (tomethod(L, v) != NULL)
      continue;  /* cached already */
    lua_pushvalue(L, i);
    lua_rawget(L, t);
    twice = tomethod(L, -1) != NULL;  /* named before in this call */
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
