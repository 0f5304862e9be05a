/*
** fuzz_core.c: libFuzzer target for the pure C core (mc_cache, mc_key).
**
** The input is a small program.  Byte 0 picks the policy, byte 1 maxsize,
** byte 2 flags (bit 0: while the cache uses the fast mixer, every key
** hashes to one of three values, so chains, key comparisons and the switch
** to SipHash at a chain of MC_KEY_CHAINMAX are exercised; bit 1: the cache
** does not weigh entries, each weighs 1; bit 2, LRU only: the cache is
** under a budget (mc_budget.h) whose bound it never reaches, so its entries
** have the budget part, and the budget's order must be the cache's own),
** then 8 bytes of the hash key; then each operation is an opcode byte and its operands
** (bytes past the end read as 0).
**
** A reference model kept here says what each operation must do: the
** entries by (tuple, node), their weights, and the order the policy
** defines (a stamp for recency or insertion, a count for LFU; RR is checked
** for membership only).  After every operation the cache must agree with
** the model, mc_cache_check must accept it, and its byte count must equal
** what the allocator handed out.  The allocator fails on demand (an
** operation of the program arms it), so out-of-memory paths run too.
** Holds are modelled too: under a hold, removed entries must stay readable
** (detached) and nodes wait, until the last hold goes.  At the end
** mc_cache_free must give back every byte.
**
** A failed check calls abort(): libFuzzer saves the input as a crash.
*/
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc_budget.h"
#include "mc_cache.h"
#include "mc_key.h"

#include "fuzz.h"

/* {======================================================
** The cache's hash key: the only calls that know its shape
** ======================================================= */

static void fz_cache_init(mc_cache *c, mc_Alloc f, void *ud, int policy,
                          long long maxsize, uint64_t k0, uint64_t k1) {
  mc_hkey hk;
  hk.k0 = k0;
  hk.k1 = k1;
  hk.fast = 0;
  mc_cache_init(c, f, ud, policy, maxsize, &hk);
}

static void fz_key_begin(mc_kbuf *k, unsigned char *buf, size_t cap,
                         const mc_cache *c) {
  mc_key_begin(k, buf, cap, &c->hkey);
}

/* }====================================================== */


#define NT     48           /* key tuples */
#define NN     8            /* node slots */
#define NOKEY  NN           /* the node slot of a key without objects */
#define MAXOPS 1000
#define MAXLIMBO 256        /* detached entries watched under a hold */
#define MAXITEMS 5
#define KEYMAX 384


/* {======================================================
** An allocator that counts and fails on demand
** ======================================================= */

typedef struct fz_alloc {
  long long bytes;          /* in use */
  unsigned long nfail;      /* allocations refused so far */
  unsigned countdown;       /* the countdown-th next allocation fails */
  int failall;              /* every allocation fails */
} fz_alloc;

/* a header before each block records its size, so that a wrong 'osize'
** (the core's byte count would drift) is caught at once */
#define HDR 16

static void *fz_realloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  fz_alloc *a = (fz_alloc *)ud;
  char *old = ptr != NULL ? (char *)ptr - HDR : NULL;
  char *p;
  if (old != NULL) {
    size_t had;
    memcpy(&had, old, sizeof(had));
    check(had == osize, "block of %zu bytes given back as %zu", had, osize);
  }
  if (nsize == 0) {
    if (old != NULL)
      a->bytes -= (long long)osize;
    free(old);
    return NULL;
  }
  if (a->failall || (a->countdown > 0 && --a->countdown == 0)) {
    a->nfail++;
    return NULL;
  }
  p = (char *)realloc(old, nsize + HDR);
  check(p != NULL, "out of real memory (%zu bytes)", nsize);
  memcpy(p, &nsize, sizeof(nsize));
  a->bytes += (long long)nsize - (long long)(old != NULL ? osize : 0);
  return p + HDR;
}

/* }====================================================== */


/* {======================================================
** Input
** ======================================================= */

typedef struct reader {
  const uint8_t *p, *end;
} reader;

static unsigned byte(reader *r) {
  return r->p < r->end ? *r->p++ : 0;
}

static uint64_t word(reader *r) {
  uint64_t w = 0;
  int i;
  for (i = 0; i < 8; i++)
    w = (w << 8) | byte(r);
  return w;
}

static long long weight(reader *r) {
  unsigned b = byte(r);
  return (b & 0x80) ? (long long)(b & 0x7F) * 97 : (long long)(b & 0x0F);
}

static double when(reader *r) {
  unsigned b = byte(r);
  if (b == 0xFF)
    return HUGE_VAL;
  if (b == 0xFE)
    return -HUGE_VAL;
  return (double)(b & 0x3F) / 2 - 4;
}

/* }====================================================== */


/* {======================================================
** Keys: tuple 'tid' (and the node, if any), through mc_key
** ======================================================= */

/* The items of tuple 'tid'.  The first item carries 'tid' in a shape
** that depends on tid % 8, so distinct tuples encode differently. */
static int tuple(int tid, mc_kitem *it, char *sbuf) {
  int n = 0, shape = tid % 8, len;
  memset(it, 0, MAXITEMS * sizeof(*it));
  switch (shape) {
    case 3: it[n++].tag = MC_KNIL; break;
    case 4: it[n++].tag = MC_KTRUE; break;
    case 5: it[n++].tag = MC_KFALSE; break;
    default: break;
  }
  switch (shape) {
    case 1:
      /* only the top mantissa bits: keys of 10 bytes that differ in
      ** their last two only (mc_cache_find compares 8..16 bytes as two
      ** overlapping words) */
      it[n].tag = MC_KFLT;
      it[n].n = ldexp(1.0 + (tid / 8) / 16.0, tid / 8);
      break;
    case 7: it[n].tag = MC_KFLT; it[n].n = -1e300 * tid; break;
    case 2: case 5:
      /* 0 to 300 bytes: the varint length takes one or two bytes */
      len = (tid * 37) % 301;
      memset(sbuf, 'x', (size_t)len + 4);
      sbuf[0] = (char)tid;
      it[n].tag = MC_KSTR;
      it[n].s = sbuf;
      it[n].len = (size_t)len + 4;
      break;
    case 6: it[n].tag = MC_KLUD; it[n].p = (void *)(uintptr_t)(tid * 16);
      break;
    default: it[n].tag = MC_KINT; it[n].i = tid % 3 ? -tid : tid; break;
  }
  n++;
  if ((tid / 8) % 3 == 1)
    it[n++].tag = MC_KNIL;
  else if ((tid / 8) % 3 == 2) {
    it[n].tag = MC_KSTR;
    it[n].s = "a string of 20 bytes";
    it[n].len = 20;
    n++;
  }
  return n;
}

static void put(mc_kbuf *k, const mc_kitem *it) {
  switch (it->tag) {
    case MC_KINT: mc_key_int(k, it->i); break;
    case MC_KFLT: mc_key_flt(k, it->n); break;
    case MC_KSTR: mc_key_str(k, it->s, it->len); break;
    case MC_KLUD: mc_key_lud(k, it->p); break;
    default: mc_key_tag(k, it->tag); break;
  }
}

typedef struct fz_key {
  int valid;
  unsigned hash;
  size_t len;
  unsigned char buf[KEYMAX];
} fz_key;

static void encode(const mc_cache *c, mc_kbuf *k, unsigned char *buf,
                   size_t cap, const mc_kitem *it, int n, mc_node *node) {
  int i;
  fz_key_begin(k, buf, cap, c);
  for (i = 0; i < n; i++)
    put(k, &it[i]);
  mc_key_end(k, node);
}

/* Encodes the key of (tid, node) twice, first into a buffer too small as
** the binding does for long keys, and decodes it back. */
static void makekey(const mc_cache *c, int tid, mc_node *node, int collide,
                    fz_key *key) {
  mc_kitem it[MAXITEMS], got;
  char sbuf[400];
  unsigned char small[16];
  const unsigned char *p, *end;
  mc_kbuf k1, k2;
  int n = tuple(tid, it, sbuf), i;
  if (node != NULL)
    it[n++].tag = MC_KOBJ;
  encode(c, &k1, small, sizeof(small), it, n, node);
  encode(c, &k2, key->buf, sizeof(key->buf), it, n, node);
  check(k2.len <= sizeof(key->buf), "key of %zu bytes", k2.len);
  check(k1.len == k2.len && k1.h == k2.h,
        "a short buffer changed the key (%zu/%zu bytes)", k1.len, k2.len);
  check(k1.len > sizeof(small) || memcmp(small, key->buf, k1.len) == 0,
        "a key that fits was written differently");
  check(mc_key_rehash(key->buf, k2.len, &c->hkey) == mc_key_hash(&k2),
        "tuple %d: the hash of its bytes is not the encoder's", tid);
  key->valid = 1;
  key->len = k2.len;
  /* colliding hashes only with the fast mixer: SipHash rehashes entries
  ** from their bytes */
  key->hash = (collide && c->hkey.fast) ? (unsigned)(tid % 3)
                                        : mc_key_hash(&k2);
  p = mc_key_items(key->buf, key->len, &end);
  check((end == key->buf + key->len) == (node == NULL),
        "the node flag of a key");
  if (node != NULL) {
    mc_node *tail;
    memcpy(&tail, end, sizeof(tail));
    check(tail == node, "the node address at the end of a key");
  }
  for (i = 0; (p = mc_key_next(p, end, &got)) != NULL; i++) {
    check(i < n && got.tag == it[i].tag, "item %d of tuple %d: tag %d", i,
          tid, got.tag);
    switch (got.tag) {
      case MC_KINT:
        check(got.i == it[i].i, "integer item"); break;
      case MC_KFLT:
        check(memcmp(&got.n, &it[i].n, sizeof(double)) == 0, "float item");
        break;
      case MC_KSTR:
        check(got.len == it[i].len && memcmp(got.s, it[i].s, got.len) == 0,
              "string item of %zu bytes", it[i].len);
        break;
      case MC_KLUD:
        check(got.p == it[i].p, "light userdata item"); break;
      default: break;
    }
    check(p <= end, "item %d of tuple %d ends past the key", i, tid);
  }
  check(i == n, "tuple %d: %d items decoded of %d", tid, i, n);
}

/* }====================================================== */


/* {======================================================
** The model
** ======================================================= */

typedef struct ment {
  int present;
  mc_entry *e;
  long long weight;
  unsigned long long stamp;  /* recency, or insertion for FIFO/unbounded */
  unsigned long long count;  /* LFU */
  unsigned long long aux;    /* TTL: order of the last expiry set */
  double expires;
  int own;                   /* TTL: an expiry of its own (in the heap) */
} ment;

typedef struct mnode {
  int used;
  mc_node *n;
  int parent;               /* slot, or -1 */
  int state;
  size_t nchildren, nentries;
} mnode;

typedef struct fuzz {
  mc_cache c;
  fz_alloc a;
  long long total;          /* mc_cache.total points here */
  int collide;
  int unweighted;           /* no mc_cache_weigh: every entry weighs 1 */
  int budgeted;             /* the cache is under 'budget' */
  mc_budget budget;
  int fast;                 /* c.hkey.fast when the keys were encoded */
  int holds;
  int trace;                /* MC_FUZZ_TRACE is set */
  unsigned long long clock;
  size_t count;
  long long currsize;
  ment ent[NT][NN + 1];     /* by tuple and node slot (NOKEY: none) */
  fz_key key[NT][NN + 1];   /* encoded once per node (their addresses) */
  mnode node[NN];
  mc_entry *limbo[MAXLIMBO];  /* removed under the hold, not freed yet */
  int nlimbo;
} fuzz;

static int policy(const fuzz *F) {
  return F->c.policy;
}

static int timed(const fuzz *F) {
  return policy(F) == MC_TTL || policy(F) == MC_TLRU;
}

static mc_node *nodeof(const fuzz *F, int slot) {
  return slot == NOKEY ? NULL : F->node[slot].n;
}

/* A key refers to a node slot in use (its entries live while it is). */
static int usable(const fuzz *F, int slot) {
  return slot == NOKEY || F->node[slot].used;
}

static const fz_key *key(fuzz *F, int tid, int slot) {
  fz_key *k = &F->key[tid][slot];
  if (F->fast != F->c.hkey.fast) {  /* a long chain switched to SipHash */
    int t, s;
    for (t = 0; t < NT; t++)
      for (s = 0; s <= NN; s++)
        F->key[t][s].valid = 0;
    F->fast = F->c.hkey.fast;
  }
  if (!k->valid)
    makekey(&F->c, tid, nodeof(F, slot), F->collide, k);
  return k;
}

static mc_entry *find(fuzz *F, int tid, int slot) {
  const fz_key *k = key(F, tid, slot);
  return mc_cache_find(&F->c, k->buf, k->len, k->hash);
}

/* The rank in eviction order: the smallest goes first. */
static int before(const fuzz *F, const ment *x, const ment *y) {
  if (policy(F) == MC_LFU && x->count != y->count)
    return x->count < y->count;
  return x->stamp < y->stamp;
}

/* The model of 'e': the inline value, which the core leaves to its
** binding, holds the tuple and the node slot. */
static ment *model_of(fuzz *F, const mc_entry *e) {
  ment *m;
  if (e->v.i < 0 || e->v.i >= (long long)NT * (NN + 1))
    return NULL;
  m = &F->ent[e->v.i / (NN + 1)][e->v.i % (NN + 1)];
  return (m->present && m->e == e) ? m : NULL;
}

/* TTL: the entry at the tail of the expiry list but 'm' (the last set
** without an expiry of its own), or NULL. */
static const ment *last_set(const fuzz *F, const ment *m) {
  const ment *last = NULL;
  int i, j;
  for (i = 0; i < NT; i++)
    for (j = 0; j <= NN; j++) {
      const ment *o = &F->ent[i][j];
      if (o->present && o != m && !o->own &&
          (last == NULL || o->aux > last->aux))
        last = o;
    }
  return last;
}

static void model_add(fuzz *F, int tid, int slot, mc_entry *e, long long w) {
  ment *m = &F->ent[tid][slot];
  m->present = 1;
  m->e = e;
  e->v.i = (long long)tid * (NN + 1) + slot;
  m->weight = w;
  m->stamp = ++F->clock;
  m->count = 1;
  m->aux = ++F->clock;
  m->expires = 0;
  m->own = 0;
  if (policy(F) == MC_TTL) {  /* as late as the last set, until its own */
    const ment *last = last_set(F, m);
    if (last != NULL)
      m->expires = last->expires;
  }
  F->count++;
  F->currsize += w;
  if (slot != NOKEY)
    F->node[slot].nentries++;
}

static void model_remove(fuzz *F, int tid, int slot) {
  ment *m = &F->ent[tid][slot];
  if (F->holds > 0 && F->nlimbo < MAXLIMBO)
    F->limbo[F->nlimbo++] = m->e;
  m->present = 0;
  m->e = NULL;
  F->count--;
  F->currsize -= m->weight;
  if (slot != NOKEY)
    F->node[slot].nentries--;
}

/* What mc_cache_touch does to the model.  LFU moves the entry to the next
** count unless that list could not be allocated ('oom'). */
static void model_touch(fuzz *F, ment *m, int oom) {
  switch (policy(F)) {
    case MC_LFU:
      if (!oom)
        m->count++;
      m->stamp = ++F->clock;
      break;
    case MC_LRU: case MC_TTL: case MC_TLRU:
      m->stamp = ++F->clock;
      break;
    default:
      break;
  }
}

/* A node slot's keys end with its node's address. */
static void forget_keys(fuzz *F, int slot) {
  int t;
  for (t = 0; t < NT; t++)
    F->key[t][slot].valid = 0;
}

/* A GONE node is freed, with its ancestors, once it has no children. */
static void model_release(fuzz *F, int slot) {
  while (slot >= 0 && F->node[slot].state == MC_NODE_GONE &&
         F->node[slot].nchildren == 0) {
    int p = F->node[slot].parent;
    check(F->node[slot].nentries == 0, "node slot %d freed with entries",
          slot);
    if (F->holds > 0) {  /* freed when the last hold goes */
      F->node[slot].state = MC_NODE_FREEING;
      return;
    }
    F->node[slot].used = 0;
    F->node[slot].n = NULL;
    forget_keys(F, slot);
    if (p >= 0)
      F->node[p].nchildren--;
    slot = p;
  }
}

/* The last hold went: the detached entries and the waiting nodes go. */
static void model_reap(fuzz *F) {
  int s;
  F->nlimbo = 0;
  for (s = 0; s < NN; s++)
    if (F->node[s].used && F->node[s].state == MC_NODE_FREEING)
      F->node[s].state = MC_NODE_GONE;
  for (s = 0; s < NN; s++)
    if (F->node[s].used)
      model_release(F, s);
}

static void model_purge(fuzz *F, int drop_entries) {
  int s, t;
  for (s = 0; s < NN; s++) {
    if (!F->node[s].used || F->node[s].state != MC_NODE_DEAD)
      continue;
    if (drop_entries)
      for (t = 0; t < NT; t++)
        if (F->ent[t][s].present)
          model_remove(F, t, s);
    F->node[s].state = MC_NODE_GONE;
  }
  for (s = 0; s < NN; s++)
    if (F->node[s].used)
      model_release(F, s);
}

/* }====================================================== */


/* {======================================================
** Agreement of the cache with the model
** ======================================================= */

typedef struct ranked {
  const ment *m;
  mc_entry *e;
} ranked;

static void check_order(fuzz *F) {
  ranked r[NT * (NN + 1)];
  size_t n = 0, i, j;
  mc_entry *e;
  int t, s;
  for (t = 0; t < NT; t++)
    for (s = 0; s <= NN; s++)
      if (F->ent[t][s].present) {
        r[n].m = &F->ent[t][s];
        r[n].e = F->ent[t][s].e;
        n++;
      }
  /* insertion sort, last to be evicted first: n is small */
  for (i = 1; i < n; i++) {
    ranked x = r[i];
    for (j = i; j > 0 && before(F, r[j - 1].m, x.m); j--)
      r[j] = r[j - 1];
    r[j] = x;
  }
  i = 0;
  for (e = mc_cache_next(&F->c, NULL); e != NULL;
       e = mc_cache_next(&F->c, e), i++) {
    check(i < n, "iteration goes past %zu entries", n);
    if (policy(F) == MC_RR)
      check(model_of(F, e) != NULL,
            "iteration gives an entry the model does not have");
    else
      check(e == r[i].e, "entry %zu of %zu in iteration order (%s)", i, n,
            mc_policy_names[policy(F)]);
  }
  check(i == n, "iteration gave %zu entries of %zu", i, n);
}

static void check_nodes(fuzz *F) {
  size_t used = 0, listed = 0;
  const mc_link *l;
  int s;
  for (s = 0; s < NN; s++) {
    const mnode *m = &F->node[s];
    if (!m->used)
      continue;
    used++;
    check(m->n->state == m->state, "node slot %d: state %d, model %d", s,
          m->n->state, m->state);
    check(m->n->nentries == m->nentries, "node slot %d: %zu entries, "
          "model %zu", s, m->n->nentries, m->nentries);
    check(m->n->nchildren == m->nchildren, "node slot %d: %zu children, "
          "model %zu", s, m->n->nchildren, m->nchildren);
    check(m->n->parent == (m->parent >= 0 ? F->node[m->parent].n : NULL),
          "node slot %d: parent", s);
  }
  for (l = F->c.nodes.next; l != &F->c.nodes; l = l->next)
    listed++;
  check(listed == used, "%zu nodes in the cache, model %zu", listed, used);
}

/* The cache is the budget's only one: the budget holds its entries, in
** its recency order, and their weight. */
static void check_budget(fuzz *F) {
  char why[200];
  long long n;
  const mc_link *l;
  mc_entry *e = NULL;
  check(mc_budget_check(&F->budget, &n, why, sizeof(why)), "mc_budget_check: "
        "%s", why);
  check(n == (long long)F->c.count, "the budget holds %lld of %zu entries", n,
        F->c.count);
  check(F->budget.size == F->c.currsize, "the budget's size %lld, currsize "
        "%lld", F->budget.size, F->c.currsize);
  for (l = F->budget.lru.next; l != &F->budget.lru; l = l->next) {
    e = mc_cache_next(&F->c, e);
    check(e == mc_aux_entry(l), "the budget's order is not the cache's");
  }
  check(mc_budget_victim(&F->budget, NULL) == mc_cache_victim(&F->c, NULL),
        "the budget's victim is not the cache's");
}

static void agree(fuzz *F) {
  char why[200];
  int t, s;
  check(mc_cache_check(&F->c, why, sizeof(why)), "mc_cache_check: %s", why);
  check(F->c.count == F->count, "count %zu, model %zu", F->c.count,
        F->count);
  check(F->c.currsize == F->currsize, "currsize %lld, model %lld",
        F->c.currsize, F->currsize);
  check(F->c.bytes == F->a.bytes, "the cache counts %lld bytes, the "
        "allocator %lld", F->c.bytes, F->a.bytes);
  check(F->total == F->c.bytes, "total %lld, bytes %lld", F->total,
        F->c.bytes);
  for (s = 0; s <= NN; s++)
    for (t = 0; t < NT; t++) {
      const ment *m = &F->ent[t][s];
      mc_entry *e;
      if (!usable(F, s)) {
        check(!m->present, "an entry of a freed node slot %d", s);
        continue;
      }
      e = find(F, t, s);
      check((e != NULL) == m->present, "key (%d, %d): found %d, model %d", t,
            s, e != NULL, m->present);
      if (e == NULL)
        continue;
      check(e == m->e, "key (%d, %d) finds another entry", t, s);
      check(mc_entry_weight(&F->c, e) == m->weight,
            "key (%d, %d): weight %lld, model %lld", t, s,
            mc_entry_weight(&F->c, e), m->weight);
      check(mc_entry_node(&F->c, e) == nodeof(F, s), "key (%d, %d): node",
            t, s);
      check(((e->flags & MC_EF_NODE) != 0) == (s != NOKEY),
            "key (%d, %d): a node part %s", t, s,
            s != NOKEY ? "missing" : "without a node");
      check(!timed(F) || mc_entry_expires(&F->c, e) == m->expires ||
            (isnan(mc_entry_expires(&F->c, e)) && isnan(m->expires)),
            "key (%d, %d): expires %g, model %g", t, s,
            timed(F) ? mc_entry_expires(&F->c, e) : 0.0, m->expires);
    }
  for (t = 0; t < F->nlimbo; t++)  /* still readable memory */
    check(!mc_entry_live(F->limbo[t]), "a removed entry is not detached");
  check(F->c.holds == F->holds, "holds %d, model %d", F->c.holds, F->holds);
  check_order(F);
  check_nodes(F);
  if (F->budgeted)
    check_budget(F);
}

/* }====================================================== */


/* {======================================================
** Operations
** ======================================================= */

enum {
  OP_INSERT, OP_FIND, OP_TOUCH, OP_UPDATE, OP_REMOVE, OP_VICTIM,
  OP_EXPIRED, OP_SETEXPIRY, OP_SET, OP_CLEAR, OP_NODE_NEW, OP_NODE_KILL,
  OP_NODE_DETACH, OP_PURGE, OP_FAIL, OP_SEED, OP_HOLD, OP_UNHOLD,
  OP_RESERVE, OP_SETEXPIRY_OWN, OP_NOPS
};

/* A key from the input: a tuple and a node slot (NOKEY when the slot
** byte says so or names a slot not in use). */
static void readkey(fuzz *F, reader *r, int *tid, int *slot) {
  unsigned s;
  *tid = (int)(byte(r) % NT);
  s = byte(r) % (NN + 2);
  *slot = (s < NN && F->node[s].used) ? (int)s : NOKEY;
}

static int liveslot(const fuzz *F, int slot) {
  return slot == NOKEY || F->node[slot].state == MC_NODE_LIVE;
}

/* mc_cache_insert, or in two steps as the binding does (odd modes).  The
** key is always given: mc_cache_insert no longer takes NULL for a key
** written afterwards (fuzz/crashes/core-insert-nullkey-harden: its link may
** rehash every key from its bytes). */
static mc_entry *insert(fuzz *F, int tid, int slot, long long w,
                        unsigned mode) {
  unsigned long nfail = F->a.nfail;
  const fz_key *k = key(F, tid, slot);
  mc_entry *e;
  switch (mode % 2) {
    case 1:
      e = mc_cache_reserve(&F->c, k->len, slot != NOKEY);
      if (e != NULL) {
        check(F->c.spare == e, "the reserved entry is not the spare");
        memcpy(e->key, k->buf, k->len);
        mc_cache_link(&F->c, e, k->hash, w, nodeof(F, slot));
        check(F->c.spare == NULL, "a linked entry is still the spare");
      }
      break;
    default:
      e = mc_cache_insert(&F->c, k->buf, k->len, k->hash, w,
                          nodeof(F, slot));
      break;
  }
  if (e == NULL)
    check(F->a.nfail > nfail, "insert failed with memory to spare");
  else
    model_add(F, tid, slot, e, w);
  return e;
}

static void touch(fuzz *F, ment *m) {
  unsigned long nfail = F->a.nfail;
  mc_cache_touch(&F->c, m->e);
  model_touch(F, m, F->a.nfail > nfail);
}

static void update(fuzz *F, ment *m, long long w) {
  unsigned long nfail = F->a.nfail;
  F->currsize += w - m->weight;
  m->weight = w;
  mc_cache_update(&F->c, m->e, w);
  if (policy(F) == MC_FIFO || policy(F) == MC_UNBOUNDED)
    m->stamp = ++F->clock;
  else if (policy(F) != MC_RR)
    model_touch(F, m, F->a.nfail > nfail);
}

static void setexpiry(fuzz *F, ment *m, double t) {
  mc_cache_setexpiry(&F->c, m->e, t);
  if (policy(F) == MC_TTL) {
    /* the expiry list stays sorted when the timer goes back: the entry
    ** lives as long as the one set last before it */
    const ment *last = last_set(F, m);
    if (last != NULL && last->expires > t)
      t = last->expires;
  }
  m->expires = t;
  m->aux = ++F->clock;
  m->own = 0;
}

/* TTL: into the heap, at exactly 't'; other policies: as setexpiry.  The
** room is reserved first, as the binding does; without it nothing changes. */
static void setexpiry_own(fuzz *F, ment *m, double t) {
  unsigned long nfail = F->a.nfail;
  if (!mc_cache_reserve_own(&F->c)) {
    check(F->a.nfail > nfail, "mc_cache_reserve_own failed with memory to "
          "spare");
    return;
  }
  if (policy(F) != MC_TTL) {
    setexpiry(F, m, t);
    return;
  }
  mc_cache_setexpiry_own(&F->c, m->e, t);
  m->expires = t;
  m->own = 1;
}

static void remove_entry(fuzz *F, mc_entry *e) {
  int tid = (int)(e->v.i / (NN + 1)), slot = (int)(e->v.i % (NN + 1));
  check(model_of(F, e) != NULL, "removing an unknown entry");
  mc_cache_remove(&F->c, e);
  model_remove(F, tid, slot);
}

/* The entry mc_cache_victim may return, NULL if none: for RR any entry
** but 'avoid' will do, and 'alone' says whether 'avoid' is all there is. */
static const ment *model_victim(fuzz *F, const ment *avoid, int *alone) {
  const ment *v = NULL;
  int t, s;
  *alone = 1;
  for (t = 0; t < NT; t++)
    for (s = 0; s <= NN; s++) {
      const ment *m = &F->ent[t][s];
      if (!m->present || m == avoid)
        continue;
      *alone = 0;
      if (v == NULL || before(F, m, v))
        v = m;
    }
  return policy(F) == MC_UNBOUNDED ? NULL : v;
}

static mc_entry *victim(fuzz *F, ment *avoid) {
  int alone;
  const ment *want = model_victim(F, avoid, &alone);
  mc_entry *v = mc_cache_victim(&F->c, avoid != NULL ? avoid->e : NULL);
  if (policy(F) == MC_RR) {
    check((v == NULL) == alone, "RR victim %p with %s other entries",
          (void *)v, alone ? "no" : "some");
    check(v == NULL || (model_of(F, v) != NULL &&
                        (avoid == NULL || v != avoid->e)),
          "RR victim is not a member or is the one to avoid");
  }
  else
    check(v == (want != NULL ? want->e : NULL), "%s victim",
          mc_policy_names[policy(F)]);
  return v;
}

static mc_entry *expired(fuzz *F, double now) {
  mc_entry *e = mc_cache_expired(&F->c, now);
  const ment *head = NULL, *top = NULL;  /* TTL: of the list, of the heap */
  int t, s;
  for (t = 0; t < NT; t++)
    for (s = 0; s <= NN; s++) {
      const ment *m = &F->ent[t][s];
      if (!m->present)
        continue;
      if (policy(F) == MC_TTL && m->own) {
        if (top == NULL || m->expires < top->expires)
          top = m;
      }
      else if (head == NULL ||
               (policy(F) == MC_TTL ? m->aux < head->aux
                                    : m->expires < head->expires))
        head = m;
    }
  /* the list's head, unless the heap's top expires strictly earlier */
  if (top != NULL && (head == NULL || top->expires < head->expires)) {
    if (now < top->expires)
      check(e == NULL, "expired(%g) gives an entry", now);
    else {
      const ment *m = model_of(F, e);
      check(m != NULL && m->own && m->expires == top->expires,
            "TTL expired(%g) is not one of its own ttl that expires first",
            now);
    }
  }
  else if (!timed(F) || head == NULL || now < head->expires)
    check(e == NULL, "expired(%g) gives an entry", now);
  else if (policy(F) == MC_TTL)
    check(e == head->e, "TTL expired(%g) is not the oldest set", now);
  else {
    const ment *m = model_of(F, e);
    check(m != NULL && m->expires == head->expires,
          "TLRU expired(%g) is not one that expires first", now);
  }
  return e;
}

/* The binding's set: update or make room and insert, then the expiry. */
/* mc_cache_fits, checked against the model's arithmetic. */
static int fits(fuzz *F, long long w, ment *keep) {
  long long others = F->currsize - (keep != NULL ? keep->weight : 0);
  int r = mc_cache_fits(&F->c, w, keep != NULL ? keep->e : NULL);
  check(r == (w <= F->c.maxsize && others <= F->c.maxsize - w),
        "mc_cache_fits(%lld) is %d with %lld beside", w, r, others);
  return r;
}

/* The binding's set: evict until the weight fits beside the entry of the
** key (if any), then update it or insert, then the expiry. */
static void set(fuzz *F, int tid, int slot, long long w, double t,
                unsigned mode) {
  ment *m = &F->ent[tid][slot];
  ment *keep = m->present ? m : NULL;
  int ok;
  if (!liveslot(F, slot))
    return;
  if (w > F->c.maxsize) {
    if (keep != NULL)
      remove_entry(F, m->e);
    return;
  }
  while (!(ok = fits(F, w, keep))) {
    mc_entry *v;
    if (mc_cache_dirty(&F->c)) {
      mc_cache_purge(&F->c);
      model_purge(F, 1);
    }
    if (keep != NULL && !keep->present)
      return;  /* its node died: the purge took it */
    if ((v = victim(F, keep)) == NULL)
      break;
    remove_entry(F, v);
  }
  if (!ok) {  /* nothing to evict (unbounded): the total would overflow */
    if (keep != NULL)
      remove_entry(F, m->e);
    return;
  }
  if (keep != NULL)
    update(F, m, w);
  else if (insert(F, tid, slot, w, mode) == NULL)
    return;
  if (timed(F))
    setexpiry(F, m, t);
}

static void node_new(fuzz *F, reader *r) {
  unsigned p = byte(r) % (NN + 1);
  unsigned long nfail = F->a.nfail;
  int parent = (p < NN && F->node[p].used &&
                F->node[p].state == MC_NODE_LIVE) ? (int)p : -1;
  int s;
  mc_node *n;
  for (s = 0; s < NN && F->node[s].used; s++)
    ;
  if (s == NN)
    return;
  n = mc_node_new(&F->c, parent >= 0 ? F->node[parent].n : NULL);
  if (n == NULL) {
    check(F->a.nfail > nfail, "mc_node_new failed with memory to spare");
    return;
  }
  F->node[s].used = 1;
  F->node[s].n = n;
  forget_keys(F, s);
  F->node[s].parent = parent;
  F->node[s].state = MC_NODE_LIVE;
  F->node[s].nchildren = 0;
  F->node[s].nentries = 0;
  if (parent >= 0)
    F->node[parent].nchildren++;
}

static const char *const opnames[OP_NOPS] = {
  "insert", "find", "touch", "update", "remove", "victim", "expired",
  "setexpiry", "set", "clear", "node_new", "node_kill", "node_detach",
  "purge", "fail", "seed", "hold", "unhold", "reserve", "setexpiry_own"
};

/* With MC_FUZZ_TRACE set in the environment, each operation is printed
** with its operand bytes and the state after it, so that a saved crash
** can be read. */
static void trace(const fuzz *F, unsigned op, const uint8_t *from,
                  const uint8_t *to) {
  if (!F->trace)
    return;
  fprintf(stderr, "%-11s", opnames[op]);
  for (; from < to; from++)
    fprintf(stderr, " %3u", *from);
  fprintf(stderr, "\t-> count %zu, currsize %lld, bytes %lld%s%s\n",
          F->c.count, F->c.currsize, F->c.bytes,
          F->c.hkey.fast ? "" : ", SipHash", F->c.holds ? ", held" : "");
}

/* A weight for a new value: 1 in a cache that does not weigh entries. */
static long long weigh(const fuzz *F, reader *r) {
  long long w = weight(r);
  return F->unweighted ? 1 : w;
}

static void step(fuzz *F, reader *r) {
  const uint8_t *start = r->p;
  unsigned op = byte(r) % OP_NOPS;
  int tid, slot;
  ment *m;
  switch (op) {
    case OP_INSERT: {
      long long w;
      unsigned mode;
      readkey(F, r, &tid, &slot);
      w = weigh(F, r);
      mode = byte(r);
      if (!F->ent[tid][slot].present && liveslot(F, slot))
        insert(F, tid, slot, w, mode);
      break;
    }
    case OP_FIND:  /* agree() looks every key up */
      readkey(F, r, &tid, &slot);
      break;
    case OP_TOUCH:
      readkey(F, r, &tid, &slot);
      if ((m = &F->ent[tid][slot])->present)
        touch(F, m);
      break;
    case OP_UPDATE: {
      long long w;
      readkey(F, r, &tid, &slot);
      w = weigh(F, r);
      if ((m = &F->ent[tid][slot])->present)
        update(F, m, w);
      break;
    }
    case OP_REMOVE:
      readkey(F, r, &tid, &slot);
      if (F->ent[tid][slot].present)
        remove_entry(F, F->ent[tid][slot].e);
      break;
    case OP_VICTIM: {  /* and evict it, sometimes sparing one entry */
      mc_entry *v;
      readkey(F, r, &tid, &slot);
      m = &F->ent[tid][slot];
      v = victim(F, m->present ? m : NULL);
      if (v != NULL && (byte(r) & 1))
        remove_entry(F, v);
      break;
    }
    case OP_EXPIRED: {
      mc_entry *e = expired(F, when(r));
      if (e != NULL && (byte(r) & 1))
        remove_entry(F, e);
      break;
    }
    case OP_SETEXPIRY: {
      double t;
      readkey(F, r, &tid, &slot);
      t = when(r);
      if ((m = &F->ent[tid][slot])->present)
        setexpiry(F, m, t);
      break;
    }
    case OP_SETEXPIRY_OWN: {
      double t;
      readkey(F, r, &tid, &slot);
      t = when(r);
      if ((m = &F->ent[tid][slot])->present)
        setexpiry_own(F, m, t);
      break;
    }
    case OP_SET: {
      long long w;
      double t;
      readkey(F, r, &tid, &slot);
      w = weigh(F, r);
      t = when(r);
      set(F, tid, slot, w, t, 1);
      break;
    }
    case OP_CLEAR:
      mc_cache_clear(&F->c);
      for (tid = 0; tid < NT; tid++)
        for (slot = 0; slot <= NN; slot++)
          if (F->ent[tid][slot].present)
            model_remove(F, tid, slot);
      model_purge(F, 0);
      break;
    case OP_NODE_NEW:
      node_new(F, r);
      break;
    case OP_NODE_KILL:
      slot = (int)(byte(r) % NN);
      if (F->node[slot].used) {
        mc_node_kill(&F->c, F->node[slot].n);
        if (F->node[slot].state == MC_NODE_LIVE)
          F->node[slot].state = MC_NODE_DEAD;
      }
      break;
    case OP_NODE_DETACH:  /* as the binding's prune: live and empty */
      slot = (int)(byte(r) % NN);
      if (F->node[slot].used && F->node[slot].state == MC_NODE_LIVE &&
          F->node[slot].nentries == 0) {
        mc_node_detach(&F->c, F->node[slot].n);
        F->node[slot].state = MC_NODE_GONE;
        model_release(F, slot);
      }
      break;
    case OP_PURGE:
      mc_cache_purge(&F->c);
      model_purge(F, 1);
      break;
    case OP_FAIL: {
      unsigned b = byte(r);
      F->a.failall = (b == 0xFF);
      F->a.countdown = b & 0x0F;
      break;
    }
    case OP_SEED:
      mc_cache_seed_rr(&F->c, word(r));
      break;
    case OP_HOLD:
      mc_cache_hold(&F->c);
      F->holds++;
      break;
    case OP_UNHOLD:
      mc_cache_unhold(&F->c);
      if (F->holds > 0 && --F->holds == 0)
        model_reap(F);
      break;
    case OP_RESERVE: {  /* and never link: the next reserve frees it */
      unsigned long nfail = F->a.nfail;
      readkey(F, r, &tid, &slot);
      if (mc_cache_reserve(&F->c, key(F, tid, slot)->len, slot != NOKEY) ==
          NULL)
        check(F->a.nfail > nfail, "mc_cache_reserve failed with memory to "
              "spare");
      break;
    }
    default:
      break;
  }
  trace(F, op, start + 1, r->p);
}

/* }====================================================== */


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz *F = (fuzz *)calloc(1, sizeof(fuzz));
  reader r;
  int pol, ops;
  unsigned flags;
  long long maxsize;
  check(F != NULL, "out of real memory");
  r.p = data;
  r.end = data + size;
  pol = (int)(byte(&r) % MC_NPOLICIES);
  maxsize = (long long)byte(&r);
  flags = byte(&r);
  F->collide = flags & 1;
  F->unweighted = (flags & 2) != 0;
  F->budgeted = (flags & 4) != 0 && pol == MC_LRU;
  F->fast = -1;  /* the keys are not encoded yet */
  F->trace = getenv("MC_FUZZ_TRACE") != NULL;
  if (F->trace)
    fprintf(stderr, "policy %s, maxsize %lld, %s hashes\n",
            mc_policy_names[pol], maxsize, F->collide ? "colliding" : "real");
  fz_cache_init(&F->c, fz_realloc, &F->a, pol, maxsize, word(&r), 0);
  F->c.total = &F->total;
  if (!F->unweighted)
    mc_cache_weigh(&F->c);
  if (F->budgeted) {
    mc_budget_init(&F->budget, LLONG_MAX);
    mc_budget_attach(&F->budget, &F->c);
  }
  agree(F);
  for (ops = 0; r.p < r.end && ops < MAXOPS; ops++) {
    step(F, &r);
    agree(F);
  }
  F->a.failall = 0;
  F->a.countdown = 0;
  mc_cache_free(&F->c);
  check(F->a.bytes == 0, "%lld bytes left after mc_cache_free", F->a.bytes);
  check(F->c.bytes == 0 && F->total == 0, "the cache still counts %lld "
        "bytes (total %lld)", F->c.bytes, F->total);
  free(F);
  return 0;
}
