/*
** mc_lkey.c: Lua arguments to keys and back.
**
** Arguments compared by value are encoded by mc_key.h; each object argument
** (compared by identity) is an MC_KOBJ item and a step down the chain of
** node tables (mc_lnode.c), and the key ends with the address of the node
** of the last object.  Keys that fit MC_KEYBUF bytes are encoded on the C
** stack; longer ones are only hashed and counted there, and a lookup then
** encodes them once more into a scratch block taken straight from the
** state's allocator: no Lua object is made (no garbage the size of the key,
** no GC step) and nothing can raise while the block is out.
*/
#include <string.h>

#include "mc_lua.h"

/* Encodes the arguments first..last into 'kc'.  Object arguments step from
** the root table down the node tables; on MC_KEY_OK with objects the node
** table of the last one is pushed (kc->ntab), else nothing is pushed.  A
** NaN anywhere gives MC_KEY_NAN, also after an object without a node.
** With 'create' (only under a hold: it allocates), missing nodes are made. */
static int encode(lua_State *L, mc_lcore *lc, int hidx, int first, int last,
                  mc_lkey *kc, int create) {
  mc_node *node = NULL;
  int i, absent = 0, pushed = 0;
  kc->node = NULL;
  kc->ntab = 0;
  for (i = first; i <= last; i++) {
    int r = mc_lkey_value(L, i, lua_type(L, i), lc->typed, &kc->k);
    if (r == 0) {
      lua_pop(L, pushed);
      return MC_KEY_NAN;
    }
    if (r < 0) {  /* by identity, through the node of this object */
      mc_key_tag(&kc->k, MC_KOBJ);
      if (absent)
        continue;  /* only looking for a NaN now */
      if (!pushed) {
        lua_getiuservalue(L, hidx, MC_UV_ROOT);  /* the first step's table */
        pushed = 1;
      }
      node = mc_lnode_step(L, lc, hidx, i, node, create);
      if (node == NULL) {  /* step() popped the table */
        absent = 1;
        pushed = 0;
      }
    }
  }
  if (absent)
    return MC_KEY_ABSENT;
  mc_key_end(&kc->k, node);
  kc->node = node;
  kc->ntab = pushed ? lua_gettop(L) : 0;
  return MC_KEY_OK;
}

int mc_lkey_encode(lua_State *L, mc_lcore *lc, int hidx, int first,
                   int last, mc_lkey *kc, int create) {
  mc_key_begin(&kc->k, kc->buf, MC_KEYBUF, &lc->c.hkey);
  return encode(L, lc, hidx, first, last, kc, create);
}

/* Encodes the key again, into the 'len' bytes at 'p': its length, known
** from an mc_lkey_encode that gave MC_KEY_OK.  Returns MC_KEY_OK if it is
** the same key still (its nodes are there).  Raises nothing, makes no node
** and leaves the stack as it was. */
int mc_lkey_encodeinto(lua_State *L, mc_lcore *lc, int hidx, int first,
                       int last, unsigned char *p, size_t len) {
  mc_lkey kc;
  int st;
  mc_key_begin(&kc.k, p, len, &lc->c.hkey);
  st = encode(L, lc, hidx, first, last, &kc, 0);
  if (st == MC_KEY_OK) {
    lua_pop(L, kc.ntab != 0);
    if (kc.k.len != len)
      st = MC_KEY_ABSENT;
  }
  return st;
}

/* The entry of the key in 'kc' (encoded, MC_KEY_OK), or NULL.  A key longer
** than the buffer is encoded into a scratch block to compare it. */
mc_entry *mc_lkey_find(lua_State *L, mc_lcore *lc, int hidx, int first,
                       int last, mc_lkey *kc) {
  mc_cache *c = &lc->c;
  size_t len = kc->k.len;
  unsigned h = mc_key_hash(&kc->k);
  mc_entry *e;
  unsigned char *p;
  if (len <= kc->k.cap)
    return mc_cache_find(c, kc->k.p, len, h);
  e = mc_cache_probe(c, h, len, NULL);
  if (e == NULL)
    return NULL;  /* the usual miss: no entry of that hash and length */
  p = (unsigned char *)c->alloc(c->aud, NULL, 0, len);
  if (p == NULL)
    luaL_error(L, "not enough memory");
  /* between the allocation and the free: raw reads only, nothing raises */
  if (mc_lkey_encodeinto(L, lc, hidx, first, last, p, len) != MC_KEY_OK)
    e = NULL;
  for (; e != NULL; e = mc_cache_probe(c, h, len, e))
    if (memcmp(e->key, p, len) == 0)
      break;
  c->alloc(c->aud, p, len, 0);
  return e;
}

/* Whether any of the arguments first..last is compared by identity. */
int mc_lkey_hasobject(lua_State *L, int first, int last) {
  int i;
  for (i = first; i <= last; i++) {
    int t = lua_type(L, i);
    if (t == LUA_TTABLE || t == LUA_TUSERDATA || t == LUA_TFUNCTION ||
        t == LUA_TTHREAD)
      return 1;
  }
  return 0;
}

static void pushitem(lua_State *L, const mc_kitem *it) {
  switch (it->tag) {
    case MC_KFALSE: lua_pushboolean(L, 0); break;
    case MC_KTRUE: lua_pushboolean(L, 1); break;
    case MC_KINT: lua_pushinteger(L, (lua_Integer)it->i); break;
    case MC_KFLT: lua_pushnumber(L, (lua_Number)it->n); break;
    case MC_KSTR: lua_pushlstring(L, it->s, it->len); break;
    case MC_KLUD: lua_pushlightuserdata(L, it->p); break;
    default: lua_pushnil(L); break;
  }
}

/* Pushes the key of 'e' as one value: the argument itself if there is
** exactly one, else a table {n = count, ...}.  It allocates: only under a
** hold, which keeps 'e' readable even if a finalizer removes it. */
void mc_lkey_push(lua_State *L, int hidx, mc_entry *e) {
  mc_handle *h = (mc_handle *)lua_touserdata(L, hidx);
  mc_node *last = mc_entry_node(&h->core->c, e);
  const unsigned char *end;
  const unsigned char *p = mc_key_items(e->key, e->keylen, &end);
  const unsigned char *q;
  mc_kitem it;
  int n = 0, depth = 0, j = 0, i;
  for (q = p; (q = mc_key_next(q, end, &it)) != NULL; n++)
    depth += (it.tag == MC_KOBJ);
  luaL_checkstack(L, 4, NULL);
  if (n != 1)
    lua_createtable(L, n, 1);
  for (i = 1; (p = mc_key_next(p, end, &it)) != NULL; i++) {
    if (it.tag == MC_KOBJ) {  /* the j-th object: up from the last */
      mc_node *nd = last;
      int up;
      for (up = depth - 1 - j++; up > 0; up--)
        nd = nd->parent;  /* nodes stay readable under the hold */
      mc_lnode_pushobject(L, hidx, nd);
    }
    else
      pushitem(L, &it);
    if (n != 1)
      lua_rawseti(L, -2, i);
  }
  if (n != 1) {
    lua_pushinteger(L, n);
    lua_setfield(L, -2, "n");
  }
}
