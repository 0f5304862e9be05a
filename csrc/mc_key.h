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

void mc_key_begin(mc_kbuf *k, unsigned char *p, size_t cap);
void mc_key_tag(mc_kbuf *k, int tag);  /* nil, false, true, object */
void mc_key_int(mc_kbuf *k, long long i);
void mc_key_flt(mc_kbuf *k, double n);
void mc_key_str(mc_kbuf *k, const char *s, size_t len);
void mc_key_lud(mc_kbuf *k, const void *p);
void mc_key_end(mc_kbuf *k, const void *node);

/* Reads the items of a key: returns the position after 'it', NULL at end. */
const unsigned char *mc_key_next(const unsigned char *p,
                                 const unsigned char *end, mc_kitem *it);
const unsigned char *mc_key_items(const unsigned char *key, size_t len,
                                  const unsigned char **end);

#endif
