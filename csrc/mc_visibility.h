/*
** mc_visibility.h: internal functions stay inside the library.
**
** Every internal header wraps its declarations in MC_HIDDEN_BEGIN ..
** MC_HIDDEN_END, after its own #includes (a Lua API function declared
** hidden would be taken for one of ours).  So core.so exports only what
** methodcache.h marks MC_API, whatever the compiler flags: LuaRocks' builtin
** build compiles with its own CFLAGS and no -fvisibility=hidden, and an
** embedder's build system may not pass it either.
*/
#ifndef mc_visibility_h
#define mc_visibility_h

#if defined(__GNUC__) && !defined(_WIN32)
#define MC_HIDDEN_BEGIN  _Pragma("GCC visibility push(hidden)")
#define MC_HIDDEN_END    _Pragma("GCC visibility pop")
#else  /* Windows exports only what is marked dllexport anyway */
#define MC_HIDDEN_BEGIN
#define MC_HIDDEN_END
#endif

#endif
