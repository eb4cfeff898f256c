# ccwrap — Clever Cloud's deployment hooks on any machine.
# make, make check, make demo, make install [PREFIX=… DESTDIR=… SYSCONFDIR=…], make uninstall,
# make clean, make bench, make fuzz, make format, make deb, make image, make check-container.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= $(PREFIX)/etc
DESTDIR ?=

CC ?= cc
CFLAGS ?= -O2 -g
PKGS = libconfuse jansson
WARN = -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
       -Wvla
HARDEN = -fstack-protector-strong -D_FORTIFY_SOURCE=2
HARDEN_LD = -Wl,-z,relro,-z,now
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
SHARED_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lconfuse -ljansson)
# libconfuse and jansson are linked in (the loader has two libraries fewer to map and bind at
# each start) and glibc stays shared (NSS for user and host names); see doc/benchmarks.md's benchmark
# table. DYNAMIC=1 links them as shared libraries too. STATIC=1: one static-pie binary, which
# starts faster still; glibc then loads NSS modules for host names in readiness specs.
PKG_LIBS = $(if $(STATIC),$(shell pkg-config --static --libs $(PKGS)),$(if $(DYNAMIC),$(SHARED_LIBS),\
             -Wl,-Bstatic $(SHARED_LIBS) -Wl,-Bdynamic))
STATIC_LD = $(if $(STATIC),-static-pie)
ALL_CPPFLAGS = -D_GNU_SOURCE -DSYSCONFDIR='"$(SYSCONFDIR)"' -DLIBEXECDIR='"$(LIBEXECDIR)"' \
               $(CPPFLAGS)
ALL_CFLAGS = -std=c11 $(WARN) $(if $(WERROR),-Werror) $(HARDEN) $(PKG_CFLAGS) $(CFLAGS)

SRCS = wrapper/main.c wrapper/config.c wrapper/hooks.c wrapper/legacy.c wrapper/spawn.c \
       wrapper/signals.c wrapper/ready.c wrapper/phase.c wrapper/point.c wrapper/log.c wrapper/msg.c \
       wrapper/util.c wrapper/ops.c wrapper/tree.c wrapper/shell.c wrapper/listen.c \
       wrapper/worker.c wrapper/trust.c wrapper/envfile.c \
       wrapper/problems.c wrapper/migrate.c wrapper/rewrite.c wrapper/beneath.c \
       wrapper/cache.c wrapper/storespec.c wrapper/inplace.c \
       wrapper/cronexpr.c wrapper/cron.c wrapper/instance.c wrapper/dotenv.c wrapper/value.c \
       wrapper/children.c wrapper/cronrun.c \
       wrapper/points.c wrapper/conftext.c wrapper/confload.c wrapper/valuelex.c \
       wrapper/valueword.c wrapper/valueprog.c wrapper/check.c \
       wrapper/ready_probe.c wrapper/ready_notify.c wrapper/ready_text.c
OBJS = $(SRCS:.c=.o)
# Each room has its own header (tests/layers checks their order); an object is rebuilt when a
# header it includes changes (-MMD: the compiler writes wrapper/NAME.d beside NAME.o).
HDRS = $(wildcard wrapper/*.h)
# The build cache helper (§10): only it links libarchive, so that ccwrap without a cache
# starts as fast as before; libcurl's header is used, and the library loaded (dlopen) by the
# helper only for an http(s) or s3 store. libcrypto (OpenSSL) hashes and signs archives.
CACHE_PKGS = libarchive libcurl libcrypto
CACHE_LIBS = $$(pkg-config --libs libarchive libcrypto) -ldl
CACHE_SRCS = wrapper/cache/main.c wrapper/cache/pack.c wrapper/cache/unpack.c \
             wrapper/cache/unpack_entry.c wrapper/cache/staging.c wrapper/cache/below.c \
             wrapper/cache/store.c wrapper/cache/remote.c wrapper/cache/sign.c wrapper/cache/deps.c \
             wrapper/cache/deps_find.c wrapper/cache/env.c wrapper/cache/tally.c \
             wrapper/storespec.c wrapper/msg.c wrapper/util.c
CACHE_HDRS = $(wildcard wrapper/cache/*.h) wrapper/storespec.h wrapper/msg.h wrapper/util.h \
             wrapper/ccwrap.h
TESTAPP = tests/fixtures/testapp

all: ccwrap ccwrap-cache

ccwrap-cache: $(CACHE_SRCS) $(CACHE_HDRS)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $$(pkg-config --cflags $(CACHE_PKGS)) $(HARDEN_LD) \
	    $(LDFLAGS) -o $@ $(CACHE_SRCS) $(CACHE_LIBS) $(LDLIBS)

ccwrap: $(OBJS)
	$(CC) $(ALL_CFLAGS) $(HARDEN_LD) $(STATIC_LD) $(LDFLAGS) -o $@ $(OBJS) $(PKG_LIBS) $(LDLIBS)

# The benchmark's variants, built beside the ordinary one: shared libraries, static-pie.
build-dynamic/ccwrap: $(OBJS)
	@mkdir -p build-dynamic
	$(CC) $(ALL_CFLAGS) $(HARDEN_LD) $(LDFLAGS) -o $@ $(OBJS) $(SHARED_LIBS) $(LDLIBS)

build-static/ccwrap: $(SRCS) $(HDRS)
	@mkdir -p build-static
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -fPIE $(HARDEN_LD) -static-pie $(LDFLAGS) -o $@ $(SRCS) \
	    $$(pkg-config --static --libs $(PKGS)) 2>&1 | { grep -v -e "statically linked applications" \
	    -e "in function" || true; }

wrapper/%.o: wrapper/%.c
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<
-include $(OBJS:.o=.d)

# SYSCONFDIR and LIBEXECDIR are compiled in: `make install PREFIX=/usr` after a plain `make`
# rebuilds what names them, so the binary looks where the configuration and helper are.
.sysconfdir: FORCE
	@echo '$(SYSCONFDIR) $(LIBEXECDIR)' | cmp -s - $@ || echo '$(SYSCONFDIR) $(LIBEXECDIR)' >$@
wrapper/confload.o wrapper/main.o wrapper/cache.o: .sysconfdir
FORCE:

$(TESTAPP): $(TESTAPP).c
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(if $(WERROR),-Werror) $(CFLAGS) -o $@ $<

# Runs a command that cannot open netlink sockets (tests/ready-house.bats). Built with the
# testapp, which every stage that runs the suites asks for.
NONETLINK = tests/fixtures/nonetlink
$(TESTAPP): | $(NONETLINK)
$(NONETLINK): $(NONETLINK).c
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(if $(WERROR),-Werror) $(CFLAGS) -o $@ $<

deps:
	contrib/install-deps check

# Only what `make`, `make install` and `make demo` need (gcc, make, pkg-config, two -dev).
deps-build:
	contrib/install-deps build

# Every test against a -Werror build, then the same suite under ASan+UBSan, valgrind over the
# main paths, static analysis, a short run of each fuzzer and the container suite. tests/check
# runs them all and ends with one line over every stage: "check: N passed, N failed, N skipped".
# tests/lanes runs them two at a time (two cores): the suite under ASan and valgrind beside the
# plain suite, then lint and the fuzzers beside the container suite; each stage's output comes
# whole, in the usual order. LANES=1: one after the other.
check:
	tests/check $(MAKE) --no-print-directory check-stages

check-stages: deps
	$(MAKE) -B WERROR=1 ccwrap ccwrap-cache $(TESTAPP)
	tests/lanes $(MAKE)

# ccwrap as a container's PID 1 under a real runtime (podman, tests/podman's settings): its
# own stage, since it builds images (the base once, reused; the test image with `make image`).
check-container: ccwrap ccwrap-cache $(TESTAPP)
	@echo "check-container: tests/container.bats under podman"
	contrib/install-deps container
	tests/run tests/container.bats

check-hardening: check-memory check-static

# The suite under ASan+UBSan and valgrind's runs; then static analysis and the fuzzers.
check-memory: build-asan/ccwrap build-asan/ccwrap-cache $(TESTAPP)
	tests/sanitize build-asan/ccwrap
	tests/valgrind

check-static:
	tests/lint
	$(MAKE) fuzz FUZZ_SECONDS=$(CHECK_FUZZ_SECONDS)

CHECK_FUZZ_SECONDS = 10
SAN_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all

build-asan/ccwrap: $(SRCS) $(HDRS)
	@mkdir -p build-asan
	$(CC) $(ALL_CPPFLAGS) -std=c11 $(WARN) -Werror $(PKG_CFLAGS) $(SAN_FLAGS) -o $@ $(SRCS) \
	    $(SHARED_LIBS)

# Beside build-asan/ccwrap, which looks for its helper next to itself first.
build-asan/ccwrap-cache: $(CACHE_SRCS) $(CACHE_HDRS)
	@mkdir -p build-asan
	$(CC) $(ALL_CPPFLAGS) -std=c11 $(WARN) -Werror $(SAN_FLAGS) $$(pkg-config --cflags \
	    $(CACHE_PKGS)) -o $@ $(CACHE_SRCS) $(CACHE_LIBS)

# libFuzzer harnesses for ccwrap's own parsers (clang); FUZZ_SECONDS each. The sources are
# compiled once, instrumented for the fuzzer (fuzzer-no-link), into build-fuzz/obj/, and each
# harness is linked against those objects: eight fuzzers cost one compile, not eight.
FUZZERS = ready envline numbers legacy dropin config http value
FUZZ_SECONDS = 60
FUZZ_SRCS = $(filter-out wrapper/main.c,$(SRCS))
FUZZ_OBJS = $(FUZZ_SRCS:wrapper/%.c=build-fuzz/obj/%.o)
FUZZ_CFLAGS = $(ALL_CPPFLAGS) -std=c11 $(WARN) -Werror $(PKG_CFLAGS) -g -O1 -fno-sanitize-recover=all

build-fuzz/obj/%.o: wrapper/%.c $(HDRS)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<
build-fuzz/obj/confload.o build-fuzz/obj/cache.o: .sysconfdir
.SECONDARY: $(FUZZ_OBJS)

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJS) $(HDRS)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZ_OBJS) $(SHARED_LIBS)

fuzz: $(FUZZERS:%=build-fuzz/fuzz_%)
	@for f in $(FUZZERS); do \
	    mkdir -p build-fuzz/corpus-$$f; \
	    echo "fuzz: $$f for $(FUZZ_SECONDS) s"; \
	    build-fuzz/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -print_final_stats=1 \
	        build-fuzz/corpus-$$f tests/fuzz/corpus/$$f 2>build-fuzz/$$f.log \
	        || { tail -40 build-fuzz/$$f.log; exit 1; }; \
	    grep -E 'stat::number_of_executed_units|Done' build-fuzz/$$f.log | tr '\n' ' '; echo; \
	done

# An image with ccwrap as its entrypoint, from the binaries built here (contrib/Containerfile.prebuilt,
# COPY only: no network needed but for the base), with podman or docker, whichever is there.
# No registry reachable: make a base with contrib/base-image and name it in IMAGE_BASE.
IMAGE_ENGINE ?= $(shell command -v podman || command -v docker)
IMAGE_BASE ?= debian:bookworm-slim
IMAGE ?= localhost/ccwrap-demo:latest
IMAGE_BUILD_FLAGS ?=
IMAGE_PREFIX = PREFIX=/usr/local SYSCONFDIR=/usr/local/etc LIBEXECDIR=/usr/local/libexec

image:
	@test -n "$(IMAGE_ENGINE)" || { echo "make image: podman or docker: not found; apt-get install podman" >&2; exit 1; }
	$(MAKE) --no-print-directory $(IMAGE_PREFIX) ccwrap ccwrap-cache
	rm -rf build-image
	mkdir -p build-image/app/bin
	$(MAKE) --no-print-directory -s $(IMAGE_PREFIX) DESTDIR=$(CURDIR)/build-image/root install
	$(CC) $(CFLAGS) -o build-image/app/bin/demo-app contrib/demo/demo-app.c
	cp -a hooks.d build-image/app/
	$(IMAGE_ENGINE) build --quiet $(IMAGE_BUILD_FLAGS) -f contrib/Containerfile.prebuilt \
	    --build-arg BASE=$(IMAGE_BASE) -t $(IMAGE) build-image

bench: deps
	contrib/install-deps bench
	$(MAKE) ccwrap
	tests/bench/run

demo: deps-build
	$(MAKE) ccwrap ccwrap-cache
	contrib/demo/run

# A Debian package from contrib/debian: build-deb/ccwrap_VERSION_ARCH.deb, lintian clean.
deb:
	contrib/install-deps deb
	contrib/make-deb

install: ccwrap ccwrap-cache
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(SYSCONFDIR)/ccwrap
	install -m 755 ccwrap $(DESTDIR)$(BINDIR)/ccwrap
	install -d $(DESTDIR)$(LIBEXECDIR)/ccwrap
	install -m 755 ccwrap-cache $(DESTDIR)$(LIBEXECDIR)/ccwrap/ccwrap-cache
	install -m 644 wrapper/ccwrap.1 $(DESTDIR)$(MANDIR)/man1/ccwrap.1
	install -m 644 conf/ccwrap.conf $(DESTDIR)$(SYSCONFDIR)/ccwrap/ccwrap.conf

uninstall:
	rm -f $(DESTDIR)$(LIBEXECDIR)/ccwrap/ccwrap-cache
	-rmdir $(DESTDIR)$(LIBEXECDIR)/ccwrap
	rm -f $(DESTDIR)$(BINDIR)/ccwrap $(DESTDIR)$(MANDIR)/man1/ccwrap.1 \
	      $(DESTDIR)$(SYSCONFDIR)/ccwrap/ccwrap.conf
	-rmdir $(DESTDIR)$(SYSCONFDIR)/ccwrap

C_FILES = wrapper/*.c wrapper/*.h wrapper/cache/*.c wrapper/cache/*.h $(TESTAPP).c tests/fixtures/nonetlink.c \
          tests/fuzz/*.c contrib/demo/demo-app.c

format:
	clang-format -i $(C_FILES)

lint:
	tests/lint

clean:
	rm -f ccwrap ccwrap-cache $(OBJS) $(OBJS:.o=.d) $(TESTAPP) $(NONETLINK) .sysconfdir
	rm -rf build-asan build-fuzz build-static build-dynamic
	rm -rf build-deb build-image

.PHONY: FORCE all deps check check-hardening demo install uninstall format lint fuzz bench clean
.PHONY: deps-build check-stages check-container check-memory check-static deb image
