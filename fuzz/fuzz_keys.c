/*
** fuzz_keys.c: libFuzzer target for keys through the real Lua binding.
**
** Each input runs in a fresh lua_State with methodcache preloaded as a host
** does (methodcache_openlibs).  Byte 0 holds the flags (bit 0: typed; bits
** 1-3: the policy of the standalone cache); then each operation is an
** opcode byte and its operands, values picked from a pool of odd cases
** (integers and floats at the edges, -0.0, NaN, inf, strings around the
** binding's 128-byte key buffer and past 64 KiB, embedded zeros, light
** userdata, objects, objects made fresh for each use, and tables whose
** finalizer reads the caches at any allocation point).
**
** Two properties are checked against a model kept here, whose notion of
** "equal keys" is computed from the Lua values, not from the encoder:
**   1. a function cached with methodcache.cached computes a call again
**      exactly when no earlier stored call had equal arguments (a NaN
**      argument makes a call uncached), and a hit returns what that call
**      returned;
**   2. a standalone cache (c:set, get, has, peek, delete, pairs, #c) finds
**      a key exactly when an equal key was set, and pairs gives back keys
**      raw-equal to those set, numbers normalized as table keys are.
** Equal keys: same length, and position by position the same type and
** raw-equal as table keys (1 == 1.0, 0 == -0.0); typed: an integer never
** equals a float, but -0.0 and 0.0 are one key (the encoder writes 0.0).
**
** After full collections the caches must have dropped the entries of dead
** objects; at the end methodcache.memory() must be back to 0 and lua_close
** must leave nothing (LeakSanitizer).  A failed check calls abort().
*/
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

#include "methodcache.h"

#include "fuzz.h"

#define MAXARGS   6
#define MAXROUNDS 96
#define MAXSIZE   4096      /* no eviction: the model is a plain set */


/* {======================================================
** The pool of values
** ======================================================= */

enum kind {
  K_NIL, K_FALSE, K_TRUE, K_INT, K_FLT, K_STR, K_LUD, K_TABLE, K_UDATA,
  K_FUNC, K_THREAD,
  /* made anew at each use, so no later argument can equal them */
  K_FRESH_TABLE, K_FRESH_UDATA, K_FRESH_FUNC, K_FRESH_THREAD, K_FRESH_GC
};

typedef struct pooldef {
  int kind;
  lua_Integer i;
  double n;
  const char *s;            /* K_STR: the bytes, or NULL: ... */
  size_t len;
  int fill, last;           /* ... 'fill' repeated, the last byte 'last' */
} pooldef;

#define TWO63 9223372036854775808.0

static const pooldef pool[] = {
  {K_NIL, 0, 0, NULL, 0, 0, 0},
  {K_FALSE, 0, 0, NULL, 0, 0, 0},
  {K_TRUE, 0, 0, NULL, 0, 0, 0},
  {K_INT, 0, 0, NULL, 0, 0, 0},
  {K_INT, 1, 0, NULL, 0, 0, 0},
  {K_INT, -1, 0, NULL, 0, 0, 0},
  {K_INT, 2, 0, NULL, 0, 0, 0},
  /* the edges of the integer's encoded sizes (mc_key_int): 1 to 8 bytes */
  {K_INT, 127, 0, NULL, 0, 0, 0},
  {K_INT, -128, 0, NULL, 0, 0, 0},
  {K_INT, 128, 0, NULL, 0, 0, 0},
  {K_INT, -32769, 0, NULL, 0, 0, 0},
  {K_INT, 2147483648LL, 0, NULL, 0, 0, 0},        /* 2^31 */
  {K_INT, -1099511627777LL, 0, NULL, 0, 0, 0},    /* -2^40 - 1 */
  {K_INT, 36028797018963967LL, 0, NULL, 0, 0, 0}, /* 2^55 - 1 */
  {K_INT, 36028797018963968LL, 0, NULL, 0, 0, 0}, /* 2^55 */
  {K_INT, LUA_MININTEGER, 0, NULL, 0, 0, 0},
  {K_INT, LUA_MAXINTEGER, 0, NULL, 0, 0, 0},
  {K_INT, 9007199254740992LL, 0, NULL, 0, 0, 0},  /* 2^53 */
  {K_INT, 9007199254740993LL, 0, NULL, 0, 0, 0},  /* 2^53 + 1 */
  {K_FLT, 0, 0.0, NULL, 0, 0, 0},
  {K_FLT, 0, -0.0, NULL, 0, 0, 0},
  {K_FLT, 0, 1.0, NULL, 0, 0, 0},
  {K_FLT, 0, -1.0, NULL, 0, 0, 0},
  {K_FLT, 0, 2.0, NULL, 0, 0, 0},
  {K_FLT, 0, 0.5, NULL, 0, 0, 0},
  {K_FLT, 0, 2.0000000000000004, NULL, 0, 0, 0},
  {K_FLT, 0, 9007199254740992.0, NULL, 0, 0, 0},
  {K_FLT, 0, TWO63, NULL, 0, 0, 0},               /* no integer has it */
  {K_FLT, 0, -TWO63, NULL, 0, 0, 0},              /* math.mininteger */
  {K_FLT, 0, 1e300, NULL, 0, 0, 0},
  {K_FLT, 0, HUGE_VAL, NULL, 0, 0, 0},
  {K_FLT, 0, -HUGE_VAL, NULL, 0, 0, 0},
  {K_FLT, 0, NAN, NULL, 0, 0, 0},
  {K_FLT, 0, -NAN, NULL, 0, 0, 0},
  {K_STR, 0, 0, "", 0, 0, 0},
  {K_STR, 0, 0, "a", 1, 0, 0},
  {K_STR, 0, 0, "1", 1, 0, 0},
  {K_STR, 0, 0, "0", 1, 0, 0},
  {K_STR, 0, 0, "\0", 1, 0, 0},
  {K_STR, 0, 0, "a\0b", 3, 0, 0},
  {K_STR, 0, 0, "a\0c", 3, 0, 0},
  {K_STR, 0, 0, "true", 4, 0, 0},
  /* around the 128-byte key buffer (a key is ~3 bytes more than these) */
  {K_STR, 0, 0, NULL, 123, 'k', 'k'},
  {K_STR, 0, 0, NULL, 124, 'k', 'k'},
  {K_STR, 0, 0, NULL, 125, 'k', 'k'},
  {K_STR, 0, 0, NULL, 126, 'k', 'k'},
  {K_STR, 0, 0, NULL, 127, 'k', 'k'},
  {K_STR, 0, 0, NULL, 127, 'k', 'l'},
  {K_STR, 0, 0, NULL, 128, 'k', 'k'},
  {K_STR, 0, 0, NULL, 200, 'k', 'k'},
  /* long strings (not interned): two objects, one content */
  {K_STR, 0, 0, NULL, 50, 'm', 'm'},
  {K_STR, 0, 0, NULL, 50, 'm', 'm'},
  {K_STR, 0, 0, NULL, 4000, 'x', 'x'},
  {K_STR, 0, 0, NULL, 70000, 'x', 'x'},
  {K_STR, 0, 0, NULL, 70000, 'x', 'y'},
  {K_LUD, 0, 0, NULL, 0, 0, 0},
  {K_LUD, 1, 0, NULL, 0, 0, 0},
  {K_LUD, 16, 0, NULL, 0, 0, 0},
  {K_TABLE, 0, 0, NULL, 0, 0, 0},
  {K_TABLE, 0, 0, NULL, 0, 0, 0},
  {K_UDATA, 0, 0, NULL, 0, 0, 0},
  {K_FUNC, 0, 0, NULL, 0, 0, 0},
  {K_THREAD, 0, 0, NULL, 0, 0, 0},
  {K_FRESH_TABLE, 0, 0, NULL, 0, 0, 0},
  {K_FRESH_UDATA, 0, 0, NULL, 0, 0, 0},
  {K_FRESH_FUNC, 0, 0, NULL, 0, 0, 0},
  {K_FRESH_THREAD, 0, 0, NULL, 0, 0, 0},
  {K_FRESH_GC, 0, 0, NULL, 0, 0, 0},
};

#define NPOOL ((int)(sizeof(pool) / sizeof(pool[0])))

static int isfresh(int p) {
  return pool[p].kind >= K_FRESH_TABLE;
}

static int noop(lua_State *L) {
  (void)L;
  return 0;
}

/* }====================================================== */


/* {======================================================
** State: the Lua stack slots, the model, the input
** ======================================================= */

/* stack slots of run() */
enum { S_POOL = 1, S_FRESH, S_MC, S_F, S_C, S_TOP = S_C };

/* upvalues of the finalizer of K_FRESH_GC tables */
enum { U_C = 1, U_F, U_KEY };

typedef struct val {
  int p;                    /* pool index */
  int fresh;                /* id in S_FRESH of a fresh object, else 0 */
} val;

typedef struct call {
  int n;
  val a[MAXARGS];
  lua_Integer result;
} call;

typedef struct entry {
  val k;
  lua_Integer v;
} entry;

typedef struct fk {
  const uint8_t *p, *end;
  int trace;                /* MC_FUZZ_TRACE set: print the program */
  int typed;
  int fresh;                /* the last fresh id given */
  call calls[MAXROUNDS];    /* stored calls of the cached function */
  int ncalls;
  lua_Integer counter;      /* calls the function has computed */
  lua_Integer hits;
  entry keys[MAXROUNDS];    /* the standalone cache */
  int nkeys;
} fk;

static unsigned byte(fk *F) {
  return F->p < F->end ? *F->p++ : 0;
}

/* The program as Lua, to stderr, so that a saved crash can be read. */
static void trace(const fk *F, const char *fmt, ...) {
  va_list ap;
  if (!F->trace)
    return;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
}

static void trace_value(const fk *F, int p) {
  const pooldef *d = &pool[p];
  static const char *const objects[] = {
    "T", "U", "print", "co", "{}", "newproxy()", "function() end",
    "coroutine.create(print)", "setmetatable({}, {__gc = reader})"
  };
  switch (d->kind) {
    case K_NIL: trace(F, "nil"); break;
    case K_FALSE: trace(F, "false"); break;
    case K_TRUE: trace(F, "true"); break;
    case K_INT:
      if (d->i == LUA_MININTEGER)
        trace(F, "math.mininteger");
      else
        trace(F, "%lld", (long long)d->i);
      break;
    case K_FLT:
      if (isnan(d->n))
        trace(F, "%s(0/0)", signbit(d->n) ? "-" : "");
      else if (isinf(d->n))
        trace(F, "%s1/0", d->n < 0 ? "-" : "");
      else
        trace(F, "%.17g%s", d->n, floor(d->n) == d->n ? ".0" : "");
      break;
    case K_STR:
      if (d->s != NULL) {
        size_t i;
        trace(F, "\"");
        for (i = 0; i < d->len; i++)
          trace(F, d->s[i] ? "%c" : "\\0", d->s[i]);
        trace(F, "\"");
      }
      else
        trace(F, "string.rep(\"%c\", %zu) .. \"%c\"", d->fill,
              d->len - 1, d->last);
      break;
    case K_LUD: trace(F, "lightuserdata(%lld)", (long long)d->i); break;
    case K_TABLE: trace(F, "T%d", p); break;
    default: trace(F, "%s", objects[d->kind - K_TABLE]); break;
  }
}

/* }====================================================== */


/* {======================================================
** Equal keys, from the Lua values
** ======================================================= */

static int isnan_at(lua_State *L, int i) {
  return lua_type(L, i) == LUA_TNUMBER && !lua_isinteger(L, i) &&
         isnan((double)lua_tonumber(L, i));
}

/* The integer a number at 'i' stands for as a table key, if any. */
static int asint(lua_State *L, int i, lua_Integer *out) {
  double n;
  if (lua_isinteger(L, i)) {
    *out = lua_tointeger(L, i);
    return 1;
  }
  n = (double)lua_tonumber(L, i);
  if (n >= -TWO63 && n < TWO63 && floor(n) == n) {
    *out = (lua_Integer)n;
    return 1;
  }
  return 0;
}

static int numeq(lua_State *L, int a, int b, int typed) {
  lua_Integer x, y;
  int ia, ib;
  if (typed) {
    if (lua_isinteger(L, a) != lua_isinteger(L, b))
      return 0;
    if (lua_isinteger(L, a))
      return lua_tointeger(L, a) == lua_tointeger(L, b);
    return lua_tonumber(L, a) == lua_tonumber(L, b);  /* -0.0 == 0.0 */
  }
  ia = asint(L, a, &x);
  ib = asint(L, b, &y);
  if (ia || ib)
    return ia && ib && x == y;
  return lua_tonumber(L, a) == lua_tonumber(L, b);
}

static int keyeq_values(lua_State *L, int a, int b, int typed) {
  size_t la, lb;
  const char *sa, *sb;
  if (lua_type(L, a) != lua_type(L, b) || isnan_at(L, a) || isnan_at(L, b))
    return 0;
  switch (lua_type(L, a)) {
    case LUA_TNIL:
      return 1;
    case LUA_TBOOLEAN:
      return lua_toboolean(L, a) == lua_toboolean(L, b);
    case LUA_TNUMBER:
      return numeq(L, a, b, typed);
    case LUA_TSTRING:
      sa = lua_tolstring(L, a, &la);
      sb = lua_tolstring(L, b, &lb);
      return la == lb && memcmp(sa, sb, la) == 0;
    case LUA_TLIGHTUSERDATA:
      return lua_touserdata(L, a) == lua_touserdata(L, b);
    default:
      return lua_rawequal(L, a, b);
  }
}

/* Equal keys, and, untyped, exactly Lua's raw equality (but for NaN). */
static int keyeq(lua_State *L, int a, int b, int typed) {
  int eq;
  a = lua_absindex(L, a);
  b = lua_absindex(L, b);
  eq = keyeq_values(L, a, b, typed);
  if (!typed && !isnan_at(L, a) && !isnan_at(L, b))
    check(eq == lua_rawequal(L, a, b), "the model of raw equality: %s %s",
          luaL_typename(L, a), luaL_typename(L, b));
  return eq;
}

/* Pushes the value 'v' stands for; nil for a fresh object that died. */
static void pushval(lua_State *L, const val *v) {
  if (v->fresh)
    lua_rawgeti(L, S_FRESH, v->fresh);
  else
    lua_rawgeti(L, S_POOL, v->p + 1);
}

static int alive(lua_State *L, const val *v) {
  int t;
  if (!v->fresh)
    return 1;
  t = lua_rawgeti(L, S_FRESH, v->fresh);
  lua_pop(L, 1);
  return t != LUA_TNIL;
}

static int valeq(lua_State *L, const fk *F, const val *x, const val *y) {
  int eq;
  if (x->fresh || y->fresh)
    return x->fresh == y->fresh;
  pushval(L, x);
  pushval(L, y);
  eq = keyeq(L, -2, -1, F->typed);
  lua_pop(L, 2);
  return eq;
}

static int hasnan(lua_State *L, const val *a, int n) {
  int i, nan = 0;
  for (i = 0; i < n && !nan; i++) {
    pushval(L, &a[i]);
    nan = isnan_at(L, -1);
    lua_pop(L, 1);
  }
  return nan;
}

/* }====================================================== */


/* {======================================================
** Making values
** ======================================================= */

/* The finalizer of K_FRESH_GC tables: it uses the caches in the middle of
** whatever allocation made the collector run.  It only reads, so that the
** model stays true. */
static int reader_gc(lua_State *L) {
  int n = 0;
  lua_settop(L, 0);
  lua_pushvalue(L, lua_upvalueindex(U_C));
  lua_getfield(L, 1, "get");
  lua_pushvalue(L, 1);
  lua_pushvalue(L, lua_upvalueindex(U_KEY));
  lua_call(L, 2, 0);
  lua_getfield(L, 1, "has");
  lua_pushvalue(L, 1);
  lua_pushvalue(L, lua_upvalueindex(U_KEY));
  lua_call(L, 2, 0);
  lua_len(L, 1);
  lua_getglobal(L, "pairs");
  lua_pushvalue(L, 1);
  lua_call(L, 1, 3);
  for (;;) {  /* stack: c, #c, next, state, control */
    lua_pushvalue(L, 3);
    lua_pushvalue(L, 4);
    lua_pushvalue(L, 5);
    lua_call(L, 2, 2);
    if (lua_isnil(L, -2))
      break;
    lua_pop(L, 1);
    lua_replace(L, 5);
    n++;
  }
  check(n <= lua_tointeger(L, 2), "a finalizer sees %d pairs of %d "
        "entries", n, (int)lua_tointeger(L, 2));
  lua_settop(L, 0);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "methodcache");
  lua_call(L, 1, 1);
  lua_getfield(L, 1, "info");
  lua_pushvalue(L, lua_upvalueindex(U_F));
  lua_call(L, 1, 1);
  return 0;
}

static void pushfresh(lua_State *L, int kind) {
  switch (kind) {
    case K_FRESH_TABLE:
      lua_createtable(L, 0, 0);
      break;
    case K_FRESH_UDATA:
      lua_newuserdatauv(L, 8, 0);
      break;
    case K_FRESH_FUNC:
      lua_pushinteger(L, 0);
      lua_pushcclosure(L, noop, 1);  /* a closure: a new object each time */
      break;
    case K_FRESH_THREAD:
      lua_newthread(L);
      break;
    default:  /* K_FRESH_GC */
      lua_createtable(L, 0, 0);
      lua_createtable(L, 0, 1);
      lua_pushvalue(L, S_C);
      lua_pushvalue(L, S_F);
      lua_pushliteral(L, "a key never set");
      lua_pushcclosure(L, reader_gc, 3);
      lua_setfield(L, -2, "__gc");
      lua_setmetatable(L, -2);
      break;
  }
}

/* Pushes the value of pool entry 'p', made anew if it is fresh (and
** then remembered, weakly, under a new id in v->fresh). */
static void newval(lua_State *L, fk *F, int p, val *v) {
  v->p = p;
  v->fresh = 0;
  if (!isfresh(p)) {
    pushval(L, v);
    return;
  }
  pushfresh(L, pool[p].kind);
  v->fresh = ++F->fresh;
  lua_pushvalue(L, -1);
  lua_rawseti(L, S_FRESH, v->fresh);
}

static void makepool(lua_State *L) {
  int i;
  lua_createtable(L, NPOOL, 0);
  for (i = 0; i < NPOOL; i++) {
    const pooldef *d = &pool[i];
    switch (d->kind) {
      case K_NIL: lua_pushnil(L); break;
      case K_FALSE: lua_pushboolean(L, 0); break;
      case K_TRUE: lua_pushboolean(L, 1); break;
      case K_INT: lua_pushinteger(L, d->i); break;
      case K_FLT: lua_pushnumber(L, (lua_Number)d->n); break;
      case K_STR:
        if (d->s != NULL)
          lua_pushlstring(L, d->s, d->len);
        else {
          luaL_Buffer b;
          char *s = luaL_buffinitsize(L, &b, d->len);
          memset(s, d->fill, d->len);
          s[d->len - 1] = (char)d->last;
          luaL_pushresultsize(&b, d->len);
        }
        break;
      case K_LUD: lua_pushlightuserdata(L, (void *)(uintptr_t)d->i); break;
      case K_TABLE: lua_createtable(L, 0, 0); break;
      case K_UDATA: lua_newuserdatauv(L, 16, 0); break;
      case K_FUNC: lua_pushcfunction(L, noop); break;
      case K_THREAD: lua_newthread(L); break;
      default: lua_pushnil(L); break;  /* fresh: made at each use */
    }
    lua_rawseti(L, -2, i + 1);
  }
}

/* }====================================================== */


/* {======================================================
** Property 1: methodcache.cached
** ======================================================= */

static int counter(lua_State *L) {
  lua_Integer n = lua_tointeger(L, lua_upvalueindex(1)) + 1;
  lua_pushinteger(L, n);
  lua_copy(L, -1, lua_upvalueindex(1));
  return 1;
}

static const call *stored_call(lua_State *L, const fk *F, const call *c) {
  int i, j;
  for (i = 0; i < F->ncalls; i++) {
    const call *s = &F->calls[i];
    if (s->n != c->n)
      continue;
    for (j = 0; j < c->n && valeq(L, F, &s->a[j], &c->a[j]); j++)
      ;
    if (j == c->n)
      return s;
  }
  return NULL;
}

static void op_call(lua_State *L, fk *F) {
  call c;
  const call *hit;
  lua_Integer got;
  int i;
  c.n = (int)(byte(F) % (MAXARGS + 1));
  lua_pushvalue(L, S_F);
  trace(F, "f(");
  for (i = 0; i < c.n; i++) {
    newval(L, F, (int)(byte(F) % NPOOL), &c.a[i]);
    trace(F, i > 0 ? ", " : "");
    trace_value(F, c.a[i].p);
  }
  trace(F, ")\n");
  hit = stored_call(L, F, &c);
  lua_call(L, c.n, 1);
  got = lua_tointeger(L, -1);
  lua_pop(L, 1);
  if (hit != NULL) {
    F->hits++;
    check(got == hit->result, "a call equal to stored call %d returned %lld",
          (int)(hit - F->calls), (long long)got);
    return;
  }
  F->counter++;
  check(got == F->counter, "a call with no equal stored call returned "
        "%lld, not a new result %lld", (long long)got,
        (long long)F->counter);
  if (!hasnan(L, c.a, c.n) && F->ncalls < MAXROUNDS) {
    c.result = got;
    F->calls[F->ncalls++] = c;
  }
}

static lua_Integer infofield(lua_State *L, const char *k) {
  lua_Integer n;
  lua_getfield(L, S_MC, "info");
  lua_pushvalue(L, S_F);
  lua_call(L, 1, 1);
  lua_getfield(L, -1, k);
  n = lua_tointeger(L, -1);
  lua_pop(L, 2);
  return n;
}

/* }====================================================== */


/* {======================================================
** Property 2: a standalone cache
** ======================================================= */

static entry *stored_key(lua_State *L, fk *F, const val *k) {
  int i;
  for (i = 0; i < F->nkeys; i++)
    if (valeq(L, F, &F->keys[i].k, k))
      return &F->keys[i];
  return NULL;
}

/* Calls c:name(v) (one more argument 'extra' if not 0) in protected
** mode; returns the status, the result on the stack. */
static int cmethod(lua_State *L, const char *name, int nargs) {
  int base = lua_gettop(L) - nargs;
  lua_getfield(L, S_C, name);
  lua_pushvalue(L, S_C);
  lua_rotate(L, base + 1, 2);
  return lua_pcall(L, nargs + 1, 1, 0);
}

static void op_set(lua_State *L, fk *F) {
  val k;
  entry *e;
  lua_Integer v = (lua_Integer)(F->p - F->end) - 1000;  /* distinct */
  const char *bad = NULL;
  int st;
  newval(L, F, (int)(byte(F) % NPOOL), &k);
  trace(F, "c:set(");
  trace_value(F, k.p);
  trace(F, ", %lld)\n", (long long)v);
  if (lua_isnil(L, -1))
    bad = "nil";
  else if (isnan_at(L, -1))
    bad = "NaN";
  lua_pushinteger(L, v);
  st = cmethod(L, "set", 2);
  if (bad != NULL) {
    check(st != LUA_OK && strstr(lua_tostring(L, -1),
                                 "bad argument #1 to 'set'") != NULL,
          "c:set(%s) did not raise the argument error", bad);
    lua_pop(L, 1);
    return;
  }
  check(st == LUA_OK && lua_toboolean(L, -1), "c:set failed: %s",
        st == LUA_OK ? "returned false" : lua_tostring(L, -1));
  lua_pop(L, 1);
  e = stored_key(L, F, &k);
  if (e == NULL && F->nkeys < MAXROUNDS) {
    e = &F->keys[F->nkeys++];
    e->k = k;
  }
  if (e != NULL)
    e->v = v;
}

/* get, peek, has and delete of one value; delete only if the byte says */
static void op_lookup(lua_State *L, fk *F) {
  val k;
  entry *e;
  int del = (int)(byte(F) & 1), i;
  static const char *const reads[] = { "get", "peek", "has" };
  newval(L, F, (int)(byte(F) % NPOOL), &k);
  trace(F, "k = ");
  trace_value(F, k.p);
  trace(F, "; c:get(k); c:peek(k); c:has(k)%s\n",
        del ? "; c:delete(k)" : "");
  e = stored_key(L, F, &k);
  for (i = 0; i < 3; i++) {
    lua_pushvalue(L, -1);
    check(cmethod(L, reads[i], 1) == LUA_OK, "c:%s raised %s", reads[i],
          lua_tostring(L, -1));
    if (i < 2)
      check(e != NULL ? (lua_isinteger(L, -1) &&
                         lua_tointeger(L, -1) == e->v)
                      : lua_isnil(L, -1),
            "c:%s(%s) %s", reads[i], luaL_typename(L, -2),
            e != NULL ? "missed an equal key" : "found a key never set");
    else
      check(lua_toboolean(L, -1) == (e != NULL), "c:has(%s) is %d",
            luaL_typename(L, -2), lua_toboolean(L, -1));
    lua_pop(L, 1);
  }
  if (del) {
    check(cmethod(L, "delete", 1) == LUA_OK, "c:delete raised %s",
          lua_tostring(L, -1));
    check(lua_toboolean(L, -1) == (e != NULL), "c:delete said %d",
          lua_toboolean(L, -1));
    if (e != NULL)
      *e = F->keys[--F->nkeys];
  }
  lua_pop(L, 1);
}

/* The key pairs() gives back for 'set' (at -1, below it the key given to
** c:set): raw-equal, and numbers as table keys normalize them. */
static void check_pairkey(lua_State *L, int typed) {
  lua_Integer i;
  check(keyeq(L, -2, -1, typed), "pairs gives a %s for a %s",
        luaL_typename(L, -1), luaL_typename(L, -2));
  if (lua_type(L, -2) != LUA_TNUMBER)
    return;
  if (typed)
    check(lua_isinteger(L, -1) == lua_isinteger(L, -2),
          "typed: pairs changed the subtype of a number");
  else
    check(lua_isinteger(L, -1) == asint(L, -2, &i),
          "untyped: pairs gives %s, table keys would give %s",
          lua_isinteger(L, -1) ? "an integer" : "a float",
          asint(L, -2, &i) ? "an integer" : "a float");
}

/* A K_FRESH_GC table leaves the weak table of fresh objects (the model
** forgets it) when its finalizer is due, but its key stays in the cache
** until the next collection frees it: Lua clears resurrected objects from
** weak values at once, from weak keys only then. */
static int finalized(lua_State *L, int i) {
  int fin = 0;
  if (lua_type(L, i) == LUA_TTABLE && lua_getmetatable(L, i)) {
    lua_getfield(L, -1, "__gc");
    fin = (lua_tocfunction(L, -1) == reader_gc);
    lua_pop(L, 2);
  }
  return fin;
}

/* pairs(c) gives each live key once, with its value. */
static void op_pairs(lua_State *L, fk *F) {
  char seen[MAXROUNDS];
  int n = 0, live = 0, i;
  memset(seen, 0, sizeof(seen));
  trace(F, "for k, v in pairs(c) do end\n");
  lua_getglobal(L, "pairs");
  lua_pushvalue(L, S_C);
  lua_call(L, 1, 3);
  for (;;) {
    int base = lua_gettop(L);  /* next, state, control */
    lua_pushvalue(L, base - 2);
    lua_pushvalue(L, base - 1);
    lua_pushvalue(L, base);
    lua_call(L, 2, 2);
    if (lua_isnil(L, -2)) {
      lua_pop(L, 2);
      break;
    }
    trace(F, "--   pairs: %s %p\n", luaL_typename(L, -2),
          lua_topointer(L, -2));
    for (i = 0; i < F->nkeys; i++) {
      pushval(L, &F->keys[i].k);
      if (keyeq(L, -1, -3, F->typed))
        break;
      lua_pop(L, 1);
    }
    if (i == F->nkeys) {
      check(finalized(L, -2), "pairs gives a key (%s) never set",
            luaL_typename(L, -2));
      lua_pop(L, 1);
      lua_replace(L, base);
      continue;
    }
    n++;
    check(!seen[i], "pairs gives key %d (pool value %d) twice", i,
          F->keys[i].k.p);
    seen[i] = 1;
    lua_pushvalue(L, -3);
    check_pairkey(L, F->typed);
    lua_pop(L, 2);
    check(lua_tointeger(L, -1) == F->keys[i].v, "pairs gives the value "
          "%lld, not %lld", (long long)lua_tointeger(L, -1),
          (long long)F->keys[i].v);
    lua_pop(L, 1);
    lua_replace(L, base);
  }
  lua_pop(L, 3);
  /* a key object that is still alive has its entry */
  for (i = 0; i < F->nkeys; i++)
    if (alive(L, &F->keys[i].k)) {
      live++;
      check(seen[i], "pairs misses key %d (a %s)", i,
            pool[F->keys[i].k.p].kind >= K_FRESH_TABLE ? "fresh object" :
            "pool value");
    }
  check(n == live, "pairs gives %d keys, %d are set and alive", n, live);
}

/* }====================================================== */


/* {======================================================
** Collection, clearing, and the end
** ======================================================= */

/* Forgets what refers to dead objects; they cannot come back. */
static void forget_dead(lua_State *L, fk *F) {
  int i, j, k = 0;
  for (i = 0; i < F->nkeys; i++)
    if (alive(L, &F->keys[i].k))
      F->keys[k++] = F->keys[i];
  F->nkeys = k;
  k = 0;
  for (i = 0; i < F->ncalls; i++) {
    for (j = 0; j < F->calls[i].n && alive(L, &F->calls[i].a[j]); j++)
      ;
    if (j == F->calls[i].n)
      F->calls[k++] = F->calls[i];
  }
  F->ncalls = k;
}

/* After full collections the entries of dead objects are gone. */
static void op_collect(lua_State *L, fk *F) {
  lua_Integer n;
  trace(F, "collectgarbage(); collectgarbage(); print(#c, "
        "methodcache.info(f).currsize)\n");
  lua_gc(L, LUA_GCCOLLECT);
  lua_gc(L, LUA_GCCOLLECT);
  forget_dead(L, F);
  lua_len(L, S_C);
  n = lua_tointeger(L, -1);
  lua_pop(L, 1);
  check(n == F->nkeys, "#c is %lld after a collection, %d keys are alive",
        (long long)n, F->nkeys);
  n = infofield(L, "currsize");
  check(n == F->ncalls, "info(f).currsize is %lld after a collection, %d "
        "calls are stored", (long long)n, F->ncalls);
}

static void op_clear(lua_State *L, fk *F) {
  if (byte(F) & 1) {
    trace(F, "c:clear()\n");
    lua_getfield(L, S_C, "clear");
    lua_pushvalue(L, S_C);
    lua_call(L, 1, 0);
    F->nkeys = 0;
  }
  else {
    trace(F, "methodcache.clear(f)\n");
    lua_getfield(L, S_MC, "clear");
    lua_pushvalue(L, S_F);
    lua_call(L, 1, 0);
    F->ncalls = 0;
  }
}

/* Without the function and the cache, every byte of C memory goes back. */
static void finish(lua_State *L) {
  lua_Integer bytes = -1;
  int i;
  lua_pushnil(L);
  lua_replace(L, S_F);
  lua_pushnil(L);
  lua_replace(L, S_C);
  /* finalizers that hold the caches free them only a cycle later */
  for (i = 0; i < 8 && bytes != 0; i++) {
    lua_gc(L, LUA_GCCOLLECT);
    lua_getfield(L, S_MC, "memory");
    lua_call(L, 0, 1);
    bytes = lua_tointeger(L, -1);
    lua_pop(L, 1);
  }
  check(bytes == 0, "methodcache.memory() is %lld with no cache left",
        (long long)bytes);
}

/* }====================================================== */


static const char *const policies[] = {
  "lru", "lfu", "fifo", "rr", "unbounded", "lru", "lru", "lfu"
};

static int run(lua_State *L) {
  fk *F = (fk *)lua_touserdata(L, 1);
  unsigned flags = byte(F);
  int rounds;
  const char *pol = policies[(flags >> 1) & 7];
  lua_settop(L, 0);
  F->typed = flags & 1;
  trace(F, "-- T<n>, U, co: tables, a userdata, a coroutine kept all along\n"
        "f = methodcache.cached(function(...) n = n + 1; return n end, "
        "{typed = %s})\nc = methodcache.%s(%s{typed = %s})\n",
        F->typed ? "true" : "false", pol,
        strcmp(pol, "unbounded") != 0 ? "4096, " : "",
        F->typed ? "true" : "false");
  makepool(L);                                  /* S_POOL */
  lua_createtable(L, 0, 0);                     /* S_FRESH */
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "v");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_getglobal(L, "require");                  /* S_MC */
  lua_pushliteral(L, "methodcache");
  lua_call(L, 1, 1);
  lua_getfield(L, S_MC, "cached");              /* S_F */
  lua_pushinteger(L, 0);
  lua_pushcclosure(L, counter, 1);
  lua_createtable(L, 0, 2);
  lua_pushboolean(L, F->typed);
  lua_setfield(L, -2, "typed");
  lua_pushinteger(L, MAXSIZE);
  lua_setfield(L, -2, "maxsize");
  lua_call(L, 2, 1);
  lua_getfield(L, S_MC, pol);                   /* S_C */
  if (strcmp(pol, "unbounded") != 0)
    lua_pushinteger(L, MAXSIZE);
  lua_createtable(L, 0, 1);
  lua_pushboolean(L, F->typed);
  lua_setfield(L, -2, "typed");
  lua_call(L, strcmp(pol, "unbounded") != 0 ? 2 : 1, 1);
  check(lua_gettop(L) == S_TOP, "stack of %d slots", lua_gettop(L));
  for (rounds = 0; F->p < F->end && rounds < MAXROUNDS; rounds++) {
    switch (byte(F) % 6) {
      case 0: op_call(L, F); break;
      case 1: op_set(L, F); break;
      case 2: op_lookup(L, F); break;
      case 3: op_pairs(L, F); break;
      case 4: op_collect(L, F); break;
      default: op_clear(L, F); break;
    }
    check(lua_gettop(L) == S_TOP, "stack of %d slots after an operation",
          lua_gettop(L));
  }
  op_pairs(L, F);
  op_collect(L, F);
  check(infofield(L, "hits") == F->hits, "info(f).hits is %lld, model %lld",
        (long long)infofield(L, "hits"), (long long)F->hits);
  finish(L);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fk *F = (fk *)calloc(1, sizeof(fk));
  lua_State *L = luaL_newstate();
  int st;
  check(F != NULL && L != NULL, "out of memory");
  F->p = data;
  F->end = data + size;
  F->trace = getenv("MC_FUZZ_TRACE") != NULL;
  luaL_openlibs(L);
  methodcache_openlibs(L);
  lua_pushcfunction(L, run);
  lua_pushlightuserdata(L, F);
  st = lua_pcall(L, 1, 0, 0);
  check(st == LUA_OK, "error: %s", lua_tostring(L, -1));
  lua_close(L);
  free(F);
  return 0;
}
