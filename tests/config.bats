#!/usr/bin/env bats
# The configuration file (§8): where it is found, what each option does, precedence,
# and errors that name FILE:LINE and exit 125.
# Design: doc/design.md §8 (configuration).

load test_helper

setup() {
    common_setup
}

# config_fails TEXT MESSAGE: ccwrap.conf holding TEXT stops ccwrap with 125 and MESSAGE, and
# no hook runs.
config_fails() {
    printf '%s\n' "$1" >ccwrap.conf
    logging_hook pre-build 10-never
    run --separate-stderr "$CCWRAP" hook pre-build
    assert_failure 125
    assert_output ""
    assert_equal "$stderr" "$2"
    assert_equal "$(cat "$LOG")" ""
}

# log_dropin FOLDER NAME: an executable FOLDER/NAME (relative to the root, or absolute) that
# appends "FOLDER/NAME" to $LOG.
log_dropin() {
    mkdir -p "$1"
    printf '#!/bin/sh\necho "%s/%s" >>"$LOG"\n' "$1" "$2" >"$1/$2"
    chmod 755 "$1/$2"
}

# Three configurations, each naming its own drop-in folder, so which one was read shows.
three_configs() {
    mkdir -p conf
    for name in given env root; do log_dropin "$name.d/pre-build" 10-hook; done
    printf 'hooks_dirs = {"given.d"}\n' >conf/given.conf
    printf 'hooks_dirs = {"env.d"}\n' >conf/env.conf
    printf 'hooks_dirs = {"root.d"}\n' >ccwrap.conf
}

@test "conf/ccwrap.conf parses cleanly and holds every option of §8 at its default, and legacy_misplaced" {
    run --separate-stderr "$CCWRAP" -c "$TOP/conf/ccwrap.conf" hook pre-build
    assert_success
    assert_output ""
    assert_equal "$stderr" ""
    run grep -v -e '^#' -e '^$' "$TOP/conf/ccwrap.conf"
    assert_output 'shell = "/bin/sh"
hooks_dirs = {"hooks.d"}
hook_timeout = 0
kill_grace = 10
legacy_post_deploy = "run"
legacy_misplaced = "skip"
ready = "tcp"
ready_timeout = 60
on_ready_timeout = "stop"
leftovers = "stop"
exec_in_place = true
trusted_users = {}
trust_expansions = false
cache = ""
cache_key = ""
cache_keep = 2
cache_max_bytes = 64G
cache_max_entries = 10000000
cache_sign_key = ""
cache_verify_key = ""
env_files = {}'
    # One comment line right above each option.
    run awk '!/^#/ && !/^$/ { if (prev !~ /^# ./) print "no comment above: " $0 } { prev = $0 }' \
        "$TOP/conf/ccwrap.conf"
    assert_output ""
}

@test "no configuration file is fine: built-in defaults (/bin/sh, hooks.d)" {
    logging_hook pre-build 10-default
    CC_PRE_BUILD_HOOK='echo "shell $0" >>"$LOG"' run --separate-stderr "$CCWRAP" -q hook pre-build
    assert_success
    assert_equal "$stderr" ""
    assert_equal "$(cat "$LOG")" "shell /bin/sh
pre-build/10-default"
}

@test "lookup order: --config FILE, then \$CCWRAP_CONFIG, then ROOT/ccwrap.conf" {
    three_configs
    CCWRAP_CONFIG=conf/env.conf run "$CCWRAP" -q --config conf/given.conf hook pre-build
    assert_success
    CCWRAP_CONFIG=conf/env.conf run "$CCWRAP" -q -c conf/given.conf hook pre-build
    assert_success
    CCWRAP_CONFIG=conf/env.conf run "$CCWRAP" -q hook pre-build
    assert_success
    CCWRAP_CONFIG='' run "$CCWRAP" -q hook pre-build
    assert_success
    run "$CCWRAP" -q hook pre-build
    assert_success
    assert_equal "$(cat "$LOG")" "given.d/pre-build/10-hook
given.d/pre-build/10-hook
env.d/pre-build/10-hook
root.d/pre-build/10-hook
root.d/pre-build/10-hook"
}

@test "ROOT/ccwrap.conf is the root's, not the working folder's" {
    three_configs
    mkdir -p "$BATS_TEST_TMPDIR/cwd"
    printf 'bogus = 1\n' >"$BATS_TEST_TMPDIR/cwd/ccwrap.conf"
    cd "$BATS_TEST_TMPDIR/cwd"
    run "$CCWRAP" -q -C "$APP" hook pre-build
    assert_success
    APP_HOME=$APP run "$CCWRAP" -q hook pre-build
    assert_success
    assert_equal "$(cat "$LOG")" "root.d/pre-build/10-hook
root.d/pre-build/10-hook"
}

@test "the sysconfdir configuration is read last" {
    skip "needs an installed ccwrap: \$(sysconfdir)/ccwrap/ccwrap.conf is outside the test's folder"
}

@test "a file named with --config or CCWRAP_CONFIG must exist: 125, named as given" {
    logging_hook pre-build 10-never
    run --separate-stderr "$CCWRAP" --config missing.conf hook pre-build
    assert_failure 125
    assert_equal "$stderr" "ccwrap: missing.conf: no such configuration file; fix --config"
    CCWRAP_CONFIG=$BATS_TEST_TMPDIR/gone.conf run --separate-stderr "$CCWRAP" hook pre-build
    assert_failure 125
    assert_equal "$stderr" "ccwrap: $BATS_TEST_TMPDIR/gone.conf: no such configuration file; fix CCWRAP_CONFIG"
    assert_equal "$(cat "$LOG")" ""
}

@test "a folder given as the configuration file: 125" {
    mkdir -p conf.d
    run --separate-stderr "$CCWRAP" -c conf.d hook pre-build
    assert_failure 125
    assert_equal "$stderr" "ccwrap: conf.d: is a folder; name the configuration file itself"
    mkdir ccwrap.conf
    run --separate-stderr "$CCWRAP" hook pre-build
    assert_failure 125
    assert_equal "$stderr" "ccwrap: ccwrap.conf: is a folder; name the configuration file itself"
}

@test "a ROOT/ccwrap.conf that is a broken symlink is an error, not ignored" {
    ln -s elsewhere.conf ccwrap.conf
    run --separate-stderr "$CCWRAP" hook pre-build
    assert_failure 125
    assert_equal "$stderr" "ccwrap: ccwrap.conf: cannot read the configuration: No such file or directory"
}

@test "errors name the file as the user knows it: ccwrap.conf, the root's path, or as given" {
    printf '\nbogus = 1\n' >ccwrap.conf
    local known="the options are shell, hooks_dirs, hook_timeout, kill_grace, legacy_post_deploy, legacy_misplaced, ready, ready_timeout, on_ready_timeout, leftovers, exec_in_place, trusted_users, trust_expansions, cache, cache_key, cache_keep, cache_max_bytes, cache_max_entries, cache_sign_key, cache_verify_key and env_files"
    run --separate-stderr "$CCWRAP" hook pre-build
    assert_failure 125
    assert_equal "$stderr" "ccwrap: ccwrap.conf:2: no such option 'bogus'; $known"
    mkdir -p "$BATS_TEST_TMPDIR/cwd"
    cd "$BATS_TEST_TMPDIR/cwd"
    run --separate-stderr "$CCWRAP" -C "$APP" hook pre-build
    assert_failure 125
    assert_equal "$stderr" "ccwrap: $APP/ccwrap.conf:2: no such option 'bogus'; $known"
    run --separate-stderr "$CCWRAP" -C ../app hook pre-build
    assert_failure 125
    assert_equal "$stderr" "ccwrap: $APP/ccwrap.conf:2: no such option 'bogus'; $known"
    run --separate-stderr "$CCWRAP" -c ../app/ccwrap.conf hook pre-build
    assert_failure 125
    assert_equal "$stderr" "ccwrap: ../app/ccwrap.conf:2: no such option 'bogus'; $known"
    CCWRAP_CONFIG=../app/./ccwrap.conf run --separate-stderr "$CCWRAP" hook pre-build
    assert_failure 125
    assert_equal "$stderr" "ccwrap: ../app/./ccwrap.conf:2: no such option 'bogus'; $known"
}

@test "shell: /bin/sh by default, the file's shell runs variable hooks" {
    printf 'shell = "/bin/bash"\n' >ccwrap.conf
    CC_PRE_BUILD_HOOK='echo "$0 ${BASH_VERSINFO[0]}" >>"$LOG"' run "$CCWRAP" -q hook pre-build
    assert_success
    assert_regex "$(cat "$LOG")" '^/bin/bash [0-9]+$'
}

@test "shell must be an absolute path" {
    config_fails 'shell = "bash"' "ccwrap: ccwrap.conf:1: shell must be an absolute path such as \"/bin/sh\", not 'bash'"
}

@test "hooks_dirs: folders relative to the root or absolute; trailing slashes are dropped" {
    printf 'hooks_dirs = {"ops/hooks/", "%s"}\n' "$BATS_TEST_TMPDIR/abs" >ccwrap.conf
    log_dropin ops/hooks/pre-build 10-ops
    log_dropin "$BATS_TEST_TMPDIR/abs/pre-build" 20-abs
    logging_hook pre-build 15-not-configured
    run --separate-stderr "$CCWRAP" hook pre-build
    assert_success
    assert_equal "${stderr_lines[0]}" "ccwrap: Running ops/hooks/pre-build/10-ops"
    assert_equal "$(cat "$LOG")" "ops/hooks/pre-build/10-ops
$BATS_TEST_TMPDIR/abs/pre-build/20-abs"
}

@test "hooks_dirs = {} turns drop-ins off; an empty folder name is an error" {
    printf 'hooks_dirs = {}\n' >ccwrap.conf
    logging_hook pre-build 10-off
    run --separate-stderr "$CCWRAP" hook pre-build
    assert_success
    assert_equal "$stderr" ""
    assert_equal "$(cat "$LOG")" ""
    config_fails 'hooks_dirs = {"hooks.d",
""}' "ccwrap: ccwrap.conf:2: hooks_dirs holds an empty folder name; remove it"
}

@test "hook_timeout = 1 makes a sleeping hook fail with 124" {
    printf 'hook_timeout = 1\nkill_grace = 1\n' >ccwrap.conf
    hook pre-build 10-sleep 'exec sleep 30.75'
    start=$(date +%s)
    run --separate-stderr "$CCWRAP" -q hook pre-build
    assert_failure 124
    assert_regex "$stderr" '^ccwrap: hooks.d/pre-build/10-sleep timed out after 1\.[0-9]{3} s: status 124$'
    [ $(($(date +%s) - start)) -lt 5 ]
    run pgrep -f 'sleep 30.75'
    assert_failure 1
}

@test "numbers: whole seconds within bounds, or FILE:LINE and 125" {
    config_fails '
hook_timeout = abc' "ccwrap: ccwrap.conf:2: hook_timeout must be a whole number of seconds from 0 to 86400, not 'abc'"
    config_fails 'hook_timeout = -1' "ccwrap: ccwrap.conf:1: hook_timeout must be a whole number of seconds from 0 to 86400, not '-1'"
    config_fails 'hook_timeout = 1.5' "ccwrap: ccwrap.conf:1: hook_timeout must be a whole number of seconds from 0 to 86400, not '1.5'"
    config_fails 'hook_timeout = 0x10' "ccwrap: ccwrap.conf:1: hook_timeout must be a whole number of seconds from 0 to 86400, not '0x10'"
    config_fails 'kill_grace = 3601' "ccwrap: ccwrap.conf:1: kill_grace must be a whole number of seconds from 0 to 3600, not '3601'"
    config_fails 'ready_timeout = 99999999999999999999' "ccwrap: ccwrap.conf:1: ready_timeout must be a whole number of seconds from 0 to 86400, not '99999999999999999999'"
    config_fails 'ready_timeout = ""' "ccwrap: ccwrap.conf:1: ready_timeout must be a whole number of seconds from 0 to 86400, not ''"
}

@test "enum words: legacy_post_deploy and on_ready_timeout accept theirs, reject others" {
    for word in run ignore fail; do
        printf 'legacy_post_deploy = "%s"\n' "$word" >ccwrap.conf
        run --separate-stderr "$CCWRAP" hook pre-build
        assert_success
        assert_equal "$stderr" ""
    done
    for word in stop keep; do
        printf 'on_ready_timeout = %s\n' "$word" >ccwrap.conf
        run --separate-stderr "$CCWRAP" hook pre-build
        assert_success
        assert_equal "$stderr" ""
    done
    config_fails 'legacy_post_deploy = "maybe"' "ccwrap: ccwrap.conf:1: legacy_post_deploy must be one of run, ignore, fail, not 'maybe'"
    config_fails 'on_ready_timeout = "x"' "ccwrap: ccwrap.conf:1: on_ready_timeout must be one of stop, keep, not 'x'"
    config_fails 'on_ready_timeout = "Keep"' "ccwrap: ccwrap.conf:1: on_ready_timeout must be one of stop, keep, not 'Keep'"
}

@test "ready: a bad spec is reported by run with the FILE:LINE where it was set" {
    printf '# readiness\n\nready = "bogus"\n' >ccwrap.conf
    run --separate-stderr "$CCWRAP" run -- sh -c 'echo app >>"$LOG"'
    assert_failure 125
    assert_regex "$stderr" "^ccwrap: ccwrap.conf:3: bad readiness spec 'bogus'"
    assert_equal "${#stderr_lines[@]}" 1
    assert_equal "$(cat "$LOG")" ""
}

@test "ready: command line > environment > file" {
    printf 'ready = "bogus"\n' >ccwrap.conf
    CCWRAP_READY=none run --separate-stderr "$CCWRAP" run -- sh -c 'echo env >>"$LOG"'
    assert_success
    assert_regex "${stderr_lines[0]}" '^ccwrap: Application ready \(none\)'
    CCWRAP_READY=bogus run --separate-stderr "$CCWRAP" run --ready none -- sh -c 'echo cli >>"$LOG"'
    assert_success
    assert_regex "${stderr_lines[0]}" '^ccwrap: Application ready \(none\)'
    assert_equal "$(cat "$LOG")" "env
cli"
}

@test "ready_timeout from the file bounds readiness: 124, the application stopped" {
    printf 'ready = "file:%s"\nready_timeout = 1\nkill_grace = 1\n' "$BATS_TEST_TMPDIR/never" >ccwrap.conf
    start=$(date +%s)
    run --separate-stderr "$CCWRAP" run -- sleep 31.25
    assert_failure 124
    assert_regex "$stderr" "ccwrap: application not ready after 1\\.000 s"
    [ $(($(date +%s) - start)) -lt 5 ]
    run pgrep -f 'sleep 31.25'
    assert_failure 1
}

@test "ready_timeout: --ready-timeout on the command line wins over the file" {
    printf 'ready = "file:%s"\nready_timeout = 60\nkill_grace = 1\n' "$BATS_TEST_TMPDIR/never" >ccwrap.conf
    start=$(date +%s)
    run --separate-stderr "$CCWRAP" run --ready-timeout 1 -- sleep 31.5
    assert_failure 124
    assert_regex "$stderr" "ccwrap: application not ready after 1\\.000 s"
    [ $(($(date +%s) - start)) -lt 5 ]
    run pgrep -f 'sleep 31.5'
    assert_failure 1
}

@test "an unclosed list, section, string or comment is an error with its line" {
    config_fails 'hook_timeout = 1
hooks_dirs = {"a"' "ccwrap: ccwrap.conf:2: this '{' is never closed; add its '}'"
    config_fails 'foo {' "ccwrap: ccwrap.conf:1: this '{' is never closed; add its '}'"
    config_fails '
foo {
  bar = 1' "ccwrap: ccwrap.conf:2: this '{' is never closed; add its '}'"
    config_fails 'shell = "/bin/sh
hook_timeout = 1' "ccwrap: ccwrap.conf:1: this string is never closed; add the closing \""
    config_fails "shell = '/bin/sh" "ccwrap: ccwrap.conf:1: this string is never closed; add the closing '"
    config_fails 'hook_timeout = 1
/* off for now
hook_timeout = 2' "ccwrap: ccwrap.conf:2: this comment is never closed; add */"
}

@test "a closed section is an unknown option: ccwrap has none" {
    config_fails 'foo { }' "ccwrap: ccwrap.conf:1: no such option 'foo'; the options are shell, hooks_dirs, hook_timeout, kill_grace, legacy_post_deploy, legacy_misplaced, ready, ready_timeout, on_ready_timeout, leftovers, exec_in_place, trusted_users, trust_expansions, cache, cache_key, cache_keep, cache_max_bytes, cache_max_entries, cache_sign_key, cache_verify_key and env_files"
    config_fails 'hook_timeout = 1
}' "ccwrap: ccwrap.conf:2: unexpected closing brace"
}

@test "line numbers stay right after comments of every kind" {
    config_fails '# one
// two
/* three
   four */ # five
hook_timeout = 1 # six
## seven
kill_grace = -2' "ccwrap: ccwrap.conf:7: kill_grace must be a whole number of seconds from 0 to 3600, not '-2'"
}

@test "\${UNSET_VAR} in a value is an error; set variables and \${VAR:-default} work" {
    config_fails 'shell = "${CCWRAP_TEST_UNSET}"' "ccwrap: ccwrap.conf:1: \${CCWRAP_TEST_UNSET} is not set; set it, or give a default with \${CCWRAP_TEST_UNSET:-value}"
    config_fails '
hooks_dirs = {${CCWRAP_TEST_UNSET}}' "ccwrap: ccwrap.conf:2: \${CCWRAP_TEST_UNSET} is not set; set it, or give a default with \${CCWRAP_TEST_UNSET:-value}"
    printf 'shell = "${CCWRAP_TEST_SHELL}"\nhooks_dirs = {"${CCWRAP_TEST_UNSET:-ops}"}\n' >ccwrap.conf
    printf '# ${CCWRAP_TEST_UNSET} in a comment is no error\n' >>ccwrap.conf
    log_dropin ops/pre-build 10-ops
    CCWRAP_TEST_SHELL=/bin/bash CC_PRE_BUILD_HOOK='echo "$0" >>"$LOG"' \
        run --separate-stderr "$CCWRAP" -q hook pre-build
    assert_success
    assert_equal "$stderr" ""
    assert_equal "$(cat "$LOG")" "/bin/bash
ops/pre-build/10-ops"
}

@test "an unknown option, a NUL byte: 125 with the file" {
    config_fails 'hook_timout = 5' "ccwrap: ccwrap.conf:1: no such option 'hook_timout'; the options are shell, hooks_dirs, hook_timeout, kill_grace, legacy_post_deploy, legacy_misplaced, ready, ready_timeout, on_ready_timeout, leftovers, exec_in_place, trusted_users, trust_expansions, cache, cache_key, cache_keep, cache_max_bytes, cache_max_entries, cache_sign_key, cache_verify_key and env_files"
    printf 'shell = "/bin/sh"\0\n' >ccwrap.conf
    run --separate-stderr "$CCWRAP" hook pre-build
    assert_failure 125
    assert_equal "$stderr" "ccwrap: ccwrap.conf: holds a NUL byte; is it the configuration file?"
}
