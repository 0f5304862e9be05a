/*
** methodcache.h: the public C interface of methodcache, for embedders.
**
** Link libmethodcache (shared or static) and Lua:
**     cc app.c $(pkg-config --cflags --libs methodcache)
**     cc -static app.c $(pkg-config --static --cflags --libs methodcache)
** then make the module available in a lua_State, in any order with
** luaL_openlibs, with either
**     luaL_requiref(L, "methodcache", luaopen_methodcache, 1);
** or  methodcache_openlibs(L);   (require("methodcache") then works)
**
** methodcache is built with -fvisibility=hidden (and its internal headers
** say so through mc_visibility.h to any compiler that knows the GCC
** pragma), so MC_API marks every symbol that leaves the libraries.
*/

#ifndef METHODCACHE_H
#define METHODCACHE_H

#include "lua.h"

#define METHODCACHE_VERSION_MAJOR 0
#define METHODCACHE_VERSION_MINOR 1
#define METHODCACHE_VERSION_PATCH 0
#define METHODCACHE_VERSION "0.1.0"

/* the export macro: like LUAMOD_API, but visible despite -fvisibility=hidden */
#if !defined(MC_API)
#if defined(_WIN32)
#if defined(MC_BUILDING_DLL)
#define MC_API __declspec(dllexport)
#else
#define MC_API extern
#endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#define MC_API extern __attribute__((visibility("default")))
#else
#define MC_API extern
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/*
** The module: what require("methodcache") returns, and require
** ("methodcache.core") too (the same table). luaopen_methodcache needs no
** library open: it registers methodcache.core in the state's table of
** loaded modules itself, so a state may open the standard libraries before
** or after it, or never. Call it through luaL_requiref, as above, or as a
** plain lua_CFunction (it then returns the table without registering the
** name "methodcache").
*/
MC_API int luaopen_methodcache(lua_State *L);
MC_API int luaopen_methodcache_core(lua_State *L);

/* Puts both modules in package.preload (a table kept in the registry, so
** before luaL_openlibs is fine too): require("methodcache") then opens it. */
MC_API void methodcache_openlibs(lua_State *L);


/*
** {======================================================
** Statistics from C
** =======================================================
**
** methodcache_stats(L, fn, ud) calls fn(ud, s) once for each cached method
** and function of L's state that is still alive (what methodcache.method,
** methodcache.cached and methodcache(factory) returned), in the order they
** were made. It runs no Lua code of its own; it returns the number of
** calls of fn, or -1 if it ran out of memory or fn raised a Lua error.
** fn returns 0 to go on, anything else to stop there. The stack of L is as
** it was when methodcache_stats returns.
**
** fn runs inside a protected call on L: it may use the Lua API (leaving the
** stack as it found it), and its strings are valid until it returns.
** methodcache.report() gives Lua the same data, and `mchost --stats` prints
** it. Later versions may add fields at the end of the struct, never change
** those here: the library allocates it, so code built against this header
** keeps working with a newer libmethodcache.
*/
typedef struct methodcache_stat {
  const char *kind;       /* "method" (a cache per object: method and
                             methodcache(factory)) or "function" (cached) */
  const char *name;       /* the name of the first call that had one, as
                             Lua's tracebacks say it: "dist" for p:dist(),
                             "sq" for sq(2) or M.sq(2); NULL until a miss
                             was called by a name */
  const char *source;     /* where the wrapped function was defined: a file
                             ("app.lua"), [string "..."], or "[C]"; "?" for
                             a callable object */
  int line;               /* the line its definition starts on; -1 for C */
  const char *policy;     /* "lru", "lfu", ...; NULL while a factory has
                             made no cache yet */
  long long maxsize;      /* of each cache; -1: no limit (unbounded) or
                             policy NULL */
  long long hits;         /* every call ever, over every object */
  long long misses;
  long long entries;      /* in the caches alive now */
  long long currsize;     /* their total weight (= entries without
                             getsizeof) */
  long long objects;      /* objects with a cache alive now; 1 for a
                             function (its one cache) */
  long long collected;    /* caches freed with their object so far */
  long long bytes;        /* C memory of the caches alive now */
} methodcache_stat;

typedef int (*methodcache_stats_fn)(void *ud, const methodcache_stat *s);

MC_API int methodcache_stats(lua_State *L, methodcache_stats_fn fn,
                             void *ud);

/* }====================================================== */

#ifdef __cplusplus
}
#endif

#endif
