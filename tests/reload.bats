#!/usr/bin/env bats
# reload.bats — HUP sent to ccwrap is a reload, not a stop (§7, `systemctl reload`'s
# `kill -HUP $MAINPID`): it reaches the main program only — never its workers, the rest of the
# tree or CC_WORKER_* — and nothing else changes: workers keep their restart policy, later steps
# still run. If the program dies of it, ccwrap ends as it did. Real gunicorn with real workers.
# Design: doc/design.md §7 (HUP is a reload, not a stop).

load test_helper

setup() {
    common_setup
    SIGLOG=$BATS_TEST_TMPDIR/signals
    PIDF=$BATS_TEST_TMPDIR/app.pid
    ERR=$BATS_TEST_TMPDIR/err
    WPIDS=$BATS_TEST_TMPDIR/worker.pids
    WSIG=$BATS_TEST_TMPDIR/worker.signals
    SLOW_LOG=$BATS_TEST_TMPDIR/slow
    export SIGLOG PIDF WPIDS WSIG SLOW_LOG
    cp "$FIXTURES/wsgi/app.py" "$APP/"
    PORT=$(free_port)
    export PORT
}

teardown() {
    kill_background
    # Whatever a failed test left: no gunicorn or worker of this test may outlive it.
    pkill -KILL -f -- "-b 0.0.0.0:$PORT " 2>/dev/null || true
    pkill -KILL -f -- "$WPIDS" 2>/dev/null || true
}

alive() {
    kill -0 "$1" 2>/dev/null
}

lines() {
    grep -c -- "$1" "$2" || true
}

# A worker that notes each start's pid and each signal it gets, and never ends by itself. The
# files are named in the value, so that teardown finds what a failed test left by its name.
worker_value() {
    # shellcheck disable=SC2016 # $$ and $s are expanded by the worker's shell
    printf 'echo $$ >>%s; for s in HUP INT TERM USR1; do trap "echo $s >>%s" $s; done; while :; do sleep 0.1; done' \
        "'$WPIDS'" "'$WSIG'"
}

@test "HUP reloads gunicorn: a request in flight answers 200, the app keeps serving, the worker is untouched and still restarted" {
    export CC_RUN_COMMAND='gunicorn -w 2 -b 0.0.0.0:$PORT --pid gunicorn.pid app:app'
    CC_WORKER_COMMAND=$(worker_value)
    export CC_WORKER_COMMAND CC_WORKER_RESTART=always CC_WORKER_RESTART_DELAY=0.2
    "$CCWRAP" run 2>"$ERR" 3>&- &
    CCPID=$!
    remember_pid "$CCPID"
    wait_for 20 grep -q "Application ready" "$ERR"
    wait_for 10 sh -c "[ \$(grep -c 'Booting worker' '$ERR') -eq 2 ]"
    wait_for 10 test -s "$WPIDS"
    master=$(cat gunicorn.pid)
    worker=$(cat "$WPIDS")
    old=$(pgrep -P "$master" | sort)
    assert_equal "$(wc -l <<<"$old")" 2

    curl -s -o "$BATS_TEST_TMPDIR/body" -w '%{http_code}' --max-time 20 \
        "http://127.0.0.1:$PORT/slow" >"$BATS_TEST_TMPDIR/code" 3>&- &
    CURL=$!
    remember_pid "$CURL"
    wait_for 10 test -s "$SLOW_LOG"
    kill -s HUP "$CCPID"
    # The master reloads: two new workers; the old ones finish their request and exit.
    wait_for 15 sh -c "[ \$(grep -c 'Booting worker' '$ERR') -eq 4 ]"
    wait_status "$CURL"
    assert_equal "$status" 0
    assert_equal "$(cat "$BATS_TEST_TMPDIR/code")" 200
    assert_equal "$(cat "$BATS_TEST_TMPDIR/body")" slow
    run cat "$ERR"
    assert_line --partial "Handling signal: hup"
    refute_line --regexp "was terminated due to signal 1$"
    refute_line --partial "received SIGHUP"
    # Only the master got it: the same master serves, with new workers.
    alive "$CCPID"
    alive "$master"
    assert_equal "$(cat gunicorn.pid)" "$master"
    assert_equal "$(curl -s --max-time 5 "http://127.0.0.1:$PORT/")" ok
    # The background worker was neither signalled nor ended.
    alive "$worker"
    [ ! -e "$WSIG" ] || fail "the worker was signalled: $(cat "$WSIG")"
    assert_equal "$(lines 'CC_WORKER_COMMAND: ' "$ERR")" 1

    # Its restart policy still holds after the reload.
    kill -KILL "$worker"
    wait_for 10 sh -c "[ \$(wc -l <'$WPIDS') -eq 2 ]"
    run cat "$ERR"
    assert_line --partial "CC_WORKER_COMMAND: restart in 0.2 s (CC_WORKER_RESTART=always)"
    assert_line --partial "CC_WORKER_COMMAND: restarted (pid $(tail -n 1 "$WPIDS"))"
    refute_line --partial "not restarted"

    kill -s TERM "$CCPID"
    wait_status "$CCPID"
    assert_equal "$status" 0
}

@test "HUP to a hook shell's CC_RUN_COMMAND reaches the program it started, not the shell; later steps still run" {
    # The shell stays (a list), and would die of a HUP: the program it started gets it.
    export CC_RUN_COMMAND='"$TESTAPP" --signals "$SIGLOG" --pid "$PIDF" --exit-after 3 & wait'
    export TESTAPP
    hook run-succeeded 10-after 'trap "echo hook-HUP >>\"\$LOG\"" HUP; sleep 1; echo "run-succeeded ran" >>"$LOG"'
    "$CCWRAP" run --ready none 2>"$ERR" 3>&- &
    CCPID=$!
    remember_pid "$CCPID"
    wait_for 10 test -s "$PIDF"
    kill -s HUP "$CCPID"
    wait_for 10 test -s "$SIGLOG"
    wait_status "$CCPID"
    # The shell lived on to its end: the application's status is its own, 0.
    assert_equal "$status" 0
    assert_equal "$(cat "$SIGLOG")" "HUP 1"
    # The run-succeeded hook beside the application started and was not signalled.
    assert_equal "$(cat "$LOG")" "run-succeeded ran"
    run cat "$ERR"
    refute_line --partial "not started"
}

@test "an application that dies of the HUP ends ccwrap as it ended: status 129, no stop, workers stop with it" {
    export CC_RUN_COMMAND='"$TESTAPP" --signals "$SIGLOG" --pid "$PIDF" --exit-on HUP'
    export TESTAPP
    CC_WORKER_COMMAND=$(worker_value)
    export CC_WORKER_COMMAND CC_WORKER_RESTART=always
    "$CCWRAP" run --ready none 2>"$ERR" 3>&- &
    CCPID=$!
    remember_pid "$CCPID"
    wait_for 10 test -s "$PIDF"
    wait_for 10 test -s "$WPIDS"
    kill -s HUP "$CCPID"
    wait_status "$CCPID"
    assert_equal "$status" 129
    assert_equal "$(cat "$SIGLOG")" "HUP 1"
    # The worker got no HUP: it was stopped as the application ended, with TERM.
    assert_equal "$(cat "$WSIG")" TERM
    run cat "$ERR"
    refute_line --partial "received SIGHUP"
    assert_line --partial "stopping 1 worker: the application ended"
}

@test "the bare application killed by HUP and the same under ccwrap: the parent sees the same" {
    export CC_RUN_COMMAND='sleep 30'
    bare=$(bash -c 'sleep 30 & p=$!; sleep 0.3; kill -HUP $p; wait $p; echo "st=$?"')
    "$CCWRAP" run --ready none 2>"$ERR" 3>&- &
    CCPID=$!
    remember_pid "$CCPID"
    wait_for 10 pgrep -P "$CCPID" -x sleep
    kill -s HUP "$CCPID"
    wait_status "$CCPID"
    assert_equal "st=$status" "$bare"
    # ccwrap re-raised it: the kernel reports a death by HUP, not an exit with 129.
    assert_equal "$(perl -e 'my $pid = fork // die; if (!$pid) { exec @ARGV } sleep 1; kill "HUP", $pid; waitpid($pid, 0); printf "signal=%d\n", $? & 127' \
        "$CCWRAP" -q run --ready none -- sleep 30)" "signal=1"
}

@test "HUP during a pre-run hook reaches the hook only; the run goes on" {
    hook pre-run 10-reload 'trap "echo HUP >>\"$LOG\"" HUP; echo $$ >"$PIDF"; i=0; while [ $i -lt 10 ]; do sleep 0.1; i=$((i+1)); done'
    start_ccwrap run --ready none -- sh -c 'echo app >>"$LOG"'
    wait_for 10 test -s "$PIDF"
    kill -s HUP "$CCPID"
    wait_status "$CCPID"
    assert_equal "$status" 0
    assert_equal "$(cat "$LOG")" "HUP
app"
}

@test "a terminal hangup of ccwrap as session leader is relayed the same way: the application only" {
    CC_WORKER_COMMAND=$(worker_value)
    export CC_WORKER_COMMAND CC_WORKER_RESTART=always
    run "$FIXTURES/ptyrun.py" --hangup-when "$PIDF" -- "$CCWRAP" -q run --ready none -- \
        "$TESTAPP" --signals "$SIGLOG" --pid "$PIDF" --exit-after 2
    # The application handled it and ran to its end: its status, 0.
    assert_success
    assert_equal "$(cat "$SIGLOG")" "HUP 1"
    # The worker got no HUP: only the TERM that stops it when the application ends.
    assert_equal "$(cat "$WSIG")" TERM
    assert_equal "$(wc -l <"$WPIDS")" 1
}
