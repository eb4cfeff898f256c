#!/usr/bin/env bats
# Drop-in folders (§2): order, skip rules, several folders merged by name, masks,
# executability and permission checks, odd names, argv[0], and each point's failure policy.
# Design: doc/design.md §2 (hook points, drop-in folders), §3 (running a hook).

load test_helper

setup() {
    common_setup
}

# dropin FOLDER NAME BODY: an executable drop-in FOLDER/NAME (FOLDER relative to the root or
# absolute) running BODY with sh.
dropin() {
    mkdir -p "$1"
    printf '#!/bin/sh\n%s\n' "$3" >"$1/$2"
    chmod 755 "$1/$2"
}

# A drop-in body that appends its $0 and a '|' to $LOG: names may hold newlines.
LOG_ARGV0='printf "%s|" "$0" >>"$LOG"'

@test "drop-ins run in bytewise order of name: 10-a 2-b B _x a" {
    for n in a _x B 2-b 10-a; do logging_hook pre-build "$n"; done
    run --separate-stderr "$CCWRAP" -q hook pre-build
    assert_success
    assert_equal "$stderr" ""
    assert_equal "$(cat "$LOG")" "pre-build/10-a
pre-build/2-b
pre-build/B
pre-build/_x
pre-build/a"
}

@test "the order ignores the locale: en_US.UTF-8 would say 10-a 2-b a B _x" {
    export LOCPATH=$BATS_TEST_TMPDIR/locale
    mkdir -p "$LOCPATH"
    if ! localedef -i en_US -f UTF-8 "$LOCPATH/en_US.UTF-8" >/dev/null 2>&1; then
        skip "localedef cannot build en_US.UTF-8 (Debian package locales)"
    fi
    export LC_ALL=en_US.UTF-8
    # The locale really collates differently, so the test would catch strcoll or sort(1).
    assert_equal "$(printf '%s\n' 10-a 2-b B _x a | sort | tr '\n' ' ')" "10-a 2-b a B _x "
    for n in a _x B 2-b 10-a; do logging_hook pre-build "$n"; done
    run --separate-stderr "$CCWRAP" hook pre-build
    assert_success
    assert_equal "$(cat "$LOG")" "pre-build/10-a
pre-build/2-b
pre-build/B
pre-build/_x
pre-build/a"
    assert_equal "${stderr_lines[0]}" "ccwrap: Running hooks.d/pre-build/10-a"
}

@test "hidden names, backup and packaging suffixes, .md, .txt and subfolders are skipped, not run" {
    local names=(.hidden x~ x.bak x.orig x.swp x.tmp x.disabled x.dpkg-old x.dpkg-new
        x.dpkg-dist x.rpmnew x.rpmsave x.md x.txt)
    for n in "${names[@]}"; do logging_hook pre-build "$n"; done
    logging_hook pre-build 10-run
    logging_hook pre-build x.md.sh
    logging_hook pre-build/sub 10-inner
    ln -s sub hooks.d/pre-build/sublink
    run --separate-stderr "$CCWRAP" -v hook pre-build
    assert_success
    assert_equal "$(cat "$LOG")" "pre-build/10-run
pre-build/x.md.sh"
    assert_equal "${#stderr_lines[@]}" 20
    assert_equal "${stderr_lines[0]}" "ccwrap: hooks.d/pre-build/.hidden: skipped: hidden name (starts with '.')"
    assert_equal "${stderr_lines[1]}" "ccwrap: Running hooks.d/pre-build/10-run"
    assert_regex "${stderr_lines[2]}" '^ccwrap: Finished hooks.d/pre-build/10-run: status 0 in [0-9.]+ s$'
    assert_equal "${stderr_lines[3]}" "ccwrap: hooks.d/pre-build/sub: skipped: a folder"
    assert_equal "${stderr_lines[4]}" "ccwrap: hooks.d/pre-build/sublink: skipped: a folder"
    local i=5
    for suffix in .bak .disabled .dpkg-dist .dpkg-new .dpkg-old .md; do
        assert_equal "${stderr_lines[i]}" "ccwrap: hooks.d/pre-build/x$suffix: skipped: name ends in '$suffix'"
        i=$((i + 1))
    done
    assert_equal "${stderr_lines[11]}" "ccwrap: Running hooks.d/pre-build/x.md.sh"
    i=13
    for suffix in .orig .rpmnew .rpmsave .swp .tmp .txt '~'; do
        assert_equal "${stderr_lines[i]}" "ccwrap: hooks.d/pre-build/x$suffix: skipped: name ends in '$suffix'"
        i=$((i + 1))
    done
}

@test "without -v, skipped entries are not mentioned" {
    logging_hook pre-build 10-run
    logging_hook pre-build 20-old.bak
    run --separate-stderr "$CCWRAP" hook pre-build
    assert_success
    assert_equal "${#stderr_lines[@]}" 2
    assert_equal "${stderr_lines[0]}" "ccwrap: Running hooks.d/pre-build/10-run"
    assert_equal "$(cat "$LOG")" "pre-build/10-run"
}

@test "several hooks_dirs: merged by name, sorted across all, a later folder's name wins" {
    local extra=$BATS_TEST_TMPDIR/extra
    printf 'hooks_dirs = {"hooks.d", "%s", "more"}\n' "$extra" >ccwrap.conf
    dropin hooks.d/pre-build 10-a 'echo "hooks.d 10-a" >>"$LOG"'
    dropin hooks.d/pre-build 30-c 'echo "hooks.d 30-c" >>"$LOG"'
    dropin hooks.d/pre-build 50-e 'echo "hooks.d 50-e" >>"$LOG"'
    dropin "$extra/pre-build" 20-b 'echo "extra 20-b" >>"$LOG"'
    dropin "$extra/pre-build" 30-c 'echo "extra 30-c" >>"$LOG"'
    dropin more/pre-build 40-d 'echo "more 40-d" >>"$LOG"'
    dropin more/pre-build 50-e 'echo "more 50-e" >>"$LOG"'
    run --separate-stderr "$CCWRAP" -v hook pre-build
    assert_success
    assert_equal "$(cat "$LOG")" "hooks.d 10-a
extra 20-b
extra 30-c
more 40-d
more 50-e"
    assert_equal "${stderr_lines[4]}" "ccwrap: hooks.d/pre-build/30-c: skipped: replaced by $extra/pre-build/30-c"
    assert_equal "${stderr_lines[5]}" "ccwrap: Running $extra/pre-build/30-c"
    assert_equal "${stderr_lines[9]}" "ccwrap: hooks.d/pre-build/50-e: skipped: replaced by more/pre-build/50-e"
    assert_equal "${stderr_lines[10]}" "ccwrap: Running more/pre-build/50-e"
    assert_equal "${#stderr_lines[@]}" 12
}

@test "a symlink to /dev/null in a later folder masks that name; alone it runs nothing" {
    printf 'hooks_dirs = {"hooks.d", "local"}\n' >ccwrap.conf
    logging_hook pre-build 10-a
    logging_hook pre-build 20-masked
    mkdir -p local/pre-build
    ln -s /dev/null local/pre-build/20-masked
    ln -s /dev/null local/pre-build/30-nothing
    run --separate-stderr "$CCWRAP" -v hook pre-build
    assert_success
    assert_equal "$(cat "$LOG")" "pre-build/10-a"
    assert_equal "${stderr_lines[2]}" "ccwrap: hooks.d/pre-build/20-masked: masked by local/pre-build/20-masked, a symlink to /dev/null"
    assert_equal "${stderr_lines[3]}" "ccwrap: local/pre-build/30-nothing: masked: a symlink to /dev/null"
    assert_equal "${#stderr_lines[@]}" 4
}

@test "a mask in an earlier folder is replaced by a real drop-in of that name in a later one" {
    printf 'hooks_dirs = {"vendor", "hooks.d"}\n' >ccwrap.conf
    mkdir -p vendor/pre-build
    ln -s /dev/null vendor/pre-build/10-a
    logging_hook pre-build 10-a
    run --separate-stderr "$CCWRAP" -q hook pre-build
    assert_success
    assert_equal "$(cat "$LOG")" "pre-build/10-a"
}

@test "a non-executable drop-in fails the point with 126, naming chmod +x and .disabled" {
    logging_hook pre-build 10-ok
    printf '#!/bin/sh\necho ran >>"$LOG"\n' >hooks.d/pre-build/20-plain
    chmod 644 hooks.d/pre-build/20-plain
    logging_hook pre-build 30-later
    run --separate-stderr "$CCWRAP" build -- sh -c 'echo command >>"$LOG"'
    assert_failure 126
    assert_output ""
    assert_equal "${#stderr_lines[@]}" 3
    assert_equal "${stderr_lines[0]}" "ccwrap: Running hooks.d/pre-build/10-ok"
    assert_equal "${stderr_lines[2]}" "ccwrap: hooks.d/pre-build/20-plain: not executable; chmod +x hooks.d/pre-build/20-plain, or rename it to hooks.d/pre-build/20-plain.disabled"
    assert_equal "$(cat "$LOG")" "pre-build/10-ok"
}

@test "the fix quotes a name the shell would read otherwise" {
    printf 'x\n' >"$APP/x-source"
    mkdir -p hooks.d/pre-build
    cp x-source "hooks.d/pre-build/10 \$(touch x) it's"
    run --separate-stderr "$CCWRAP" hook pre-build
    assert_failure 126
    assert_equal "$stderr" "ccwrap: hooks.d/pre-build/10 \$(touch x) it's: not executable; chmod +x 'hooks.d/pre-build/10 \$(touch x) it'\\''s', or rename it to 'hooks.d/pre-build/10 \$(touch x) it'\\''s.disabled'"
    rm "hooks.d/pre-build/10 \$(touch x) it's"
    cp x-source "hooks.d/pre-build/$(printf '20\t\xff')"
    run --separate-stderr "$CCWRAP" hook pre-build
    assert_failure 126
    assert_equal "$stderr" "ccwrap: hooks.d/pre-build/$(printf '20\t\xff'): not executable; chmod +x \$'hooks.d/pre-build/20\\x09\\xff', or rename it to \$'hooks.d/pre-build/20\\x09\\xff.disabled'"
    [ ! -e x ]
}

@test "a broken symlink fails the point with 127" {
    mkdir -p hooks.d/pre-build
    ln -s ../../missing-script hooks.d/pre-build/10-link
    logging_hook pre-build 20-later
    run -127 --separate-stderr "$CCWRAP" build -- sh -c 'echo command >>"$LOG"'
    assert_failure 127
    assert_equal "$stderr" "ccwrap: hooks.d/pre-build/10-link: broken symlink to ../../missing-script; fix the link, or remove it"
    assert_equal "$(cat "$LOG")" ""
}

@test "a drop-in writable by others fails the point with 126 and chmod o-w" {
    logging_hook pre-build 10-open
    chmod 757 hooks.d/pre-build/10-open
    run --separate-stderr "$CCWRAP" build -- sh -c 'echo command >>"$LOG"'
    assert_failure 126
    assert_equal "$stderr" "ccwrap: hooks.d/pre-build/10-open: writable by group or others; chmod go-w hooks.d/pre-build/10-open"
    assert_equal "$(cat "$LOG")" ""
}

@test "a drop-in folder, or the hooks folder above it, writable by others: 126 and chmod o-w" {
    logging_hook pre-build 10-a
    chmod 757 hooks.d/pre-build
    run --separate-stderr "$CCWRAP" build -- sh -c 'echo command >>"$LOG"'
    assert_failure 126
    assert_equal "$stderr" "ccwrap: hooks.d/pre-build/10-a: its folder hooks.d/pre-build is writable by group or others; chmod go-w hooks.d/pre-build"
    chmod 755 hooks.d/pre-build
    chmod 1777 hooks.d
    run --separate-stderr "$CCWRAP" build -- sh -c 'echo command >>"$LOG"'
    assert_failure 126
    assert_equal "$stderr" "ccwrap: hooks.d/pre-build/10-a: its folder hooks.d is writable by group or others; chmod go-w hooks.d"
    assert_equal "$(cat "$LOG")" ""
}

@test "a drop-in that is not a regular file, or a drop-in folder that is a file: 126" {
    mkdir -p hooks.d/pre-build
    mkfifo hooks.d/pre-build/10-fifo
    run --separate-stderr "$CCWRAP" hook pre-build
    assert_failure 126
    assert_equal "$stderr" "ccwrap: hooks.d/pre-build/10-fifo: not a regular file; replace it with an executable file"
    printf '#!/bin/sh\necho ran >>"$LOG"\n' >hooks.d/post-build
    chmod 755 hooks.d/post-build
    run --separate-stderr "$CCWRAP" hook post-build
    assert_failure 126
    assert_equal "$stderr" "ccwrap: hooks.d/post-build: not a folder; drop-ins go in a folder of that name"
    assert_equal "$(cat "$LOG")" ""
}

@test "a symlink to an executable runs, with the link's path as \$0" {
    mkdir -p scripts
    printf '#!/bin/sh\n%s\n' "$LOG_ARGV0" >scripts/real
    chmod 755 scripts/real
    mkdir -p hooks.d/pre-build
    ln -s ../../scripts/real hooks.d/pre-build/10-rel
    ln -s "$APP/scripts/real" hooks.d/pre-build/20-abs
    run --separate-stderr "$CCWRAP" -q hook pre-build
    assert_success
    assert_equal "$(cat "$LOG")" "hooks.d/pre-build/10-rel|hooks.d/pre-build/20-abs|"
}

@test "argv[0] is the drop-in's path as the user names it, run from the root" {
    local extra=$BATS_TEST_TMPDIR/extra
    printf 'hooks_dirs = {"hooks.d", "%s"}\n' "$extra" >ccwrap.conf
    dropin hooks.d/pre-build 10-x "$LOG_ARGV0"
    dropin "$extra/pre-build" 20-y "$LOG_ARGV0"
    mkdir -p "$BATS_TEST_TMPDIR/cwd"
    cd "$BATS_TEST_TMPDIR/cwd"
    run --separate-stderr "$CCWRAP" -q -C "$APP" hook pre-build
    assert_success
    assert_equal "$(cat "$LOG")" "hooks.d/pre-build/10-x|$extra/pre-build/20-y|"
}

@test "a drop-in named '10 \$(touch x)' runs, and x is never created" {
    dropin hooks.d/pre-build '10 $(touch x)' "$LOG_ARGV0"
    run --separate-stderr "$CCWRAP" hook pre-build
    assert_success
    assert_equal "${stderr_lines[0]}" "ccwrap: Running hooks.d/pre-build/10 \$(touch x)"
    assert_equal "$(cat "$LOG")" "hooks.d/pre-build/10 \$(touch x)|"
    [ ! -e x ]
    [ ! -e "$BATS_TEST_TMPDIR/x" ]
}

@test "any byte but / and NUL works in a name: space, quotes, newline, 0xff, 255 bytes" {
    local long
    long=60-$(printf '%0252d' 0)
    assert_equal "${#long}" 255
    local names=('20 sp ace' "30 q'u\"o" $'40 new\nline' $'50-\xff' "$long")
    for n in "${names[@]}"; do dropin hooks.d/pre-build "$n" "$LOG_ARGV0"; done
    run --separate-stderr "$CCWRAP" -q hook pre-build
    assert_success
    assert_equal "$stderr" ""
    local want=
    for n in "${names[@]}"; do want+="hooks.d/pre-build/$n|"; done
    assert_equal "$(cat "$LOG")" "$want"
}

@test "run-succeeded and run-failed run every hook after a failure; the first failure's status" {
    for point in run-succeeded run-failed; do
        : >"$LOG"
        dropin "hooks.d/$point" 10-fail "echo '$point 10' >>\"\$LOG\"; exit 3"
        printf 'not executable\n' >"hooks.d/$point/20-plain"
        dropin "hooks.d/$point" 30-ok "echo '$point 30' >>\"\$LOG\""
        dropin "hooks.d/$point" 40-fail "echo '$point 40' >>\"\$LOG\"; exit 5"
        run --separate-stderr "$CCWRAP" -q hook "$point"
        assert_failure 3
        assert_equal "$(cat "$LOG")" "$point 10
$point 30
$point 40"
        assert_equal "${#stderr_lines[@]}" 3
        assert_regex "${stderr_lines[0]}" "^ccwrap: hooks.d/$point/10-fail failed: status 3 in [0-9.]+ s\$"
        assert_equal "${stderr_lines[1]}" "ccwrap: hooks.d/$point/20-plain: not executable; chmod +x hooks.d/$point/20-plain, or rename it to hooks.d/$point/20-plain.disabled"
        assert_regex "${stderr_lines[2]}" "^ccwrap: hooks.d/$point/40-fail failed: status 5 in [0-9.]+ s\$"
    done
}

@test "pre-build, post-build and pre-run stop at the first failure" {
    for point in pre-build post-build pre-run; do
        : >"$LOG"
        logging_hook "$point" 10-first
        dropin "hooks.d/$point" 20-fail 'exit 4'
        logging_hook "$point" 30-never
        run --separate-stderr "$CCWRAP" -q hook "$point"
        assert_failure 4
        assert_regex "$stderr" "^ccwrap: hooks.d/$point/20-fail failed: status 4 in [0-9.]+ s\$"
        assert_equal "$(cat "$LOG")" "$point/10-first"
    done
}
