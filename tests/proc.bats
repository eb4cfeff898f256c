#!/usr/bin/env bats
# proc.bats — where /proc cannot tell ccwrap everything (§5.3, §7): without the per-thread
# "children" files (a kernel without CONFIG_PROC_CHILDREN, gVisor) the tree comes from a scan
# of every /proc/PID/stat; without CAP_SYS_PTRACE another user's descriptors cannot be read,
# so readiness warns once and probes the port instead. Real capabilities, users and mounts.
# Design: doc/design.md §5 step 3 (readiness: listener owners), §7 (the process tree).

load test_helper

setup() {
    common_setup
    SIGLOG=$BATS_TEST_TMPDIR/signals
    PIDF=$BATS_TEST_TMPDIR/app.pid
    PORT=$(free_port)
    export PORT
}

teardown() {
    kill_background
    # What a failed test left below a killed ccwrap: every process started with these folders.
    pkill -KILL -f "$BATS_TEST_TMPDIR/" 2>/dev/null || true
    [ -z "${SHARED:-}" ] || pkill -KILL -f "$SHARED/" 2>/dev/null || true
    [ -z "${SHARED:-}" ] || rm -rf "$SHARED"
}

alive() {
    kill -0 "$1" 2>/dev/null
}

# without_children_files COMMAND...: COMMAND (exec'd, same pid) in a mount namespace where its
# own /proc/PID/task is an empty folder, so its "children" files cannot be read. Use it in a
# subshell (run, &): it execs.
# LeakSanitizer (tests/sanitize) lists the threads to stop in /proc/self/task, hidden here: its
# leak check at exit cannot run, so it is off for these processes alone.
without_children_files() {
    mkdir -p "$BATS_TEST_TMPDIR/empty"
    export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
    exec unshare --mount --propagation private sh -c \
        'mount --bind "$0" /proc/$$/task && exec "$@"' "$BATS_TEST_TMPDIR/empty" "$@"
}

can_hide_children() {
    [ "$(id -u)" = 0 ] || return 1
    (without_children_files sh -c '! test -e /proc/$$/task/$$/children') 2>/dev/null
}

@test "without /proc's children files: readiness, the stop and the sweep find the tree by a scan" {
    can_hide_children || skip "needs root for unshare --mount and a bind mount over /proc/PID/task"
    export CC_RUN_COMMAND="cd . && '$TESTAPP' --listen $PORT --signals '$SIGLOG' --pid '$PIDF' --exit-on TERM"
    without_children_files "$CCWRAP" run 2>"$BATS_TEST_TMPDIR/err" 3>&- &
    CCPID=$!
    remember_pid "$CCPID"
    # The listener is held by a grandchild (behind the shell): found, so the tcp spec is met.
    wait_for 10 grep -q "Application ready" "$BATS_TEST_TMPDIR/err"
    # ccwrap itself sees no children file of its own.
    run ! nsenter --target "$CCPID" --mount test -e "/proc/$CCPID/task/$CCPID/children"
    kill -s TERM "$CCPID"
    wait_status "$CCPID"
    assert_equal "$status" 143
    assert_equal "$(cat "$SIGLOG")" "TERM 1"
    run alive "$(cat "$PIDF")"
    assert_failure
    run norm "$(cat "$BATS_TEST_TMPDIR/err")"
    assert_output "ccwrap: Application ready (tcp) after N s"

    run --separate-stderr without_children_files "$CCWRAP" build -- sh -c "
        sleep 300 & echo \$! >'$BATS_TEST_TMPDIR/bg'
        (setsid sh -c 'sleep 301 & echo \$! >\"$BATS_TEST_TMPDIR/daemon\"' &)
        sleep 0.3"
    assert_success
    assert_equal "$(sed -E 's/[0-9]+ \(/PID (/g' <<<"$stderr")" \
        "ccwrap: stopping 2 processes left behind: PID (sleep), PID (sleep)"
    run alive "$(cat "$BATS_TEST_TMPDIR/bg")"
    assert_failure
    run alive "$(cat "$BATS_TEST_TMPDIR/daemon")"
    assert_failure
}

can_drop_ptrace() {
    [ "$(id -u)" = 0 ] && command -v capsh >/dev/null && command -v setpriv >/dev/null
}

@test "without CAP_SYS_PTRACE and an application of another user: one warning, the port probed, the stop still reaches it" {
    can_drop_ptrace || skip "needs root, capsh (libcap2-bin) and setpriv"
    # Files the application, running as nobody, writes.
    SHARED=$(mktemp -d /tmp/ccwrap-proc.XXXXXX)
    chmod 0777 "$SHARED"
    export CC_RUN_COMMAND="cd . && setpriv --reuid=nobody --regid=nogroup --clear-groups \
        '$TESTAPP' --listen $PORT --listen-after 0.3 --signals '$SHARED/signals' --pid '$SHARED/pid' --exit-on TERM"
    capsh --drop=cap_sys_ptrace -- -c 'exec "$@"' sh "$CCWRAP" run 2>"$BATS_TEST_TMPDIR/err" 3>&- &
    CCPID=$!
    remember_pid "$CCPID"
    wait_for 10 grep -q "Application ready" "$BATS_TEST_TMPDIR/err"
    # ccwrap really runs without CAP_SYS_PTRACE (bit 19), the application really as nobody.
    cap=$(awk '/^CapEff/ { print $2 }' "/proc/$CCPID/status")
    assert_equal "$(((0x$cap >> 19) & 1))" 0
    assert_equal "$(ps -o user= -p "$(cat "$SHARED/pid")")" nobody
    kill -s TERM "$CCPID"
    wait_status "$CCPID"
    assert_equal "$status" 143
    assert_equal "$(cat "$SHARED/signals")" "TERM 1"
    run alive "$(cat "$SHARED/pid")"
    assert_failure
    run norm "$(cat "$BATS_TEST_TMPDIR/err")"
    assert_output "ccwrap: warning: cannot tell which process listens on port $PORT (the application's descriptors cannot be read: Permission denied); a listener there counts when its owner runs the application and it was not there before it started
ccwrap: Application ready (tcp) after N s"
    # The probe, not the warning's moment, decided: the port opened after 0.3 s.
    ms=$(sed -nE 's/.*Application ready \(tcp\) after ([0-9]+)\.([0-9]{3}) s/\1\2/p' "$BATS_TEST_TMPDIR/err")
    [ "$((10#$ms))" -ge 290 ]
}
