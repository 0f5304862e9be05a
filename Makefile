# methodcache: build, test, install.
#
#   make            build/methodcache/core.so, build/libmethodcache.a and .so, ./mchost
#   make test       install missing tools (apt-get, as root), build, run the specs
#                   but those tagged #slow (make test-long runs those)
#   make embed-check   examples/embed built with pkg-config against a staged
#                   install, shared and static, run and checked (make test does it)
#   make demo       ... and run examples/leak_demo.lua through mchost
#   make bench      ... and run bench/run.lua through mchost
#   make install    PREFIX=/usr/local DESTDIR= (Lua 5.4 module tree, libraries, header,
#                   methodcache.pc, mchost and its man page, docs)
#   make check-warnings   rebuild everything with -Werror
#   make valgrind   examples and a quick spec subset under valgrind (slow)
#   make check-asan the C sources and mchost with AddressSanitizer and UBSan
#                   (clang) in build-asan/, and every spec through that mchost
#   make rock-check luarocks make into a temporary tree, then require from it
#   make lint       luacheck over every Lua file we write
#   make docs       the HTML API reference in build/doc/ (LDoc)
#   make dist       dist/: the source tarball and the .src.rock (dist-check: and
#                   install that rock offline into a fresh tree, and try it)
#   make fuzz       the libFuzzer targets of fuzz/ (clang), FUZZ_SECONDS=60 each
#
# Everything is overridable: make LUA=lua5.4 LUA_INCDIR=... CC=clang CFLAGS=-O0

LUA         ?= lua5.4
LUA_VERSION ?= 5.4
LUA_INCDIR  ?= /usr/include/lua5.4
# Debian's shared liblua5.4, so that C modules (cqueues, lfs...) load in mchost
LUA_LIBS    ?= -llua5.4 -lm -ldl
BUSTED      ?= busted
LUAROCKS    ?= luarocks
VALGRIND    ?= valgrind

PREFIX      ?= /usr/local
DESTDIR     ?=
BINDIR      ?= $(PREFIX)/bin
LIBDIR      ?= $(PREFIX)/lib
INCLUDEDIR  ?= $(PREFIX)/include
LUA_CMODDIR ?= $(LIBDIR)/lua/$(LUA_VERSION)
LUA_LMODDIR ?= $(PREFIX)/share/lua/$(LUA_VERSION)
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
MANDIR      ?= $(PREFIX)/share/man
DOCDIR      ?= $(PREFIX)/share/doc/methodcache

CC          ?= cc
AR          ?= ar
OBJCOPY     ?= objcopy
PKG_CONFIG  ?= pkg-config
CFLAGS      ?= -O2 -g
WARN        ?= -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
               -Wdeclaration-after-statement -Wpointer-arith -Wundef
# -Werror in CI (CI=true) and in `make check-warnings`; the normal build must
# have no warnings either, it just does not stop on one
ifeq ($(CI),true)
WERROR      ?= -Werror
else
WERROR      ?=
endif
# the Lua headers; pkg-config only when LUA_INCDIR has none (evaluated late,
# so headers that tools/deps.sh has just installed are seen)
LUA_CFLAGS  ?= $(if $(wildcard $(LUA_INCDIR)/lua.h),-I$(LUA_INCDIR),$(shell pkg-config --cflags lua5.4 2>/dev/null))

# what every object needs whatever CFLAGS says: position independence for
# the shared objects, and no symbol exported but those marked MC_API
MC_CFLAGS    = -fPIC -fvisibility=hidden $(WARN) $(WERROR) $(LUA_CFLAGS) -Icsrc
SHARED_FLAGS ?= -shared

# mchost edits lines with GNU readline when its header is there (Debian:
# libreadline-dev), as lua.c does with LUA_USE_READLINE; READLINE=no
# builds without it. Evaluated late, like LUA_CFLAGS.
READLINE    ?= $(if $(shell printf '\043include <stdio.h>\n\043include <readline/readline.h>\n' | \
                 $(CC) -E -x c - >/dev/null 2>&1 && echo yes),yes,no)
HOST_CFLAGS  = $(if $(filter yes,$(READLINE)),-DLUA_USE_READLINE)
HOST_LIBS    = $(if $(filter yes,$(READLINE)),-lreadline)

CORE_SRC  = $(filter-out csrc/mc_host.c csrc/mc_embed.c,$(wildcard csrc/mc_*.c))
CORE_OBJ  = $(patsubst csrc/%.c,build/%.o,$(CORE_SRC))
EMBED_OBJ = build/mc_embed.o
HOST_OBJ  = build/mc_host.o
HEADERS   = $(wildcard csrc/*.h)

CORE_SO   = build/methodcache/core.so
STATIC    = build/libmethodcache.a
HOST      = mchost
ROCKSPEC  = rockspec/methodcache-scm-1.rockspec

# libmethodcache.so.VERSION, soname libmethodcache.so.SOVERSION: the
# soname changes when the ABI breaks (while at 0.x, at any minor version)
VERSION   := $(shell sed -n 's/^\#define METHODCACHE_VERSION "\(.*\)"/\1/p' csrc/methodcache.h)
SOVERSION ?= 0
SONAME     = libmethodcache.so.$(SOVERSION)
SHARED     = build/libmethodcache.so.$(VERSION)
SONAME_FLAGS ?= -Wl,-soname,$(SONAME)

# specs run by `make valgrind`: all of them but those tagged #slow (busted
# tags: it("does a million things #slow", ...)); they also see MC_VALGRIND=1
VALGRIND_SPECS ?= spec
VALGRIND_BUSTED_FLAGS ?= --exclude-tags=slow
VALGRIND_FLAGS ?= --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
                  --show-leak-kinds=definite --num-callers=30 -q

.PHONY: all test demo bench install uninstall clean deps check-warnings valgrind rock-check lint \
        embed-check FORCE check-asan

all: $(CORE_SO) $(STATIC) $(SHARED) $(HOST)

build build/methodcache:
	@mkdir -p $@

# every object depends on every header: there are few, and a stale object
# built against an old struct layout is the worst kind of bug
build/%.o: csrc/%.c $(HEADERS) Makefile | build
	$(CC) $(CPPFLAGS) $(MC_CFLAGS) $(CFLAGS) -c -o $@ $<

# rebuilt when readline comes or goes (tools/deps.sh may install it)
$(HOST_OBJ): csrc/mc_host.c $(HEADERS) Makefile build/host-flags | build
	$(CC) $(CPPFLAGS) $(MC_CFLAGS) $(HOST_CFLAGS) $(CFLAGS) -c -o $@ $<

build/host-flags: FORCE | build
	@echo '$(HOST_CFLAGS) $(HOST_LIBS)' | cmp -s - $@ || echo '$(HOST_CFLAGS) $(HOST_LIBS)' > $@

FORCE:

# no -llua: the module takes the Lua API from the interpreter that loads it
$(CORE_SO): $(CORE_OBJ) | build/methodcache
	$(CC) $(SHARED_FLAGS) $(LDFLAGS) -o $@ $(CORE_OBJ)

# The archive holds one object, linked from all of them with the hidden
# symbols made local: a program linking it sees only the MC_API names, as
# it would with the shared library, so our internal names can never clash
# with its own. Without objcopy, a plain archive of the objects.
HAVE_OBJCOPY = $(shell command -v $(OBJCOPY) 2>/dev/null)
$(STATIC): $(CORE_OBJ) $(EMBED_OBJ)
	rm -f $@ build/libmethodcache.o
	$(if $(HAVE_OBJCOPY),$(CC) -r -nostdlib -o build/libmethodcache.o $^ && \
	  $(OBJCOPY) --localize-hidden build/libmethodcache.o && \
	  $(AR) rcs $@ build/libmethodcache.o,$(AR) rcs $@ $^)

# no -llua either: the program provides Lua (Debian's liblua5.4-*.so.0
# do the same), so a program linked with a static Lua has one copy of it
$(SHARED): $(CORE_OBJ) $(EMBED_OBJ)
	$(CC) $(SHARED_FLAGS) $(SONAME_FLAGS) $(LDFLAGS) -o $@ $(CORE_OBJ) $(EMBED_OBJ)
	ln -sf libmethodcache.so.$(VERSION) build/$(SONAME)
	ln -sf $(SONAME) build/libmethodcache.so

$(HOST): $(HOST_OBJ) $(STATIC)
	$(CC) $(LDFLAGS) -o $@ $(HOST_OBJ) $(STATIC) $(LUA_LIBS) $(HOST_LIBS)

# the targets that need tools first check for them (and install them as
# root), then build in a fresh make, which sees freshly installed headers
test:
	@sh tools/deps.sh test
	@$(MAKE) --no-print-directory all $(TESTING_SO)
	@$(MAKE) --no-print-directory embed-check
	@LUA=$(LUA) BUSTED=$(BUSTED) sh tools/busted.sh --each --exclude-tags=slow $(BUSTED_ARGS)

demo:
	@sh tools/deps.sh demo
	@$(MAKE) --no-print-directory all
	./$(HOST) examples/leak_demo.lua

bench:
	@sh tools/deps.sh bench
	@if [ ! -f bench/run.lua ]; then \
	  echo "make bench: bench/run.lua is missing (the benchmark is not written yet)" >&2; \
	  exit 1; \
	fi
	@$(MAKE) --no-print-directory all
	./$(HOST) bench/run.lua

deps:
	@sh tools/deps.sh all

check-warnings:
	@$(MAKE) --no-print-directory -B WERROR=-Werror all

# mchost closes its state, so a definite leak is ours; the specs run under
# lua5.4 directly (busted's own launcher may be Lua 5.1)
valgrind:
	@sh tools/deps.sh valgrind
	@$(MAKE) --no-print-directory all $(TESTING_SO)
	@set -e; for f in $(wildcard examples/*.lua); do \
	  echo "valgrind: mchost $$f"; \
	  $(VALGRIND) $(VALGRIND_FLAGS) ./$(HOST) $$f > /dev/null; \
	done
	@echo "valgrind: examples/embed/embed"
	@$(MAKE) --no-print-directory embed-check EMBED_PROGS=embed \
	  EMBED_RUNNER="$(VALGRIND) $(VALGRIND_FLAGS)"
	@echo "valgrind: busted $(VALGRIND_SPECS)"
	@MC_VALGRIND=1 $(VALGRIND) $(VALGRIND_FLAGS) $(LUA) "$$(command -v $(BUSTED))" \
	  --ignore-lua -o utfTerminal $(VALGRIND_BUSTED_FLAGS) $(VALGRIND_SPECS)

# methodcache.testing (csrc/test/): failafter(n) for spec/oom_spec.lua. Built
# by the test targets only: neither installed nor part of the rock.
TESTING_SO = build/methodcache/testing.so

$(TESTING_SO): csrc/test/mc_testing.c csrc/methodcache.h Makefile | build/methodcache
	$(CC) $(CPPFLAGS) $(MC_CFLAGS) $(CFLAGS) $(SHARED_FLAGS) $(LDFLAGS) -o $@ $<

# check-asan: everything in $(ASAN_DIR), the normal build untouched. clang,
# because it links the sanitizer runtime statically into mchost and exports
# it, so Debian's shared liblua5.4 and the C modules busted loads resolve
# malloc and free to it without LD_PRELOAD. mchost preloads methodcache and
# methodcache.core (its own instrumented copy), so require() never reaches
# build/methodcache/core.so; testing.so comes from $(ASAN_DIR) through
# --cpath. LeakSanitizer stays on: mchost closes its state, and busted ends
# with os.exit(code, true), which closes it too. ASAN_OPTIONS are the
# defaults; UBSan only adds a stack trace to its report.
ASAN_DIR   ?= build-asan
ASAN_CC    ?= clang
ASAN_FLAGS ?= -fsanitize=address,undefined -fno-sanitize-recover=all \
              -fno-omit-frame-pointer -g -O1 -DMC_CHECK_PARTS
ASAN_OBJ    = $(patsubst csrc/%.c,$(ASAN_DIR)/%.o,$(CORE_SRC) csrc/mc_embed.c csrc/mc_host.c)
ASAN_HOST   = $(ASAN_DIR)/mchost
ASAN_TESTING = $(ASAN_DIR)/methodcache/testing.so
ASAN_BUSTED = $(ASAN_DIR)/busted

$(ASAN_DIR)/%.o: csrc/%.c $(HEADERS) Makefile
	@mkdir -p $(ASAN_DIR)
	$(ASAN_CC) $(CPPFLAGS) $(MC_CFLAGS) $(ASAN_FLAGS) -c -o $@ $<

$(ASAN_HOST): $(ASAN_OBJ)
	$(ASAN_CC) $(ASAN_FLAGS) $(LDFLAGS) -o $@ $(ASAN_OBJ) $(LUA_LIBS)

$(ASAN_TESTING): csrc/test/mc_testing.c csrc/methodcache.h Makefile
	@mkdir -p $(ASAN_DIR)/methodcache
	$(ASAN_CC) $(CPPFLAGS) $(MC_CFLAGS) $(ASAN_FLAGS) $(SHARED_FLAGS) -o $@ $<

# tools/busted.sh runs "$$BUSTED --lua=..."; this one runs busted's script
# inside the instrumented mchost, and --ignore-lua keeps busted from
# starting lua5.4 again (as .busted asks)
$(ASAN_BUSTED): Makefile
	@mkdir -p $(ASAN_DIR)
	@printf '#!/bin/sh\nexec %s "%s" --ignore-lua --cpath="%s/?.so" "$$@"\n' \
	  "$(ASAN_HOST)" "$$(command -v $(BUSTED))" "$(ASAN_DIR)" > $@
	@chmod +x $@

check-asan:
	@sh tools/deps.sh asan
	@$(MAKE) --no-print-directory $(ASAN_HOST) $(ASAN_TESTING) $(ASAN_BUSTED)
	@UBSAN_OPTIONS=print_stacktrace=1 LUA=$(LUA) BUSTED=$(ASAN_BUSTED) \
	  sh tools/busted.sh $(BUSTED_ARGS)

# luarocks builds next to the sources, so it works on a copy; --deps-mode=none
# keeps it offline (the only dependency is Lua itself)
rock-check:
	@sh tools/deps.sh rock
	@set -e; tmp=$$(mktemp -d "$${TMPDIR:-/tmp}/mc-rock.XXXXXX"); \
	trap 'rm -rf "$$tmp"' EXIT; \
	mkdir "$$tmp/src"; cp -R csrc lua rockspec docs types README.md "$$tmp/src/"; \
	(cd "$$tmp/src" && $(LUAROCKS) --lua-version $(LUA_VERSION) --tree "$$tmp/tree" \
	  make --deps-mode=none $(ROCKSPEC)) > "$$tmp/log" 2>&1 || { cat "$$tmp/log"; exit 1; }; \
	LUA_PATH="$$tmp/tree/share/lua/$(LUA_VERSION)/?.lua" \
	LUA_CPATH="$$tmp/tree/lib/lua/$(LUA_VERSION)/?.so" \
	$(LUA) tools/smoke.lua "$$tmp/tree"

# methodcache.pc: the paths under PREFIX are written as ${prefix}/..., so
# that pkg-config --define-variable=prefix=... relocates a staged tree
# (embed-check); Lua's flags are those this build used
PC_LUA_LIBS ?= -llua$(LUA_VERSION)
PC_SUBST = -e 's|@VERSION@|$(VERSION)|' -e 's|@PREFIX@|$(PREFIX)|' \
           -e 's|@LIBDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))|' \
           -e 's|@INCLUDEDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))|' \
           -e 's|@LUA_CFLAGS@|$(strip $(LUA_CFLAGS))|' -e 's|@LUA_LIBS@|$(PC_LUA_LIBS)|'
DOCS = README.md CHANGELOG.md LICENSE docs/API.md docs/DESIGN.md docs/LAYOUT.md docs/EMBEDDING.md

install: all
	install -d $(DESTDIR)$(LUA_CMODDIR)/methodcache $(DESTDIR)$(LUA_LMODDIR)/methodcache \
	  $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(INCLUDEDIR) \
	  $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(DOCDIR)
	install -m 0755 $(CORE_SO) $(DESTDIR)$(LUA_CMODDIR)/methodcache/core.so
	install -m 0644 lua/methodcache.lua $(DESTDIR)$(LUA_LMODDIR)/methodcache.lua
	install -m 0644 lua/methodcache/cqueues.lua $(DESTDIR)$(LUA_LMODDIR)/methodcache/cqueues.lua
	install -m 0644 $(STATIC) $(DESTDIR)$(LIBDIR)/libmethodcache.a
	install -m 0755 $(SHARED) $(DESTDIR)$(LIBDIR)/libmethodcache.so.$(VERSION)
	ln -sf libmethodcache.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libmethodcache.so
	sed $(PC_SUBST) tools/methodcache.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/methodcache.pc
	chmod 0644 $(DESTDIR)$(PKGCONFIGDIR)/methodcache.pc
	install -m 0644 csrc/methodcache.h $(DESTDIR)$(INCLUDEDIR)/methodcache.h
	install -m 0755 $(HOST) $(DESTDIR)$(BINDIR)/mchost
	install -m 0644 docs/mchost.1 $(DESTDIR)$(MANDIR)/man1/mchost.1
	install -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)/

uninstall:
	rm -f $(DESTDIR)$(LUA_CMODDIR)/methodcache/core.so \
	  $(DESTDIR)$(LUA_LMODDIR)/methodcache.lua \
	  $(DESTDIR)$(LUA_LMODDIR)/methodcache/cqueues.lua \
	  $(DESTDIR)$(LIBDIR)/libmethodcache.a \
	  $(DESTDIR)$(LIBDIR)/libmethodcache.so.$(VERSION) \
	  $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libmethodcache.so \
	  $(DESTDIR)$(PKGCONFIGDIR)/methodcache.pc \
	  $(DESTDIR)$(INCLUDEDIR)/methodcache.h \
	  $(DESTDIR)$(BINDIR)/mchost \
	  $(DESTDIR)$(MANDIR)/man1/mchost.1
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(DOCS)))
	rmdir $(DESTDIR)$(LUA_CMODDIR)/methodcache $(DESTDIR)$(LUA_LMODDIR)/methodcache $(DESTDIR)$(DOCDIR) 2>/dev/null || true

# examples/embed as a C developer builds it: `make install` into a staged
# tree, then its own Makefile, which asks pkg-config, for the shared and the
# static library; both programs must print examples/embed/expected.txt.
# EMBED_RUNNER runs them (make valgrind sets it, for the shared one only:
# valgrind cannot follow malloc in a static program). Assumes LIBDIR and
# INCLUDEDIR under PREFIX, as by default.
EMBED_RUNNER ?=
EMBED_PROGS  ?= embed embed-static
embed-check: all
	@set -e; stage=$$(mktemp -d "$${TMPDIR:-/tmp}/mc-stage.XXXXXX"); \
	trap 'rm -rf "$$stage"' EXIT; \
	$(MAKE) --no-print-directory install DESTDIR="$$stage" > "$$stage/install.log"; \
	mkdir "$$stage/app"; cp examples/embed/Makefile examples/embed/embed.c "$$stage/app/"; \
	PKG_CONFIG_PATH="$$stage$(PKGCONFIGDIR)" $(MAKE) --no-print-directory -C "$$stage/app" \
	  PKG_CONFIG="$(PKG_CONFIG) --define-variable=prefix=$$stage$(PREFIX)" \
	  $(EMBED_PROGS) > "$$stage/build.log" 2>&1 || { cat "$$stage/build.log"; exit 1; }; \
	for prog in $(EMBED_PROGS); do \
	  $(EMBED_RUNNER) "$$stage/app/$$prog" > "$$stage/$$prog.out"; \
	  diff -u examples/embed/expected.txt "$$stage/$$prog.out"; \
	  echo "embed-check: examples/embed/$$prog, built with pkg-config against a staged install: ok"; \
	done

clean:
	rm -rf build $(HOST) luarocks-tree $(ASAN_DIR)

# {====== make test-long, lint, docs, dist (issue 9) ======
# test-long  the specs tagged #slow, which make test leaves out: the
#            200,000-operation differential runs and the 100,000-key floods
# lint       luacheck over every Lua file we write (.luacheckrc says which)
# docs       build/doc/index.html from config.ld: LDoc must print no warning;
#            then tools/check_api.lua: the reference and types/methodcache.lua
#            name every public function, cache method and option
# dist       dist/methodcache-V.tar.gz (git archive of HEAD: commit first) and
#            dist/methodcache-V-1.src.rock (the release rockspec of HEAD with it)
# dist-check dist, then installs the .src.rock offline into a fresh tree and
#            runs tools/smoke.lua (docs installed) and check_exports.sh on it
LDOC      ?= ldoc
LUACHECK  ?= luacheck
ZIP       ?= zip
VERSION    = $(shell sed -n 's/^\#define METHODCACHE_VERSION "\(.*\)"$$/\1/p' csrc/methodcache.h)
DIST       = methodcache-$(VERSION)
ROCK       = $(DIST)-1
DEV_PATHS  = LUA_PATH='lua/?.lua;;' LUA_CPATH='build/?.so;;'

.PHONY: test-long docs dist dist-check clean-rock

test-long:
	@sh tools/deps.sh test
	@$(MAKE) --no-print-directory all $(TESTING_SO)
	@LUA=$(LUA) BUSTED=$(BUSTED) sh tools/busted.sh --each --tags=slow $(BUSTED_ARGS)

lint:
	@sh tools/deps.sh lint
	$(LUACHECK) .

# LDoc's own chatter is three known lines; anything else is a warning
docs:
	@sh tools/deps.sh docs
	@$(MAKE) --no-print-directory -s $(CORE_SO)
	@$(LDOC) --fatalwarnings --testing . > build/ldoc.log 2>&1 || { cat build/ldoc.log; exit 1; }
	@if grep -Ev '^(reading configuration from|found master module|output written to)[[:space:]]' \
	     build/ldoc.log; then echo "docs: LDoc warned" >&2; exit 1; fi
	@echo "docs: build/doc/index.html"
	@$(DEV_PATHS) $(LUA) tools/check_api.lua

dist:
	@sh tools/deps.sh dist
	@git cat-file -e HEAD:rockspec/$(ROCK).rockspec || { \
	  echo "dist: rockspec/$(ROCK).rockspec is not committed" >&2; exit 1; }
	@git diff --quiet HEAD || echo "dist: the tarball is HEAD; uncommitted changes are not in it" >&2
	@rm -rf dist && mkdir dist
	git archive --format=tar.gz --prefix=$(DIST)/ -o dist/$(DIST).tar.gz HEAD
	git show HEAD:rockspec/$(ROCK).rockspec > dist/$(ROCK).rockspec
	cd dist && $(ZIP) -q $(ROCK).src.rock $(ROCK).rockspec $(DIST).tar.gz
	@rm dist/$(ROCK).rockspec
	@ls -l dist

# --deps-mode=none keeps it offline; a src.rock never fetches its source
dist-check: dist
	@set -e; tmp=$$(mktemp -d "$${TMPDIR:-/tmp}/mc-dist.XXXXXX"); \
	trap 'rm -rf "$$tmp"' EXIT; \
	$(LUAROCKS) --lua-version $(LUA_VERSION) --tree "$$tmp/tree" install --deps-mode=none \
	  dist/$(ROCK).src.rock > "$$tmp/log" 2>&1 || { cat "$$tmp/log"; exit 1; }; \
	LUA_PATH="$$tmp/tree/share/lua/$(LUA_VERSION)/?.lua" \
	LUA_CPATH="$$tmp/tree/lib/lua/$(LUA_VERSION)/?.so" \
	$(LUA) tools/smoke.lua "$$tmp/tree"; \
	sh tools/check_exports.sh "$$tmp/tree/lib/lua/$(LUA_VERSION)/methodcache/core.so" && \
	echo "dist-check: core.so exports only MC_API symbols"

# what `luarocks make` leaves in the checkout, and make dist
clean: clean-rock
clean-rock:
	rm -rf dist
	rm -f csrc/*.o methodcache/core.so methodcache-*.rock
	@if [ -d methodcache ]; then rmdir methodcache; fi
# }======

# {====== make fuzz: libFuzzer targets (fuzz/README.md) ======
# Each target runs FUZZ_SECONDS from a copy of its committed corpus
# (fuzz/corpus/<target>), so runs never write into the tree; a crash, leak
# or sanitizer report fails the target and its input is kept in
# build-fuzz/crashes/.  Objects are built apart, in build-fuzz/.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   ?= -rss_limit_mb=2048 -timeout=25
FUZZ_CFLAGS  ?= -O1 -g -fno-omit-frame-pointer
FUZZ_SAN      = -fsanitize=address,undefined -fno-sanitize-recover=all \
                -DMC_CHECK_PARTS
FUZZ_TARGETS  = fuzz_core fuzz_keys
FUZZ_COMPILE  = $(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) $(WARN) $(WERROR) \
                $(LUA_CFLAGS) -Icsrc -Ibuild
FUZZ_LIB_OBJ  = $(patsubst csrc/%.c,build-fuzz/%.o, \
                  $(filter-out csrc/mc_host.c,$(wildcard csrc/mc_*.c)))
FUZZ_CORE_OBJ = build-fuzz/mc_cache.o build-fuzz/mc_key.o build-fuzz/mc_check.o \
                build-fuzz/mc_budget.o

.PHONY: fuzz fuzz-build clean-fuzz

fuzz-build: $(addprefix build-fuzz/,$(FUZZ_TARGETS))

build-fuzz:
	@mkdir -p $@

build-fuzz/%.o: csrc/%.c $(HEADERS) Makefile | build-fuzz
	$(FUZZ_COMPILE) -fsanitize=fuzzer-no-link -c -o $@ $<

build-fuzz/mc_embed.o: $(LUALAYER)

build-fuzz/fuzz_core: fuzz/fuzz_core.c fuzz/fuzz.h $(FUZZ_CORE_OBJ)
	$(FUZZ_COMPILE) -fsanitize=fuzzer -o $@ $< $(FUZZ_CORE_OBJ) -lm

build-fuzz/fuzz_keys: fuzz/fuzz_keys.c fuzz/fuzz.h $(FUZZ_LIB_OBJ)
	$(FUZZ_COMPILE) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJ) $(LUA_LIBS)

fuzz:
	@sh tools/deps.sh fuzz
	@$(MAKE) --no-print-directory fuzz-build
	@set -e; mkdir -p build-fuzz/crashes; \
	for t in $(FUZZ_TARGETS); do \
	  tmp=$$(mktemp -d "$${TMPDIR:-/tmp}/mc-fuzz.XXXXXX"); \
	  cp fuzz/corpus/$$t/* "$$tmp/"; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	  if ! UBSAN_OPTIONS=print_stacktrace=1 \
	       build-fuzz/$$t -max_total_time=$(FUZZ_SECONDS) $(FUZZ_FLAGS) \
	       -print_final_stats=1 -artifact_prefix="$$tmp/" "$$tmp" \
	       > "$$tmp.log" 2>&1; then \
	    grep -m1 -A30 -E '^==[0-9]+==ERROR|check failed|runtime error' \
	      "$$tmp.log" || tail -n 40 "$$tmp.log"; \
	    cp "$$tmp"/crash-* "$$tmp"/leak-* "$$tmp"/timeout-* "$$tmp"/oom-* \
	      build-fuzz/crashes/ 2>/dev/null || true; \
	    echo "fuzz: $$t FAILED; reproducers in build-fuzz/crashes/" >&2; \
	    rm -rf "$$tmp" "$$tmp.log"; exit 1; \
	  fi; \
	  grep -E '^#[0-9]+[[:space:]]+DONE|stat::(number_of_executed_units|average_exec_per_sec)' \
	    "$$tmp.log" || true; \
	  rm -rf "$$tmp" "$$tmp.log"; \
	done

clean: clean-fuzz
clean-fuzz:
	rm -rf build-fuzz
# }======
