#!/usr/bin/env bats
# The bad-input catalogue (issue 6): every input a user controls — arguments, variables, the
# configuration, drop-in names and modes, legacy JSON, readiness specs, CCWRAP_ENV — gets one
# line on stderr that names it and the fix, with the right status, or is handled. Never a
# crash, a hang or a sanitizer report: every ccwrap call is bounded by timeout, and a perl
# wrapper between the two tells a death by signal from an exit.
# Design: doc/design.md §1 (arguments), §2 (drop-ins), §3 (hook variables, CCWRAP_ENV),
# §5 (readiness specs), §6 (legacy JSON), §8 (configuration).

load test_helper

setup() {
    common_setup
    # Seconds each ccwrap call may take; a case that may hang lowers it to keep the suite short.
    LIMIT=10
    END=$BATS_TEST_TMPDIR/end
    # A TMPDIR of the test's own, for the cases that look at what CCWRAP_ENV leaves behind.
    mkdir -p "$BATS_TEST_TMPDIR/tmp"
    # Bytes are bytes: names and values here are not all UTF-8, and bash's regex would stumble.
    export LC_ALL=C
}

teardown() {
    kill_background
}

# Runs "$@" and writes how it ended to the file $1: "exit N", "signal S", or "timed out" when
# timeout's SIGTERM came first. It outlives that SIGTERM, so that timeout goes on to SIGKILL the
# whole group, ccwrap included, even when ccwrap blocks SIGTERM (it relays it). Exits 0: ccw
# takes ccwrap's status from the file.
# shellcheck disable=SC2016 # perl's own variables
PERL_WAIT='
my $end = shift;
my $timed_out = 0;
$SIG{TERM} = sub { $timed_out = 1 };
system { $ARGV[0] } @ARGV;
my $st = $?;
open(my $f, ">", $end) or die "$end: $!";
if ($timed_out) { print $f "timed out\n" }
elsif ($st == -1) { print $f "not started\n" }
elsif ($st & 127) { printf $f "signal %d\n", $st & 127 }
else { printf $f "exit %d\n", $st >> 8 }
close $f;
exit 0;
'

# ccw ARG...: `run --separate-stderr` of ccwrap, bounded by `timeout -k 2 $LIMIT`; $status is
# ccwrap's own exit status when it exited.
ccw() {
    local how
    rm -f "$END"
    run --separate-stderr timeout -k 2 "$LIMIT" perl -e "$PERL_WAIT" "$END" "$CCWRAP" "$@"
    how=$(cat "$END" 2>/dev/null) || how=
    if [[ $how == "exit "* ]]; then
        status=${how#exit }
    fi
}

# The number of lines in $1 (a last line without a newline counts).
lines_of() {
    printf '%s' "$1" | grep -c '' || true
}

# ccwrap ended by itself, in time, by exiting; no sanitizer spoke; its own lines hold no raw
# control byte (a drop-in name or a value must not drive the terminal).
ended_normally() {
    local how
    how=$(cat "$END" 2>/dev/null) || how="timed out"
    [ "$how" != "timed out" ] || fail "ccwrap did not end within $LIMIT s (a hang): timeout stopped it"
    [ "$how" = "exit $status" ] || fail "ccwrap ended by $how, not by exiting"
    # No case here has a child killed by a signal: 128 and above can only be ccwrap's own.
    [ "$status" -lt 128 ] || fail "ccwrap exited $status, a status that says 'signal'"
    if grep -aqE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' \
        <<<"$stderr"; then
        fail "sanitizer report: $stderr"
    fi
    if grep -a '^ccwrap: ' <<<"$stderr" | LC_ALL=C grep -aq $'[\x01-\x08\x0b-\x1f\x7f]'; then
        fail "raw control bytes in ccwrap's lines: $(cat -v <<<"$stderr")"
    fi
}

# one_line STATUS REGEX: ccwrap exited STATUS and said exactly one line, "ccwrap: …" matching
# the extended regular expression REGEX.
one_line() {
    ended_normally
    [ "$status" -eq "$1" ] || fail "status $status, expected $1; stderr: $(cat -v <<<"$stderr")"
    [ "$(lines_of "$stderr")" -eq 1 ] ||
        fail "expected one line on stderr, got $(lines_of "$stderr"): $(cat -v <<<"$stderr")"
    assert_regex "$stderr" '^ccwrap: '
    assert_regex "$stderr" "$2"
}

# quiet_success: exit 0, nothing said.
quiet_success() {
    ended_normally
    [ "$status" -eq 0 ] || fail "status $status, expected 0; stderr: $(cat -v <<<"$stderr")"
    assert_equal "$stderr" ""
}

# A command that records that it ran.
RAN=(sh -c 'echo ran >>"$LOG"')

# big N: N bytes of 'a'.
big() {
    head -c "$1" /dev/zero | tr '\0' a
}

# ---- arguments ---------------------------------------------------------------------------

@test "arguments: unknown options and subcommands, missing values, extra operands: one line, 125" {
    local -a cases=(
        "unknown option '--bogus'|--bogus build -- true"
        "unknown option '-x'|-x build -- true"
        "unknown option '--bogus'|build --bogus -- true"
        "unknown option '-Z'|run -Z -- true"
        "option '-C' needs a value|-C"
        "option '--root' needs a value|--root"
        "option '--config' needs a value|--config"
        "option '-c' needs a value|plan -c"
        "option '--events' needs a value|--events"
        "option '--ready' needs a value|run --ready"
        "option '--ready-timeout' needs a value|run --ready-timeout"
        "no subcommand|-q"
        "no subcommand|--"
        "unknown subcommand 'bogus'|bogus"
        "unknown subcommand 'BUILD'|BUILD -- true"
        "unknown subcommand ''|"
        "hook needs a POINT: pre-build, post-build|hook"
        "unknown hook point 'nope': pre-build, post-build|hook nope"
        "unknown hook point 'PRE-BUILD'|hook PRE-BUILD"
        "unexpected 'extra'|hook pre-build extra"
        "plan takes build or run, not 'nope'|plan nope"
        "unexpected 'extra'|plan build extra"
        "unexpected 'extra'|check extra"
        "unexpected 'extra'|migrate extra"
        "--from-cache goes with build|run --from-cache -- true"
        "--write goes with migrate|build --write -- true"
        "--ready goes with run|build --ready tcp -- true"
        "--keep-on-timeout goes with run|hook --keep-on-timeout pre-build"
        "CC_BUILD_COMMAND: no COMMAND given|build"
        "CC_RUN_COMMAND: no COMMAND given|run --"
    )
    for c in "${cases[@]}"; do
        local want=${c%%|*} args=${c#*|}
        echo "# case: ccwrap $args"
        # shellcheck disable=SC2086 # the words of the case
        if [ -z "$args" ]; then ccw ''; else ccw $args; fi
        one_line 125 "$want.*; see 'ccwrap --help'$"
        assert_output ""
    done
}

@test "--ready-timeout: bad numbers and words get one line, 125, and nothing starts" {
    for v in -1 abc 1e9 99999999999999999999 '' 1.2345 '2 days' ' 5' '+5' 0x10 86401 5x; do
        echo "# case: --ready-timeout '$v'"
        ccw run --ready-timeout "$v" -- "${RAN[@]}"
        local re=${v//./\\.}
        one_line 125 "^ccwrap: --ready-timeout '${re//+/\\+}': give seconds such as 60"
        assert_equal "$(cat "$LOG")" ""
    done
}

@test "--ready: an empty value gets one line and 125" {
    ccw run --ready '' -- "${RAN[@]}"
    one_line 125 "^ccwrap: bad readiness spec '': it is empty; use tcp, tcp:PORT"
    assert_equal "$(cat "$LOG")" ""
}

# huge_case STATUS REGEX ARG...: runs ccwrap; when it does not exit STATUS with one line
# matching REGEX, adds the case to $bad (the huge-value tests report every case at once).
huge_case() {
    local want=$1 re=$2
    shift 2
    ccw "$@"
    if [ ! -f "$END" ] || [ "$(cat "$END")" != "exit $status" ] || [ "$status" -ne "$want" ] ||
        [ "$(lines_of "$stderr")" -ne 1 ] || ! [[ $stderr =~ $re ]]; then
        bad+=("ccwrap $(printf '%s ' "$@" | cut -c1-40)…: status $status (want $want), stderr ${stderr:0:60}…${stderr: -40}")
    fi
}

@test "a 100 KiB value in any argument: one line that still says what is wrong" {
    local v
    local -a bad=()
    v=$(big 102400)
    huge_case 125 "^ccwrap: unknown subcommand 'aaaa.*; see 'ccwrap --help'$" "$v"
    huge_case 125 "^ccwrap: unknown hook point 'aaaa.*; see 'ccwrap --help'$" hook "$v"
    huge_case 125 "^ccwrap: unknown option '--aaaa.*; see 'ccwrap --help'$" "--$v"
    huge_case 125 "^ccwrap: bad readiness spec 'aaaa.*unknown kind; use tcp" run --ready "$v" -- "${RAN[@]}"
    huge_case 125 "^ccwrap: aaaa.*--root$" -C "$v" plan
    huge_case 125 "^ccwrap: aaaa.*configuration" --config "$v" plan
    huge_case 0 "^ccwrap: warning: aaaa.*event log" --events "$v" build -- true
    huge_case 126 "^ccwrap: aaaa.*: File name too long$" build -- "$v"
    ccw build -- true "$v"
    quiet_success
    assert_equal "$(cat "$LOG")" ""
    [ "${#bad[@]}" -eq 0 ] || fail "$(printf '%s\n' "${bad[@]}")"
}

@test "-C/--root naming a file or a missing folder: one line naming it and --root, 125" {
    touch afile
    ccw -C afile plan
    one_line 125 "^ccwrap: afile: the application root is not a folder; fix --root$"
    ccw --root "$BATS_TEST_TMPDIR/missing" build -- "${RAN[@]}"
    one_line 125 "^ccwrap: $BATS_TEST_TMPDIR/missing: the application root is not a folder; fix --root$"
    ccw --root=afile/sub hook pre-build
    one_line 125 "^ccwrap: afile/sub: the application root is not a folder; fix --root$"
    assert_equal "$(cat "$LOG")" ""
}

@test "-C/--root naming a folder ccwrap cannot read: one line, 125" {
    mkdir locked
    chmod 000 locked
    if ls locked >/dev/null 2>&1; then
        chmod 755 locked
        skip "running as root: a mode-000 folder is still readable"
    fi
    ccw -C locked build -- "${RAN[@]}"
    chmod 755 locked
    ended_normally
    [ "$status" -eq 125 ] || [ "$status" -eq 0 ]
    assert_equal "$(lines_of "$stderr")" 1
    assert_regex "$stderr" '^ccwrap: .*locked'
}

@test "--config naming a folder, NUL bytes, 10 MiB of garbage, a device, nothing: one line, 125" {
    mkdir conf.d
    printf 'shell = "/bin/sh"\n\0hook_timeout = 1\n' >nul.conf
    perl -e 'srand(42); print map { chr(1 + int(rand(255))) } 1 .. 10485760' >garbage.conf
    ccw --config conf.d plan
    one_line 125 "^ccwrap: conf.d: is a folder; name the configuration file itself$"
    ccw --config nul.conf plan
    one_line 125 "^ccwrap: nul.conf: holds a NUL byte"
    ccw --config garbage.conf plan
    one_line 125 "^ccwrap: garbage.conf: larger than 1 MiB"
    ccw --config /dev/zero plan
    one_line 125 "^ccwrap: /dev/zero: larger than 1 MiB"
    ccw --config missing.conf plan
    one_line 125 "^ccwrap: missing.conf: no such configuration file; fix --config$"
    # An empty configuration is the defaults.
    ccw --config /dev/null build -- "${RAN[@]}"
    quiet_success
    assert_equal "$(cat "$LOG")" "ran"
}

@test "--config naming a fifo: one line, no hang" {
    LIMIT=3
    mkfifo conf.fifo
    ccw --config conf.fifo plan
    one_line 125 "^ccwrap: conf.fifo: "
}

# ---- environment ------------------------------------------------------------------------

@test "APP_HOME and CCWRAP_CONFIG naming nothing: one line naming the variable, 125" {
    touch afile
    APP_HOME=$BATS_TEST_TMPDIR/missing ccw build -- "${RAN[@]}"
    one_line 125 "^ccwrap: $BATS_TEST_TMPDIR/missing: the application root is not a folder; fix APP_HOME$"
    APP_HOME=afile ccw plan
    one_line 125 "^ccwrap: afile: the application root is not a folder; fix APP_HOME$"
    CCWRAP_CONFIG=$BATS_TEST_TMPDIR/missing.conf ccw build -- "${RAN[@]}"
    one_line 125 "^ccwrap: $BATS_TEST_TMPDIR/missing.conf: no such configuration file; fix CCWRAP_CONFIG$"
    CCWRAP_CONFIG=$APP ccw plan
    one_line 125 "^ccwrap: $APP: is a folder; name the configuration file itself$"
    assert_equal "$(cat "$LOG")" ""
    # Empty is unset: the working folder, the defaults.
    APP_HOME='' CCWRAP_CONFIG='' ccw build -- "${RAN[@]}"
    quiet_success
    assert_equal "$(cat "$LOG")" "ran"
}

@test "CCWRAP_READY: bad specs get one line and 125; empty means unset" {
    for v in bogus tcp: 'http://' 'delay:x' $'tcp:80\n1'; do
        echo "# case: CCWRAP_READY=$(printf %q "$v")"
        CCWRAP_READY=$v ccw run -- "${RAN[@]}"
        one_line 125 "^ccwrap: bad readiness spec '"
    done
    assert_equal "$(cat "$LOG")" ""
    PORT=$(free_port)
    export PORT
    CCWRAP_READY='' ccw run --ready-timeout 0.3 -- sleep 10
    one_line 124 "^ccwrap: application not ready after 0.300 s: Nothing listening on 0.0.0.0:$PORT yet$"
}

@test "CCWRAP_EVENTS and --events that cannot be written: one warning, the outcome unchanged" {
    mkdir -p afolder
    for ev in "$BATS_TEST_TMPDIR/missing/events" afolder /dev/full; do
        echo "# case: CCWRAP_EVENTS=$ev"
        CCWRAP_EVENTS=$ev ccw build -- sh -c 'echo ran >>"$LOG"; exit 3'
        one_line 3 "^ccwrap: warning: $ev: cannot (open|write) the event log"
        ccw --events "$ev" hook pre-build
        one_line 0 "^ccwrap: warning: $ev: cannot (open|write) the event log"
    done
    assert_equal "$(cat "$LOG")" "ran
ran
ran"
}

@test "CC_TASK: only 'true' selects exit readiness; TRUE, yes, 1 keep the default" {
    PORT=$(free_port)
    export PORT
    CC_TASK=true ccw run -- true
    one_line 0 "^ccwrap: Application ready \(exit\) after [0-9.]+ s$"
    for v in TRUE yes 1 ' true' 'true ' on ''; do
        echo "# case: CC_TASK='$v'"
        CC_TASK=$v ccw run -- true
        one_line 0 "^ccwrap: application exited before it was ready \(exit-code: 0\)$"
    done
}

@test "CC_TROUBLESHOOT: only 'true' adds detail; other values are the default" {
    hook pre-build x.bak 'exit 9'
    CC_TROUBLESHOOT=true ccw hook pre-build
    one_line 0 "^ccwrap: hooks.d/pre-build/x.bak: skipped: name ends in '.bak'$"
    for v in TRUE yes 1 on false ''; do
        echo "# case: CC_TROUBLESHOOT='$v'"
        CC_TROUBLESHOOT=$v ccw hook pre-build
        quiet_success
    done
}

@test "CC_BUILD_COMMAND and CC_RUN_COMMAND: blank is a usage error, 100 KiB runs" {
    for v in '' '   ' $'\n' $'\t \r\n'; do
        echo "# case: $(printf %q "$v")"
        CC_BUILD_COMMAND=$v ccw build
        one_line 125 "^ccwrap: CC_BUILD_COMMAND: no COMMAND given and the variable is empty"
        CC_RUN_COMMAND=$v ccw run
        one_line 125 "^ccwrap: CC_RUN_COMMAND: no COMMAND given and the variable is empty"
    done
    # The kernel takes at most 128 KiB in one environment string.
    CC_BUILD_COMMAND="echo build >>\"\$LOG\" # $(big 102400)" ccw build
    quiet_success
    CC_RUN_COMMAND="echo run >>\"\$LOG\" # $(big 102400)" ccw run --ready exit
    one_line 0 "^ccwrap: Application ready \(exit\)"
    CC_BUILD_COMMAND='exit 4' ccw build
    ended_normally
    assert_failure 4
    assert_equal "$(cat "$LOG")" "build
run"
}

@test "CC_*_HOOK: blank values are no hook; folders run their entries; junk stays one line" {
    mkdir -p empty-folder
    for var in CC_PRE_BUILD_HOOK CC_POST_BUILD_HOOK; do
        for v in '   ' $'\n' $'\t\n ' empty-folder ./empty-folder/; do
            echo "# case: $var=$(printf %q "$v")"
            : >"$LOG"
            export "$var=$v"
            ccw build -- "${RAN[@]}"
            unset "$var"
            quiet_success
            assert_equal "$(cat "$LOG")" "ran"
        done
    done
    # A folder with an entry runs it, as a drop-in folder would.
    mkdir -p hook-folder
    printf '#!/bin/sh\necho entry >>"$LOG"\n' >hook-folder/10-entry
    chmod 755 hook-folder/10-entry
    : >"$LOG"
    CC_PRE_BUILD_HOOK=hook-folder ccw -q build -- "${RAN[@]}"
    quiet_success
    assert_equal "$(cat "$LOG")" "entry
ran"
    # Binary junk: the shell says what it says; ccwrap's own lines stay whole and clean.
    : >"$LOG"
    CC_PRE_BUILD_HOOK=$'ab\x01\x1b[31mcd\xff' ccw build -- "${RAN[@]}"
    ended_normally
    assert_failure 127
    assert_equal "$(grep -ac '^ccwrap: Running CC_PRE_BUILD_HOOK: ab' <<<"$stderr")" 1
    assert_regex "$stderr" 'ccwrap: CC_PRE_BUILD_HOOK failed: status 127 in [0-9.]+ s'
    assert_equal "$(cat "$LOG")" ""
}

@test "CC_*_HOOK and CC_WORKER_COMMAND: a program with arguments beside a folder of its name is the program" {
    # A Gradle project has a gradle/ folder; "gradle build" is still the gradle from PATH.
    mkdir -p gradle/wrapper "$BATS_TEST_TMPDIR/bin"
    printf '#!/bin/sh\necho "gradle $*" >>"$LOG"\n' >"$BATS_TEST_TMPDIR/bin/gradle"
    chmod 755 "$BATS_TEST_TMPDIR/bin/gradle"
    PATH=$BATS_TEST_TMPDIR/bin:$PATH CC_PRE_BUILD_HOOK='gradle --version' ccw -q build -- "${RAN[@]}"
    quiet_success
    assert_equal "$(cat "$LOG")" "gradle --version
ran"
    : >"$LOG"
    PATH=$BATS_TEST_TMPDIR/bin:$PATH CC_WORKER_COMMAND='gradle run' ccw check
    assert_success
    PATH=$BATS_TEST_TMPDIR/bin:$PATH CC_WORKER_COMMAND='gradle run' CC_WORKER_RESTART=no \
        ccw -q run --ready none -- sh -c 'sleep 0.5'
    assert_success
    assert_equal "$(cat "$LOG")" "gradle run"
    # A path to a folder with arguments is neither: one line with the fix, 126.
    : >"$LOG"
    CC_PRE_BUILD_HOOK='./gradle --version' ccw build -- "${RAN[@]}"
    assert_failure 126
    assert_equal "$stderr" "ccwrap: CC_PRE_BUILD_HOOK: gradle is a folder, which runs its entries only when named alone; remove the arguments, or name a script"
    assert_equal "$(cat "$LOG")" ""
}

@test "CC_*_HOOK naming a non-executable, a fifo, a missing path: one line with the fix" {
    echo 'echo hi' >noexec
    mkfifo fifo
    local -a points=(pre-build post-build pre-run run-succeeded run-failed)
    local -a vars=(CC_PRE_BUILD_HOOK CC_POST_BUILD_HOOK CC_PRE_RUN_HOOK CC_RUN_SUCCEEDED_HOOK
        CC_RUN_FAILED_HOOK)
    for i in "${!points[@]}"; do
        local var=${vars[$i]} point=${points[$i]}
        for v in noexec ./noexec 'noexec --flag'; do
            echo "# case: $var=$v"
            export "$var=$v"
            ccw hook "$point"
            one_line 126 "^ccwrap: $var: noexec is not executable; chmod \+x noexec$"
        done
        for v in fifo ./fifo; do
            echo "# case: $var=$v"
            export "$var=$v"
            ccw hook "$point"
            one_line 126 "^ccwrap: $var: fifo "
        done
        export "$var=bin/nothere --x"
        ccw hook "$point"
        one_line 127 "^ccwrap: $var: bin/nothere: no such file; fix the path in $var$"
        unset "$var"
    done
}

@test "CC_*_HOOK naming a fifo is not told to chmod +x it" {
    mkfifo fifo
    CC_PRE_BUILD_HOOK=fifo ccw build -- "${RAN[@]}"
    one_line 126 "^ccwrap: CC_PRE_BUILD_HOOK: fifo "
    refute_regex "$stderr" 'chmod \+x'
}

@test "CC_*_HOOK='./' runs nothing outside the root" {
    printf '#!/bin/sh\necho root-entry >>"$LOG"\n' >root-entry
    chmod 755 root-entry
    CC_PRE_BUILD_HOOK=./ ccw build -- true
    ended_normally
    # No path under / may be announced or run for the root's entries.
    refute_regex "$stderr" '(Running|run) /root-entry'
    if [ "$status" -eq 0 ]; then
        # Like '.': the root's entries, as §3 has for a value naming a folder.
        assert_equal "$(cat "$LOG")" "root-entry"
    else
        one_line "$status" '^ccwrap: CC_PRE_BUILD_HOOK'
    fi
}

@test "PORT: abc, 0, 65536 and friends get one line and 125; empty means 8080" {
    for v in abc 0 65536 -1 ' 80' 8080x 99999999999999999999; do
        echo "# case: PORT='$v'"
        PORT=$v ccw run -- "${RAN[@]}"
        one_line 125 "^ccwrap: bad readiness spec 'tcp': PORT='$v' must be a port 1-65535$"
    done
    assert_equal "$(cat "$LOG")" ""
    if (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null; then
        skip "something listens on 8080 here"
    fi
    PORT='' ccw run --ready-timeout 0.3 -- sleep 10
    one_line 124 "^ccwrap: application not ready after 0.300 s: Nothing listening on 0.0.0.0:8080 yet$"
}

@test "CC_HEALTH_CHECK_PATH without /, with spaces or control bytes, too long: one line, 125" {
    for v in health 'health/x' '/a b' $'/x\ny' $'/\e[31m' $'/\t' "/$(big 3000)"; do
        echo "# case: CC_HEALTH_CHECK_PATH=$(printf %q "$v" | cut -c1-40)"
        CC_HEALTH_CHECK_PATH=$v ccw run -- "${RAN[@]}"
        one_line 125 "^ccwrap: bad readiness spec 'tcp': CC_HEALTH_CHECK_PATH"
        CC_HEALTH_CHECK_PATH_0=$v ccw run -- "${RAN[@]}"
        one_line 125 "^ccwrap: bad readiness spec 'tcp': CC_HEALTH_CHECK_PATH_0"
    done
    assert_equal "$(cat "$LOG")" ""
}

@test "CC_HEALTH_CHECK_PATH_0 and _2 without _1: _2 is not dropped silently" {
    PORT=$(free_port)
    export PORT CC_HEALTH_CHECK_PATH_0=/a CC_HEALTH_CHECK_PATH_2=/c
    ccw run --ready-timeout 1 -- \
        "$TESTAPP" --listen "$PORT" --http /a=200 --http /c=500 --exit-after 1.5 --exit 0
    ended_normally
    # Either /c is asked too (never 200: the timeout), or a warning says it is not.
    if [ "$status" -ne 124 ]; then
        assert_equal "$(grep -ac '^ccwrap: warning: .*CC_HEALTH_CHECK_PATH_2' <<<"$stderr")" 1
    fi
}

@test "NOTIFY_SOCKET pointing nowhere: one warning, the application still supervised" {
    touch afile
    mkdir -p afolder
    for v in "$BATS_TEST_TMPDIR/missing/sock" afile afolder "/$(big 200)" "@ccwrap-nobody-$$" \
        $'nowhere\e[31m\n'; do
        echo "# case: NOTIFY_SOCKET=$(printf %q "$v" | cut -c1-40)"
        NOTIFY_SOCKET=$v ccw run --ready none -- "$TESTAPP" --exit-after 0.1 --exit 3
        ended_normally
        assert_failure 3
        assert_equal "$(lines_of "$stderr")" 2
        assert_regex "${stderr_lines[0]}" '^ccwrap: Application ready \(none\) after [0-9.]+ s$'
        assert_regex "${stderr_lines[1]}" '^ccwrap: warning: .+: cannot send READY=1: '
    done
    NOTIFY_SOCKET='' ccw run --ready none -- "$TESTAPP" --exit-after 0.1 --exit 3
    ended_normally
    assert_failure 3
}

@test "TMPDIR missing, unwritable, relative or a file: said, and CCWRAP_ENV goes to /tmp" {
    touch afile
    export CC_PRE_BUILD_HOOK='echo "$CCWRAP_ENV" >>"$LOG"; echo A=1 >>"$CCWRAP_ENV"'
    for v in "$BATS_TEST_TMPDIR/missing" /proc relative '' "$APP/afile"; do
        echo "# case: TMPDIR=$v"
        : >"$LOG"
        TMPDIR=$v ccw build -- sh -c 'echo "A=$A" >>"$LOG"'
        ended_normally
        assert_success
        if [ -n "$v" ]; then
            assert_regex "${stderr_lines[0]}" "^ccwrap: warning: TMPDIR=$v: .*(/tmp|absolute path)"
        else
            assert_equal "${stderr_lines[0]}" "ccwrap: Running CC_PRE_BUILD_HOOK: $CC_PRE_BUILD_HOOK"
        fi
        assert_regex "$(head -n 1 "$LOG")" '^/tmp/ccwrap\.[A-Za-z0-9]{6}/env\.1$'
        assert_equal "$(tail -n 1 "$LOG")" "A=1"
        [ ! -e "$(dirname "$(head -n 1 "$LOG")")" ] || fail "$(head -n 1 "$LOG") was left behind"
    done
}

# ---- configuration file -----------------------------------------------------------------

@test "config: each option with a bad value: FILE:LINE, the fix, 125" {
    local -a cases=(
        'shell = "sh"|shell must be an absolute path such as "/bin/sh", not '"'sh'"
        'shell = ""|shell must be an absolute path'
        'hooks_dirs = {"a", ""}|hooks_dirs holds an empty folder name; remove it'
        'hook_timeout = -1|hook_timeout must be a whole number of seconds from 0 to 86400, not '"'-1'"
        'hook_timeout = abc|hook_timeout must be a whole number'
        'hook_timeout = 1.5|hook_timeout must be a whole number'
        'hook_timeout = 86401|hook_timeout must be a whole number'
        'hook_timeout = 0x10|hook_timeout must be a whole number'
        'hook_timeout = 99999999999999999999|hook_timeout must be a whole number'
        'hook_timeout = ""|hook_timeout must be a whole number'
        'kill_grace = 3601|kill_grace must be a whole number of seconds from 0 to 3600'
        'kill_grace = -1|kill_grace must be a whole number'
        'ready_timeout = 1e3|ready_timeout must be a whole number'
        'ready_timeout = -5|ready_timeout must be a whole number'
        'legacy_post_deploy = "maybe"|legacy_post_deploy must be one of run, ignore, fail, not '"'maybe'"
        'legacy_post_deploy = ""|legacy_post_deploy must be one of run, ignore, fail'
        'on_ready_timeout = "kill"|on_ready_timeout must be one of stop, keep'
        'nosuch = 1|no such option .nosuch.; the options are shell, hooks_dirs'
        'shell = ${CCWRAP_TEST_UNSET}|\$\{CCWRAP_TEST_UNSET\} is not set; set it, or give a default'
    )
    for c in "${cases[@]}"; do
        local line=${c%%|*} want=${c#*|}
        echo "# case: $line"
        printf '# a comment\n%s\n' "$line" >ccwrap.conf
        ccw hook pre-build
        one_line 125 "^ccwrap: ccwrap.conf:2: $want"
    done
    printf '# a comment\nready = "bogus"\n' >ccwrap.conf
    ccw run -- "${RAN[@]}"
    one_line 125 "^ccwrap: ccwrap.conf:2: bad readiness spec 'bogus': unknown kind; use tcp"
    printf 'shell = "/nonexistent/sh"\n' >ccwrap.conf
    CC_PRE_BUILD_HOOK=true ccw -q build -- "${RAN[@]}"
    one_line 127 "^ccwrap: CC_PRE_BUILD_HOOK: cannot run /nonexistent/sh: No such file or directory$"
    assert_equal "$(cat "$LOG")" ""
}

@test "config: unclosed list, string, comment; garbage; deep braces: one line, 125" {
    local -a cases=(
        'hooks_dirs = {"a", "b"|:1: this .\{. is never closed; add its .\}.'
        'shell = "/bin/sh|:1: this string is never closed; add the closing "'
        "shell = '/bin/sh|:1: this string is never closed; add the closing '"
        '/* a comment|:1: this comment is never closed; add \*/'
        'hooks_dirs = {"a"}}|:1: '
        'shell = /bin/sh shell|:[0-9]+: '
    )
    for c in "${cases[@]}"; do
        local text=${c%%|*} want=${c#*|}
        echo "# case: $text"
        printf '%s\n' "$text" >ccwrap.conf
        ccw plan build
        one_line 125 "^ccwrap: ccwrap.conf$want"
        assert_output ""
    done
    local -a deep=(
        "$(big 10000 | tr a '{')"
        "$(big 10000 | tr a '{')$(big 10000 | tr a '}')"
        "hooks_dirs = $(big 10000 | tr a '{')\"a\"$(big 10000 | tr a '}')"
        "$(for _ in $(seq 2000); do printf 'x {'; done)"
    )
    for text in "${deep[@]}"; do
        echo "# case: ${text:0:40}…"
        printf '%s\n' "$text" >ccwrap.conf
        ccw plan build
        one_line 125 '^ccwrap: ccwrap.conf:1: '
    done
    perl -e 'srand(7); print map { chr(1 + int(rand(255))) } 1 .. 100000' >ccwrap.conf
    ccw plan build
    one_line 125 '^ccwrap: ccwrap.conf:[0-9]+: '
    printf 'shell = "/bin/sh"\n\xff\xfe = 1\n' >ccwrap.conf
    ccw plan build
    one_line 125 '^ccwrap: ccwrap.conf:2: '
}

@test "config: comments only, empty, CRLF, a 300-character line: the defaults, fine" {
    local -a texts=(
        $'# only\n// comments\n/* and\n   more */\n'
        ''
        $'shell = "/bin/sh"\r\nhook_timeout = 5\r\n'
        "shell = \"/bin/sh\"$(printf '%300s' '') # a long line"
        "hooks_dirs = {\"hooks.d\", \"$(big 250)\"}"
    )
    hook pre-build 10-log 'echo ran >>"$LOG"'
    for text in "${texts[@]}"; do
        echo "# case: $(printf %q "${text:0:40}")"
        : >"$LOG"
        printf '%s\n' "$text" >ccwrap.conf
        ccw -q hook pre-build
        quiet_success
        assert_equal "$(cat "$LOG")" "ran"
    done
    # 300 characters of option name: still one line.
    printf '%s = 1\n' "$(big 300)" >ccwrap.conf
    ccw hook pre-build
    one_line 125 "^ccwrap: ccwrap.conf:1: no such option 'aaaa"
}

@test "config: 10,000 hooks_dirs entries are read, merged and run in bounded time" {
    {
        printf 'hooks_dirs = {'
        for i in $(seq 1 9999); do printf '"d%d", ' "$i"; done
        printf '"hooks.d"}\n'
    } >ccwrap.conf
    hook pre-build 10-log 'echo ran >>"$LOG"'
    mkdir -p d5000/pre-build
    printf '#!/bin/sh\necho d5000 >>"$LOG"\n' >d5000/pre-build/05-first
    chmod 755 d5000/pre-build/05-first
    ccw -q build -- true
    quiet_success
    assert_equal "$(cat "$LOG")" "d5000
ran"
}

# ---- drop-ins ---------------------------------------------------------------------------

@test "drop-in names: non-UTF-8, 255 bytes, newline, ESC: each runs, announced on one clean line" {
    local -a names=(
        $'10-\xff\xfe\xc3'
        "20-$(big 252)"
        $'30-new\nline'
        $'40-\e[31mred\e[0m'
        $'50-\r-carriage'
        '60- $(touch pwned) `x` ;|&'
        $'70-\x7f-del'
    )
    for n in "${names[@]}"; do
        echo "# case: $(printf %q "$n" | cut -c1-50)"
        rm -rf hooks.d
        : >"$LOG"
        hook pre-build "$n" 'echo ran >>"$LOG"'
        ccw --events "$BATS_TEST_TMPDIR/events" hook pre-build
        ended_normally
        assert_success
        assert_equal "$(cat "$LOG")" "ran"
        assert_equal "$(lines_of "$stderr")" 2
        assert_regex "${stderr_lines[0]}" '^ccwrap: Running hooks.d/pre-build/[1-7]0-'
        assert_regex "${stderr_lines[1]}" '^ccwrap: Finished hooks.d/pre-build/[1-7]0-.*: status 0 in'
        assert_equal "$(cat -v <<<"$stderr" | grep -ac '\^\[')" 0
        # plan: one line for the hook; check: nothing to say.
        ccw plan build
        ended_normally
        assert_success
        assert_equal "$(grep -ac 'exec hooks.d/pre-build/' <<<"$output")" 1
        ccw check
        ended_normally
        assert_success
        [ ! -e pwned ] || fail "a drop-in name went through a shell"
    done
    if command -v python3 >/dev/null; then
        python3 -c 'import json, sys
for line in open(sys.argv[1], "rb"):
    json.loads(line.decode("utf-8"))' "$BATS_TEST_TMPDIR/events"
    fi
}

@test "drop-in names that cannot run: the fix quotes the name, on one line" {
    local -a names=($'a\nb\e[31m' $'c\xff $(touch pwned)' "$(big 255)")
    for n in "${names[@]}"; do
        echo "# case: $(printf %q "$n" | cut -c1-50)"
        rm -rf hooks.d
        mkdir -p hooks.d/pre-build
        echo 'echo hi' >"hooks.d/pre-build/$n"
        ccw hook pre-build
        one_line 126 "^ccwrap: hooks.d/pre-build/.*: not executable; chmod \+x .*, or rename it to .*\.disabled'?$"
        ccw check
        ended_normally
        assert_failure 1
        assert_equal "$(lines_of "$output")" 1
        [ ! -e pwned ] || fail "a drop-in name went through a shell"
    done
}

@test "drop-in modes: 000, 777, setuid, fifo, socket, symlink loop, symlink to a folder" {
    local d=hooks.d/pre-build
    mkdir -p "$d" sub
    hook pre-build a 'echo ran >>"$LOG"'
    chmod 000 "$d/a"
    ccw hook pre-build
    one_line 126 "^ccwrap: $d/a: not executable; chmod \+x $d/a, or rename it to $d/a.disabled$"
    chmod 777 "$d/a"
    ccw hook pre-build
    one_line 126 "^ccwrap: $d/a: writable by group or others; chmod go-w $d/a$"
    chmod 4755 "$d/a"
    ccw -q hook pre-build
    quiet_success
    assert_equal "$(cat "$LOG")" "ran"
    rm "$d/a"
    mkfifo "$d/a"
    ccw hook pre-build
    one_line 126 "^ccwrap: $d/a: not a regular file; replace it with an executable file$"
    rm "$d/a"
    if command -v python3 >/dev/null; then
        python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$d/a"
        ccw hook pre-build
        one_line 126 "^ccwrap: $d/a: not a regular file; replace it with an executable file$"
        rm "$d/a"
    fi
    ln -s /dev/zero "$d/a"
    ccw hook pre-build
    one_line 126 "^ccwrap: $d/a: not a regular file"
    rm "$d/a"
    ln -s b "$d/a"
    ln -s a "$d/b"
    ccw hook pre-build
    one_line 127 "^ccwrap: $d/a: .*(loop|symlink).*"
    rm "$d/a" "$d/b"
    ln -s a "$d/a"
    ccw hook pre-build
    one_line 127 "^ccwrap: $d/a: .*(loop|symlink).*"
    rm "$d/a"
    ln -s ../../sub "$d/a"
    ccw hook pre-build
    quiet_success
    rm "$d/a"
    # The drop-in folder itself a file, or a broken symlink.
    rm -rf "$d"
    touch "$d"
    ccw hook pre-build
    one_line 126 "^ccwrap: $d: not a folder; drop-ins go in a folder of that name$"
    rm "$d"
    ln -s nowhere "$d"
    ccw hook pre-build
    quiet_success
}

@test "1,000 drop-ins in one folder: all run, in order, in bounded time" {
    mkdir -p hooks.d/pre-build
    for i in $(seq -w 1 1000); do
        printf '#!/bin/sh\necho %s >>"$LOG"\n' "$i" >"hooks.d/pre-build/$i"
    done
    chmod 755 hooks.d/pre-build/*
    ccw -q build -- true
    quiet_success
    assert_equal "$(cat "$LOG")" "$(seq -w 1 1000)"
}

# ---- legacy JSON ------------------------------------------------------------------------

# legacy_case TEXT-FILE: clevercloud/php.json from the file; run-succeeded runs; returns with
# $status, $stderr set.
legacy_case() {
    rm -rf clevercloud
    mkdir -p clevercloud
    cp "$1" clevercloud/php.json
    : >"$LOG"
    ccw hook run-succeeded
    ended_normally
    assert_success
    assert_regex "$(cat "$LOG")" 'run-succeeded/10-log'
}

@test "legacy JSON: empty, null, 5 MiB, 10,000 levels, invalid UTF-8: one warning, file ignored" {
    logging_hook run-succeeded 10-log
    local f=$BATS_TEST_TMPDIR/in.json
    local -a cases=(
        "empty|:1:[0-9]+: malformed JSON, file ignored"
        "null|:1:[0-9]+: malformed JSON, file ignored"
        "big|: larger than 1 MiB, file ignored"
        "deep|:1:[0-9]+: malformed JSON, file ignored"
        "utf8|:1:[0-9]+: malformed JSON, file ignored"
        "hooks-string|: hooks must be an object, got string; ignored"
        "post-number|: hooks.postDeploy must be a string, got number; ignored"
        "truncated|:[0-9]+:[0-9]+: malformed JSON, file ignored"
    )
    for c in "${cases[@]}"; do
        local kind=${c%%|*} want=${c#*|}
        echo "# case: $kind"
        case $kind in
        empty) : >"$f" ;;
        null) echo null >"$f" ;;
        big) { printf '{"x": "'; big 5242880; printf '"}\n'; } >"$f" ;;
        deep) { big 10000 | tr a '['; big 10000 | tr a ']'; } >"$f" ;;
        utf8) printf '{"hooks": {"postDeploy": "echo \xff\xfe >>\\"$LOG\\""}}\n' >"$f" ;;
        hooks-string) echo '{"hooks": "./notify"}' >"$f" ;;
        post-number) echo '{"hooks": {"postDeploy": 5}}' >"$f" ;;
        truncated) printf '{"hooks": {"postDeploy": "echo x' >"$f" ;;
        esac
        legacy_case "$f"
        assert_equal "$(grep -ac '^ccwrap: warning: clevercloud/php.json' <<<"$stderr")" 1
        assert_regex "$stderr" "ccwrap: warning: clevercloud/php.json$want"
        assert_equal "$(lines_of "$stderr")" 3
    done
}

@test "legacy JSON: a 100 KiB postDeploy, duplicate keys, a BOM: handled, each line whole" {
    logging_hook run-succeeded 10-log
    # A postDeploy names a script under the root (Clever Cloud's rule): this one logs its words.
    printf '#!/bin/sh\necho "$*" >>"$LOG"\n' >say
    chmod 755 say
    local f=$BATS_TEST_TMPDIR/in.json
    printf '{"hooks": {"postDeploy": "./say legacy # %s"}}\n' "$(big 102400)" >"$f"
    legacy_case "$f"
    assert_equal "$(cat "$LOG")" "run-succeeded/10-log
legacy"
    assert_equal "$(lines_of "$stderr")" 5
    assert_equal "$(grep -avc '^ccwrap: ' <<<"$stderr")" 0
    # Duplicate keys: one of them runs, once.
    printf '{"hooks": {"postDeploy": "./say one"}, "hooks": {"postDeploy": "./say two"}}\n' >"$f"
    legacy_case "$f"
    assert_equal "$(grep -acE '^(one|two)$' "$LOG")" 1
    # A BOM: read past it, or one warning with the place.
    printf '\xef\xbb\xbf{"hooks": {"postDeploy": "./say bom"}}\n' >"$f"
    legacy_case "$f"
    if ! grep -qx bom "$LOG"; then
        assert_equal "$(grep -acE '^ccwrap: warning: clevercloud/php.json:1:[0-9]+: ' <<<"$stderr")" 1
    fi
}

@test "legacy JSON: a symlink to /dev/zero, a fifo, a folder named x.json: no hang, ignored" {
    LIMIT=5
    logging_hook run-succeeded 10-log
    mkdir -p clevercloud/x.json
    ln -s /dev/zero clevercloud/zero.json
    mkfifo clevercloud/fifo.json
    ln -s nowhere clevercloud/broken.json
    ccw hook run-succeeded
    ended_normally
    assert_success
    assert_equal "$(cat "$LOG")" "run-succeeded/10-log"
    assert_equal "$(grep -avc '^ccwrap: ' <<<"$stderr")" 0
    ccw run --ready none -- true
    ended_normally
    assert_success
}

# ---- readiness specs --------------------------------------------------------------------

@test "readiness specs: malformed ones get one line naming the spec, 125, and nothing starts" {
    local -a specs=(tcp: tcp:: tcp:host: 'tcp:[::1' 'tcp:[::1]x' 'tcp:0' 'tcp:65536' 'tcp:a:b:c'
        'tcp:bad host:80' 'http://' 'http://[zz::]:80/' 'http://h:0/' 'http://u@h/' 'http://h/a b'
        'https://x/' file: delay: delay:-1 delay:1e3 'delay:2 days' notify:x exit:1 none:
        TCP ' tcp' $'tcp:80\n1' $'\e[31m' $'http://h/\r\n')
    for s in "${specs[@]}"; do
        echo "# case: --ready $(printf %q "$s")"
        ccw run --ready "$s" -- "${RAN[@]}"
        one_line 125 "^ccwrap: bad readiness spec '"
    done
    assert_equal "$(cat "$LOG")" ""
}

@test "readiness specs: 10 KiB ones get one line that still says what is wrong" {
    local -a bad=()
    ccw run --ready "file:$(big 10240)" --ready-timeout 0.2 -- sleep 10
    one_line 124 "^ccwrap: application not ready after 0.200 s: aaaa"
    huge_case 125 "^ccwrap: bad readiness spec 'tcp:1111.*port" run --ready "tcp:$(big 10240 | tr a 1)" -- "${RAN[@]}"
    huge_case 125 "^ccwrap: bad readiness spec 'notify:aaa.*unknown kind" run --ready "notify:$(big 10240)" -- "${RAN[@]}"
    huge_case 125 "^ccwrap: bad readiness spec 'http://aaa.*host" run --ready "http://$(big 10240)/" -- "${RAN[@]}"
    assert_equal "$(cat "$LOG")" ""
    [ "${#bad[@]}" -eq 0 ] || fail "$(printf '%s\n' "${bad[@]}")"
}

# ---- CCWRAP_ENV -------------------------------------------------------------------------

@test "CCWRAP_ENV: bad names, =value, no '=', 2 MiB: reported by line number, the build goes on" {
    export CC_PRE_BUILD_HOOK='printf "1X=1\n=v\nnoeq\nA-B=2\nA=ok\n\nB=x=y\n" >"$CCWRAP_ENV"'
    ccw build -- sh -c 'echo "A=$A B=$B" >>"$LOG"'
    ended_normally
    assert_success
    assert_equal "$(cat "$LOG")" "A=ok B=x=y"
    for n in 1 2 3 4; do
        assert_equal "$(grep -ac "^ccwrap: warning: CC_PRE_BUILD_HOOK: CCWRAP_ENV line $n is not NAME=value" <<<"$stderr")" 1
    done
    assert_equal "$(lines_of "$stderr")" 6
    : >"$LOG"
    export CC_PRE_BUILD_HOOK='echo A=1 >"$CCWRAP_ENV"; head -c 2097152 /dev/zero | tr "\0" "\n" >>"$CCWRAP_ENV"; echo B=2 >>"$CCWRAP_ENV"'
    ccw build -- sh -c 'echo "A=$A B=$B" >>"$LOG"'
    ended_normally
    assert_success
    assert_equal "$(cat "$LOG")" "A=1 B="
    assert_equal "$(grep -ac '^ccwrap: warning: CC_PRE_BUILD_HOOK: CCWRAP_ENV is larger than 1 MiB' <<<"$stderr")" 1
    assert_equal "$(lines_of "$stderr")" 3
}

@test "CCWRAP_ENV deleted, or replaced by a symlink (to /etc/shadow): not followed, nothing read" {
    echo 'SECRET=1' >"$BATS_TEST_TMPDIR/target"
    for target in "$BATS_TEST_TMPDIR/target" /etc/shadow; do
        echo "# case: symlink to $target"
        : >"$LOG"
        CC_PRE_BUILD_HOOK="rm -f \"\$CCWRAP_ENV\"; ln -s $target \"\$CCWRAP_ENV\"; echo \"\$CCWRAP_ENV\" >>\"\$LOG\"" \
            ccw -q build -- sh -c 'echo "SECRET=${SECRET-unset}" >>"$LOG"'
        ended_normally
        assert_success
        assert_equal "$(tail -n 1 "$LOG")" "SECRET=unset"
        refute_regex "$stderr" 'root:'
        [ ! -L "$(head -n 1 "$LOG")" ] || fail "the symlink was left behind"
    done
    assert_equal "$(cat "$BATS_TEST_TMPDIR/target")" "SECRET=1"
    CC_PRE_BUILD_HOOK='rm -f "$CCWRAP_ENV"' ccw -q build -- "${RAN[@]}"
    quiet_success
    assert_equal "$(tail -n 1 "$LOG")" "ran"
}

@test "CCWRAP_ENV with a NUL byte: that line is reported, the lines after it still count" {
    export CC_PRE_BUILD_HOOK='printf "A=1\n\0junk\nB=2\n" >"$CCWRAP_ENV"'
    ccw -q build -- sh -c 'echo "A=$A B=$B" >>"$LOG"'
    ended_normally
    assert_success
    assert_equal "$(cat "$LOG")" "A=1 B=2"
}

@test "CCWRAP_ENV with CRLF line endings: values carry no carriage return" {
    export CC_PRE_BUILD_HOOK='printf "A=1\r\nB=2\r\n" >"$CCWRAP_ENV"'
    ccw build -- sh -c 'printf "A=%s B=%s\n" "$A" "$B" >>"$LOG"'
    ended_normally
    assert_success
    # Stripped, or each line reported: never a value that silently ends in \r.
    if [ "$(cat -v "$LOG")" != "A=1 B=2" ]; then
        assert_equal "$(cat -v "$LOG")" "A= B="
        assert_equal "$(grep -ac '^ccwrap: warning: CC_PRE_BUILD_HOOK: CCWRAP_ENV line [12]' <<<"$stderr")" 2
    fi
}

@test "CCWRAP_ENV value over the kernel's 128 KiB: reported, the command still runs" {
    export CC_PRE_BUILD_HOOK='{ echo A=1; printf "B="; head -c 204800 /dev/zero | tr "\0" y; echo; } >"$CCWRAP_ENV"'
    ccw build -- sh -c 'echo "A=$A B=${#B}" >>"$LOG"'
    ended_normally
    assert_success
    assert_equal "$(cat "$LOG")" "A=1 B=0"
    assert_equal "$(grep -ac '^ccwrap: warning: CC_PRE_BUILD_HOOK: CCWRAP_ENV line 2' <<<"$stderr")" 1
}

@test "CCWRAP_ENV replaced by a fifo: no hang" {
    LIMIT=3
    export TMPDIR=$BATS_TEST_TMPDIR/tmp
    CC_PRE_BUILD_HOOK='rm -f "$CCWRAP_ENV"; mkfifo "$CCWRAP_ENV"' ccw -q build -- "${RAN[@]}"
    ended_normally
    assert_success
    assert_equal "$(cat "$LOG")" "ran"
}

@test "CCWRAP_ENV replaced by a folder: ignored, nothing left behind" {
    export TMPDIR=$BATS_TEST_TMPDIR/tmp
    CC_PRE_BUILD_HOOK='rm -f "$CCWRAP_ENV"; mkdir "$CCWRAP_ENV"' ccw -q build -- "${RAN[@]}"
    quiet_success
    assert_equal "$(cat "$LOG")" "ran"
    assert_equal "$(ls -A "$TMPDIR")" ""
}
