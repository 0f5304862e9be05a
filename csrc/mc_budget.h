/*
** mc_budget.h: a budget across the caches of one cached method (pure C).
**
** methodcache.method(fn, { total = N }) bounds the weight of the entries
** of every per-object cache of the method together.  Each cache under the
** budget (mc_cache.budget != NULL, policy LRU only) links its entries into
** one list of the budget, in recency order over all of them, through the
** 'aux' link of the entry's budget part, which also names the cache
** (mc_budgetpart, mc_cache.h): 24 bytes that only entries of caches under
** a budget have, LRU's policy part there (docs/DESIGN.md section 14).
** mc_cache.c keeps the list and the sum as entries come, are used and go;
** the binding (mc_lbudget.c) chooses the victims, which may belong to any
** object, and evicts them by the rules of docs/DESIGN.md section 3.
**
** The block also counts what every method wants to know about its caches
** (collected) and lists the cores under it (the binding's, by 'link').
*/
#ifndef mc_budget_h
#define mc_budget_h

#include "mc_cache.h"
#include "mc_visibility.h"

MC_HIDDEN_BEGIN

typedef struct mc_budget {
  long long total;          /* the bound; -1: no budget (collected only) */
  long long size;           /* weight of the entries in 'lru' */
  long long collected;      /* per-object caches the collector freed */
  mc_link lru;              /* entries by 'aux'; next: most recent */
  mc_link cores;            /* the cores under it (mc_lcore.blink) */
  mc_link *cursor;          /* where the next look for dead cores starts */
  unsigned stamp;           /* info's walk marks the cores it saw */
} mc_budget;

void mc_budget_init(mc_budget *b, long long total);

/* The hooks of mc_cache.c for a cache under a budget. */
void mc_budget_link(mc_budget *b, mc_cache *c, mc_entry *e);
void mc_budget_touch(mc_budget *b, mc_link *aux);

/* Whether 'weight' fits with the entries other than 'keep' (NULL: all), an
** entry of the cache 'c'. */
static inline int mc_budget_fits(const mc_budget *b, const mc_cache *c,
                                 long long weight, const mc_entry *keep) {
  long long others = b->size - (keep != NULL ? mc_entry_weight(c, keep) : 0);
  return weight <= b->total && others <= b->total - weight;
}

/* The least recently used entry of any cache, never 'avoid' (NULL if
** there is none). */
mc_entry *mc_budget_victim(mc_budget *b, const mc_entry *avoid);

/* Puts the empty cache 'c' under the budget. */
void mc_budget_attach(mc_budget *b, mc_cache *c);

/* Walks the order (O(entries)): links, that each entry is live and in a
** cache under 'b', that the weights add up to the sum and that the sum is
** within the bound.  Sets *count to the entries; returns 1, or 0 with the
** first broken invariant in 'why'.  For the specs; it changes nothing. */
int mc_budget_check(const mc_budget *b, long long *count, char *why,
                    size_t whylen);

MC_HIDDEN_END

#endif
