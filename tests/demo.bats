#!/usr/bin/env bats
# `make demo`'s script, contrib/demo/run (issue 13): all five hook points in order, run-failed
# included; bold headings on a terminal only, never with NO_COLOR set; and `make demo` asks
# install-deps for the build set only.
# Design: doc/design.md §2 (the five hook points in order), shown by contrib/demo/run.

load test_helper

setup() {
    common_setup
    export TMPDIR=$BATS_TEST_TMPDIR
    DEMO_PORT=$(free_port)
    export DEMO_PORT DEMO_CCWRAP=$CCWRAP
}

teardown() {
    kill_background
}

ESC=$'\033'

@test "the demo goes through all five hook points, in order, and ends with status 0" {
    run timeout 60 "$TOP/contrib/demo/run" 3>&-
    assert_success
    # Every hook, in the order they ran.
    run grep -o -E '^ccwrap: Running [^ :]+' <<<"$output"
    assert_output "ccwrap: Running CC_PRE_BUILD_HOOK
ccwrap: Running hooks.d/pre-build/10-announce
ccwrap: Running hooks.d/post-build/10-report
ccwrap: Running hooks.d/pre-run/10-set-greeting
ccwrap: Running CC_RUN_SUCCEEDED_HOOK
ccwrap: Running hooks.d/run-succeeded/10-smoke-test
ccwrap: Running hooks.d/pre-run/10-set-greeting
ccwrap: Running hooks.d/run-failed/10-report"
}

@test "the demo's run-succeeded hook talks to the application; its run-failed hook sees status 3" {
    run timeout 60 "$TOP/contrib/demo/run" 3>&-
    assert_success
    assert_line "hooks.d/run-succeeded/10-smoke-test: the application answered: hello, set by hooks.d/pre-run/10-set-greeting"
    assert_line "demo-app: SIGTERM received, stopping cleanly"
    assert_line "== ccwrap run exited with status 0"
    assert_line "hooks.d/run-failed/10-report: result=exit-code code=exited status=3"
    assert_line "== ccwrap run exited with status 3, the command's own; the demo is over"
}

@test "not on a terminal: no escape sequence at all" {
    run timeout 60 "$TOP/contrib/demo/run" 3>&-
    assert_success
    refute_output --partial "$ESC"
    assert_line --regexp '^== ccwrap build -- cc'
}

@test "on a terminal: bold headings; NO_COLOR set (to anything but empty) turns them off" {
    in_pty "timeout 60 '$TOP/contrib/demo/run'"
    assert_success
    assert_line "${ESC}[1m== ccwrap run exited with status 0${ESC}[0m"
    in_pty "NO_COLOR=1 timeout 60 '$TOP/contrib/demo/run'"
    assert_success
    refute_output --partial "$ESC"
    assert_line "== ccwrap run exited with status 0"
    # An empty NO_COLOR is unset, by no-color.org's rule.
    in_pty "NO_COLOR= timeout 60 '$TOP/contrib/demo/run'"
    assert_success
    assert_line "${ESC}[1m== ccwrap run exited with status 0${ESC}[0m"
}

@test "make demo asks contrib/install-deps for the build set only" {
    run make -C "$TOP" -n demo
    assert_success
    assert_line "contrib/install-deps build"
    refute_line "contrib/install-deps check"
}

# in_pty COMMAND: runs the shell command COMMAND on a pseudo-terminal; $output and $lines
# without the terminal's \r.
in_pty() {
    run script -qec "$1" /dev/null </dev/null 3>&-
    output=${output//$'\r'/}
    mapfile -t lines <<<"$output"
}
