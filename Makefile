# ccwrap — Clever Cloud's deployment hooks on any machine.
# make, make check, make demo, make install [PREFIX=… DESTDIR=… SYSCONFDIR=…], make uninstall,
# make clean, make bench, make fuzz, make format.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
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
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lconfuse -ljansson)
ALL_CPPFLAGS = -D_GNU_SOURCE -DSYSCONFDIR='"$(SYSCONFDIR)"' $(CPPFLAGS)
ALL_CFLAGS = -std=c11 $(WARN) $(if $(WERROR),-Werror) $(HARDEN) $(PKG_CFLAGS) $(CFLAGS)

SRCS = wrapper/main.c wrapper/config.c wrapper/hooks.c wrapper/legacy.c wrapper/spawn.c \
       wrapper/signals.c wrapper/ready.c wrapper/phase.c wrapper/point.c wrapper/log.c \
       wrapper/util.c
OBJS = $(SRCS:.c=.o)
TESTAPP = tests/fixtures/testapp

all: ccwrap

ccwrap: $(OBJS)
	$(CC) $(ALL_CFLAGS) $(HARDEN_LD) $(LDFLAGS) -o $@ $(OBJS) $(PKG_LIBS) $(LDLIBS)

wrapper/%.o: wrapper/%.c wrapper/ccwrap.h
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(TESTAPP): $(TESTAPP).c
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(if $(WERROR),-Werror) $(CFLAGS) -o $@ $<

deps:
	contrib/install-deps check

# Every test, against a build made with -Werror.
check: deps
	$(MAKE) -B WERROR=1 ccwrap $(TESTAPP)
	tests/run

demo: deps
	$(MAKE) ccwrap
	contrib/demo/run

install: ccwrap
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(SYSCONFDIR)/ccwrap
	install -m 755 ccwrap $(DESTDIR)$(BINDIR)/ccwrap
	install -m 644 wrapper/ccwrap.1 $(DESTDIR)$(MANDIR)/man1/ccwrap.1
	install -m 644 conf/ccwrap.conf $(DESTDIR)$(SYSCONFDIR)/ccwrap/ccwrap.conf

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/ccwrap $(DESTDIR)$(MANDIR)/man1/ccwrap.1 \
	      $(DESTDIR)$(SYSCONFDIR)/ccwrap/ccwrap.conf
	-rmdir $(DESTDIR)$(SYSCONFDIR)/ccwrap

format:
	clang-format --dry-run --Werror wrapper/*.c wrapper/*.h $(TESTAPP).c

clean:
	rm -f ccwrap $(OBJS) $(TESTAPP)

.PHONY: all deps check demo install uninstall format clean
