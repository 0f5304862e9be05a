/*
** mc_key.c: argument tuples to bytes and back (see mc_key.h).
*/
#include <string.h>

#include "mc_key.h"

static void put(mc_kbuf *k, const void *src, size_t n) {
  if (k->len + n <= k->cap)
    memcpy(k->p + k->len, src, n);
  k->len += n;
}

static void putbyte(mc_kbuf *k, int b) {
  unsigned char c = (unsigned char)b;
  put(k, &c, 1);
}

void mc_key_begin(mc_kbuf *k, unsigned char *p, size_t cap) {
  k->p = p;
  k->cap = cap;
  k->len = 0;
  putbyte(k, 0);
}

void mc_key_tag(mc_kbuf *k, int tag) {
  putbyte(k, tag);
}

void mc_key_int(mc_kbuf *k, long long i) {
  putbyte(k, MC_KINT);
  put(k, &i, sizeof(i));
}

void mc_key_flt(mc_kbuf *k, double n) {
  putbyte(k, MC_KFLT);
  put(k, &n, sizeof(n));
}

void mc_key_str(mc_kbuf *k, const char *s, size_t len) {
  unsigned char v[10];
  size_t nv = 0, l = len;
  putbyte(k, MC_KSTR);
  do {  /* length as a varint: short strings cost one byte */
    v[nv++] = (unsigned char)((l & 0x7F) | (l > 0x7F ? 0x80 : 0));
    l >>= 7;
  } while (l != 0);
  put(k, v, nv);
  put(k, s, len);
}

void mc_key_lud(mc_kbuf *k, const void *p) {
  putbyte(k, MC_KLUD);
  put(k, &p, sizeof(p));
}

void mc_key_end(mc_kbuf *k, const void *node) {
  if (node != NULL) {
    if (k->cap > 0)
      k->p[0] = MC_KF_NODE;
    put(k, &node, sizeof(node));
  }
}

const unsigned char *mc_key_items(const unsigned char *key, size_t len,
                                  const unsigned char **end) {
  *end = key + len;
  if (len > 0 && key[0] == MC_KF_NODE)
    *end -= sizeof(void *);
  return key + 1;
}

const unsigned char *mc_key_next(const unsigned char *p,
                                 const unsigned char *end, mc_kitem *it) {
  if (p >= end)
    return NULL;
  it->tag = *p++;
  switch (it->tag) {
    case MC_KINT:
      memcpy(&it->i, p, sizeof(it->i));
      return p + sizeof(it->i);
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
