/*
** mc_key.c: argument tuples to bytes and back (see mc_key.h).
*/
#include <string.h>

#include "mc_key.h"

const unsigned char *mc_key_items(const unsigned char *key, size_t len,
                                  const unsigned char **end) {
  *end = key + len;
  if (len > 0 && (key[0] & MC_KF_NODE))
    *end -= sizeof(void *);
  return key;
}

const unsigned char *mc_key_next(const unsigned char *p,
                                 const unsigned char *end, mc_kitem *it) {
  int head;
  if (p >= end)
    return NULL;
  head = *p++;
  it->tag = head & 0x0F;
  switch (it->tag) {
    case MC_KINT: {  /* zigzag-coded, in as few bytes as it needs */
      int n = (head >> 4 & 7) + 1, b;
      uint64_t z = 0;
      for (b = 0; b < n; b++)
        z |= (uint64_t)p[b] << (8 * b);
      it->i = (long long)(z >> 1 ^ (0 - (z & 1)));
      return p + n;
    }
    case MC_KFLT:
      memcpy(&it->n, p, sizeof(it->n));
      return p + sizeof(it->n);
    case MC_KLUD:
      memcpy(&it->p, p, sizeof(it->p));
      return p + sizeof(it->p);
    case MC_KSTR: {
      size_t l = 0;
      int shift = 0;
      unsigned char b;
      do {
        b = *p++;
        l |= (size_t)(b & 0x7F) << shift;
        shift += 7;
      } while (b & 0x80);
      it->s = (const char *)p;
      it->len = l;
      return p + l;
    }
    default:
      return p;
  }
}

unsigned mc_key_rehash(const unsigned char *key, size_t len,
                       const mc_hkey *hk) {
  const unsigned char *end;
  const unsigned char *p = mc_key_items(key, len, &end);
  const void *node = NULL;
  mc_kbuf k;
  mc_kitem it;
  mc_key_begin(&k, NULL, 0, hk);  /* no room: it only hashes */
  if (len > 0 && (key[0] & MC_KF_NODE))
    memcpy(&node, end, sizeof(node));
  while ((p = mc_key_next(p, end, &it)) != NULL) {
    switch (it.tag) {  /* the writers feed the words they fed first */
      case MC_KINT: mc_key_int(&k, it.i); break;
      case MC_KFLT: mc_key_flt(&k, it.n); break;
      case MC_KSTR: mc_key_str(&k, it.s, it.len); break;
      case MC_KLUD: mc_key_lud(&k, it.p); break;
      default: mc_key_tag(&k, it.tag); break;
    }
  }
  mc_key_end(&k, node);
  return mc_key_hash(&k);
}
