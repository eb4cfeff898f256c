#!/usr/bin/env bats
# Signals and supervision (§7): relay exactly once, terminals (Ctrl-C, Ctrl-Z), ignored
# signals, re-raise, the subreaper, PID 1 in a PID namespace, inherited descriptors.
# Design: doc/design.md §7 (exit status and signals).

load test_helper

setup() {
    common_setup
    SIGLOG=$BATS_TEST_TMPDIR/signals
    PIDF=$BATS_TEST_TMPDIR/app.pid
}

teardown() {
    kill_background
}

@test "each signal sent to ccwrap with kill(2) reaches the application exactly once" {
    start_ccwrap -q run --ready none -- "$TESTAPP" --signals "$SIGLOG" --pid "$PIDF" --exit-on TERM
    wait_for 5 test -s "$PIDF"
    expected=""
    for sig in HUP INT QUIT USR1 USR2 WINCH CONT ALRM; do
        kill -s "$sig" "$CCPID"
        expected="$expected$sig 1
"
        wait_for 5 grep -qx "$sig 1" "$SIGLOG"
    done
    kill -s TERM "$CCPID"
    wait_status "$CCPID"
    assert_equal "$status" 143
    assert_equal "$(cat "$SIGLOG")" "${expected}TERM 1"
}

@test "a signal sent to ccwrap during a build reaches the running hook, then the command" {
    hook pre-build 10-wait "exec '$TESTAPP' --signals '$SIGLOG.hook' --pid '$PIDF.hook' --exit-on USR2"
    start_ccwrap -q build -- "$TESTAPP" --signals "$SIGLOG.cmd" --pid "$PIDF" --exit-on TERM
    wait_for 5 test -s "$PIDF.hook"
    kill -s USR1 "$CCPID"
    wait_for 5 grep -qx "USR1 1" "$SIGLOG.hook"
    kill -s USR2 "$CCPID"
    # The hook died of a signal that ccwrap received: ccwrap dies of it too, like a shell.
    wait_status "$CCPID"
    assert_equal "$status" $((128 + 12))
    assert_equal "$(cat "$SIGLOG.hook")" "USR1 1
USR2 1"
    [ ! -e "$PIDF" ]
}

@test "run-succeeded hooks still running receive the signals ccwrap relays" {
    export CC_RUN_SUCCEEDED_HOOK="exec '$TESTAPP' --signals '$SIGLOG.hook' --pid '$PIDF.hook' --exit-on TERM"
    start_ccwrap -q run --ready none -- "$TESTAPP" --signals "$SIGLOG" --pid "$PIDF" --exit-on TERM
    wait_for 5 test -s "$PIDF.hook"
    kill -s USR1 "$CCPID"
    wait_for 5 grep -qx "USR1 1" "$SIGLOG.hook"
    wait_for 5 grep -qx "USR1 1" "$SIGLOG"
    kill -s TERM "$CCPID"
    wait_status "$CCPID"
    assert_equal "$status" 143
    assert_equal "$(cat "$SIGLOG")" "USR1 1
TERM 1"
    assert_equal "$(cat "$SIGLOG.hook")" "USR1 1
TERM 1"
}

@test "signals inherited as ignored stay ignored for the application, and are still relayed" {
    (
        trap '' USR1
        exec "$CCWRAP" -q run --ready none -- "$TESTAPP" --ignored "$BATS_TEST_TMPDIR/ignored" \
            --pid "$PIDF" --exit-on USR2 3>&-
    ) &
    CCPID=$!
    remember_pid "$CCPID"
    wait_for 5 test -s "$PIDF"
    run cat "$BATS_TEST_TMPDIR/ignored"
    assert_output --regexp '(^| )USR1( |$)'
    # The application keeps SIG_IGN for USR1: ccwrap relays it and the kernel discards it,
    # exactly as if it had been sent to the application.
    kill -s USR1 "$CCPID"
    sleep 0.2
    kill -0 "$(cat "$PIDF")"
    kill -0 "$CCPID"
    kill -s USR2 "$CCPID"
    wait_status "$CCPID"
    assert_equal "$status" $((128 + 12))
}

@test "a parent sees ccwrap die of the application's signal, not exit 128+S" {
    run status_of "$CCWRAP" -q run --ready none -- sh -c 'kill -USR1 $$'
    assert_output "exit=0 signal=10"
    run status_of "$CCWRAP" -q run --ready none -- sh -c 'exit 3'
    assert_output "exit=3 signal=0"
}

@test "Ctrl-C at a terminal reaches the application once and aborts the command line" {
    CMD="'$CCWRAP' -q run --ready none -- '$TESTAPP' --signals '$SIGLOG' --pid '$PIDF' --exit-on INT; echo next-\$((1+1))-ran" \
        READY_FILE="$PIDF" run expect "$FIXTURES/pty.exp" ctrl-c prompt
    assert_success
    refute_output --partial "next-2-ran"
    assert_equal "$(cat "$SIGLOG")" "INT 1"
}

@test "Ctrl-C and Ctrl-\\ at a terminal each reach the application exactly once" {
    CMD="'$CCWRAP' -q run --ready none -- '$TESTAPP' --signals '$SIGLOG' --pid '$PIDF' --exit-on QUIT" \
        READY_FILE="$PIDF" run expect "$FIXTURES/pty.exp" ctrl-c pause ctrl-backslash prompt
    assert_success
    assert_equal "$(cat "$SIGLOG")" "INT 1
QUIT 1"
}

@test "Ctrl-C at a terminal during a hook reaches the hook once and aborts the line" {
    hook pre-build 10-wait "exec '$TESTAPP' --signals '$SIGLOG' --pid '$PIDF' --exit-on INT"
    CMD="'$CCWRAP' -q build -- true; echo next-\$((1+1))-ran" \
        READY_FILE="$PIDF" run expect "$FIXTURES/pty.exp" ctrl-c prompt
    assert_success
    refute_output --partial "next-2-ran"
    assert_equal "$(cat "$SIGLOG")" "INT 1"
}

@test "Ctrl-Z stops the whole job and gives the prompt back; fg resumes it" {
    CMD="'$CCWRAP' -q run --ready none -- '$TESTAPP' --signals '$SIGLOG' --pid '$PIDF' --exit-on INT" \
        READY_FILE="$PIDF" PID_FILE="$PIDF" SNAPSHOT="$BATS_TEST_TMPDIR/state" \
        run expect "$FIXTURES/pty.exp" ctrl-z prompt snapshot fg pause ctrl-c prompt
    assert_success
    assert_output --partial "Stopped"
    assert_regex "$(cat "$BATS_TEST_TMPDIR/state")" '^T'
    assert_equal "$(cat "$SIGLOG")" "CONT 1
INT 1"
}

@test "orphans are reaped: ccwrap is a child subreaper and leaves no zombie" {
    start_ccwrap -q run --ready none -- sh -c "(sleep 0.3 & echo \$! >'$BATS_TEST_TMPDIR/orphan'); exec '$TESTAPP' --pid '$PIDF' --exit-on TERM"
    wait_for 5 test -s "$PIDF"
    wait_for 5 test -s "$BATS_TEST_TMPDIR/orphan"
    orphan=$(cat "$BATS_TEST_TMPDIR/orphan")
    # While it lives, the orphan's parent is ccwrap; once it exits, it is reaped.
    ppid=$(ps -o ppid= -p "$orphan" | tr -d ' ')
    assert_equal "$ppid" "$CCPID"
    wait_for 5 sh -c "! ps -o pid= -p $orphan"
    run ps -o stat= --ppid "$CCPID"
    refute_output --partial "Z"
    kill -s TERM "$CCPID"
    wait_status "$CCPID"
    assert_equal "$status" 143
}

@test "the application inherits no descriptor of ccwrap's own" {
    # What the application would have had without ccwrap (bats itself leaves some open).
    "$TESTAPP" --fds "$BATS_TEST_TMPDIR/direct" --exit 0 5</dev/null 3>&-
    export CC_PRE_RUN_HOOK=true CC_RUN_SUCCEEDED_HOOK=true
    run "$CCWRAP" -q --events "$BATS_TEST_TMPDIR/events" run --ready notify --ready-timeout 1 -- \
        "$TESTAPP" --fds "$BATS_TEST_TMPDIR/fds" --notify-after 0 --exit-after 0.2 5</dev/null 3>&-
    assert_success
    assert_regex "$(cat "$BATS_TEST_TMPDIR/fds")" '^0 1 2 .*5'
    assert_equal "$(cat "$BATS_TEST_TMPDIR/fds")" "$(cat "$BATS_TEST_TMPDIR/direct")"
}

unshare_works() {
    unshare_why_not
}

@test "as PID 1 in a PID namespace: signals relayed, 128+S on a signal death" {
    unshare_works || skip "$UNSHARE_WHY_NOT"
    unshare --pid --fork --mount-proc "$CCWRAP" -q run --ready none -- \
        "$TESTAPP" --signals "$SIGLOG" --pid "$PIDF" --exit-on TERM 3>&- &
    remember_pid $!
    upid=$!
    wait_for 5 test -s "$PIDF"
    assert_equal "$(cat "$PIDF")" 2
    ccpid=$(pgrep -P "$upid" -x ccwrap)
    kill -s USR1 "$ccpid"
    wait_for 5 grep -qx "USR1 1" "$SIGLOG"
    kill -s TERM "$ccpid"
    wait_status "$upid"
    assert_equal "$status" 143
    assert_equal "$(cat "$SIGLOG")" "USR1 1
TERM 1"
    run status_of unshare --pid --fork --mount-proc "$CCWRAP" -q run --ready none -- sh -c 'kill -TERM $$'
    assert_output "exit=143 signal=0"
}

@test "as PID 1: orphans are reaped, no zombie stays" {
    unshare_works || skip "$UNSHARE_WHY_NOT"
    run unshare --pid --fork --mount-proc "$CCWRAP" -q run --ready none -- sh -c \
        'for i in 1 2 3; do (sleep 0.1 &); done; sleep 0.6; ps -eo stat=,comm=; exit 0'
    assert_success
    refute_output --regexp '^Z'
    assert_line --regexp '^S.* ccwrap$'
}

# start_in_job ARGS...: ccwrap as a job of its own, as a shell with job control starts it: its
# own process group, with a parent in another group of the same session. (A group without
# such a parent is orphaned, and the kernel discards stop signals there.) Sets $CCPID.
start_in_job() {
    perl -e 'use POSIX; POSIX::setsid(); my $pid = fork // die;
        if (!$pid) { setpgid(0, 0); exec @ARGV or POSIX::_exit(127) }
        open(my $f, ">", $ENV{JOBPID}) or die; print $f "$pid\n"; close $f;
        waitpid($pid, 0); exit($? & 127 ? 128 + ($? & 127) : $? >> 8)' "$CCWRAP" "$@" 3>&- &
    remember_pid $!
    JOBHOLDER=$!
    wait_for 5 test -s "$JOBPID"
    CCPID=$(cat "$JOBPID")
    remember_pid "$CCPID"
}

@test "kill -TSTP then kill -CONT to ccwrap alone: the application stops, then continues once" {
    export JOBPID=$BATS_TEST_TMPDIR/job.pid
    start_in_job -q run --ready none -- "$TESTAPP" --signals "$SIGLOG" --pid "$PIDF" --exit-on TERM
    wait_for 5 test -s "$PIDF"
    app=$(cat "$PIDF")
    kill -s TSTP "$CCPID"
    wait_for 5 sh -c "ps -o stat= -p $app | grep -q '^T'"
    wait_for 5 sh -c "ps -o stat= -p $CCPID | grep -q '^T'"
    kill -s CONT "$CCPID"
    wait_for 5 grep -qx "CONT 1" "$SIGLOG"
    wait_for 5 sh -c "ps -o stat= -p $app | grep -q '^S'"
    kill -s TERM "$CCPID"
    wait_status "$JOBHOLDER"
    assert_equal "$status" 143
    assert_equal "$(cat "$SIGLOG")" "CONT 1
TERM 1"
}

@test "PWR, URG, XCPU, VTALRM, PROF, IO, SYS sent to ccwrap each reach the application once; ccwrap lives" {
    app='for s in PWR URG XCPU VTALRM PROF IO SYS; do trap "echo $s >>\"$SIGLOG\"" $s; done
         echo $$ >"$PIDF"; while :; do sleep 0.05; done'
    SIGLOG=$SIGLOG PIDF=$PIDF "$CCWRAP" -q run --ready none -- bash -c "$app" 3>&- &
    cc=$!
    remember_pid "$cc"
    wait_for 5 test -s "$PIDF"
    for s in PWR URG XCPU VTALRM PROF IO SYS; do
        kill -s "$s" "$cc"
        wait_for 5 grep -qx "$s" "$SIGLOG"
    done
    kill -0 "$cc"
    assert_equal "$(sort "$SIGLOG" | tr '\n' ' ')" "IO PROF PWR SYS URG VTALRM XCPU "
    kill -s TERM "$cc"
    local s=0
    wait "$cc" || s=$?
    assert_equal "$s" 143
}

@test "a TSTP the application handles (Sidekiq's quiet) does not stop ccwrap, which goes on relaying" {
    "$CCWRAP" -q run --ready none -- sh -c \
        "trap 'echo TSTP >>\"$SIGLOG\"' TSTP; trap 'echo TERM >>\"$SIGLOG\"; exit 0' TERM; echo \$\$ >'$PIDF'; while :; do sleep 0.05; done" 3>&- &
    cc=$!
    remember_pid "$cc"
    wait_for 5 test -s "$PIDF"
    kill -s TSTP "$cc"
    wait_for 5 grep -qx TSTP "$SIGLOG"
    sleep 0.2
    run ps -o stat= -p "$cc"
    refute_output --regexp '^T'
    kill -s TERM "$cc"
    local s=0
    wait "$cc" || s=$?
    assert_equal "$s" 0
    assert_equal "$(cat "$SIGLOG")" "TSTP
TERM"
}

@test "ccwrap as session leader on a terminal: a hangup reaches the application exactly once" {
    run "$FIXTURES/ptyrun.py" --hangup-when "$PIDF" -- "$CCWRAP" -q run --ready none -- \
        "$TESTAPP" --signals "$SIGLOG" --pid "$PIDF" --exit-on HUP
    assert_equal "$(cat "$SIGLOG")" "HUP 1"
}
