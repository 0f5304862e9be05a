/*
** mc_key.h: encoding of argument tuples into hashable bytes.
**
** A key is a sequence of self-delimiting items, one per argument, so that
** tuples of different length or shape never share bytes (a call without
** arguments has the empty key).  An item is a tag byte (enum mc_ktag in its
** low 4 bits) and what the tag says follows.  Objects compared by identity
** are not written as addresses (those are reused after collection): each is
** an MC_KOBJ item, and the key then ends with the address of the node that
** the binding keeps alive for exactly that sequence of objects, which bit
** MC_KF_NODE of the first byte says.  No flag byte of its own: that byte
** would take a TTL entry of one integer key to a bigger malloc chunk.
*/
#ifndef mc_key_h
#define mc_key_h

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mc_visibility.h"

MC_HIDDEN_BEGIN

enum mc_ktag {
  MC_KNIL, MC_KFALSE, MC_KTRUE, MC_KINT, MC_KFLT, MC_KSTR, MC_KLUD, MC_KOBJ
};

#define MC_KF_NODE  0x80  /* in the first byte: a node address ends the key */

/* The 128-bit key of the hash: one random secret per lua_State (see
** mc_secret.c), copied into each cache, and which mixer the cache uses
** (see "Two mixers" below; zero, the default, is SipHash). */
typedef struct mc_hkey {
  uint64_t k0, k1;
  int fast;
} mc_hkey;

/* Fills 'out' with a secret from the system's random source (mc_secret.c). */
void mc_secret_fill(mc_hkey *out);

typedef struct mc_kbuf {
  unsigned char *p;
  size_t cap;
  size_t len;       /* may pass cap: then re-encode with cap >= len */
  uint64_t v0, v1, v2, v3;  /* SipHash state */
  uint64_t nbytes;  /* 8 per word fed: SipHash's message length */
  uint64_t h;       /* the hash, once mc_key_end has closed the key */
  int fast;         /* the fast mixer, not SipHash (mc_hkey.fast) */
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
** The hash is SipHash-1-3 (as CPython's and Rust's), keyed by the state's
** secret, so that nobody who does not know the secret can choose keys that
** collide.  It is computed from the values as they are written, in
** registers: hashing the buffer afterwards would load words just stored
** byte by byte, and on x86 such a load waits for the stores to retire (a
** failed store-to-load forward), which made the hash a third of a cache hit.
**
** So the message SipHash reads is not the key's bytes but a sequence of
** 64-bit words, one compression each, that encodes the same items and is
** decodable from the left (hence injective: two keys that differ give two
** messages that differ, and SipHash's guarantees carry over).  The low four
** bits of an item's first word say what follows:
**
**   MC_KNIL, MC_KFALSE, MC_KTRUE, MC_KOBJ   that word alone
**   MC_KINT, MC_KFLT, MC_KLUD               v << 4 | tag when v, read as a
**                                           signed number, is in [-2^59,
**                                           2^59) (a float's v: mc_key_flt)
**   tag | MC_KW_WIDE                        any other v: the next word is v
**   MC_KSTR                                 len < 16: head << 8 | len << 4,
**                                           head the first 7 bytes at most
**                                           (little-endian); if len >= 8,
**                                           the next word holds the last 8
**   MC_KSTR | MC_KW_WIDE                    len << 4, then ceil(len / 8)
**                                           words; the last one ends at the
**                                           string's end (it may overlap)
**   MC_KW_NODE                              the next word is the node
**                                           address; it ends the key
**
** Most keys of a hit are one integer, one float or a string of less than 8
** bytes: one word each.
**
** mc_key_end closes the message as SipHash closes a message of 8 bytes per
** word: a block holding the length in its top byte, then 3 rounds.  A
** message of whole words is thus hashed exactly as the reference SipHash
** hashes those words' bytes (little-endian), which spec/siphash_spec.lua
** checks against the published test vectors.
**
** Two mixers.  SipHash's rounds are a chain of about 20 cycles that a hit
** waits for before it can load the bucket: measured, it made a cached call
** 10% slower than with a one-multiply mixer.  So a cache starts with that
** fast mixer (keyed by the same secret, which is not enough against a
** determined attacker: some of its collisions hold for every key) and
** watches its chains: the first insert that makes a chain of
** MC_KEY_CHAINMAX entries (with at most one entry per bucket, about 3e-13
** per insert of random keys) switches the cache to SipHash for good and
** rehashes every entry from its bytes (mc_key_rehash).  An attacker gets
** one chain of that length per cache, once; .NET's Dictionary defends its
** string keys the same way. */

#define MC_KEY_CHAINMAX  16

/* The writers must be inlined for the state to stay in registers; gcc
** would call the bigger ones (mc_key_int) out of line. */
#if defined(__GNUC__)
#define MC_KEY_INLINE  static inline __attribute__((always_inline))
#else
#define MC_KEY_INLINE  static inline
#endif

#define MC_KW_WIDE  8
#define MC_KW_NODE  (MC_KNIL | MC_KW_WIDE)

#define mc_rotl(x, b)  (((x) << (b)) | ((x) >> (64 - (b))))

MC_KEY_INLINE void mc_key_round(mc_kbuf *k) {
  k->v0 += k->v1; k->v1 = mc_rotl(k->v1, 13); k->v1 ^= k->v0;
  k->v0 = mc_rotl(k->v0, 32);
  k->v2 += k->v3; k->v3 = mc_rotl(k->v3, 16); k->v3 ^= k->v2;
  k->v0 += k->v3; k->v3 = mc_rotl(k->v3, 21); k->v3 ^= k->v0;
  k->v2 += k->v1; k->v1 = mc_rotl(k->v1, 17); k->v1 ^= k->v2;
  k->v2 = mc_rotl(k->v2, 32);
}

/* One word of the message: SipHash's compression with one round, or the
** fast mixer's multiply and shift. */
MC_KEY_INLINE void mc_key_word(mc_kbuf *k, uint64_t m) {
  if (k->fast) {
    uint64_t h = (k->v0 ^ m) * 0xbf58476d1ce4e5b9ULL;
    k->v0 = h ^ (h >> 31);
  }
  else {
    k->v3 ^= m;
    mc_key_round(k);
    k->v0 ^= m;
  }
  k->nbytes += 8;
}

/* A value item: one word when v fits in 60 bits (as a signed number). */
MC_KEY_INLINE void mc_key_value(mc_kbuf *k, int tag, uint64_t v) {
  if (((v + ((uint64_t)1 << 59)) >> 60) == 0)
    mc_key_word(k, v << 4 | (uint64_t)tag);
  else {
    mc_key_word(k, (uint64_t)(tag | MC_KW_WIDE));
    mc_key_word(k, v);
  }
}

MC_KEY_INLINE void mc_key_put(mc_kbuf *k, const void *src, size_t n) {
  if (k->len + n <= k->cap)
    memcpy(k->p + k->len, src, n);
  k->len += n;
}

MC_KEY_INLINE void mc_key_byte(mc_kbuf *k, int b) {
  if (k->len < k->cap)
    k->p[k->len] = (unsigned char)b;
  k->len++;
}

MC_KEY_INLINE void mc_key_tag(mc_kbuf *k, int tag) {  /* nil, booleans, objects */
  mc_key_byte(k, tag);
  mc_key_word(k, (uint64_t)tag);
}

MC_KEY_INLINE void mc_key_begin(mc_kbuf *k, unsigned char *p, size_t cap,
                                const mc_hkey *key) {
  k->p = p;
  k->cap = cap;
  k->len = 0;
  k->v0 = key->k0 ^ 0x736f6d6570736575ULL;
  k->v1 = key->k1 ^ 0x646f72616e646f6dULL;
  k->v2 = key->k0 ^ 0x6c7967656e657261ULL;
  k->v3 = key->k1 ^ 0x7465646279746573ULL;
  k->nbytes = 0;
  k->fast = key->fast;
}

/* The number of bytes that z needs, 1 to 8. */
MC_KEY_INLINE int mc_key_nbytes(uint64_t z) {
#if defined(__GNUC__)
  return 8 - (int)((unsigned)__builtin_clzll(z | 1) >> 3);
#else
  int n = 1;
  while (n < 8 && (z >> (8 * n)) != 0)
    n++;
  return n;
#endif
}

/* An integer is stored in the bytes it needs, not 8: most keys are one
** integer, and an entry is allocated to the byte (a key of 6 bytes rather
** than 10 takes a TTL entry from a 96-byte malloc chunk to 80; section 15
** of docs/DESIGN.md).  The value is zigzag-coded (0, -1, 1, -2, ... as 0,
** 1, 2, 3, ...) so that small negative numbers are short too, written
** little-endian, and the count of its bytes less one is in bits 4-6 of the
** tag byte (bit 7 is MC_KF_NODE's).  One integer has one encoding, so
** equal keys still have equal bytes.  The hash reads the integer itself
** (mc_key_value), not these bytes.  It costs a hit about 14 instructions
** more than 8 fixed bytes did (callgrind, m_call only: 509-513 -> 522-524). */
MC_KEY_INLINE void mc_key_int(mc_kbuf *k, long long i) {
  uint64_t u = (uint64_t)i;
  uint64_t z = u << 1 ^ (0 - (u >> 63));
  if (z < 0x100 && k->len + 2 <= k->cap) {  /* most keys: -128 to 127 */
    k->p[k->len] = MC_KINT;
    k->p[k->len + 1] = (unsigned char)z;
    k->len += 2;
  }
  else {
    int n = mc_key_nbytes(z), b;
    int tag = MC_KINT | (n - 1) << 4;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (k->len + 1 + sizeof(z) <= k->cap) {  /* one store of all 8 bytes:
                                                those past n are not the
                                                key's (len stops before) */
      k->p[k->len] = (unsigned char)tag;
      memcpy(k->p + k->len + 1, &z, sizeof(z));
      k->len += 1 + (size_t)n;
    }
    else
#endif
    {
      mc_key_byte(k, tag);
      for (b = 0; b < n; b++)
        mc_key_byte(k, (int)(z >> (8 * b) & 0xFF));
    }
  }
  mc_key_value(k, MC_KINT, u);
}

MC_KEY_INLINE void mc_key_flt(mc_kbuf *k, double n) {
  uint64_t w;
  memcpy(&w, &n, sizeof(w));
  mc_key_byte(k, MC_KFLT);
  mc_key_put(k, &n, sizeof(n));
  /* sign to the bottom, exponent centred on 1.0: every magnitude from
  ** 2^-64 to 2^64 then fits in one word */
  mc_key_value(k, MC_KFLT, mc_rotl(w, 1) - ((uint64_t)1023 << 53));
}

MC_KEY_INLINE void mc_key_lud(mc_kbuf *k, const void *p) {
  mc_key_byte(k, MC_KLUD);
  mc_key_put(k, &p, sizeof(p));
  mc_key_value(k, MC_KLUD, (uint64_t)(uintptr_t)p);
}

MC_KEY_INLINE uint64_t mc_key_le32(const unsigned char *p) {
  return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
         (uint64_t)p[3] << 24;
}

/* The len bytes at s (len < 16) little-endian, without loading past
** s + len (the string may end a page): the first 8 at most.  Overlapping
** loads write the same byte twice to the same place. */
MC_KEY_INLINE uint64_t mc_key_head(const unsigned char *s, size_t len) {
  if (len >= 8)
    return mc_key_le32(s) | mc_key_le32(s + 4) << 32;
  if (len >= 4)
    return mc_key_le32(s) | mc_key_le32(s + len - 4) << (8 * (len - 4));
  if (len > 0)
    return (uint64_t)s[0] | (uint64_t)s[len >> 1] << (8 * (len >> 1)) |
           (uint64_t)s[len - 1] << (8 * (len - 1));
  return 0;
}

MC_KEY_INLINE void mc_key_str(mc_kbuf *k, const char *s, size_t len) {
  size_t l = len, i;
  uint64_t w;
  mc_key_byte(k, MC_KSTR);
  do {  /* the length as a varint: short strings cost one byte */
    mc_key_byte(k, (int)((l & 0x7F) | (l > 0x7F ? 0x80 : 0)));
    l >>= 7;
  } while (l != 0);
  mc_key_put(k, s, len);
  /* the string is Lua's memory, not just stored: word loads are cheap */
  if (len < 16) {
    mc_key_word(k, mc_key_head((const unsigned char *)s, len) << 8 |
                   (uint64_t)len << 4 | MC_KSTR);
    if (len < 8)
      return;
  }
  else {
    mc_key_word(k, (uint64_t)len << 4 | MC_KSTR | MC_KW_WIDE);
    for (i = 0; i + 8 < len; i += 8) {
      memcpy(&w, s + i, 8);
      mc_key_word(k, w);
    }
  }
  memcpy(&w, s + len - 8, 8);
  mc_key_word(k, w);
}

/* Closes a key; 'node' is the node of its objects, NULL if it has none. */
MC_KEY_INLINE void mc_key_end(mc_kbuf *k, const void *node) {
  uint64_t b;
  if (node != NULL) {
    if (k->cap > 0)  /* the node's objects made items: p[0] is one's */
      k->p[0] |= MC_KF_NODE;
    mc_key_put(k, &node, sizeof(node));
    mc_key_word(k, MC_KW_NODE);
    mc_key_word(k, (uint64_t)(uintptr_t)node);
  }
  if (k->fast) {
    uint64_t h = k->v0 ^ k->v1;
    h ^= h >> 32;
    k->h = h ^ (h >> 16);
    return;
  }
  b = k->nbytes << 56;
  k->v3 ^= b;
  mc_key_round(k);
  k->v0 ^= b;
  k->v2 ^= 0xff;
  mc_key_round(k);
  mc_key_round(k);
  mc_key_round(k);
  k->h = k->v0 ^ k->v1 ^ k->v2 ^ k->v3;
}

/* The key's hash, once mc_key_end has closed it. */
#define mc_key_hash(k)  ((unsigned)(k)->h)

/* The hash of a key from its bytes, as its encoding gave it, under 'hk'. */
unsigned mc_key_rehash(const unsigned char *key, size_t len,
                       const mc_hkey *hk);

/* Reads the items of a key: returns the position after 'it', NULL at end. */
const unsigned char *mc_key_next(const unsigned char *p,
                                 const unsigned char *end, mc_kitem *it);
const unsigned char *mc_key_items(const unsigned char *key, size_t len,
                                  const unsigned char **end);

MC_HIDDEN_END

#endif
