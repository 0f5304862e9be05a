/*
** mc_lvalue.c: the values of entries.
**
** All results are stored with their count.  One non-collectable result
** (nil, boolean, number, light userdata) is stored inline in the entry, so
** that most hits touch no Lua table; another single result goes into the
** entry's table (the root or its node table) under the entry's address;
** two or more go there packed in a sequence, made by mc_lvalue_prepare
** before the entry is looked up, so that storing makes no GC step while the
** entry pointer is in hand.
*/
#include "mc_lua.h"

/* Pushes the values first..first+n-1 as one value: itself if n == 1, else
** a table {n = n, ...}.  Allocates. */
void mc_lvalue_pack(lua_State *L, int first, int n) {
  int i;
  if (n == 1) {
    lua_pushvalue(L, first);
    return;
  }
  luaL_checkstack(L, 2, NULL);
  lua_createtable(L, n, 1);
  for (i = 0; i < n; i++) {
    lua_pushvalue(L, first + i);
    lua_rawseti(L, -2, i + 1);
  }
  lua_pushinteger(L, n);
  lua_setfield(L, -2, "n");
}

/* Pushes what mc_lvalue_set needs for 'nres' values at 'vfirst' (a
** sequence of them if two or more) and returns its index; 0, pushing
** nothing, if it needs nothing.  Allocates: call it before the lookup. */
int mc_lvalue_prepare(lua_State *L, int vfirst, int nres) {
  int i;
  if (nres < 2)
    return 0;
  lua_createtable(L, nres, 0);
  for (i = 0; i < nres; i++) {
    lua_pushvalue(L, vfirst + i);
    lua_rawseti(L, -2, i + 1);
  }
  return lua_gettop(L);
}

/* Stores the values vfirst..vfirst+nres-1 as the value of 'e'; 'tidx' is
** the table that holds its values, 'packidx' what mc_lvalue_prepare gave.
** Raw sets only (no GC step).  A set that fails for memory raises with the
** entry as it was: the tag changes only after the value is in place. */
void mc_lvalue_set(lua_State *L, mc_entry *e, int tidx, int vfirst,
                   int nres, int packidx) {
  int wasintable = mc_intable(e);
  int tag;
  mc_ival v;
  v.i = 0;
  if (nres == 1) {
    switch (lua_type(L, vfirst)) {
      case LUA_TNIL: tag = VT_NIL; break;
      case LUA_TBOOLEAN:
        tag = lua_toboolean(L, vfirst) ? VT_TRUE : VT_FALSE;
        break;
      case LUA_TNUMBER:
        if (lua_isinteger(L, vfirst)) {
          tag = VT_INT;
          v.i = (long long)lua_tointeger(L, vfirst);
        }
        else {
          tag = VT_FLT;
          v.n = (double)lua_tonumber(L, vfirst);
        }
        break;
      case LUA_TLIGHTUSERDATA:
        tag = VT_LUD;
        v.p = lua_touserdata(L, vfirst);
        break;
      default:
        lua_pushvalue(L, vfirst);
        lua_rawsetp(L, tidx, e);
        e->vtag = VT_ONE;
        return;
    }
  }
  else if (nres == 0)
    tag = VT_NONE;
  else {
    lua_pushvalue(L, packidx);
    lua_rawsetp(L, tidx, e);
    e->v.i = nres;  /* the inline value is free: the count goes there */
    e->vtag = VT_PACK;
    return;
  }
  e->vtag = (unsigned char)tag;
  e->v = v;
  if (wasintable) {  /* clearing a key that is there never allocates */
    lua_pushnil(L);
    lua_rawsetp(L, tidx, e);
  }
}

/* Pushes the values of 'e', raw, and returns how many; 'tidx' holds its
** table of values (any index if the value is inline). */
int mc_lvalue_push(lua_State *L, mc_entry *e, int tidx) {
  int n, i, t;
  switch (e->vtag) {
    case VT_ABSENT: case VT_NONE: return 0;  /* callers skip VT_ABSENT */
    case VT_NIL: lua_pushnil(L); return 1;
    case VT_FALSE: lua_pushboolean(L, 0); return 1;
    case VT_TRUE: lua_pushboolean(L, 1); return 1;
    case VT_INT: lua_pushinteger(L, (lua_Integer)e->v.i); return 1;
    case VT_FLT: lua_pushnumber(L, (lua_Number)e->v.n); return 1;
    case VT_LUD: lua_pushlightuserdata(L, e->v.p); return 1;
    case VT_ONE: lua_rawgetp(L, tidx, e); return 1;
    default: break;
  }
  n = (int)e->v.i;  /* VT_PACK */
  luaL_checkstack(L, n + 1, "too many results to return");
  lua_rawgetp(L, tidx, e);
  t = lua_gettop(L);
  for (i = 1; i <= n; i++)
    lua_rawgeti(L, t, i);
  lua_remove(L, t);
  return n;
}

/* Pushes the values of 'e' as one value (mc_lvalue_pack).  Allocates: only
** under a hold. */
void mc_lvalue_pushpacked(lua_State *L, mc_entry *e, int tidx) {
  int n;
  if (e->vtag != VT_PACK && e->vtag != VT_NONE) {  /* one value */
    mc_lvalue_push(L, e, tidx);
    return;
  }
  n = mc_lvalue_push(L, e, tidx);
  mc_lvalue_pack(L, lua_gettop(L) - n + 1, n);
  lua_rotate(L, -(n + 1), 1);
  lua_pop(L, n);
}
