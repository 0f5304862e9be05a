/*
** mc_lcoalesce.c: option coalesce, one computation per key across
** coroutines.
**
** While one coroutine (the owner) computes a key of a cache, the other
** coroutines that miss on the same key wait for its results.  The work is
** one *flight* per computation: a table that the owner's call holds in a
** to-be-closed slot and that the waiters share.  The scheduler's part is
** methodcache.coalesce.wait and .notify, which the user may replace; the
** defaults wait on a cqueues condition inside a cqueues controller (the
** adapter methodcache.cqueues, below) and otherwise yield
** methodcache.coalesce.WAIT and the flight to the waiter's resumer.
**
** Only m_lookup (mc_lmethod.c) comes here, on a miss of a coalescing method
** in a coroutine that may yield: the hit path and the methods without the
** option never do.  Everything is C, with no library of the state needed
** (mc_core.c): a cqueues program has its libraries, and only it needs them.
**
** THE RULE of mc_lua.h holds trivially: no pointer into a core is kept
** here; the stores go through mc_op_store.
*/
#include "mc_lua.h"

/* {======================================================
** The per-state table S (in the registry, and upvalue 6 of every
** coalescing method, upvalue 1 of the functions below).  Its slots:
** ======================================================= */

enum {
  S_FLIGHTS = 1,  /* weak keys: cache -> (weak values: flight key -> flight) */
  S_OWNERS,       /* weak keys and values: waited-for flight -> its owner */
  S_GUARDS,       /* weak keys: owner -> its guard (a table of flights) */
  S_WAITS,        /* weak keys: coroutine -> the flight it waits for */
  S_FLIGHT_MT,    /* __close: the owner's call was unwound */
  S_GUARD_MT,     /* __gc: the owner was collected */
  S_UNWAIT_MT,    /* __close: a waiter stops waiting */
  S_WAIT,         /* methodcache.coalesce.WAIT */
  S_PUBLIC,       /* methodcache.coalesce */
  S_CQ,           /* methodcache.cqueues, the cqueues adapter */
  S_CONDS,        /* weak keys: flight -> its cqueues condition */
  S_N = S_CONDS
};

/* The slots of a flight.  The owner is in F_OWNER until someone waits,
** then in S_OWNERS (weakly: see watch).  Results and error are kept only
** for waiters. */
enum {
  F_STATE = 1, F_INFLIGHT, F_KEY, F_OWNER, F_WAITED, F_RESULTS, F_NRES,
  F_ERR, F_N = F_ERR
};

enum { RUNNING = 1, DONE, FAILED, ABANDONED };

static const char S_KEY = 0;  /* the registry key of S: its address */

/* The stack of a coalescing miss, from the bottom:
**   1..n  the arguments    n+1  the cache    n+2  the flight key
**   n+3   S                n+4  the cache's table of flights
**   n+5   the flight (the owner's: to be closed)
**   n+6   owner: the results or the error; waiter: its unwait slot
**   The key is keyfirst(L, n)..n, the call's arguments 1..nargs(L, n).
*/
#define CTX(n)         ((lua_KContext)(n))
#define CTX_N(ctx)     ((int)(ctx))

/* the method of the running call (upvalue 1) says where its key lies: with
** option key, n is the key function's result (MC_KEYFIRST in mc_lua.h) */
static int keyfirst(lua_State *L, int n) {
  return MC_KEYFIRST((mc_method *)lua_touserdata(L, lua_upvalueindex(1)), n);
}

static int nargs(lua_State *L, int n) {
  return MC_NARGS((mc_method *)lua_touserdata(L, lua_upvalueindex(1)), n);
}

/* }====================================================== */


/* {======================================================
** Flights: state, owner, settling
** ======================================================= */

static int geti(lua_State *L, int t, int i) {
  int v;
  lua_rawgeti(L, t, i);
  v = (int)lua_tointeger(L, -1);
  lua_pop(L, 1);
  return v;
}

static int waited(lua_State *L, int f) {
  int w;
  lua_rawgeti(L, f, F_WAITED);
  w = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return w;
}

/* Pushes the owner of the flight at 'f' (nil once it was collected). */
static void pushowner(lua_State *L, int s, int f) {
  if (lua_rawgeti(L, f, F_OWNER) == LUA_TNIL) {
    lua_pop(L, 1);
    lua_rawgeti(L, s, S_OWNERS);
    lua_pushvalue(L, f);
    lua_rawget(L, -2);
    lua_remove(L, -2);
  }
}

/* Whether the coroutine 'co' is dead, as coroutine.status says. */
static int isdead(lua_State *L, lua_State *co) {
  lua_Debug ar;
  if (co == L)
    return 0;
  switch (lua_status(co)) {
    case LUA_YIELD:
      return 0;
    case LUA_OK:  /* running others, not started, or ended */
      return !lua_getstack(co, 0, &ar) && lua_gettop(co) == 0;
    default:  /* died of an error */
      return 1;
  }
}

/* Ends the running flight at 'f': the next call of its key starts anew,
** and if someone waits, notify wakes them to look at it. */
static void settle(lua_State *L, int s, int f, int state) {
  luaL_checkstack(L, 4, NULL);
  lua_pushinteger(L, state);
  lua_rawseti(L, f, F_STATE);
  lua_rawgeti(L, f, F_INFLIGHT);
  lua_rawgeti(L, f, F_KEY);
  lua_pushvalue(L, -1);
  lua_rawget(L, -3);
  if (lua_rawequal(L, -1, f)) {  /* still listed (not replaced) */
    lua_pop(L, 1);
    lua_pushnil(L);
    lua_rawset(L, -3);
  }
  else
    lua_pop(L, 2);
  lua_pop(L, 1);
  if (!waited(L, f))
    return;
  lua_rawgeti(L, s, S_GUARDS);
  pushowner(L, s, f);
  if (lua_rawget(L, -2) == LUA_TTABLE) {  /* its guard lets it go */
    lua_pushvalue(L, f);
    lua_pushnil(L);
    lua_rawset(L, -3);
  }
  lua_pop(L, 2);
  lua_rawgeti(L, s, S_OWNERS);
  lua_pushvalue(L, f);
  lua_pushnil(L);
  lua_rawset(L, -3);
  lua_pop(L, 1);
  lua_rawgeti(L, s, S_PUBLIC);
  lua_getfield(L, -1, "notify");
  lua_pushvalue(L, f);
  lua_call(L, 1, 0);
  lua_pop(L, 1);
}

static void abandon(lua_State *L, int s, int f) {
  if (geti(L, f, F_STATE) == RUNNING)
    settle(L, s, f, ABANDONED);
}

/* Whether the flight at 'f' may still give results: it runs and its owner
** is there.  An owner that was collected, or that died without its call
** being unwound (an error outside the method once it returned, in a
** coroutine never closed), abandons it. */
static int live(lua_State *L, int s, int f) {
  int ok;
  if (geti(L, f, F_STATE) != RUNNING)
    return 0;
  pushowner(L, s, f);
  ok = lua_type(L, -1) == LUA_TTHREAD && !isdead(L, lua_tothread(L, -1));
  lua_pop(L, 1);
  if (!ok)
    settle(L, s, f, ABANDONED);
  return ok;
}

/* The first waiter of the flight at 'f': from now on the flight holds its
** owner weakly, so that an owner nothing can resume any more is collected,
** and the owner's guard, an ephemeron value of the owner whose __gc
** abandons its flights, watches it.  The owner is only ever on the C stack
** here: a waiter must not keep it alive while it waits (Lua marks a
** suspended coroutine's stack up to its top). */
static void watch(lua_State *L, int s, int f) {
  luaL_checkstack(L, 4, NULL);
  lua_rawgeti(L, s, S_OWNERS);
  lua_pushvalue(L, f);
  lua_rawgeti(L, f, F_OWNER);                   /* owners, f, owner */
  lua_rawset(L, -3);
  lua_pop(L, 1);
  lua_rawgeti(L, s, S_GUARDS);
  lua_rawgeti(L, f, F_OWNER);
  if (lua_rawget(L, -2) != LUA_TTABLE) {        /* guards, guard|nil */
    lua_pop(L, 1);
    lua_newtable(L);
    lua_rawgeti(L, s, S_GUARD_MT);
    lua_setmetatable(L, -2);
    lua_rawgeti(L, f, F_OWNER);
    lua_pushvalue(L, -2);
    lua_rawset(L, -4);
  }
  lua_pushvalue(L, f);
  lua_pushboolean(L, 1);
  lua_rawset(L, -3);
  lua_pop(L, 2);
  lua_pushboolean(L, 1);
  lua_rawseti(L, f, F_WAITED);
  lua_pushnil(L);
  lua_rawseti(L, f, F_OWNER);
}

/* Whether waiting for the flight at 'f' would never end: it is the caller's
** own (a recursive call), or its owner waits, through other flights, for
** the caller.  Each coroutine waits for one flight and each flight has one
** owner; no wait that closes a cycle is ever added, so the walk ends. */
static int blocks(lua_State *L, int s, int f) {
  int me, found = 0;
  luaL_checkstack(L, 4, NULL);
  lua_pushthread(L);
  me = lua_gettop(L);
  lua_rawgeti(L, s, S_WAITS);
  pushowner(L, s, f);                            /* me, waits, o */
  while (!lua_isnil(L, -1)) {
    if (lua_rawequal(L, -1, me)) {
      found = 1;
      break;
    }
    if (lua_rawget(L, me + 1) != LUA_TTABLE)     /* me, waits, w */
      break;
    pushowner(L, s, lua_gettop(L));
    lua_remove(L, -2);                           /* me, waits, o */
  }
  lua_settop(L, me - 1);
  return found;
}

/* }====================================================== */


/* {======================================================
** A coalescing miss
** ======================================================= */

/* Pushes the flight key of the arguments first..last.  Value arguments as
** in a cache key; an object as MC_KOBJ and its address.  A cache key never
** holds an address (addresses are reused after a collection), but a flight
** gives its results only while its owner lives, and the owner's call holds
** the arguments: while results can go out, the address is that object's.
** A NaN never gets here (the call is uncacheable: no key, no flight). */
static void encodeflight(lua_State *L, mc_kbuf *k, int typed, int first,
                         int last) {
  int i;
  for (i = first; i <= last; i++) {
    if (mc_lkey_value(L, i, lua_type(L, i), typed, k) < 0) {
      mc_key_tag(k, MC_KOBJ);
      mc_key_lud(k, lua_topointer(L, i));
    }
  }
}

static void pushflightkey(lua_State *L, int typed, int first, int last) {
  static const mc_hkey nohash = {0, 0, 1};  /* the bytes matter, not the
                                               hash: the cheap mixer */
  unsigned char buf[MC_KEYBUF];
  mc_kbuf k;
  mc_key_begin(&k, buf, MC_KEYBUF, &nohash);
  encodeflight(L, &k, typed, first, last);
  if (k.len <= k.cap)
    lua_pushlstring(L, (const char *)buf, k.len);
  else {  /* a long key: again, into a buffer of its size */
    luaL_Buffer b;
    size_t len = k.len;
    unsigned char *p = (unsigned char *)luaL_buffinitsize(L, &b, len);
    mc_key_begin(&k, p, len, &nohash);
    encodeflight(L, &k, typed, first, last);
    luaL_pushresultsize(&b, len);
  }
}

/* The owner's computation ended: the waiters get the results (or the
** error) first, then the owner stores and returns them (or raises the
** error again, unchanged).  So an error of the store (a callback that
** raises) is the owner's alone, as it would be without coalescing. */
static int owned(lua_State *L, int status, lua_KContext ctx) {
  int n = CTX_N(ctx), s = n + 3, f = n + 5, i;
  int nres = lua_gettop(L) - f;
  int ok = (status == LUA_OK || status == LUA_YIELD);
  if (waited(L, f)) {
    if (ok) {
      lua_createtable(L, nres, 0);
      for (i = 1; i <= nres; i++) {
        lua_pushvalue(L, f + i);
        lua_rawseti(L, -2, i);
      }
      lua_rawseti(L, f, F_RESULTS);
      lua_pushinteger(L, nres);
      lua_rawseti(L, f, F_NRES);
    }
    else {
      lua_pushvalue(L, -1);
      lua_rawseti(L, f, F_ERR);
    }
  }
  settle(L, s, f, ok ? DONE : FAILED);
  if (!ok)
    return lua_error(L);  /* the error object is the one result */
  mc_op_store(L, n + 1, keyfirst(L, n), n, f + 1, nres, NULL);
  return nres;
}

/* The caller owns a new flight: it computes under lua_pcallk, so that its
** error reaches the waiters whatever resumes it (a coroutine that dies of an
** error under coroutine.resume, as cqueues threads do, is never unwound: no
** to-be-closed slot would see the error). */
static int own(lua_State *L, lua_KContext ctx) {
  int n = CTX_N(ctx), s = n + 3, a = nargs(L, n), i;
  lua_settop(L, n + 4);
  lua_createtable(L, F_N, 0);                   /* n + 5: the flight */
  lua_pushinteger(L, RUNNING);
  lua_rawseti(L, -2, F_STATE);
  lua_pushvalue(L, n + 4);
  lua_rawseti(L, -2, F_INFLIGHT);
  lua_pushvalue(L, n + 2);
  lua_rawseti(L, -2, F_KEY);
  lua_pushthread(L);
  lua_rawseti(L, -2, F_OWNER);
  lua_rawgeti(L, s, S_FLIGHT_MT);
  lua_setmetatable(L, -2);
  lua_pushvalue(L, n + 2);
  lua_pushvalue(L, -2);
  lua_rawset(L, n + 4);
  lua_toclose(L, n + 5);
  luaL_checkstack(L, a + 2, "too many arguments");
  lua_pushvalue(L, lua_upvalueindex(3));
  for (i = 1; i <= a; i++)
    lua_pushvalue(L, i);
  return owned(L, lua_pcallk(L, a, LUA_MULTRET, 0, ctx, owned), ctx);
}

/* Joins the running flight of the key, if any (then returns 1 with the
** flight at n+5 and the unwait slot at n+6), or says what to do instead:
** 0 own a new flight, -1 compute without coalescing. */
static int join(lua_State *L, lua_KContext ctx) {
  int n = CTX_N(ctx), s = n + 3, f = n + 5;
  lua_settop(L, s);
  luaL_checkstack(L, 6, NULL);
  lua_rawgeti(L, s, S_FLIGHTS);
  lua_pushvalue(L, n + 1);
  if (lua_rawget(L, -2) != LUA_TTABLE) {        /* the cache's first */
    lua_pop(L, 1);
    mc_pushweak(L, 'v');
    lua_pushvalue(L, n + 1);
    lua_pushvalue(L, -2);
    lua_rawset(L, -4);
  }
  lua_remove(L, -2);                            /* n + 4 */
  lua_pushvalue(L, n + 2);
  if (lua_rawget(L, n + 4) != LUA_TTABLE || !live(L, s, f))
    return 0;
  if (blocks(L, s, f))
    return -1;
  if (!waited(L, f))
    watch(L, s, f);
  /* waits[me] = f, undone by the unwait slot however the wait ends */
  lua_createtable(L, 1, 0);
  lua_pushthread(L);
  lua_rawseti(L, -2, 1);
  lua_rawgeti(L, s, S_UNWAIT_MT);
  lua_setmetatable(L, -2);
  lua_toclose(L, n + 6);
  lua_rawgeti(L, s, S_WAITS);
  lua_pushthread(L);
  lua_pushvalue(L, f);
  lua_rawset(L, -3);
  lua_pop(L, 1);
  return 1;
}

static int run(lua_State *L, lua_KContext ctx, int resumed);

static int waitreturned(lua_State *L, int status, lua_KContext ctx) {
  (void)status;
  return run(L, ctx, 1);
}

/* Joins, waits while the flight runs, and returns its results, raises its
** error, or (abandoned) looks the cache up and joins again.  'resumed':
** coming back from the wait hook. */
static int run(lua_State *L, lua_KContext ctx, int resumed) {
  int n = CTX_N(ctx), s = n + 3, f = n + 5;
  for (;;) {
    if (!resumed) {
      int j = join(L, ctx);
      if (j == 0)
        return own(L, ctx);
      if (j < 0) {
        lua_settop(L, n + 1);
        return mc_lmethod_compute(L, n, 1);
      }
    }
    resumed = 0;
    for (;;) {
      lua_settop(L, n + 6);
      if (!live(L, s, f))
        break;
      lua_rawgeti(L, s, S_PUBLIC);
      lua_getfield(L, -1, "wait");
      lua_pushvalue(L, f);
      lua_callk(L, 1, 0, ctx, waitreturned);
    }
    lua_settop(L, f);  /* closes the unwait slot */
    switch (geti(L, f, F_STATE)) {
      case DONE: {
        int nres = geti(L, f, F_NRES), i;
        luaL_checkstack(L, nres + 1, "too many results");
        lua_rawgeti(L, f, F_RESULTS);
        for (i = 1; i <= nres; i++)
          lua_rawgeti(L, f + 1, i);
        return nres;
      }
      case FAILED:
        lua_rawgeti(L, f, F_ERR);
        return lua_error(L);
      default: {  /* abandoned: a call that did not coalesce may have stored
                  ** it; this call was counted as a miss already */
        mc_handle *h = (mc_handle *)lua_touserdata(L, n + 1);
        int r;
        lua_settop(L, s);
        r = mc_op_lookup(L, h, n + 1, keyfirst(L, n), n, MC_TOUCH | MC_PUSH,
                         NULL);
        if (r >= 0)
          return r;
      }
    }
  }
}

/* A miss of a coalescing method in a coroutine that may yield.  Stack: the
** arguments (n), the cache; the key is first..n. */
int mc_lcoalesce_miss(lua_State *L, int n, int first) {
  mc_handle *h = (mc_handle *)lua_touserdata(L, n + 1);
  luaL_checkstack(L, 8, NULL);
  pushflightkey(L, h->core->typed, first, n);
  lua_pushvalue(L, lua_upvalueindex(6));
  return run(L, CTX(n), 0);
}

/* }====================================================== */


/* {======================================================
** The metamethods, the default hooks and the cqueues adapter (upvalue 1:
** S)
** ======================================================= */

#define S_UP  lua_upvalueindex(1)

/* the flight's __close: the owner's call was unwound without a result */
static int flight_close(lua_State *L) {
  abandon(L, S_UP, 1);
  return 0;
}

/* the guard's __gc: its owner was collected, nothing can resume it */
static int guard_gc(lua_State *L) {
  lua_pushnil(L);
  while (lua_next(L, 1)) {
    lua_pop(L, 1);
    abandon(L, S_UP, lua_gettop(L));
  }
  return 0;
}

/* the unwait slot's __close: {co} stops waiting */
static int unwait_close(lua_State *L) {
  lua_rawgeti(L, S_UP, S_WAITS);
  lua_rawgeti(L, 1, 1);
  lua_pushnil(L);
  lua_rawset(L, -3);
  return 0;
}

static int wait_tostring(lua_State *L) {
  lua_pushliteral(L, "methodcache.coalesce.WAIT");
  return 1;
}

static int returnnothing(lua_State *L, int status, lua_KContext ctx) {
  (void)L; (void)status; (void)ctx;
  return 0;
}

/* Whether the running coroutine is one that a cqueues controller runs
** itself: cqueues is loaded and the second result of cqueues.running() is
** true.  A plain coroutine nested in a controller's thread is not: cqueues'
** poll yield would go to its own resumer. */
static int incontroller(lua_State *L) {
  int yes = 0;
  luaL_checkstack(L, 4, NULL);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  if (lua_getfield(L, -1, "cqueues") == LUA_TTABLE &&
      lua_getfield(L, -1, "running") == LUA_TFUNCTION) {
    lua_call(L, 0, 2);
    yes = lua_toboolean(L, -1);
  }
  lua_settop(L, 1);
  return yes;
}

/* methodcache.coalesce.wait(flight), the default */
static int default_wait(lua_State *L) {
  lua_settop(L, 1);
  if (incontroller(L)) {
    lua_rawgeti(L, S_UP, S_CQ);
    lua_getfield(L, -1, "wait");
    lua_pushvalue(L, 1);
    lua_callk(L, 1, 0, 0, returnnothing);
    return 0;
  }
  lua_rawgeti(L, S_UP, S_WAIT);
  lua_insert(L, 1);
  return lua_yield(L, 2);  /* WAIT, flight */
}

/* methodcache.coalesce.notify(flight), the default */
static int default_notify(lua_State *L) {
  lua_settop(L, 1);
  lua_rawgeti(L, S_UP, S_CQ);
  lua_getfield(L, -1, "notify");
  lua_pushvalue(L, 1);
  lua_call(L, 1, 0);
  return 0;
}

/* methodcache.cqueues.wait(flight): waits on the flight's condition, for
** methodcache.cqueues.poll seconds at most */
static int cq_wait(lua_State *L) {
  lua_settop(L, 1);
  lua_rawgeti(L, S_UP, S_CONDS);                /* 2 */
  lua_pushvalue(L, 1);
  if (lua_rawget(L, 2) == LUA_TNIL) {           /* 3: the condition */
    lua_pop(L, 1);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    if (lua_getfield(L, -1, "cqueues.condition") != LUA_TTABLE) {
      lua_pop(L, 1);
      if (lua_getglobal(L, "require") != LUA_TFUNCTION)
        return luaL_error(L, "methodcache.cqueues: cqueues is not loaded");
      lua_pushliteral(L, "cqueues.condition");
      lua_call(L, 1, 1);
    }
    lua_getfield(L, -1, "new");
    lua_call(L, 0, 1);
    lua_replace(L, 3);
    lua_settop(L, 3);
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 3);
    lua_rawset(L, 2);
  }
  lua_getfield(L, 3, "wait");
  lua_pushvalue(L, 3);
  lua_rawgeti(L, S_UP, S_CQ);
  lua_getfield(L, -1, "poll");
  lua_remove(L, -2);
  lua_callk(L, 2, 0, 0, returnnothing);
  return 0;
}

/* methodcache.cqueues.notify(flight): signals the flight's condition */
static int cq_notify(lua_State *L) {
  lua_settop(L, 1);
  lua_rawgeti(L, S_UP, S_CONDS);
  lua_pushvalue(L, 1);
  if (lua_rawget(L, 2) != LUA_TNIL) {
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    lua_rawset(L, 2);
    lua_getfield(L, 3, "signal");
    lua_pushvalue(L, 3);
    lua_call(L, 1, 0);
  }
  return 0;
}

/* Sets t[name] (t at the top) to a C closure of f over S (at 's'). */
static void setfn(lua_State *L, int s, const char *name, lua_CFunction f) {
  lua_pushvalue(L, s);
  lua_pushcclosure(L, f, 1);
  lua_setfield(L, -2, name);
}

/* Pushes a metatable whose 'event' is f over S (at 's'). */
static void pushmeta(lua_State *L, int s, const char *event,
                     lua_CFunction f) {
  lua_createtable(L, 0, 1);
  setfn(L, s, event, f);
}

/* Pushes S, made at the state's first call. */
void mc_lcoalesce_pushstate(lua_State *L) {
  int s;
  luaL_checkstack(L, 6, NULL);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &S_KEY) == LUA_TTABLE)
    return;
  lua_pop(L, 1);
  lua_createtable(L, S_N, 0);
  s = lua_gettop(L);
  mc_pushweak(L, 'k');
  lua_rawseti(L, s, S_FLIGHTS);
  lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "kv");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_rawseti(L, s, S_OWNERS);
  mc_pushweak(L, 'k');
  lua_rawseti(L, s, S_GUARDS);
  mc_pushweak(L, 'k');
  lua_rawseti(L, s, S_WAITS);
  mc_pushweak(L, 'k');
  lua_rawseti(L, s, S_CONDS);
  pushmeta(L, s, "__close", flight_close);
  lua_rawseti(L, s, S_FLIGHT_MT);
  pushmeta(L, s, "__gc", guard_gc);
  lua_rawseti(L, s, S_GUARD_MT);
  pushmeta(L, s, "__close", unwait_close);
  lua_rawseti(L, s, S_UNWAIT_MT);
  lua_newtable(L);                              /* WAIT */
  pushmeta(L, s, "__tostring", wait_tostring);
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  lua_rawseti(L, s, S_WAIT);
  lua_createtable(L, 0, 3);                     /* methodcache.cqueues */
  setfn(L, s, "wait", cq_wait);
  setfn(L, s, "notify", cq_notify);
  lua_pushinteger(L, 1);
  lua_setfield(L, -2, "poll");
  lua_rawseti(L, s, S_CQ);
  lua_createtable(L, 0, 4);                     /* methodcache.coalesce */
  setfn(L, s, "wait", default_wait);
  setfn(L, s, "notify", default_notify);
  lua_rawgeti(L, s, S_WAIT);
  lua_setfield(L, -2, "WAIT");
  lua_rawgeti(L, s, S_CQ);
  lua_setfield(L, -2, "cqueues");
  lua_rawseti(L, s, S_PUBLIC);
  lua_pushvalue(L, s);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &S_KEY);
}

/* Stack: the module table.  Adds methodcache.coalesce. */
void mc_lcoalesce_open(lua_State *L) {
  mc_lcoalesce_pushstate(L);
  lua_rawgeti(L, -1, S_PUBLIC);
  lua_setfield(L, -3, "coalesce");
  lua_pop(L, 1);
}

/* }====================================================== */
