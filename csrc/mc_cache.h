/*
** mc_cache.h: the pure C cache core of methodcache.
**
** A hash table of entries keyed by opaque byte strings (see mc_key.h), with
** one replacement policy per cache (LRU, LFU, FIFO, RR, TTL, TLRU,
** unbounded) and optional weights.  It knows nothing about lua_State: the
** binding (mc_lcache.c) decides what the bytes and the inline value mean.
** All memory comes from a lua_Alloc-shaped allocator, so an embedder's
** allocator and memory limit see it.
**
** Owners ("nodes") group the entries whose value lives in the same Lua table
** (one per object key, see docs/DESIGN.md).  A node can be declared dead at
** any time (from a finalizer): that only marks it.  Its entries turn into
** zombies that no lookup can reach and are freed by mc_cache_purge, which the
** binding calls at the start of each operation.
**
** Holds: while the binding runs code that may reenter it (anything that lets
** the collector run finalizers) with entry or node pointers in hand, it holds
** the cache (mc_cache_hold).  A held cache frees nothing: removed entries are
** detached (state MC_ENTRY_DETACHED, out of every list but still readable)
** and freed nodes wait, until the last hold is released.  So a pointer taken
** under a hold stays valid memory to the end of it; whether it is still in
** the cache is a question the holder asks (mc_entry_live, node->state).
*/
#ifndef mc_cache_h
#define mc_cache_h

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mc_key.h"
#include "mc_visibility.h"

#ifdef MC_CHECK_PARTS
#include <stdlib.h>  /* abort, before the hidden region declares it */
#endif

MC_HIDDEN_BEGIN

typedef void *(*mc_Alloc)(void *ud, void *ptr, size_t osize, size_t nsize);

enum mc_policy {
  MC_LRU, MC_LFU, MC_FIFO, MC_RR, MC_TTL, MC_TLRU, MC_UNBOUNDED, MC_NPOLICIES
};

extern const char *const mc_policy_names[MC_NPOLICIES + 1];

typedef struct mc_link {
  struct mc_link *prev, *next;
} mc_link;

struct mc_budget;           /* a budget across caches (mc_budget.h) */
struct mc_cache;

/* LFU: the entries used 'count' times (mc_cache_check walks them too). */
typedef struct mc_freq {
  mc_link link;             /* in mc_cache.freqs, ascending count */
  mc_link entries;          /* next: most recently used */
  unsigned long long count;
} mc_freq;

/* LIVE: in the tree; DEAD: its object died, entries are zombies until the
** purge; GONE: out of the tree, freed once its children are; FREEING: GONE
** and childless, waiting for the last hold to be released */
enum mc_nodestate { MC_NODE_LIVE, MC_NODE_DEAD, MC_NODE_GONE, MC_NODE_FREEING };

enum mc_entrystate { MC_ENTRY_LIVE, MC_ENTRY_DETACHED };

typedef struct mc_node {
  mc_link entries;          /* entries owned by this node */
  mc_link all;              /* in mc_cache.nodes */
  struct mc_node *parent;   /* node of the previous object key, or NULL */
  struct mc_node *gnext;    /* graveyard chain */
  size_t nentries;
  size_t nchildren;         /* child nodes not yet freed */
  int state;
} mc_node;

/* The binding's inline value: results that need no Lua table. */
typedef union mc_ival {
  double n;
  long long i;
  void *p;
} mc_ival;

/* An entry is a small common header (mc_entry) and, before it in the same
** allocation, the parts only some entries need, at offsets the cache fixes
** once from its policy and options (docs/DESIGN.md, "What an entry costs"):
**
**   [node part]   own, node   entries whose key holds objects (MC_EF_NODE)
**   [weight]      long long   caches that weigh entries (mc_cache_weigh)
**   [policy part]             LFU: freq; TTL: aux (in the heap: index),
**                             expires; TLRU: index, expires;
**                             LRU under a budget: aux, cache
**   mc_entry      header      hnext, order (RR: index), v, hash, keylen,
**                             vtag, flags
**   key           keylen bytes
**
** An entry's pointer is its header's address; nothing reads a part an entry
** may not have: every part is reached through the accessors below. */
typedef struct mc_entry {
  struct mc_entry *hnext;   /* hash chain */
  union {
    mc_link order;          /* policy order (LFU: within its frequency);
                            ** detached: the limbo */
    size_t index;           /* RR (no order): slot in the array */
  } u;
  mc_ival v;                /* binding: inline value (VT_PACK: the count) */
  unsigned hash;
  unsigned keylen;
  unsigned char vtag;       /* binding: how the value is stored */
  unsigned char flags;      /* MC_EF_* */
  unsigned char key[1];     /* keylen bytes (allocated past the header) */
} mc_entry;

#define MC_EF_DETACHED  1   /* out of every list, waiting for the unhold */
#define MC_EF_NODE      2   /* has the node part */
#define MC_EF_HEAP      4   /* TTL: an expiry of its own, in the heap */

typedef struct mc_nodepart {
  mc_link own;              /* in node->entries */
  mc_node *node;            /* where the value lives */
} mc_nodepart;

/* The policy parts end where the header starts, so 'expires' sits at the
** same place in both timed policies, and 'aux' in both parts that have
** one.  A TTL entry is either in the expiry list (by 'aux') or, with an
** expiry of its own (MC_EF_HEAP), in the heap (at 'index'), never both. */
typedef struct mc_ttlpart {
  union { mc_link aux; size_t index; } u;
  double expires;
} mc_ttlpart;
typedef struct mc_tlrupart { size_t index; double expires; } mc_tlrupart;
typedef struct mc_lfupart { mc_freq *freq; } mc_lfupart;
/* LRU under a budget: its recency order across caches, and the cache. */
typedef struct mc_budgetpart {
  mc_link aux;
  struct mc_cache *cache;
} mc_budgetpart;

#define mc_entry_part(e, off, T)  ((T *)(void *)((char *)(e) - (off)))

/* The entry whose policy part holds the link 'aux' 'l' (TTL's expiry
** list, a budget's order): both parts start with it and end at the
** header, at the same distance (the typedef fails to compile if not). */
typedef char mc_aux_parts_agree[(sizeof(mc_ttlpart) == sizeof(mc_budgetpart)
                                 && offsetof(mc_ttlpart, u.aux) == 0) ? 1 : -1];
#define mc_aux_entry(l)  ((mc_entry *)(void *)((char *)(l) + \
                                               sizeof(mc_budgetpart)))

typedef struct mc_stats {
  long long hits, misses, evictions, expirations;
} mc_stats;

typedef struct mc_cache {
  mc_Alloc alloc;
  void *aud;
  int policy;
  long long maxsize;        /* total weight allowed */
  long long currsize;       /* total weight of the entries */
  size_t count;             /* entries, zombies included until purged */
  mc_entry **buckets;
  size_t nbuckets;          /* 0 or a power of 2 */
  mc_hkey hkey;             /* the key of mc_key.h's hash */
  mc_link order;            /* next: kept longest (MRU/newest); prev: victim */
  mc_link aux;              /* TTL: next expires first (the cache's ttl) */
  mc_link freqs;            /* LFU: next is the lowest count */
  mc_entry **arr;           /* RR: all entries; TLRU: min-heap by expiry;
                               TTL: min-heap of the entries with their own */
  size_t alen, acap;
  unsigned long long rng;   /* RR: xorshift state */
  mc_link nodes;            /* every node not yet freed */
  mc_node *graveyard;       /* dead nodes waiting for mc_cache_purge */
  int holds;                /* see "Holds" above */
  mc_link limbo;            /* detached entries (by 'order') while held */
  mc_node *freeing;         /* nodes to free when the last hold goes */
  mc_entry *spare;          /* reserved, not linked (mc_cache_reserve) */
  mc_freq *sparefreq;       /* LFU: the count-1 list the spare will need */
  mc_stats stats;
  unsigned char weighted;   /* entries have a weight part (mc_cache_weigh) */
  unsigned char polpart;    /* bytes of the policy part of every entry */
  unsigned char pre;        /* bytes before the header, node part aside */
  long long bytes;          /* C memory held by this cache */
  long long *total;         /* optional: C memory of all caches of a state */
  struct mc_budget *budget; /* LRU: the budget it is under, or NULL */
} mc_cache;

/* 'hkey' is copied; a hash of the cache's address under it seeds RR. */
void mc_cache_init(mc_cache *c, mc_Alloc f, void *ud, int policy,
                   long long maxsize, const mc_hkey *hkey);
/* From now on entries carry a weight (else each weighs 1).  Only while the
** cache has no entry: it changes where the parts of an entry lie. */
void mc_cache_weigh(mc_cache *c);
/* Puts an LRU cache under a budget (mc_budget_attach): its entries get the
** budget part.  Only while the cache has no entry, as mc_cache_weigh. */
void mc_cache_attach(mc_cache *c, struct mc_budget *b);

/* {======================================================
** Entry parts: the only code that knows where a part lies
** ======================================================= */

/* A debug build (-DMC_CHECK_PARTS: make check-asan, make fuzz) stops at the
** first read of a part that the entry does not have. */
#ifdef MC_CHECK_PARTS
#define mc_part_check(cond)  ((cond) ? (void)0 : abort())
#else
#define mc_part_check(cond)  ((void)0)
#endif

#define mc_entry_live(e)  (((e)->flags & MC_EF_DETACHED) == 0)

/* The node part, after the weight and policy parts. */
static inline mc_nodepart *mc_entry_nodepart(const mc_cache *c,
                                             const mc_entry *e) {
  mc_part_check(e->flags & MC_EF_NODE);
  return mc_entry_part(e, c->pre + sizeof(mc_nodepart), mc_nodepart);
}

/* Where the value lives: NULL for the cache's root. */
static inline mc_node *mc_entry_node(const mc_cache *c, const mc_entry *e) {
  return (e->flags & MC_EF_NODE) ? mc_entry_nodepart(c, e)->node : NULL;
}

/* The link in node->entries: only entries with a node have one. */
static inline mc_link *mc_entry_own(const mc_cache *c, const mc_entry *e) {
  return &mc_entry_nodepart(c, e)->own;
}

static inline long long mc_entry_weight(const mc_cache *c, const mc_entry *e) {
  return c->weighted
    ? *mc_entry_part(e, c->polpart + sizeof(long long), long long) : 1;
}

static inline void mc_entry_setweight(const mc_cache *c, mc_entry *e,
                                      long long w) {
  mc_part_check(c->weighted || w == 1);
  if (c->weighted)
    *mc_entry_part(e, c->polpart + sizeof(long long), long long) = w;
}

/* TTL and TLRU: both parts end with the expiry time. */
static inline double *mc_entry_expiry(const mc_cache *c, const mc_entry *e) {
  mc_part_check(c->policy == MC_TTL || c->policy == MC_TLRU);
  (void)c;
  return mc_entry_part(e, sizeof(double), double);
}

static inline double mc_entry_expires(const mc_cache *c, const mc_entry *e) {
  return *mc_entry_expiry(c, e);
}

/* TTL: whether the entry has an expiry of its own (then it is in the heap,
** and has an index instead of 'aux'). */
#define mc_entry_inheap(e)  (((e)->flags & MC_EF_HEAP) != 0)

/* TTL, out of the heap: the link in the expiry list; LRU under a budget:
** the link in the budget's order. */
static inline mc_link *mc_entry_aux(const mc_cache *c, const mc_entry *e) {
  mc_part_check((c->policy == MC_TTL && !mc_entry_inheap(e)) ||
                (c->policy == MC_LRU && c->budget != NULL));
  (void)c;
  return &mc_entry_part(e, sizeof(mc_budgetpart), mc_budgetpart)->aux;
}

/* LRU under a budget: the cache the entry is in (the budget's victim may
** be any cache's). */
static inline struct mc_cache **mc_entry_cache(const mc_cache *c,
                                               const mc_entry *e) {
  mc_part_check(c->policy == MC_LRU && c->budget != NULL);
  (void)c;
  return &mc_entry_part(e, sizeof(mc_budgetpart), mc_budgetpart)->cache;
}

/* RR: the slot in the array, in the header where others have 'order';
** TLRU: the slot in the heap, in the policy part; TTL, in the heap: the
** same, where an entry of the list has 'aux'. */
static inline size_t *mc_entry_index(const mc_cache *c, const mc_entry *e) {
  mc_part_check(c->policy == MC_RR || c->policy == MC_TLRU ||
                (c->policy == MC_TTL && mc_entry_inheap(e)));
  if (c->policy == MC_RR)
    return (size_t *)(void *)&((char *)(uintptr_t)e)[offsetof(mc_entry, u)];
  if (c->policy == MC_TTL)
    return &mc_entry_part(e, sizeof(mc_ttlpart), mc_ttlpart)->u.index;
  return &mc_entry_part(e, sizeof(mc_tlrupart), mc_tlrupart)->index;
}

/* LFU: the list of the entries used as often. */
static inline mc_freq **mc_entry_freq(const mc_cache *c, const mc_entry *e) {
  mc_part_check(c->policy == MC_LFU);
  (void)c;
  return &mc_entry_part(e, sizeof(mc_lfupart), mc_lfupart)->freq;
}

/* The bytes before the header, and all the bytes of the entry. */
static inline size_t mc_entry_prefix(const mc_cache *c, const mc_entry *e) {
  return c->pre + ((e->flags & MC_EF_NODE) ? sizeof(mc_nodepart) : 0);
}

static inline size_t mc_entry_bytes(const mc_cache *c, size_t keylen,
                                    int hasnode) {
  return c->pre + (hasnode ? sizeof(mc_nodepart) : 0) +
         offsetof(mc_entry, key) + keylen;
}

static inline size_t mc_entry_size(const mc_cache *c, const mc_entry *e) {
  return mc_entry_bytes(c, e->keylen, (e->flags & MC_EF_NODE) != 0);
}

/* }====================================================== */
void mc_cache_free(mc_cache *c);
void mc_cache_seed_rr(mc_cache *c, unsigned long long seed);

/* Keys come hashed (mc_key.h hashes them while encoding).  The lookup is
** inline: it is the hit path of every cached call. */
static inline uint64_t mc_load8(const unsigned char *p) {
  uint64_t w;
  memcpy(&w, p, 8);
  return w;
}

static inline uint16_t mc_load2(const unsigned char *p) {
  uint16_t w;
  memcpy(&w, p, 2);
  return w;
}

static inline uint32_t mc_load4(const unsigned char *p) {
  uint32_t w;
  memcpy(&w, p, 4);
  return w;
}

static inline mc_entry *mc_cache_find(mc_cache *c, const void *key,
                                      size_t len, unsigned h) {
  const unsigned char *k = (const unsigned char *)key;
  mc_entry *e;
  if (c->nbuckets == 0)
    return NULL;
  for (e = c->buckets[h & (c->nbuckets - 1)]; e != NULL; e = e->hnext) {
    if (e->hash == h && e->keylen == len) {
      /* no call of memcmp for the keys of most calls (one number: 2 to 9
      ** bytes; a short string): overlapping loads cover every byte */
      if (len < 4) {  /* an integer below 2^15 in magnitude; nil, a boolean,
                         a string of one byte */
        if (len >= 2 ? mc_load2(e->key) == mc_load2(k) &&
                       e->key[len - 1] == k[len - 1]
                     : len == 0 || e->key[0] == k[0])
          return e;
      }
      else if (len < 8) {
        if (mc_load4(e->key) == mc_load4(k) &&
            mc_load4(e->key + len - 4) == mc_load4(k + len - 4))
          return e;
      }
      else if (len <= 16) {
        if (mc_load8(e->key) == mc_load8(k) &&
            mc_load8(e->key + len - 8) == mc_load8(k + len - 8))
          return e;
      }
      else if (memcmp(e->key, key, len) == 0)
        return e;
    }
  }
  return NULL;
}

/* The entries after 'e' (from the first if NULL) with hash 'h' and length
** 'len': the candidates a caller compares a key with in its own way. */
static inline mc_entry *mc_cache_probe(mc_cache *c, unsigned h, size_t len,
                                       mc_entry *e) {
  if (c->nbuckets == 0)
    return NULL;
  for (e = e ? e->hnext : c->buckets[h & (c->nbuckets - 1)]; e != NULL;
       e = e->hnext)
    if (e->hash == h && e->keylen == len)
      return e;
  return NULL;
}

/* Whether 'weight' fits with the entries other than 'e' (NULL: all), with
** no overflow: the binding evicts until it does, then inserts or updates. */
static inline int mc_cache_fits(const mc_cache *c, long long weight,
                                const mc_entry *e) {
  long long others = c->currsize - (e != NULL ? mc_entry_weight(c, e) : 0);
  return weight <= c->maxsize && others <= c->maxsize - weight;
}

/* Allocates and links a new entry (the key must not be present); NULL when
** out of memory.  The caller makes room first (mc_cache_fits).  A caller
** that writes the key itself uses mc_cache_reserve and mc_cache_link: the
** link may rehash every key from its bytes (mc_key.h, "Two mixers"). */
mc_entry *mc_cache_insert(mc_cache *c, const void *key, size_t len,
                          unsigned h, long long weight, mc_node *node);
/* mc_cache_insert in two steps, for a caller that must do something that
** can fail between them (the binding stores the value, keyed by the
** entry's address): reserve allocates everything the entry will need and
** returns it unlinked, for its key to be written; link links it and cannot
** fail.  Nothing may change the cache in between.  An entry reserved and
** never linked is freed by the next reserve or by mc_cache_free.  An entry
** reserved with 'hasnode' has room for a node (and must be linked with
** one); without, it must be linked with node NULL. */
mc_entry *mc_cache_reserve(mc_cache *c, size_t len, int hasnode);
void mc_cache_link(mc_cache *c, mc_entry *e, unsigned h, long long weight,
                   mc_node *node);
/* A hit: refresh recency/frequency as the policy says.  LRU, the common
** case, is inline: moving an entry to the front is a few stores. */
void mc_cache_touch_policy(mc_cache *c, mc_entry *e);

void mc_budget_touch(struct mc_budget *b, mc_link *aux);

static inline void mc_cache_touch(mc_cache *c, mc_entry *e) {
  if (c->policy == MC_LRU) {
    mc_link *x = &e->u.order, *h = &c->order;
    if (h->next != x) {
      x->prev->next = x->next;
      x->next->prev = x->prev;
      x->prev = h;
      x->next = h->next;
      h->next->prev = x;
      h->next = x;
    }
    if (c->budget != NULL)
      mc_budget_touch(c->budget, mc_entry_aux(c, e));
  }
  else
    mc_cache_touch_policy(c, e);
}
/* A set on an existing entry: new weight (it must fit, mc_cache_fits) and
** expiry (TTL, TLRU; nothing elsewhere), policy update. */
void mc_cache_update(mc_cache *c, mc_entry *e, long long weight);
void mc_cache_setexpiry(mc_cache *c, mc_entry *e, double expires);
/* The same for an expiry of the entry's own (a ttl given to set) instead of
** the cache's: TTL moves the entry into its heap (see mc_cache.c), which
** needs room that mc_cache_reserve_own makes; it returns 0 when out of
** memory, and changes nothing else, so it goes before a reserve or update.
** Other policies: mc_cache_setexpiry, and the reserve always succeeds. */
int mc_cache_reserve_own(mc_cache *c);
void mc_cache_setexpiry_own(mc_cache *c, mc_entry *e, double expires);
/* Unlinks one entry and frees it (detaches it while held). */
void mc_cache_remove(mc_cache *c, mc_entry *e);
void mc_cache_hold(mc_cache *c);
void mc_cache_unhold(mc_cache *c);
/* The entry to evict next, never 'avoid' (NULL if there is none). */
mc_entry *mc_cache_victim(mc_cache *c, const mc_entry *avoid);
/* The first entry whose expiry time has passed at 'now', or NULL. */
mc_entry *mc_cache_expired(mc_cache *c, double now);
/* Iteration, the entry that would be evicted last first. */
mc_entry *mc_cache_next(mc_cache *c, mc_entry *e);

mc_node *mc_node_new(mc_cache *c, mc_node *parent);
void mc_node_kill(mc_cache *c, mc_node *n);   /* from a finalizer: mark only */
void mc_node_detach(mc_cache *c, mc_node *n); /* an empty node left the tree */
void mc_cache_purge(mc_cache *c);
/* Every entry goes (the binding has dropped the values). */
void mc_cache_clear(mc_cache *c);

/* Hash chain statistics, for the specs (see mc_cache.c). */
void mc_cache_chains(const mc_cache *c, size_t *longest, size_t *probes);

#define mc_cache_dirty(c)  ((c)->graveyard != NULL)

/* Walks the whole structure (O(entries + nodes + buckets)) and checks its
** invariants: counts, weights, bytes, links, policy order, nodes, what
** holds and reserves keep, SipHash hashes against the keys.  Returns
** 1, or 0 with the first broken invariant written into 'why'.  For tests,
** fuzzers and debug builds; it changes nothing. */
int mc_cache_check(const mc_cache *c, char *why, size_t whylen);

MC_HIDDEN_END

#endif
