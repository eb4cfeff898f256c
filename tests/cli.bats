#!/usr/bin/env bats
# cli.bats — the command line (doc/design.md §1): usage errors' exact line and status 125,
# --help, -h and --version, unknown subcommands, where options end (`--`, the first word), an
# explicit COMMAND found in PATH and run without a shell, and which folder is the root.
# Design: doc/design.md §1 (command line).

load test_helper

setup() {
    common_setup
}

@test "without COMMAND, build runs CC_BUILD_COMMAND through the shell from the root" {
    mkdir -p "$BATS_TEST_TMPDIR/elsewhere"
    cd "$BATS_TEST_TMPDIR/elsewhere"
    export CC_BUILD_COMMAND='echo "built in $PWD" >>"$LOG" && exit 4'
    run --separate-stderr "$CCWRAP" --root "$APP" build
    assert_failure 4
    assert_equal "$(cat "$LOG")" "built in $APP"
}

@test "neither COMMAND nor CC_BUILD_COMMAND is a usage error, status 125" {
    export CC_BUILD_COMMAND='   '
    run --separate-stderr "$CCWRAP" build
    assert_failure 125
    assert_equal "$stderr" "ccwrap: CC_BUILD_COMMAND: no COMMAND given and the variable is empty; see 'ccwrap --help'"
}

@test "option parsing stops at the first word and at --" {
    run --separate-stderr "$CCWRAP" -q build sh -c 'echo "$0 $1"' -x --from-cache
    assert_success
    assert_output "-x --from-cache"
    run -127 --separate-stderr "$CCWRAP" -q build -- -v
    assert_failure 127
    assert_equal "$stderr" "ccwrap: -v: command not found"
}

@test "the command runs in ccwrap's working folder, hooks in the root; APP_HOME is exported" {
    mkdir -p "$BATS_TEST_TMPDIR/cwd"
    cd "$BATS_TEST_TMPDIR/cwd"
    hook pre-build 10-where 'echo "hook $PWD $APP_HOME" >>"$LOG"'
    run --separate-stderr "$CCWRAP" -C "$APP" build -- sh -c 'echo "command $PWD $APP_HOME" >>"$LOG"'
    assert_success
    assert_equal "$(cat "$LOG")" "hook $APP $APP
command $BATS_TEST_TMPDIR/cwd $APP"
}

@test "the root is --root, else APP_HOME, else the working folder" {
    mkdir -p "$BATS_TEST_TMPDIR/other/hooks.d/pre-build"
    printf '#!/bin/sh\necho other >>"$LOG"\n' >"$BATS_TEST_TMPDIR/other/hooks.d/pre-build/10-x"
    chmod +x "$BATS_TEST_TMPDIR/other/hooks.d/pre-build/10-x"
    logging_hook pre-build 10-app
    APP_HOME="$BATS_TEST_TMPDIR/other" run "$CCWRAP" -q build -- true
    assert_success
    APP_HOME="$BATS_TEST_TMPDIR/other" run "$CCWRAP" -q -C "$APP" build -- true
    assert_success
    run "$CCWRAP" -q build -- true
    assert_equal "$(cat "$LOG")" "other
pre-build/10-app
pre-build/10-app"
    run --separate-stderr "$CCWRAP" -C "$BATS_TEST_TMPDIR/none" build -- true
    assert_failure 125
    assert_equal "$stderr" "ccwrap: $BATS_TEST_TMPDIR/none: the application root is not a folder; fix --root"
}

@test "usage errors exit 125 with one line; --help and --version exit 0" {
    run --separate-stderr "$CCWRAP" --frobnicate build -- true
    assert_failure 125
    assert_equal "$stderr" "ccwrap: unknown option '--frobnicate'; see 'ccwrap --help'"
    run --separate-stderr "$CCWRAP"
    assert_failure 125
    assert_equal "$stderr" "ccwrap: no subcommand; see 'ccwrap --help'"
    run --separate-stderr "$CCWRAP" build --ready tcp -- true
    assert_failure 125
    assert_equal "$stderr" "ccwrap: --ready goes with run; see 'ccwrap --help'"
    run --separate-stderr "$CCWRAP" -C
    assert_failure 125
    assert_equal "$stderr" "ccwrap: option '-C' needs a value; see 'ccwrap --help'"
    run "$CCWRAP" --help
    assert_success
    assert_line --index 0 --regexp '^usage: ccwrap \[GLOBAL\] build'
    run "$CCWRAP" --version
    assert_success
    assert_output --regexp '^ccwrap [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "--help and -h: the usage on stdout, nothing on stderr, status 0, wherever they stand" {
    run --separate-stderr "$CCWRAP" --help
    assert_success
    assert_equal "$stderr" ""
    local usage=$output
    for sub in build run hook plan check migrate; do
        assert_line --regexp "^(usage:|      ) ccwrap \[GLOBAL\] $sub( |$)"
    done
    for opt in '-C, --root DIR' '-c, --config FILE' '-q, --quiet' '-v, --verbose' '--events FILE'; do
        assert_output --partial "$opt"
    done
    for args in "-h" "-q --help" "build --help" "hook --help" "--help bogus"; do
        echo "# case: ccwrap $args"
        # shellcheck disable=SC2086 # the words of the case
        run --separate-stderr "$CCWRAP" $args
        assert_success
        assert_equal "$stderr" ""
        assert_equal "$output" "$usage"
    done
}

@test "--version: one line on stdout, the version the sources carry, status 0" {
    local version
    version=$(sed -n 's/^#define CCWRAP_VERSION "\(.*\)"$/\1/p' "$TOP"/wrapper/*.h)
    [ -n "$version" ]
    run --separate-stderr "$CCWRAP" --version
    assert_success
    assert_equal "$stderr" ""
    assert_output "ccwrap $version"
}

# usage_error MESSAGE ARGS...: ccwrap ARGS exits 125 with "ccwrap: MESSAGE; see 'ccwrap --help'"
# alone on stderr and nothing on stdout.
usage_error() {
    local want=$1
    shift
    run --separate-stderr "$CCWRAP" "$@"
    assert_failure 125
    assert_equal "$stderr" "ccwrap: $want; see 'ccwrap --help'"
    assert_equal "$output" ""
}

@test "an unknown subcommand or option: the exact line, 125, nothing on stdout, nothing runs" {
    logging_hook pre-build 10-ran
    usage_error "unknown subcommand 'bogus'" bogus
    usage_error "unknown subcommand 'BUILD'" BUILD -- true
    usage_error "unknown subcommand 'build-'" build- -- true
    usage_error "unknown option '--bogus'" --bogus build -- true
    usage_error "unknown option '--bogus'" --bogus --help
    usage_error "unknown option '-x'" build -x -- true
    assert_equal "$(cat "$LOG")" ""
}

@test "an explicit COMMAND is found in PATH and run without a shell" {
    mkdir -p "$BATS_TEST_TMPDIR/bin"
    printf '#!/bin/sh\nprintf "[%%s]" "$@"\n' >"$BATS_TEST_TMPDIR/bin/show-args"
    chmod 755 "$BATS_TEST_TMPDIR/bin/show-args"
    PATH=$BATS_TEST_TMPDIR/bin:$PATH run --separate-stderr "$CCWRAP" -q build show-args 'a b' '$HOME' '*' ';'
    assert_success
    assert_output '[a b][$HOME][*][;]'
    run -127 --separate-stderr "$CCWRAP" -q build -- 'echo hi; false'
    assert_failure 127
    assert_equal "$stderr" "ccwrap: echo hi; false: command not found"
    assert_equal "$output" ""
}

@test "-- ends ccwrap's options: what follows, a second -- and option words included, is the command's" {
    run --separate-stderr "$CCWRAP" -q run --ready none -- sh -c 'printf "[%s]" "$@"' x -- --ready tcp -q
    assert_success
    assert_output '[--][--ready][tcp][-q]'
    run --separate-stderr "$CCWRAP" -q build -- sh -c 'printf "[%s]" "$@"' x -- --from-cache
    assert_success
    assert_output '[--][--from-cache]'
}

@test "ccwrap run ls -la runs ls -la: the first word that is not an option ends the options" {
    touch "$APP/a-file"
    run --separate-stderr "$CCWRAP" -q run --ready none ls -la "$APP"
    assert_success
    assert_equal "$stderr" ""
    assert_output "$(ls -la "$APP")"
}
