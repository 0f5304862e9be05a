/*
** mc_lcache.c: the cache objects users see (methodcache.lru and friends).
**
** A cache is three GC objects (docs/DESIGN.md explains why):
**   handle  "methodcache.cache", no __gc: what users and methods hold;
**   root    a weak-keyed table (user value of the handle) that holds the
**           values: by entry address for keys without objects, and for
**           each object key a node table (mc_lnode.c);
**   core    "methodcache.core" (mc_lcore.c), with __gc: the C memory.  It
**           references no Lua value, so finalizing it never resurrects the
**           values, the objects they point to or the object owning the cache.
** This file makes them and gives the handle its methods; the operations
** themselves are in mc_lop.c.
*/
#include <limits.h>
#include <math.h>
#include <string.h>

#include "mc_lua.h"

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

/* maxsize as Lua sees it: math.huge for unbounded caches, nil while a
** method's factory has not made a cache yet (-1). */
void mc_lcache_pushmaxsize(lua_State *L, int policy, long long maxsize) {
  if (policy == MC_UNBOUNDED)
    lua_pushnumber(L, HUGE_VAL);
  else if (maxsize < 0)
    lua_pushnil(L);
  else
    lua_pushinteger(L, (lua_Integer)maxsize);
}

size_t mc_lcache_count(mc_handle *h) {
  mc_cache *c = mc_op_live(h);
  return c ? c->count : 0;
}

void mc_lcache_pushinfo(lua_State *L, mc_handle *h) {
  mc_cache *c = mc_op_live(h);
  mc_stats zero = { 0, 0, 0, 0 };
  const mc_stats *s = c ? &c->stats : &zero;
  lua_createtable(L, 0, 7);
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
  mc_lcache_pushmaxsize(L, h->core->c.policy, h->core->c.maxsize);
  lua_setfield(L, -2, "maxsize");
}


/* {======================================================
** Construction
** ======================================================= */

/* Pushes a new cache made from 'o'; 'fns' is the table of its option
** functions (0: none). */
mc_handle *mc_lcache_new(lua_State *L, const mc_opts *o, int fns) {
  mc_handle *h;
  luaL_checkstack(L, 4, NULL);
  if (fns != 0)
    fns = lua_absindex(L, fns);
  h = (mc_handle *)lua_newuserdatauv(L, sizeof(mc_handle),
                                     MC_NUV + (o->store == MC_STORE_OBJECT));
  h->core = NULL;
  h->tag = 0;
  lua_createtable(L, 0, 0);  /* weak at its first object key (mc_lnode.c) */
  lua_setiuservalue(L, -2, MC_UV_ROOT);
  if (fns != 0)
    lua_pushvalue(L, fns);
  else
    lua_createtable(L, 0, 0);
  lua_setiuservalue(L, -2, MC_UV_OPTS);
  h->core = mc_lcore_new(L, o);
  lua_setiuservalue(L, -2, MC_UV_CORE);
  luaL_setmetatable(L, MC_CACHE_MT);  /* last: the handle is complete */
  return h;
}

/* lru(maxsize[, opts]), ..., ttl(maxsize, ttl[, opts]),
** tlru(maxsize, ttu[, opts]), unbounded([opts]) */
static int construct(lua_State *L, int policy, const char *fname) {
  mc_opts o;
  int optidx = 1, fns;
  mc_opts_init(&o, policy);
  if (policy != MC_UNBOUNDED) {
    o.maxsize = mc_checksize(L, 1, 1, fname, "maxsize");
    optidx = 2;
  }
  if (policy == MC_TTL) {
    if (lua_type(L, 2) != LUA_TNUMBER)
      mc_argerror(L, 2, fname, "number expected, got %s",
                  luaL_typename(L, 2));
    o.ttl = (double)lua_tonumber(L, 2);
    if (!(o.ttl > 0))
      mc_argerror(L, 2, fname, "ttl must be a positive number of seconds, "
                  "got %s", mc_given(L, 2));
    optidx = 3;
  }
  else if (policy == MC_TLRU) {
    if (!mc_iscallable(L, 2))
      mc_argerror(L, 2, fname, "ttu function expected, got %s",
                  luaL_typename(L, 2));
    optidx = 3;
  }
  lua_settop(L, optidx);
  mc_opts_read(L, optidx, optidx, fname, MC_FOR_CACHE, &o);
  fns = lua_gettop(L);
  if (policy == MC_TLRU) {
    lua_pushvalue(L, 2);
    lua_rawseti(L, fns, MC_OPT_TTU);
    o.flags |= MC_HAS(MC_OPT_TTU);
  }
  mc_lcache_new(L, &o, fns);
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

/* }====================================================== */


/* {======================================================
** Methods of cache objects
** ======================================================= */

/* A key for get/set/...: anything but nil (set only) and NaN. */
static int keyarg(lua_State *L, const char *fname, int strict) {
  int t = lua_type(L, 2);
  if (t == LUA_TNONE || t == LUA_TNIL) {
    if (strict)
      mc_argerror(L, 1, fname, "key expected, got %s", luaL_typename(L, 2));
    return 0;
  }
  if (t == LUA_TNUMBER && lua_tonumber(L, 2) != lua_tonumber(L, 2)) {
    if (strict)
      mc_argerror(L, 1, fname, "NaN cannot be a key, got %s", mc_given(L, 2));
    return 0;
  }
  return 1;
}

static int getlike(lua_State *L, const char *fname, int flags) {
  mc_handle *h = checkcache(L, fname);
  int n;
  lua_settop(L, 2);
  if (!keyarg(L, fname, 0)) {  /* nil or NaN: never a key */
    lua_pushnil(L);
    return 1;
  }
  n = mc_op_lookup(L, h, 1, 2, 2, flags, fname);
  if (n >= 0)
    return n;
  if (n == MC_MISS && (n = mc_op_stale(L, h, 1, 2, 2)) >= 0)
    return n;
  lua_pushnil(L);  /* a miss is one nil, as for a table */
  return 1;
}

/* get and peek of an expired entry still held: nil, then the stale value
** (as resty.lrucache's get), so that a caller may serve it meanwhile */
static int c_get(lua_State *L) {
  return getlike(L, "get", MC_COUNT | MC_TOUCH | MC_PUSH);
}

static int c_peek(lua_State *L) {
  return getlike(L, "peek", MC_PUSH);
}

static int c_has(lua_State *L) {
  mc_handle *h = checkcache(L, "has");
  lua_settop(L, 2);
  lua_pushboolean(L, keyarg(L, "has", 0) &&
                     mc_op_lookup(L, h, 1, 2, 2, 0, "has") >= 0);
  return 1;
}

/* set(k, v[, ttl]): a ttl of the entry's own, on timed policies only (a
** ttl that other policies would ignore is an error, not a no-op). */
static int c_set(lua_State *L) {
  mc_handle *h = checkcache(L, "set");
  int policy = h->core->c.policy;
  double ttl = 0;
  lua_settop(L, 4);
  keyarg(L, "set", 1);
  if (!lua_isnil(L, 4)) {
    if (policy != MC_TTL && policy != MC_TLRU)
      mc_argerror(L, 3, "set", "a ttl needs policy 'ttl' or 'tlru', "
                  "this cache's is '%s'", mc_policy_names[policy]);
    ttl = (double)lua_tonumber(L, 4);
    if (lua_type(L, 4) != LUA_TNUMBER || !(ttl > 0))
      mc_argerror(L, 3, "set", "ttl must be a positive number of seconds, "
                  "got %s", mc_given(L, 4));
  }
  lua_pushboolean(L, mc_op_store_ttl(L, 1, 2, 2, 3, 1, ttl, "set"));
  return 1;
}

static int c_delete(lua_State *L) {
  checkcache(L, "delete");
  lua_settop(L, 2);
  lua_pushboolean(L, keyarg(L, "delete", 0) && mc_op_remove(L, 1, 2, 0, "delete"));
  return 1;
}

static int c_pop(lua_State *L) {
  checkcache(L, "pop");
  lua_settop(L, 3);
  if (keyarg(L, "pop", 0))
    mc_op_remove(L, 1, 2, 1, "pop");  /* replaces the default by the value */
  return 1;
}

static int c_clear(lua_State *L) {
  checkcache(L, "clear");
  lua_settop(L, 1);
  mc_op_clear(L, 1);
  return 0;
}

static int c_expire(lua_State *L) {
  checkcache(L, "expire");
  lua_settop(L, 1);
  lua_pushinteger(L, mc_op_expire(L, 1));
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
  int n;
  checkcache(L, "__pairs");
  lua_settop(L, 1);
  n = mc_op_snapshot(L, 1);
  lua_pushinteger(L, 0);
  lua_pushinteger(L, n);
  lua_pushcclosure(L, snapshot_next, 3);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

static int c_tostring(lua_State *L) {
  mc_handle *h = checkcache(L, "__tostring");
  lua_pushfstring(L, "methodcache.%s(", mc_policy_names[h->core->c.policy]);
  mc_lcache_pushmaxsize(L, h->core->c.policy, h->core->c.maxsize);
  lua_pushfstring(L, "): %I entries (%p)", (LUAI_UACINT)mc_lcache_count(h),
                  (void *)h);
  lua_concat(L, 3);
  return 1;
}

static int c_index(lua_State *L) {
  static const char *const fields[] = { "maxsize", "policy", NULL };
  mc_handle *h;
  int i;
  lua_settop(L, 2);
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL)
    return 1;
  if (lua_type(L, 2) != LUA_TSTRING)
    return 0;
  for (i = 0; fields[i] != NULL; i++)
    if (strcmp(fields[i], lua_tostring(L, 2)) == 0)
      break;
  h = checkcache(L, "__index");
  if (i == 0)
    mc_lcache_pushmaxsize(L, h->core->c.policy, h->core->c.maxsize);
  else if (i == 1)
    lua_pushstring(L, mc_policy_names[h->core->c.policy]);
  else
    return 0;
  return 1;
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

static const luaL_Reg constructors[] = {
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
  mc_state_open(L);
  mc_lcore_open(L);
  mc_lnode_open(L);
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
