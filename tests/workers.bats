#!/usr/bin/env bats
# Workers (§11): CC_WORKER_COMMAND and CC_WORKER_COMMAND_<N> beside the application,
# restarted per CC_WORKER_RESTART after CC_WORKER_RESTART_DELAY with a crash-loop back-off,
# reached by relayed signals, stopped when the application ends; plan and check.
# Design: doc/design.md §11 (workers).

load test_helper

setup() {
    common_setup
    OUT=$BATS_TEST_TMPDIR/out
    ERR=$BATS_TEST_TMPDIR/err
    SIGF=$BATS_TEST_TMPDIR/worker.signals
    WPID=$BATS_TEST_TMPDIR/worker.pid
    PIDF=$BATS_TEST_TMPDIR/app.pid
    export SIGF WPID OUT ERR
    # waitapp STATUS COMMAND...: an application that runs until COMMAND succeeds (at most
    # 10 s, then it exits 99), then exits STATUS.
    WAITAPP=$BATS_TEST_TMPDIR/waitapp
    cat >"$WAITAPP" <<'EOF'
#!/bin/sh
status=$1
shift
i=0
until "$@" 2>/dev/null; do
    i=$((i + 1))
    if [ "$i" -ge 500 ]; then
        echo "waitapp: timed out: $*" >&2
        exit 99
    fi
    sleep 0.02
done
exit "$status"
EOF
    chmod 755 "$WAITAPP"
}

teardown() {
    kill_background
    # A test that failed half-way may leave the application and workers of a killed ccwrap.
    # Pids written inside a PID namespace mean other processes out here: never those.
    [ -z "${IN_PID_NS:-}" ] || return 0
    for f in "$WPID" "$PIDF" "$BATS_TEST_TMPDIR"/pid.*; do
        if [ -s "$f" ]; then
            kill -KILL "$(cat "$f")" 2>/dev/null || true
        fi
    done
}

# ccw ARGS...: ccwrap in the foreground; $status, $output (stdout) and $stderr, and the same
# in $OUT and $ERR, which an application can watch while ccwrap runs.
ccw() {
    status=0
    # Bounded: a ccwrap that never ends is killed, and the test sees 137.
    timeout --preserve-status -s KILL 60 "$CCWRAP" "$@" >"$OUT" 2>"$ERR" 3>&- || status=$?
    output=$(cat "$OUT")
    stderr=$(cat "$ERR")
}

# script NAME BODY: an executable shell script NAME under the application root.
script() {
    printf '#!/bin/sh\n%s\n' "$2" >"$APP/$1"
    chmod 755 "$APP/$1"
}

# Durations and pids vary from run to run.
normw() {
    norm "$1" | sed -E 's/pid [0-9]+/pid P/g'
}

# A worker that records the signals USR1, USR2 and TERM in $SIGF, and exits 0 on TERM.
signal_worker() {
    script worker.sh '
trap "echo USR1 >>\"\$SIGF\"" USR1
trap "echo USR2 >>\"\$SIGF\"" USR2
trap "echo TERM >>\"\$SIGF\"; exit 0" TERM
echo $$ >"$WPID"
while :; do sleep 0.05; done'
    export CC_WORKER_COMMAND=./worker.sh
}

@test "a worker runs through the hook shell from the root, with the application's environment, in a group of its own" {
    export CC_PRE_RUN_HOOK='echo FROM_PRE_RUN=set-by-pre-run >>"$CCWRAP_ENV"'
    script worker.sh '
echo "worker output"
echo "worker diagnostics" >&2
echo "dir=$(pwd) env=$FROM_PRERUN$FROM_PRE_RUN name=$CCWRAP_WORKER stdin=$(readlink /proc/$$/fd/0)" >>"$LOG"
ps -o pgid= -p $$ | tr -d " " >"$BATS_TEST_TMPDIR/worker.pgid"
exec sleep 30'
    # A bare name that is a file under the root runs that file, as for a hook (§3).
    export CC_WORKER_COMMAND=worker.sh
    mkdir "$BATS_TEST_TMPDIR/elsewhere"
    cd "$BATS_TEST_TMPDIR/elsewhere"
    ccw -C "$APP" run --ready none -- sh -c '"$1" 0 test -s "$2" || exit 99
        ps -o pgid= -p $$ | tr -d " " >"$3"; exit 3' sh "$WAITAPP" \
        "$BATS_TEST_TMPDIR/worker.pgid" "$BATS_TEST_TMPDIR/app.pgid" </dev/zero
    assert_equal "$status" 3
    assert_equal "$output" "worker output"
    assert_equal "$(cat "$LOG")" "dir=$APP env=set-by-pre-run name=CC_WORKER_COMMAND stdin=/dev/null"
    wpgid=$(cat "$BATS_TEST_TMPDIR/worker.pgid")
    [ "$wpgid" != "$(cat "$BATS_TEST_TMPDIR/app.pgid")" ] || fail "the worker is in the application's group"
    [ "$wpgid" != "$(ps -o pgid= -p $$ | tr -d ' ')" ] || fail "the worker is in ccwrap's group"
    # The worker writes to ccwrap's stderr as it goes, between ccwrap's own lines.
    grep -qx "worker diagnostics" "$ERR"
    run grep -v "worker diagnostics" "$ERR"
    assert_equal "$(normw "$output")" "ccwrap: Running CC_PRE_RUN_HOOK: echo FROM_PRE_RUN=set-by-pre-run >>\"\$CCWRAP_ENV\"
ccwrap: Finished CC_PRE_RUN_HOOK: status 0 in N s
ccwrap: CC_WORKER_COMMAND: started (pid P): worker.sh
ccwrap: Application ready (none) after N s
ccwrap: stopping 1 worker: the application ended
ccwrap: CC_WORKER_COMMAND: killed by signal TERM after N s"
    # Nothing of the worker is left.
    run pgrep -g "$wpgid"
    assert_failure 1
}

@test "several workers start in the order of N, gaps allowed, CC_WORKER_COMMAND first" {
    export CC_WORKER_COMMAND_10='echo ten >"$BATS_TEST_TMPDIR/w.10"; exec sleep 30'
    export CC_WORKER_COMMAND_2='echo two >"$BATS_TEST_TMPDIR/w.2"; exec sleep 30'
    export CC_WORKER_COMMAND='echo plain >"$BATS_TEST_TMPDIR/w.plain"; exec sleep 30'
    export CC_WORKER_COMMAND_0='echo zero >"$BATS_TEST_TMPDIR/w.0"; exec sleep 30'
    export CC_WORKER_COMMAND_5='  '
    ccw -q run --ready none -- "$WAITAPP" 0 sh -c 'test $(cat "$0"/w.* | wc -l) -eq 4' \
        "$BATS_TEST_TMPDIR"
    assert_equal "$status" 0
    assert_equal "$stderr" ""
    rm "$BATS_TEST_TMPDIR"/w.*
    ccw run --ready none -- "$WAITAPP" 0 sh -c 'test $(cat "$0"/w.* | wc -l) -eq 4' \
        "$BATS_TEST_TMPDIR"
    assert_equal "$status" 0
    run grep -E -o 'CC_WORKER_COMMAND[_0-9]*: started' "$ERR"
    assert_output "CC_WORKER_COMMAND: started
CC_WORKER_COMMAND_0: started
CC_WORKER_COMMAND_2: started
CC_WORKER_COMMAND_10: started"
    assert_equal "$(grep -c 'killed by signal TERM' "$ERR")" 4
    grep -qx "ccwrap: stopping 4 workers: the application ended" "$ERR"
}

@test "CC_WORKER_RESTART=on-failure (the default): a failure restarts the worker, exit 0 ends it" {
    script worker.sh '
n=$(cat "$BATS_TEST_TMPDIR/runs" 2>/dev/null || echo 0)
echo $((n + 1)) >"$BATS_TEST_TMPDIR/runs"
[ "$n" -ge 1 ] && exit 0
exit 1'
    export CC_WORKER_COMMAND=./worker.sh CC_WORKER_RESTART_DELAY=0.1
    ccw run --ready none -- "$WAITAPP" 0 grep -q "not restarted" "$ERR"
    assert_equal "$status" 0
    assert_equal "$(cat "$BATS_TEST_TMPDIR/runs")" 2
    assert_equal "$(normw "$stderr")" "ccwrap: CC_WORKER_COMMAND: started (pid P): ./worker.sh
ccwrap: Application ready (none) after N s
ccwrap: warning: CC_WORKER_COMMAND: exited with status 1 after N s
ccwrap: CC_WORKER_COMMAND: restart in 0.1 s (CC_WORKER_RESTART=on-failure)
ccwrap: CC_WORKER_COMMAND: restarted (pid P): ./worker.sh
ccwrap: CC_WORKER_COMMAND: exited with status 0 after N s
ccwrap: CC_WORKER_COMMAND: not restarted (CC_WORKER_RESTART=on-failure)"
}

@test "CC_WORKER_RESTART=on-failure follows systemd: killed by TERM is clean, by KILL a failure" {
    export CC_WORKER_RESTART_DELAY=0 CC_WORKER_RESTART=on-failure
    export CC_WORKER_COMMAND='kill -TERM $$'
    ccw run --ready none -- "$WAITAPP" 0 grep -q "not restarted" "$ERR"
    assert_equal "$status" 0
    assert_equal "$(normw "$stderr")" "ccwrap: CC_WORKER_COMMAND: started (pid P): kill -TERM \$\$
ccwrap: Application ready (none) after N s
ccwrap: warning: CC_WORKER_COMMAND: killed by signal TERM after N s
ccwrap: CC_WORKER_COMMAND: not restarted (CC_WORKER_RESTART=on-failure)"

    export CC_WORKER_COMMAND='[ -e "$BATS_TEST_TMPDIR/killed" ] && exit 0; : >"$BATS_TEST_TMPDIR/killed"; kill -KILL $$'
    ccw run --ready none -- "$WAITAPP" 0 grep -q "not restarted" "$ERR"
    assert_equal "$status" 0
    run grep -E -v ': (started|restarted) \(|ready' "$ERR"
    assert_equal "$(normw "$output")" "ccwrap: warning: CC_WORKER_COMMAND: killed by signal KILL after N s
ccwrap: CC_WORKER_COMMAND: restart in 0 s (CC_WORKER_RESTART=on-failure)
ccwrap: CC_WORKER_COMMAND: exited with status 0 after N s
ccwrap: CC_WORKER_COMMAND: not restarted (CC_WORKER_RESTART=on-failure)"
}

@test "CC_WORKER_RESTART=always restarts after exit 0 too; =no never restarts" {
    export CC_WORKER_RESTART=always CC_WORKER_RESTART_DELAY=0.05
    export CC_WORKER_COMMAND='echo run >>"$LOG"'
    ccw run --ready none -- "$WAITAPP" 0 sh -c 'test $(wc -l <"$LOG") -ge 3'
    assert_equal "$status" 0
    run sh -c 'grep -v "ready" "$ERR" | head -n 7'
    assert_equal "$(normw "$output")" "ccwrap: CC_WORKER_COMMAND: started (pid P): echo run >>\"\$LOG\"
ccwrap: CC_WORKER_COMMAND: exited with status 0 after N s
ccwrap: CC_WORKER_COMMAND: restart in 0.05 s (CC_WORKER_RESTART=always)
ccwrap: CC_WORKER_COMMAND: restarted (pid P): echo run >>\"\$LOG\"
ccwrap: CC_WORKER_COMMAND: exited with status 0 after N s
ccwrap: CC_WORKER_COMMAND: restart in 0.05 s (CC_WORKER_RESTART=always)
ccwrap: CC_WORKER_COMMAND: restarted (pid P): echo run >>\"\$LOG\""

    : >"$LOG"
    export CC_WORKER_RESTART=no
    export CC_WORKER_COMMAND='echo run >>"$LOG"; exit 1'
    # The application outlives the worker's failure by 0.5 s: no restart comes.
    ccw run --ready none -- "$WAITAPP" 0 sh -c 'grep -q "not restarted" "$0" && sleep 0.5' "$ERR"
    assert_equal "$status" 0
    assert_equal "$(cat "$LOG")" run
    assert_equal "$(normw "$stderr")" "ccwrap: CC_WORKER_COMMAND: started (pid P): echo run >>\"\$LOG\"; exit 1
ccwrap: Application ready (none) after N s
ccwrap: warning: CC_WORKER_COMMAND: exited with status 1 after N s
ccwrap: CC_WORKER_COMMAND: not restarted (CC_WORKER_RESTART=no)"
}

@test "CC_WORKER_RESTART_DELAY: the restart waits that long; 1 s by default" {
    export CC_WORKER_COMMAND='date +%s%N >>"$LOG"; exit 1' CC_WORKER_RESTART_DELAY=0.6
    ccw run --ready none -- "$WAITAPP" 0 sh -c 'test $(wc -l <"$LOG") -ge 2'
    assert_equal "$status" 0
    gap=$(($(sed -n 2p "$LOG") / 1000000 - $(sed -n 1p "$LOG") / 1000000))
    [ "$gap" -ge 600 ] || fail "restarted after $gap ms, not 600"
    grep -qx "ccwrap: CC_WORKER_COMMAND: restart in 0.6 s (CC_WORKER_RESTART=on-failure)" "$ERR"

    : >"$LOG"
    unset CC_WORKER_RESTART_DELAY
    ccw run --ready none -- "$WAITAPP" 0 sh -c 'test $(wc -l <"$LOG") -ge 2'
    assert_equal "$status" 0
    gap=$(($(sed -n 2p "$LOG") / 1000000 - $(sed -n 1p "$LOG") / 1000000))
    [ "$gap" -ge 1000 ] || fail "restarted after $gap ms, not 1000"
    grep -qx "ccwrap: CC_WORKER_COMMAND: restart in 1 s (CC_WORKER_RESTART=on-failure)" "$ERR"
}

@test "a bad CC_WORKER_RESTART or CC_WORKER_RESTART_DELAY: exit 125 before anything runs" {
    logging_hook pre-run 10-pre
    export CC_WORKER_COMMAND='echo worker >>"$LOG"'
    for bad in -1 abc 1.2345 2d 86401 ' 1'; do
        export CC_WORKER_RESTART_DELAY=$bad
        ccw run --ready none -- sh -c 'echo app >>"$LOG"'
        assert_equal "$status" 125
        assert_equal "$stderr" "ccwrap: CC_WORKER_RESTART_DELAY: '$bad' is not a delay in seconds such as 1, 0.5 or 250ms (at most 1 day)"
    done
    unset CC_WORKER_RESTART_DELAY
    for bad in sometimes Always on_failure 'no '; do
        export CC_WORKER_RESTART=$bad
        ccw run --ready none -- sh -c 'echo app >>"$LOG"'
        assert_equal "$status" 125
        assert_equal "$stderr" "ccwrap: CC_WORKER_RESTART: '$bad' is not a restart policy; use always, on-failure or no"
    done
    assert_equal "$(cat "$LOG")" ""
    # Empty means the default, as an unset variable.
    export CC_WORKER_RESTART='' CC_WORKER_RESTART_DELAY=''
    ccw -q run --ready none -- "$WAITAPP" 0 grep -q worker "$LOG"
    assert_equal "$status" 0
}

@test "a crash loop: five quick deaths in a row, then the restart delay doubles, and ccwrap says so" {
    export CC_WORKER_COMMAND='echo start >>"$LOG"; exit 1' CC_WORKER_RESTART_DELAY=0
    export CCWRAP_EVENTS=$BATS_TEST_TMPDIR/events
    ccw run --ready none -- "$WAITAPP" 0 grep -q "6 times in a row" "$ERR"
    assert_equal "$status" 0
    assert_equal "$(wc -l <"$LOG")" 6
    run grep -E 'restart in|backing off' "$ERR"
    assert_output "ccwrap: CC_WORKER_COMMAND: restart in 0 s (CC_WORKER_RESTART=on-failure)
ccwrap: CC_WORKER_COMMAND: restart in 0 s (CC_WORKER_RESTART=on-failure)
ccwrap: CC_WORKER_COMMAND: restart in 0 s (CC_WORKER_RESTART=on-failure)
ccwrap: CC_WORKER_COMMAND: restart in 0 s (CC_WORKER_RESTART=on-failure)
ccwrap: warning: CC_WORKER_COMMAND: died within 1 s of its start 5 times in a row; backing off: restart in 2 s
ccwrap: warning: CC_WORKER_COMMAND: died within 1 s of its start 6 times in a row; backing off: restart in 4 s"
    run jq -c 'select(.event | startswith("worker_")) | del(.time, .pid, .duration_ms)' "$CCWRAP_EVENTS"
    assert_line --index 0 '{"event":"worker_start","worker":"CC_WORKER_COMMAND","command":"echo start >>\"$LOG\"; exit 1","restart":0}'
    assert_line --index 1 '{"event":"worker_end","worker":"CC_WORKER_COMMAND","status":1,"code":"exited"}'
    assert_line --index 2 '{"event":"worker_restart","worker":"CC_WORKER_COMMAND","delay_ms":0,"restart":1,"backoff":false}'
    assert_line --index 3 '{"event":"worker_start","worker":"CC_WORKER_COMMAND","command":"echo start >>\"$LOG\"; exit 1","restart":1}'
    assert_line --index 14 '{"event":"worker_restart","worker":"CC_WORKER_COMMAND","delay_ms":2000,"restart":5,"backoff":true}'
    assert_line --index 17 '{"event":"worker_restart","worker":"CC_WORKER_COMMAND","delay_ms":4000,"restart":6,"backoff":true}'
    assert_equal "${#lines[@]}" 18
}

@test "a worker that lives a second or more starts a new streak" {
    script worker.sh '
n=$(cat "$BATS_TEST_TMPDIR/runs" 2>/dev/null || echo 0)
echo $((n + 1)) >"$BATS_TEST_TMPDIR/runs"
[ "$n" -eq 3 ] && sleep 1.1
exit 1'
    export CC_WORKER_COMMAND=./worker.sh CC_WORKER_RESTART_DELAY=0
    ccw run --ready none -- "$WAITAPP" 0 grep -q "backing off" "$ERR"
    assert_equal "$status" 0
    assert_equal "$(cat "$BATS_TEST_TMPDIR/runs")" 9
    # Runs 1-3 quick, run 4 long, runs 5-9 quick: the fifth quick one in a row is run 9.
    run grep -c 'backing off' "$ERR"
    assert_output 1
    grep -q "5 times in a row" "$ERR"
}

@test "each signal sent to ccwrap reaches every worker exactly once; TERM is not sent again at the stop" {
    signal_worker
    "$CCWRAP" -q run --ready none -- "$TESTAPP" --signals "$LOG" --pid "$PIDF" --exit-on TERM 3>&- &
    ccpid=$!
    remember_pid "$ccpid"
    wait_for 5 test -s "$WPID"
    wait_for 5 test -s "$PIDF"
    kill -s USR1 "$ccpid"
    wait_for 5 grep -qx USR1 "$SIGF"
    kill -s USR2 "$ccpid"
    wait_for 5 grep -qx USR2 "$SIGF"
    kill -s TERM "$ccpid"
    status=0
    wait "$ccpid" || status=$?
    assert_equal "$status" 143
    assert_equal "$(cat "$SIGF")" "USR1
USR2
TERM"
    assert_equal "$(cat "$LOG")" "USR1 1
USR2 1
TERM 1"
}

@test "Ctrl-C at a terminal reaches the application and each worker exactly once" {
    export CC_WORKER_COMMAND="$TESTAPP --signals $SIGF --pid $WPID --exit-on TERM"
    CMD="'$CCWRAP' -q run --ready none -- '$TESTAPP' --signals '$LOG' --pid '$PIDF' --exit-on INT" \
        READY_FILE="$WPID" run expect "$FIXTURES/pty.exp" ctrl-c prompt
    assert_success
    assert_equal "$(cat "$LOG")" "INT 1"
    # The worker, in a group of its own, has the INT from ccwrap, then the stop's TERM.
    assert_equal "$(cat "$SIGF")" "INT 1
TERM 1"
}

@test "a worker that survives the relayed TERM gets no second one at the stop, and SIGKILL after kill_grace" {
    printf 'kill_grace = 1\n' >"$APP/ccwrap.conf"
    script worker.sh '
trap "echo TERM >>\"\$SIGF\"" TERM
trap "" USR2
echo $$ >"$WPID"
while :; do sleep 0.05; done'
    export CC_WORKER_COMMAND=./worker.sh
    "$CCWRAP" run --ready none -- "$TESTAPP" --signals "$LOG" --pid "$PIDF" --exit-on USR2 \
        2>"$ERR" 3>&- &
    ccpid=$!
    remember_pid "$ccpid"
    wait_for 5 test -s "$WPID"
    wait_for 5 test -s "$PIDF"
    kill -s TERM "$ccpid"
    wait_for 5 grep -qx TERM "$SIGF"
    # The application ends later, by its own choice: the stop sends the worker no second TERM.
    kill -s USR2 "$ccpid"
    status=0
    wait "$ccpid" || status=$?
    assert_equal "$status" $((128 + 12))
    assert_equal "$(cat "$SIGF")" TERM
    grep -qx "ccwrap: CC_WORKER_COMMAND: killed by signal KILL after [0-9.]* s" "$ERR"
}

@test "32 workers, the most there can be, each get a relayed signal once; a 33rd is an error" {
    for i in $(seq 1 32); do
        export "CC_WORKER_COMMAND_$i=$TESTAPP --signals $BATS_TEST_TMPDIR/sig.$i --pid $BATS_TEST_TMPDIR/pid.$i --exit-on TERM"
    done
    "$CCWRAP" -q run --ready none -- "$TESTAPP" --signals "$LOG" --pid "$PIDF" --exit-on USR2 3>&- &
    ccpid=$!
    remember_pid "$ccpid"
    wait_for 10 sh -c 'test $(cat "$0"/pid.* | wc -l) -eq 32' "$BATS_TEST_TMPDIR"
    wait_for 5 test -s "$PIDF"
    kill -s USR1 "$ccpid"
    wait_for 10 sh -c 'test $(cat "$0"/sig.* | grep -c "^USR1 1$") -eq 32' "$BATS_TEST_TMPDIR"
    kill -s USR2 "$ccpid"
    status=0
    wait "$ccpid" || status=$?
    # The application dies of USR2, and ccwrap with it.
    assert_equal "$status" $((128 + 12))
    assert_equal "$(cat "$LOG")" "USR1 1
USR2 1"
    # Each worker got each relayed signal once, then the stop's TERM.
    assert_equal "$(cat "$BATS_TEST_TMPDIR"/sig.* | sort | uniq -c | tr -s ' ')" " 32 TERM 1
 32 USR1 1
 32 USR2 1"
    export CC_WORKER_COMMAND_33=true
    ccw run --ready none -- true
    assert_equal "$status" 125
    assert_equal "$stderr" "ccwrap: CC_WORKER_COMMAND_33: too many workers: ccwrap runs at most 32; run several programs from one worker script"
}

@test "after a relayed TERM a worker that ends is not restarted; the application decides the rest" {
    signal_worker
    export CC_WORKER_RESTART=always
    "$CCWRAP" run --ready none -- "$TESTAPP" --signals "$LOG" --pid "$PIDF" --exit-on USR2 \
        2>"$ERR" 3>&- &
    ccpid=$!
    remember_pid "$ccpid"
    wait_for 5 test -s "$WPID"
    wait_for 5 test -s "$PIDF"
    kill -s TERM "$ccpid"
    wait_for 5 grep -q "not restarted" "$ERR"
    kill -s USR2 "$ccpid"
    status=0
    wait "$ccpid" || status=$?
    assert_equal "$status" $((128 + 12))
    assert_equal "$(cat "$SIGF")" "TERM"
    assert_equal "$(cat "$LOG")" "TERM 1
USR2 1"
    run grep CC_WORKER "$ERR"
    assert_equal "$(normw "$output")" "ccwrap: CC_WORKER_COMMAND: started (pid P): ./worker.sh
ccwrap: CC_WORKER_COMMAND: exited with status 0 after N s
ccwrap: CC_WORKER_COMMAND: not restarted: ccwrap received SIGTERM"
}

@test "when the application exits, workers get SIGTERM and ccwrap waits; its status stays the application's" {
    script worker.sh '
trap "echo stopped >>\"\$LOG\"; exit 9" TERM
echo $$ >"$WPID"
while :; do sleep 0.05; done'
    export CC_WORKER_COMMAND=./worker.sh CC_WORKER_COMMAND_1='exit 4' CC_WORKER_RESTART=no
    ccw run --ready none -- "$WAITAPP" 3 sh -c 'grep -q "not restarted" "$0" && test -s "$1"' \
        "$ERR" "$WPID"
    assert_equal "$status" 3
    assert_equal "$(cat "$LOG")" stopped
    run kill -0 "$(cat "$WPID")"
    assert_failure
    grep -qx "ccwrap: stopping 1 worker: the application ended" "$ERR"
    run grep -E 'CC_WORKER_COMMAND:' "$ERR"
    assert_equal "$(normw "$output")" "ccwrap: CC_WORKER_COMMAND: started (pid P): ./worker.sh
ccwrap: CC_WORKER_COMMAND: exited with status 9 after N s"

    # A successful application: status 0, whatever its workers did.
    : >"$LOG"
    rm "$WPID"
    ccw -q run --ready none -- "$WAITAPP" 0 test -s "$WPID"
    assert_equal "$status" 0
    assert_equal "$(cat "$LOG")" stopped
}

@test "workers stop on a readiness timeout and when the application exits before it is ready" {
    script worker.sh '
trap "echo stopped >>\"\$LOG\"; exit 0" TERM
echo $$ >"$WPID"
while :; do sleep 0.05; done'
    export CC_WORKER_COMMAND=./worker.sh
    ccw run --ready "file:$BATS_TEST_TMPDIR/never" --ready-timeout 1 -- \
        "$TESTAPP" --exit-on TERM
    assert_equal "$status" 124
    assert_equal "$(cat "$LOG")" stopped
    run grep -E 'not ready|WORKER|worker' "$ERR"
    assert_equal "$(normw "$output")" "ccwrap: CC_WORKER_COMMAND: started (pid P): ./worker.sh
ccwrap: application not ready after N s: $BATS_TEST_TMPDIR/never does not exist yet
ccwrap: stopping 1 worker: the application ended
ccwrap: CC_WORKER_COMMAND: exited with status 0 after N s"

    : >"$LOG"
    rm "$WPID"
    ccw -q run --ready "file:$BATS_TEST_TMPDIR/never" -- "$WAITAPP" 4 test -s "$WPID"
    assert_equal "$status" 4
    assert_equal "$(cat "$LOG")" stopped
}

@test "a worker that ignores SIGTERM is killed kill_grace seconds later" {
    printf 'kill_grace = 1\n' >"$APP/ccwrap.conf"
    script worker.sh '
trap "" TERM
echo $$ >"$WPID"
while :; do sleep 0.05; done'
    export CC_WORKER_COMMAND=./worker.sh
    start=$(date +%s%N)
    ccw run --ready none -- "$WAITAPP" 0 test -s "$WPID"
    took=$((($(date +%s%N) - start) / 1000000))
    assert_equal "$status" 0
    [ "$took" -ge 1000 ] || fail "ccwrap ended after $took ms, before the grace"
    run grep -E 'CC_WORKER|stopping' "$ERR"
    assert_equal "$(normw "$output")" "ccwrap: CC_WORKER_COMMAND: started (pid P): ./worker.sh
ccwrap: stopping 1 worker: the application ended
ccwrap: CC_WORKER_COMMAND: killed by signal KILL after N s"
    run kill -0 "$(cat "$WPID")"
    assert_failure
}

@test "what a worker leaves in its group goes with it: SIGTERM at its end, SIGKILL at the restart and the stop" {
    printf 'kill_grace = 1\n' >"$APP/ccwrap.conf"
    script worker.sh '
sleep 30 &
echo $! >>"$BATS_TEST_TMPDIR/plain"
(trap "" TERM; exec sleep 30) &
echo $! >>"$BATS_TEST_TMPDIR/stubborn"
[ "$(wc -l <"$BATS_TEST_TMPDIR/plain")" -ge 2 ] && exec sleep 30
exit 1'
    script gone.sh '! kill -0 "$1" 2>/dev/null'
    export CC_WORKER_COMMAND=./worker.sh CC_WORKER_RESTART_DELAY=0.5
    # The first run's leftovers are gone once the second run has started.
    ccw run --ready none -- "$WAITAPP" 0 sh -c 'test "$(wc -l <"$0/plain")" -eq 2 &&
        ./gone.sh "$(head -n 1 "$0/plain")" && ./gone.sh "$(head -n 1 "$0/stubborn")"' \
        "$BATS_TEST_TMPDIR"
    assert_equal "$status" 0
    # And the second run's at the stop, the stubborn one after kill_grace.
    while read -r pid; do
        run kill -0 "$pid"
        assert_failure
    done < <(cat "$BATS_TEST_TMPDIR/plain" "$BATS_TEST_TMPDIR/stubborn")
    grep -qx "ccwrap: stopping 1 worker: the application ended" "$ERR"
}

unshare_works() {
    unshare_why_not
}

@test "as PID 1: workers get relayed signals once, their orphans are reaped, the status is the application's" {
    unshare_works || skip "$UNSHARE_WHY_NOT"
    IN_PID_NS=1
    script worker.sh '
trap "echo USR1 >>\"\$SIGF\"" USR1
trap "echo TERM >>\"\$SIGF\"; exit 0" TERM
for i in 1 2 3; do (sleep 0.1 &); done
echo $$ >"$WPID"
while :; do sleep 0.05; done'
    # A worker that leaves an orphan behind at each of its three runs, failing twice.
    script flaky.sh '
n=$(cat "$BATS_TEST_TMPDIR/runs" 2>/dev/null || echo 0)
echo $((n + 1)) >"$BATS_TEST_TMPDIR/runs"
(sleep 0.1 &)
[ "$n" -ge 2 ] && exit 0
exit 1'
    export CC_WORKER_COMMAND=./worker.sh CC_WORKER_COMMAND_1=./flaky.sh
    export CC_WORKER_RESTART_DELAY=0.1
    unshare --pid --fork --mount-proc "$CCWRAP" -q run --ready none -- \
        "$TESTAPP" --signals "$LOG" --pid "$PIDF" --exit-on TERM 3>&- &
    upid=$!
    remember_pid "$upid"
    wait_for 5 test -s "$WPID"
    wait_for 5 test -s "$PIDF"
    ccpid=$(pgrep -P "$upid" -x ccwrap)
    # Killing the namespace's PID 1 in teardown takes every process of the namespace with it.
    remember_pid "$ccpid"
    # Restarts went on and every orphan of theirs was reaped: no zombie under ccwrap.
    wait_for 5 grep -qx 3 "$BATS_TEST_TMPDIR/runs"
    sleep 0.5
    run ps -o stat= --ppid "$ccpid"
    refute_output --regexp 'Z'
    kill -s USR1 "$ccpid"
    wait_for 5 grep -qx USR1 "$SIGF"
    kill -s TERM "$ccpid"
    status=0
    wait "$upid" || status=$?
    assert_equal "$status" 143
    assert_equal "$(cat "$SIGF")" "USR1
TERM"
}

@test "CC_TASK=true: workers run beside the task and stop when it ends; the status is the task's" {
    export CC_TASK=true CC_WORKER_COMMAND='echo $$ >"$WPID"; exec sleep 30'
    ccw run -- "$WAITAPP" 0 test -s "$WPID"
    assert_equal "$status" 0
    assert_equal "$(normw "$stderr")" "ccwrap: CC_WORKER_COMMAND: started (pid P): echo \$\$ >\"\$WPID\"; exec sleep 30
ccwrap: Application ready (exit) after N s
ccwrap: stopping 1 worker: the application ended
ccwrap: CC_WORKER_COMMAND: killed by signal TERM after N s"
    rm "$WPID"
    ccw -q run -- "$WAITAPP" 4 test -s "$WPID"
    assert_equal "$status" 4
    assert_equal "$stderr" "ccwrap: application exited before it was ready (exit-code: 4)"
}

@test "plan run lists the workers in order with the restart policy" {
    script worker.sh 'exec sleep 30'
    export CC_WORKER_COMMAND_3=worker.sh CC_WORKER_COMMAND='php artisan queue:work'
    export CC_WORKER_RESTART=always CC_WORKER_RESTART_DELAY=250ms
    run "$CCWRAP" plan run
    assert_success
    assert_line "  workers                          beside the application, stopped when it ends; restart always, after 0.25 s"
    assert_line "      1  CC_WORKER_COMMAND         /bin/sh -c 'exec php artisan queue:work'"
    assert_line "      2  CC_WORKER_COMMAND_3       /bin/sh -c 'exec ./worker.sh'"
    unset CC_WORKER_COMMAND CC_WORKER_COMMAND_3 CC_WORKER_RESTART CC_WORKER_RESTART_DELAY
    export CC_WORKER_COMMAND_X=oops
    run "$CCWRAP" plan run
    assert_success
    assert_line "  workers                          none"
    assert_line "      -  CC_WORKER_COMMAND_X       not a worker variable, ignored; name workers CC_WORKER_COMMAND or CC_WORKER_COMMAND_<N> with N a number up to 999999"
    # No worker variable at all: no workers line.
    unset CC_WORKER_COMMAND_X
    run "$CCWRAP" plan run
    assert_success
    refute_line --partial workers
}

@test "check: a bad policy, a bad delay, a worker that cannot run, a misnamed variable" {
    script worker.sh 'exec sleep 30'
    chmod 644 "$APP/worker.sh"
    export CC_WORKER_COMMAND=./worker.sh CC_WORKER_COMMAND_1=./missing.sh CC_WORKER_COMMAND_X=oops
    export CC_WORKER_RESTART=sometimes CC_WORKER_RESTART_DELAY=5x
    run "$CCWRAP" check
    assert_failure 1
    assert_output "CC_WORKER_RESTART: 'sometimes' is not a restart policy; use always, on-failure or no
CC_WORKER_RESTART_DELAY: '5x' is not a delay in seconds such as 1, 0.5 or 250ms (at most 1 day)
CC_WORKER_COMMAND_X: not a worker variable, ignored; name workers CC_WORKER_COMMAND or CC_WORKER_COMMAND_<N> with N a number up to 999999
CC_WORKER_COMMAND: worker.sh is not executable; chmod +x worker.sh
CC_WORKER_COMMAND_1: ./missing.sh: no such file; fix the path in CC_WORKER_COMMAND_1"
    chmod 755 "$APP/worker.sh"
    unset CC_WORKER_COMMAND_1 CC_WORKER_COMMAND_X CC_WORKER_RESTART CC_WORKER_RESTART_DELAY
    run "$CCWRAP" check
    assert_success
    assert_output ""
}

@test "a worker that cannot run is reported at each start and backed off like a crash" {
    export CC_WORKER_COMMAND=./missing.sh CC_WORKER_RESTART_DELAY=0
    ccw run --ready none -- "$WAITAPP" 0 grep -q "backing off" "$ERR"
    assert_equal "$status" 0
    assert_equal "$(grep -c 'missing.sh: no such file' "$ERR")" 5
    grep -qx "ccwrap: CC_WORKER_COMMAND: ./missing.sh: no such file; fix the path in CC_WORKER_COMMAND" "$ERR"
    grep -qx "ccwrap: warning: CC_WORKER_COMMAND: exited with status 127 after 0.000 s" "$ERR"
}
