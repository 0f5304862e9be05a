/*
** fuzz.h: what both libFuzzer targets share: check(), which reports a
** broken property and aborts, so that libFuzzer keeps the input.
*/
#ifndef fuzz_h
#define fuzz_h

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define check(cond, ...) \
  do { if (!(cond)) failed(__FILE__, __LINE__, #cond, __VA_ARGS__); } while (0)

static void failed(const char *file, int line, const char *cond,
                   const char *fmt, ...)
    __attribute__((noreturn, format(printf, 4, 5)));

static void failed(const char *file, int line, const char *cond,
                   const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "%s:%d: check failed: %s\n  ", file, line, cond);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  abort();
}

#endif
