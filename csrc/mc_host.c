/*
** mc_host.c: mchost, the lua program of Lua 5.4 with methodcache in it.
**
** It is Lua 5.4.4's lua.c, function by function, so that it behaves as
** lua5.4 does: the same options, LUA_INIT, messages, tracebacks and exit
** statuses, a REPL with GNU readline when built with LUA_USE_READLINE (the
** Makefile does when the header is there), SIGINT stopping the running
** chunk ("interrupted!") and the REPL going on.  What it adds:
**   - methodcache is preloaded: require("methodcache") needs no LUA_PATH;
**   - --gc=incremental|generational (lua.c: generational);
**   - --stats[=json]: the statistics of every cached method and function,
**     on stderr when the program ends, error or not (methodcache_stats);
**   - -h and --help;
**   - -v prints methodcache's version after Lua's;
**   - lines of any length without readline (lua.c: 512 bytes);
**   - end of input inside a statement reports the syntax error (lua.c
**     5.4.4 prints "(null)", a NULL given to printf).
** The SIGINT handler needs the state in a static (as lua.c's globalL):
** mchost is a program with one state, which the library must never assume.
*/

#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__unix__) || defined(__unix) || defined(__APPLE__)
#include <unistd.h>
#define MC_USE_POSIX
#define lua_stdin_is_tty() isatty(0)
#else
#define lua_stdin_is_tty() 1     /* assume stdin is a terminal */
#endif

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

#include "methodcache.h"

#define MCHOST_INIT_VAR "LUA_INIT"
#define MCHOST_INITVERSION_VAR \
  "LUA_INIT_" LUA_VERSION_MAJOR "_" LUA_VERSION_MINOR
#define MCHOST_PROMPT "> "
#define MCHOST_PROMPT2 ">> "

static lua_State *globalL = NULL;

/* the program name in messages; NULL in interactive mode, as lua.c */
static const char *progname = "mchost";

/* --stats: what main prints when the program ends */
enum { STATS_NONE, STATS_TEXT, STATS_JSON };


/* {======================================================
** SIGINT, as lua.c
** ======================================================= */

#if defined(MC_USE_POSIX)
static void setsignal(int sig, void (*handler)(int)) {
  struct sigaction sa;
  sa.sa_handler = handler;
  sa.sa_flags = 0;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, NULL);
}
#else
#define setsignal signal
#endif

/* The hook the signal sets: it raises the error in the running code. */
static void lstop(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  luaL_error(L, "interrupted!");
}

/* A signal cannot touch the state (no synchronization): it only sets a
** hook, which lua_sethook allows from a signal handler.  A second SIGINT
** before the hook runs kills the process. */
static void laction(int i) {
  int flag = LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT;
  setsignal(i, SIG_DFL);
  lua_sethook(globalL, lstop, flag, 1);
}

/* }====================================================== */


static void print_usage(FILE *f) {
  fprintf(f,
    "usage: %s [options] [script [args]]\n"
    "Available options are:\n"
    "  -e stat   execute string 'stat'\n"
    "  -i        enter interactive mode after executing 'script'\n"
    "  -l mod    require library 'mod' into global 'mod'\n"
    "  -l g=mod  require library 'mod' into global 'g'\n"
    "  -v        show version information\n"
    "  -E        ignore environment variables\n"
    "  -W        turn warnings on\n"
    "  --        stop handling options\n"
    "  -         stop handling options and execute stdin\n"
    "mchost also takes:\n"
    "  --gc=incremental|generational  garbage collector mode (default:\n"
    "            generational, as lua)\n"
    "  --stats   at the end, print the statistics of every cached method\n"
    "            and function on stderr (--stats=json: as one JSON line)\n"
    "  -h, --help  show this help\n"
    "methodcache %s is preloaded: require(\"methodcache\") needs no LUA_PATH.\n",
    progname, METHODCACHE_VERSION);
  fflush(f);
}

static void bad_option(const char *badoption) {
  fprintf(stderr, "%s: ", progname);
  if (badoption[1] == 'e' || badoption[1] == 'l')
    fprintf(stderr, "'%s' needs argument\n", badoption);
  else if (strncmp(badoption, "--gc=", 5) == 0)
    fprintf(stderr, "'%s': the mode must be 'incremental' or "
                    "'generational'\n", badoption);
  else if (strncmp(badoption, "--stats=", 8) == 0)
    fprintf(stderr, "'%s': the format must be 'json'\n", badoption);
  else
    fprintf(stderr, "unrecognized option '%s'\n", badoption);
  print_usage(stderr);
}

/* a message on stderr, with the program name in front (when there is one) */
static void l_message(const char *pname, const char *msg) {
  if (pname) fprintf(stderr, "%s: ", pname);
  fprintf(stderr, "%s\n", msg);
  fflush(stderr);
}

/* Report the error on top of the stack, if any, and pop it.  It is a
** string: Lua made it, or msghandler did. */
static int report(lua_State *L, int status) {
  if (status != LUA_OK) {
    l_message(progname, lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  return status;
}

/* Message handler: a traceback after the message.  An error object with a
** __tostring that gives a string is the message, with no traceback; any
** other non-string is described by its type. */
static int msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      return 1;
    msg = lua_pushfstring(L, "(error object is a %s value)",
                          luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/* Call the function below 'narg' arguments under msghandler, with SIGINT
** stopping it. */
static int docall(lua_State *L, int narg, int nres) {
  int status;
  int base = lua_gettop(L) - narg;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  globalL = L;
  setsignal(SIGINT, laction);
  status = lua_pcall(L, narg, nres, base);
  setsignal(SIGINT, SIG_DFL);
  lua_remove(L, base);
  return status;
}

static void print_version(void) {
  printf("%s\nmethodcache %s (mchost)\n", LUA_COPYRIGHT, METHODCACHE_VERSION);
  fflush(stdout);
}

/* The global 'arg', as lua.c makes it: the script name at index 0, its
** arguments at 1..n, the interpreter and its options at negative indices.
** Without a script, the interpreter name is at index 0. */
static void createargtable(lua_State *L, char **argv, int argc, int script) {
  int i, narg;
  if (script == argc) script = 0;
  narg = argc - (script + 1);
  lua_createtable(L, narg, script + 1);
  for (i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

static int dochunk(lua_State *L, int status) {
  if (status == LUA_OK) status = docall(L, 0, 0);
  return report(L, status);
}

static int dofile(lua_State *L, const char *name) {
  return dochunk(L, luaL_loadfile(L, name));
}

static int dostring(lua_State *L, const char *s, const char *name) {
  return dochunk(L, luaL_loadbuffer(L, s, strlen(s), name));
}

/* -l mod: global mod = require("mod"); -l g=mod: global g = require("mod");
** argv itself is left as it is (lua.c writes a '\0' into it) */
static int dolibrary(lua_State *L, const char *spec) {
  int status;
  const char *eq = strchr(spec, '=');
  lua_getglobal(L, "require");
  lua_pushstring(L, eq ? eq + 1 : spec);
  status = docall(L, 1, 1);
  if (status == LUA_OK) {
    /* the global's name stays on the stack while lua_setglobal uses it */
    if (eq) lua_pushlstring(L, spec, (size_t)(eq - spec));
    else lua_pushstring(L, spec);
    lua_insert(L, -2);
    lua_setglobal(L, lua_tostring(L, -2));
    lua_pop(L, 1);
  }
  return report(L, status);
}

/* push the script's arguments (arg[1..n]); return n */
static int pushargs(lua_State *L) {
  int i, n;
  if (lua_getglobal(L, "arg") != LUA_TTABLE)
    luaL_error(L, "'arg' is not a table");
  n = (int)luaL_len(L, -1);
  luaL_checkstack(L, n + 3, "too many arguments to script");
  for (i = 1; i <= n; i++)
    lua_rawgeti(L, -i, i);
  lua_remove(L, -i);
  return n;
}

static int handle_script(lua_State *L, char **argv) {
  int status;
  const char *fname = argv[0];
  if (strcmp(fname, "-") == 0 && strcmp(argv[-1], "--") != 0)
    fname = NULL;   /* stdin */
  status = luaL_loadfile(L, fname);
  if (status == LUA_OK) {
    int n = pushargs(L);
    status = docall(L, n, LUA_MULTRET);
  }
  return report(L, status);
}


/* {======================================================
** Options
** ======================================================= */

/* bits of collectargs' result */
#define has_error 1     /* bad option */
#define has_i 2         /* -i */
#define has_v 4         /* -v */
#define has_e 8         /* -e */
#define has_E 16        /* -E */
#define has_gcinc 32    /* --gc=incremental */
#define has_gcgen 64    /* --gc=generational */
#define has_help 128    /* -h, --help */

/* what main needs after pmain: --stats */
typedef struct hostopts {
  int stats;
} hostopts;

/* A '--' option of mchost's own; 0 if it is not one. */
static int longoption(const char *opt, int *args, hostopts *ho) {
  if (strcmp(opt, "--help") == 0)
    *args |= has_help;
  else if (strcmp(opt, "--gc=incremental") == 0)
    *args = (*args & ~has_gcgen) | has_gcinc;
  else if (strcmp(opt, "--gc=generational") == 0)
    *args = (*args & ~has_gcinc) | has_gcgen;
  else if (strcmp(opt, "--stats") == 0)
    ho->stats = STATS_TEXT;
  else if (strcmp(opt, "--stats=json") == 0)
    ho->stats = STATS_JSON;
  else
    return 0;
  return 1;
}

/*
** Check the options; return the has_* bits, or has_error with *first set
** to the bad option. *first is set to the index of the script (argc when
** there is none).
*/
static int collectargs(char **argv, int *first, hostopts *ho) {
  int args = 0;
  int i;
  for (i = 1; argv[i] != NULL; i++) {
    *first = i;
    if (argv[i][0] != '-')          /* not an option: the script */
      return args;
    switch (argv[i][1]) {
      case '-':
        if (argv[i][2] == '\0') {     /* '--' */
          *first = i + 1;
          return args;
        }
        if (!longoption(argv[i], &args, ho))
          return has_error;
        break;
      case '\0':                      /* '-': the script is stdin */
        return args;
      case 'E':
        if (argv[i][2] != '\0') return has_error;
        args |= has_E;
        break;
      case 'W':
        if (argv[i][2] != '\0') return has_error;
        break;
      case 'h':
        if (argv[i][2] != '\0') return has_error;
        args |= has_help;
        break;
      case 'i':
        args |= has_i;               /* -i implies -v */
        /* FALLTHROUGH */
      case 'v':
        if (argv[i][2] != '\0') return has_error;
        args |= has_v;
        break;
      case 'e':
        args |= has_e;
        /* FALLTHROUGH */
      case 'l':                       /* both need an argument */
        if (argv[i][2] == '\0') {
          i++;
          if (argv[i] == NULL || argv[i][0] == '-')
            return has_error;
        }
        break;
      default:
        return has_error;
    }
  }
  *first = i;
  return args;
}

/* run -e, -l and -W in order; 'n' is the index of the script */
static int runargs(lua_State *L, char **argv, int n) {
  int i;
  for (i = 1; i < n; i++) {
    int option = argv[i][1];
    switch (option) {
      case 'e': case 'l': {
        int status;
        const char *extra = argv[i] + 2;
        if (*extra == '\0') extra = argv[++i];
        status = (option == 'e')
                 ? dostring(L, extra, "=(command line)")
                 : dolibrary(L, extra);
        if (status != LUA_OK) return 0;
        break;
      }
      case 'W':
        lua_warning(L, "@on", 0);
        break;
      default:
        break;
    }
  }
  return 1;
}

static int handle_luainit(lua_State *L) {
  const char *name = "=" MCHOST_INITVERSION_VAR;
  const char *init = getenv(name + 1);
  if (init == NULL) {
    name = "=" MCHOST_INIT_VAR;
    init = getenv(name + 1);
  }
  if (init == NULL) return LUA_OK;
  if (init[0] == '@') return dofile(L, init + 1);
  return dostring(L, init, name);
}

/* }====================================================== */


/* {======================================================
** The read-eval-print loop, as lua.c's
** ======================================================= */

/* lua_readline(L, prompt) shows the prompt, reads a line of any length and
** pushes it without its newline; 0 at end of input (nothing pushed).
** lua_saveline keeps a line in the history. */
#if defined(LUA_USE_READLINE)

#include <readline/readline.h>
#include <readline/history.h>
/* "lua", so that an ~/.inputrc section '$if lua' applies to mchost too */
#define lua_initreadline(L)  ((void)L, rl_readline_name = "lua")
#define lua_saveline(L, line)  ((void)L, add_history(line))

static int lua_readline(lua_State *L, const char *prompt) {
  char *b = readline(prompt);
  if (b == NULL)
    return 0;
  lua_pushstring(L, b);
  free(b);
  return 1;
}

#else

#define lua_initreadline(L)  ((void)L)
#define lua_saveline(L, line)  ((void)L, (void)line)

static int lua_readline(lua_State *L, const char *prompt) {
  luaL_Buffer b;
  int got = 0;
  fputs(prompt, stdout);
  fflush(stdout);
  luaL_buffinit(L, &b);
  for (;;) {
    char *p = luaL_prepbuffer(&b);
    size_t l;
    if (fgets(p, LUAL_BUFFERSIZE, stdin) == NULL)
      break;
    got = 1;
    l = strlen(p);
    if (l > 0 && p[l - 1] == '\n') {
      luaL_addsize(&b, l - 1);
      break;
    }
    luaL_addsize(&b, l);
  }
  luaL_pushresult(&b);
  if (!got)
    lua_pop(L, 1);
  return got;
}

#endif

#define EOFMARK "<eof>"
#define EOFMARKLEN (sizeof(EOFMARK) - 1)

/* Push the prompt (_PROMPT or _PROMPT2 through tostring, if set) and
** return it. */
static const char *get_prompt(lua_State *L, int firstline) {
  if (lua_getglobal(L, firstline ? "_PROMPT" : "_PROMPT2") == LUA_TNIL) {
    lua_pop(L, 1);
    return lua_pushstring(L, firstline ? MCHOST_PROMPT : MCHOST_PROMPT2);
  }
  else {
    const char *p = luaL_tolstring(L, -1, NULL);
    lua_remove(L, -2);
    return p;
  }
}

/* a syntax error at <eof> means the statement is not finished yet */
static int incomplete(lua_State *L, int status) {
  if (status == LUA_ERRSYNTAX) {
    size_t lmsg;
    const char *msg = lua_tolstring(L, -1, &lmsg);
    if (lmsg >= EOFMARKLEN && strcmp(msg + lmsg - EOFMARKLEN, EOFMARK) == 0)
      return 1;
  }
  return 0;
}

/* read a line and push it; return 0 at end of input (nothing pushed) */
static int pushline(lua_State *L, int firstline) {
  const char *line;
  get_prompt(L, firstline);
  if (!lua_readline(L, lua_tostring(L, -1))) {
    lua_pop(L, 1);
    return 0;
  }
  lua_remove(L, -2);                   /* the prompt */
  line = lua_tostring(L, -1);
  if (firstline && line[0] == '=') {   /* '=expr', as in Lua 5.2 */
    lua_pushfstring(L, "return %s", line + 1);
    lua_remove(L, -2);
  }
  return 1;
}

/* try the line as 'return line;' so that expressions print their value */
static int addreturn(lua_State *L) {
  const char *line = lua_tostring(L, -1);
  const char *retline = lua_pushfstring(L, "return %s;", line);
  int status = luaL_loadbuffer(L, retline, strlen(retline), "=stdin");
  if (status == LUA_OK) {
    lua_remove(L, -2);
    if (line[0] != '\0')
      lua_saveline(L, line);
  }
  else
    lua_pop(L, 2);
  return status;
}

/*
** Read continuation lines until the chunk is complete.  Leaves the chunk,
** or the syntax error (also at end of input in mid-statement), on top.
*/
static int multiline(lua_State *L) {
  for (;;) {
    size_t len;
    const char *line = lua_tolstring(L, 1, &len);
    int status = luaL_loadbuffer(L, line, len, "=stdin");
    if (!incomplete(L, status) || !pushline(L, 0)) {
      lua_saveline(L, line);
      return status;
    }
    lua_remove(L, -2);          /* the "<eof>" error: there is more */
    lua_pushliteral(L, "\n");
    lua_insert(L, -2);
    lua_concat(L, 3);
  }
}

/* leave one compiled chunk (or an error) on an empty stack; -1 at EOF */
static int loadline(lua_State *L) {
  int status;
  lua_settop(L, 0);
  if (!pushline(L, 1))
    return -1;
  if ((status = addreturn(L)) != LUA_OK)
    status = multiline(L);
  lua_remove(L, 1);
  return status;
}

static void l_print(lua_State *L) {
  int n = lua_gettop(L);
  if (n > 0) {
    luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
    lua_getglobal(L, "print");
    lua_insert(L, 1);
    if (lua_pcall(L, n, 0, 0) != LUA_OK)
      l_message(progname, lua_pushfstring(L, "error calling 'print' (%s)",
                                          lua_tostring(L, -1)));
  }
}

static void doREPL(lua_State *L) {
  int status;
  const char *oldprogname = progname;
  progname = NULL;
  lua_initreadline(L);
  while ((status = loadline(L)) != -1) {
    if (status == LUA_OK)
      status = docall(L, 0, LUA_MULTRET);
    if (status == LUA_OK) l_print(L);
    else report(L, status);
  }
  lua_settop(L, 0);
  fputs("\n", stdout);
  fflush(stdout);
  progname = oldprogname;
}

/* }====================================================== */


/* {======================================================
** --stats
** ======================================================= */

/* column widths of the table, from a first pass */
typedef struct widths {
  int name, where;
} widths;

static const char *statname(const methodcache_stat *s) {
  return s->name ? s->name : "?";
}

/* "file.lua:12", or "[C]" as tracebacks say it */
#define WHERESIZE (LUA_IDSIZE + 16)
static int statwhere(const methodcache_stat *s, char *buf) {
  if (s->line < 0)
    return snprintf(buf, WHERESIZE, "%s", s->source);
  return snprintf(buf, WHERESIZE, "%s:%d", s->source, s->line);
}

static int measure(void *ud, const methodcache_stat *s) {
  widths *w = (widths *)ud;
  char where[WHERESIZE];
  int n = (int)strlen(statname(s));
  if (n > w->name) w->name = n;
  n = statwhere(s, where);
  if (n > w->where) w->where = n;
  return 0;
}

static void printmaxsize(FILE *f, const methodcache_stat *s) {
  if (s->policy == NULL) fputs("      -", f);
  else if (s->maxsize < 0) fputs("    inf", f);
  else fprintf(f, "%7lld", s->maxsize);
}

static int print_row(void *ud, const methodcache_stat *s) {
  widths *w = (widths *)ud;
  char where[WHERESIZE];
  statwhere(s, where);
  fprintf(stderr, "%-8s %-*s %-*s %-9s ", s->kind, w->name, statname(s),
          w->where, where, s->policy ? s->policy : "-");
  printmaxsize(stderr, s);
  fprintf(stderr, " %10lld %10lld %8lld %8lld %9lld %10lld\n", s->hits,
          s->misses, s->entries, s->objects, s->collected, s->bytes);
  return 0;
}

/* The length of the UTF-8 sequence at 'p' (no overlong form, surrogate or
** code point past U+10FFFF), 0 if it is not one. */
static int utf8len(const unsigned char *p) {
  unsigned long c;
  int n, i;
  if (p[0] < 0x80) return 1;
  if (p[0] >= 0xc2 && p[0] <= 0xdf) { n = 2; c = p[0] & 0x1f; }
  else if ((p[0] & 0xf0) == 0xe0) { n = 3; c = p[0] & 0x0f; }
  else if (p[0] >= 0xf0 && p[0] <= 0xf4) { n = 4; c = p[0] & 0x07; }
  else return 0;
  for (i = 1; i < n; i++) {
    if ((p[i] & 0xc0) != 0x80) return 0;
    c = (c << 6) | (p[i] & 0x3f);
  }
  if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
      (n == 4 && (c < 0x10000 || c > 0x10ffff)))
    return 0;
  return n;
}

/* a JSON string: valid UTF-8 passes, a byte that is not is U+FFFD */
static void json_string(FILE *f, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  if (s == NULL) {
    fputs("null", f);
    return;
  }
  fputc('"', f);
  while (*p) {
    int n = utf8len(p);
    if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
    else if (*p < 0x20 || *p == 0x7f) fprintf(f, "\\u%04x", *p);
    else if (n == 0) fputs("\\ufffd", f);
    else fwrite(p, 1, (size_t)n, f);
    p += n > 0 ? n : 1;
  }
  fputc('"', f);
}

static int print_json(void *ud, const methodcache_stat *s) {
  int *first = (int *)ud;
  FILE *f = stderr;
  fputs(*first ? "" : ",", f);
  *first = 0;
  fputs("{\"kind\":", f);
  json_string(f, s->kind);
  fputs(",\"name\":", f);
  json_string(f, s->name);
  fputs(",\"source\":", f);
  json_string(f, s->source);
  if (s->line >= 0) fprintf(f, ",\"line\":%d", s->line);
  else fputs(",\"line\":null", f);
  fputs(",\"policy\":", f);
  json_string(f, s->policy);
  if (s->maxsize >= 0) fprintf(f, ",\"maxsize\":%lld", s->maxsize);
  else fputs(",\"maxsize\":null", f);
  fprintf(f, ",\"hits\":%lld,\"misses\":%lld,\"entries\":%lld,"
             "\"currsize\":%lld,\"objects\":%lld,\"collected\":%lld,"
             "\"bytes\":%lld}",
          s->hits, s->misses, s->entries, s->currsize, s->objects,
          s->collected, s->bytes);
  return 0;
}

static void print_stats(lua_State *L, int format) {
  int n;
  fflush(stdout);
  if (format == STATS_JSON) {
    int first = 1;
    fprintf(stderr, "{\"methodcache\":\"%s\",\"functions\":[",
            METHODCACHE_VERSION);
    n = methodcache_stats(L, print_json, &first);
    fprintf(stderr, "]%s}\n", n < 0 ? ",\"error\":\"out of memory\"" : "");
  }
  else {
    widths w = { 4, 5 };
    n = methodcache_stats(L, measure, &w);
    fprintf(stderr, "%s: methodcache statistics, %d cached methods and "
                    "functions\n", progname, n < 0 ? 0 : n);
    if (n > 0) {
      fprintf(stderr, "%-8s %-*s %-*s %-9s %7s %10s %10s %8s %8s %9s %10s\n",
              "kind", w.name, "name", w.where, "defined", "policy",
              "maxsize", "hits", "misses", "entries", "objects",
              "collected", "bytes");
      n = methodcache_stats(L, print_row, &w);
    }
    if (n < 0)
      fprintf(stderr, "%s: methodcache statistics: out of memory\n",
              progname);
  }
  fflush(stderr);
}

/* os.exit under --stats: the statistics first, then the real os.exit
** (upvalue 1), which may not come back through main */
static int statsexit(lua_State *L) {
  print_stats(L, (int)lua_tointeger(L, lua_upvalueindex(2)));
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 0);
  return 0;
}

static void wrap_exit(lua_State *L, int format) {
  if (lua_getglobal(L, "os") == LUA_TTABLE) {
    if (lua_getfield(L, -1, "exit") == LUA_TFUNCTION) {
      lua_pushinteger(L, format);
      lua_pushcclosure(L, statsexit, 2);
      lua_setfield(L, -2, "exit");
    }
    else
      lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

/* }====================================================== */


static int pmain(lua_State *L) {
  int argc = (int)lua_tointeger(L, 1);
  char **argv = (char **)lua_touserdata(L, 2);
  hostopts *ho = (hostopts *)lua_touserdata(L, 3);
  int script;
  int args = collectargs(argv, &script, ho);
  luaL_checkversion(L);
  if (argv[0] && argv[0][0]) progname = argv[0];
  if (args == has_error) {
    ho->stats = STATS_NONE;
    bad_option(argv[script]);
    return 0;
  }
  if (args & has_help) {
    ho->stats = STATS_NONE;
    print_usage(stdout);
    lua_pushboolean(L, 1);
    return 1;
  }
  if (args & has_v)
    print_version();
  if (args & has_E) {       /* tell the libraries to ignore LUA_PATH etc. */
    lua_pushboolean(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
  }
  luaL_openlibs(L);
  methodcache_openlibs(L);
  if (ho->stats != STATS_NONE)
    wrap_exit(L, ho->stats);
  createargtable(L, argv, argc, script);
  lua_gc(L, LUA_GCRESTART);
  if (args & has_gcinc)
    lua_gc(L, LUA_GCINC, 0, 0, 0);
  else
    lua_gc(L, LUA_GCGEN, 0, 0);   /* lua.c's default */
  if (!(args & has_E) && handle_luainit(L) != LUA_OK)
    return 0;
  if (!runargs(L, argv, script))
    return 0;
  if (script < argc && handle_script(L, argv + script) != LUA_OK)
    return 0;
  if (args & has_i)
    doREPL(L);
  else if (script == argc && !(args & (has_e | has_v))) {
    if (lua_stdin_is_tty()) {
      print_version();
      doREPL(L);
    }
    else dofile(L, NULL);   /* as lua.c: its error does not change the exit status */
  }
  lua_pushboolean(L, 1);
  return 1;
}


int main(int argc, char **argv) {
  int status, result;
  hostopts ho;
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    l_message(argv[0], "cannot create state: not enough memory");
    return EXIT_FAILURE;
  }
  ho.stats = STATS_NONE;
  lua_gc(L, LUA_GCSTOP);      /* no collection while building the state */
  lua_pushcfunction(L, pmain);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  lua_pushlightuserdata(L, &ho);
  status = lua_pcall(L, 3, 1, 0);
  result = lua_toboolean(L, -1);
  report(L, status);
  if (ho.stats != STATS_NONE)
    print_stats(L, ho.stats);
  lua_close(L);
  return (result && status == LUA_OK) ? EXIT_SUCCESS : EXIT_FAILURE;
}
