#!/usr/bin/env bats
# The process room (§7, §11): the process table at its fullest, and the one wording of a
# start that failed, for a command given by a variable as for hooks and workers (§3).
#
# register_proc's "not watched" warning for a full table cannot be reached with real
# processes: at most the application, one hook, 32 workers and 32 cron entries run at once,
# 66 of the 96 places. The first test fills what a run can fill without waiting for cron's
# minute and checks each one is watched to its end.

load test_helper

setup() {
    common_setup
    PIDS=$BATS_TEST_TMPDIR/pids
    mkdir -p "$PIDS"
    export PIDS
}

teardown() {
    kill_background
    [ -z "${IN_PID_NS:-}" ] || return 0
    for f in "$PIDS"/*; do
        if [ -s "$f" ]; then
            kill -KILL "$(cat "$f")" 2>/dev/null || true
        fi
    done
}

# ccw ARGS...: ccwrap in the foreground, killed after 60 s; $status and $stderr. Not bats's
# run: given a 127 without -127, bats 1.8 ended this file there without a word.
ccw() {
    status=0
    timeout --preserve-status -s KILL 60 "$CCWRAP" "$@" 2>"$BATS_TEST_TMPDIR/err" 3>&- || status=$?
    stderr=$(cat "$BATS_TEST_TMPDIR/err")
}

@test "32 workers, each leaving a process in its group, the application and a hook: all watched, all stopped" {
    local n
    # Each worker leaves a sleep behind in its process group, then waits itself.
    export CC_WORKER_COMMAND='sleep 30 & echo $! >"$PIDS/left.$CCWRAP_WORKER"; echo $$ >"$PIDS/w.$CCWRAP_WORKER"; wait'
    for n in $(seq 1 31); do
        export "CC_WORKER_COMMAND_$n=$CC_WORKER_COMMAND"
    done
    export CC_WORKER_RESTART=no
    # The run-succeeded hook runs beside the application and the workers.
    export CC_RUN_SUCCEEDED_HOOK='echo $$ >"$PIDS/hook"; sleep 0.5'
    # The application ends once every worker and the hook are there.
    ccw run --ready none -- sh -c 'i=0; until [ "$(find "$PIDS" -name "w.*" | wc -l)" = 32 ] && [ -s "$PIDS/hook" ]; do i=$((i+1)); [ $i -lt 500 ] || exit 99; sleep 0.02; done'
    assert_equal "$status" 0
    [[ $stderr != *"not watched"* ]] || fail "$stderr"
    assert_equal "$(grep -c ': started (pid ' <<<"$stderr")" 32
    grep -qx "ccwrap: stopping 32 workers: the application ended" <<<"$stderr" || fail "$stderr"
    assert_equal "$(grep -c 'killed by signal TERM after' <<<"$stderr")" 32
    # Every worker and what it left in its group are gone.
    for f in "$PIDS"/w.* "$PIDS"/left.*; do
        ! kill -0 "$(cat "$f")" 2>/dev/null || fail "$f: $(cat "$f") still runs"
    done
    local left=("$PIDS"/left.*)
    assert_equal "${#left[@]}" 32
}

@test "a command given by a variable that cannot start: the hook's wording, 127 and 126" {
    printf 'shell = "/nonexistent/sh"\n' >"$APP/ccwrap.conf"
    cd "$APP"
    CC_RUN_COMMAND=true ccw -q run --ready none
    assert_equal "$status" 127
    assert_equal "$stderr" "ccwrap: CC_RUN_COMMAND: cannot run /nonexistent/sh: No such file or directory"
    # The same words for a hook of the same variable kind.
    CC_PRE_RUN_HOOK=true ccw -q run --ready none -- true
    assert_equal "$status" 127
    assert_equal "$stderr" "ccwrap: CC_PRE_RUN_HOOK: cannot run /nonexistent/sh: No such file or directory"
    printf '#!/bin/sh\n' >"$BATS_TEST_TMPDIR/noexec"
    chmod 644 "$BATS_TEST_TMPDIR/noexec"
    printf 'shell = "%s"\n' "$BATS_TEST_TMPDIR/noexec" >"$APP/ccwrap.conf"
    CC_RUN_COMMAND=true ccw -q run --ready none
    assert_equal "$status" 126
    assert_equal "$stderr" "ccwrap: CC_RUN_COMMAND: cannot run $BATS_TEST_TMPDIR/noexec: Permission denied"
}
