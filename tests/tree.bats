#!/usr/bin/env bats
# tree.bats — the application is its whole process tree (§7): a stop reaches the real
# program behind a hook shell, npm or gunicorn's master; a simple CC_*_COMMAND's status is the
# program's; nothing outlives ccwrap; after a stop nothing new starts. Real Node.js, npm and
# gunicorn, installed by contrib/install-deps.
# Design: doc/design.md §7 (the command is a process tree; what a stop reaches).

load test_helper

setup() {
    common_setup
    SIGLOG=$BATS_TEST_TMPDIR/signals
    PIDF=$BATS_TEST_TMPDIR/app.pid
    EVENTS=$BATS_TEST_TMPDIR/events
    export SIGLOG PIDF
    cp "$FIXTURES/node/server.js" "$FIXTURES/node/package.json" "$FIXTURES/wsgi/app.py" "$APP/"
    PORT=$(free_port)
    export PORT
}

teardown() {
    kill_background
    # Whatever a failed test left: no node or gunicorn of this test may outlive it.
    pkill -KILL -f "$APP/" 2>/dev/null || true
}

alive() {
    kill -0 "$1" 2>/dev/null
}

@test "CC_RUN_COMMAND='node server.js': node is ccwrap's child and its TERM handler runs once" {
    export CC_RUN_COMMAND="node server.js"
    start_ccwrap run
    wait_for 10 test -s "$PIDF"
    node=$(cat "$PIDF")
    # The hook shell handed over: no /bin/sh waits in between.
    assert_equal "$(ps -o ppid= -p "$node" | tr -d ' ')" "$CCPID"
    kill -s TERM "$CCPID"
    wait_status "$CCPID"
    assert_equal "$status" 0
    assert_equal "$(cat "$SIGLOG")" "TERM 1"
    run alive "$node"
    assert_failure
}

@test "ccwrap run -- npm start: node behind npm and sh gets TERM once, nothing is left" {
    start_ccwrap --events "$EVENTS" run -- npm start
    wait_for 20 test -s "$PIDF"
    node=$(cat "$PIDF")
    kill -s TERM "$CCPID"
    wait_status "$CCPID"
    ccwrap_status=$status
    assert_equal "$(cat "$SIGLOG")" "TERM 1"
    run alive "$node"
    assert_failure
    # ccwrap's status is npm's own, as the event log recorded it.
    app_status=$(jq -r 'select(.event == "app_end") | .status' "$EVENTS")
    assert_equal "$ccwrap_status" "$app_status"
}

@test "CC_RUN_COMMAND='npm start': the same through the hook shell" {
    export CC_RUN_COMMAND="npm start"
    start_ccwrap run
    wait_for 20 test -s "$PIDF"
    node=$(cat "$PIDF")
    kill -s INT "$CCPID"
    wait_status "$CCPID"
    assert_equal "$(cat "$SIGLOG")" "INT 1"
    run alive "$node"
    assert_failure
}

@test "gunicorn with two workers shuts down gracefully on a TERM sent to ccwrap" {
    export CC_RUN_COMMAND='gunicorn -w 2 -b 0.0.0.0:$PORT --pid gunicorn.pid app:app'
    "$CCWRAP" run 2>"$BATS_TEST_TMPDIR/err" 3>&- &
    CCPID=$!
    remember_pid "$CCPID"
    wait_for 20 grep -q "Application ready" "$BATS_TEST_TMPDIR/err"
    wait_for 10 sh -c "[ \$(grep -c 'Booting worker' '$BATS_TEST_TMPDIR/err') -eq 2 ]"
    master=$(cat gunicorn.pid)
    assert_equal "$(ps -o ppid= -p "$master" | tr -d ' ')" "$CCPID"
    kill -s TERM "$CCPID"
    wait_status "$CCPID"
    assert_equal "$status" 0
    run cat "$BATS_TEST_TMPDIR/err"
    assert_line --partial "Handling signal: term"
    assert_line --partial "Shutting down: Master"
    assert_equal "$(grep -c "Worker exiting" "$BATS_TEST_TMPDIR/err")" 2
    run pgrep -f "gunicorn -w 2 -b 0.0.0.0:$PORT"
    assert_failure
}

@test "a compound CC_RUN_COMMAND: the stop reaches the program behind the shell; the status is the shell's" {
    export CC_RUN_COMMAND='cd . && node server.js'
    start_ccwrap run
    wait_for 10 test -s "$PIDF"
    node=$(cat "$PIDF")
    # A list is not one simple command: the shell stays in between.
    [ "$(ps -o ppid= -p "$node" | tr -d ' ')" != "$CCPID" ]
    kill -s TERM "$CCPID"
    wait_status "$CCPID"
    # dash dies of the TERM, and ccwrap with it; node ran its handler once.
    assert_equal "$status" 143
    assert_equal "$(cat "$SIGLOG")" "TERM 1"
    run alive "$node"
    assert_failure
}

@test "one simple command: the status and the death signal are the program's, as after --" {
    export CC_RUN_COMMAND="GREETING=hi '$TESTAPP' --pid '$PIDF' --exit-on TERM"
    start_ccwrap run --ready none
    wait_for 5 test -s "$PIDF"
    assert_equal "$(ps -o ppid= -p "$(cat "$PIDF")" | tr -d ' ')" "$CCPID"
    assert_equal "$(tr '\0' '\n' <"/proc/$(cat "$PIDF")/environ" | grep '^GREETING=')" "GREETING=hi"
    kill -s TERM "$CCPID"
    wait_status "$CCPID"
    assert_equal "$status" 143
    CC_BUILD_COMMAND="'$TESTAPP' --exit 7" run status_of "$CCWRAP" -q build
    assert_output "exit=7 signal=0"
    CC_BUILD_COMMAND="sh -c 'kill -USR1 \$\$'" run status_of "$CCWRAP" -q build
    assert_output "exit=0 signal=10"
    # A value that is shell syntax runs as written: the shell's status.
    CC_BUILD_COMMAND="true; exit 4" run status_of "$CCWRAP" -q build
    assert_output "exit=4 signal=0"
}

@test "a cancelled CC_BUILD_COMMAND: the real command gets the TERM, not only the shell" {
    export CC_BUILD_COMMAND="cd . && '$TESTAPP' --signals '$SIGLOG' --pid '$PIDF' --exit-on TERM"
    start_ccwrap -q build
    wait_for 5 test -s "$PIDF"
    kill -s TERM "$CCPID"
    wait_status "$CCPID"
    assert_equal "$status" 143
    assert_equal "$(cat "$SIGLOG")" "TERM 1"
    run alive "$(cat "$PIDF")"
    assert_failure
}

@test "a readiness timeout stops the real program behind the shell, then 124" {
    export CC_RUN_COMMAND="cd . && '$TESTAPP' --signals '$SIGLOG' --pid '$PIDF' --exit-on TERM"
    printf 'leftovers = "keep"\n' >ccwrap.conf
    run --separate-stderr "$CCWRAP" run --ready "file:$BATS_TEST_TMPDIR/never" --ready-timeout 0.5
    assert_failure 124
    assert_equal "$(cat "$SIGLOG")" "TERM 1"
    wait_for 5 sh -c "! kill -0 $(cat "$PIDF")"
}

@test "what the command left behind is stopped when ccwrap ends, daemons that escaped with setsid too" {
    run --separate-stderr "$CCWRAP" build -- sh -c "
        sleep 300 & echo \$! >'$BATS_TEST_TMPDIR/bg'
        (setsid sh -c 'sleep 301 & echo \$! >\"$BATS_TEST_TMPDIR/daemon\"' &)
        sleep 0.3"
    assert_success
    assert_equal "$(norm "$stderr" | sed -E 's/[0-9]+ \(/PID (/g')" \
        "ccwrap: stopping 2 processes left behind: PID (sleep), PID (sleep)"
    run alive "$(cat "$BATS_TEST_TMPDIR/bg")"
    assert_failure
    run alive "$(cat "$BATS_TEST_TMPDIR/daemon")"
    assert_failure
}

@test "a leftover that ignores SIGTERM gets SIGKILL after kill_grace; the status stays the command's" {
    printf 'kill_grace = 1\n' >ccwrap.conf
    start=$(date +%s%N)
    run --separate-stderr "$CCWRAP" run --ready none -- sh -c \
        "sh -c 'trap \"\" TERM; echo \$\$ >\"$BATS_TEST_TMPDIR/stubborn\"; while :; do sleep 0.1; done' &
         sleep 0.3; exit 3"
    elapsed_ms=$((($(date +%s%N) - start) / 1000000))
    assert_failure 3
    [ "$elapsed_ms" -ge 1000 ]
    assert_regex "${stderr_lines[1]}" "^ccwrap: stopping [0-9]+ process(es)? left behind: [0-9]+ \(sh\)"
    assert_regex "${stderr_lines[2]}" \
        "^ccwrap: warning: [0-9]+ process(es)? still running after 1.000 s, killed: [0-9]+ \(sh\)"
    run alive "$(cat "$BATS_TEST_TMPDIR/stubborn")"
    assert_failure
}

@test "leftovers = \"keep\" leaves them running, as before; nothing left means nothing said" {
    printf 'leftovers = "keep"\n' >ccwrap.conf
    run --separate-stderr "$CCWRAP" build -- sh -c "sleep 300 >/dev/null 2>&1 & echo \$! >'$BATS_TEST_TMPDIR/bg'"
    assert_success
    assert_equal "$stderr" ""
    bg=$(cat "$BATS_TEST_TMPDIR/bg")
    remember_pid "$bg"
    alive "$bg"
    rm ccwrap.conf
    run --separate-stderr "$CCWRAP" build -- true
    assert_success
    assert_equal "$stderr" ""
}

@test "a stop is a stop: after a TERM between two hooks, no later hook and no command starts" {
    for i in $(seq -w 1 300); do
        hook pre-build "$i-quick" "echo $i >>\"\$LOG\""
    done
    for _ in 1 2 3 4 5; do
        : >"$LOG"
        rm -f "$BATS_TEST_TMPDIR/ran"
        "$CCWRAP" -q build -- touch "$BATS_TEST_TMPDIR/ran" 3>&- &
        pid=$!
        wait_for 10 test -s "$LOG"
        kill -s TERM "$pid"
        wait_status "$pid"
        assert_equal "$status" 143
        [ ! -e "$BATS_TEST_TMPDIR/ran" ]
        [ "$(wc -l <"$LOG")" -lt 300 ]
    done
}

@test "a hook that handles TERM and exits 0 is the last one: the next is not started, and says so" {
    hook pre-build 10-graceful "trap 'echo graceful >>\"\$LOG\"; exit 0' TERM; echo \$\$ >'$PIDF'; while :; do sleep 0.05; done"
    logging_hook pre-build 20-next
    "$CCWRAP" build -- touch "$BATS_TEST_TMPDIR/ran" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
    pid=$!
    remember_pid "$pid"
    wait_for 5 test -s "$PIDF"
    kill -s TERM "$pid"
    wait_status "$pid"
    assert_equal "$status" 143
    assert_equal "$(cat "$LOG")" "graceful"
    [ ! -e "$BATS_TEST_TMPDIR/ran" ]
    run norm "$(cat "$BATS_TEST_TMPDIR/err")"
    assert_line "ccwrap: Finished hooks.d/pre-build/10-graceful: status 0 in N s"
    assert_line "ccwrap: hooks.d/pre-build/20-next not started: SIGTERM received"
}

@test "a TERM while the application gets ready: no run-succeeded and no run-failed hook starts" {
    logging_hook run-succeeded 10-never
    logging_hook run-failed 10-never
    start_ccwrap -q run --ready "file:$BATS_TEST_TMPDIR/go" -- node server.js
    wait_for 10 test -s "$PIDF"
    kill -s TERM "$CCPID"
    wait_status "$CCPID"
    assert_equal "$status" 0
    assert_equal "$(cat "$SIGLOG")" "TERM 1"
    assert_equal "$(cat "$LOG")" ""
}

@test "a run-succeeded hook that never ends does not keep ccwrap alive after the app ended" {
    printf 'kill_grace = 1\n' >ccwrap.conf
    hook run-succeeded 10-forever "echo \$\$ >'$PIDF'; exec sleep 300"
    start=$(date +%s%N)
    run --separate-stderr "$CCWRAP" run --ready none -- sh -c 'sleep 0.3; exit 5'
    elapsed_ms=$((($(date +%s%N) - start) / 1000000))
    assert_failure 5
    [ "$elapsed_ms" -ge 1000 ]
    [ "$elapsed_ms" -lt 5000 ]
    run alive "$(cat "$PIDF")"
    assert_failure
    run norm "$stderr"
    assert_line "ccwrap: the application ended: stopping hooks.d/run-succeeded/10-forever"
    assert_line "ccwrap: hooks.d/run-succeeded/10-forever stopped: the application ended"
}
