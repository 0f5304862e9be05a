/*
** mc_cache.c: hash table, replacement policies and owner nodes.
** See mc_cache.h for the contract; docs/DESIGN.md for why it is shaped so.
**
** Every operation is O(1) but TLRU's (a binary heap by expiry time, as in
** cachetools, O(log n)), TTL's for entries with an expiry of their own (the
** same heap, O(log m) for m such entries) and hash growth (amortized).
**
** TTL keeps two expiry structures: entries that expire after the cache's
** ttl are set in time order, so a list ('aux', appended at the tail) keeps
** them sorted in O(1); an entry given its own ttl (mc_cache_setexpiry_own)
** would break that order, so it waits in the heap instead.  An entry is in
** exactly one of them: in the heap when its flag MC_EF_HEAP is set, and
** then its policy part holds the heap index where the others have 'aux'.
** The next to expire is the earlier of the list's head and the heap's top.
*/
#include <string.h>
#include <stdint.h>

#include "mc_cache.h"
#include "mc_budget.h"

const char *const mc_policy_names[MC_NPOLICIES + 1] = {
  "lru", "lfu", "fifo", "rr", "ttl", "tlru", "unbounded", NULL
};

#define container(p, T, field)  ((T *)(void *)((char *)(p) - offsetof(T, field)))
#define entry_of(l)             container(l, mc_entry, u.order)

/* The entry whose node part holds the link 'l' of node->entries. */
static mc_entry *own_entry(const mc_cache *c, mc_link *l) {
  return (mc_entry *)(void *)((char *)container(l, mc_nodepart, own) +
                              sizeof(mc_nodepart) + c->pre);
}

/* TTL: the policy part that holds the expiry link 'a'. */
#define aux_part(a)   container(a, mc_ttlpart, u.aux)

/* {======================================================
** Lists
** ======================================================= */

static void list_init(mc_link *l) {
  l->prev = l->next = l;
}

static int list_empty(const mc_link *l) {
  return l->next == l;
}

/* Inserts 'x' right after 'at'. */
static void list_after(mc_link *at, mc_link *x) {
  x->prev = at;
  x->next = at->next;
  at->next->prev = x;
  at->next = x;
}

/* Inserts 'x' right before 'at' (at the tail when 'at' is the head). */
static void list_before(mc_link *at, mc_link *x) {
  list_after(at->prev, x);
}

static void list_unlink(mc_link *x) {
  x->prev->next = x->next;
  x->next->prev = x->prev;
  x->prev = x->next = x;
}

/* }====================================================== */


/* The collector does not see memory taken through the allocator directly,
** so each cache counts its own (stats().bytes, methodcache.memory()). */
static void account(mc_cache *c, long long delta) {
  c->bytes += delta;
  if (c->total != NULL)
    *c->total += delta;
}

static void *mem_realloc(mc_cache *c, void *p, size_t osize, size_t nsize) {
  void *np = c->alloc(c->aud, p, osize, nsize);
  if (np != NULL || nsize == 0)
    account(c, (long long)nsize - (long long)(p != NULL ? osize : 0));
  return np;
}

static void *mem_alloc(mc_cache *c, size_t n) {
  return mem_realloc(c, NULL, 0, n);
}

static void mem_free(mc_cache *c, void *p, size_t n) {
  if (p != NULL)
    mem_realloc(c, p, n, 0);
}

static void entry_free(mc_cache *c, mc_entry *e) {
  mem_free(c, (char *)e - mc_entry_prefix(c, e), mc_entry_size(c, e));
}

/* The parts every entry of this cache has before its header (see
** mc_cache.h): the policy part, then the weight. */
static void layout(mc_cache *c) {
  switch (c->policy) {
    case MC_LFU: c->polpart = sizeof(mc_lfupart); break;
    case MC_TTL: c->polpart = sizeof(mc_ttlpart); break;
    case MC_TLRU: c->polpart = sizeof(mc_tlrupart); break;
    case MC_LRU:
      c->polpart = c->budget != NULL ? sizeof(mc_budgetpart) : 0;
      break;
    default: c->polpart = 0; break;
  }
  c->pre = (unsigned char)(c->polpart + (c->weighted ? sizeof(long long) : 0));
}


void mc_cache_init(mc_cache *c, mc_Alloc f, void *ud, int policy,
                   long long maxsize, const mc_hkey *hkey) {
  mc_kbuf k;
  memset(c, 0, sizeof(*c));
  c->alloc = f;
  c->aud = ud;
  c->policy = policy;
  c->maxsize = maxsize;
  c->hkey = *hkey;
  /* RR's default seed: the hash of the cache's address, so that caches
  ** differ, and the order of evictions, which a user sees, tells nothing
  ** about the key (xorshift's state, unlike SipHash, is easy to invert) */
  mc_key_begin(&k, NULL, 0, hkey);
  mc_key_word(&k, (uint64_t)(uintptr_t)c);
  mc_key_end(&k, NULL);
  mc_cache_seed_rr(c, k.h);
  c->hkey.fast = 1;  /* until a chain grows long (mc_key.h) */
  list_init(&c->order);
  list_init(&c->aux);
  list_init(&c->freqs);
  list_init(&c->nodes);
  list_init(&c->limbo);
  layout(c);
}

/* Whether nothing has the cache's layout yet: entries, the spare, the
** limbo. */
static int layout_free(const mc_cache *c) {
  return c->count == 0 && c->spare == NULL && list_empty(&c->limbo);
}

void mc_cache_weigh(mc_cache *c) {
  if (layout_free(c)) {
    c->weighted = 1;
    layout(c);
  }
}

void mc_cache_attach(mc_cache *c, struct mc_budget *b) {
  if (c->policy == MC_LRU && layout_free(c)) {
    c->budget = b;
    layout(c);
  }
}

void mc_cache_seed_rr(mc_cache *c, unsigned long long seed) {
  /* xorshift must never start at 0 */
  c->rng = seed * 0x9E3779B97F4A7C15ULL + 0x2545F4914F6CDD1DULL;
  if (c->rng == 0)
    c->rng = 1;
}

static unsigned long long rng_next(mc_cache *c) {
  unsigned long long x = c->rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  c->rng = x;
  return x * 0x2545F4914F6CDD1DULL;
}

/* Uniform in [0, n) without modulo bias. */
static size_t rng_below(mc_cache *c, size_t n) {
  unsigned long long limit = ~0ULL - (~0ULL % n);
  unsigned long long x;
  do {
    x = rng_next(c);
  } while (x >= limit);
  return (size_t)(x % n);
}


/* {======================================================
** The hash table (mc_cache_find is inline, in mc_cache.h)
** ======================================================= */

/* Doubles the bucket array; a failed allocation just keeps longer chains. */
static void rehash(mc_cache *c) {
  size_t n = c->nbuckets ? c->nbuckets * 2 : 8;
  mc_entry **nb = (mc_entry **)mem_alloc(c, n * sizeof(mc_entry *));
  size_t i;
  if (nb == NULL)
    return;
  for (i = 0; i < n; i++)
    nb[i] = NULL;
  for (i = 0; i < c->nbuckets; i++) {
    mc_entry *e = c->buckets[i];
    while (e != NULL) {
      mc_entry *next = e->hnext;
      size_t b = e->hash & (n - 1);
      e->hnext = nb[b];
      nb[b] = e;
      e = next;
    }
  }
  mem_free(c, c->buckets, c->nbuckets * sizeof(mc_entry *));
  c->buckets = nb;
  c->nbuckets = n;
}

/* A chain grew to MC_KEY_CHAINMAX: keys that collide under the fast mixer
** whatever the secret.  From now on SipHash, and every entry is rehashed
** from its bytes into the same buckets. */
static void harden(mc_cache *c) {
  mc_entry *all = NULL, *e;
  size_t i;
  c->hkey.fast = 0;
  for (i = 0; i < c->nbuckets; i++) {
    while ((e = c->buckets[i]) != NULL) {
      c->buckets[i] = e->hnext;
      e->hnext = all;
      all = e;
    }
  }
  while ((e = all) != NULL) {
    size_t b;
    all = e->hnext;
    e->hash = mc_key_rehash(e->key, e->keylen, &c->hkey);
    b = e->hash & (c->nbuckets - 1);
    e->hnext = c->buckets[b];
    c->buckets[b] = e;
  }
}

/* With the fast mixer: whether the chain of 'e' (just linked first in its
** bucket) is long enough to be an attack. */
static int chain_too_long(const mc_entry *e) {
  int n = 0;
  for (; e != NULL; e = e->hnext)
    if (++n >= MC_KEY_CHAINMAX)
      return 1;
  return 0;
}

static void hash_unlink(mc_cache *c, mc_entry *e) {
  mc_entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];
  while (*pp != e)
    pp = &(*pp)->hnext;
  *pp = e->hnext;
}

/* For the specs (core._chains): the longest chain, and the key comparisons
** that finding every entry once takes (a chain of n costs 1 + 2 + ... + n).
** Both measure how well the hash spreads keys, without timing anything. */
void mc_cache_chains(const mc_cache *c, size_t *longest, size_t *probes) {
  size_t i;
  *longest = 0;
  *probes = 0;
  for (i = 0; i < c->nbuckets; i++) {
    const mc_entry *e;
    size_t n = 0;
    for (e = c->buckets[i]; e != NULL; e = e->hnext)
      *probes += ++n;
    if (n > *longest)
      *longest = n;
  }
}

/* }====================================================== */


/* {======================================================
** LFU frequency lists
** ======================================================= */

static mc_freq *freq_new(mc_cache *c, mc_link *after, unsigned long long n) {
  mc_freq *f = (mc_freq *)mem_alloc(c, sizeof(mc_freq));
  if (f == NULL)
    return NULL;
  f->count = n;
  list_init(&f->entries);
  list_after(after, &f->link);
  return f;
}

static void freq_drop_if_empty(mc_cache *c, mc_freq *f) {
  if (list_empty(&f->entries)) {
    list_unlink(&f->link);
    mem_free(c, f, sizeof(mc_freq));
  }
}

/* Moves 'e' to the list of count + 1; if that list cannot be allocated the
** entry keeps its count (its age in the list still refreshes). */
static void freq_bump(mc_cache *c, mc_entry *e) {
  mc_freq **pf = mc_entry_freq(c, e);
  mc_freq *f = *pf;
  mc_link *nl = f->link.next;
  mc_freq *nf = (nl != &c->freqs) ? container(nl, mc_freq, link) : NULL;
  if (nf == NULL || nf->count != f->count + 1) {
    if (list_empty(&f->entries) || f->entries.next->next == &f->entries) {
      /* 'e' is alone: its list can take the new count in place */
      f->count++;
      return;
    }
    nf = freq_new(c, &f->link, f->count + 1);
    if (nf == NULL) {
      list_unlink(&e->u.order);
      list_after(&f->entries, &e->u.order);
      return;
    }
  }
  list_unlink(&e->u.order);
  list_after(&nf->entries, &e->u.order);
  *pf = nf;
  freq_drop_if_empty(c, f);
}

/* }====================================================== */


/* {======================================================
** Arrays: RR's bag of entries and TLRU's expiry heap
** ======================================================= */

static int arr_reserve(mc_cache *c) {
  if (c->alen == c->acap) {
    size_t n = c->acap ? c->acap * 2 : 8;
    unsigned long long most = (unsigned long long)c->maxsize + 1;
    mc_entry **na;
    /* an unweighted cache holds at most maxsize entries, and one more while
    ** it stores: a full cache of 10^5 then takes 8 bytes of array per
    ** entry, not the 10.5 of a doubling to 131,072.  Only a preference:
    ** should a cache ever hold more, its array goes on doubling. */
    if (!c->weighted && c->maxsize >= 0 && c->acap < most && n > most)
      n = (size_t)most;
    na = (mc_entry **)mem_realloc(c, c->arr, c->acap * sizeof(mc_entry *),
                                  n * sizeof(mc_entry *));
    if (na == NULL)
      return 0;
    c->arr = na;
    c->acap = n;
  }
  return 1;
}

static void arr_set(mc_cache *c, size_t i, mc_entry *e) {
  c->arr[i] = e;
  *mc_entry_index(c, e) = i;
}

#define expires_of(c, i)  mc_entry_expires(c, (c)->arr[i])

static void heap_up(mc_cache *c, size_t i) {
  mc_entry *e = c->arr[i];
  double t = mc_entry_expires(c, e);
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (!(t < expires_of(c, p)))
      break;
    arr_set(c, i, c->arr[p]);
    i = p;
  }
  arr_set(c, i, e);
}

static void heap_down(mc_cache *c, size_t i) {
  mc_entry *e = c->arr[i];
  double t = mc_entry_expires(c, e);
  for (;;) {
    size_t l = 2 * i + 1, m;
    if (l >= c->alen)
      break;
    m = (l + 1 < c->alen && expires_of(c, l + 1) < expires_of(c, l))
        ? l + 1 : l;
    if (!(expires_of(c, m) < t))
      break;
    arr_set(c, i, c->arr[m]);
    i = m;
  }
  arr_set(c, i, e);
}

/* After the expiry of 'e' changed from 'old'. */
static void heap_fix(mc_cache *c, mc_entry *e, double old) {
  if (mc_entry_expires(c, e) < old)
    heap_up(c, *mc_entry_index(c, e));
  else
    heap_down(c, *mc_entry_index(c, e));
}

static void arr_remove(mc_cache *c, mc_entry *e) {
  size_t i = *mc_entry_index(c, e);
  mc_entry *last = c->arr[--c->alen];
  if (last == e)
    return;
  arr_set(c, i, last);
  if (c->policy != MC_RR) {  /* TLRU, TTL: a heap */
    heap_up(c, i);
    heap_down(c, *mc_entry_index(c, last));
  }
}

/* }====================================================== */


static void drop_spare(mc_cache *c) {
  if (c->spare != NULL) {
    entry_free(c, c->spare);
    c->spare = NULL;
  }
}

mc_entry *mc_cache_reserve(mc_cache *c, size_t len, int hasnode) {
  mc_entry *e;
  char *p;
  size_t pre = c->pre + (hasnode ? sizeof(mc_nodepart) : 0);
  if (len > 0xFFFFFFFFu)
    return NULL;
  drop_spare(c);
  /* at most one entry per bucket: 8 to 16 bytes of buckets per entry (at
  ** most one per two buckets was 16 to 32, a quarter of an entry) for
  ** chains of 1.5 entries on average, not 1.25, on a hit; measured, the
  ** same instructions per hit (docs/DESIGN.md) */
  if (c->count >= c->nbuckets)
    rehash(c);
  if (c->nbuckets == 0)
    return NULL;
  if ((c->policy == MC_RR || c->policy == MC_TLRU) && !arr_reserve(c))
    return NULL;
  if (c->policy == MC_LFU && c->sparefreq == NULL) {
    mc_link *first = c->freqs.next;
    if (first == &c->freqs || container(first, mc_freq, link)->count != 1) {
      c->sparefreq = (mc_freq *)mem_alloc(c, sizeof(mc_freq));
      if (c->sparefreq == NULL)
        return NULL;
    }
  }
  p = (char *)mem_alloc(c, mc_entry_bytes(c, len, hasnode));
  if (p == NULL)
    return NULL;
  memset(p, 0, pre + offsetof(mc_entry, key));
  e = (mc_entry *)(void *)(p + pre);
  e->keylen = (unsigned)len;
  e->flags = hasnode ? MC_EF_NODE : 0;
  c->spare = e;
  return e;
}

void mc_cache_link(mc_cache *c, mc_entry *e, unsigned h, long long weight,
                   mc_node *node) {
  mc_freq *f = NULL;
  c->spare = NULL;
  mc_part_check((node != NULL) == ((e->flags & MC_EF_NODE) != 0));
  if (c->policy == MC_LFU) {
    mc_link *first = c->freqs.next;
    if (first != &c->freqs && container(first, mc_freq, link)->count == 1)
      f = container(first, mc_freq, link);
    else {  /* mc_cache_reserve made it */
      f = c->sparefreq;
      c->sparefreq = NULL;
      f->count = 1;
      list_init(&f->entries);
      list_after(&c->freqs, &f->link);
    }
  }
  e->hash = h;
  mc_entry_setweight(c, e, weight);
  e->hnext = c->buckets[h & (c->nbuckets - 1)];
  c->buckets[h & (c->nbuckets - 1)] = e;
  if (c->hkey.fast && e->hnext != NULL && chain_too_long(e))
    harden(c);
  switch (c->policy) {
    case MC_LFU:
      *mc_entry_freq(c, e) = f;
      list_after(&f->entries, &e->u.order);
      break;
    case MC_RR:
      arr_set(c, c->alen++, e);
      break;
    case MC_TLRU:
      *mc_entry_expiry(c, e) = 0;  /* mc_cache_setexpiry places it */
      arr_set(c, c->alen++, e);
      heap_up(c, *mc_entry_index(c, e));
      list_after(&c->order, &e->u.order);
      break;
    case MC_TTL:
      /* until its mc_cache_setexpiry, as late as the last one set: the
      ** list stays sorted */
      if (!list_empty(&c->aux))
        *mc_entry_expiry(c, e) = aux_part(c->aux.prev)->expires;
      list_before(&c->aux, mc_entry_aux(c, e));
      list_after(&c->order, &e->u.order);
      break;
    default:
      list_after(&c->order, &e->u.order);
      if (c->budget != NULL)
        mc_budget_link(c->budget, c, e);
      break;
  }
  if (e->flags & MC_EF_NODE) {
    mc_entry_nodepart(c, e)->node = node;
    list_after(&node->entries, mc_entry_own(c, e));
    node->nentries++;
  }
  c->count++;
  c->currsize += weight;
}

mc_entry *mc_cache_insert(mc_cache *c, const void *key, size_t len,
                          unsigned h, long long weight, mc_node *node) {
  mc_entry *e = mc_cache_reserve(c, len, node != NULL);
  if (e == NULL)
    return NULL;
  memcpy(e->key, key, len);
  mc_cache_link(c, e, h, weight, node);
  return e;
}

void mc_cache_touch_policy(mc_cache *c, mc_entry *e) {
  switch (c->policy) {
    case MC_LRU: case MC_TTL: case MC_TLRU:
      if (c->order.next != &e->u.order) {
        list_unlink(&e->u.order);
        list_after(&c->order, &e->u.order);
      }
      if (c->budget != NULL)
        mc_budget_touch(c->budget, mc_entry_aux(c, e));
      break;
    case MC_LFU:
      freq_bump(c, e);
      break;
    default:  /* FIFO, RR, unbounded: a read changes nothing */
      break;
  }
}

void mc_cache_update(mc_cache *c, mc_entry *e, long long weight) {
  c->currsize += weight - mc_entry_weight(c, e);
  if (c->budget != NULL)
    c->budget->size += weight - mc_entry_weight(c, e);
  mc_entry_setweight(c, e, weight);
  switch (c->policy) {
    case MC_FIFO: case MC_UNBOUNDED:
      /* as cachetools' FIFOCache: a key set again counts as new */
      list_unlink(&e->u.order);
      list_after(&c->order, &e->u.order);
      break;
    case MC_RR:
      break;
    default:
      mc_cache_touch(c, e);
      break;
  }
}

void mc_cache_setexpiry(mc_cache *c, mc_entry *e, double expires) {
  double *t, old;
  if (c->policy != MC_TTL && c->policy != MC_TLRU)
    return;  /* its entries have no expiry part */
  t = mc_entry_expiry(c, e);
  old = *t;
  *t = expires;
  if (c->policy == MC_TTL) {
    /* a set renews the entry: it now expires last; the expiry list stays
    ** sorted even if the timer went back (then the entry lives as long as
    ** the one before it) */
    mc_link *a;
    if (mc_entry_inheap(e)) {  /* it had an expiry of its own */
      arr_remove(c, e);
      e->flags &= (unsigned char)~MC_EF_HEAP;
      a = mc_entry_aux(c, e);
    }
    else {
      a = mc_entry_aux(c, e);
      list_unlink(a);
    }
    list_before(&c->aux, a);
    if (a->prev != &c->aux && aux_part(a->prev)->expires > expires)
      *t = aux_part(a->prev)->expires;
  }
  else
    heap_fix(c, e, old);
}

int mc_cache_reserve_own(mc_cache *c) {
  return c->policy != MC_TTL || arr_reserve(c);
}

void mc_cache_setexpiry_own(mc_cache *c, mc_entry *e, double expires) {
  double *t, old;
  if (c->policy != MC_TTL) {
    mc_cache_setexpiry(c, e, expires);
    return;
  }
  t = mc_entry_expiry(c, e);
  old = *t;
  *t = expires;
  if (mc_entry_inheap(e))
    heap_fix(c, e, old);
  else {  /* out of the list, into the heap (mc_cache_reserve_own made room) */
    list_unlink(mc_entry_aux(c, e));
    e->flags |= MC_EF_HEAP;
    arr_set(c, c->alen++, e);
    heap_up(c, *mc_entry_index(c, e));
  }
}

/* Out of the node's list: the node part stays readable (the binding may
** still ask a detached entry for its node). */
static void own_unlink(mc_cache *c, mc_entry *e) {
  if (e->flags & MC_EF_NODE) {
    list_unlink(mc_entry_own(c, e));
    mc_entry_node(c, e)->nentries--;
  }
}

/* A removed entry someone may still read while the cache is held: in the
** limbo, by 'order' (an RR entry's index is no longer needed). */
static void detach(mc_cache *c, mc_entry *e) {
  e->flags |= MC_EF_DETACHED;
  list_after(&c->limbo, &e->u.order);
}

void mc_cache_remove(mc_cache *c, mc_entry *e) {
  hash_unlink(c, e);
  switch (c->policy) {
    case MC_LFU: {
      mc_freq *f = *mc_entry_freq(c, e);
      list_unlink(&e->u.order);
      freq_drop_if_empty(c, f);
      break;
    }
    case MC_RR:
      arr_remove(c, e);
      break;
    case MC_TLRU:
      arr_remove(c, e);
      list_unlink(&e->u.order);
      break;
    case MC_TTL:
      if (mc_entry_inheap(e))
        arr_remove(c, e);
      else
        list_unlink(mc_entry_aux(c, e));
      list_unlink(&e->u.order);
      break;
    default:
      list_unlink(&e->u.order);
      if (c->budget != NULL)  /* out of the budget's order */
        list_unlink(mc_entry_aux(c, e));
      break;
  }
  own_unlink(c, e);
  c->count--;
  c->currsize -= mc_entry_weight(c, e);
  if (c->budget != NULL)
    c->budget->size -= mc_entry_weight(c, e);
  if (c->holds > 0)  /* someone may still read it: detach only */
    detach(c, e);
  else
    entry_free(c, e);
}

static mc_entry *victim_after(mc_cache *c, mc_entry *e) {
  /* the next candidate after 'e' in eviction order, for 'avoid' */
  switch (c->policy) {
    case MC_LFU: {
      mc_freq *f = *mc_entry_freq(c, e);
      if (e->u.order.prev != &f->entries)
        return entry_of(e->u.order.prev);
      if (f->link.next == &c->freqs)
        return NULL;
      f = container(f->link.next, mc_freq, link);
      return entry_of(f->entries.prev);
    }
    default:
      return e->u.order.prev != &c->order ? entry_of(e->u.order.prev) : NULL;
  }
}

mc_entry *mc_cache_victim(mc_cache *c, const mc_entry *avoid) {
  mc_entry *e;
  if (c->count == 0)
    return NULL;
  switch (c->policy) {
    case MC_UNBOUNDED:
      return NULL;
    case MC_RR: {
      size_t i;
      if (c->alen == 0 || (c->alen == 1 && c->arr[0] == avoid))
        return NULL;
      do {
        i = rng_below(c, c->alen);
      } while (c->arr[i] == avoid);
      return c->arr[i];
    }
    case MC_LFU: {
      mc_freq *f = container(c->freqs.next, mc_freq, link);
      e = entry_of(f->entries.prev);
      break;
    }
    default:
      e = entry_of(c->order.prev);
      break;
  }
  return (e == avoid) ? victim_after(c, e) : e;
}

mc_entry *mc_cache_expired(mc_cache *c, double now) {
  mc_entry *e = NULL;
  if (c->policy == MC_TTL && !list_empty(&c->aux))
    e = mc_aux_entry(c->aux.next);
  if ((c->policy == MC_TLRU || c->policy == MC_TTL) && c->alen > 0 &&
      (e == NULL || mc_entry_expires(c, c->arr[0]) < mc_entry_expires(c, e)))
    e = c->arr[0];
  return (e != NULL && !(now < mc_entry_expires(c, e))) ? e : NULL;
}

mc_entry *mc_cache_next(mc_cache *c, mc_entry *e) {
  switch (c->policy) {
    case MC_RR: {
      size_t i = (e == NULL) ? c->alen : *mc_entry_index(c, e);
      return i > 0 ? c->arr[i - 1] : NULL;
    }
    case MC_LFU: {
      mc_freq *f;
      if (e == NULL) {
        if (list_empty(&c->freqs))
          return NULL;
        f = container(c->freqs.prev, mc_freq, link);
        return entry_of(f->entries.next);
      }
      f = *mc_entry_freq(c, e);
      if (e->u.order.next != &f->entries)
        return entry_of(e->u.order.next);
      if (f->link.prev == &c->freqs)
        return NULL;
      f = container(f->link.prev, mc_freq, link);
      return entry_of(f->entries.next);
    }
    default: {
      mc_link *l = (e == NULL) ? c->order.next : e->u.order.next;
      return l != &c->order ? entry_of(l) : NULL;
    }
  }
}


/* {======================================================
** Nodes
** ======================================================= */

mc_node *mc_node_new(mc_cache *c, mc_node *parent) {
  mc_node *n = (mc_node *)mem_alloc(c, sizeof(mc_node));
  if (n == NULL)
    return NULL;
  list_init(&n->entries);
  list_after(&c->nodes, &n->all);
  n->parent = parent;
  n->gnext = NULL;
  n->nentries = 0;
  n->nchildren = 0;
  n->state = MC_NODE_LIVE;
  if (parent != NULL)
    parent->nchildren++;
  return n;
}

/* Frees 'n' and then any ancestor that was only waiting for its children;
** while the cache is held, queues 'n' instead. */
static void node_release(mc_cache *c, mc_node *n) {
  while (n != NULL && n->state == MC_NODE_GONE && n->nchildren == 0) {
    mc_node *p = n->parent;
    if (c->holds > 0) {
      n->state = MC_NODE_FREEING;
      n->gnext = c->freeing;
      c->freeing = n;
      return;
    }
    list_unlink(&n->all);
    mem_free(c, n, sizeof(mc_node));
    if (p != NULL)
      p->nchildren--;
    n = p;
  }
}

void mc_node_kill(mc_cache *c, mc_node *n) {
  if (n->state == MC_NODE_LIVE) {
    n->state = MC_NODE_DEAD;
    n->gnext = c->graveyard;
    c->graveyard = n;
  }
}

void mc_node_detach(mc_cache *c, mc_node *n) {
  if (n->state == MC_NODE_LIVE) {
    n->state = MC_NODE_GONE;
    node_release(c, n);
  }
}

void mc_cache_hold(mc_cache *c) {
  c->holds++;
}

/* Empties a chain of nodes linked by gnext (graveyard, freeing) whose
** entries are gone: each is GONE, and freed if it has no children. */
static void release_chain(mc_cache *c, mc_node **chain) {
  while (*chain != NULL) {
    mc_node *n = *chain;
    *chain = n->gnext;
    n->state = MC_NODE_GONE;
    node_release(c, n);
  }
}

/* The last hold gone, frees what waited for it. */
static void reap(mc_cache *c) {
  while (!list_empty(&c->limbo)) {
    mc_entry *e = entry_of(c->limbo.next);
    list_unlink(&e->u.order);
    entry_free(c, e);
  }
  release_chain(c, &c->freeing);
}

void mc_cache_unhold(mc_cache *c) {
  if (c->holds > 0 && --c->holds == 0)
    reap(c);
}

void mc_cache_purge(mc_cache *c) {
  while (c->graveyard != NULL) {
    mc_node *n = c->graveyard;
    c->graveyard = n->gnext;
    while (!list_empty(&n->entries))
      mc_cache_remove(c, own_entry(c, n->entries.next));
    n->state = MC_NODE_GONE;
    node_release(c, n);
  }
}

/* }====================================================== */


void mc_cache_clear(mc_cache *c) {
  size_t i;
  for (i = 0; i < c->nbuckets; i++) {
    mc_entry *e = c->buckets[i];
    while (e != NULL) {
      mc_entry *next = e->hnext;
      own_unlink(c, e);
      if (c->budget != NULL)
        list_unlink(mc_entry_aux(c, e));
      if (c->holds > 0)
        detach(c, e);
      else
        entry_free(c, e);
      e = next;
    }
    c->buckets[i] = NULL;
  }
  while (!list_empty(&c->freqs)) {
    mc_freq *f = container(c->freqs.next, mc_freq, link);
    list_unlink(&f->link);
    mem_free(c, f, sizeof(mc_freq));
  }
  list_init(&c->order);
  list_init(&c->aux);
  c->alen = 0;
  c->count = 0;
  if (c->budget != NULL)
    c->budget->size -= c->currsize;
  c->currsize = 0;
  /* dead nodes own nothing now: let them go */
  release_chain(c, &c->graveyard);
}

void mc_cache_free(mc_cache *c) {
  c->holds = 0;  /* a hold left by an error nobody closed: nothing reads now */
  mc_cache_clear(c);
  reap(c);
  drop_spare(c);
  mem_free(c, c->sparefreq, sizeof(mc_freq));
  c->sparefreq = NULL;
  while (!list_empty(&c->nodes)) {
    mc_node *n = container(c->nodes.next, mc_node, all);
    list_unlink(&n->all);
    mem_free(c, n, sizeof(mc_node));
  }
  mem_free(c, c->buckets, c->nbuckets * sizeof(mc_entry *));
  mem_free(c, c->arr, c->acap * sizeof(mc_entry *));
  c->buckets = NULL;
  c->nbuckets = 0;
  c->arr = NULL;
  c->acap = 0;
}
