#!/usr/bin/env bats
# Readiness (§5.3) and the readiness timeout (§5.5): each spec, where the spec comes from,
# bad specs, and what happens to an application that is not ready in time.
# Design: doc/design.md §5 steps 3 and 5 (readiness, the readiness timeout).

load test_helper

setup() {
    common_setup
}

teardown() {
    kill_background
}

# The seconds of "ccwrap: Application ready (SPEC) after N s" in $stderr, in milliseconds.
ready_after_ms() {
    local s
    s=$(sed -nE 's/^ccwrap: Application ready \(.*\) after ([0-9]+)\.([0-9]{3}) s$/\1\2/p' <<<"$stderr")
    echo $((10#$s))
}

# A run-failed drop-in that writes what it was told to $LOG.
failed_reporter() {
    hook run-failed 10-report 'echo "result=$CCWRAP_RESULT code=${CCWRAP_EXIT_CODE-unset} status=${CCWRAP_EXIT_STATUS-unset}" >>"$LOG"'
}

KINDS="use tcp, tcp:PORT, tcp:HOST:PORT, http://HOST:PORT/PATH, notify, file:PATH, delay:SECONDS, exit or none"

@test "tcp, the default: ready once something accepts connections on \$PORT" {
    export PORT
    PORT=$(free_port)
    hook run-succeeded 10-check 'bash -c '\''exec 3<>"/dev/tcp/127.0.0.1/$PORT"'\'' && echo "port open" >>"$LOG"'
    run --separate-stderr "$CCWRAP" run -- "$TESTAPP" --listen "$PORT" --listen-after 0.3 --exit-after 1 --exit 0
    assert_success
    assert_equal "$(cat "$LOG")" "port open"
    assert_equal "$(norm "$stderr")" "ccwrap: Application ready (tcp) after N s
ccwrap: Running hooks.d/run-succeeded/10-check
ccwrap: Finished hooks.d/run-succeeded/10-check: status 0 in N s"
    ms=$(ready_after_ms)
    [ "$ms" -ge 300 ]
    [ "$ms" -lt 800 ]
}

@test "tcp without PORT waits on 8080 and says so every 5 s" {
    if (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null; then
        skip "something listens on 127.0.0.1:8080 here"
    fi
    failed_reporter
    run --separate-stderr "$CCWRAP" run --ready-timeout 5.5 -- "$TESTAPP" --exit-on TERM
    assert_failure 124
    assert_equal "$(norm "$stderr")" "ccwrap: Nothing listening on 0.0.0.0:8080 yet
ccwrap: application not ready after N s: Nothing listening on 0.0.0.0:8080 yet
ccwrap: Running hooks.d/run-failed/10-report
ccwrap: Finished hooks.d/run-failed/10-report: status 0 in N s"
    assert_equal "${stderr_lines[1]}" "ccwrap: application not ready after 5.500 s: Nothing listening on 0.0.0.0:8080 yet"
    assert_equal "$(cat "$LOG")" "result=timeout code=unset status=unset"
}

@test "tcp:PORT and tcp:HOST:PORT name another port; PORT does not matter then" {
    port=$(free_port)
    export PORT=1
    run --separate-stderr "$CCWRAP" run --ready "tcp:$port" -- \
        "$TESTAPP" --listen "$port" --listen-after 0.2 --exit-after 1 --exit 0
    assert_success
    assert_equal "$(norm "$stderr")" "ccwrap: Application ready (tcp:$port) after N s"
    run --separate-stderr "$CCWRAP" run --ready "tcp:127.0.0.1:$port" -- \
        "$TESTAPP" --listen "$port" --listen-after 0.2 --exit-after 1 --exit 3
    assert_failure 3
    assert_equal "$(norm "$stderr")" "ccwrap: Application ready (tcp:127.0.0.1:$port) after N s"
    ms=$(ready_after_ms)
    # The 0.2 s are counted by the task from its own start, a millisecond after ccwrap's clock.
    [ "$ms" -ge 190 ]
    # --exit-after: should anything else answer on the port, the test fails quickly, not hangs.
    run --separate-stderr "$CCWRAP" run --ready "tcp:127.0.0.1:$port" --ready-timeout 0.5 -- \
        "$TESTAPP" --exit-on TERM --exit-after 5 --exit 9
    assert_failure 124
    assert_equal "$stderr" "ccwrap: application not ready after 0.500 s: Nothing listening on 127.0.0.1:$port yet"
}

@test "CC_HEALTH_CHECK_PATH must also answer 200 on the port" {
    export PORT CC_HEALTH_CHECK_PATH=/health
    PORT=$(free_port)
    run --separate-stderr "$CCWRAP" run -- \
        "$TESTAPP" --listen "$PORT" --listen-after 0.2 --http /health=200 --exit-after 1 --exit 0
    assert_success
    assert_equal "$(norm "$stderr")" "ccwrap: Application ready (tcp) after N s"
    failed_reporter
    run --separate-stderr "$CCWRAP" run --ready-timeout 1 -- \
        "$TESTAPP" --listen "$PORT" --http /health=503 --exit-on TERM
    assert_failure 124
    assert_equal "$(norm "$stderr")" "ccwrap: application not ready after N s: /health answered 503, not 200 yet
ccwrap: Running hooks.d/run-failed/10-report
ccwrap: Finished hooks.d/run-failed/10-report: status 0 in N s"
    assert_equal "${stderr_lines[0]}" "ccwrap: application not ready after 1.000 s: /health answered 503, not 200 yet"
    assert_equal "$(cat "$LOG")" "result=timeout code=unset status=unset"
}

@test "CC_HEALTH_CHECK_PATH_0, _1: every path must answer 200" {
    export PORT CC_HEALTH_CHECK_PATH_0=/a CC_HEALTH_CHECK_PATH_1=/b
    PORT=$(free_port)
    run --separate-stderr "$CCWRAP" run -- \
        "$TESTAPP" --listen "$PORT" --http /a=200 --http /b=200 --exit-after 0.8 --exit 0
    assert_success
    assert_equal "$(norm "$stderr")" "ccwrap: Application ready (tcp) after N s"
    run --separate-stderr "$CCWRAP" run --ready-timeout 1 -- \
        "$TESTAPP" --listen "$PORT" --http /a=200 --http /b=500 --exit-on TERM
    assert_failure 124
    assert_equal "$stderr" "ccwrap: application not ready after 1.000 s: /b answered 500, not 200 yet"
    run --separate-stderr "$CCWRAP" run --ready-timeout 1 -- \
        "$TESTAPP" --listen "$PORT" --http /b=200 --exit-on TERM
    assert_failure 124
    assert_equal "$stderr" "ccwrap: application not ready after 1.000 s: /a answered 404, not 200 yet"
}

@test "http://HOST:PORT/PATH: 2xx and 3xx answers are ready, 404 is not" {
    port=$(free_port)
    for code in 200 204 301 302; do
        run --separate-stderr "$CCWRAP" run --ready "http://127.0.0.1:$port/up" -- \
            "$TESTAPP" --listen "$port" --listen-after 0.1 --http "/up=$code" --exit-after 0.8 --exit 0
        assert_success
        assert_equal "$(norm "$stderr")" "ccwrap: Application ready (http://127.0.0.1:$port/up) after N s"
    done
    failed_reporter
    run --separate-stderr "$CCWRAP" run --ready "http://127.0.0.1:$port/up" --ready-timeout 1 -- \
        "$TESTAPP" --listen "$port" --exit-on TERM
    assert_failure 124
    assert_equal "$(norm "$stderr")" "ccwrap: application not ready after N s: http://127.0.0.1:$port/up: no 2xx/3xx answer yet (answered 404)
ccwrap: Running hooks.d/run-failed/10-report
ccwrap: Finished hooks.d/run-failed/10-report: status 0 in N s"
    assert_equal "$(cat "$LOG")" "result=timeout code=unset status=unset"
}

@test "notify: ready when the application sends READY=1 on the socket ccwrap hands over" {
    run --separate-stderr "$CCWRAP" run --ready notify -- \
        "$TESTAPP" --notify-after 0.3 --exit-after 1 --exit 0
    assert_success
    assert_equal "$(norm "$stderr")" "ccwrap: Application ready (notify) after N s"
    ms=$(ready_after_ms)
    [ "$ms" -ge 300 ]
    run --separate-stderr "$CCWRAP" run --ready notify --ready-timeout 0.5 -- "$TESTAPP" --exit-on TERM
    assert_failure 124
    assert_equal "$stderr" "ccwrap: application not ready after 0.500 s: No READY=1 on NOTIFY_SOCKET yet"
}

@test "notify: an application that goes on notifying after READY=1 is never blocked" {
    # sd_notify's send blocks while the receiver's queue is full; 100 datagrams overflow it.
    run --separate-stderr timeout 10 "$CCWRAP" run --ready notify -- \
        "$TESTAPP" --notify-after 0 --notify-status 100 --pid "$BATS_TEST_TMPDIR/app.pid" \
        --exit-after 0.5 --exit 0
    [ -f "$BATS_TEST_TMPDIR/app.pid" ] && remember_pid "$(cat "$BATS_TEST_TMPDIR/app.pid")"
    assert_success
    assert_equal "$(norm "$stderr")" "ccwrap: Application ready (notify) after N s"
}

@test "file:PATH: ready once PATH exists" {
    run --separate-stderr "$CCWRAP" run --ready "file:$BATS_TEST_TMPDIR/ready" -- \
        "$TESTAPP" --touch "$BATS_TEST_TMPDIR/ready" --touch-after 0.3 --exit-after 1 --exit 0
    assert_success
    assert_equal "$(norm "$stderr")" "ccwrap: Application ready (file:$BATS_TEST_TMPDIR/ready) after N s"
    ms=$(ready_after_ms)
    [ "$ms" -ge 300 ]
    rm "$BATS_TEST_TMPDIR/ready"
    run --separate-stderr "$CCWRAP" run --ready "file:$BATS_TEST_TMPDIR/ready" --ready-timeout 0.5 -- \
        "$TESTAPP" --exit-on TERM
    assert_failure 124
    assert_equal "$stderr" "ccwrap: application not ready after 0.500 s: $BATS_TEST_TMPDIR/ready does not exist yet"
}

@test "delay:SECONDS: ready when still running after SECONDS; an earlier exit is a failure" {
    run --separate-stderr "$CCWRAP" run --ready delay:0.3 -- "$TESTAPP" --exit-after 1 --exit 0
    assert_success
    assert_equal "$(norm "$stderr")" "ccwrap: Application ready (delay:0.3) after N s"
    ms=$(ready_after_ms)
    [ "$ms" -ge 300 ]
    [ "$ms" -lt 800 ]
    failed_reporter
    run --separate-stderr "$CCWRAP" run --ready delay:1 -- "$TESTAPP" --exit-after 0.2 --exit 0
    assert_success
    assert_equal "$(norm "$stderr")" "ccwrap: application exited before it was ready (exit-code: 0)
ccwrap: Running hooks.d/run-failed/10-report
ccwrap: Finished hooks.d/run-failed/10-report: status 0 in N s"
    assert_equal "$(cat "$LOG")" "result=exit-code code=exited status=0"
}

@test "exit: a task that exits 0 is ready and runs run-succeeded" {
    logging_hook run-succeeded 10-ok
    logging_hook run-failed 10-never
    run --separate-stderr "$CCWRAP" run --ready exit -- "$TESTAPP" --exit-after 0.2 --exit 0
    assert_success
    assert_equal "$(cat "$LOG")" "run-succeeded/10-ok"
    assert_equal "$(norm "$stderr")" "ccwrap: Application ready (exit) after N s
ccwrap: Running hooks.d/run-succeeded/10-ok
ccwrap: Finished hooks.d/run-succeeded/10-ok: status 0 in N s"
    ms=$(ready_after_ms)
    # The 0.2 s are counted by the task from its own start, a millisecond after ccwrap's clock.
    [ "$ms" -ge 190 ]
}

@test "exit: a task that fails runs run-failed and ccwrap exits with its status" {
    logging_hook run-succeeded 10-never
    failed_reporter
    run --separate-stderr "$CCWRAP" run --ready exit -- "$TESTAPP" --exit 3
    assert_failure 3
    assert_equal "$(cat "$LOG")" "result=exit-code code=exited status=3"
    assert_equal "$(norm "$stderr")" "ccwrap: application exited before it was ready (exit-code: 3)
ccwrap: Running hooks.d/run-failed/10-report
ccwrap: Finished hooks.d/run-failed/10-report: status 0 in N s"
}

@test "CC_TASK=true selects exit; other values do not" {
    logging_hook run-succeeded 10-ok
    CC_TASK=true run --separate-stderr "$CCWRAP" run -- "$TESTAPP" --exit-after 0.1 --exit 0
    assert_success
    assert_equal "$(cat "$LOG")" "run-succeeded/10-ok"
    assert_equal "$(norm "$stderr")" "ccwrap: Application ready (exit) after N s
ccwrap: Running hooks.d/run-succeeded/10-ok
ccwrap: Finished hooks.d/run-succeeded/10-ok: status 0 in N s"
    CC_TASK=false PORT=$(free_port) run --separate-stderr "$CCWRAP" run -- "$TESTAPP" --exit 0
    assert_success
    assert_equal "$(norm "$stderr")" "ccwrap: application exited before it was ready (exit-code: 0)"
}

@test "none: ready as soon as it has been executed, while it still runs" {
    hook run-succeeded 10-alive 'kill -0 "$CCWRAP_APP_PID" && echo alive >>"$LOG"'
    run --separate-stderr "$CCWRAP" run --ready none -- "$TESTAPP" --exit-after 0.5 --exit 0
    assert_success
    assert_equal "$(cat "$LOG")" "alive"
    assert_equal "$(norm "$stderr")" "ccwrap: Application ready (none) after N s
ccwrap: Running hooks.d/run-succeeded/10-alive
ccwrap: Finished hooks.d/run-succeeded/10-alive: status 0 in N s"
    ms=$(ready_after_ms)
    [ "$ms" -lt 200 ]
}

@test "precedence: --ready over CCWRAP_READY over CC_TASK over the config's ready" {
    printf 'ready = "delay:0.1"\n' >ccwrap.conf
    run --separate-stderr "$CCWRAP" run -- "$TESTAPP" --exit-after 0.8 --exit 0
    assert_success
    assert_equal "$(norm "$stderr")" "ccwrap: Application ready (delay:0.1) after N s"
    CC_TASK=true run --separate-stderr "$CCWRAP" run -- "$TESTAPP" --exit-after 0.3 --exit 0
    assert_success
    assert_equal "$(norm "$stderr")" "ccwrap: Application ready (exit) after N s"
    CC_TASK=true CCWRAP_READY=none run --separate-stderr "$CCWRAP" run -- "$TESTAPP" --exit-after 0.3 --exit 0
    assert_success
    assert_equal "$(norm "$stderr")" "ccwrap: Application ready (none) after N s"
    CC_TASK=true CCWRAP_READY=none run --separate-stderr "$CCWRAP" run --ready delay:0.2 -- \
        "$TESTAPP" --exit-after 0.8 --exit 0
    assert_success
    assert_equal "$(norm "$stderr")" "ccwrap: Application ready (delay:0.2) after N s"
    # An empty CCWRAP_READY is unset, not a bad spec.
    CCWRAP_READY='' run --separate-stderr "$CCWRAP" run -- "$TESTAPP" --exit-after 0.8 --exit 0
    assert_success
    assert_equal "$(norm "$stderr")" "ccwrap: Application ready (delay:0.1) after N s"
}

@test "bad readiness specs: one line naming the spec, status 125, nothing runs" {
    logging_hook pre-run 10-never
    while IFS='|' read -r spec why; do
        run --separate-stderr "$CCWRAP" run --ready "$spec" -- true
        assert_failure 125
        assert_equal "$stderr" "ccwrap: bad readiness spec '$spec': $why"
    done <<EOF
bogus|unknown kind; $KINDS
|it is empty; $KINDS
tcp:|the port is missing
tcp:0|port must be 1-65535
tcp:70000|port must be 1-65535
tcp:abc|'abc' is not a port (1-65535)
tcp:127.0.0.1:|the port is missing
tcp:::1:80|an IPv6 address goes in brackets, as [::1]:8080
http://|the host is missing
https://example.com/|https is not supported; probe the plain http port
file:|the path is missing
delay:|the duration is missing
delay:soon|'soon' is not a duration such as 5, 0.5 or 250ms (at most 1 day)
EOF
    CCWRAP_READY=tcp:x run --separate-stderr "$CCWRAP" run -- true
    assert_failure 125
    assert_equal "$stderr" "ccwrap: bad readiness spec 'tcp:x': 'x' is not a port (1-65535)"
    PORT=abc run --separate-stderr "$CCWRAP" run -- true
    assert_failure 125
    assert_equal "$stderr" "ccwrap: bad readiness spec 'tcp': PORT='abc' must be a port 1-65535"
    CC_HEALTH_CHECK_PATH=health run --separate-stderr "$CCWRAP" run -- true
    assert_failure 125
    assert_equal "$stderr" "ccwrap: bad readiness spec 'tcp': CC_HEALTH_CHECK_PATH='health' must start with /"
    assert_equal "$(cat "$LOG")" ""
}

@test "a bad ready in the config names the file and line" {
    logging_hook pre-run 10-never
    printf 'kill_grace = 1\n\nready = "bogus"\n' >ccwrap.conf
    run --separate-stderr "$CCWRAP" run -- true
    assert_failure 125
    assert_equal "$(cat "$LOG")" ""
    assert_equal "$stderr" "ccwrap: ccwrap.conf:3: bad readiness spec 'bogus': unknown kind; $KINDS"
}

@test "--ready-timeout: run-failed (timeout) while the app runs, then SIGTERM, status 124" {
    port=$(free_port)
    hook run-failed 10-report 'echo "result=$CCWRAP_RESULT pid=$CCWRAP_APP_PID" >>"$LOG"; kill -0 "$CCWRAP_APP_PID" && echo alive >>"$LOG"'
    logging_hook run-succeeded 10-never
    run --separate-stderr "$CCWRAP" run --ready "tcp:$port" --ready-timeout 0.5 -- \
        "$TESTAPP" --signals "$BATS_TEST_TMPDIR/signals" --exit-on TERM --pid "$BATS_TEST_TMPDIR/app.pid"
    remember_pid "$(cat "$BATS_TEST_TMPDIR/app.pid")"
    assert_failure 124
    assert_equal "$(norm "$stderr")" "ccwrap: application not ready after N s: Nothing listening on 0.0.0.0:$port yet
ccwrap: Running hooks.d/run-failed/10-report
ccwrap: Finished hooks.d/run-failed/10-report: status 0 in N s"
    assert_equal "${stderr_lines[0]}" "ccwrap: application not ready after 0.500 s: Nothing listening on 0.0.0.0:$port yet"
    assert_equal "$(cat "$LOG")" "result=timeout pid=$(cat "$BATS_TEST_TMPDIR/app.pid")
alive"
    assert_equal "$(cat "$BATS_TEST_TMPDIR/signals")" "TERM 1"
    run kill -0 "$(cat "$BATS_TEST_TMPDIR/app.pid")"
    assert_failure
}

@test "--ready-timeout: an app that ignores SIGTERM gets SIGKILL after kill_grace; still 124" {
    printf 'kill_grace = 1\n' >ccwrap.conf
    port=$(free_port)
    start=$(date +%s%N)
    run --separate-stderr "$CCWRAP" run --ready "tcp:$port" --ready-timeout 0.3 -- \
        "$TESTAPP" --signals "$BATS_TEST_TMPDIR/signals" --pid "$BATS_TEST_TMPDIR/app.pid"
    elapsed_ms=$((($(date +%s%N) - start) / 1000000))
    remember_pid "$(cat "$BATS_TEST_TMPDIR/app.pid")"
    assert_failure 124
    assert_equal "$stderr" "ccwrap: application not ready after 0.300 s: Nothing listening on 0.0.0.0:$port yet"
    # SIGCONT follows SIGTERM, as systemd does, so that a stopped app can act on it.
    assert_equal "$(cat "$BATS_TEST_TMPDIR/signals")" "TERM 1
CONT 1"
    [ "$elapsed_ms" -ge 1300 ]
    [ "$elapsed_ms" -lt 5000 ]
    run kill -0 "$(cat "$BATS_TEST_TMPDIR/app.pid")"
    assert_failure
}

@test "--keep-on-timeout keeps the app running; ccwrap later exits with its status" {
    port=$(free_port)
    hook run-failed 10-report 'echo "result=$CCWRAP_RESULT" >>"$LOG"'
    logging_hook run-succeeded 10-never
    run --separate-stderr "$CCWRAP" run --ready "tcp:$port" --ready-timeout 0.3 --keep-on-timeout -- \
        "$TESTAPP" --signals "$BATS_TEST_TMPDIR/signals" --exit-after 1 --exit 7
    assert_failure 7
    assert_equal "$(norm "$stderr")" "ccwrap: application not ready after N s: Nothing listening on 0.0.0.0:$port yet
ccwrap: Running hooks.d/run-failed/10-report
ccwrap: Finished hooks.d/run-failed/10-report: status 0 in N s"
    assert_equal "$(cat "$LOG")" "result=timeout"
    [ ! -e "$BATS_TEST_TMPDIR/signals" ]
}

@test "on_ready_timeout = \"keep\" and ready_timeout in the config; --ready-timeout wins" {
    port=$(free_port)
    printf 'on_ready_timeout = "keep"\nready_timeout = 1\nready = "tcp:%s"\n' "$port" >ccwrap.conf
    run --separate-stderr "$CCWRAP" run -- \
        "$TESTAPP" --signals "$BATS_TEST_TMPDIR/signals" --exit-after 1.8 --exit 7
    assert_failure 7
    assert_equal "$stderr" "ccwrap: application not ready after 1.000 s: Nothing listening on 0.0.0.0:$port yet"
    [ ! -e "$BATS_TEST_TMPDIR/signals" ]
    printf 'ready_timeout = 1\n' >ccwrap.conf
    run --separate-stderr "$CCWRAP" run --ready "tcp:$port" -- "$TESTAPP" --exit-on TERM
    assert_failure 124
    assert_equal "$stderr" "ccwrap: application not ready after 1.000 s: Nothing listening on 0.0.0.0:$port yet"
    run --separate-stderr "$CCWRAP" run --ready "tcp:$port" --ready-timeout 0.2 -- "$TESTAPP" --exit-on TERM
    assert_failure 124
    assert_equal "$stderr" "ccwrap: application not ready after 0.200 s: Nothing listening on 0.0.0.0:$port yet"
}

@test "--ready-timeout 0 means no limit" {
    port=$(free_port)
    printf 'ready_timeout = 1\n' >ccwrap.conf
    run --separate-stderr "$CCWRAP" run --ready "tcp:$port" --ready-timeout 0 -- \
        "$TESTAPP" --listen "$port" --listen-after 1.2 --exit-after 2.2 --exit 0
    assert_success
    assert_equal "$(norm "$stderr")" "ccwrap: Application ready (tcp:$port) after N s"
}

@test "bad --ready-timeout values are usage errors, status 125" {
    logging_hook pre-run 10-never
    for t in x -1 '' 1e3 90000 1.2345 inf 0x10 ' 5'; do
        run --separate-stderr "$CCWRAP" run --ready-timeout "$t" --ready none -- true
        assert_failure 125
        assert_equal "$stderr" "ccwrap: --ready-timeout '$t': give seconds such as 60, 2.5 or 500ms, at most one day (0: no limit); see 'ccwrap --help'"
    done
    run --separate-stderr "$CCWRAP" run --ready-timeout
    assert_failure 125
    assert_equal "$stderr" "ccwrap: option '--ready-timeout' needs a value; see 'ccwrap --help'"
    assert_equal "$(cat "$LOG")" ""
}

@test "tcp: an application listening on 127.0.0.1 only is not ready, and the fix is named" {
    port=$(free_port)
    # 3 s: python3 may take more than one to start on a busy machine.
    PORT=$port run --separate-stderr "$CCWRAP" run --ready-timeout 3 -- \
        python3 -m http.server "$port" --bind 127.0.0.1
    assert_failure 124
    assert_equal "${stderr_lines[-1]}" "ccwrap: application not ready after 3.000 s: The application listens on 127.0.0.1:$port only, which nothing outside this machine reaches; make it listen on 0.0.0.0:$port (all interfaces)"
}

@test "tcp: a port held by another process is not the application's readiness; the holder is named" {
    port=$(free_port)
    python3 -m http.server "$port" --bind 0.0.0.0 >/dev/null 2>&1 3>&- &
    holder=$!
    remember_pid "$holder"
    wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
    logging_hook run-succeeded 10-never
    PORT=$port run --separate-stderr "$CCWRAP" run --ready-timeout 1 -- sleep 30
    assert_failure 124
    assert_equal "${stderr_lines[0]}" "ccwrap: warning: port $port is already in use by pid $holder (python3) before the application starts; stop that process or choose another PORT"
    assert_equal "${stderr_lines[-1]}" "ccwrap: application not ready after 1.000 s: Port $port is held by pid $holder (python3), not by the application"
    assert_equal "$(cat "$LOG")" ""
}

@test "notify: a READY=1 from a process outside the application is ignored, with one warning" {
    "$CCWRAP" run --ready notify --ready-timeout 1.5 -- sleep 30 2>"$BATS_TEST_TMPDIR/err" 3>&- &
    cc=$!
    remember_pid "$cc"
    wait_for 5 grep -q "@ccwrap-notify-$cc-" /proc/net/unix
    name=$(grep -o "@ccwrap-notify-$cc-[0-9a-f]*" /proc/net/unix | head -1)
    foreign_ready "$name"
    local s=0
    wait "$cc" || s=$?
    assert_equal "$s" 124
    run grep -c "READY=1 from pid [0-9]* (python3), which is not the application or below it; ignored" "$BATS_TEST_TMPDIR/err"
    assert_output 1
}
