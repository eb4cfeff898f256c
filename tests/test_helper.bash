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
    # No suite but cache.bats writes archives into the real cache folder (§10).
    unset CCWRAP_CACHE APP_ID COMMIT_ID CC_OVERRIDE_BUILDCACHE CC_IGNORE_FROM_BUILDCACHE \
        IGNORE_FROM_BUILDCACHE CC_CACHE_DEPENDENCIES CC_CACHE_DEPENDENCIES_EXTRA_PATHS
    export CC_DISABLE_BUILD_CACHE_UPLOAD=true
    APP=$BATS_TEST_TMPDIR/app
    LOG=$BATS_TEST_TMPDIR/log
    mkdir -p "$APP"
    : >"$LOG"
    export LOG
    start_watchdog
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

# copy_tree DEST: the working tree without .git and without anything built, so that a build
# in DEST never touches the binary the other suites test.
copy_tree() {
    mkdir -p "$1"
    tar -C "$TOP" --exclude=./.git --exclude='./build-*' --exclude='*.o' --exclude=./ccwrap \
        --exclude=./.sysconfdir --exclude=./tests/fixtures/testapp -cf - . | tar -C "$1" -xf -
}

# file_copy: the working tree copied (copy_tree) once per suite file, into $BATS_FILE_TMPDIR/src;
# echoes its path. The tests of one file that build it (make install, make demo) then compile
# what they share once: make rebuilds only what their settings change (.sysconfdir).
file_copy() {
    local src=$BATS_FILE_TMPDIR/src
    [ -f "$src/Makefile" ] || copy_tree "$src"
    echo "$src"
}

# plain_build_only WHAT: skips a test that builds ccwrap from the sources itself (make install,
# make demo, a static build) when the suite runs against another binary (tests/sanitize): the
# same build would only be made a second time.
plain_build_only() {
    [ "$CCWRAP" = "$TOP/ccwrap" ] || skip "$1 builds the plain ccwrap; checked once, in the suite's plain run"
}

# plain_run_only WHY: skips, when the suite runs against another binary (tests/sanitize), a test
# whose time goes to waiting on the wall clock (WHY says which): it runs once, in the plain run.
plain_run_only() {
    [ "$CCWRAP" = "$TOP/ccwrap" ] || skip "$1; checked once, in the suite's plain run"
}

# A free TCP port, reserved against the suites running beside this one (fixtures/free-port.py).
free_port() {
    "$TOP/tests/fixtures/free-port.py"
}

# foreign_ready NAME [WRAPPER...]: a python3 outside the application (run through WRAPPER, e.g.
# as_nobody) sends READY=1 to the notify socket NAME ("@ccwrap-notify-…" as /proc/net/unix
# shows it) and stays until the test ends: ccwrap names the sender from /proc, which a sender
# that has exited no longer has (under load ccwrap may read the datagram after that).
foreign_ready() {
    local name=$1 sent=$BATS_TEST_TMPDIR/ready-sent
    shift
    : >"$sent"
    chmod 666 "$sent"
    "$@" /usr/bin/python3 -c 'import socket, sys, time
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"READY=1", "\0" + sys.argv[1][1:])
open(sys.argv[2], "w").write("sent")
time.sleep(30)' "$name" "$sent" 3>&- &
    remember_pid $!
    wait_for 10 test -s "$sent"
}

# An Ed25519 pair as doc/build-cache.md makes it, in $KEYS (0700): sign.pem, the CI job's
# private key (0600), and verify.pem, the instances' public one.
make_keys() {
    KEYS=$BATS_TEST_TMPDIR/keys
    mkdir -p "$KEYS"
    chmod 700 "$KEYS"
    openssl genpkey -algorithm ed25519 -out "$KEYS/sign.pem" 2>/dev/null
    chmod 600 "$KEYS/sign.pem"
    openssl pkey -in "$KEYS/sign.pem" -pubout -out "$KEYS/verify.pem"
}

# No test may hang: after CCWRAP_TEST_LIMIT seconds (180) everything the test started is killed
# (bats 1.8.2's BATS_TEST_TIMEOUT cannot end a `run` whose grandchild holds its pipe). The
# watchdog ends with the test: teardown kills it, and it also leaves by itself within a second
# of the test's end, so a suite whose teardown forgets it still costs only its own time.
start_watchdog() {
    local limit=${CCWRAP_TEST_LIMIT:-180} target=$BASHPID start
    start=$(proc_start "$target")
    (
        me=$BASHPID
        for ((i = 0; i < limit; i++)); do
            sleep 1
            # The test is still the one that started us (its start time), not a reused pid.
            [ "$(proc_start "$target")" = "$start" ] || exit 0
        done
        echo "test_helper: the test ran over $limit s: killing what it started" >&2
        pids=$(descendants "$target" "$me")
        # shellcheck disable=SC2086 # a list of pids
        kill -STOP $pids 2>/dev/null
        # shellcheck disable=SC2086,SC2046
        kill -KILL $pids $(descendants "$target" "$me") 2>/dev/null
    ) </dev/null >/dev/null 3>&- &
    WATCHDOG=$!
}

# The start time of PID (field 22 of /proc/PID/stat).
proc_start() {
    local s
    s=$(<"/proc/$1/stat") || return 0
    s=${s##*) }
    # shellcheck disable=SC2086 # the fields
    set -- $s
    echo "${20}"
}

# descendants PID [SKIP]: every process below PID, except SKIP's subtree.
descendants() {
    local c
    for c in $(ps -o pid= --ppid "$1"); do
        [ "$c" != "${2:-}" ] || continue
        echo "$c"
        descendants "$c" "${2:-}"
    done
}

# Kills what a test started in the background (pids in $BATS_TEST_TMPDIR/bg.pids).
kill_background() {
    local f=$BATS_TEST_TMPDIR/bg.pids
    [ -z "${WATCHDOG:-}" ] || kill "$WATCHDOG" 2>/dev/null || true
    [ -f "$f" ] || return 0
    while read -r pid; do
        # Out of the test shell's jobs first: bash would report the SIGKILL ("Killed").
        disown "$pid" 2>/dev/null || true
        kill -KILL "$pid" 2>/dev/null || true
    done <"$f"
    rm -f "$f"
}

# The default teardown: ends the test's watchdog and what it started in the background, so a
# suite run alone costs its own time (a suite with its own teardown calls kill_background).
teardown() {
    kill_background
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

# unshare_why_not: succeeds when `unshare --pid --fork --mount-proc` works here; otherwise sets
# UNSHARE_WHY_NOT to the real cause, for a skip: not root, or (as root in a chroot) `/` is not a
# mount point, so unshare cannot make it private to mount /proc; else unshare's own words.
# shellcheck disable=SC2034 # read by the suites' skips
unshare_why_not() {
    local err
    err=$(unshare --pid --fork --mount-proc true 2>&1) && return 0
    if [ "$(id -u)" != 0 ]; then
        UNSHARE_WHY_NOT="unshare --pid --mount-proc needs root"
    elif ! mountpoint -q /; then
        UNSHARE_WHY_NOT="unshare --mount-proc needs / to be a mount point, and it is not here (a chroot?): ${err//$'\n'/; }"
    else
        UNSHARE_WHY_NOT="unshare --pid --fork --mount-proc fails here: ${err//$'\n'/; }"
    fi
    return 1
}
