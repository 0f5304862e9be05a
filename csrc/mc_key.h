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
#include <stdint.h>
#include <string.h>

/* Internal: hidden from the shared objects whatever the build flags (the
** LuaRocks build has no -fvisibility=hidden); only MC_API leaves them. */
#if defined(__GNUC__) && __GNUC__ >= 4
#pragma GCC visibility push(hidden)
#endif

enum mc_ktag {
  MC_KNIL, MC_KFALSE, MC_KTRUE, MC_KINT, MC_KFLT, MC_KSTR, MC_KLUD, MC_KOBJ
};

#define MC_KF_NODE  1

typedef struct mc_kbuf {
  unsigned char *p;
  size_t cap;
  size_t len;       /* may pass cap: then re-encode with cap >= len */
  uint64_t h;       /* hash of the items so far */
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
** caller whose buffer was too small learns the size it needs.
**
** The hash is computed from the values as they are written, in registers:
** hashing the buffer afterwards would load words just stored byte by byte,
** and on x86 such a load waits for the stores to retire (a failed
** store-to-load forward), which made the hash a third of a cache hit. */
static inline void mc_key_mix(mc_kbuf *k, uint64_t w) {
  uint64_t h = (k->h ^ w) * 0xbf58476d1ce4e5b9ULL;
  k->h = h ^ (h >> 31);
}

static inline void mc_key_put(mc_kbuf *k, const void *src, size_t n) {
  if (k->len + n <= k->cap)
    memcpy(k->p + k->len, src, n);
  k->len += n;
}

static inline void mc_key_byte(mc_kbuf *k, int b) {
  if (k->len < k->cap)
    k->p[k->len] = (unsigned char)b;
  k->len++;
}

static inline void mc_key_tag(mc_kbuf *k, int tag) {  /* nil, booleans, objects */
  mc_key_byte(k, tag);
  mc_key_mix(k, (uint64_t)tag);
}

static inline void mc_key_begin(mc_kbuf *k, unsigned char *p, size_t cap,
                                unsigned seed) {
  k->p = p;
  k->cap = cap;
  k->len = 0;
  k->h = 0x9E3779B97F4A7C15ULL ^ seed;
  mc_key_byte(k, 0);
}

static inline void mc_key_int(mc_kbuf *k, long long i) {
  mc_key_byte(k, MC_KINT);
  mc_key_put(k, &i, sizeof(i));
  mc_key_mix(k, (uint64_t)i ^ ((uint64_t)MC_KINT << 56));
}

static inline void mc_key_flt(mc_kbuf *k, double n) {
  uint64_t w;
  memcpy(&w, &n, sizeof(w));
  mc_key_byte(k, MC_KFLT);
  mc_key_put(k, &n, sizeof(n));
  mc_key_mix(k, w ^ ((uint64_t)MC_KFLT << 56));
}

static inline void mc_key_lud(mc_kbuf *k, const void *p) {
  mc_key_byte(k, MC_KLUD);
  mc_key_put(k, &p, sizeof(p));
  mc_key_mix(k, (uint64_t)(uintptr_t)p ^ ((uint64_t)MC_KLUD << 56));
}

static inline void mc_key_str(mc_kbuf *k, const char *s, size_t len) {
  size_t l = len, i;
  uint64_t w;
  mc_key_byte(k, MC_KSTR);
  do {  /* the length as a varint: short strings cost one byte */
    mc_key_byte(k, (int)((l & 0x7F) | (l > 0x7F ? 0x80 : 0)));
    l >>= 7;
  } while (l != 0);
  mc_key_put(k, s, len);
  /* the string is Lua's memory, not just stored: word loads are cheap */
  mc_key_mix(k, (uint64_t)len ^ ((uint64_t)MC_KSTR << 56));
  for (i = 0; i + 8 <= len; i += 8) {
    memcpy(&w, s + i, 8);
    mc_key_mix(k, w);
  }
  if (i < len) {
    w = 0;
    memcpy(&w, s + i, len - i);
    mc_key_mix(k, w);
  }
}

/* Closes a key; 'node' is the node of its objects, NULL if it has none. */
static inline void mc_key_end(mc_kbuf *k, const void *node) {
  uint64_t h;
  if (node != NULL) {
    if (k->cap > 0)
      k->p[0] = MC_KF_NODE;
    mc_key_put(k, &node, sizeof(node));
    mc_key_mix(k, (uint64_t)(uintptr_t)node);
  }
  h = k->h ^ (k->h >> 32);
  k->h = h ^ (h >> 16);
}

/* The key's hash, once mc_key_end has closed it. */
#define mc_key_hash(k)  ((unsigned)(k)->h)

/* Reads the items of a key: returns the position after 'it', NULL at end. */
const unsigned char *mc_key_next(const unsigned char *p,
                                 const unsigned char *end, mc_kitem *it);
const unsigned char *mc_key_items(const unsigned char *key, size_t len,
                                  const unsigned char **end);

#if defined(__GNUC__) && __GNUC__ >= 4
#pragma GCC visibility pop
#endif

#endif
