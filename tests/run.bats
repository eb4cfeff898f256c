#!/usr/bin/env bats
# The run phase (§5 steps 1-6): pre-run, starting the application, run-succeeded while it
# runs, run-failed with systemd's variables, exit statuses, and what the application inherits.
# Readiness specs themselves are in readiness.bats.
# Design: doc/design.md §5 (run phase), §7 (exit statuses).

load test_helper

setup() {
    common_setup
}

teardown() {
    kill_background
}

# A hook that writes the run-failed variables to $LOG.
failed_reporter() {
    hook run-failed "$1" 'echo "$CCWRAP_PHASE $CCWRAP_HOOK result=$CCWRAP_RESULT code=$CCWRAP_EXIT_CODE status=$CCWRAP_EXIT_STATUS" >>"$LOG"'
}

@test "pre-run hooks run in order before the application, run-succeeded once it is ready" {
    export CC_PRE_RUN_HOOK='echo var-pre >>"$LOG"'
    logging_hook pre-run 10-first
    logging_hook pre-run 20-second
    logging_hook run-succeeded 10-ok
    logging_hook run-failed 10-never
    run --separate-stderr "$CCWRAP" run --ready exit -- sh -c 'echo app >>"$LOG"'
    assert_success
    assert_equal "$(cat "$LOG")" "var-pre
pre-run/10-first
pre-run/20-second
app
run-succeeded/10-ok"
    assert_equal "$(norm "$stderr")" "ccwrap: Running CC_PRE_RUN_HOOK: echo var-pre >>\"\$LOG\"
ccwrap: Finished CC_PRE_RUN_HOOK: status 0 in N s
ccwrap: Running hooks.d/pre-run/10-first
ccwrap: Finished hooks.d/pre-run/10-first: status 0 in N s
ccwrap: Running hooks.d/pre-run/20-second
ccwrap: Finished hooks.d/pre-run/20-second: status 0 in N s
ccwrap: Application ready (exit) after N s
ccwrap: Running hooks.d/run-succeeded/10-ok
ccwrap: Finished hooks.d/run-succeeded/10-ok: status 0 in N s"
}

@test "a failing pre-run hook stops the point, runs run-failed (pre-run) and exits with its status" {
    logging_hook pre-run 10-ok
    hook pre-run 20-bad 'exit 3'
    logging_hook pre-run 30-never
    logging_hook run-succeeded 10-never
    failed_reporter 10-report
    run --separate-stderr "$CCWRAP" run --ready none -- sh -c 'echo app >>"$LOG"'
    assert_failure 3
    assert_equal "$(cat "$LOG")" "pre-run/10-ok
run run-failed result=pre-run code=exited status=3"
    assert_equal "$(norm "$stderr")" "ccwrap: Running hooks.d/pre-run/10-ok
ccwrap: Finished hooks.d/pre-run/10-ok: status 0 in N s
ccwrap: Running hooks.d/pre-run/20-bad
ccwrap: hooks.d/pre-run/20-bad failed: status 3 in N s
ccwrap: Running hooks.d/run-failed/10-report
ccwrap: Finished hooks.d/run-failed/10-report: status 0 in N s"
}

@test "a pre-run hook killed by a signal: run-failed sees killed and the signal's name" {
    hook pre-run 10-killed 'kill -TERM $$'
    failed_reporter 10-report
    run --separate-stderr "$CCWRAP" run --ready none -- sh -c 'echo app >>"$LOG"'
    assert_failure 143
    assert_equal "$(norm "$stderr")" "ccwrap: Running hooks.d/pre-run/10-killed
ccwrap: hooks.d/pre-run/10-killed failed: killed by signal TERM in N s
ccwrap: Running hooks.d/run-failed/10-report
ccwrap: Finished hooks.d/run-failed/10-report: status 0 in N s"
    assert_equal "$(cat "$LOG")" "run run-failed result=pre-run code=killed status=TERM"
}

@test "an application that is not found: run-failed (exec), status 127" {
    failed_reporter 10-report
    logging_hook run-succeeded 10-never
    run -127 --separate-stderr "$CCWRAP" run --ready none -- no-such-app-xyz
    assert_failure 127
    assert_equal "$(cat "$LOG")" "run run-failed result=exec code=exited status=127"
    assert_equal "$(norm "$stderr")" "ccwrap: no-such-app-xyz: command not found
ccwrap: Running hooks.d/run-failed/10-report
ccwrap: Finished hooks.d/run-failed/10-report: status 0 in N s"
}

@test "an application that cannot be executed: run-failed (exec), status 126" {
    printf '#!/bin/sh\necho app >>"$LOG"\n' >notexec
    failed_reporter 10-report
    run --separate-stderr "$CCWRAP" run --ready none -- ./notexec
    assert_failure 126
    assert_equal "$(cat "$LOG")" "run run-failed result=exec code=exited status=126"
    assert_equal "$(norm "$stderr")" "ccwrap: ./notexec: Permission denied
ccwrap: Running hooks.d/run-failed/10-report
ccwrap: Finished hooks.d/run-failed/10-report: status 0 in N s"
}

@test "run-succeeded hooks start while the application runs, with CCWRAP_APP_PID its pid" {
    port=$(free_port)
    hook run-succeeded 10-check 'kill -0 "$CCWRAP_APP_PID" && echo "alive $CCWRAP_APP_PID" >>"$LOG"; echo "phase $CCWRAP_PHASE $CCWRAP_HOOK" >>"$LOG"'
    run --separate-stderr "$CCWRAP" run --ready "tcp:$port" -- \
        "$TESTAPP" --listen "$port" --pid "$BATS_TEST_TMPDIR/app.pid" --exit-after 1 --exit 0
    assert_success
    assert_equal "$(cat "$LOG")" "alive $(cat "$BATS_TEST_TMPDIR/app.pid")
phase run run-succeeded"
    assert_equal "$(norm "$stderr")" "ccwrap: Application ready (tcp:$port) after N s
ccwrap: Running hooks.d/run-succeeded/10-check
ccwrap: Finished hooks.d/run-succeeded/10-check: status 0 in N s"
}

@test "a failing run-succeeded hook is logged, the others still run, the status is the app's" {
    export CC_RUN_SUCCEEDED_HOOK='exit 4'
    hook run-succeeded 10-bad 'exit 3'
    logging_hook run-succeeded 20-after
    logging_hook run-failed 10-never
    run --separate-stderr "$CCWRAP" run --ready none -- "$TESTAPP" --exit-after 0.5 --exit 0
    assert_success
    assert_equal "$(cat "$LOG")" "run-succeeded/20-after"
    assert_equal "$(norm "$stderr")" "ccwrap: Application ready (none) after N s
ccwrap: Running CC_RUN_SUCCEEDED_HOOK: exit 4
ccwrap: CC_RUN_SUCCEEDED_HOOK failed: status 4 in N s
ccwrap: Running hooks.d/run-succeeded/10-bad
ccwrap: hooks.d/run-succeeded/10-bad failed: status 3 in N s
ccwrap: Running hooks.d/run-succeeded/20-after
ccwrap: Finished hooks.d/run-succeeded/20-after: status 0 in N s"
}

@test "the application exits before it is ready: run-failed (exit-code) and its status" {
    failed_reporter 10-report
    logging_hook run-succeeded 10-never
    run --separate-stderr "$CCWRAP" run --ready "tcp:$(free_port)" -- "$TESTAPP" --exit 42
    assert_failure 42
    assert_equal "$(cat "$LOG")" "run run-failed result=exit-code code=exited status=42"
    assert_equal "$(norm "$stderr")" "ccwrap: application exited before it was ready (exit-code: 42)
ccwrap: Running hooks.d/run-failed/10-report
ccwrap: Finished hooks.d/run-failed/10-report: status 0 in N s"
}

@test "the application exits 0 before it is ready: still run-failed (exit-code), status 0" {
    failed_reporter 10-report
    run --separate-stderr "$CCWRAP" -q run --ready "tcp:$(free_port)" -- "$TESTAPP" --exit 0
    assert_success
    assert_equal "$(cat "$LOG")" "run run-failed result=exit-code code=exited status=0"
}

@test "the application is killed before it is ready: run-failed (signal), ccwrap dies of it" {
    failed_reporter 10-report
    run --separate-stderr perl -e 'system(@ARGV); print $? & 127' \
        "$CCWRAP" run --ready "tcp:$(free_port)" -- sh -c 'kill -TERM $$'
    assert_success
    assert_output "15"
    assert_equal "$(cat "$LOG")" "run run-failed result=signal code=killed status=TERM"
    assert_equal "$(norm "$stderr")" "ccwrap: application was killed before it was ready (signal: TERM)
ccwrap: Running hooks.d/run-failed/10-report
ccwrap: Finished hooks.d/run-failed/10-report: status 0 in N s"
}

@test "every run-failed hook runs even after one fails; the status stays the app's" {
    export CC_RUN_FAILED_HOOK='echo var >>"$LOG"; exit 9'
    hook run-failed 10-bad 'echo 10-bad >>"$LOG"; exit 8'
    hook run-failed 20-last 'echo 20-last >>"$LOG"'
    run --separate-stderr "$CCWRAP" run --ready "tcp:$(free_port)" -- "$TESTAPP" --exit 5
    assert_failure 5
    assert_equal "$(cat "$LOG")" "var
10-bad
20-last"
    assert_equal "$(norm "$stderr")" "ccwrap: application exited before it was ready (exit-code: 5)
ccwrap: Running CC_RUN_FAILED_HOOK: echo var >>\"\$LOG\"; exit 9
ccwrap: CC_RUN_FAILED_HOOK failed: status 9 in N s
ccwrap: Running hooks.d/run-failed/10-bad
ccwrap: hooks.d/run-failed/10-bad failed: status 8 in N s
ccwrap: Running hooks.d/run-failed/20-last
ccwrap: Finished hooks.d/run-failed/20-last: status 0 in N s"
}

@test "ccwrap exits with the app's status only after a slow run-succeeded hook has finished" {
    hook run-succeeded 10-slow 'sleep 1; echo slow-done >>"$LOG"'
    start=$(date +%s%N)
    run --separate-stderr "$CCWRAP" run --ready none -- \
        sh -c 'sleep 0.2; echo app-exits >>"$LOG"; exit 6'
    elapsed_ms=$((($(date +%s%N) - start) / 1000000))
    assert_failure 6
    assert_equal "$(cat "$LOG")" "app-exits
slow-done"
    [ "$elapsed_ms" -ge 1000 ]
    [ "$elapsed_ms" -lt 5000 ]
    assert_equal "$(norm "$stderr")" "ccwrap: Application ready (none) after N s
ccwrap: Running hooks.d/run-succeeded/10-slow
ccwrap: Finished hooks.d/run-succeeded/10-slow: status 0 in N s"
}

@test "ccwrap mirrors an application killed by a signal after it was ready" {
    run --separate-stderr perl -e 'system(@ARGV); print $? & 127' \
        "$CCWRAP" run --ready none -- sh -c 'sleep 0.1; kill -USR1 $$'
    assert_success
    assert_output "10"
    assert_equal "$(norm "$stderr")" "ccwrap: Application ready (none) after N s"
}

@test "without COMMAND, run runs CC_RUN_COMMAND through the shell from the root" {
    mkdir -p "$BATS_TEST_TMPDIR/elsewhere"
    cd "$BATS_TEST_TMPDIR/elsewhere"
    export CC_RUN_COMMAND='echo "run in $PWD by $0" >>"$LOG" && exit 4'
    run --separate-stderr "$CCWRAP" --root "$APP" run --ready none
    assert_failure 4
    assert_equal "$(cat "$LOG")" "run in $APP by /bin/sh"
    assert_equal "$(norm "$stderr")" "ccwrap: Application ready (none) after N s"
}

@test "a COMMAND wins over CC_RUN_COMMAND and runs in ccwrap's working folder" {
    mkdir -p "$BATS_TEST_TMPDIR/elsewhere"
    cd "$BATS_TEST_TMPDIR/elsewhere"
    export CC_RUN_COMMAND='echo variable >>"$LOG"'
    run --separate-stderr "$CCWRAP" -q --root "$APP" run --ready none -- sh -c 'echo "command in $PWD" >>"$LOG"'
    assert_success
    assert_equal "$(cat "$LOG")" "command in $BATS_TEST_TMPDIR/elsewhere"
}

@test "neither COMMAND nor CC_RUN_COMMAND is a usage error, status 125" {
    logging_hook pre-run 10-never
    run --separate-stderr "$CCWRAP" run
    assert_failure 125
    assert_equal "$stderr" "ccwrap: CC_RUN_COMMAND: no COMMAND given and the variable is empty; see 'ccwrap --help'"
    CC_RUN_COMMAND=' 	' run --separate-stderr "$CCWRAP" run --ready none
    assert_failure 125
    assert_equal "$stderr" "ccwrap: CC_RUN_COMMAND: no COMMAND given and the variable is empty; see 'ccwrap --help'"
    assert_equal "$(cat "$LOG")" ""
}

@test "lines a pre-run hook writes to CCWRAP_ENV reach the application and later hooks" {
    hook pre-run 10-env 'echo "GREETING=hello from pre-run" >>"$CCWRAP_ENV"; echo "bad line" >>"$CCWRAP_ENV"'
    hook run-succeeded 10-see 'echo "hook: $GREETING" >>"$LOG"'
    run --separate-stderr "$CCWRAP" run --ready exit -- sh -c 'echo "app: $GREETING" >>"$LOG"'
    assert_success
    assert_equal "$(cat "$LOG")" "app: hello from pre-run
hook: hello from pre-run"
    assert_equal "$(norm "$stderr")" "ccwrap: Running hooks.d/pre-run/10-env
ccwrap: Finished hooks.d/pre-run/10-env: status 0 in N s
ccwrap: warning: hooks.d/pre-run/10-env: CCWRAP_ENV line 2 is not NAME=value with NAME matching [A-Za-z_][A-Za-z0-9_]*; ignored
ccwrap: Application ready (exit) after N s
ccwrap: Running hooks.d/run-succeeded/10-see
ccwrap: Finished hooks.d/run-succeeded/10-see: status 0 in N s"
}

@test "run hooks get CCWRAP_PHASE=run and their point in CCWRAP_HOOK" {
    hook pre-run 10-env 'echo "$CCWRAP_PHASE $CCWRAP_HOOK app_pid=${CCWRAP_APP_PID-unset}" >>"$LOG"'
    hook run-succeeded 10-env 'echo "$CCWRAP_PHASE $CCWRAP_HOOK result=${CCWRAP_RESULT-unset}" >>"$LOG"'
    hook run-failed 10-env 'echo "$CCWRAP_PHASE $CCWRAP_HOOK" >>"$LOG"'
    run "$CCWRAP" -q run --ready exit -- true
    assert_success
    run "$CCWRAP" -q run --ready exit -- false
    assert_failure 1
    assert_equal "$(cat "$LOG")" "run pre-run app_pid=unset
run run-succeeded result=unset
run pre-run app_pid=unset
run run-failed"
}

@test "the application's output and exit status are its own" {
    run --separate-stderr "$CCWRAP" -q run --ready none -- sh -c 'echo out; echo err >&2; exit 5'
    assert_failure 5
    assert_output "out"
    assert_equal "$stderr" "err"
}

@test "the application inherits no descriptor of ccwrap's, only what ccwrap inherited" {
    # perl closes everything above 2 but fd 5, so the expected set is exact.
    closing='use POSIX; for (3 .. 1023) { POSIX::close($_) unless $_ == 5 } exec @ARGV or die'
    hook pre-run 10-ok 'true'
    hook run-succeeded 10-fds "exec '$TESTAPP' --fds '$BATS_TEST_TMPDIR/hook-fds' --exit 0"
    run --separate-stderr perl -e "$closing" -- "$CCWRAP" -q run --ready none -- \
        "$TESTAPP" --fds "$BATS_TEST_TMPDIR/fds" --exit-after 0.3 5</dev/null 3>&-
    assert_success
    assert_equal "$stderr" ""
    assert_equal "$(cat "$BATS_TEST_TMPDIR/fds")" "0 1 2 5"
    assert_equal "$(cat "$BATS_TEST_TMPDIR/hook-fds")" "0 1 2 5"
    # The probes' sockets: notify's, and tcp's while a connection is being tried.
    rm -rf hooks.d
    run --separate-stderr perl -e "$closing" -- "$CCWRAP" run --ready notify -- \
        "$TESTAPP" --fds "$BATS_TEST_TMPDIR/fds" --notify-after 0 --exit-after 0.5 5</dev/null 3>&-
    assert_success
    assert_equal "$(norm "$stderr")" "ccwrap: Application ready (notify) after N s"
    assert_equal "$(cat "$BATS_TEST_TMPDIR/fds")" "0 1 2 5"
    port=$(free_port)
    run --separate-stderr perl -e "$closing" -- "$CCWRAP" run --ready "tcp:$port" \
        --ready-timeout 0.3 --keep-on-timeout -- \
        "$TESTAPP" --fds "$BATS_TEST_TMPDIR/fds" --exit-after 1 5</dev/null 3>&-
    assert_success
    assert_equal "$(norm "$stderr")" "ccwrap: application not ready after N s: Nothing listening on 0.0.0.0:$port yet"
    assert_equal "$(cat "$BATS_TEST_TMPDIR/fds")" "0 1 2 5"
}

@test "ccwrap's own NOTIFY_SOCKET is not passed to the application, and gets READY=1 when ready" {
    sd=$BATS_TEST_TMPDIR/systemd.sock
    "$TESTAPP" --notify-listen "$sd" --notify-out "$BATS_TEST_TMPDIR/sd.out" 3>&- &
    remember_pid $!
    wait_for 5 test -S "$sd"
    : >"$BATS_TEST_TMPDIR/sd.out"
    port=$(free_port)
    # The hook starts after READY=1 was sent: it must find it without waiting long.
    hook run-succeeded 10-sd "for i in \$(seq 50); do grep -qx READY=1 '$BATS_TEST_TMPDIR/sd.out' && break; sleep 0.02; done; cat '$BATS_TEST_TMPDIR/sd.out' >>\"\$LOG\""
    NOTIFY_SOCKET=$sd run --separate-stderr "$CCWRAP" run --ready "tcp:$port" -- \
        sh -c 'echo "app NOTIFY_SOCKET=${NOTIFY_SOCKET-unset}" >>"$LOG"; exec "$0" "$@"' \
        "$TESTAPP" --listen "$port" --listen-after 0.2 --exit-after 0.8 --exit 0
    assert_success
    assert_equal "$(cat "$LOG")" "app NOTIFY_SOCKET=unset
READY=1"
    assert_equal "$(norm "$stderr")" "ccwrap: Application ready (tcp:$port) after N s
ccwrap: Running hooks.d/run-succeeded/10-sd
ccwrap: Finished hooks.d/run-succeeded/10-sd: status 0 in N s"
    assert_equal "$(cat "$BATS_TEST_TMPDIR/sd.out")" "READY=1"
}

@test "with --ready notify the application gets ccwrap's own socket; systemd's gets one READY=1" {
    sd="@ccwrap-test-systemd-$$-$RANDOM"
    "$TESTAPP" --notify-listen "$sd" --notify-out "$BATS_TEST_TMPDIR/sd.out" 3>&- &
    remember_pid $!
    wait_for 5 grep -q " ${sd}\$" /proc/net/unix
    NOTIFY_SOCKET=$sd run --separate-stderr "$CCWRAP" run --ready notify -- \
        sh -c 'echo "$NOTIFY_SOCKET" >>"$LOG"; exec "$0" "$@"' \
        "$TESTAPP" --notify-after 0.2 --exit-after 0.8 --exit 0
    assert_success
    assert_regex "$(cat "$LOG")" '^@ccwrap-notify-[0-9]+-[0-9a-f]{16}$'
    assert_equal "$(norm "$stderr")" "ccwrap: Application ready (notify) after N s"
    wait_for 5 grep -q . "$BATS_TEST_TMPDIR/sd.out"
    assert_equal "$(cat "$BATS_TEST_TMPDIR/sd.out")" "READY=1"
}

@test "an application whose systemd socket is gone still runs; ccwrap only warns" {
    NOTIFY_SOCKET=$BATS_TEST_TMPDIR/nobody.sock run --separate-stderr "$CCWRAP" run --ready none -- \
        "$TESTAPP" --exit-after 0.2 --exit 3
    assert_failure 3
    assert_equal "$(norm "$stderr")" "ccwrap: Application ready (none) after N s
ccwrap: warning: $BATS_TEST_TMPDIR/nobody.sock: cannot send READY=1: No such file or directory"
}
