/*
** mc_lnode.c: node tables, the weak chains that hold object arguments.
**
** The invariant.  For every LIVE C node n of a cache there is one node
** table T, a weak-keyed table, with
**   T[1]       the sentinel: a "methodcache.node" userdata with ->node == n;
**   T[2]       the object o whose node n is;
**   T[e]       the value of each in-table entry e whose node is n
**              (keyed by the entry's address, a light userdata);
**   P[o] = T   where P is the node table of n->parent, or the root table;
**   nodes[n] = T  in the handle's weak-valued map (MC_UV_NODES), so that an
**              entry can find its table without its objects.
** T is reachable only through o (an ephemeron in P), so T, the values in it
** and the sentinel die with o, whatever the values refer to; the sentinel's
** __gc then marks n DEAD (mc_node_kill), which only marks: the purge at the
** start of the next operation frees the entries.
**
** Two ways to reach T can disagree for a while: while o is being finalized
** (it has a __gc of its own), Lua has already taken T out of the weak-valued
** map but keeps it in P until the next cycle.  Lookups go through P; code
** that starts from an entry (eviction, pairs) goes through the map and
** takes a missing T for a dying node (mc_lnode_push returns 0).
*/
#include "mc_lua.h"

#define T_SENTINEL  1
#define T_OBJECT    2

/* Pushes the handle's map of node tables, or nil if it has none yet (then
** the cache has no node). */
static int pushnodes(lua_State *L, int hidx) {
  return lua_getiuservalue(L, hidx, MC_UV_NODES) == LUA_TTABLE;
}

/* The live node of the object at 'i' in P (at 'ptab'), its table pushed;
** NULL, with nothing pushed, if P has none or one left by a finalized node
** (a resurrected object).  Raw reads only. */
static mc_node *lookup(lua_State *L, int ptab, int i) {
  mc_node *n = NULL;
  lua_pushvalue(L, i);
  if (lua_rawget(L, ptab) == LUA_TTABLE) {
    lua_rawgeti(L, -1, T_SENTINEL);
    n = ((mc_sentinel *)lua_touserdata(L, -1))->node;
    lua_pop(L, 1);                                      /* pop sentinel */
  }
  if (n == NULL)
    lua_pop(L, 1);                                      /* pop P[o] */
  return n;
}

/* Stack: P, the table of the previous step.  Pushes the node table for the
** object at 'i', child of 'parent', stored in P under the object, and
** returns its node: a new one, unless a finalizer made one meanwhile.  It
** allocates, so it runs under a hold: 'parent' stays readable, and the
** caller checks afterwards that it is still LIVE and that the epoch is. */
static mc_node *newnode(lua_State *L, mc_lcore *lc, int hidx, int i,
                        mc_node *parent) {
  int ptab = lua_gettop(L);
  unsigned epoch = lc->epoch;
  int ttab;
  mc_sentinel *s;
  mc_node *n;
  luaL_checkstack(L, 5, NULL);
  /* the Lua objects first: their allocations may run finalizers that use
  ** this cache, and make its map or even this very node */
  if (!pushnodes(L, hidx)) {
    lua_pop(L, 1);                                      /* pop nil */
    mc_pushweak(L, 'v');                                /* a map, if needed */
  }
  mc_pushweak(L, 'k');                                  /* T */
  ttab = lua_gettop(L);
  s = (mc_sentinel *)lua_newuserdatauv(L, sizeof(mc_sentinel), 1);
  s->node = NULL;
  s->core = lc;
  lua_getiuservalue(L, hidx, MC_UV_CORE);
  lua_setiuservalue(L, -2, 1);              /* the core outlives the notice */
  luaL_setmetatable(L, MC_NODE_MT);
  /* the Lua objects exist: from here on only raw reads and sets, which
  ** make no GC step.  After a clear, P is of the old tree, and so is the
  ** node made below: the caller sees the new epoch and starts again. */
  if (lc->epoch == epoch) {
    n = lookup(L, ptab, i);
    if (n != NULL) {  /* a finalizer made it: a second node would split it */
      lua_replace(L, ptab + 1);
      lua_settop(L, ptab + 1);                          /* P, its T */
      return n;
    }
    /* the map a finalizer made must stay: setting ours over it would lose
    ** the tables of its nodes */
    if (pushnodes(L, hidx))
      lua_replace(L, ttab - 1);
    else {
      lua_pop(L, 1);                                    /* pop nil */
      lua_pushvalue(L, ttab - 1);
      lua_setiuservalue(L, hidx, MC_UV_NODES);
    }
  }
  /* one set that fails for memory leaves a node its sentinel will kill */
  n = mc_node_new(&lc->c, parent);
  if (n == NULL)
    luaL_error(L, "not enough memory");
  s->node = n;
  lua_rawseti(L, ttab, T_SENTINEL);
  lua_pushvalue(L, i);
  lua_rawseti(L, ttab, T_OBJECT);
  /* in the map first, in P last: a lookup must not reach a table that the
  ** entries' side (mc_lnode_push) cannot */
  lua_pushvalue(L, ttab);
  lua_rawsetp(L, ttab - 1, n);                          /* nodes[n] = T */
  /* the root is a plain table until its first object key: a weak table
  ** costs every collection a second traversal, in the atomic phase, and
  ** most caches never hold an object key (docs/DESIGN.md, section 1) */
  if (lua_getmetatable(L, ptab))
    lua_pop(L, 1);
  else
    mc_setweak(L, ptab, 'k');
  lua_pushvalue(L, i);
  lua_pushvalue(L, ttab);
  lua_rawset(L, ptab);                                  /* P[o] = T */
  lua_remove(L, ttab - 1);                              /* pop nodes */
  return n;
}

/* Stack: P, the table of the objects so far.  Replaces it by the node
** table of the object at 'i' and returns its node; NULL (and P popped) if
** there is none and 'create' is off.  Without 'create', raw reads only. */
mc_node *mc_lnode_step(lua_State *L, mc_lcore *lc, int hidx, int i,
                       mc_node *parent, int create) {
  mc_node *n = lookup(L, lua_gettop(L), i);
  if (n == NULL) {
    if (!create) {
      lua_pop(L, 1);                                    /* pop P */
      return NULL;
    }
    n = newnode(L, lc, hidx, i, parent);
  }
  lua_remove(L, -2);                                    /* pop P */
  return n;
}

/* Pushes the table that holds the values of the entries of 'node' (the
** root table for NULL), raw.  Returns 0, with nil pushed, when that table
** is gone from the map: its object died or is being finalized, and the
** node's entries are zombies or about to be. */
int mc_lnode_push(lua_State *L, int hidx, mc_node *node) {
  if (node == NULL)
    return lua_getiuservalue(L, hidx, MC_UV_ROOT) == LUA_TTABLE;
  if (!pushnodes(L, hidx))
    return 0;  /* the nil of the missing map */
  if (lua_rawgetp(L, -1, node) != LUA_TTABLE) {
    lua_remove(L, -2);                                  /* pop nodes */
    return 0;
  }
  lua_remove(L, -2);                                    /* pop nodes */
  return 1;
}

/* Pushes the object of node 'n', or nil if its table is gone. */
void mc_lnode_pushobject(lua_State *L, int hidx, mc_node *n) {
  if (mc_lnode_push(L, hidx, n))
    lua_rawgeti(L, -1, T_OBJECT);
  else
    lua_pushnil(L);
  lua_remove(L, -2);                                    /* pop T */
}

/* Empty live nodes leave the tree, so that a long-lived object argument
** whose entries were all evicted costs nothing.  Raw sets only. */
void mc_lnode_prune(lua_State *L, mc_lcore *lc, int hidx, mc_node *n) {
  luaL_checkstack(L, 4, NULL);
  while (n != NULL && n->state == MC_NODE_LIVE && n->nentries == 0 &&
         n->nchildren == 0) {
    mc_node *p = n->parent;
    int ttab;
    if (!mc_lnode_push(L, hidx, n)) {
      /* dying: its finalizer will free it, and its sentinel still points
      ** to it, so it must not be freed now */
      lua_pop(L, 1);
      return;
    }
    ttab = lua_gettop(L);
    lua_rawgeti(L, ttab, T_SENTINEL);
    ((mc_sentinel *)lua_touserdata(L, -1))->node = NULL;
    lua_pop(L, 1);                                      /* pop sentinel */
    if (mc_lnode_push(L, hidx, p)) {  /* P: alive, it holds T */
      lua_rawgeti(L, ttab, T_OBJECT);
      lua_pushvalue(L, -1);
      lua_rawget(L, -3);                                /* P[o] */
      if (lua_rawequal(L, -1, ttab)) {  /* only T itself leaves P */
        lua_pop(L, 1);
        lua_pushnil(L);
        lua_rawset(L, -3);                              /* P[o] = nil */
      }
      else
        lua_pop(L, 2);                                  /* pop P[o], o */
    }
    lua_pop(L, 1);                                      /* pop P */
    pushnodes(L, hidx);
    lua_pushnil(L);
    lua_rawsetp(L, -2, n);                              /* nodes[n] = nil */
    lua_pop(L, 2);                                      /* pop nodes, T */
    mc_node_detach(&lc->c, n);
    n = p;
  }
}

static int node_gc(lua_State *L) {
  mc_sentinel *s = (mc_sentinel *)lua_touserdata(L, 1);
  if (s->node != NULL && !s->core->closed)
    mc_node_kill(&s->core->c, s->node);
  s->node = NULL;
  return 0;
}

void mc_lnode_open(lua_State *L) {
  if (luaL_newmetatable(L, MC_NODE_MT)) {
    lua_pushcfunction(L, node_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
}
