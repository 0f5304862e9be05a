/*
** mc_check.c: the invariant checker of the cache core (mc_cache_check).
**
** It restates from the outside what mc_cache.c keeps true between two
** calls, as Lua's ltests.c (checktable) and Redis' dict.c debugging section
** do: the fuzzer (fuzz/fuzz_core.c) runs it after every operation, and a
** debug build of the binding can run it after each of its own.  Every walk
** is bounded by a count it checks, so a broken link gives a reason rather
** than a hang.  Pure C, like the core: no lua.h.
*/
#include <stdarg.h>
#include <stdio.h>

#include "mc_cache.h"

#define container(p, T, field) \
  ((T *)(void *)((char *)(p) - offsetof(T, field)))

typedef struct checker {
  mc_cache *c;              /* not changed: mc_cache_find wants no const */
  char *why;
  size_t whylen;
  unsigned long long bytes; /* what the structure should hold */
  size_t nowned;            /* entries with a node, from the hash walk */
  size_t nfreeing;          /* FREEING nodes, from the node walk */
} checker;

static int fail(checker *k, const char *fmt, ...) {
  va_list ap;
  if (k->whylen > 0) {
    va_start(ap, fmt);
    vsnprintf(k->why, k->whylen, fmt, ap);
    va_end(ap);
  }
  return 0;
}

/* A circular list through 'head' whose links all point back, with at most
** 'max' elements; their number goes to *n. */
static int check_list(checker *k, const mc_link *head, size_t max,
                      size_t *n, const char *what) {
  const mc_link *l = head;
  size_t i = 0;
  for (;;) {
    if (l->next == NULL || l->prev == NULL || l->next->prev != l ||
        l->prev->next != l)
      return fail(k, "%s: broken link after %zu elements", what, i);
    l = l->next;
    if (l == head)
      break;
    if (++i > max)
      return fail(k, "%s: more than %zu elements", what, max);
  }
  *n = i;
  return 1;
}

static int selflinked(const mc_link *l) {
  return l->next == l && l->prev == l;
}

/* The first entry the hash table finds for e's key is 'e' itself. */
static int findable(checker *k, const mc_entry *e, const char *what) {
  if (mc_cache_find(k->c, e->key, e->keylen, e->hash) != e)
    return fail(k, "%s: an entry (key of %u bytes) is not what its key finds",
                what, e->keylen);
  return 1;
}

/* The entry of which 'l' is the link 'order', 'aux' or 'own', which lie
** at these distances before or after the header (mc_cache.h). */
static const mc_entry *link_entry(const checker *k, const mc_link *l,
                                  int which) {
  const char *p = (const char *)l;
  switch (which) {
    case 'a': return mc_aux_entry(l);
    case 'o': p -= offsetof(mc_entry, u.order); break;
    default:
      p += k->c->pre + sizeof(mc_nodepart) - offsetof(mc_nodepart, own);
      break;
  }
  return (const mc_entry *)(const void *)p;
}

/* A list of entries linked by 'order', 'aux' or 'own' ('o', 'a', 'n'). */
static int check_entries(checker *k, const mc_link *head, int which,
                         size_t *n, const char *what) {
  const mc_link *l;
  if (!check_list(k, head, k->c->count, n, what))
    return 0;
  for (l = head->next; l != head; l = l->next) {
    const mc_entry *e = link_entry(k, l, which);
    if (!findable(k, e, what))
      return 0;
    if (which == 'n' && !(e->flags & MC_EF_NODE))
      return fail(k, "%s: an entry without a node part", what);
    if (which == 'a' && mc_entry_inheap(e))
      return fail(k, "%s: an entry that says it is in the heap", what);
  }
  return 1;
}

/* What the parts of 'e' hold: the layout comes from the cache, so an entry
** only needs its flags right and its parts consistent. */
static int check_parts(checker *k, const mc_entry *e) {
  const mc_cache *c = k->c;
  long long w = mc_entry_weight(c, e);
  if (e->flags & ~(MC_EF_DETACHED | MC_EF_NODE | MC_EF_HEAP))
    return fail(k, "an entry has the unknown flags %#x", e->flags);
  if (mc_entry_inheap(e) && c->policy != MC_TTL)
    return fail(k, "an entry of a %s cache says it is in the TTL heap",
                mc_policy_names[c->policy]);
  if (w < 0)
    return fail(k, "an entry has the negative weight %lld", w);
  if (!c->weighted && w != 1)
    return fail(k, "an entry of an unweighted cache weighs %lld", w);
  /* TTL: an entry with an expiry of its own is in the heap, and only
  ** those (their count with the list's is checked in check_policy) */
  if ((c->policy == MC_RR || c->policy == MC_TLRU ||
       (c->policy == MC_TTL && mc_entry_inheap(e))) &&
      (*mc_entry_index(c, e) >= c->alen || c->arr[*mc_entry_index(c, e)] != e))
    return fail(k, "an entry's array slot %zu does not hold it",
                *mc_entry_index(c, e));
  if (c->budget != NULL) {  /* in the budget's order (mc_budget.h) */
    const mc_link *a = mc_entry_aux(c, e);
    if (*mc_entry_cache(c, e) != c || selflinked(a) ||
        a->next->prev != a || a->prev->next != a)
      return fail(k, "an entry under a budget is not in its order");
  }
  if (c->policy == MC_LFU && *mc_entry_freq(c, e) == NULL)
    return fail(k, "an entry of an LFU cache has no frequency");
  if ((e->flags & MC_EF_NODE) && mc_entry_node(c, e) == NULL)
    return fail(k, "an entry with a node part has no node");
  return 1;
}

static int check_entry(checker *k, const mc_entry *e, size_t b) {
  const mc_cache *c = k->c;
  if ((e->hash & (c->nbuckets - 1)) != b)
    return fail(k, "an entry of hash %u is in bucket %zu", e->hash, b);
  if (!findable(k, e, "hash table"))
    return 0;
  if (!mc_entry_live(e))
    return fail(k, "a detached entry is in the hash table");
  /* SipHash: every hash is the one of the key's bytes (the binding's
  ** encoder and mc_key_rehash agree); fast hashes may be anything */
  if (!c->hkey.fast && e->hash != mc_key_rehash(e->key, e->keylen, &c->hkey))
    return fail(k, "an entry's hash is not its key's under SipHash");
  return check_parts(k, e);
}

static int check_hash(checker *k) {
  const mc_cache *c = k->c;
  unsigned long long size = 0;
  size_t b, n = 0;
  if (c->nbuckets & (c->nbuckets - 1))
    return fail(k, "%zu buckets: not 0 or a power of 2", c->nbuckets);
  if (c->nbuckets == 0 && c->count != 0)
    return fail(k, "count is %zu but there are no buckets", c->count);
  for (b = 0; b < c->nbuckets; b++) {
    const mc_entry *e;
    for (e = c->buckets[b]; e != NULL; e = e->hnext) {
      if (++n > c->count)
        return fail(k, "the hash table holds more than count (%zu) entries",
                    c->count);
      if (!check_entry(k, e, b))
        return 0;
      size += (unsigned long long)mc_entry_weight(c, e);
      k->bytes += mc_entry_size(c, e);
      k->nowned += (mc_entry_node(c, e) != NULL);
    }
  }
  if (n != c->count)
    return fail(k, "count is %zu but the hash table holds %zu entries",
                c->count, n);
  if (size != (unsigned long long)c->currsize)
    return fail(k, "currsize is %lld but the weights add up to %llu",
                c->currsize, size);
  k->bytes += (unsigned long long)c->nbuckets * sizeof(mc_entry *);
  return 1;
}

static int check_lfu(checker *k) {
  const mc_cache *c = k->c;
  const mc_link *l;
  unsigned long long last = 0;
  size_t nfreqs, total = 0;
  if (!check_list(k, &c->freqs, c->count, &nfreqs, "LFU frequencies"))
    return 0;
  for (l = c->freqs.next; l != &c->freqs; l = l->next) {
    const mc_freq *f = container(l, mc_freq, link);
    const mc_link *el;
    size_t n;
    if (f->count <= last)
      return fail(k, "LFU frequency %llu follows %llu", f->count, last);
    last = f->count;
    if (!check_entries(k, &f->entries, 'o', &n, "LFU frequency list"))
      return 0;
    if (n == 0)
      return fail(k, "LFU frequency %llu has no entry", f->count);
    for (el = f->entries.next; el != &f->entries; el = el->next)
      if (*mc_entry_freq(c, link_entry(k, el, 'o')) != f)
        return fail(k, "an entry in LFU list %llu points to another list",
                    f->count);
    total += n;
    if (total > c->count)
      return fail(k, "the LFU lists hold more than count (%zu) entries",
                  c->count);
  }
  if (total != c->count)
    return fail(k, "count is %zu but the LFU lists hold %zu", c->count,
                total);
  k->bytes += (unsigned long long)nfreqs * sizeof(mc_freq);
  return 1;
}

static int check_array(checker *k) {
  const mc_cache *c = k->c;
  size_t i;
  if ((c->policy == MC_TTL ? c->alen > c->count : c->alen != c->count) ||
      c->alen > c->acap)
    return fail(k, "array of %zu (capacity %zu) for %zu entries", c->alen,
                c->acap, c->count);
  for (i = 0; i < c->alen; i++) {
    /* before the index: a TTL entry of the list has 'aux' there */
    if (c->policy == MC_TTL && !mc_entry_inheap(c->arr[i]))
      return fail(k, "TTL heap: slot %zu holds an entry of the list", i);
    if (*mc_entry_index(c, c->arr[i]) != i)
      return fail(k, "array slot %zu holds an entry that says %zu", i,
                  *mc_entry_index(c, c->arr[i]));
    if (c->policy != MC_RR && i > 0 &&
        mc_entry_expires(c, c->arr[i]) <
        mc_entry_expires(c, c->arr[(i - 1) / 2]))
      return fail(k, "%s heap: slot %zu expires before its parent",
                  c->policy == MC_TTL ? "TTL" : "TLRU", i);
  }
  k->bytes += (unsigned long long)c->acap * sizeof(mc_entry *);
  return 1;
}

/* The TTL list is in expiry order: mc_cache_expired looks at its head only. */
static int check_ttl_sorted(checker *k) {
  const mc_link *l, *head = &k->c->aux;
  for (l = head->next; l != head && l->next != head; l = l->next)
    if (mc_entry_expires(k->c, mc_aux_entry(l->next)) <
        mc_entry_expires(k->c, mc_aux_entry(l)))
      return fail(k, "TTL list: an entry expires before the one ahead of it");
  return 1;
}

static int check_policy(checker *k) {
  const mc_cache *c = k->c;
  size_t n;
  int ordered = (c->policy != MC_LFU && c->policy != MC_RR);
  if (!check_entries(k, &c->order, 'o', &n, "order list"))
    return 0;
  if (n != (ordered ? c->count : 0))
    return fail(k, "the order list holds %zu of %zu entries", n, c->count);
  if (!check_entries(k, &c->aux, 'a', &n, "TTL list"))
    return 0;
  if (n != (c->policy == MC_TTL ? c->count - c->alen : 0))
    return fail(k, "the TTL list holds %zu of %zu entries (%zu in the heap)",
                n, c->count, c->policy == MC_TTL ? c->alen : 0);
  if (!check_ttl_sorted(k))
    return 0;
  if (c->policy == MC_LFU)
    return check_lfu(k);
  if (!selflinked(&c->freqs))
    return fail(k, "a %s cache has LFU frequencies",
                mc_policy_names[c->policy]);
  if (c->policy == MC_RR || c->policy == MC_TLRU || c->policy == MC_TTL)
    return check_array(k);
  if (c->alen != 0)
    return fail(k, "a %s cache has %zu array slots in use",
                mc_policy_names[c->policy], c->alen);
  return 1;
}

/* The parts before an entry's header are those of the policy and options,
** whole words, so that every header and part is aligned. */
static int check_layout(checker *k) {
  const mc_cache *c = k->c;
  size_t pol = c->policy == MC_LFU ? sizeof(mc_lfupart)
             : c->policy == MC_TTL ? sizeof(mc_ttlpart)
             : c->policy == MC_TLRU ? sizeof(mc_tlrupart)
             : c->budget != NULL ? sizeof(mc_budgetpart) : 0;
  size_t pre = pol + (c->weighted ? sizeof(long long) : 0);
  if (c->budget != NULL && c->policy != MC_LRU)
    return fail(k, "a %s cache is under a budget", mc_policy_names[c->policy]);
  if (c->polpart != pol || c->pre != pre)
    return fail(k, "a %s%s cache puts %u bytes (policy %u) before entries, "
                "not %zu (policy %zu)", c->weighted ? "weighted " : "",
                mc_policy_names[c->policy], c->pre, c->polpart, pre, pol);
  if (pre % sizeof(void *) != 0 || sizeof(mc_nodepart) % sizeof(void *) != 0)
    return fail(k, "entry parts of %zu bytes would misalign the header", pre);
  return 1;
}

/* Iteration (mc_cache_next) visits each entry once. */
static int check_iteration(checker *k) {
  size_t n = 0;
  mc_entry *e;
  for (e = mc_cache_next(k->c, NULL); e != NULL; e = mc_cache_next(k->c, e)) {
    if (++n > k->c->count)
      return fail(k, "iteration visits more than count (%zu) entries",
                  k->c->count);
    if (!findable(k, e, "iteration"))
      return 0;
  }
  if (n != k->c->count)
    return fail(k, "iteration visits %zu of %zu entries", n, k->c->count);
  return 1;
}

static int check_node(checker *k, const mc_node *n) {
  const mc_link *l;
  size_t ne;
  if (n->state != MC_NODE_LIVE && n->state != MC_NODE_DEAD &&
      n->state != MC_NODE_GONE && n->state != MC_NODE_FREEING)
    return fail(k, "a node has the state %d", n->state);
  if (!check_entries(k, &n->entries, 'n', &ne, "node entries"))
    return 0;
  if (ne != n->nentries)
    return fail(k, "a node says %zu entries but holds %zu", n->nentries, ne);
  for (l = n->entries.next; l != &n->entries; l = l->next)
    if (mc_entry_node(k->c, link_entry(k, l, 'n')) != n)
      return fail(k, "an entry in a node's list names another node");
  /* a gone node is freed (or queued, while held) once it has no child */
  if (n->state == MC_NODE_GONE && (ne != 0 || n->nchildren == 0))
    return fail(k, "a gone node with %zu entries and %zu children is kept",
                ne, n->nchildren);
  if (n->state == MC_NODE_FREEING && (ne != 0 || n->nchildren != 0))
    return fail(k, "a node waiting to be freed has %zu entries and %zu "
                "children", ne, n->nchildren);
  if (n->parent != NULL && n->parent->nchildren == 0)
    return fail(k, "a node's parent counts no children");
  return 1;
}

static int check_nodes(checker *k) {
  const mc_cache *c = k->c;
  const mc_link *l;
  const mc_node *g;
  size_t nnodes, owned = 0, children = 0, withparent = 0, dead = 0, buried = 0;
  if (!check_list(k, &c->nodes, (size_t)-1, &nnodes, "node list"))
    return 0;
  for (l = c->nodes.next; l != &c->nodes; l = l->next) {
    const mc_node *n = container(l, mc_node, all);
    if (!check_node(k, n))
      return 0;
    owned += n->nentries;
    children += n->nchildren;
    withparent += (n->parent != NULL);
    dead += (n->state == MC_NODE_DEAD);
    k->nfreeing += (n->state == MC_NODE_FREEING);
  }
  if (owned != k->nowned)
    return fail(k, "%zu entries have a node but the nodes hold %zu",
                k->nowned, owned);
  if (children != withparent)
    return fail(k, "nodes count %zu children but %zu have a parent",
                children, withparent);
  for (g = c->graveyard; g != NULL; g = g->gnext) {
    if (g->state != MC_NODE_DEAD)
      return fail(k, "a node in the graveyard is in state %d", g->state);
    if (++buried > dead)
      return fail(k, "the graveyard holds more than the %zu dead nodes",
                  dead);
  }
  if (buried != dead)
    return fail(k, "%zu dead nodes but %zu in the graveyard", dead, buried);
  k->bytes += (unsigned long long)nnodes * sizeof(mc_node);
  return 1;
}

/* What a hold keeps (detached entries, nodes to free) and what a reserve
** left (the spare entry, LFU's spare list). */
static int check_kept(checker *k) {
  const mc_cache *c = k->c;
  const mc_link *l;
  const mc_node *n;
  size_t nlimbo, nfreeing = 0;
  if (c->holds < 0)
    return fail(k, "holds is %d", c->holds);
  if (!check_list(k, &c->limbo, (size_t)-1, &nlimbo, "limbo"))
    return 0;
  for (l = c->limbo.next; l != &c->limbo; l = l->next) {
    const mc_entry *e = link_entry(k, l, 'o');
    if (mc_entry_live(e))
      return fail(k, "a live entry is in the limbo");
    k->bytes += mc_entry_size(c, e);
  }
  for (n = c->freeing; n != NULL; n = n->gnext) {
    if (n->state != MC_NODE_FREEING)
      return fail(k, "a node of state %d waits to be freed", n->state);
    if (++nfreeing > k->nfreeing)
      return fail(k, "more nodes wait to be freed than are FREEING");
  }
  if (nfreeing != k->nfreeing)
    return fail(k, "%zu FREEING nodes, %zu waiting to be freed",
                k->nfreeing, nfreeing);
  if (c->holds == 0 && (nlimbo != 0 || nfreeing != 0))
    return fail(k, "not held, yet %zu entries and %zu nodes wait", nlimbo,
                nfreeing);
  if (c->spare != NULL) {
    if (!mc_entry_live(c->spare))
      return fail(k, "the spare entry is detached");
    k->bytes += mc_entry_size(c, c->spare);
  }
  if (c->sparefreq != NULL) {
    if (c->policy != MC_LFU)
      return fail(k, "a %s cache has a spare LFU list",
                  mc_policy_names[c->policy]);
    k->bytes += sizeof(mc_freq);
  }
  return 1;
}

int mc_cache_check(const mc_cache *c, char *why, size_t whylen) {
  checker k;
  k.c = (mc_cache *)c;
  k.why = why;
  k.whylen = whylen;
  k.bytes = 0;
  k.nowned = 0;
  k.nfreeing = 0;
  if (why != NULL && whylen > 0)
    why[0] = '\0';
  if (c->policy < 0 || c->policy >= MC_NPOLICIES)
    return fail(&k, "policy %d", c->policy);
  if (c->currsize < 0)
    return fail(&k, "currsize is %lld", c->currsize);
  if (!check_layout(&k) || !check_hash(&k) || !check_policy(&k) || !check_iteration(&k) ||
      !check_nodes(&k) || !check_kept(&k))
    return 0;
  if (k.bytes != (unsigned long long)c->bytes)
    return fail(&k, "bytes is %lld but the structure holds %llu", c->bytes,
                k.bytes);
  return 1;
}
