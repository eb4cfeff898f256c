# tests/test_helper.bash — shared set-up for every suite: a fresh application root under
# $BATS_TEST_TMPDIR, a clean environment, helpers to write hooks, and bounded waits.

bats_require_minimum_version 1.5.0

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
CCWRAP=${CCWRAP:-$TOP/ccwrap}
# shellcheck disable=SC2034 # used by the suites that load this file
TESTAPP=$TOP/tests/fixtures/testapp
# shellcheck disable=SC2034
FIXTURES=$TOP/tests/fixtures

common_setup() {
    # Nothing from the caller's environment may steer ccwrap in a test.
    unset CC_PRE_BUILD_HOOK CC_POST_BUILD_HOOK CC_PRE_RUN_HOOK CC_RUN_SUCCEEDED_HOOK \
        CC_RUN_FAILED_HOOK CC_BUILD_COMMAND CC_RUN_COMMAND CC_TASK CC_TROUBLESHOOT \
        CC_HEALTH_CHECK_PATH APP_HOME PORT NOTIFY_SOCKET \
        CCWRAP_CONFIG CCWRAP_READY CCWRAP_EVENTS CCWRAP_TRUSTED_USERS CCWRAP_EXEC_IN_PLACE NO_COLOR
    for v in $(compgen -e | grep -e '^CC_HEALTH_CHECK_PATH_' -e '^CC_WORKER_' || true); do unset "$v"; done
    APP=$BATS_TEST_TMPDIR/app
    LOG=$BATS_TEST_TMPDIR/log
    mkdir -p "$APP"
    : >"$LOG"
    export LOG
    cd "$APP" || return 1
}

# hook POINT NAME BODY: an executable drop-in hooks.d/POINT/NAME running BODY with sh.
hook() {
    mkdir -p "$APP/hooks.d/$1"
    printf '#!/bin/sh\n%s\n' "$3" >"$APP/hooks.d/$1/$2"
    chmod 755 "$APP/hooks.d/$1/$2"
}

# logging_hook POINT NAME: a drop-in that appends "POINT/NAME" to $LOG.
logging_hook() {
    hook "$1" "$2" "echo '$1/$2' >>\"\$LOG\""
}

# Durations vary from run to run; "in 0.004 s" and "after 0.302 s" become "N s".
norm() {
    sed -E 's/[0-9]+\.[0-9]{3} s/N s/g' <<<"$1"
}

# wait_for TIMEOUT_SECONDS COMMAND...: polls every 20 ms; fails after the timeout.
wait_for() {
    local limit=$(($1 * 50)) i=0
    shift
    while ! "$@" 2>/dev/null; do
        i=$((i + 1))
        if [ "$i" -ge "$limit" ]; then
            echo "wait_for: timed out: $*" >&2
            return 1
        fi
        sleep 0.02
    done
}

# A free TCP port on 127.0.0.1 (bash's /dev/tcp connect fails on a closed port).
free_port() {
    local p
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % 30000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# Kills what a test started in the background (pids in $BATS_TEST_TMPDIR/bg.pids).
kill_background() {
    local f=$BATS_TEST_TMPDIR/bg.pids
    [ -f "$f" ] || return 0
    while read -r pid; do
        kill -KILL "$pid" 2>/dev/null || true
    done <"$f"
    rm -f "$f"
}

remember_pid() {
    echo "$1" >>"$BATS_TEST_TMPDIR/bg.pids"
}

# start_ccwrap ARGS...: ccwrap in the background, its pid in $CCPID.
start_ccwrap() {
    "$CCWRAP" "$@" 3>&- &
    CCPID=$!
    remember_pid "$CCPID"
}

# wait_status PID: waits for PID; its exit status in $status, as bats' run sets it.
# shellcheck disable=SC2034 # read by the suites
wait_status() {
    status=0
    wait "$1" || status=$?
}

# The exit status and death signal a parent sees, as perl's system() reports them.
status_of() {
    perl -e 'system(@ARGV); printf "exit=%d signal=%d\n", $? >> 8, $? & 127' "$@"
}
