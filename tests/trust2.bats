#!/usr/bin/env bats
# The trust rule, round 2 (issue 22, doc/security.md): the program a value really runs, found as
# the shell finds it, not its first word; PATH entries; migrated drop-ins; readiness without
# CAP_SYS_PTRACE; --events through a planted symlink; READY=1 from another user. The second
# user is `nobody`, as in tests/trust.bats.
# Design: doc/design.md §3 (the trust rule: what a value runs), §5 step 3 (readiness owners).

load test_helper
load trust_helper

setup() {
    trust_setup
    script bin/app 'echo "app $*" >>"$LOG"'
}

OWNED="bin/app is owned by nobody (uid 65534), not by root; chown root bin/app, $FIX_OWNER"
EXPANDS='is only known to the shell (it needs ${…}); name the program by its literal path, or put the line in a script, or set trust_expansions = true in a ccwrap.conf ccwrap trusts'

# refused VALUE: CC_RUN_COMMAND=VALUE with nobody's bin/app: run and check refuse it, nothing runs;
# with root's bin/app it runs.
refused() {
    chown nobody bin/app
    CC_RUN_COMMAND=$1 ccw -q run --ready none
    assert_failure 126
    assert_equal "$stderr" "ccwrap: CC_RUN_COMMAND: $OWNED"
    [ ! -s "$LOG" ]
    CC_RUN_COMMAND=$1 ccw check
    assert_failure 1
    assert_output "CC_RUN_COMMAND: $OWNED"
    CC_RUN_COMMAND=$1 ccw plan run
    assert_line "  application                      COMMAND if given, else CC_RUN_COMMAND: error: $OWNED"
    chown root bin/app
    CC_RUN_COMMAND=$1 ccw -q run --ready none
    assert_success
    assert_equal "$(cat "$LOG")" "app "
    : >"$LOG"
}

# ---- item 1: the program of a value -----------------------------------------------------------

@test "CC_RUN_COMMAND='FOO=1 bin/app' (an assignment in front): bin/app is judged" {
    refused 'FOO=1 bin/app'
}

@test "CC_RUN_COMMAND='exec bin/app': bin/app is judged" {
    refused 'exec bin/app'
}

@test "CC_RUN_COMMAND='env bin/app': bin/app is judged (and env, from PATH)" {
    refused 'env bin/app'
    refused 'env -u HOME -- FOO=1 bin/app'
}

@test "CC_RUN_COMMAND='nohup bin/app': bin/app is judged" {
    refused 'nohup bin/app'
}

@test "CC_RUN_COMMAND='\"bin/app\"' (quoted): bin/app is judged" {
    refused '"bin/app"'
    refused "'bin/app'"
}

@test "CC_RUN_COMMAND='b\\in/app' (a backslash): bin/app is judged" {
    refused 'b\in/app'
}

@test "CC_RUN_COMMAND='\${X:-bin/app}': refused, it is only known to the shell; trust_expansions = true runs it" {
    CC_RUN_COMMAND='${X:-bin/app}' ccw -q run --ready none
    assert_failure 126
    assert_equal "$stderr" "ccwrap: CC_RUN_COMMAND: the program \${X:-bin/app} $EXPANDS"
    [ ! -s "$LOG" ]
    CC_RUN_COMMAND='${X:-bin/app}' ccw check
    assert_failure 1
    assert_output "CC_RUN_COMMAND: the program \${X:-bin/app} $EXPANDS"
    # The operator takes responsibility, in a file ccwrap trusts.
    printf 'trust_expansions = true\n' >ccwrap.conf
    CC_RUN_COMMAND='${X:-bin/app}' ccw -q run --ready none
    assert_success
    assert_equal "$(cat "$LOG")" "app "
    # Not from a file another user may write: ignored with a warning, like trusted_users.
    chown nobody ccwrap.conf
    : >"$LOG"
    CC_RUN_COMMAND='${X:-bin/app}' ccw run --ready none
    assert_failure 126
    assert_equal "${stderr_lines[0]}" "ccwrap: warning: ccwrap.conf: trust_expansions ignored: only a file ccwrap trusts may set it, and ccwrap.conf is owned by nobody (uid 65534), not by root; chown root $APP/ccwrap.conf, $FIX_OWNER"
    [[ "$stderr" == *"ccwrap: CC_RUN_COMMAND: the program \${X:-bin/app} $EXPANDS"* ]]
    [ ! -s "$LOG" ]
}

@test "\$(…), backquotes and a glob in the program word are refused too; plain \$NAME is expanded" {
    for v in '$(echo bin/app)' '`echo bin/app`' 'bin/ap*'; do
        CC_RUN_COMMAND=$v ccw -q run --ready none
        assert_failure 126
        [[ $stderr == "ccwrap: CC_RUN_COMMAND: the program $v is only known to the shell (it needs "* ]]
    done
    # $APP_HOME is what the value gets: its program is known, and judged.
    chown nobody bin/app
    CC_RUN_COMMAND='"$APP_HOME/bin/app"' ccw -q run --ready none
    assert_failure 126
    assert_equal "$stderr" "ccwrap: CC_RUN_COMMAND: $APP/bin/app is owned by nobody (uid 65534), not by root; chown root bin/app, $FIX_OWNER"
    chown root bin/app
    CC_RUN_COMMAND='D=bin; exec "${APP_HOME}/$D/app" x' ccw -q run --ready none
    assert_success
    assert_equal "$(cat "$LOG")" "app x"
}

@test "a relative PATH entry (node_modules/.bin) is refused, naming it; an absolute one of root's runs" {
    script node_modules/.bin/server 'echo "server $*" >>"$LOG"'
    PATH=node_modules/.bin:$PATH CC_RUN_COMMAND=server ccw -q run --ready none
    assert_failure 126
    assert_equal "$stderr" "ccwrap: CC_RUN_COMMAND: server is found through the relative PATH entry node_modules/.bin, which names another file in each folder; name it by its path (node_modules/.bin/server), or put an absolute folder in PATH"
    PATH=node_modules/.bin:$PATH CC_RUN_COMMAND=server ccw check
    assert_failure 1
    assert_output "CC_RUN_COMMAND: server is found through the relative PATH entry node_modules/.bin, which names another file in each folder; name it by its path (node_modules/.bin/server), or put an absolute folder in PATH"
    [ ! -s "$LOG" ]
    # An absolute entry: the file found and the entry are judged.
    chown nobody node_modules/.bin/server
    PATH=$APP/node_modules/.bin:$PATH CC_RUN_COMMAND=server ccw -q run --ready none
    assert_failure 126
    assert_equal "$stderr" "ccwrap: CC_RUN_COMMAND: server, looked up in the PATH entry $APP/node_modules/.bin: $APP/node_modules/.bin/server is owned by nobody (uid 65534), not by root; chown root node_modules/.bin/server, $FIX_OWNER"
    # A folder another user may write, searched before the program is found.
    chown root node_modules/.bin/server
    mkdir -m 0777 "$BATS_TEST_TMPDIR/shared"
    PATH=$BATS_TEST_TMPDIR/shared:$APP/node_modules/.bin:$PATH CC_RUN_COMMAND=server ccw -q run --ready none
    assert_failure 126
    assert_equal "$stderr" "ccwrap: CC_RUN_COMMAND: server, looked up in the PATH entry $BATS_TEST_TMPDIR/shared: its folder $BATS_TEST_TMPDIR/shared is writable by group or others; chmod go-w $BATS_TEST_TMPDIR/shared"
    PATH=$APP/node_modules/.bin:$PATH CC_RUN_COMMAND=server ccw -q run --ready none
    assert_success
    assert_equal "$(cat "$LOG")" "server "
}

@test "a compound value: every simple command's program is judged" {
    chown nobody bin/app
    for v in 'true && bin/app' 'echo a; bin/app' 'echo a | bin/app' 'false || bin/app' \
        'if true; then bin/app; fi' '( bin/app )' '{ bin/app; }' 'echo "$(bin/app)"' \
        'case x in x) bin/app ;; esac' 'for i in 1; do nice -n 5 bin/app; done' \
        'cd bin && ./app' 'sh -c "bin/app"' 'timeout 5 bin/app' 'X=bin; $X/app'; do
        CC_RUN_COMMAND=$v ccw -q run --ready none
        assert_failure 126
        assert_equal "$stderr" "ccwrap: CC_RUN_COMMAND: $OWNED"
    done
    [ ! -s "$LOG" ]
    chown root bin/app
    CC_RUN_COMMAND='true && bin/app 1; echo "$(bin/app 2)" >/dev/null; cd bin && ./app 3' ccw -q run --ready none
    assert_success
    assert_equal "$(cat "$LOG")" "app 1
app 2
app 3"
}

@test "a folder on the way fails the rule: the message names the program before the folder" {
    script sub/run.sh 'echo "run $*" >>"$LOG"'
    chown nobody sub
    CC_RUN_COMMAND='bin/app 1 && cd sub && ./run.sh' ccw -q run --ready none
    assert_failure 126
    assert_equal "$stderr" "ccwrap: CC_RUN_COMMAND: sub/run.sh: its folder sub is owned by nobody (uid 65534), not by root; chown root sub, $FIX_OWNER"
    CC_RUN_COMMAND='bin/app 1 && cd sub && ./run.sh' ccw check
    assert_failure 1
    assert_output "CC_RUN_COMMAND: sub/run.sh: its folder sub is owned by nobody (uid 65534), not by root; chown root sub, $FIX_OWNER"
    CC_PRE_RUN_HOOK='./sub/run.sh' ccw -q run --ready none -- true
    assert_failure 126
    assert_equal "$stderr" "ccwrap: CC_PRE_RUN_HOOK: sub/run.sh: its folder sub is owned by nobody (uid 65534), not by root; chown root sub, $FIX_OWNER"
    [ ! -s "$LOG" ]
}

@test "exec in place and CC_BUILD_COMMAND: the same spellings refused; a run's refusal runs run-failed with exec" {
    chown nobody bin/app
    printf 'leftovers = "keep"\n' >ccwrap.conf
    CC_BUILD_COMMAND='FOO=1 exec "bin/app" build' ccw -v build
    assert_failure 126
    assert_equal "$stderr" "ccwrap: CC_BUILD_COMMAND: $OWNED"
    CC_RUN_COMMAND='nohup b\in/app run' ccw -v run --ready none
    assert_failure 126
    assert_equal "$stderr" "ccwrap: CC_RUN_COMMAND: $OWNED"
    [ ! -s "$LOG" ]
    # Supervised (a run-failed hook follows): run-failed learns it could not be executed.
    rm ccwrap.conf
    script hooks.d/run-failed/10-f 'echo "run-failed $CCWRAP_RESULT $CCWRAP_EXIT_STATUS" >>"$LOG"'
    CC_RUN_COMMAND='env bin/app' ccw -q run --ready none
    assert_failure 126
    assert_equal "$stderr" "ccwrap: CC_RUN_COMMAND: $OWNED"
    assert_equal "$(cat "$LOG")" "run-failed exec 126"
    : >"$LOG"
    chown root bin/app
    printf 'leftovers = "keep"\n' >ccwrap.conf
    rm -r hooks.d
    CC_RUN_COMMAND='FOO=1 exec "bin/app" run' ccw -v run --ready none
    assert_success
    [[ ${stderr_lines[1]} == "ccwrap: exec in place: nothing follows the application, it takes ccwrap's pid "[0-9]* ]]
    assert_equal "$(cat "$LOG")" "app run"
}

@test "a worker: refused at each start with the program and the fix; check says so; root's runs" {
    chown nobody bin/app
    export CC_WORKER_COMMAND='exec bin/app' CC_WORKER_RESTART=no
    ccw run --ready none -- sleep 0.5
    assert_success
    grep -qx "ccwrap: CC_WORKER_COMMAND: $OWNED" <<<"$stderr"
    [ ! -s "$LOG" ]
    ccw check
    assert_failure 1
    assert_output "CC_WORKER_COMMAND: $OWNED"
    chown root bin/app
    ccw -q run --ready none -- sleep 0.5
    assert_success
    assert_equal "$(cat "$LOG")" "app "
}

@test "a hook: the point fails with 126 naming the program; check says so; root's runs" {
    chown nobody bin/app
    export CC_PRE_RUN_HOOK='FOO=1 exec env nohup bin/app'
    ccw -q run --ready none -- true
    assert_failure 126
    assert_equal "$stderr" "ccwrap: CC_PRE_RUN_HOOK: $OWNED"
    ccw hook pre-run
    assert_failure 126
    ccw check
    assert_failure 1
    assert_output "CC_PRE_RUN_HOOK: $OWNED"
    [ ! -s "$LOG" ]
    chown root bin/app
    ccw -q run --ready none -- true
    assert_success
    assert_equal "$(cat "$LOG")" "app "
}

@test "a legacy postDeploy spelled with quotes is judged as the shell reads it" {
    mkdir -p clevercloud
    printf '{"hooks": {"postDeploy": "\\"bin/app\\" legacy"}}\n' >clevercloud/php.json
    chown nobody bin/app
    ccw check
    assert_failure 1
    assert_line "clevercloud/php.json hooks.postDeploy: $OWNED"
}

# ---- item 4: migrated drop-ins ----------------------------------------------------------------

@test "a migrated drop-in whose script later belongs to another user is refused at run, as before" {
    mkdir -p clevercloud
    script clevercloud/notify.sh 'echo "notify $*" >>"$LOG"'
    printf '{"hooks": {"postDeploy": "./clevercloud/notify.sh"}}\n' >clevercloud/php.json
    ccw migrate --write
    assert_success
    assert_equal "$(tail -n 1 hooks.d/run-succeeded/50-post-deploy)" "exec ./clevercloud/notify.sh"
    chown nobody clevercloud/notify.sh
    MSG="hooks.d/run-succeeded/50-post-deploy: clevercloud/notify.sh is owned by nobody (uid 65534), not by root; chown root clevercloud/notify.sh, $FIX_OWNER"
    ccw -q run --ready none -- sleep 0.2
    assert_success
    assert_equal "$stderr" "ccwrap: $MSG"
    ccw hook run-succeeded
    assert_failure 126
    ccw check
    assert_failure 1
    assert_output "$MSG"
    [ ! -s "$LOG" ]
    chown root clevercloud/notify.sh
    ccw -q run --ready none -- sleep 0.2
    assert_success
    assert_equal "$(cat "$LOG")" "notify "
}

@test "migrate --write --force never writes a drop-in that runs a file failing the rule" {
    mkdir -p clevercloud
    script clevercloud/notify.sh 'echo "notify $*" >>"$LOG"'
    chown nobody clevercloud/notify.sh
    printf '{"hooks": {"postDeploy": "./clevercloud/notify.sh"}}\n' >clevercloud/php.json
    ccw migrate --write --force
    assert_failure 125
    assert_equal "$stderr" "ccwrap: clevercloud/php.json hooks.postDeploy: clevercloud/notify.sh is owned by nobody (uid 65534), not by root; chown root clevercloud/notify.sh, $FIX_OWNER; not migrated, even with --force: a drop-in must not run it"
    [ ! -e hooks.d/run-succeeded/50-post-deploy ]
    grep -q postDeploy clevercloud/php.json
}

# ---- item 5: readiness without CAP_SYS_PTRACE -------------------------------------------------

can_drop_ptrace() {
    command -v capsh >/dev/null && command -v setpriv >/dev/null && id daemon >/dev/null 2>&1
}

# listen_as USER PORT: a listener on 0.0.0.0:PORT of USER, in the background, until the teardown.
listen_as() {
    setpriv --reuid="$1" --regid=nogroup --clear-groups -- /usr/bin/python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen()
while True:
    c, _ = s.accept()
    c.close()
' "$2" >/dev/null 2>&1 3>&- &
    remember_pid $!
    wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$2"
}

@test "without CAP_SYS_PTRACE another user's listener never makes the application ready; the uid is named" {
    can_drop_ptrace || skip "needs capsh (libcap2-bin), setpriv and the user daemon"
    port=$(free_port)
    listen_as nobody "$port"
    # The application runs as daemon (setpriv, as gosu does): root without CAP_SYS_PTRACE cannot
    # read its descriptors, and so judges listeners by their owner.
    export PORT=$port CC_RUN_COMMAND='exec setpriv --reuid=daemon --regid=daemon --clear-groups sleep 30'
    run --separate-stderr timeout -k 2 20 capsh --drop=cap_sys_ptrace -- -c 'exec "$@"' sh \
        "$CCWRAP" run --ready-timeout 1.5
    assert_failure 124
    assert_equal "${stderr_lines[1]}" "ccwrap: warning: cannot tell which process listens on port $port (the application's descriptors cannot be read: Permission denied); a listener there counts when its owner runs the application and it was not there before it started"
    assert_equal "${stderr_lines[-1]}" "ccwrap: application not ready after 1.500 s: Port $port is held by a socket of uid 65534 (nobody) opened before the application started, not by the application"
}

@test "without CAP_SYS_PTRACE a port held before the application started never counts, even by its own user" {
    can_drop_ptrace || skip "needs capsh (libcap2-bin), setpriv and the user daemon"
    port=$(free_port)
    listen_as daemon "$port"
    export PORT=$port CC_RUN_COMMAND='exec setpriv --reuid=daemon --regid=daemon --clear-groups sleep 30'
    run --separate-stderr timeout -k 2 20 capsh --drop=cap_sys_ptrace -- -c 'exec "$@"' sh \
        "$CCWRAP" run --ready-timeout 1.5
    assert_failure 124
    assert_equal "${stderr_lines[-1]}" "ccwrap: application not ready after 1.500 s: Port $port is held by a socket of uid $(id -u daemon) (daemon) opened before the application started, not by the application"
    # The application's own listener, opened after its start, counts.
    port=$(free_port)
    export PORT=$port CC_RUN_COMMAND="exec setpriv --reuid=daemon --regid=daemon --clear-groups '$TESTAPP' --listen $port"
    capsh --drop=cap_sys_ptrace -- -c 'exec "$@"' sh "$CCWRAP" run 2>"$BATS_TEST_TMPDIR/err" 3>&- &
    cc=$!
    remember_pid "$cc"
    wait_for 10 grep -q "Application ready" "$BATS_TEST_TMPDIR/err"
    # Stopped as docker stop would, so that ccwrap stops the application it started as daemon
    # (teardown's SIGKILL of ccwrap would leave it running).
    kill -TERM "$cc"
    wait_status "$cc"
    run pgrep -u daemon -f "$TESTAPP --listen $port"
    assert_failure
}

# ---- item 7: READY=1 only from the application's user -----------------------------------------

@test "notify: READY=1 claiming a pid of the application's tree with another user's uid is ignored" {
    # A sender's pid may have been reused by the application since it sent: root (CAP_SETUID,
    # CAP_SYS_ADMIN) forges exactly those credentials: the application's own pid, nobody's uid.
    export CC_RUN_COMMAND='echo "$NOTIFY_SOCKET $$" >"$BATS_TEST_TMPDIR/notify"; exec sleep 30'
    export BATS_TEST_TMPDIR
    "$CCWRAP" run --ready notify --ready-timeout 3 2>"$BATS_TEST_TMPDIR/err" 3>&- &
    cc=$!
    remember_pid "$cc"
    wait_for 10 test -s "$BATS_TEST_TMPDIR/notify"
    read -r sock pid <"$BATS_TEST_TMPDIR/notify"
    python3 -c '
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
cred = struct.pack("iII", int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[3]))
addr = "\0" + sys.argv[1][1:] if sys.argv[1][0] == "@" else sys.argv[1]
s.sendmsg([b"READY=1"], [(socket.SOL_SOCKET, socket.SCM_CREDENTIALS, cred)], 0, addr)
' "$sock" "$pid" "$(id -u nobody)"
    wait_status "$cc"
    assert_equal "$status" 124
    run cat "$BATS_TEST_TMPDIR/err"
    assert_line "ccwrap: warning: NOTIFY_SOCKET: READY=1 from pid $pid (sleep), which is not the application or below it; ignored"
    refute_line --partial "Application ready"
}

# ---- item 6: --events through a planted symlinked folder --------------------------------------

@test "--events through a folder another user replaced with a symlink: refused, nothing created there" {
    shared=$BATS_TEST_TMPDIR/shared
    mkdir -m 1777 "$shared"
    mkdir -m 0700 "$BATS_TEST_TMPDIR/root-only"
    # nobody plants logs -> a folder only root may write, where root would not put a log.
    as_nobody ln -s "$BATS_TEST_TMPDIR/root-only" "$shared/logs"
    ccw --events "$shared/logs/events" build -- true
    assert_success
    assert_equal "$stderr" "ccwrap: warning: $shared/logs/events: cannot open the event log, going on without it: its folder $shared/logs is a symbolic link, which is not followed; name the real folder"
    [ ! -e "$BATS_TEST_TMPDIR/root-only/events" ]
    # Deeper down and relative: the same.
    mkdir -p real/a
    ln -s real/a linked
    ccw --events linked/events build -- true
    assert_equal "$stderr" "ccwrap: warning: linked/events: cannot open the event log, going on without it: its folder linked is a symbolic link, which is not followed; name the real folder"
    [ ! -e real/a/events ]
    # The real folder works.
    ccw --events "$BATS_TEST_TMPDIR/root-only/events" build -- true
    assert_success
    assert_equal "$stderr" ""
    [ -s "$BATS_TEST_TMPDIR/root-only/events" ]
}
