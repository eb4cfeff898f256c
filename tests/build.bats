#!/usr/bin/env bats
# The build phase (§4), the hook variables (§3) and the exit statuses of §7 for a build.
# Design: doc/design.md §4 (build phase), §3 (hook variables), §7 (exit statuses).

load test_helper

setup() {
    common_setup
}

@test "hooks run in the design's order around the command: variable, drop-ins, command, post-build" {
    export CC_PRE_BUILD_HOOK='echo var-pre >>"$LOG"'
    export CC_POST_BUILD_HOOK='echo var-post >>"$LOG"'
    logging_hook pre-build 10-first
    logging_hook pre-build 20-second
    logging_hook post-build 10-after
    run --separate-stderr "$CCWRAP" build -- sh -c 'echo command >>"$LOG"'
    assert_success
    assert_equal "$(cat "$LOG")" "var-pre
pre-build/10-first
pre-build/20-second
command
var-post
post-build/10-after"
}

@test "each hook is announced in Clever Cloud's words, with its end, status and duration" {
    export CC_PRE_BUILD_HOOK='true'
    logging_hook pre-build 10-migrate
    run --separate-stderr "$CCWRAP" build -- true
    assert_success
    assert_equal "${stderr_lines[0]}" "ccwrap: Running CC_PRE_BUILD_HOOK: true"
    assert_regex "${stderr_lines[1]}" '^ccwrap: Finished CC_PRE_BUILD_HOOK: status 0 in [0-9]+\.[0-9]{3} s$'
    assert_equal "${stderr_lines[2]}" "ccwrap: Running hooks.d/pre-build/10-migrate"
    assert_regex "${stderr_lines[3]}" '^ccwrap: Finished hooks.d/pre-build/10-migrate: status 0 in [0-9.]+ s$'
    assert_equal "${#stderr_lines[@]}" 4
}

@test "a failing pre-build hook stops the build with its status; the command never starts" {
    export CC_PRE_BUILD_HOOK='exit 3'
    logging_hook pre-build 10-later
    run --separate-stderr "$CCWRAP" build -- sh -c 'echo command >>"$LOG"'
    assert_failure 3
    assert_regex "${stderr_lines[1]}" '^ccwrap: CC_PRE_BUILD_HOOK failed: status 3 in [0-9.]+ s$'
    assert_equal "$(cat "$LOG")" ""
}

@test "the command's non-zero status is ccwrap's and post-build does not run" {
    logging_hook post-build 10-after
    run --separate-stderr "$CCWRAP" build -- sh -c 'exit 42'
    assert_failure 42
    assert_equal "$(cat "$LOG")" ""
}

@test "a failing post-build hook fails the build with its status" {
    hook post-build 10-bad 'exit 7'
    logging_hook post-build 20-never
    run --separate-stderr "$CCWRAP" build -- true
    assert_failure 7
    assert_regex "$stderr" 'ccwrap: hooks.d/post-build/10-bad failed: status 7 in'
    assert_equal "$(cat "$LOG")" ""
}

@test "--from-cache with no archive to restore is a full build: pre-build, command, post-build" {
    # The restore itself is tests/cache.bats'; here the store has nothing (§10).
    export CCWRAP_CACHE=$BATS_TEST_TMPDIR/empty-store
    logging_hook pre-build 10-pre
    logging_hook post-build 10-post
    export CC_POST_BUILD_HOOK='echo var-post >>"$LOG"'
    run --separate-stderr "$CCWRAP" build --from-cache -- sh -c 'echo command >>"$LOG"'
    assert_success
    assert_equal "$(cat "$LOG")" "pre-build/10-pre
command
var-post
post-build/10-post"
}

@test "the command's output and exit status are exactly its own" {
    run --separate-stderr "$CCWRAP" -q build -- sh -c 'echo out; echo err >&2; exit 5'
    assert_failure 5
    assert_output "out"
    assert_equal "$stderr" "err"
}

@test "hook output is not copied: stdout and stderr keep their interleaving" {
    hook pre-build 10-talk 'echo one; echo two >&2; echo three; echo four >&2'
    "$CCWRAP" -q build -- true >"$BATS_TEST_TMPDIR/both" 2>&1
    assert_equal "$(cat "$BATS_TEST_TMPDIR/both")" "one
two
three
four"
}

@test "a command that is not found exits 127, one that cannot be executed 126" {
    run -127 --separate-stderr "$CCWRAP" build -- no-such-command-xyz
    assert_failure 127
    assert_equal "$stderr" "ccwrap: no-such-command-xyz: command not found"
    printf 'data\n' >notexec
    run --separate-stderr "$CCWRAP" build -- ./notexec
    assert_failure 126
    assert_equal "$stderr" "ccwrap: ./notexec: Permission denied"
}

@test "hooks get CCWRAP_PHASE, CCWRAP_HOOK, APP_HOME, stdin /dev/null and a group of their own" {
    hook pre-build 10-env 'echo "$CCWRAP_PHASE $CCWRAP_HOOK $APP_HOME $(readlink /proc/self/fd/0)" >>"$LOG"; [ "$(ps -o pgid= -p $$ | tr -d " ")" = "$$" ] && echo own-group >>"$LOG"'
    hook post-build 10-env 'echo "$CCWRAP_PHASE $CCWRAP_HOOK" >>"$LOG"'
    run "$CCWRAP" -q build -- true </dev/zero
    assert_success
    assert_equal "$(cat "$LOG")" "build pre-build $APP /dev/null
own-group
build post-build"
}

@test "a hook variable naming a file under the root runs that file, with arguments" {
    mkdir -p clevercloud bin
    printf '#!/bin/sh\necho "pre.sh $*" >>"$LOG"\n' >clevercloud/pre.sh
    printf '#!/bin/sh\necho "ccbuild.sh $*" >>"$LOG"\n' >ccbuild.sh
    printf '#!/bin/sh\necho "robo $*" >>"$LOG"\n' >bin/robo
    chmod +x clevercloud/pre.sh ccbuild.sh bin/robo
    CC_PRE_BUILD_HOOK='clevercloud/pre.sh a b' run "$CCWRAP" -q build -- true
    assert_success
    CC_PRE_BUILD_HOOK='ccbuild.sh' run --separate-stderr "$CCWRAP" build -- true
    assert_success
    assert_equal "${stderr_lines[0]}" "ccwrap: Running CC_PRE_BUILD_HOOK: ccbuild.sh"
    CC_PRE_BUILD_HOOK='./bin/robo build' run "$CCWRAP" -q build -- true
    assert_success
    CC_PRE_BUILD_HOOK='echo from-path >>"$LOG"' run "$CCWRAP" -q build -- true
    assert_success
    assert_equal "$(cat "$LOG")" "pre.sh a b
ccbuild.sh 
robo build
from-path"
}

@test "a hook variable naming a missing or non-executable file fails with the path and the fix" {
    CC_PRE_BUILD_HOOK='clevercloud/missing.sh arg' run -127 --separate-stderr "$CCWRAP" build -- true
    assert_failure 127
    assert_equal "$stderr" "ccwrap: CC_PRE_BUILD_HOOK: clevercloud/missing.sh: no such file; fix the path in CC_PRE_BUILD_HOOK"
    printf '#!/bin/sh\nexit 0\n' >ccbuild.sh
    chmod 644 ccbuild.sh
    CC_PRE_BUILD_HOOK='ccbuild.sh' run --separate-stderr "$CCWRAP" build -- true
    assert_failure 126
    assert_equal "$stderr" "ccwrap: CC_PRE_BUILD_HOOK: ccbuild.sh is not executable; chmod +x ccbuild.sh"
}

@test "a hook variable naming a folder runs the folder's entries like drop-ins" {
    mkdir -p clevercloud/pre.d
    printf '#!/bin/sh\necho b >>"$LOG"\n' >clevercloud/pre.d/20-b
    printf '#!/bin/sh\necho a >>"$LOG"\n' >clevercloud/pre.d/10-a
    touch clevercloud/pre.d/README.md
    chmod +x clevercloud/pre.d/20-b clevercloud/pre.d/10-a
    CC_PRE_BUILD_HOOK='clevercloud/pre.d' run --separate-stderr "$CCWRAP" build -- true
    assert_success
    assert_equal "$(cat "$LOG")" "a
b"
    assert_equal "${stderr_lines[0]}" "ccwrap: Running clevercloud/pre.d/10-a"
}

@test "empty or blank hook variables mean no hook" {
    CC_PRE_BUILD_HOOK='' CC_POST_BUILD_HOOK='  	' run --separate-stderr "$CCWRAP" build -- true
    assert_success
    assert_equal "$stderr" ""
}

@test "the configured shell runs variable hooks" {
    printf 'shell = "/bin/bash"\n' >ccwrap.conf
    CC_PRE_BUILD_HOOK='echo "bash ${BASH_VERSINFO[0]}" >>"$LOG"' run "$CCWRAP" -q build -- true
    assert_success
    assert_regex "$(cat "$LOG")" '^bash [0-9]+$'
}

@test "a command killed by a signal kills ccwrap with that signal, without a core dump" {
    ulimit -c unlimited
    run perl -e 'system(@ARGV); printf "signal=%d core=%d\n", $? & 127, ($? & 128) ? 1 : 0' \
        "$CCWRAP" -q build -- sh -c 'kill -TERM $$'
    assert_output "signal=15 core=0"
    run perl -e 'system(@ARGV); printf "signal=%d core=%d\n", $? & 127, ($? & 128) ? 1 : 0' \
        "$CCWRAP" -q build -- sh -c 'kill -QUIT $$'
    assert_output "signal=3 core=0"
}

@test "a hook killed by a signal that ccwrap did not receive fails with 128+S" {
    hook pre-build 10-suicide 'kill -KILL $$'
    run --separate-stderr "$CCWRAP" build -- true
    assert_failure 137
    assert_regex "$stderr" 'ccwrap: hooks.d/pre-build/10-suicide failed: killed by signal KILL in'
}

@test "hook_timeout: SIGTERM to the whole group, SIGKILL after kill_grace, status 124, nothing left" {
    printf 'hook_timeout = 1\nkill_grace = 1\n' >ccwrap.conf
    marker="ccwrap-timeout-$$-$RANDOM"
    hook pre-build 10-stuck "trap '' TERM; sh -c 'trap \"\" TERM; exec sleep 30 $marker' & sleep 30; wait"
    start=$(date +%s)
    run --separate-stderr "$CCWRAP" build -- sh -c 'echo command >>"$LOG"'
    assert_failure 124
    assert_regex "$stderr" 'ccwrap: hooks.d/pre-build/10-stuck timed out after [0-9.]+ s: status 124'
    [ $(($(date +%s) - start)) -lt 10 ]
    run pgrep -f "$marker"
    assert_failure 1
    assert_equal "$(cat "$LOG")" ""
}

@test "hook_timeout: a hook that obeys SIGTERM ends at once with 124" {
    printf 'hook_timeout = 1\nkill_grace = 10\n' >ccwrap.conf
    hook pre-build 10-slow 'exec sleep 30'
    start=$(date +%s)
    run --separate-stderr "$CCWRAP" build -- true
    assert_failure 124
    [ $(($(date +%s) - start)) -lt 5 ]
}

@test "-q keeps only errors; -v and CC_TROUBLESHOOT=true add detail" {
    hook pre-build 10-ok 'true'
    touch hooks.d/pre-build/20-skip.bak
    run --separate-stderr "$CCWRAP" -q build -- true
    assert_equal "$stderr" ""
    CC_PRE_BUILD_HOOK='exit 2' run --separate-stderr "$CCWRAP" -q build -- true
    assert_failure 2
    assert_regex "$stderr" '^ccwrap: CC_PRE_BUILD_HOOK failed: status 2 in [0-9.]+ s$'
    run --separate-stderr "$CCWRAP" -v build -- true
    assert_regex "$stderr" "ccwrap: hooks.d/pre-build/20-skip.bak: skipped: name ends in '.bak'"
    CC_TROUBLESHOOT=true run --separate-stderr "$CCWRAP" build -- true
    assert_regex "$stderr" "ccwrap: hooks.d/pre-build/20-skip.bak: skipped: name ends in '.bak'"
}

@test "ccwrap hook POINT runs that point's hooks and nothing else" {
    logging_hook pre-run 10-a
    logging_hook pre-build 10-b
    run --separate-stderr "$CCWRAP" hook pre-run
    assert_success
    assert_equal "$(cat "$LOG")" "pre-run/10-a"
    run --separate-stderr "$CCWRAP" hook post-deploy
    assert_failure 125
    assert_equal "$stderr" "ccwrap: unknown hook point 'post-deploy': pre-build, post-build, pre-run, run-succeeded or run-failed; see 'ccwrap --help'"
}

