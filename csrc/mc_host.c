/*
** mc_host.c: mchost, a Lua 5.4 interpreter with methodcache built in.
**
** Modelled on Lua 5.4's lua.c: main only creates the state and runs pmain
** under lua_pcall; every chunk runs under a message handler that adds a
** traceback; errors that are not strings are reported too. On top of
** lua.c it preloads methodcache (the C core and the embedded Lua layer),
** so require("methodcache") works with no LUA_PATH, and it takes
** --gc=incremental|generational. It is also the model for embedding:
** luaL_openlibs, then methodcache_openlibs, then run code.
** Unlike lua.c it installs no SIGINT handler: that needs a mutable global
** lua_State, and an embedder would not want one either.
*/

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__unix__) || defined(__unix) || defined(__APPLE__)
#include <unistd.h>
#define mc_stdin_is_tty() isatty(0)
#else
#define mc_stdin_is_tty() 1     /* assume stdin is a terminal */
#endif

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

#include "methodcache.h"

#define MCHOST_VERSION METHODCACHE_VERSION
#define MCHOST_INIT_VAR "LUA_INIT"
#define MCHOST_INITVERSION_VAR \
  "LUA_INIT_" LUA_VERSION_MAJOR "_" LUA_VERSION_MINOR
#define MCHOST_PROMPT "> "
#define MCHOST_PROMPT2 ">> "
#define MCHOST_MAXINPUT 512

/* the program name in messages; NULL while in interactive mode, as lua.c */
static const char *progname = "mchost";

/* bits returned by collectargs */
#define has_error 1     /* bad option */
#define has_i 2         /* -i */
#define has_v 4         /* -v */
#define has_e 8         /* -e */
#define has_E 16        /* -E */
#define has_gcinc 32    /* --gc=incremental */
#define has_gcgen 64    /* --gc=generational */
#define has_help 128    /* -h, --help */


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
    "  -h        show this help\n"
    "  --gc=incremental|generational\n"
    "            garbage collector mode (default: generational, as lua)\n"
    "  --        stop handling options\n"
    "  -         stop handling options and execute stdin\n"
    "methodcache %s is preloaded: require(\"methodcache\") needs no LUA_PATH.\n",
    progname, METHODCACHE_VERSION);
  fflush(f);
}


static void bad_option(const char *badoption) {
  if (badoption[1] == 'e' || badoption[1] == 'l')
    fprintf(stderr, "%s: '%s' needs argument\n", progname, badoption);
  else if (strncmp(badoption, "--gc=", 5) == 0)
    fprintf(stderr, "%s: '%s': the mode must be 'incremental' or "
                    "'generational'\n", progname, badoption);
  else
    fprintf(stderr, "%s: unrecognized option '%s'\n", progname, badoption);
  print_usage(stderr);
}


/* a message on stderr, with the program name in front (when there is one) */
static void l_message(const char *pname, const char *msg) {
  if (pname) fprintf(stderr, "%s: ", pname);
  fprintf(stderr, "%s\n", msg);
  fflush(stderr);
}


/* report the error on top of the stack, if any, and pop it */
static int report(lua_State *L, int status) {
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    int n = 1;
    if (msg == NULL) {    /* an error outside msghandler, and not a string */
      msg = lua_pushfstring(L, "(error object is a %s value)",
                            luaL_typename(L, -1));
      n = 2;
    }
    l_message(progname, msg);
    lua_pop(L, n);
  }
  return status;
}


/*
** Message handler: turn any error object into a string and add a
** traceback. A non-string error object with __tostring is described by
** it; any other is described by its type.
*/
static int msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      msg = lua_tostring(L, -1);
    else
      msg = lua_pushfstring(L, "(error object is a %s value)",
                            luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}


/* call the function below 'narg' arguments under msghandler */
static int docall(lua_State *L, int narg, int nres) {
  int status;
  int base = lua_gettop(L) - narg;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  status = lua_pcall(L, narg, nres, base);
  lua_remove(L, base);
  return status;
}


static void print_version(void) {
  printf("mchost %s (methodcache %s) on %s\n",
         MCHOST_VERSION, METHODCACHE_VERSION, LUA_RELEASE);
  fflush(stdout);
}


/*
** The global 'arg', as lua.c makes it: the script name at index 0, its
** arguments at 1..n, the interpreter and its options at negative indices.
** Without a script, the interpreter name is at index 0.
*/
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


/* -l mod: global mod = require("mod"); -l g=mod: global g = require("mod") */
static int dolibrary(lua_State *L, const char *spec) {
  int status;
  const char *eq = strchr(spec, '=');
  const char *modname = eq ? eq + 1 : spec;
  lua_getglobal(L, "require");
  lua_pushstring(L, modname);
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


/*
** Check the options; return the has_* bits, or has_error with *first set
** to the bad option. *first is set to the index of the script (argc when
** there is none).
*/
static int collectargs(char **argv, int *first) {
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
        if (strcmp(argv[i], "--help") == 0)
          args |= has_help;
        else if (strcmp(argv[i], "--gc=incremental") == 0)
          args = (args & ~has_gcgen) | has_gcinc;
        else if (strcmp(argv[i], "--gc=generational") == 0)
          args = (args & ~has_gcinc) | has_gcgen;
        else
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


/* ---------------------------------------------------------------------
** The read-eval-print loop, as lua.c's without readline.
** --------------------------------------------------------------------- */

#define EOFMARK "<eof>"
#define EOFMARKLEN (sizeof(EOFMARK) - 1)

/* push the prompt (_PROMPT/_PROMPT2 if set) and return it */
static const char *get_prompt(lua_State *L, int firstline) {
  if (lua_getglobal(L, firstline ? "_PROMPT" : "_PROMPT2") == LUA_TNIL) {
    lua_pop(L, 1);
    lua_pushstring(L, firstline ? MCHOST_PROMPT : MCHOST_PROMPT2);
    return lua_tostring(L, -1);
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


/* read a line and push it; return 0 at end of input */
static int pushline(lua_State *L, int firstline) {
  char buffer[MCHOST_MAXINPUT];
  size_t l;
  const char *prompt = get_prompt(L, firstline);
  fputs(prompt, stdout);
  fflush(stdout);
  lua_pop(L, 1);
  if (fgets(buffer, (int)sizeof(buffer), stdin) == NULL)
    return 0;
  l = strlen(buffer);
  if (l > 0 && buffer[l - 1] == '\n')
    buffer[--l] = '\0';
  if (firstline && buffer[0] == '=')   /* '=expr', as in Lua 5.2 */
    lua_pushfstring(L, "return %s", buffer + 1);
  else
    lua_pushlstring(L, buffer, l);
  return 1;
}


/* try the line as 'return line;' so that expressions print their value */
static int addreturn(lua_State *L) {
  const char *line = lua_tostring(L, -1);
  const char *retline = lua_pushfstring(L, "return %s;", line);
  int status = luaL_loadbuffer(L, retline, strlen(retline), "=stdin");
  if (status == LUA_OK)
    lua_remove(L, -2);
  else
    lua_pop(L, 2);
  return status;
}


/*
** Read continuation lines until the chunk is complete. Leaves the chunk,
** or the syntax error (also at end of input in mid-statement), on top.
*/
static int multiline(lua_State *L) {
  for (;;) {
    size_t len;
    const char *line = lua_tolstring(L, 1, &len);
    int status = luaL_loadbuffer(L, line, len, "=stdin");
    if (!incomplete(L, status) || !pushline(L, 0))
      return status;
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


/* --------------------------------------------------------------------- */

static int pmain(lua_State *L) {
  int argc = (int)lua_tointeger(L, 1);
  char **argv = (char **)lua_touserdata(L, 2);
  int script;
  int args = collectargs(argv, &script);
  luaL_checkversion(L);
  if (args == has_error) {
    bad_option(argv[script]);
    return 0;
  }
  if (args & has_help) {
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
    if (mc_stdin_is_tty()) {
      print_version();
      doREPL(L);
    }
    else if (dofile(L, NULL) != LUA_OK)
      return 0;
  }
  lua_pushboolean(L, 1);
  return 1;
}


int main(int argc, char **argv) {
  int status, result;
  lua_State *L;
  if (argv[0] != NULL && argv[0][0] != '\0') {
    const char *slash = strrchr(argv[0], '/');
    progname = slash ? slash + 1 : argv[0];
  }
  L = luaL_newstate();
  if (L == NULL) {
    l_message(progname, "cannot create state: not enough memory");
    return EXIT_FAILURE;
  }
  lua_gc(L, LUA_GCSTOP);      /* no collection while building the state */
  lua_pushcfunction(L, pmain);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  status = lua_pcall(L, 2, 1, 0);
  result = lua_toboolean(L, -1);
  report(L, status);
  lua_close(L);
  return (result && status == LUA_OK) ? EXIT_SUCCESS : EXIT_FAILURE;
}
