/*
** mc_secret.c: the random key of the key hash (mc_key.h), drawn once per
** lua_State.  Unknown keys are what keep an attacker from choosing keys that
** collide, so the sources are tried from best to worst: the kernel's
** getrandom(2), then /dev/urandom, then what a process can always read
** (clocks, addresses that ASLR moves, the pid), which at least differs
** between runs and machines.
*/
#if defined(__unix__) || defined(__APPLE__)
#define _GNU_SOURCE  /* getrandom in glibc's sys/random.h; harmless elsewhere */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#define MC_POSIX 1
#if defined(__linux__) && defined(__has_include)
#if __has_include(<sys/random.h>)
#include <sys/random.h>
#endif
#endif
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "mc_key.h"

/* Each source adds what it got to 'p' (n bytes); all return the bytes
** they filled from the start, short of n when the source ran dry. */

#if defined(GRND_NONBLOCK) && !defined(MC_SECRET_NO_OS)
static size_t from_getrandom(unsigned char *p, size_t n) {
  size_t got = 0;
  while (got < n) {
    /* NONBLOCK: early in boot, before the pool is seeded, fall back to
    ** /dev/urandom rather than hang the program that loads us */
    ssize_t r = getrandom(p + got, n - got, GRND_NONBLOCK);
    if (r > 0)
      got += (size_t)r;
    else if (r < 0 && errno == EINTR)
      continue;
    else  /* ENOSYS (old kernel), EAGAIN, anything else */
      break;
  }
  return got;
}
#endif

#if defined(MC_POSIX) && !defined(MC_SECRET_NO_OS)
static size_t from_urandom(unsigned char *p, size_t n) {
  size_t got = 0;
  int fd;
  do
    fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return 0;
  while (got < n) {
    ssize_t r = read(fd, p + got, n - got);
    if (r > 0)
      got += (size_t)r;
    else if (r < 0 && errno == EINTR)
      continue;
    else
      break;
  }
  close(fd);
  return got;
}
#endif

/* splitmix64's output function: every input bit reaches every output bit */
static uint64_t mix64(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/* The last resort: no secret, but a different key per run and per state. */
static void from_environment(mc_hkey *out) {
  void (*self)(mc_hkey *) = from_environment;
  uint64_t f = 0, s = 0x9E3779B97F4A7C15ULL;
  int local = 0;
#if defined(MC_POSIX)
  struct timespec ts;
  if (clock_gettime(CLOCK_REALTIME, &ts) == 0)
    s = mix64(s ^ (uint64_t)ts.tv_sec ^ (uint64_t)ts.tv_nsec << 32);
  if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0)
    s = mix64(s ^ (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 32);
  s = mix64(s ^ (uint64_t)getpid());
#endif
  s = mix64(s ^ (uint64_t)time(NULL) ^ (uint64_t)clock() << 32);
  /* where the stack, this code and the caller's state were put (ASLR) */
  memcpy(&f, &self, sizeof(f) < sizeof(self) ? sizeof(f) : sizeof(self));
  s = mix64(s ^ (uint64_t)(uintptr_t)&local);
  s = mix64(s ^ f);
  s = mix64(s ^ (uint64_t)(uintptr_t)out);
  /* xor: keep whatever a source did give */
  out->k0 ^= s;
  out->k1 ^= mix64(s ^ 0x2545F4914F6CDD1DULL);
}

/* MC_SECRET_NO_OS builds the last resort alone, for spec/siphash_spec.lua */
void mc_secret_fill(mc_hkey *out) {
  unsigned char buf[16];
  size_t got = 0;
  memset(buf, 0, sizeof(buf));
#if defined(GRND_NONBLOCK) && !defined(MC_SECRET_NO_OS)
  got = from_getrandom(buf, sizeof(buf));
#endif
#if defined(MC_POSIX) && !defined(MC_SECRET_NO_OS)
  if (got < sizeof(buf))
    got += from_urandom(buf + got, sizeof(buf) - got);
#endif
  memcpy(&out->k0, buf, 8);
  memcpy(&out->k1, buf + 8, 8);
  out->fast = 0;  /* SipHash; each cache starts its copy on the fast mixer */
  if (got < sizeof(buf))
    from_environment(out);
}
