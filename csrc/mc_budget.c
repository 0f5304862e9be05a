/*
** mc_budget.c: the list and the sum of a budget across caches (see
** mc_budget.h).  mc_cache.c calls these for the caches under a budget;
** removal needs no hook of its own: mc_cache_remove unlinks the budget
** part's 'aux' and takes the weight off the sum.
*/
#include <stdio.h>

#include "mc_budget.h"

/* The budget part of the link 'l' of the order ('aux' is its first field). */
#define part_of_aux(l)  ((const mc_budgetpart *)(const void *)(l))

void mc_budget_init(mc_budget *b, long long total) {
  b->total = total;
  b->size = 0;
  b->collected = 0;
  b->lru.prev = b->lru.next = &b->lru;
  b->cores.prev = b->cores.next = &b->cores;
  b->cursor = &b->cores;
  b->stamp = 0;
}

void mc_budget_link(mc_budget *b, mc_cache *c, mc_entry *e) {
  mc_link *x = mc_entry_aux(c, e);
  *mc_entry_cache(c, e) = c;
  x->prev = &b->lru;
  x->next = b->lru.next;
  b->lru.next->prev = x;
  b->lru.next = x;
  b->size += mc_entry_weight(c, e);
}

void mc_budget_touch(mc_budget *b, mc_link *x) {
  if (b->lru.next != x) {
    x->prev->next = x->next;
    x->next->prev = x->prev;
    x->prev = &b->lru;
    x->next = b->lru.next;
    b->lru.next->prev = x;
    b->lru.next = x;
  }
}

mc_entry *mc_budget_victim(mc_budget *b, const mc_entry *avoid) {
  mc_link *l = b->lru.prev;
  if (l != &b->lru && mc_aux_entry(l) == avoid)
    l = l->prev;
  return l != &b->lru ? mc_aux_entry(l) : NULL;
}

void mc_budget_attach(mc_budget *b, mc_cache *c) {
  mc_cache_attach(c, b);
}

int mc_budget_check(const mc_budget *b, long long *count, char *why,
                    size_t whylen) {
  const mc_link *l;
  long long size = 0, n = 0;
  for (l = b->lru.next; l != &b->lru; l = l->next) {
    const mc_entry *e = mc_aux_entry(l);
    const mc_cache *c = part_of_aux(l)->cache;
    if (l->next->prev != l || l->prev->next != l) {
      snprintf(why, whylen, "the order is broken at entry %lld", n);
      return 0;
    }
    if (!mc_entry_live(e) || c == NULL || c->budget != b) {
      snprintf(why, whylen, "entry %lld of the order is not live in a "
               "cache under the budget", n);
      return 0;
    }
    size += mc_entry_weight(c, e);
    n++;
  }
  *count = n;
  if (size != b->size) {
    snprintf(why, whylen, "size is %lld but the weights add up to %lld",
             b->size, size);
    return 0;
  }
  if (b->size > b->total) {
    snprintf(why, whylen, "size %lld is above total %lld", b->size,
             b->total);
    return 0;
  }
  return 1;
}
