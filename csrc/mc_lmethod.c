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
**   5  the mc_method userdata itself, which upvalue 1 points into.
** The hit path is m_call -> mc_lcache_fetch; misses call the function with
** lua_callk so that it may yield, and store in the continuation.
*/
#include <limits.h>
#include <math.h>
#include <string.h>

#include "mc_lua.h"

typedef struct mc_method {
  long long hits, misses;   /* over every object, ever */
  int self;                 /* per-object caches (method) or one (function) */
  int factory;              /* caches come from upvalue 4 */
  int policy;
  long long maxsize;        /* per cache; for factories the newest one's */
  double ttl;
  int flags;                /* option functions present (MC_HAS) */
  int typed;
  int seeded;
  long long seed;
} mc_method;

static int m_call(lua_State *L);

static const char *const optnames[] = {
  "policy", "maxsize", "typed", "ttl", "ttu", "timer", "getsizeof",
  "on_evict", "seed", NULL
};

static int fail(lua_State *L, int arg, const char *fname, const char *msg) {
  return luaL_error(L, "bad argument #%d to '%s' (%s)", arg, fname, msg);
}

static const char *callname(lua_State *L) {
  lua_Debug ar;
  if (lua_getstack(L, 0, &ar) && lua_getinfo(L, "n", &ar) && ar.name != NULL)
    return ar.name;
  return "?";
}

static void checkself(lua_State *L) {
  int t = lua_type(L, 1);
  if (t == LUA_TTABLE || t == LUA_TUSERDATA || t == LUA_TFUNCTION ||
      t == LUA_TTHREAD)
    return;
  if (t == LUA_TSTRING)
    fail(L, 1, callname(L), "self is a string and cannot be held weakly: "
                            "use methodcache.cached for functions of strings");
  luaL_error(L, "bad argument #1 to '%s' (self is %s: call the method with "
                "':', as in obj:%s(...))", callname(L),
             t == LUA_TNONE ? "nil" :
             t == LUA_TNIL ? "nil" :
             t == LUA_TLIGHTUSERDATA ? "a light userdata" :
             t == LUA_TBOOLEAN ? "a boolean" : "a number", callname(L));
}

/* Pushes a new cache made from the options; 'fns' is the shared table of
** option functions. */
static mc_handle *newcache(lua_State *L, mc_method *m, int fns) {
  mc_handle *h = mc_lcache_new(L, m->policy, m->maxsize, m->ttl, 0, 0,
                               "method");
  mc_lcore *lc = h->core;
  lc->bound = 1;
  lc->typed = m->typed;
  lc->flags = m->flags;
  if (m->seeded)
    mc_cache_seed_rr(&lc->c, (unsigned long long)m->seed);
  if (m->flags) {
    lua_pushvalue(L, fns);
    lua_setiuservalue(L, -2, MC_UV_OPTS);
  }
  return h;
}

static int m_done(lua_State *L, int status, lua_KContext ctx) {
  mc_method *m = (mc_method *)lua_touserdata(L, lua_upvalueindex(1));
  int n = (int)(ctx >> 1);
  int nres = lua_gettop(L) - (n + 1);
  (void)status;
  if (ctx & 1)
    mc_lcache_store(L, n + 1, m->self ? 2 : 1, n, n + 2, nres);
  return nres;
}

/* Stack: the arguments (n), the cache 'h'. */
static int m_lookup(lua_State *L, mc_method *m, mc_handle *h, int n) {
  int r = mc_lcache_fetch(L, h, n + 1, m->self ? 2 : 1, n);
  lua_KContext ctx;
  int i;
  if (r >= 0) {
    m->hits++;
    return r;
  }
  m->misses++;
  luaL_checkstack(L, n + 2, "too many arguments");
  lua_pushvalue(L, lua_upvalueindex(3));
  for (i = 1; i <= n; i++)
    lua_pushvalue(L, i);
  ctx = ((lua_KContext)n << 1) | (r != MC_NOKEY);
  lua_callk(L, n, LUA_MULTRET, ctx, m_done);
  return m_done(L, LUA_OK, ctx);
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
  m->maxsize = h->core->c.maxsize;
  m->policy = h->core->c.policy;
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
    lua_pushvalue(L, 1);
    lua_pushvalue(L, -2);
    lua_rawset(L, lua_upvalueindex(2));
  }
  return m_lookup(L, m, h, n);
}


/* {======================================================
** Construction
** ======================================================= */

static int policyarg(lua_State *L, int idx, int arg, const char *fname) {
  const char *s;
  int i;
  if (lua_type(L, idx) != LUA_TSTRING) {
    lua_pushfstring(L, "option 'policy' must be a string, got %s",
                    luaL_typename(L, idx));
    fail(L, arg, fname, lua_tostring(L, -1));
  }
  s = lua_tostring(L, idx);
  for (i = 0; i < MC_NPOLICIES; i++)
    if (strcmp(mc_policy_names[i], s) == 0)
      return i;
  lua_pushfstring(L, "unknown policy '%s'", s);
  return fail(L, arg, fname, lua_tostring(L, -1));
}

/* Reads the options table at 'o' (argument 'arg') into 'm' and pushes the
** shared table of option functions. */
static void readopts(lua_State *L, mc_method *m, int o, int arg,
                     const char *fname) {
  static const char *const fnopts[] = { "timer", "getsizeof", "on_evict",
                                        "ttu" };
  int hasttl, hasttu, i;
  lua_createtable(L, 4, 0);
  m->policy = MC_LRU;
  m->maxsize = 128;
  if (lua_isnoneornil(L, o))
    return;
  if (!lua_istable(L, o)) {
    lua_pushfstring(L, "options table expected, got %s", luaL_typename(L, o));
    fail(L, arg, fname, lua_tostring(L, -1));
  }
  lua_pushnil(L);
  while (lua_next(L, o)) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
    for (i = 0; k != NULL && optnames[i] != NULL; i++)
      if (strcmp(optnames[i], k) == 0)
        break;
    if (k == NULL || optnames[i] == NULL) {
      lua_pushfstring(L, "unknown option '%s'",
                      k ? k : luaL_typename(L, -2));
      fail(L, arg, fname, lua_tostring(L, -1));
    }
    lua_pop(L, 1);
  }
  hasttl = lua_getfield(L, o, "ttl") != LUA_TNIL;
  hasttu = lua_getfield(L, o, "ttu") != LUA_TNIL;
  lua_pop(L, 2);
  if (lua_getfield(L, o, "policy") != LUA_TNIL)
    m->policy = policyarg(L, -1, arg, fname);
  else if (hasttl)
    m->policy = MC_TTL;
  else if (hasttu)
    m->policy = MC_TLRU;
  lua_pop(L, 1);
  if (lua_getfield(L, o, "maxsize") != LUA_TNIL) {
    int isint;
    lua_Integer n = lua_tointegerx(L, -1, &isint);
    if (!isint || n < 0)
      fail(L, arg, fname, "option 'maxsize' must be a non-negative integer");
    m->maxsize = (long long)n;
  }
  lua_pop(L, 1);
  if (m->policy == MC_UNBOUNDED)
    m->maxsize = LLONG_MAX;
  lua_getfield(L, o, "typed");
  m->typed = lua_toboolean(L, -1);
  lua_pop(L, 1);
  if (lua_getfield(L, o, "seed") != LUA_TNIL) {
    int isint;
    m->seed = (long long)lua_tointegerx(L, -1, &isint);
    if (!isint)
      fail(L, arg, fname, "option 'seed' must be an integer");
    m->seeded = 1;
  }
  lua_pop(L, 1);
  if (m->policy == MC_TTL) {
    int isnum;
    lua_getfield(L, o, "ttl");
    m->ttl = (double)lua_tonumberx(L, -1, &isnum);
    if (!isnum || !(m->ttl > 0))
      fail(L, arg, fname, "option 'ttl' must be a positive number of seconds"
                          " for policy 'ttl'");
    lua_pop(L, 1);
  }
  else if (hasttl) {
    fail(L, arg, fname, "option 'ttl' needs policy 'ttl'");
  }
  if (m->policy == MC_TLRU && !hasttu)
    fail(L, arg, fname, "policy 'tlru' needs option 'ttu'");
  if (m->policy != MC_TLRU && hasttu)
    fail(L, arg, fname, "option 'ttu' needs policy 'tlru'");
  for (i = 0; i < 4; i++) {
    int t = lua_getfield(L, o, fnopts[i]);
    if (t == LUA_TFUNCTION) {
      lua_rawseti(L, -2, MC_OPT_TIMER + i);
      m->flags |= MC_HAS(MC_OPT_TIMER + i);
    }
    else if (t != LUA_TNIL) {
      lua_pushfstring(L, "option '%s' must be a function, got %s", fnopts[i],
                      luaL_typename(L, -1));
      fail(L, arg, fname, lua_tostring(L, -1));
    }
    else
      lua_pop(L, 1);
  }
}

/* core.method(fn, opts), core.cached(fn, opts), core.decorate(fn, factory) */
static int newmethod(lua_State *L, int self, int factory, const char *fname) {
  mc_method *m;
  if (lua_type(L, 1) != LUA_TFUNCTION) {
    lua_pushfstring(L, "function expected, got %s", luaL_typename(L, 1));
    fail(L, 1, fname, lua_tostring(L, -1));
  }
  lua_settop(L, 2);
  m = (mc_method *)lua_newuserdatauv(L, sizeof(mc_method), 0);
  memset(m, 0, sizeof(*m));
  luaL_setmetatable(L, MC_METHOD_MT);
  m->self = self;
  m->factory = factory;
  m->maxsize = -1;
  if (factory) {
    if (lua_type(L, 2) != LUA_TFUNCTION) {
      lua_pushfstring(L, "cache factory function expected, got %s",
                      luaL_typename(L, 2));
      fail(L, 1, "methodcache", lua_tostring(L, -1));
    }
    lua_pushvalue(L, 2);  /* upvalue 4 */
  }
  else
    readopts(L, m, 2, 2, fname);  /* pushes upvalue 4 */
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
  lua_pushcclosure(L, m_call, 5);
  return 1;
}

static int l_method(lua_State *L) { return newmethod(L, 1, 0, "method"); }
static int l_cached(lua_State *L) { return newmethod(L, 0, 0, "cached"); }
static int l_decorate(lua_State *L) {
  return newmethod(L, 1, 1, "methodcache");
}

/* }====================================================== */


/* {======================================================
** info and clear
** ======================================================= */

static mc_method *checkfn(lua_State *L, const char *fname) {
  mc_method *m;
  if (lua_tocfunction(L, 1) != m_call)
    fail(L, 1, fname, "not a function made by methodcache");
  lua_getupvalue(L, 1, 1);
  m = (mc_method *)lua_touserdata(L, -1);
  lua_pop(L, 1);
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
  lua_settop(L, 2);
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
    mc_lcache_pushmaxsize(L, m->maxsize);
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
    mc_lcache_pushmaxsize(L, m->maxsize);
    lua_setfield(L, -2, "maxsize");
  }
  return 1;
}

static int l_clear(lua_State *L) {
  mc_method *m;
  lua_settop(L, 2);
  m = checkfn(L, "clear");
  if (!lua_isnil(L, 2) || !m->self) {
    if (objcache(L, m) != NULL)
      mc_lcache_clear(L, 4);
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
        mc_lcache_clear(L, lua_gettop(L));
      lua_pop(L, 1);
    }
  }
  return 0;
}

/* }====================================================== */


static const luaL_Reg funcs[] = {
  {"method", l_method},
  {"cached", l_cached},
  {"decorate", l_decorate},
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
