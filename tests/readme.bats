#!/usr/bin/env bats
# README.md held to what ccwrap, the Makefile and contrib/install-deps say (issue 13): the usage
# lines, -h, the hook points, the plan example (from the build and after make install), the
# Quick start's lines and build set, the package name; and the pages the README sends its
# reader to for the rest: the fuzzer list (doc/development.md), STATIC=1's warnings
# (doc/install.md).
# Design: doc/design.md §1 (usage lines), §2 (hook points), as README.md shows them.

load test_helper

setup() {
    common_setup
    README=$TOP/README.md
}

# section TITLE: the README's "## TITLE" section, up to the next "## ".
section() {
    awk -v t="## $1" '$0 == t { on = 1; next } on && /^## / { exit } on' "$README"
}

# The usage forms, one a line, spaces squeezed: from `ccwrap --help` (continuation lines joined)
# and from the README's Usage block (the description column cut off).
help_forms() {
    "$CCWRAP" --help | awk '/^$/ { exit } { sub(/^usage: /, ""); print }' |
        awk '/^ +\[/ { prev = prev " " $0; next } { if (prev != "") print prev; prev = $0 }
             END { print prev }' | sed -E 's/^ +//; s/ +/ /g'
}
readme_forms() {
    section Usage | sed -n 's/^    \(ccwrap .*\)$/\1/p' | sed -E 's/  +[a-z].*$//; s/ +/ /g'
}

@test "README usage lines are exactly ccwrap --help's forms, -h and --version included" {
    run help_forms
    assert_success
    help=$output
    run readme_forms
    assert_output "$help"
    assert_line "ccwrap -h | --help | --version"
}

@test "-h prints what --help prints and exits 0; both list every GLOBAL option the README names" {
    run --separate-stderr "$CCWRAP" -h
    assert_success
    assert_equal "$stderr" ""
    short=$output
    run "$CCWRAP" --help
    assert_equal "$output" "$short"
    global=$(section Usage | sed -n 's/^    GLOBAL: //p')
    [ -n "$global" ]
    for opt in -C --root -c --config -q --quiet -v --verbose --events; do
        [[ $global == *"$opt"* ]] || fail "README GLOBAL lacks $opt"
        assert_output --partial " $opt"
    done
    # Also after a subcommand, as the other global options.
    run "$CCWRAP" build -h
    assert_success
    assert_equal "$output" "$short"
}

@test "the README's hook point table has ccwrap's five points, in order" {
    run awk -F'|' '/^\| (pre|post|run)-/ { gsub(/ /, "", $2); print $2 }' "$README"
    assert_output "pre-build
post-build
pre-run
run-succeeded
run-failed"
    run "$CCWRAP" --help
    assert_line "POINT: pre-build, post-build, pre-run, run-succeeded, run-failed."
}

# readme_plan: the README's plan example, the lines after its "$ …" line up to the blank line.
readme_plan() {
    awk '/^    \$ .*ccwrap plan run/ { on = 1; next } on && /^$/ { exit } on { sub(/^    /, ""); print }' "$README"
}

@test "the plan example prints what the README shows, after make install and from the build" {
    run sh -c "awk '/^    \\$ .*ccwrap plan run/ { print; exit }' \"\$1\"" _ "$README"
    assert_output --partial "\$ CC_PRE_RUN_HOOK='npm ci' PORT=3000 ccwrap plan run"
    want=$(readme_plan)
    [ -n "$want" ]
    # Installed under a prefix of the test's own: the readiness source names its ccwrap.conf.
    plain_build_only "make install"
    src=$BATS_TEST_TMPDIR/src
    inst=$BATS_TEST_TMPDIR/inst
    copy_tree "$src"
    run timeout 120 make -C "$src" -s -j2 install PREFIX="$inst" 3>&-
    assert_success
    cd "$TOP" || return 1
    # In a git checkout (not a worktree, whose .git is a file) COMMIT_ID and CC_COMMIT_ID follow
    # from .git/HEAD: the README's line shows neither, a commit being the reader's own.
    run sh -c 'env CC_PRE_RUN_HOOK="npm ci" PORT=3000 "$1" plan run |
        sed -E "s/, COMMIT_ID=[0-9a-f]+, CC_COMMIT_ID=[0-9a-f]+//"' _ "$inst/bin/ccwrap"
    assert_success
    assert_output "${want//\/usr\/local\/etc/$inst/etc}"
    # Straight from the build, no configuration file: "from default", as the README says next.
    run sh -c 'env CC_PRE_RUN_HOOK="npm ci" PORT=3000 "$1" -C "$2" plan run |
        sed -E "s/, COMMIT_ID=[0-9a-f]+, CC_COMMIT_ID=[0-9a-f]+//"' _ "$CCWRAP" "$TOP"
    assert_success
    assert_output "${want//from \/usr\/local\/etc\/ccwrap\/ccwrap.conf:24/from default}"
    run grep -F 'ccwrap.conf` and its line; with' "$README"
    assert_success
}

@test "the fuzzer list of doc/development.md is the Makefile's FUZZERS and tests/fuzz/fuzz_*.c" {
    dev=$(tr '\n' ' ' <"$TOP/doc/development.md" | sed -E 's/ +/ /g')
    listed=$(grep -o -E 'libFuzzer harness \([^)]*\)' <<<"$dev" | grep -o -E '`[a-z]+`:' | tr -d '`:' | sort | tr '\n' ' ')
    made=$(make -C "$TOP" -s -p -n fuzz 2>/dev/null | sed -n 's/^FUZZERS = //p' | tr ' ' '\n' | sort | tr '\n' ' ')
    files=$(cd "$TOP/tests/fuzz" && printf "%s\n" fuzz_*.c | sed 's/^fuzz_//; s/\.c$//' | sort | tr '\n' ' ')
    [ -n "$listed" ]
    assert_equal "$listed" "$made"
    assert_equal "$files" "$made"
}

@test "Quick start: the first line refreshes the lists and installs make, then make demo; then make check" {
    run sh -c "sed -n 's/^    //p' <<'EOF' | head -n 2
$(section 'Quick start')
EOF"
    assert_output "apt-get update && apt-get install -y make && make demo
make check"
    # The build set it names is install-deps' build set.
    build=$(sed -n 's/^build="\(.*\)"$/\1/p' "$TOP/contrib/install-deps")
    [ -n "$build" ]
    names=$(section 'Quick start' | tr '\n' ' ' | grep -o -E 'the build set only \([^)]*\)' |
        sed -E 's/.*\((.*)\)/\1/; s/, / /g; s/ +/ /g')
    assert_equal "$names" "$build"
}

@test "the package the README names is the one make deb builds" {
    version=$(sed -n 's/^#define CCWRAP_VERSION "\(.*\)"$/\1/p' "$TOP/wrapper/ccwrap.h")
    arch=$(dpkg-architecture -q DEB_HOST_ARCH 2>/dev/null || dpkg --print-architecture)
    run grep -F "make deb " "$README"
    assert_output --partial "build-deb/ccwrap_${version}_${arch}.deb"
    run dpkg-parsechangelog -l "$TOP/contrib/debian/changelog" -S Version
    assert_output "$version"
}

@test "make STATIC=1 prints exactly the three linker warnings doc/install.md explains" {
    plain_build_only "make STATIC=1"
    src=$BATS_TEST_TMPDIR/src
    copy_tree "$src"
    run timeout 300 make -C "$src" -s -j2 STATIC=1 3>&-
    assert_success
    run grep -o -E "warning: Using '[a-z]+' in statically linked applications requires at runtime the shared libraries from the glibc version used for linking" <<<"$output"
    assert_equal "${#lines[@]}" 3
    run grep -o -E "Using '[a-z]+'" <<<"$output"
    assert_output "Using 'getpwnam'
Using 'getpwuid'
Using 'getaddrinfo'"
    install=$TOP/doc/install.md
    for f in getpwnam getpwuid getaddrinfo; do
        grep -q "\`$f\`\|'$f'" "$install" || fail "doc/install.md does not name $f"
    done
    run grep -c "in statically linked applications requires at" "$install"
    assert_output 1
}
