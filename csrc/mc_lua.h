/*
** mc_lua.h: what the Lua binding files share (internal, not installed).
*/
#ifndef mc_lua_h
#define mc_lua_h

#include "lua.h"
#include "lauxlib.h"

#include "mc_cache.h"
#include "mc_key.h"

#define MC_CACHE_MT   "methodcache.cache"     /* the handle users see */
#define MC_CORE_MT    "methodcache.core"      /* C memory, with __gc */
#define MC_NODE_MT    "methodcache.node"      /* death notice of a key */
#define MC_METHOD_MT  "methodcache.method"

/* User values of a cache handle. */
#define MC_UV_ROOT   1  /* weak keys: values by entry, node tables by object */
#define MC_UV_CORE   2  /* the mc_lcore userdata */
#define MC_UV_NODES  3  /* weak values: node address -> node table */
#define MC_UV_OPTS   4  /* option functions, by the MC_OPT_* index */
#define MC_NUV       4

enum { MC_OPT_TIMER = 1, MC_OPT_GETSIZEOF, MC_OPT_ONEVICT, MC_OPT_TTU };

#define MC_HAS(o)  (1 << (o))

/* for the few functions of the hit path that the compiler would not inline
** because they have a second, colder caller */
#if defined(__GNUC__)
#define MC_INLINE  static inline __attribute__((always_inline))
#else
#define MC_INLINE  static inline
#endif

typedef struct mc_lcore {
  mc_cache c;
  int closed;               /* finalized: C memory gone, acts empty */
  int bound;                /* the per-object cache of a method */
  int typed;
  int flags;                /* MC_HAS(MC_OPT_*) */
  double ttl;
} mc_lcore;

typedef struct mc_handle {
  mc_lcore *core;
} mc_handle;

/* mc_lcache_fetch results besides a count of values */
#define MC_MISS    (-1)
#define MC_NOKEY   (-2)   /* an argument (NaN) makes the call uncacheable */

int mc_lcache_open(lua_State *L);
int mc_lmethod_open(lua_State *L);
double mc_clock_now(void);

mc_handle *mc_lcache_test(lua_State *L, int idx);
mc_handle *mc_lcache_new(lua_State *L, int policy, long long maxsize,
                         double ttl, int optidx, int argbase,
                         const char *fname);
int mc_lcache_fetch(lua_State *L, mc_handle *h, int hidx, int first,
                    int last);
int mc_lcache_store(lua_State *L, int hidx, int first, int last,
                    int vfirst, int nres);
void mc_lcache_clear(lua_State *L, int hidx);
void mc_lcache_pushinfo(lua_State *L, mc_handle *h);
size_t mc_lcache_count(mc_handle *h);
void mc_lcache_pushmaxsize(lua_State *L, long long maxsize);

#endif
