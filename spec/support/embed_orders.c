/*
** embed_orders.c: opens methodcache in a new state in the order named by
** argv[1], uses it, and prints "ok" (or what went wrong, exit status 1).
** spec/embed_spec.lua builds it against build/libmethodcache.a and .so.
**
**   requiref-after-openlibs   luaL_openlibs, then luaL_requiref
**   requiref-before-openlibs  luaL_requiref in a bare state, then openlibs
**   requiref-only             luaL_requiref, no library ever
**   preload-after-openlibs    luaL_openlibs, then methodcache_openlibs
**   preload-before-openlibs   methodcache_openlibs, then luaL_openlibs
**   plain-call                luaopen_methodcache called as a C function
**   twice                     every way at once, in one state
**   stats                     methodcache_stats: order, stop, stack, errors
*/
#include <stdio.h>
#include <string.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

#include "methodcache.h"

/* what a state with the standard libraries checks: the module under both
** names and as the global, a method, the decorator, a cached function */
static const char check_full[] =
  "local mc = require('methodcache')\n"
  "assert(mc == require('methodcache.core'), 'two tables')\n"
  "assert(mc == methodcache, 'the global is another table')\n"
  "assert(mc.version == '" METHODCACHE_VERSION "')\n"
  "local T = {}\n"
  "T.__index = T\n"
  "local runs = 0\n"
  "T.m = mc.method(function(self, x) runs = runs + 1 return x + self.k end)\n"
  "T.d = mc(function() return mc.lru(4) end)(function(self, x) return -x end)\n"
  "local o = setmetatable({ k = 1 }, T)\n"
  "assert(o:m(1) == 2 and o:m(1) == 2 and runs == 1)\n"
  "assert(o:d(3) == -3 and o:d(3) == -3 and mc.info(T.d).hits == 1)\n"
  "local ok, err = pcall(mc, 42)\n"
  "assert(not ok and err:find(\"bad argument #1 to 'methodcache'\"), err)\n"
  "return 'ok'\n";

/* what a state with no library checks, through the global alone */
static const char check_bare[] =
  "local sq = methodcache.cached(function(x) return x * x end)\n"
  "local c = methodcache.lru(2)\n"
  "c:set('a', 1)\n"
  "c:set('b', 2)\n"
  "c:set('c', 3)\n"
  "if sq(12) == 144 and sq(12) == 144 and methodcache.info(sq).hits == 1\n"
  "   and c:get('a') == nil and c:get('c') == 3 then return 'ok' end\n"
  "return 'wrong results'\n";

static int run(lua_State *L, const char *chunk) {
  const char *r;
  if (luaL_loadstring(L, chunk) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) {
    printf("error: %s\n", lua_tostring(L, -1));
    return 1;
  }
  r = lua_tostring(L, -1);
  printf("%s\n", r ? r : "no result");
  return !(r && strcmp(r, "ok") == 0);
}

/* pushes require(mod), or prints the error and returns 0 */
static int req(lua_State *L, const char *mod) {
  lua_getglobal(L, "require");
  lua_pushstring(L, mod);
  if (lua_pcall(L, 1, 1, 0) == LUA_OK)
    return 1;
  printf("error: %s\n", lua_tostring(L, -1));
  return 0;
}

static void requiref(lua_State *L) {
  luaL_requiref(L, "methodcache", luaopen_methodcache, 1);
  lua_pop(L, 1);
}


/* {======================================================
** methodcache_stats
** ======================================================= */

typedef struct seen {
  int n;
  int stopat;             /* return 1 from the callback number stopat */
  int raise;              /* raise an error from the first callback */
  lua_State *L;
  char names[256];
} seen;

static int collect(void *ud, const methodcache_stat *s) {
  seen *v = (seen *)ud;
  size_t len = strlen(v->names);
  v->n++;
  snprintf(v->names + len, sizeof(v->names) - len, "%s%s:%d:%lld/%lld",
           len ? " " : "", s->name ? s->name : "?", s->line, s->hits,
           s->misses);
  if (v->raise) {
    lua_pushnil(v->L);  /* the callback may use the stack, and raise */
    luaL_error(v->L, "raised by the callback");
  }
  return v->n == v->stopat;
}

#define EXPECT(cond, what) \
  if (!(cond)) { printf("failed: %s (%s)\n", what, v.names); return 1; }

static int check_stats(void) {
  seen v;
  int r, top;
  lua_State *L = luaL_newstate();
  memset(&v, 0, sizeof(v));
  v.L = L;
  r = methodcache_stats(L, collect, &v);
  EXPECT(r == 0 && v.n == 0, "a state without methodcache has none");
  luaL_openlibs(L);
  requiref(L);
  if (luaL_dostring(L,
        "local mc = methodcache\n"
        "local T = {}\n"
        "T.__index = T\n"
        "T.first = mc.method(function(self, x) return x end)\n"
        "third = mc.cached(function(x) return x end)\n"
        "T.second = mc.method(function(self, x) return x end)\n"
        "local o = setmetatable({}, T)\n"
        "o:second(1) o:second(1) o:first(2) third(3) third(4) third(4)\n"
        "mc.method(function() end)  -- dropped at once\n"
        "keep = T\n") != LUA_OK) {
    printf("error: %s\n", lua_tostring(L, -1));
    return 1;
  }
  lua_gc(L, LUA_GCCOLLECT);
  lua_pushliteral(L, "canary");
  top = lua_gettop(L);
  r = methodcache_stats(L, collect, &v);
  EXPECT(r == 3 && strcmp(v.names, "first:4:0/1 third:5:1/2 second:6:1/1") == 0,
         "the live ones, oldest first, with names, lines, hits and misses");
  EXPECT(lua_gettop(L) == top && strcmp(lua_tostring(L, -1), "canary") == 0,
         "the stack is as it was");
  memset(v.names, 0, sizeof(v.names));
  v.n = 0;
  v.stopat = 2;
  r = methodcache_stats(L, collect, &v);
  EXPECT(r == 2 && v.n == 2, "a callback returning non-zero stops the walk");
  memset(v.names, 0, sizeof(v.names));
  v.n = 0;
  v.stopat = 0;
  v.raise = 1;
  r = methodcache_stats(L, collect, &v);
  EXPECT(r == -1 && v.n == 1 && lua_gettop(L) == top,
         "an error in the callback returns -1, the stack as it was");
  lua_close(L);
  printf("ok\n");
  return 0;
}

/* }====================================================== */


int main(int argc, char **argv) {
  const char *order = argc > 1 ? argv[1] : "";
  lua_State *L;
  int r;
  if (strcmp(order, "stats") == 0)
    return check_stats();
  L = luaL_newstate();
  if (strcmp(order, "requiref-after-openlibs") == 0) {
    luaL_openlibs(L);
    requiref(L);
  }
  else if (strcmp(order, "requiref-before-openlibs") == 0) {
    requiref(L);
    luaL_openlibs(L);
  }
  else if (strcmp(order, "requiref-only") == 0) {
    requiref(L);
    r = run(L, check_bare);
    lua_close(L);
    return r;
  }
  else if (strcmp(order, "preload-after-openlibs") == 0 ||
           strcmp(order, "preload-before-openlibs") == 0) {
    int after = strcmp(order, "preload-after-openlibs") == 0;
    if (after) luaL_openlibs(L);
    methodcache_openlibs(L);
    if (!after) luaL_openlibs(L);
    if (!req(L, "methodcache"))
      return 1;
    lua_setglobal(L, "methodcache");
  }
  else if (strcmp(order, "plain-call") == 0) {
    lua_pushcfunction(L, luaopen_methodcache);
    lua_call(L, 0, 1);
    lua_setglobal(L, "methodcache");
    if (run(L, check_bare) != 0)    /* usable at once, no library open */
      return 1;
    luaL_openlibs(L);               /* then require finds methodcache.core */
    if (!req(L, "methodcache.core"))
      return 1;
    lua_getglobal(L, "methodcache");
    if (!lua_rawequal(L, -1, -2)) {
      printf("require('methodcache.core') is another table\n");
      return 1;
    }
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "loaded");
    lua_insert(L, -3);
    lua_pop(L, 1);
    lua_setfield(L, -2, "methodcache");  /* as luaL_requiref would have */
    lua_pop(L, 2);
  }
  else if (strcmp(order, "twice") == 0) {
    methodcache_openlibs(L);
    requiref(L);
    luaL_openlibs(L);
    methodcache_openlibs(L);
    requiref(L);
  }
  else {
    printf("unknown order '%s'\n", order);
    return 2;
  }
  r = run(L, check_full);
  lua_close(L);
  return r;
}
