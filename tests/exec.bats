#!/usr/bin/env bats
# Exec in place (issue 14, doc/signals.md): with nothing to do after the command,
# ccwrap runs the pre-hooks and becomes the command. Same pid, the bare command's statuses,
# death signals, signal mask and descriptors; ccwrap supervises as soon as anything follows.
# Design: doc/design.md §7 (the bare command's statuses and signals), §3 (the trust rule,
# in place too).

load test_helper

setup() {
    common_setup
    export TMPDIR=$BATS_TEST_TMPDIR
    SIGLOG=$BATS_TEST_TMPDIR/signals
    PIDF=$BATS_TEST_TMPDIR/app.pid
    # Nothing to sweep: the one setting exec in place needs besides an empty plan.
    printf 'leftovers = "keep"\n' >ccwrap.conf
}

teardown() {
    kill_background
}

# ppid_of PID: the parent pid /proc shows.
ppid_of() {
    awk '/^PPid:/ { print $2 }' "/proc/$1/status"
}

@test "the command is the process ccwrap was started as: build and run, COMMAND and CC_*_COMMAND" {
    hook pre-run 10-pre "echo pre-run >>'$LOG'"
    start_ccwrap -q run -- "$TESTAPP" --signals "$SIGLOG" --pid "$PIDF" --exit-on TERM
    wait_for 5 test -s "$PIDF"
    assert_equal "$(cat "$PIDF")" "$CCPID"
    assert_equal "$(cat "/proc/$CCPID/comm")" testapp
    assert_equal "$(cat "$LOG")" pre-run
    kill -s USR1 "$CCPID"
    wait_for 5 grep -qx "USR1 1" "$SIGLOG"
    kill -s TERM "$CCPID"
    wait_status "$CCPID"
    assert_equal "$status" 143
    assert_equal "$(cat "$SIGLOG")" "USR1 1
TERM 1"

    rm -f "$PIDF"
    export CC_RUN_COMMAND="PORT=1 '$TESTAPP' --pid '$PIDF' --exit-on TERM"
    start_ccwrap -q run
    wait_for 5 test -s "$PIDF"
    assert_equal "$(cat "$PIDF")" "$CCPID"
    kill -s TERM "$CCPID"
    wait_status "$CCPID"
    assert_equal "$status" 143

    rm -f "$PIDF"
    export CC_BUILD_COMMAND="'$TESTAPP' --pid '$PIDF' --exit-after 0.2 --exit 7"
    start_ccwrap -q build
    wait_for 5 test -s "$PIDF"
    assert_equal "$(cat "$PIDF")" "$CCPID"
    wait_status "$CCPID"
    assert_equal "$status" 7
}

@test "exit statuses and death signals are exactly the bare command's" {
    for cmd in 'exit 0' 'exit 3' 'exit 255' 'kill -TERM $$' 'kill -USR1 $$' 'kill -INT $$' \
        'kill -HUP $$' 'kill -KILL $$' 'kill -PIPE $$'; do
        bare=$(status_of sh -c "$cmd")
        run status_of "$CCWRAP" -q run -- sh -c "$cmd"
        assert_output "$bare"
        run status_of "$CCWRAP" -q build -- sh -c "$cmd"
        assert_output "$bare"
    done
    # A command that cannot be executed: 127 and 126 with ccwrap's message, as supervised.
    run -127 --separate-stderr "$CCWRAP" -q run -- no-such-program-here
    assert_equal "$status" 127
    assert_equal "$stderr" "ccwrap: no-such-program-here: command not found"
    printf 'echo no shebang\n' >noexec.sh
    chmod 644 noexec.sh
    run --separate-stderr "$CCWRAP" -q build -- ./noexec.sh
    assert_equal "$status" 126
    assert_equal "$stderr" "ccwrap: ./noexec.sh: Permission denied"
    # No "#!": ENOEXEC, as posix_spawnp reports it when ccwrap supervises; no shell fallback.
    chmod 755 noexec.sh
    run --separate-stderr "$CCWRAP" -q build -- ./noexec.sh
    assert_equal "$status" 126
    assert_equal "$stderr" "ccwrap: ./noexec.sh: Exec format error"
}

@test "signal mask, ignored signals and descriptors are the bare command's; ccwrap is no subreaper" {
    probe='grep -E "^Sig(Blk|Ign)" /proc/self/status; ls /proc/self/fd | sort -n | tr "\n" " "'
    bare=$(trap '' USR1 PIPE; sh -c "$probe" 4</dev/null)
    run --separate-stderr bash -c "trap '' USR1 PIPE; exec '$CCWRAP' -q run -- sh -c '$probe' 4</dev/null"
    assert_success
    assert_output "$bare"
    # An orphan of the command goes where the bare command's would, not back to the command.
    run "$CCWRAP" -q run -- sh -c '(sleep 2 >/dev/null & echo $! >orphan); sleep 0.3; echo "$$ $(awk "/^PPid:/ { print \$2 }" /proc/$(cat orphan)/status)"'
    assert_success
    read -r self parent <<<"$output"
    [ "$self" != "$parent" ]
    kill "$(cat orphan)" 2>/dev/null || true
}

@test "pre-hooks still run first, and what they write to CCWRAP_ENV reaches the command" {
    hook pre-build 10-env 'echo GREETING=hello >>"$CCWRAP_ENV"'
    run --separate-stderr "$CCWRAP" build -- sh -c 'echo "$GREETING $$ $PPID"'
    assert_success
    read -r greeting _ _ <<<"$output"
    assert_equal "$greeting" hello
    # The run's private folder for CCWRAP_ENV files is gone: nobody removes it after the exec.
    run find "$BATS_TEST_TMPDIR" -maxdepth 1 -name 'ccwrap.*'
    assert_output ""
}

@test "whatever follows keeps ccwrap supervising: the command is its child" {
    # child_of ARGS...: the command (testapp) is started by ccwrap ARGS as its child.
    child_of() {
        rm -f "$PIDF"
        start_ccwrap -q "$@" "$TESTAPP" --pid "$PIDF" --exit-on TERM
        wait_for 5 test -s "$PIDF"
        [ "$(cat "$PIDF")" != "$CCPID" ]
        assert_equal "$(ppid_of "$(cat "$PIDF")")" "$CCPID"
        kill -s TERM "$CCPID"
        wait_status "$CCPID"
        assert_equal "$status" 143
    }
    hook post-build 10-post true
    child_of build --
    rm -r hooks.d
    hook run-succeeded 10-ok true
    child_of run --ready none --
    rm -r hooks.d
    hook run-failed 10-failed true
    child_of run --
    rm -r hooks.d
    CC_WORKER_COMMAND='sleep 30' child_of run --
    CCWRAP_EVENTS=$BATS_TEST_TMPDIR/events child_of run --
    child_of run --ready-timeout 30 --
    CCWRAP_READY=none child_of run --ready tcp --
    CCWRAP_EXEC_IN_PLACE=false child_of build --
    printf 'leftovers = "keep"\nexec_in_place = false\n' >ccwrap.conf
    child_of build --
    printf 'leftovers = "keep"\nready_timeout = 30\n' >ccwrap.conf
    child_of run --
    # The default: leftovers are stopped at the end, which needs ccwrap there.
    rm ccwrap.conf
    child_of build --
    child_of run --
}

@test "a value that is shell syntax keeps the shell and ccwrap in between" {
    export CC_RUN_COMMAND="'$TESTAPP' --pid '$PIDF' --exit-on TERM; true"
    start_ccwrap -q run
    wait_for 5 test -s "$PIDF"
    [ "$(cat "$PIDF")" != "$CCPID" ]
    kill -s TERM "$CCPID"
    wait_status "$CCPID"
    assert_equal "$status" 143
}

@test "a process a pre-run hook left behind keeps ccwrap supervising: the command never adopts it" {
    hook pre-run 10-daemon "sleep 30 >/dev/null 2>&1 & echo \$! >'$BATS_TEST_TMPDIR/daemon'"
    start_ccwrap -v run -- "$TESTAPP" --pid "$PIDF" --exit-on TERM 2>"$BATS_TEST_TMPDIR/err"
    wait_for 5 test -s "$PIDF"
    [ "$(cat "$PIDF")" != "$CCPID" ]
    assert_equal "$(ppid_of "$(cat "$BATS_TEST_TMPDIR/daemon")")" "$CCPID"
    kill -s TERM "$CCPID"
    wait_status "$CCPID"
    assert_equal "$status" 143
    grep -qx "ccwrap: not exec in place: processes the hooks left behind are ccwrap's children" \
        "$BATS_TEST_TMPDIR/err"
    # The relayed TERM reached the whole tree, the daemon included.
    wait_for 5 bash -c "! kill -0 $(cat "$BATS_TEST_TMPDIR/daemon")"
}

@test "-v says when it happens, and why not when it does not" {
    run --separate-stderr "$CCWRAP" -v build -- sh -c 'echo $$'
    assert_success
    assert_equal "$stderr" "ccwrap: exec in place: nothing follows the command, it takes ccwrap's pid $output"
    hook post-build 10-post true
    run --separate-stderr "$CCWRAP" -v build -- true
    assert_equal "${stderr_lines[0]}" "ccwrap: not exec in place: post-build hooks follow the command"
    rm -r hooks.d
    CC_RUN_COMMAND='true | true' run --separate-stderr "$CCWRAP" -v run
    assert_equal "${stderr_lines[0]}" "ccwrap: not exec in place: CC_RUN_COMMAND is shell syntax, not one simple command: the shell stays in between"
    run --separate-stderr "$CCWRAP" -v run --ready tcp:9 -- true
    assert_equal "${stderr_lines[0]}" "ccwrap: not exec in place: readiness is asked for (tcp:9, from --ready): ccwrap waits for it"
    NOTIFY_SOCKET=@nowhere run --separate-stderr "$CCWRAP" -v run -- true
    assert_equal "${stderr_lines[0]}" "ccwrap: not exec in place: NOTIFY_SOCKET is set: ccwrap stays to send READY=1 there"
    # The build cache archive follows a build (§10): ccwrap stays to write it.
    CC_DISABLE_BUILD_CACHE_UPLOAD='' run --separate-stderr "$CCWRAP" -v build --cache "$BATS_FILE_TMPDIR/store" -- true
    assert_success
    assert_equal "${stderr_lines[0]}" "ccwrap: not exec in place: the build cache archive follows the command (CC_DISABLE_BUILD_CACHE_UPLOAD=true: none)"
    assert_equal "${stderr_lines[1]%%, *}" "ccwrap: build cache: saved 1 file"
    rm ccwrap.conf
    run --separate-stderr "$CCWRAP" -v build -- true
    assert_equal "${stderr_lines[0]}" 'ccwrap: not exec in place: leftovers = "stop": ccwrap stays to stop what the command leaves behind (leftovers = "keep" allows exec in place)'
}

@test "plan says whether ccwrap becomes the command" {
    run "$CCWRAP" plan build
    assert_success
    assert_line --index 6 "  cache archive                    none: CC_DISABLE_BUILD_CACHE_UPLOAD=true"
    assert_line --index 7 "  exec in place                    yes: nothing follows the command, it takes ccwrap's pid"
    CC_TASK=true run "$CCWRAP" plan run
    assert_line --index 9 "  exec in place                    yes: nothing follows the application, it takes ccwrap's pid"
    CC_BUILD_COMMAND='make && make install' run "$CCWRAP" plan build
    assert_line --index 7 "  exec in place                    with COMMAND only: CC_BUILD_COMMAND is shell syntax, not one simple command: the shell stays in between"
    # No line when ccwrap stays: -v says why at run time.
    CCWRAP_EXEC_IN_PLACE=false run "$CCWRAP" plan build
    assert_success
    # The last line is the environment's (§13).
    assert_equal "${#lines[@]}" 8
    refute_output --partial "exec in place"
    hook post-build 10-post true
    run "$CCWRAP" plan build
    refute_output --partial "exec in place"
}

@test "exec_in_place and CCWRAP_EXEC_IN_PLACE take true or false; anything else is an error" {
    printf 'leftovers = "keep"\nexec_in_place = maybe\n' >ccwrap.conf
    run --separate-stderr "$CCWRAP" build -- true
    assert_equal "$status" 125
    assert_equal "$stderr" "ccwrap: ccwrap.conf:2: exec_in_place must be one of true, false, not 'maybe'"
    printf 'leftovers = "keep"\nexec_in_place = true\n' >ccwrap.conf
    CCWRAP_EXEC_IN_PLACE=no run --separate-stderr "$CCWRAP" build -- true
    assert_equal "$status" 125
    assert_equal "$stderr" "ccwrap: CCWRAP_EXEC_IN_PLACE: give true or false, not 'no'"
    CCWRAP_EXEC_IN_PLACE=true run --separate-stderr "$CCWRAP" -v build -- true
    assert_success
    assert_equal "$stderr" "ccwrap: exec in place: nothing follows the command, it takes ccwrap's pid ${stderr##* }"
}

@test "a configuration that spells out the defaults asks for no readiness: conf/ccwrap.conf with keep" {
    sed 's/^leftovers = "stop"$/leftovers = "keep"/' "$TOP/conf/ccwrap.conf" >ccwrap.conf
    grep -qx 'leftovers = "keep"' ccwrap.conf
    run --separate-stderr "$CCWRAP" -v run -- sh -c 'echo $$'
    assert_success
    assert_equal "$stderr" "ccwrap: exec in place: nothing follows the application, it takes ccwrap's pid $output"
    printf 'leftovers = "keep"\nready = "tcp:9"\n' >ccwrap.conf
    run --separate-stderr "$CCWRAP" -v run --ready-timeout 0.2 -- true
    assert_equal "${stderr_lines[0]}" "ccwrap: not exec in place: readiness is asked for (tcp:9, from ccwrap.conf:2): ccwrap waits for it"
    printf 'leftovers = "keep"\nready = "tcp"\non_ready_timeout = "keep"\n' >ccwrap.conf
    run --separate-stderr "$CCWRAP" -v run -- true
    assert_equal "${stderr_lines[0]}" "ccwrap: not exec in place: a readiness timeout is set (ready_timeout or on_ready_timeout in the config): ccwrap waits for readiness (tcp)"
}

@test "as PID 1 ccwrap stays to reap orphans: no exec in place" {
    unshare --pid --fork --mount-proc true 2>/dev/null || skip "unshare --pid needs root"
    run --separate-stderr unshare --pid --fork --mount-proc "$CCWRAP" -v build -- sh -c 'echo $$'
    assert_success
    assert_output 2
    assert_equal "${stderr_lines[0]}" "ccwrap: not exec in place: ccwrap is PID 1: it stays to reap orphans"
}
