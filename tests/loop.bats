#!/usr/bin/env bats
# Nothing blocks ccwrap's event loop, nothing hangs (issue 10, items 6 and 7): a host name whose
# DNS never answers, a hook that reads the terminal, a system that cannot start one more process.
# Design: doc/design.md §5 (readiness off the loop), §3 (hooks at a terminal), §7 (no hang).

load test_helper

setup() {
    common_setup
    SIGLOG=$BATS_TEST_TMPDIR/signals
    PIDF=$BATS_TEST_TMPDIR/app.pid
}

teardown() {
    kill_background
}

# ---- a hook that wants the terminal ----------------------------------------------------------

# on_terminal SCRIPT: runs bash -c SCRIPT as the session leader of a new pseudo-terminal, bounded.
on_terminal() {
    run timeout -k 2 30 python3 "$FIXTURES/ptyrun.py" -- bash --norc --noprofile -c "$1"
}

TTIN_FIX='hooks get no terminal: give it its input in a file or a variable'

@test "a hook reading the terminal, ccwrap in the background of a job-control shell: 149, said, no hang" {
    hook pre-build 10-ask 'read answer </dev/tty; echo "answer=$answer" >>"$LOG"'
    local start=$SECONDS
    # The shell's wait returns on the job's end, or 128+21 as soon as it merely stopped.
    on_terminal "set -m; '$CCWRAP' build -- sh -c 'echo built >>\"\$LOG\"' & wait \$!; echo \"status=\$?\"; jobs -l"
    assert_success
    [ $((SECONDS - start)) -lt 10 ] || fail "took $((SECONDS - start)) s"
    assert_line --regexp "^ccwrap: hooks\.d/pre-build/10-ask failed: stopped by SIGTTIN after [0-9.]+ s, as it read from the terminal; $TTIN_FIX"$'\r'"?$"
    assert_line --partial "status=149"
    refute_output --partial "Stopped"
    assert_equal "$(cat "$LOG")" ""
}

@test "a hook reading the terminal, ccwrap in the foreground: 149, said" {
    hook pre-run 10-ask 'read answer </dev/tty; echo "answer=$answer" >>"$LOG"'
    on_terminal "'$CCWRAP' run --ready none -- sh -c 'echo app >>\"\$LOG\"'; echo \"status=\$?\""
    assert_success
    assert_line --regexp "^ccwrap: hooks\.d/pre-run/10-ask failed: stopped by SIGTTIN after [0-9.]+ s, as it read from the terminal; $TTIN_FIX"$'\r'"?$"
    assert_line --partial "status=149"
    assert_equal "$(cat "$LOG")" ""
}

@test "a hook setting up the terminal (stty): SIGTTOU, 150, said" {
    hook pre-build 10-stty 'stty -echo </dev/tty; echo "stty=$?" >>"$LOG"'
    on_terminal "set -m; '$CCWRAP' build -- true & wait \$!; echo \"status=\$?\""
    assert_success
    assert_line --regexp "^ccwrap: hooks\.d/pre-build/10-stty failed: stopped by SIGTTOU after [0-9.]+ s, as it wrote to or set up the terminal; $TTIN_FIX"$'\r'"?$"
    assert_line --partial "status=150"
    assert_equal "$(cat "$LOG")" ""
}

@test "a hook reading its stdin gets end of file at once (/dev/null), even on a terminal" {
    hook pre-build 10-read 'read answer; echo "read=$? answer=$answer" >>"$LOG"'
    on_terminal "'$CCWRAP' -q build -- true; echo \"status=\$?\""
    assert_success
    assert_line --partial "status=0"
    assert_equal "$(cat "$LOG")" "read=1 answer="
}

# ---- a host name whose DNS server never answers ----------------------------------------------

@test "a readiness host whose DNS never answers: a TERM to ccwrap reaches the application within 1 s" {
    unshare --net --mount true 2>/dev/null || skip "needs root: unshare --net --mount, for a resolver of the test's own"
    printf 'nameserver 127.0.0.1\noptions timeout:30 attempts:1\n' >"$BATS_TEST_TMPDIR/resolv.conf"
    printf 'hosts: files dns\n' >"$BATS_TEST_TMPDIR/nsswitch.conf"
    # In a network namespace of its own, 127.0.0.1:53 is a server that reads and never answers;
    # a resolver that asks it waits 30 s. Times are in ms, from date +%s%3N.
    cat >"$BATS_TEST_TMPDIR/inner.sh" <<'EOF'
set -eu
cd "$T"
ip link set lo up
mount --bind resolv.conf /etc/resolv.conf
mount --bind nsswitch.conf /etc/nsswitch.conf
python3 "$FIXTURES/silent-dns.py" queries dns.ready 3>&- &
dns=$!
i=0; while [ ! -e dns.ready ] && [ $i -lt 250 ]; do sleep 0.02; i=$((i+1)); done
"$CCWRAP" run --ready tcp:app.ccwrap-test.example:8080 -- \
    "$TESTAPP" --signals "$SIGLOG" --pid "$PIDF" --exit-on TERM 2>ccwrap.err 3>&- &
cc=$!
i=0; while [ ! -s queries ] && [ $i -lt 250 ]; do sleep 0.02; i=$((i+1)); done
[ -s queries ] || { echo "the resolver never asked"; exit 1; }
# The lookup is under way, and will be for 30 s; the loop must not be waiting for it.
sleep 0.3
kill -USR1 "$cc"
t0=$(date +%s%3N)
kill -TERM "$cc"
i=0; while ! grep -qx 'TERM 1' "$SIGLOG" 2>/dev/null && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done
t1=$(date +%s%3N)
st=0; wait "$cc" || st=$?
kill "$dns"
echo "relayed_after_ms=$((t1 - t0)) status=$st" >result
EOF
    T=$BATS_TEST_TMPDIR SIGLOG=$SIGLOG PIDF=$PIDF FIXTURES=$FIXTURES CCWRAP=$CCWRAP TESTAPP=$TESTAPP \
        run timeout -k 2 40 unshare --net --mount sh "$BATS_TEST_TMPDIR/inner.sh"
    assert_success
    local result
    result=$(cat "$BATS_TEST_TMPDIR/result")
    assert_regex "$result" '^relayed_after_ms=[0-9]+ status=143$'
    echo "# $result" >&3
    local ms=${result#relayed_after_ms=}
    ms=${ms%% *}
    [ "$ms" -lt 1000 ] || fail "TERM reached the application after $ms ms"
    assert_equal "$(cat "$SIGLOG")" "USR1 1
TERM 1"
    # The probe did ask (the lookup was really pending), and nothing else went wrong.
    [ -s "$BATS_TEST_TMPDIR/queries" ] || fail "no DNS query"
    refute grep -q 'cannot resolve' "$BATS_TEST_TMPDIR/ccwrap.err"
}

# ---- no process can be started (fork fails) --------------------------------------------------

# as_limited N COMMAND...: COMMAND (bounded) as a uid no process has (RLIMIT_NPROC counts them all),
# without capabilities, with at most N processes: ccwrap itself is the first.
as_limited() {
    local n=$1
    shift
    # Under tests/sanitize, LeakSanitizer's exit check needs a thread of its own: no process left.
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 timeout -k 2 20 setpriv --reuid="$LIMITED_UID" --regid="$LIMITED_UID" --clear-groups -- \
        prlimit --nproc="$n" -- "$@"
}

limits_work() {
    [ "$(id -u)" -eq 0 ] || return 1
    LIMITED_UID=$((40000 + RANDOM % 20000))
    ! pgrep -u "$LIMITED_UID" >/dev/null
    # The test's folder must be reachable by that uid, as by any user on a real host.
    local d=$BATS_TEST_TMPDIR
    while [ "$d" != / ] && [ "$d" != /tmp ]; do
        chmod o+x "$d"
        d=$(dirname "$d")
    done
    # A tree below a private folder (/root/ccwrap, as tests/fresh-root has it): that uid cannot
    # reach the binary, so it runs a copy in the test's folder.
    if ! setpriv --reuid="$LIMITED_UID" --regid="$LIMITED_UID" --clear-groups -- test -x "$CCWRAP"; then
        cp "$CCWRAP" "$BATS_TEST_TMPDIR/ccwrap"
        CCWRAP=$BATS_TEST_TMPDIR/ccwrap
    fi
}

FORK_WHY="Resource temporarily unavailable; the process limit (ulimit -u, a cgroup's pids.max) is reached, or memory is short"

@test "fork failure for a hook: 125, 'cannot start a process', the command not run, no hang" {
    limits_work || skip "needs root, to start ccwrap as a user with a process limit"
    logging_hook pre-build 10-x
    run --separate-stderr as_limited 1 "$CCWRAP" build -- sh -c 'echo command >>"$LOG"'
    assert_failure 125
    assert_equal "$stderr" "ccwrap: Running hooks.d/pre-build/10-x
ccwrap: hooks.d/pre-build/10-x: cannot start a process: $FORK_WHY"
    assert_equal "$(cat "$LOG")" ""
}

@test "fork failure for the command, CC_RUN_COMMAND and a worker: 125 and said, never 126" {
    limits_work || skip "needs root, to start ccwrap as a user with a process limit"
    run --separate-stderr as_limited 1 "$CCWRAP" build -- true
    assert_failure 125
    assert_equal "$stderr" "ccwrap: true: cannot start a process: $FORK_WHY"
    CC_RUN_COMMAND='echo app' run --separate-stderr as_limited 1 "$CCWRAP" run --ready none
    assert_failure 125
    assert_equal "$stderr" "ccwrap: CC_RUN_COMMAND: cannot start a process: $FORK_WHY"
    # The application starts (the second process), the worker beside it cannot: said, with
    # ccwrap's own status, and the application is still supervised to its end.
    CC_WORKER_COMMAND='sleep 5' CC_WORKER_RESTART=no run --separate-stderr as_limited 2 \
        "$CCWRAP" run --ready none -- sh -c 'exec sleep 0.5'
    assert_success
    [[ $stderr == *"ccwrap: CC_WORKER_COMMAND: cannot start a process: $FORK_WHY"* ]] || fail "$stderr"
}
