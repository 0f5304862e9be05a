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

typedef struct mc_entry {
  struct mc_entry *hnext;   /* hash chain */
  mc_link order;            /* policy order (LFU: within its frequency) */
  mc_link aux;              /* TTL: expiry order; self-linked: in the
                               heap, with an expiry of its own.  LRU under
                               a budget: the budget's recency order */
  mc_link own;              /* in node->entries, when node != NULL */
  mc_node *node;            /* where the value lives; NULL: the cache root */
  union {
    mc_freq *freq;          /* LFU */
    size_t index;           /* RR: slot in the array; TLRU, TTL: heap slot */
    struct mc_cache *cache; /* LRU under a budget: its cache */
  } pol;
  double expires;           /* TTL, TLRU */
  long long weight;
  unsigned hash;
  unsigned keylen;
  int nres;                 /* binding: number of values */
  unsigned char vtag;       /* binding: how the value is stored */
  unsigned char state;      /* mc_entrystate */
  mc_ival v;                /* binding: inline value */
  unsigned char key[1];     /* keylen bytes (allocated past the struct) */
} mc_entry;

/* The bytes an entry with a key of 'keylen' bytes takes. */
static inline size_t mc_entry_size(size_t keylen) {
  return offsetof(mc_entry, key) + (keylen > 0 ? keylen : 1);
}

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
  long long bytes;          /* C memory held by this cache */
  long long *total;         /* optional: C memory of all caches of a state */
  struct mc_budget *budget; /* LRU: the budget it is under, or NULL */
} mc_cache;

/* 'hkey' is copied; a hash of the cache's address under it seeds RR. */
void mc_cache_init(mc_cache *c, mc_Alloc f, void *ud, int policy,
                   long long maxsize, const mc_hkey *hkey);
void mc_cache_free(mc_cache *c);
void mc_cache_seed_rr(mc_cache *c, unsigned long long seed);

/* Keys come hashed (mc_key.h hashes them while encoding).  The lookup is
** inline: it is the hit path of every cached call. */
static inline uint64_t mc_load8(const unsigned char *p) {
  uint64_t w;
  memcpy(&w, p, 8);
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
      if (len >= 8 && len <= 16) {
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

#define mc_entry_live(e)  ((e)->state == MC_ENTRY_LIVE)

/* Whether 'weight' fits with the entries other than 'e' (NULL: all), with
** no overflow: the binding evicts until it does, then inserts or updates. */
static inline int mc_cache_fits(const mc_cache *c, long long weight,
                                const mc_entry *e) {
  long long others = c->currsize - (e != NULL ? e->weight : 0);
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
** never linked is freed by the next reserve or by mc_cache_free. */
mc_entry *mc_cache_reserve(mc_cache *c, size_t len);
void mc_cache_link(mc_cache *c, mc_entry *e, unsigned h, long long weight,
                   mc_node *node);
/* A hit: refresh recency/frequency as the policy says.  LRU, the common
** case, is inline: moving an entry to the front is a few stores. */
void mc_cache_touch_policy(mc_cache *c, mc_entry *e);

void mc_budget_touch(struct mc_budget *b, mc_entry *e);

static inline void mc_cache_touch(mc_cache *c, mc_entry *e) {
  if (c->policy == MC_LRU) {
    mc_link *x = &e->order, *h = &c->order;
    if (h->next != x) {
      x->prev->next = x->next;
      x->next->prev = x->prev;
      x->prev = h;
      x->next = h->next;
      h->next->prev = x;
      h->next = x;
    }
    if (c->budget != NULL)
      mc_budget_touch(c->budget, e);
  }
  else
    mc_cache_touch_policy(c, e);
}
/* A set on an existing entry: new weight (it must fit, mc_cache_fits) and
** expiry, policy update. */
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
