/*
** mc_lstats.c: the statistics of every cached method and function of a
** state, for Lua (methodcache.report) and for C (methodcache_stats, in
** mc_embed.c: the libraries export it, core.so only luaopen_).
**
** Each cached method or function is listed in a weak-keyed table in the
** registry, closure -> sequence number, so that the list costs nothing to
** a method nobody holds any more and gives the order they were made in.
** One walk, mc_lstats_visit, serves both.  It reads every value with raw
** calls and makes no Lua allocation between its first read of the list
** and the callback of each method (THE RULE, mc_lua.h): a finalizer can
** neither add to a table it walks nor free a cache it is counting.
*/
#include <stdlib.h>
#include <math.h>

#include "methodcache.h"
#include "mc_lua.h"

static const char methods_key = 'm';  /* registry: closure -> number */
static const char count_key = 'n';    /* registry: the last number given */

/* Stack: the new cached method or function on top (left there). */
void mc_lstats_register(lua_State *L) {
  lua_Integer seq;
  luaL_checkstack(L, 3, NULL);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &count_key);
  seq = lua_tointeger(L, -1) + 1;
  lua_pop(L, 1);
  lua_pushinteger(L, seq);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &count_key);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &methods_key) == LUA_TTABLE) {
    lua_pushvalue(L, -2);
    lua_pushinteger(L, seq);
    lua_rawset(L, -3);
  }
  lua_pop(L, 1);
}

/* Called on a miss until it succeeds: the name of the running call, as
** tracebacks give it ("dist" for p:dist()), kept in the method's userdata
** at 'udidx'.  Misses only, so that a hit never pays for it. */
void mc_lstats_name(lua_State *L, mc_method *m, int udidx) {
  lua_Debug ar;
  if (lua_getstack(L, 0, &ar) && lua_getinfo(L, "n", &ar) &&
      ar.name != NULL) {
    lua_pushstring(L, ar.name);
    lua_setiuservalue(L, udidx, 1);
    m->named = 1;
  }
}


/* {======================================================
** The walk
** ======================================================= */

typedef struct item {
  lua_Integer seq;
  int pos;                  /* in the list table */
} item;

static int byseq(const void *a, const void *b) {
  lua_Integer x = ((const item *)a)->seq, y = ((const item *)b)->seq;
  return (x > y) - (x < y);
}

/* Adds what the cache of handle 'h' holds to 's'. */
static void addcache(methodcache_stat *s, mc_handle *h) {
  mc_cache *c = mc_op_live(h);  /* purges the dead: raw C, no Lua */
  if (c == NULL)
    return;
  s->objects++;
  s->entries += (long long)c->count;
  s->currsize += c->currsize;
  s->bytes += c->bytes;
}

/* Adds every cache handle that is a value of the table on top. */
static void addcaches(lua_State *L, methodcache_stat *s) {
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    addcache(s, (mc_handle *)lua_touserdata(L, -1));
    lua_pop(L, 1);
  }
}

/* Fills 's' for the cached method or function at 'f'; pushes its name (or
** nil), which keeps s->name valid. */
static void fill(lua_State *L, int f, methodcache_stat *s, lua_Debug *ar) {
  mc_method *m;
  int unbounded;
  if (mc_lfast_stat(L, f, s, ar))  /* policy fast: a Lua closure */
    return;
  lua_getupvalue(L, f, 1);
  m = (mc_method *)lua_touserdata(L, -1);
  lua_pop(L, 1);
  memset(s, 0, sizeof(*s));
  s->kind = m->self ? "method" : "function";
  s->hits = m->hits;
  s->misses = m->misses;
  if (m->o.maxsize < 0)         /* a factory that made no cache yet */
    s->maxsize = -1;
  else {
    unbounded = (m->o.policy == MC_UNBOUNDED);
    s->policy = mc_policy_names[m->o.policy];
    s->maxsize = unbounded ? -1 : m->o.maxsize;
  }
  /* where the wrapped function was defined */
  s->source = "?";
  s->line = -1;
  lua_getupvalue(L, f, 3);
  if (lua_type(L, -1) == LUA_TFUNCTION && lua_getinfo(L, ">S", ar)) {
    s->source = ar->short_src;
    s->line = ar->linedefined;
  }
  else
    lua_pop(L, 1);
  /* the caches: every value of a method's table, and of its list for
  ** store "object", is a handle (m_call and m_callobj put nothing else
  ** there), so no luaL_testudata, which may allocate */
  lua_getupvalue(L, f, 2);
  if (m->self) {
    addcaches(L, s);
    lua_getupvalue(L, f, 5);
    if (lua_getiuservalue(L, -1, MC_METHOD_UV_LIST) == LUA_TTABLE)
      addcaches(L, s);
    lua_pop(L, 2);
    s->collected = m->budget->collected;  /* counted by their __gc */
  }
  else {
    addcache(s, (mc_handle *)lua_touserdata(L, -1));
  }
  lua_pop(L, 1);
  lua_getupvalue(L, f, 5);
  lua_getiuservalue(L, -1, 1);
  lua_remove(L, -2);
  s->name = lua_tostring(L, -1);
}

/* Calls fn for each cached method and function, oldest first; returns how
** many calls were made.  May raise a memory error (before any call), and
** what fn raises. */
int mc_lstats_visit(lua_State *L, methodcache_stats_fn fn, void *ud) {
  int top = lua_gettop(L);
  int n = 0, k = 0, i;
  item *items;
  luaL_checkstack(L, 8, NULL);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &methods_key) != LUA_TTABLE) {
    lua_settop(L, top);           /* methodcache was never opened here */
    return 0;
  }
  lua_pushnil(L);
  while (lua_next(L, top + 1)) {
    n++;
    lua_pop(L, 1);
  }
  /* allocations first: a finalizer they run may make or drop methods,
  ** so the walk below takes at most n of them */
  lua_createtable(L, n, 0);
  items = (item *)lua_newuserdatauv(L, (size_t)(n > 0 ? n : 1) * sizeof(item),
                                    0);
  lua_pushnil(L);
  while (k < n && lua_next(L, top + 1)) {
    items[k].seq = lua_tointeger(L, -1);
    items[k].pos = k + 1;
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_rawseti(L, top + 2, ++k);  /* within the size made: no allocation */
  }
  lua_settop(L, top + 3);          /* list, items */
  qsort(items, (size_t)k, sizeof(item), byseq);
  for (i = 0; i < k; i++) {
    methodcache_stat s;
    lua_Debug ar;
    int stop;
    lua_rawgeti(L, top + 2, items[i].pos);
    fill(L, top + 4, &s, &ar);
    stop = fn(ud, &s);
    lua_settop(L, top + 3);
    if (stop)
      return i + 1;
  }
  lua_settop(L, top);
  return k;
}

/* }====================================================== */


/* {======================================================
** methodcache.report()
** ======================================================= */

static void setstr(lua_State *L, const char *k, const char *v) {
  if (v == NULL)
    return;
  lua_pushstring(L, v);
  lua_setfield(L, -2, k);
}

static void setint(lua_State *L, const char *k, long long v) {
  lua_pushinteger(L, (lua_Integer)v);
  lua_setfield(L, -2, k);
}

typedef struct reporter {
  lua_State *L;
  lua_Integer n;
} reporter;

/* Appends one table to the list at index 1 (report's own frame: the
** walk runs in it). */
static int report_one(void *ud, const methodcache_stat *s) {
  reporter *r = (reporter *)ud;
  lua_State *L = r->L;
  lua_createtable(L, 0, 14);
  setstr(L, "kind", s->kind);
  setstr(L, "name", s->name);
  setstr(L, "source", s->source);
  if (s->line >= 0)
    setint(L, "line", s->line);
  setstr(L, "policy", s->policy);
  if (s->policy != NULL) {  /* as info(): math.huge for no limit */
    if (s->maxsize < 0)
      lua_pushnumber(L, HUGE_VAL);
    else
      lua_pushinteger(L, (lua_Integer)s->maxsize);
    lua_setfield(L, -2, "maxsize");
  }
  setint(L, "hits", s->hits);
  setint(L, "misses", s->misses);
  setint(L, "entries", s->entries);
  setint(L, "currsize", s->currsize);
  setint(L, "objects", s->objects);
  setint(L, "collected", s->collected);
  setint(L, "bytes", s->bytes);
  lua_rawseti(L, 1, ++r->n);
  return 0;
}

/* methodcache.report(): a list of tables, one per cached method and
** function, with the fields of methodcache_stat (nil for NULL). */
static int l_report(lua_State *L) {
  reporter r;
  r.L = L;
  r.n = 0;
  lua_settop(L, 0);
  lua_newtable(L);
  mc_lstats_visit(L, report_one, &r);
  return 1;
}

/* }====================================================== */


/* Stack: the module table. */
void mc_lstats_open(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &methods_key) != LUA_TTABLE) {
    mc_pushweak(L, 'k');
    lua_rawsetp(L, LUA_REGISTRYINDEX, &methods_key);
  }
  lua_pop(L, 1);
  lua_pushcfunction(L, l_report);
  lua_setfield(L, -2, "report");
}
