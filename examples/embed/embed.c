/*
** embed.c: methodcache inside a C program.
**
** A host creates a lua_State, opens the standard libraries, then calls
** methodcache_openlibs(L): require("methodcache") then works with no
** LUA_PATH or LUA_CPATH, because both the C core and the Lua layer are
** linked into the program (build/libmethodcache.a). As in Lua's own lua.c,
** main only creates the state and runs everything else in protected mode.
**
** Build and run:  make -C examples/embed run
*/

#include <stdio.h>
#include <stdlib.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

#include "methodcache.h"

/* the Lua side: a class with a cached method, called a few times */
static const char script[] =
  "local methodcache = require('methodcache')\n"
  "local Rect = {}\n"
  "Rect.__index = Rect\n"
  "local runs = 0\n"
  "function Rect:area(scale)\n"
  "  runs = runs + 1\n"
  "  return self.w * self.h * scale\n"
  "end\n"
  "Rect.area = methodcache.method(Rect.area, { maxsize = 16 })\n"
  "local r = setmetatable({ w = 3, h = 4 }, Rect)\n"
  "for _ = 1, 3 do r:area(1); r:area(2) end\n"
  "print(string.format('embedded: methodcache %s, r:area(2) = %d, body ran %d times for 7 calls',\n"
  "  methodcache.version, r:area(2), runs))\n"
  "return methodcache.info(Rect.area)\n";

/* read an integer field of the table on top of the stack */
static lua_Integer getint(lua_State *L, const char *name) {
  lua_Integer v;
  lua_getfield(L, -1, name);
  v = lua_tointeger(L, -1);
  lua_pop(L, 1);
  return v;
}

static int msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL)
    msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/* everything that can raise runs here, under lua_pcall */
static int pmain(lua_State *L) {
  luaL_openlibs(L);
  methodcache_openlibs(L);
  if (luaL_loadbufferx(L, script, sizeof(script) - 1, "=embedded", "t") != LUA_OK)
    return lua_error(L);
  lua_call(L, 0, 1);  /* returns methodcache.info(Rect.area) */
  luaL_checktype(L, -1, LUA_TTABLE);
  /* reading the statistics back in C */
  printf("from C: hits=%lld misses=%lld currsize=%lld maxsize=%lld instances=%lld\n",
         (long long)getint(L, "hits"), (long long)getint(L, "misses"),
         (long long)getint(L, "currsize"), (long long)getint(L, "maxsize"),
         (long long)getint(L, "instances"));
  return 0;
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
