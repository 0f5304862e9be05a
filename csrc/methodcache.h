/*
** methodcache.h: the public C interface of methodcache, for embedders.
**
** Internal functions are hidden in every build (mc_visibility.h), so every
** symbol that leaves the shared object or the static library is marked
** with MC_API.
** An embedder links build/libmethodcache.a (or compiles csrc/ itself),
** then calls methodcache_openlibs(L) after luaL_openlibs(L):
** require("methodcache") then works with no LUA_PATH or LUA_CPATH.
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

/* the C core; what require("methodcache.core") returns */
MC_API int luaopen_methodcache_core(lua_State *L);

/* the Lua layer, embedded in the library; what require("methodcache") returns */
MC_API int luaopen_methodcache(lua_State *L);

/* put both modules in package.preload; needs the package library opened */
MC_API void methodcache_openlibs(lua_State *L);

#ifdef __cplusplus
}
#endif

#endif
