#!/usr/bin/env bats
# The Debian package (issue 13): `make deb` builds build-deb/ccwrap_VERSION_ARCH.deb from
# contrib/debian in a copy of the tree, lintian finds no error and no warning, and the package
# holds exactly the binary, the man page, the conffile, the completion and the examples. As
# root it is installed, upgraded over a changed conffile, removed and purged with dpkg, in a
# root of its own.
# Design: none in doc/design.md: the Debian package (contrib/debian).

load test_helper

# Built once for the file. The package does not depend on $CCWRAP: under tests/sanitize (an
# ASan build as $CCWRAP) the same checks would only build the same package a second time.
setup_file() {
    if [ "$CCWRAP" != "$TOP/ccwrap" ]; then
        export DEB_SKIP="the package is built and checked once, in the suite's plain run"
        return 0
    fi
    if ! command -v dh >/dev/null || ! command -v lintian >/dev/null; then
        export DEB_SKIP="debhelper and lintian are not installed: contrib/install-deps deb"
        return 0
    fi
    VERSION=$(sed -n 's/^#define CCWRAP_VERSION "\(.*\)"$/\1/p' "$TOP/wrapper/ccwrap.h")
    DEB=$TOP/build-deb/ccwrap_${VERSION}_$(dpkg-architecture -q DEB_HOST_ARCH).deb
    export VERSION DEB
    rm -f "$DEB"
    git -C "$TOP" status --porcelain --ignored >"$BATS_FILE_TMPDIR/before" 2>/dev/null || true
    make -C "$TOP" -s deb >"$BATS_FILE_TMPDIR/make-deb.out" 2>&1 3>&-
    echo $? >"$BATS_FILE_TMPDIR/make-deb.status"
    git -C "$TOP" status --porcelain --ignored >"$BATS_FILE_TMPDIR/after" 2>/dev/null || true
}

setup() {
    [ -z "${DEB_SKIP:-}" ] || skip "$DEB_SKIP"
    common_setup
}

# contents: the package's files (not folders) with their modes, as dpkg-deb -c lists them.
contents() {
    dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ { print $1, $6 }' | sort -k 2
}

@test "make deb builds ccwrap_VERSION_ARCH.deb; lintian: no error, no warning" {
    run cat "$BATS_FILE_TMPDIR/make-deb.out"
    assert_equal "$(cat "$BATS_FILE_TMPDIR/make-deb.status")" 0
    [ -f "$DEB" ]
    assert_line "make-deb: build-deb/${DEB##*/}"
    assert_line "make-deb: lintian: no errors, no warnings"
    # lintian's own log: no E: and no W: line, and none of its tags overridden silently.
    run grep -E '^[EW]: ' "$TOP/build-deb/lintian.log"
    assert_failure 1
    # The changelog's version is the binary's.
    run dpkg-parsechangelog -l "$TOP/contrib/debian/changelog" -S Version
    assert_output "$VERSION"
}

@test "make deb leaves the work tree as it was: no debian/ folder, nothing built there" {
    [ ! -e "$TOP/debian" ]
    command -v git >/dev/null && git -C "$TOP" rev-parse 2>/dev/null ||
        skip "not a git checkout: nothing to compare the tree with"
    # Only build-deb/ (ignored) is new.
    run sh -c 'diff "$1" "$2" | grep "^> [^!]"' _ "$BATS_FILE_TMPDIR/before" "$BATS_FILE_TMPDIR/after"
    assert_failure 1
    assert_output ""
}

@test "the package holds exactly the binary, man page, conffile, completion, docs and examples" {
    run contents
    assert_output - <<'EOF'
-rw-r--r-- ./etc/ccwrap/ccwrap.conf
-rwxr-xr-x ./usr/bin/ccwrap
-rwxr-xr-x ./usr/libexec/ccwrap/ccwrap-cache
-rw-r--r-- ./usr/share/bash-completion/completions/ccwrap
-rw-r--r-- ./usr/share/doc/ccwrap/README.md.gz
-rw-r--r-- ./usr/share/doc/ccwrap/changelog.gz
-rw-r--r-- ./usr/share/doc/ccwrap/copyright
-rw-r--r-- ./usr/share/doc/ccwrap/examples/Dockerfile
-rw-r--r-- ./usr/share/doc/ccwrap/examples/ccwrap-app.service
-rw-r--r-- ./usr/share/doc/ccwrap/kubernetes.md.gz
-rw-r--r-- ./usr/share/man/man1/ccwrap.1.gz
EOF
    # Everything owned by root.
    run sh -c 'dpkg-deb -c "$1" | awk "\$2 != \"root/root\""' _ "$DEB"
    assert_output ""
}

@test "control: name, version, architecture, library dependencies; one conffile" {
    run dpkg-deb -f "$DEB" Package Version Architecture
    assert_output "Package: ccwrap
Version: $VERSION
Architecture: $(dpkg-architecture -q DEB_HOST_ARCH)"
    run dpkg-deb -f "$DEB" Depends
    assert_output --regexp 'libc6 \(>= [0-9.]+\)'
    assert_output --regexp 'libconfuse2 \(>= '
    assert_output --regexp 'libjansson4 \(>= '
    # The build cache helper's libraries: libcurl4 is named by hand, as the helper loads it
    # (dlopen) for a remote store.
    assert_output --regexp 'libarchive13 \(>= '
    assert_output --regexp 'libcurl4 \(>= '
    # libcrypto (archive hashes and signatures) comes through shlibs.
    assert_output --regexp 'libssl3 \(>= '
    run dpkg-deb -I "$DEB" conffiles
    assert_output "/etc/ccwrap/ccwrap.conf"
    # No maintainer script: installing ccwrap runs nothing.
    run sh -c 'dpkg-deb -I "$1" | grep -E "(pre|post)(inst|rm)"' _ "$DEB"
    assert_failure 1
}

@test "the packaged files are the tree's; the binary and the man page name /etc/ccwrap/ccwrap.conf" {
    x=$BATS_TEST_TMPDIR/x
    dpkg-deb -x "$DEB" "$x"
    cmp "$TOP/conf/ccwrap.conf" "$x/etc/ccwrap/ccwrap.conf"
    cmp "$TOP/contrib/bash-completion/ccwrap" "$x/usr/share/bash-completion/completions/ccwrap"
    cmp "$TOP/contrib/ccwrap-app.service" "$x/usr/share/doc/ccwrap/examples/ccwrap-app.service"
    cmp "$TOP/contrib/Dockerfile" "$x/usr/share/doc/ccwrap/examples/Dockerfile"
    cmp "$TOP/contrib/debian/copyright" "$x/usr/share/doc/ccwrap/copyright"
    run "$x/usr/bin/ccwrap" --version
    assert_success
    assert_output "ccwrap $VERSION"
    run "$x/usr/bin/ccwrap" --help
    assert_success
    assert_line --partial " /etc/ccwrap/ccwrap.conf)"
    run sh -c 'zcat "$1" | grep -c "/etc/ccwrap/ccwrap.conf"' _ "$x/usr/share/man/man1/ccwrap.1.gz"
    assert_output 3
    run sh -c 'zcat "$1" | grep -c "/usr/local"' _ "$x/usr/share/man/man1/ccwrap.1.gz"
    assert_output 0
    # Built with the distribution's hardening: full RELRO, PIE, stack protector, fortify.
    run readelf -d "$x/usr/bin/ccwrap"
    assert_output --partial "BIND_NOW"
    assert_output --regexp 'FLAGS_1.*PIE'
}

@test "copyright says that no license has been declared" {
    run grep -x "License: no license has been declared." "$TOP/contrib/debian/copyright"
    assert_success
    # The source tree really carries none.
    run find "$TOP" -path "$TOP/.git" -prune -o -path "$TOP/build-*" -prune -o \
        -path "$TOP/tests/node_modules" -prune -o \
        -iname 'LICEN[CS]E*' -print -o -iname 'COPYING*' -print
    assert_output ""
}

@test "as root: dpkg installs it, man finds its page, a changed conffile is kept, purge removes it" {
    [ "$(id -u)" = 0 ] || skip "installing with dpkg needs root"
    r=$BATS_TEST_TMPDIR/root
    mkdir -p "$r/var/lib/dpkg/info" "$r/var/lib/dpkg/updates"
    : >"$r/var/lib/dpkg/status"
    # An empty root has no libc6 package: --force-depends; the libraries are the machine's.
    dpkgr() { dpkg --root="$r" --force-depends --force-confold "$@" 3>&-; }
    run dpkgr -i "$DEB"
    assert_success
    run dpkg-query --admindir="$r/var/lib/dpkg" -W -f='${Status} ${Version}' ccwrap
    assert_output "install ok installed $VERSION"
    run "$r/usr/bin/ccwrap" --version
    assert_output "ccwrap $VERSION"
    run env MANPATH="$r/usr/share/man" man -w ccwrap
    assert_success
    assert_output "$r/usr/share/man/man1/ccwrap.1.gz"
    run env MANPATH="$r/usr/share/man" MANWIDTH=80 man ccwrap
    assert_success
    assert_line --regexp '^NAME'
    # A conffile the admin changed survives a reinstall, and a remove; purge takes it.
    echo 'hook_timeout = 7' >>"$r/etc/ccwrap/ccwrap.conf"
    run dpkgr -i "$DEB"
    assert_success
    assert_equal "$(tail -n 1 "$r/etc/ccwrap/ccwrap.conf")" "hook_timeout = 7"
    run dpkgr -r ccwrap
    assert_success
    [ ! -e "$r/usr/bin/ccwrap" ]
    [ -f "$r/etc/ccwrap/ccwrap.conf" ]
    run dpkgr -P ccwrap
    assert_success
    [ ! -e "$r/etc/ccwrap" ]
}
