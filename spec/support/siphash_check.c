/*
** spec/support/siphash_check.c: checks that the key hash of csrc/mc_key.h
** is SipHash-1-3 of the word encoding that mc_key.h documents.  Built and
** run by spec/siphash_spec.lua (with csrc/mc_secret.c); prints one line per
** failed check and exits with status 1 if any failed, else prints "ok N".
**
** The chain of trust: a plain byte-at-a-time SipHash, written here from the
** paper (Aumasson and Bernstein, 2012) apart from mc_key.h, reproduces the
** published vectors of SipHash-2-4 and SipHash-1-3; mc_key.h's streaming
** words then give the published SipHash-1-3 values for whole-word messages,
** the same values as the reference for random keys and words, and each
** writer feeds the words its comment promises.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc_key.h"

static int failures, checks;

static void check(int ok, const char *what, uint64_t got, uint64_t want) {
  checks++;
  if (!ok) {
    failures++;
    printf("FAIL %s: got %016llx, want %016llx\n", what,
           (unsigned long long)got, (unsigned long long)want);
  }
}

#define EQ(what, got, want)  check((got) == (want), (what), (got), (want))


/* {======================================================
** The reference, one byte at a time
** ======================================================= */

#define ROTL(x, b)  (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void sipround(uint64_t v[4]) {
  v[0] += v[1]; v[1] = ROTL(v[1], 13); v[1] ^= v[0]; v[0] = ROTL(v[0], 32);
  v[2] += v[3]; v[3] = ROTL(v[3], 16); v[3] ^= v[2];
  v[0] += v[3]; v[3] = ROTL(v[3], 21); v[3] ^= v[0];
  v[2] += v[1]; v[1] = ROTL(v[1], 17); v[1] ^= v[2]; v[2] = ROTL(v[2], 32);
}

static uint64_t le64(const unsigned char *p) {
  uint64_t x = 0;
  int i;
  for (i = 7; i >= 0; i--)
    x = x << 8 | p[i];
  return x;
}

/* a word as mc_key.h loads it from a long string: host order */
static uint64_t host64(const char *p) {
  uint64_t x;
  memcpy(&x, p, 8);
  return x;
}

static void put_le64(unsigned char *p, uint64_t x) {
  int i;
  for (i = 0; i < 8; i++)
    p[i] = (unsigned char)(x >> (8 * i));
}

static uint64_t ref_siphash(int c, int d, uint64_t k0, uint64_t k1,
                            const unsigned char *m, size_t len) {
  uint64_t v[4], b = (uint64_t)len << 56;
  size_t i, full = len - len % 8;
  int r;
  v[0] = k0 ^ 0x736f6d6570736575ULL;
  v[1] = k1 ^ 0x646f72616e646f6dULL;
  v[2] = k0 ^ 0x6c7967656e657261ULL;
  v[3] = k1 ^ 0x7465646279746573ULL;
  for (i = 0; i < full; i += 8) {
    uint64_t w = le64(m + i);
    v[3] ^= w;
    for (r = 0; r < c; r++)
      sipround(v);
    v[0] ^= w;
  }
  for (i = full; i < len; i++)
    b |= (uint64_t)m[i] << (8 * (i - full));
  v[3] ^= b;
  for (r = 0; r < c; r++)
    sipround(v);
  v[0] ^= b;
  v[2] ^= 0xff;
  for (r = 0; r < d; r++)
    sipround(v);
  return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* SipHash-1-3 of a sequence of words, each as its 8 bytes little-endian. */
static uint64_t ref_words(uint64_t k0, uint64_t k1, const uint64_t *w,
                          size_t n) {
  unsigned char m[8 * 64];
  size_t i;
  for (i = 0; i < n; i++)
    put_le64(m + 8 * i, w[i]);
  return ref_siphash(1, 3, k0, k1, m, 8 * n);
}

/* }====================================================== */


/* {======================================================
** Published vectors: key 00 01 .. 0f or all zero, message 00 01 .. len-1
** ======================================================= */

/* SipHash-2-4, key 00..0f, from the reference implementation's vectors.h */
static const uint64_t sip24[16] = {
  0x726fdb47dd0e0e31ULL, 0x74f839c593dc67fdULL, 0x0d6c8009d9a94f5aULL,
  0x85676696d7fb7e2dULL, 0xcf2794e0277187b7ULL, 0x18765564cd99a68dULL,
  0xcbc9466e58fee3ceULL, 0xab0200f58b01d137ULL, 0x93f5f5799a932462ULL,
  0x9e0082df0ba9e4b0ULL, 0x7a5dbbc594ddb9f3ULL, 0xf4b32f46226bada7ULL,
  0x751e8fbc860ee5fbULL, 0x14ea5627c0843d90ULL, 0xf723ca908e7af2eeULL,
  0xa129ca6149be45e5ULL
};

/* SipHash-1-3, all-zero key, by message length (the reference built with
** cROUNDS 1 and dROUNDS 3, as OCaml's and Rust's tests quote it) */
static const struct { size_t len; uint64_t h; } sip13[] = {
  {0, 0xd1fba762150c532cULL}, {1, 0x68a914128e01e473ULL},
  {2, 0x010bac45c41e3669ULL}, {3, 0x4d4c9a4a8ef6e0adULL},
  {4, 0x7cc43f98813e4dbdULL}, {5, 0x5abe2169dff36275ULL},
  {6, 0xe3c25f87624f1cdbULL}, {7, 0x2f098ab0c751325aULL},
  {8, 0xead411e67ebe2eeaULL}, {9, 0x75927f9d95124362ULL},
  {15, 0xf30eb725bb91c9eaULL}, {16, 0x8972188433a5c5b7ULL},
  {24, 0x31185a47af932f3aULL}, {32, 0x31ef8061c910629bULL},
  {40, 0x95bc321ab41d8206ULL}, {48, 0xfe1f2445ba50237fULL},
  {56, 0xa4f0cf4ba4adc016ULL}, {63, 0x385d3e39e5f37359ULL}
};

static void check_reference(void) {
  unsigned char m[64];
  char what[64];
  size_t i;
  for (i = 0; i < sizeof(m); i++)
    m[i] = (unsigned char)i;
  for (i = 0; i < 16; i++) {
    snprintf(what, sizeof(what), "reference SipHash-2-4, %u bytes", (unsigned)i);
    EQ(what, ref_siphash(2, 4, 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL,
                         m, i), sip24[i]);
  }
  for (i = 0; i < sizeof(sip13) / sizeof(sip13[0]); i++) {
    snprintf(what, sizeof(what), "reference SipHash-1-3, %u bytes", (unsigned)sip13[i].len);
    EQ(what, ref_siphash(1, 3, 0, 0, m, sip13[i].len), sip13[i].h);
  }
}

/* }====================================================== */


/* {======================================================
** mc_key.h
** ======================================================= */

static uint64_t stream(const mc_hkey *key, const uint64_t *w, size_t n) {
  mc_kbuf k;
  size_t i;
  mc_key_begin(&k, NULL, 0, key);
  for (i = 0; i < n; i++)
    mc_key_word(&k, w[i]);
  mc_key_end(&k, NULL);
  return k.h;
}

static void check_stream_vectors(void) {
  static const mc_hkey zero = {0, 0};
  unsigned char m[64];
  uint64_t w[8];
  char what[64];
  size_t i, j;
  for (i = 0; i < sizeof(m); i++)
    m[i] = (unsigned char)i;
  for (i = 0; i < sizeof(sip13) / sizeof(sip13[0]); i++) {
    size_t n = sip13[i].len / 8;
    if (sip13[i].len % 8 != 0)
      continue;
    for (j = 0; j < n; j++)
      w[j] = le64(m + 8 * j);
    snprintf(what, sizeof(what), "streaming, published vector of %u bytes",
            (unsigned)sip13[i].len);
    EQ(what, stream(&zero, w, n), sip13[i].h);
  }
}

/* xorshift64 from a fixed start, so that a failure replays */
static uint64_t next(uint64_t *x) {
  *x ^= *x << 13;
  *x ^= *x >> 7;
  *x ^= *x << 17;
  return *x;
}

static void check_stream_random(void) {
  uint64_t w[64], x = 0x243F6A8885A308D3ULL;
  char what[64];
  int t;
  for (t = 0; t < 200; t++) {
    mc_hkey key;
    size_t i, n = (size_t)(next(&x) % 64);
    key.k0 = next(&x);
    key.k1 = next(&x);
    key.fast = 0;
    for (i = 0; i < n; i++)
      w[i] = next(&x);
    snprintf(what, sizeof(what), "streaming, random key and %u words", (unsigned)n);
    EQ(what, stream(&key, w, n), ref_words(key.k0, key.k1, w, n));
  }
}

/* Each writer, against the words its comment in mc_key.h promises. */
#define T(what, write, ...)  do {                                          \
    const uint64_t want[] = {__VA_ARGS__};                                   \
    mc_kbuf k;                                                             \
    mc_key_begin(&k, buf, sizeof(buf), &key);                              \
    write;                                                                 \
    mc_key_end(&k, NULL);                                                  \
    EQ(what, k.h, ref_words(key.k0, key.k1, want,                          \
                            sizeof(want) / sizeof(want[0])));              \
    EQ(what " (table hash)", (uint64_t)mc_key_hash(&k),                    \
       (uint64_t)(unsigned)k.h);                                           \
  } while (0)

static void check_writers(void) {
  static const mc_hkey key = {0x0123456789abcdefULL, 0xfedcba9876543210ULL};
  static const char s20[] = "abcdefghijklmnopqrst";
  unsigned char buf[256];
  const uint64_t top = (uint64_t)1 << 59;
  double half = 0.5, big = 1e300;
  uint64_t bhalf, bbig;
  memcpy(&bhalf, &half, 8);
  memcpy(&bbig, &big, 8);
  T("nil", mc_key_tag(&k, MC_KNIL), 0);
  T("true, false", (mc_key_tag(&k, MC_KTRUE), mc_key_tag(&k, MC_KFALSE)),
    2, 1);
  T("integer 5", mc_key_int(&k, 5), 5 << 4 | 3);
  T("integer -1", mc_key_int(&k, -1), ~(uint64_t)0 << 4 | 3);
  T("integer -2^59", mc_key_int(&k, -(long long)top),
    (0 - top) << 4 | 3);
  T("integer 2^59 - 1", mc_key_int(&k, (long long)top - 1),
    (top - 1) << 4 | 3);
  T("integer 2^59", mc_key_int(&k, (long long)top), 3 | 8, top);
  T("integer -2^59 - 1", mc_key_int(&k, -(long long)top - 1),
    3 | 8, 0 - top - 1);
  T("float 0.5 (rotated, centred)", mc_key_flt(&k, 0.5),
    (ROTL(bhalf, 1) - ((uint64_t)1023 << 53)) << 4 | 4);
  T("float 1e300", mc_key_flt(&k, 1e300), 4 | 8,
    ROTL(bbig, 1) - ((uint64_t)1023 << 53));
  T("light userdata", mc_key_lud(&k, (void *)(uintptr_t)0x7f0012345670ULL),
    (uint64_t)0x7f0012345670ULL << 4 | 6);
  T("empty string", mc_key_str(&k, "", 0), 0 << 4 | 5);
  T("string of 3", mc_key_str(&k, "abc", 3),
    (uint64_t)0x636261 << 8 | 3 << 4 | 5);
  T("string of 7", mc_key_str(&k, "abcdefg", 7),
    (uint64_t)0x67666564636261ULL << 8 | 7 << 4 | 5);
  T("string of 10", mc_key_str(&k, "abcdefghij", 10),
    (uint64_t)0x67666564636261ULL << 8 | 10 << 4 | 5,
    host64("cdefghij"));
  T("string of 20", mc_key_str(&k, s20, 20), 20 << 4 | 5 | 8,
    host64(s20), host64(s20 + 8), host64(s20 + 12));
  T("integer, string", (mc_key_int(&k, 1), mc_key_str(&k, "x", 1)),
    1 << 4 | 3, (uint64_t)'x' << 8 | 1 << 4 | 5);
}

/* Strings of every length up to 40, each in a heap block of exactly its
** size (so that a sanitizer sees any load past the end), against words
** built here from mc_key.h's description one byte at a time. */
static void check_string_lengths(void) {
  static const mc_hkey key = {42, 43};
  unsigned char buf[256];
  uint64_t want[8];
  char what[64];
  size_t len, i;
  for (len = 0; len <= 40; len++) {
    char *s = (char *)malloc(len > 0 ? len : 1);
    size_t n = 0;
    mc_kbuf k;
    uint64_t head = 0;
    if (s == NULL)
      abort();
    for (i = 0; i < len; i++)
      s[i] = (char)(0x41 + 7 * i);
    if (len < 16) {
      for (i = 0; i < len && i < 7; i++)
        head |= (uint64_t)(unsigned char)s[i] << (8 * i);
      want[n++] = head << 8 | (uint64_t)len << 4 | MC_KSTR;
      if (len >= 8)
        want[n++] = host64(s + len - 8);
    }
    else {
      want[n++] = (uint64_t)len << 4 | MC_KSTR | MC_KW_WIDE;
      for (i = 0; i + 8 < len; i += 8)
        want[n++] = host64(s + i);
      want[n++] = host64(s + len - 8);
    }
    mc_key_begin(&k, buf, sizeof(buf), &key);
    mc_key_str(&k, s, len);
    mc_key_end(&k, NULL);
    snprintf(what, sizeof(what), "string of %u from the heap", (unsigned)len);
    EQ(what, k.h, ref_words(key.k0, key.k1, want, n));
    free(s);
  }
}

static void check_node(void) {
  static const mc_hkey key = {1, 2};
  unsigned char buf[64];
  const void *node = buf + 3;
  mc_kbuf k;
  uint64_t want[3];
  mc_key_begin(&k, buf, sizeof(buf), &key);
  mc_key_tag(&k, MC_KOBJ);
  mc_key_end(&k, node);
  want[0] = 7;
  want[1] = 8;
  want[2] = (uint64_t)(uintptr_t)node;
  EQ("object, node", k.h, ref_words(1, 2, want, 3));
}

/* mc_key_rehash gives from a key's bytes the hash its writers gave, with
** either mixer: the core relies on it when it switches to SipHash. */
static void check_rehash(void) {
  static const char long_s[] = "a string longer than sixteen bytes, 40 b";
  unsigned char buf[256];
  int fast, withnode;
  for (fast = 0; fast <= 1; fast++) {
    for (withnode = 0; withnode <= 1; withnode++) {
      mc_hkey key = {0x9e3779b97f4a7c15ULL, 0x243f6a8885a308d3ULL, 0};
      char what[64];
      mc_kbuf k;
      key.fast = fast;
      mc_key_begin(&k, buf, sizeof(buf), &key);
      mc_key_int(&k, 5);
      mc_key_int(&k, (long long)1 << 62);
      mc_key_flt(&k, 1.5);
      mc_key_flt(&k, 1e300);
      mc_key_str(&k, "ab", 2);
      mc_key_str(&k, "ten bytes!", 10);
      mc_key_str(&k, long_s, sizeof(long_s) - 1);
      mc_key_lud(&k, buf);
      mc_key_tag(&k, MC_KNIL);
      mc_key_tag(&k, MC_KTRUE);
      if (withnode)
        mc_key_tag(&k, MC_KOBJ);
      mc_key_end(&k, withnode ? (const void *)(buf + 1) : NULL);
      snprintf(what, sizeof(what), "rehash, %s mixer%s",
               fast ? "fast" : "SipHash", withnode ? ", a node" : "");
      EQ(what, (uint64_t)mc_key_rehash(buf, k.len, &key),
         (uint64_t)mc_key_hash(&k));
    }
  }
}

static void check_secret(void) {
  mc_hkey a, b;
  mc_secret_fill(&a);
  mc_secret_fill(&b);
  check((a.k0 | a.k1) != 0, "a secret is not zero", a.k0, 1);
  check(a.k0 != b.k0 || a.k1 != b.k1, "two secrets differ", a.k0, b.k0);
}

/* }====================================================== */


int main(void) {
  check_reference();
  check_stream_vectors();
  check_stream_random();
  check_writers();
  check_string_lengths();
  check_node();
  check_rehash();
  check_secret();
  if (failures > 0) {
    printf("%d of %d checks failed\n", failures, checks);
    return 1;
  }
  printf("ok %d\n", checks);
  return 0;
}
