/*
** embed.c: Lua and methodcache inside a C program.
**
** It loads a Lua class whose methods are cached, calls them from C in a
** loop, lets the collector take half of the objects, then reads the
** statistics through the C API (methodcache_stats), without running Lua.
** As in lua.c, main only makes the state and runs everything else under
** lua_pcall with a message handler.
**
** Build: make (this directory's Makefile asks pkg-config for the flags);
** `make embed-check` at the top checks its output against expected.txt.
*/

#include <stdio.h>
#include <stdlib.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

#include "methodcache.h"

#define NOBJECTS 10
#define NCALLS 1000

/* the Lua side: a class with two cached methods */
static const char rect_lua[] =
  "local methodcache = require('methodcache')\n"
  "local Rect = {}\n"
  "Rect.__index = Rect\n"
  "function Rect.new(w, h) return setmetatable({ w = w, h = h }, Rect) end\n"
  "Rect.area = methodcache.method(function(self, scale)\n"
  "  return self.w * self.h * scale\n"
  "end, { maxsize = 8 })\n"
  "Rect.perimeter = methodcache.method(function(self, scale)\n"
  "  return 2 * (self.w + self.h) * scale\n"
  "end, { policy = 'lfu', maxsize = 2 })\n"
  "return Rect\n";

/* obj:method(arg), obj at 'obj'; returns the integer result */
static lua_Integer callmethod(lua_State *L, int obj, const char *method,
                              lua_Integer arg) {
  lua_Integer r;
  lua_getfield(L, obj, method);         /* found through the metatable */
  lua_pushvalue(L, obj);
  lua_pushinteger(L, arg);
  lua_call(L, 2, 1);
  r = lua_tointeger(L, -1);
  lua_pop(L, 1);
  return r;
}

/* methodcache_stats calls this once per cached method.  Their names are
** NULL here: a method called from C has none (Lua names a function after
** the expression that called it); where it was defined says which it is. */
static int print_stat(void *ud, const methodcache_stat *s) {
  (void)ud;
  printf("%s:%d %s %s(%lld): %lld hits, %lld misses, %lld entries, "
         "%lld objects, %lld collected, %s\n",
         s->source, s->line, s->kind, s->policy, s->maxsize, s->hits,
         s->misses, s->entries, s->objects, s->collected,
         s->bytes > 0 ? "C memory counted" : "no C memory");
  return 0;
}

static int pmain(lua_State *L) {
  int i, rects, objs;
  lua_Integer total = 0;
  luaL_openlibs(L);
  luaL_requiref(L, "methodcache", luaopen_methodcache, 0);
  lua_pop(L, 1);
  if (luaL_loadbufferx(L, rect_lua, sizeof(rect_lua) - 1, "=rect.lua", "t")
      != LUA_OK)
    return lua_error(L);
  lua_call(L, 0, 1);
  rects = lua_gettop(L);
  /* objs[1..NOBJECTS] = Rect.new(i, i + 1) */
  lua_createtable(L, NOBJECTS, 0);
  objs = lua_gettop(L);
  for (i = 1; i <= NOBJECTS; i++) {
    lua_getfield(L, rects, "new");
    lua_pushinteger(L, i);
    lua_pushinteger(L, i + 1);
    lua_call(L, 2, 1);
    lua_rawseti(L, objs, i);
  }
  /* 30 different calls of area and 20 of perimeter, 1000 times each */
  for (i = 0; i < NCALLS; i++) {
    lua_rawgeti(L, objs, i % NOBJECTS + 1);
    total += callmethod(L, lua_gettop(L), "area", i % 3 + 1);
    total += callmethod(L, lua_gettop(L), "perimeter", i / NOBJECTS % 2);
    lua_pop(L, 1);
  }
  printf("%d calls from C, sum of results %lld\n", 2 * NCALLS,
         (long long)total);
  /* drop the last half of the objects: their caches go with them */
  for (i = NOBJECTS / 2 + 1; i <= NOBJECTS; i++) {
    lua_pushnil(L);
    lua_rawseti(L, objs, i);
  }
  lua_gc(L, LUA_GCCOLLECT);
  if (methodcache_stats(L, print_stat, NULL) < 0)
    return luaL_error(L, "methodcache_stats: out of memory");
  return 0;
}

static int msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL)
    msg = lua_pushfstring(L, "(error object is a %s value)",
                          luaL_typename(L, 1));
  luaL_traceback(L, L, msg, 1);
  return 1;
}

int main(void) {
  int status;
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    fprintf(stderr, "embed: cannot create a Lua state: not enough memory\n");
    return EXIT_FAILURE;
  }
  lua_pushcfunction(L, msghandler);
  lua_pushcfunction(L, pmain);
  status = lua_pcall(L, 0, 0, 1);
  if (status != LUA_OK)
    fprintf(stderr, "embed: %s\n", lua_tostring(L, -1));
  lua_close(L);
  return status == LUA_OK ? EXIT_SUCCESS : EXIT_FAILURE;
}
