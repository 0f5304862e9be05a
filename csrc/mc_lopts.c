/*
** mc_lopts.c: argument errors, and the options of caches and methods.
**
** Every argument error goes through mc_argerror, which formats it as
** luaL_argerror does ("bad argument #N to 'f' (...)") but with the name the
** caller gives: luaL_argerror names the function after its call site, and
** says '?' for pcall(methodcache.lru, -1).
**
** Options are parsed before anything is made (as lstrlib's pack/unpack fill
** a Header first): one table of known options says what each is and where
** it is allowed; mc_opts_read checks every key and value and fills an
** mc_opts that caches (mc_lcore_new) and methods share.
*/
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "mc_lua.h"

int mc_argerror(lua_State *L, int arg, const char *fname, const char *fmt,
                ...) {
  va_list ap;
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  return luaL_error(L, "bad argument #%d to '%s' (%s)", arg, fname,
                    lua_tostring(L, -1));
}

/* What a bad value was, for a message: its type, or for a number its value
** ("nan", "inf", "-1", "1.5"), which says more than "number". */
const char *mc_given(lua_State *L, int idx) {
  if (lua_type(L, idx) == LUA_TNUMBER) {
    lua_Number n = lua_tonumber(L, idx);
    if (lua_isinteger(L, idx))
      return lua_pushfstring(L, "%I", (LUAI_UACINT)lua_tointeger(L, idx));
    if (n != n)
      return lua_pushliteral(L, "nan");
    if (n == HUGE_VAL || n == -HUGE_VAL)
      return lua_pushstring(L, n > 0 ? "inf" : "-inf");
    return lua_pushfstring(L, "%f", (LUAI_UACNUMBER)n);
  }
  return luaL_typename(L, idx);
}

/* A function, or a value whose metatable has __call. */
int mc_iscallable(lua_State *L, int idx) {
  if (lua_type(L, idx) == LUA_TFUNCTION)
    return 1;
  if (luaL_getmetafield(L, idx, "__call") == LUA_TNIL)
    return 0;
  lua_pop(L, 1);
  return 1;
}

/* The name of the running C function as Lua can tell it ('fname' if given). */
const char *mc_fname(lua_State *L, const char *fname) {
  lua_Debug ar;
  if (fname != NULL)
    return fname;
  if (lua_getstack(L, 0, &ar) && lua_getinfo(L, "n", &ar) && ar.name != NULL)
    return ar.name;
  return "?";
}

/* A number with an integer value >= 0 (not a numeric string); 'what' names
** it in messages. */
long long mc_checksize(lua_State *L, int idx, int arg, const char *fname,
                       const char *what) {
  lua_Integer n;
  int isint;
  if (lua_type(L, idx) != LUA_TNUMBER)
    mc_argerror(L, arg, fname, "%s%snumber expected, got %s",
                strcmp(what, "maxsize") ? what : "",
                strcmp(what, "maxsize") ? ": " : "", luaL_typename(L, idx));
  n = lua_tointegerx(L, idx, &isint);
  if (!isint || n < 0)
    mc_argerror(L, arg, fname, "%s must be a non-negative integer, got %s",
                what, mc_given(L, idx));
  return (long long)n;
}


/* {======================================================
** The options table
** ======================================================= */

enum { K_POLICY, K_SIZE, K_SECONDS, K_FUNC, K_BOOL, K_INT, K_STORE };

typedef struct optdef {
  const char *name;
  int kind;
  int methodonly;           /* the constructors take these as arguments, or
                               (coalesce) they are about calls */
  int fn;                   /* K_FUNC: its MC_OPT_* slot; K_BOOL: 0 typed,
                               1 coalesce; K_SIZE: 0 maxsize, 1 total */
} optdef;

static const optdef optdefs[] = {
  {"policy", K_POLICY, 1, 0},
  {"maxsize", K_SIZE, 1, 0},
  {"total", K_SIZE, 1, 1},
  {"ttl", K_SECONDS, 1, 0},
  {"ttu", K_FUNC, 1, MC_OPT_TTU},
  {"timer", K_FUNC, 0, MC_OPT_TIMER},
  {"getsizeof", K_FUNC, 0, MC_OPT_GETSIZEOF},
  {"on_evict", K_FUNC, 0, MC_OPT_ONEVICT},
  {"typed", K_BOOL, 0, 0},
  {"coalesce", K_BOOL, 1, 1},
  {"seed", K_INT, 0, 0},
  {"key", K_FUNC, 1, MC_OPT_KEY},
  {"store", K_STORE, 1, 0},
  {NULL, 0, 0, 0}
};

void mc_opts_init(mc_opts *o, int policy) {
  o->policy = policy;
  o->maxsize = policy == MC_UNBOUNDED ? LLONG_MAX : 128;
  o->ttl = 0;
  o->typed = 0;
  o->flags = 0;
  o->seeded = 0;
  o->seed = 0;
  o->coalesce = 0;
  o->total = -1;
  o->store = MC_STORE_WEAK;
}

static const optdef *findopt(lua_State *L, int kidx, int where) {
  const char *k;
  int i;
  if (lua_type(L, kidx) != LUA_TSTRING)
    return NULL;
  k = lua_tostring(L, kidx);
  for (i = 0; optdefs[i].name != NULL; i++)
    if (strcmp(optdefs[i].name, k) == 0 &&
        (where == MC_FOR_METHOD || !optdefs[i].methodonly))
      return &optdefs[i];
  return NULL;
}

static void badkey(lua_State *L, int kidx, int arg, const char *fname) {
  if (lua_type(L, kidx) == LUA_TSTRING)
    mc_argerror(L, arg, fname, "unknown option '%s'", lua_tostring(L, kidx));
  if (lua_isinteger(L, kidx))
    mc_argerror(L, arg, fname, "unexpected array item [%I] in options",
                (LUAI_UACINT)lua_tointeger(L, kidx));
  mc_argerror(L, arg, fname, "unexpected key of type %s in options",
              luaL_typename(L, kidx));
}

/* Reads the value at the top for option 'd' into 'o'; option functions go
** into the table at 'fns'. */
static void readone(lua_State *L, const optdef *d, int fns, int arg,
                    const char *fname, mc_opts *o) {
  int t = lua_type(L, -1);
  switch (d->kind) {
    case K_POLICY: {
      static const char *const names[] = {
        "lru", "lfu", "fifo", "rr", "ttl", "tlru", "unbounded",
        "fast", NULL  /* MC_FAST */
      };
      int i;
      if (t != LUA_TSTRING)
        mc_argerror(L, arg, fname, "option 'policy' must be a string, got %s",
                    luaL_typename(L, -1));
      for (i = 0; names[i] != NULL; i++)
        if (strcmp(names[i], lua_tostring(L, -1)) == 0)
          break;
      if (names[i] == NULL)
        mc_argerror(L, arg, fname, "unknown policy '%s'", lua_tostring(L, -1));
      o->policy = i;
      break;
    }
    case K_STORE: {  /* in the order of MC_STORE_* */
      static const char *const names[] = { "weak", "object", NULL };
      int i;
      if (t != LUA_TSTRING)
        mc_argerror(L, arg, fname, "option 'store' must be a string, got %s",
                    luaL_typename(L, -1));
      for (i = 0; names[i] != NULL; i++)
        if (strcmp(names[i], lua_tostring(L, -1)) == 0)
          break;
      if (names[i] == NULL)
        mc_argerror(L, arg, fname, "option 'store' must be 'weak' or "
                    "'object', got '%s'", lua_tostring(L, -1));
      o->store = i;
      break;
    }
    case K_SIZE:
      *(d->fn ? &o->total : &o->maxsize) =
          mc_checksize(L, -1, arg, fname, d->fn ? "option 'total'"
                                                : "option 'maxsize'");
      break;
    case K_SECONDS: {
      lua_Number n = lua_tonumber(L, -1);
      if (t != LUA_TNUMBER)
        mc_argerror(L, arg, fname, "option 'ttl': number expected, got %s",
                    luaL_typename(L, -1));
      if (!(n > 0))
        mc_argerror(L, arg, fname, "option 'ttl' must be a positive number "
                    "of seconds, got %s", mc_given(L, -1));
      o->ttl = (double)n;
      break;
    }
    case K_FUNC:
      if (!mc_iscallable(L, -1))
        mc_argerror(L, arg, fname, "option '%s' must be a function, got %s",
                    d->name, luaL_typename(L, -1));
      lua_pushvalue(L, -1);
      lua_rawseti(L, fns, d->fn);
      o->flags |= MC_HAS(d->fn);
      break;
    case K_BOOL:
      if (t != LUA_TBOOLEAN)
        mc_argerror(L, arg, fname, "option '%s' must be a boolean, got %s",
                    d->name, luaL_typename(L, -1));
      *(d->fn ? &o->coalesce : &o->typed) = lua_toboolean(L, -1);
      break;
    default: {  /* K_INT */
      int isint = 0;
      lua_Integer n = t == LUA_TNUMBER ? lua_tointegerx(L, -1, &isint) : 0;
      if (!isint)
        mc_argerror(L, arg, fname, "option '%s' must be an integer, got %s",
                    d->name, mc_given(L, -1));
      o->seed = (long long)n;
      o->seeded = 1;
      break;
    }
  }
}

/* An option given for a policy that has no use for it is an error rather
** than ignored: a seed on lru or a timer on lfu says the caller expects
** something the cache will not do. */
static void needpolicy(lua_State *L, int arg, const char *fname,
                       const char *opt, const char *needs, int policy) {
  mc_argerror(L, arg, fname, "option '%s' needs policy %s, got policy '%s'",
              opt, needs, policy == MC_FAST ? "fast" : mc_policy_names[policy]);
}

/* Reads the options table at 'idx' (argument 'arg'; none or nil: no
** options) into 'o', after 'o' has its defaults (mc_opts_init).  Pushes the
** table of option functions (MC_OPT_* -> function).  For methods, without
** a policy, ttl implies policy ttl and ttu policy tlru. */
void mc_opts_read(lua_State *L, int idx, int arg, const char *fname,
                  int where, mc_opts *o) {
  int fns, policyset = 0, hasttl, hasttu;
  luaL_checkstack(L, 6, NULL);
  lua_createtable(L, 4, 0);
  fns = lua_gettop(L);
  if (lua_isnoneornil(L, idx))
    return;
  if (!lua_istable(L, idx))
    mc_argerror(L, arg, fname, "options table expected, got %s",
                luaL_typename(L, idx));
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    const optdef *d = findopt(L, -2, where);
    if (d == NULL)
      badkey(L, -2, arg, fname);
    readone(L, d, fns, arg, fname, o);
    policyset |= (d->kind == K_POLICY);
    lua_pop(L, 1);
  }
  if (where == MC_FOR_METHOD) {
    hasttl = o->ttl > 0;
    hasttu = (o->flags & MC_HAS(MC_OPT_TTU)) != 0;
    if (!policyset)
      o->policy = hasttl ? MC_TTL : hasttu ? MC_TLRU : MC_LRU;
    if (o->policy == MC_UNBOUNDED)
      o->maxsize = LLONG_MAX;
    if (o->policy == MC_TTL && !hasttl)
      mc_argerror(L, arg, fname, "option 'ttl' must be a positive number of "
                  "seconds for policy 'ttl'");
    if (o->policy != MC_TTL && hasttl)
      needpolicy(L, arg, fname, "ttl", "'ttl'", o->policy);
    if (o->policy == MC_TLRU && !hasttu)
      mc_argerror(L, arg, fname, "policy 'tlru' needs option 'ttu'");
    if (o->policy != MC_TLRU && hasttu)
      needpolicy(L, arg, fname, "ttu", "'tlru'", o->policy);
    /* the budget's order is recency across objects: LRU's own */
    if (o->total >= 0 && o->policy != MC_LRU)
      mc_argerror(L, arg, fname, "option 'total' needs policy 'lru', got '%s'",
                  o->policy == MC_FAST ? "fast" : mc_policy_names[o->policy]);
  }
  if (o->policy == MC_FAST)
    return;  /* mc_lfast.c names what fast does not support */
  if (o->seeded && o->policy != MC_RR)
    needpolicy(L, arg, fname, "seed", "'rr'", o->policy);
  if ((o->flags & MC_HAS(MC_OPT_TIMER)) && o->policy != MC_TTL &&
      o->policy != MC_TLRU)
    needpolicy(L, arg, fname, "timer", "'ttl' or 'tlru'", o->policy);
}

/* }====================================================== */
