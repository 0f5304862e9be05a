/*
** mc_clock.c: the default timer of TTL caches, a monotonic clock, so that
** setting the wall clock back never makes entries live longer.
*/
#define _POSIX_C_SOURCE 200809L
#include <time.h>

#include "mc_lua.h"

double mc_clock_now(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
    return (double)time(NULL);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
