/*
** mc_key.h: encoding of argument tuples into hashable bytes.
**
** A key is one flag byte followed by self-delimiting items, one per
** argument, so that tuples of different length or shape never share bytes.
** Objects compared by identity are not written as addresses (those are
** reused after collection): each is an MC_KOBJ item, and the key then ends
** with the address of the node that the binding keeps alive for exactly that
** sequence of objects (flag byte MC_KF_NODE).
*/
#ifndef mc_key_h
#define mc_key_h

#include <stddef.h>
#include <string.h>

enum mc_ktag {
  MC_KNIL, MC_KFALSE, MC_KTRUE, MC_KINT, MC_KFLT, MC_KSTR, MC_KLUD, MC_KOBJ
};

#define MC_KF_NODE  1

typedef struct mc_kbuf {
  unsigned char *p;
  size_t cap;
  size_t len;       /* may pass cap: then re-encode with cap >= len */
} mc_kbuf;

typedef struct mc_kitem {
  int tag;
  long long i;
  double n;
  const char *s;
  size_t len;
  void *p;
} mc_kitem;

/* The writers are inline: they are the hit path of every cached call.
** Each appends its bytes when they fit and always counts them, so that a
** caller whose buffer was too small learns the size it needs. */
static inline void mc_key_put(mc_kbuf *k, const void *src, size_t n) {
  if (k->len + n <= k->cap)
    memcpy(k->p + k->len, src, n);
  k->len += n;
}

static inline void mc_key_tag(mc_kbuf *k, int tag) {  /* nil, booleans, objects */
  if (k->len < k->cap)
    k->p[k->len] = (unsigned char)tag;
  k->len++;
}

static inline void mc_key_begin(mc_kbuf *k, unsigned char *p, size_t cap) {
  k->p = p;
  k->cap = cap;
  k->len = 0;
  mc_key_tag(k, 0);
}

static inline void mc_key_int(mc_kbuf *k, long long i) {
  mc_key_tag(k, MC_KINT);
  mc_key_put(k, &i, sizeof(i));
}

static inline void mc_key_flt(mc_kbuf *k, double n) {
  mc_key_tag(k, MC_KFLT);
  mc_key_put(k, &n, sizeof(n));
}

static inline void mc_key_lud(mc_kbuf *k, const void *p) {
  mc_key_tag(k, MC_KLUD);
  mc_key_put(k, &p, sizeof(p));
}

static inline void mc_key_str(mc_kbuf *k, const char *s, size_t len) {
  size_t l = len;
  mc_key_tag(k, MC_KSTR);
  do {  /* the length as a varint: short strings cost one byte */
    mc_key_tag(k, (int)((l & 0x7F) | (l > 0x7F ? 0x80 : 0)));
    l >>= 7;
  } while (l != 0);
  mc_key_put(k, s, len);
}

/* Closes a key; 'node' is the node of its objects, NULL if it has none. */
static inline void mc_key_end(mc_kbuf *k, const void *node) {
  if (node != NULL) {
    if (k->cap > 0)
      k->p[0] = MC_KF_NODE;
    mc_key_put(k, &node, sizeof(node));
  }
}

/* Reads the items of a key: returns the position after 'it', NULL at end. */
const unsigned char *mc_key_next(const unsigned char *p,
                                 const unsigned char *end, mc_kitem *it);
const unsigned char *mc_key_items(const unsigned char *key, size_t len,
                                  const unsigned char **end);

#endif
