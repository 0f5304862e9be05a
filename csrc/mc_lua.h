/*
** mc_lua.h: what the Lua binding files share (internal, not installed).
**
** The binding is one file per job:
**   mc_lstate.c   per-state data: the memory counter, the open cores, the
**                 weak metatables; lua_close
**   mc_lcore.c    the core userdata (C memory, __gc) and holds (__close)
**   mc_lopts.c    argument errors and the options of caches and methods
**   mc_lkey.c     arguments to keys and back
**   mc_lnode.c    node tables: the weak chains that hold object arguments
**   mc_lvalue.c   values: inline in the entry or in a node table
**   mc_lop.c      the operations: lookup, store, remove, evict, expire,
**                 pairs, clear, eviction notices and option callbacks
**   mc_lcache.c   the cache object users see (methodcache.lru ...)
**   mc_lmethod.c  cached methods and functions
**   mc_lcoalesce.c  the misses of option coalesce: one computation per key
**                 across coroutines
**   mc_lfast.c    policy fast: methods made of a Lua chunk, hits in bytecode
**   mc_lbudget.c  what a method shares with its per-object cores: the
**                 count of collected caches, the budget of option total
**
** THE RULE (docs/DESIGN.md, "Reentrancy"): any Lua allocation (a GC step)
** may run finalizers, and a finalizer may use any cache.  So a pointer into
** the core (entry, node) is held across such a point only under a hold
** (mc_op_hold .. mc_op_release), which keeps that memory valid, and is
** checked (mc_op_valid) before it is used again.  The hot paths (a hit, a
** store of value keys without on_evict) make no Lua allocation while they
** hold a pointer and need no hold; each says so where it does it.
*/
#ifndef mc_lua_h
#define mc_lua_h

#include "lua.h"
#include "lauxlib.h"

#include "methodcache.h"

#include "mc_budget.h"
#include "mc_cache.h"
#include "mc_key.h"
#include "mc_visibility.h"

MC_HIDDEN_BEGIN

#define MC_CACHE_MT   "methodcache.cache"     /* the handle users see */
#define MC_CORE_MT    "methodcache.core"      /* C memory: __gc, __close */
#define MC_NODE_MT    "methodcache.node"      /* death notice of a key */
#define MC_METHOD_MT  "methodcache.method"
#define MC_STATE_MT   "methodcache.state"     /* per-state data */

/* User values of a cache handle. */
#define MC_UV_ROOT   1  /* weak keys: values by entry, node tables by object */
#define MC_UV_CORE   2  /* the mc_lcore userdata */
#define MC_UV_NODES  3  /* weak values: node address -> node table, or nil */
#define MC_UV_OPTS   4  /* option functions, by the MC_OPT_* index */
#define MC_NUV       4
#define MC_UV_OWNER  5  /* store "object" only: the table it belongs to */

enum { MC_OPT_TIMER = 1, MC_OPT_GETSIZEOF, MC_OPT_ONEVICT, MC_OPT_TTU,
       MC_OPT_KEY };

#define MC_HAS(o)  (1 << (o))

/* Arguments compared by identity (and held weakly), as a Lua type. */
#define mc_byidentity(t)  ((t) == LUA_TTABLE || (t) == LUA_TUSERDATA || \
                           (t) == LUA_TFUNCTION || (t) == LUA_TTHREAD)

/* for the few functions of the hit path that the compiler would not inline
** because they have a second, colder caller */
#if defined(__GNUC__)
#define MC_INLINE  static inline __attribute__((always_inline))
#else
#define MC_INLINE  static inline
#endif

/* {======================================================
** Per-state data (mc_lstate.c)
** ======================================================= */

/* One per lua_State, in the registry: it outlives every core (objects are
** freed only after all finalizers ran). */
typedef struct mc_state {
  long long bytes;          /* C memory of every cache of the state */
  mc_hkey hkey;             /* the key hash's secret (mc_secret.c) */
  mc_link cores;            /* every core whose C memory is not freed */
  int closing;              /* lua_close has begun: new cores hold nothing */
} mc_state;

mc_state *mc_state_get(lua_State *L);
void mc_state_open(lua_State *L);
void mc_pushweak(lua_State *L, int mode);   /* a new table, mode 'k' or 'v' */
void mc_setweak(lua_State *L, int idx, int mode);   /* makes a table weak */

/* }====================================================== */


/* {======================================================
** Options and errors (mc_lopts.c)
** ======================================================= */

/* Everything a cache is made from, parsed before anything is made. */
typedef struct mc_opts {
  int policy;
  long long maxsize;
  double ttl;               /* policy ttl */
  int typed;
  int flags;                /* MC_HAS(MC_OPT_*): option functions given */
  int seeded;
  long long seed;           /* policy rr */
  int coalesce;             /* methods: one computation per key at a time */
  long long total;          /* methods: the budget across objects, or -1 */
  int store;                /* methods: MC_STORE_WEAK or MC_STORE_OBJECT */
} mc_opts;

/* Where a method keeps each object's cache (docs/DESIGN.md, section 16). */
enum { MC_STORE_WEAK, MC_STORE_OBJECT };

/* Where an options table is read: the constructors (lru, ...), or method
** and cached, which also take policy, maxsize, ttl and ttu. */
enum { MC_FOR_CACHE, MC_FOR_METHOD };

int mc_argerror(lua_State *L, int arg, const char *fname, const char *fmt,
                ...);
const char *mc_given(lua_State *L, int idx);
int mc_iscallable(lua_State *L, int idx);
const char *mc_fname(lua_State *L, const char *fname);
long long mc_checksize(lua_State *L, int idx, int arg, const char *fname,
                       const char *what);
void mc_opts_init(mc_opts *o, int policy);
void mc_opts_read(lua_State *L, int idx, int arg, const char *fname,
                  int where, mc_opts *o);

/* }====================================================== */


/* {======================================================
** Cores, holds and operations
** ======================================================= */

typedef struct mc_lcore {
  mc_cache c;
  mc_link link;             /* in mc_state.cores while its memory lives */
  mc_state *state;
  unsigned epoch;           /* counts clears: a held key may be stale */
  int closed;               /* finalized: C memory gone, acts empty */
  int bound;                /* the per-object cache of a method */
  int typed;
  int flags;                /* MC_HAS(MC_OPT_*) */
  double ttl;
  mc_budget *budget;        /* a method's per-object core: what it shares
                               with the method (user value 1 keeps it) */
  mc_link blink;            /* in budget->cores */
  unsigned stamp;           /* info's walk saw it (budget->stamp) */
  int orphaned;             /* its entries went while its handle could not
                               be found: the next store starts it afresh */
} mc_lcore;

typedef struct mc_handle {
  mc_lcore *core;
  uintptr_t tag;            /* store "object": mc_objstore_tag of the table
                               whose field holds it, which user value
                               MC_UV_OWNER keeps alive so that its address
                               is not reused; else 0 */
} mc_handle;

/* mc_op_fetch/lookup results besides a count of values */
#define MC_MISS    (-1)
#define MC_NOKEY   (-2)   /* an argument (NaN) makes the call uncacheable */

void mc_lcore_open(lua_State *L);
mc_lcore *mc_lcore_new(lua_State *L, const mc_opts *o);
int mc_op_hold(lua_State *L, int hidx);
void mc_op_release(lua_State *L, int slot);

int mc_lcache_open(lua_State *L);
int mc_lmethod_open(lua_State *L);
int mc_lmethod_decorate(lua_State *L);
int mc_lmethod_compute(lua_State *L, int n, int store);
void mc_lmethod_checkself(lua_State *L, const char *fname);
void mc_lcoalesce_open(lua_State *L);
void mc_lcoalesce_pushstate(lua_State *L);
int mc_lcoalesce_miss(lua_State *L, int n, int first);
int mc_ldebug_open(lua_State *L);
double mc_clock_now(void);

mc_handle *mc_lcache_test(lua_State *L, int idx);
mc_handle *mc_lcache_new(lua_State *L, const mc_opts *o, int fns);
size_t mc_lcache_count(mc_handle *h);
void mc_lcache_pushinfo(lua_State *L, mc_handle *h);
void mc_lcache_pushmaxsize(lua_State *L, int policy, long long maxsize);

mc_cache *mc_op_live(mc_handle *h);
int mc_op_fetch(lua_State *L, mc_handle *h, int hidx, int first, int last);
int mc_op_lookup(lua_State *L, mc_handle *h, int hidx, int first, int last,
                 int flags, const char *fname);
int mc_op_stale(lua_State *L, mc_handle *h, int hidx, int first, int last);
int mc_op_store(lua_State *L, int hidx, int first, int last, int vfirst,
                int nres, const char *fname);
int mc_op_store_ttl(lua_State *L, int hidx, int first, int last, int vfirst,
                    int nres, double ttl, const char *fname);
int mc_op_remove(lua_State *L, int hidx, int kidx, int push,
                 const char *fname);
int mc_op_delete(lua_State *L, int hidx, int first, int last,
                 const char *fname);
int mc_op_expire(lua_State *L, int hidx);
int mc_op_snapshot(lua_State *L, int hidx);
void mc_op_clear(lua_State *L, int hidx);

/* mc_op_lookup flags */
#define MC_COUNT  1
#define MC_TOUCH  2
#define MC_PUSH   4

/* }====================================================== */


/* {======================================================
** Cached methods (mc_lmethod.c) and their statistics (mc_lstats.c)
** ======================================================= */

/* Upvalue 1 of a cached method or function (the closure's other upvalues
** are listed in mc_lmethod.c); upvalue 5 is the userdata it lives in, whose
** user value 1 is the method's name once a call has told it (mc_lstats.c). */
typedef struct mc_method {
  long long hits, misses;   /* over every object, ever */
  long long caches;         /* per-object caches made, ever */
  int self;                 /* per-object caches (method) or one (function) */
  int factory;              /* caches come from upvalue 4 */
  int named;                /* user value 1 holds the name */
  int keyed;                /* option key: upvalue 7 is the key function */
  lua_Integer listed;       /* store "object": slots used in the list */
  lua_Integer listmax;      /* ... when to squeeze the dead out of it */
  mc_opts o;                /* of every cache; for factories maxsize and
                               policy are the newest cache's */
  mc_budget *budget;        /* methods: shared with the cores (user value
                               2, mc_lbudget.c) */
} mc_method;

/* User values of a method's userdata: 1 its name (mc_lstats.c) */
#define MC_METHOD_NUV  3
#define MC_METHOD_UV_BUDGET  2  /* the block shared with its cores */
#define MC_METHOD_UV_LIST  3  /* store "object": a weak-valued sequence of
                                 the caches of tables (mc_lmethod.c) */

void mc_lbudget_new(lua_State *L, mc_method *m, int midx);
void mc_lbudget_bind(lua_State *L, int midx, int hidx);
void mc_lbudget_release(mc_lcore *lc, int collected);
int mc_lbudget_pushhandle(lua_State *L, int live, mc_lcore *x);
int mc_lbudget_prestore(lua_State *L, mc_lcore *lc, int hidx);
void mc_lbudget_sweep(mc_budget *b, unsigned stamp);
void mc_lbudget_scan(lua_State *L, int live, mc_budget *b, int n);

/* The core whose cache is 'cp' (an entry under a budget names its cache). */
#define mc_lcore_of(cp) \
  ((mc_lcore *)(void *)((char *)(cp) - offsetof(mc_lcore, c)))

/* The stack of a call, arguments at 1..n: the key is the arguments after
** self.  With option key, the key function's one result is pushed after
** the arguments: then n counts it, the key is that slot alone and the
** function gets the slots before it. */
#define MC_KEYFIRST(m, n)  ((m)->keyed ? (n) : (m)->self ? 2 : 1)
#define MC_NARGS(m, n)     ((n) - (m)->keyed)

/* Store "object": the tag of the handle of table 'self' for the method
** 'm': the table's address mixed with the method's, so that no other value
** than a handle this method made for this table has it by accident. */
#define mc_objstore_tag(self, m)  ((uintptr_t)(self) ^ (uintptr_t)(m))

/* Store "object": pushes the cache handle that table 'self' (at 'idx')
** holds in its private field, under the method's userdata (at 'key'), and
** returns it, if the method 'm' made it for this very table; else pushes
** nothing and returns NULL (no field, another value there, or a handle that
** a copy of another object brought along: the caller makes the table a
** cache of its own).  Any Lua code can write the field: a userdata is read
** only if it has the size of a handle, and used only if it has the tag.
** Raw calls only: no metamethod, no allocation, so the hit path may use it. */
MC_INLINE mc_handle *mc_objstore_get(lua_State *L, int idx, int key,
                                     const mc_method *m) {
  mc_handle *h;
  lua_pushvalue(L, key);
  if (lua_rawget(L, idx) == LUA_TUSERDATA &&
      lua_rawlen(L, -1) == sizeof(mc_handle) &&
      (h = (mc_handle *)lua_touserdata(L, -1))->tag ==
          mc_objstore_tag(lua_topointer(L, idx), m))
    return h;
  lua_pop(L, 1);
  return NULL;
}

void mc_lstats_open(lua_State *L);
void mc_lstats_register(lua_State *L);
void mc_lstats_name(lua_State *L, mc_method *m, int udidx);
int mc_lstats_visit(lua_State *L, methodcache_stats_fn fn, void *ud);

/* }====================================================== */


/* {======================================================
** Policy fast (mc_lfast.c): methods whose hits are Lua bytecode
** ======================================================= */

/* Not a policy of the core: methods and cached functions only. */
#define MC_FAST  MC_NPOLICIES

/* The control table of a fast function: what the chunk gives C. */
enum { MC_FAST_INFO = 1, MC_FAST_CLEAR, MC_FAST_DELETE, MC_FAST_REFRESH,
       MC_FAST_FN, MC_FAST_METHOD, MC_FAST_STATS };

void mc_lfast_checkopts(lua_State *L, const mc_opts *o, int arg,
                        const char *fname);
void mc_lfast_new(lua_State *L, const mc_opts *o, int self, int arg,
                  const char *fname);
int mc_lfast_pushcontrol(lua_State *L, int idx);
int mc_lfast_control(lua_State *L, int op);
int mc_lfast_onekey(lua_State *L, int refresh);
int mc_lfast_stat(lua_State *L, int f, methodcache_stat *s, lua_Debug *ar);

/* }====================================================== */


/* {======================================================
** Keys (mc_lkey.c)
** ======================================================= */

#define MC_KEYBUF  128

enum { MC_KEY_OK, MC_KEY_ABSENT, MC_KEY_NAN };

typedef struct mc_lkey {
  mc_kbuf k;
  mc_node *node;            /* node of the last object argument, or NULL */
  int ntab;                 /* stack index of its node table, 0: none */
  unsigned char buf[MC_KEYBUF];
} mc_lkey;

int mc_lkey_encode(lua_State *L, mc_lcore *lc, int hidx, int first,
                   int last, mc_lkey *kc, int create);
int mc_lkey_encodeinto(lua_State *L, mc_lcore *lc, int hidx, int first,
                       int last, unsigned char *p, size_t len);
mc_entry *mc_lkey_find(lua_State *L, mc_lcore *lc, int hidx, int first,
                       int last, mc_lkey *kc);
void mc_lkey_push(lua_State *L, int hidx, mc_entry *e);
int mc_lkey_hasobject(lua_State *L, int first, int last);

/* Encodes the value at 'i' (of type 't') if it is compared by value:
** returns 1, 0 for NaN (no key), -1 for an object (compared by identity).
** Inline: it is the hit path of every cached call. */
MC_INLINE int mc_lkey_number(lua_State *L, int i, int typed, mc_kbuf *k) {
  lua_Number n;
  lua_Integer li;
  int isint;
  if (!typed) {
    /* floats with an integral value convert, as table keys do */
    li = lua_tointegerx(L, i, &isint);
    if (isint) {
      mc_key_int(k, (long long)li);
      return 1;
    }
  }
  else if (lua_isinteger(L, i)) {
    mc_key_int(k, (long long)lua_tointeger(L, i));
    return 1;
  }
  n = lua_tonumber(L, i);
  if (n != n)
    return 0;
  mc_key_flt(k, n == 0 ? 0.0 : (double)n);  /* -0.0 is 0.0 */
  return 1;
}

MC_INLINE int mc_lkey_value(lua_State *L, int i, int t, int typed,
                            mc_kbuf *k) {
  switch (t) {
    case LUA_TNUMBER:
      return mc_lkey_number(L, i, typed, k);
    case LUA_TSTRING: {
      size_t l;
      const char *s = lua_tolstring(L, i, &l);
      mc_key_str(k, s, l);
      return 1;
    }
    case LUA_TBOOLEAN:
      mc_key_tag(k, lua_toboolean(L, i) ? MC_KTRUE : MC_KFALSE);
      return 1;
    case LUA_TNIL:
      mc_key_tag(k, MC_KNIL);
      return 1;
    case LUA_TLIGHTUSERDATA:
      mc_key_lud(k, lua_touserdata(L, i));
      return 1;
    default:
      return -1;
  }
}

/* }====================================================== */


/* {======================================================
** Node tables (mc_lnode.c)
** ======================================================= */

typedef struct mc_sentinel {
  mc_node *node;            /* NULL once dead or detached */
  mc_lcore *core;
} mc_sentinel;

void mc_lnode_open(lua_State *L);
mc_node *mc_lnode_step(lua_State *L, mc_lcore *lc, int hidx, int i,
                       mc_node *parent, int create);
int mc_lnode_push(lua_State *L, int hidx, mc_node *node);
void mc_lnode_pushobject(lua_State *L, int hidx, mc_node *n);
void mc_lnode_prune(lua_State *L, mc_lcore *lc, int hidx, mc_node *n);

/* }====================================================== */


/* {======================================================
** Values (mc_lvalue.c)
** ======================================================= */

/* How an entry's value is stored (mc_entry.vtag).  VT_ABSENT is the tag of
** a reserved entry before its value is set; a linked entry always has a
** value (mc_op_store sets it before mc_cache_link), but every lookup would
** take VT_ABSENT for a miss.  VT_PACK keeps the number of values in the
** entry's inline value (v.i), which it does not otherwise use: any count
** fits, and no entry carries a count field. */
enum { VT_ABSENT, VT_NONE, VT_NIL, VT_FALSE, VT_TRUE, VT_INT, VT_FLT,
       VT_LUD, VT_ONE, VT_PACK };

#define mc_intable(e)  ((e)->vtag >= VT_ONE)

int mc_lvalue_prepare(lua_State *L, int vfirst, int nres);
void mc_lvalue_set(lua_State *L, mc_entry *e, int tidx, int vfirst,
                   int nres, int packidx);
int mc_lvalue_push(lua_State *L, mc_entry *e, int tidx);
void mc_lvalue_pushpacked(lua_State *L, mc_entry *e, int tidx);
void mc_lvalue_pack(lua_State *L, int first, int n);

/* }====================================================== */

MC_HIDDEN_END

#endif
