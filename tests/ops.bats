#!/usr/bin/env bats
# The operator commands (§9): plan, check and the event log; and what ships around
# ccwrap (issue 5): the bash completion, make install, the man page and make demo.
# Design: doc/design.md §9 (operator commands); and what ships: completion, make install,
# the man page, make demo.

load test_helper

setup() {
    common_setup
    # CCWRAP_ENV files, the demo's work folder: everything under the test's own folder.
    export TMPDIR=$BATS_TEST_TMPDIR
}

teardown() {
    kill_background
}

# exe PATH BODY: an executable sh script at PATH (relative to the application root or absolute).
exe() {
    mkdir -p "$(dirname "$1")"
    printf '#!/bin/sh\n%s\n' "$2" >"$1"
    chmod 755 "$1"
}

# plan_row NUM SOURCE HOW: one hook line of plan, its source padded to $WIDTH.
plan_row() {
    printf '    %3s  %-*s  %s' "$1" "$WIDTH" "$2" "$3"
}

# exited PID: the process is gone or a zombie (kill -0 succeeds on a zombie).
exited() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    stat=${stat##*) }
    [ "${stat%% *}" = Z ]
}

# in_pty COMMAND: runs the shell command COMMAND on a pseudo-terminal; $output and $lines
# without the terminal's \r.
in_pty() {
    run script -qec "$1" /dev/null </dev/null 3>&-
    output=${output//$'\r'/}
    mapfile -t lines <<<"$output"
}

# ---------------------------------------------------------------------------------------
# plan

@test "plan: every point in execution order, each hook with its source and how it runs" {
    exe hooks.d/pre-build/10-deps true
    exe hooks.d/post-build/10-assets true
    exe hooks.d/pre-run/10-migrate true
    exe hooks.d/pre-run/20-warm true
    exe hooks.d/run-succeeded/10-smoke true
    exe hooks.d/run-failed/10-report true
    exe ccbuild.sh true
    exe notify.sh true
    mkdir clevercloud
    echo '{"hooks": {"postDeploy": "./notify.sh deployed"}}' >clevercloud/php.json
    export CC_PRE_BUILD_HOOK="echo 'it''s'"
    export CC_POST_BUILD_HOOK='ccbuild.sh --fast'
    export CC_RUN_FAILED_HOOK='echo failed >&2'
    export CC_BUILD_COMMAND='make all'
    run --separate-stderr "$CCWRAP" plan
    assert_success
    assert_equal "$stderr" ""
    assert_output - <<'EOF'
build
  pre-build
      1  CC_PRE_BUILD_HOOK                      /bin/sh -c 'echo '\''it'\'''\''s'\'''
      2  hooks.d/pre-build/10-deps              exec hooks.d/pre-build/10-deps
  command                                       COMMAND if given, else CC_BUILD_COMMAND: /bin/sh -c 'exec make all'
  post-build
      1  CC_POST_BUILD_HOOK                     /bin/sh -c './ccbuild.sh --fast'
      2  hooks.d/post-build/10-assets           exec hooks.d/post-build/10-assets
  cache archive                                 none: CC_DISABLE_BUILD_CACHE_UPLOAD=true
  environment                                   set by ccwrap: APP_HOME (the root), INSTANCE_TYPE=build, INSTANCE_NUMBER=0, INSTANCE_ID (a new UUID), PORT=8080
run
  pre-run
      1  hooks.d/pre-run/10-migrate             exec hooks.d/pre-run/10-migrate
      2  hooks.d/pre-run/20-warm                exec hooks.d/pre-run/20-warm
  application                                   COMMAND as given to ccwrap (CC_RUN_COMMAND is not set)
  readiness                                     a connection to 0.0.0.0:8080 is accepted (tcp, from default); timeout 60 s, then stop
  run-succeeded
      1  hooks.d/run-succeeded/10-smoke         exec hooks.d/run-succeeded/10-smoke
      2  clevercloud/php.json hooks.postDeploy  /bin/sh -c './notify.sh deployed'  (deprecated: ccwrap migrate)
  run-failed
      1  CC_RUN_FAILED_HOOK                     /bin/sh -c 'echo failed >&2'
      2  hooks.d/run-failed/10-report           exec hooks.d/run-failed/10-report
  environment                                   set by ccwrap: APP_HOME (the root), INSTANCE_TYPE=production, INSTANCE_NUMBER=0, INSTANCE_ID (a new UUID), PORT=8080
EOF
}

@test "plan build and plan run show one phase each; a point without hooks says (no hooks)" {
    run --separate-stderr "$CCWRAP" plan build
    assert_success
    assert_output - <<'EOF'
build
  pre-build
    (no hooks)
  command                          COMMAND as given to ccwrap (CC_BUILD_COMMAND is not set)
  post-build
    (no hooks)
  cache archive                    none: CC_DISABLE_BUILD_CACHE_UPLOAD=true
  environment                      set by ccwrap: APP_HOME (the root), INSTANCE_TYPE=build, INSTANCE_NUMBER=0, INSTANCE_ID (a new UUID), PORT=8080
EOF
    export CC_RUN_COMMAND="exec ./server --name 'web'"
    run --separate-stderr "$CCWRAP" plan run
    assert_success
    assert_output - <<'EOF'
run
  pre-run
    (no hooks)
  application                      COMMAND if given, else CC_RUN_COMMAND: /bin/sh -c 'exec ./server --name '\''web'\'''
  readiness                        a connection to 0.0.0.0:8080 is accepted (tcp, from default); timeout 60 s, then stop
  run-succeeded
    (no hooks)
  run-failed
    (no hooks)
  environment                      set by ccwrap: APP_HOME (the root), INSTANCE_TYPE=production, INSTANCE_NUMBER=0, INSTANCE_ID (a new UUID), PORT=8080
EOF
}

@test "plan shows skipped, masked and broken drop-ins with the reason, in name order" {
    exe hooks.d/pre-build/10-x true
    exe hooks.d/pre-build/20-y.bak true
    exe hooks.d/pre-build/.hidden true
    mkdir hooks.d/pre-build/30-sub
    ln -s /dev/null hooks.d/pre-build/40-masked
    ln -s nowhere hooks.d/pre-build/50-dangling
    printf 'true\n' >hooks.d/pre-build/60-plain
    exe hooks.d/pre-build/70-open true
    chmod 757 hooks.d/pre-build/70-open
    exe hooks.d/pre-build/80-ok~ true
    exe hooks.d/pre-build/README.md true
    run --separate-stderr "$CCWRAP" plan build
    assert_success
    assert_equal "$stderr" ""
    assert_output - <<'EOF'
build
  pre-build
      -  hooks.d/pre-build/.hidden      skipped: hidden name (starts with '.')
      1  hooks.d/pre-build/10-x         exec hooks.d/pre-build/10-x
      -  hooks.d/pre-build/20-y.bak     skipped: name ends in '.bak'
      -  hooks.d/pre-build/30-sub       skipped: a folder
      -  hooks.d/pre-build/40-masked    masked: a symlink to /dev/null
      2  hooks.d/pre-build/50-dangling  error: broken symlink to nowhere; fix the link, or remove it (fails with status 127)
      3  hooks.d/pre-build/60-plain     error: not executable; chmod +x hooks.d/pre-build/60-plain, or rename it to hooks.d/pre-build/60-plain.disabled (fails with status 126)
      4  hooks.d/pre-build/70-open      error: writable by group or others; chmod go-w hooks.d/pre-build/70-open (fails with status 126)
      -  hooks.d/pre-build/80-ok~       skipped: name ends in '~'
      -  hooks.d/pre-build/README.md    skipped: name ends in '.md'
  command                               COMMAND as given to ccwrap (CC_BUILD_COMMAND is not set)
  post-build
    (no hooks)
  cache archive                         none: CC_DISABLE_BUILD_CACHE_UPLOAD=true
  environment                           set by ccwrap: APP_HOME (the root), INSTANCE_TYPE=build, INSTANCE_NUMBER=0, INSTANCE_ID (a new UUID), PORT=8080
EOF
}

@test "plan: an absolute hooks_dirs folder from the config file replaces and masks by name" {
    shared=$BATS_TEST_TMPDIR/shared
    exe hooks.d/pre-run/10-a true
    exe "$shared/pre-run/10-a" true
    exe hooks.d/pre-run/20-b true
    ln -s /dev/null "$shared/pre-run/20-b"
    exe "$shared/pre-run/30-c" true
    ln -s /dev/null "$shared/pre-run/40-d"
    printf 'hooks_dirs = {"hooks.d", "%s"}\n' "$shared" >ccwrap.conf
    # Sources are padded to the longest one of at most 60 characters, and to at least 24.
    longest=$shared/pre-run/10-a
    WIDTH=${#longest}
    [ "$WIDTH" -le 60 ] && [ "$WIDTH" -ge 24 ] || WIDTH=24
    run --separate-stderr "$CCWRAP" plan run
    assert_success
    assert_equal "$stderr" ""
    assert_equal "${lines[0]}" "run"
    assert_equal "${lines[1]}" "  pre-run"
    assert_equal "${lines[2]}" "$(plan_row - hooks.d/pre-run/10-a "skipped: replaced by $shared/pre-run/10-a")"
    assert_equal "${lines[3]}" "$(plan_row 1 "$shared/pre-run/10-a" "exec $shared/pre-run/10-a")"
    assert_equal "${lines[4]}" "$(plan_row - hooks.d/pre-run/20-b "masked by $shared/pre-run/20-b, a symlink to /dev/null")"
    assert_equal "${lines[5]}" "$(plan_row 2 "$shared/pre-run/30-c" "exec $shared/pre-run/30-c")"
    assert_equal "${lines[6]}" "$(plan_row - "$shared/pre-run/40-d" "masked: a symlink to /dev/null")"
    assert_equal "${lines[7]}" "$(printf '  %-*s  %s' $((WIDTH + 7)) application \
        'COMMAND as given to ccwrap (CC_RUN_COMMAND is not set)')"
    assert_equal "${#lines[@]}" 14
}

@test "plan: the readiness line for the default, PORT, health paths, CCWRAP_READY, CC_TASK and the config" {
    run "$CCWRAP" plan run
    assert_success
    assert_line --index 4 "  readiness                        a connection to 0.0.0.0:8080 is accepted (tcp, from default); timeout 60 s, then stop"

    PORT=9000 run "$CCWRAP" plan run
    assert_line --index 4 "  readiness                        a connection to 0.0.0.0:9000 is accepted (tcp, from default); timeout 60 s, then stop"

    PORT=9000 CC_HEALTH_CHECK_PATH=/health run "$CCWRAP" plan run
    assert_line --index 4 "  readiness                        a connection to 0.0.0.0:9000 is accepted; and HTTP 200 on /health (tcp, from default); timeout 60 s, then stop"

    CCWRAP_READY=http://127.0.0.1:9000/ok run "$CCWRAP" plan run
    assert_line --index 4 "  readiness                        GET http://127.0.0.1:9000/ok answers 2xx or 3xx (http://127.0.0.1:9000/ok, from CCWRAP_READY); timeout 60 s, then stop"

    CCWRAP_READY=tcp:127.0.0.1:5000 run "$CCWRAP" plan run
    assert_line --index 4 "  readiness                        a connection to 127.0.0.1:5000 is accepted (tcp:127.0.0.1:5000, from CCWRAP_READY); timeout 60 s, then stop"

    CC_TASK=true run "$CCWRAP" plan run
    assert_line --index 4 "  readiness                        the application exits 0 (a one-shot task) (exit, from CC_TASK=true); timeout 60 s, then stop"

    # CCWRAP_READY wins over CC_TASK, as in the run phase.
    CC_TASK=true CCWRAP_READY=delay:2 run "$CCWRAP" plan run
    assert_line --index 4 "  readiness                        still running after 2.000 s (delay:2, from CCWRAP_READY); timeout 60 s, then stop"

    printf '# readiness\nready = "file:/tmp/ready"\nready_timeout = 5\non_ready_timeout = "keep"\n' >ccwrap.conf
    run "$CCWRAP" plan run
    assert_success
    assert_line --index 4 "  readiness                        /tmp/ready exists (file:/tmp/ready, from ccwrap.conf:2); timeout 5 s, then keep running"

    CCWRAP_READY=bogus run "$CCWRAP" plan run
    assert_success
    assert_line --index 4 "  readiness                        error: bad readiness spec 'bogus': unknown kind; use tcp, tcp:PORT, tcp:HOST:PORT, http://HOST:PORT/PATH, notify, file:PATH, delay:SECONDS, exit or none"
}

@test "plan and check run nothing: no hook, variable or postDeploy gets to create its file" {
    exe hooks.d/pre-build/10-touch 'touch "$APP_HOME/dropin-ran"'
    exe hooks.d/run-succeeded/10-touch 'touch "$APP_HOME/dropin-ran"'
    export CC_PRE_BUILD_HOOK='touch "$APP_HOME/var-ran"'
    export CC_PRE_RUN_HOOK='touch "$APP_HOME/var-ran"'
    export CC_BUILD_COMMAND='touch "$APP_HOME/command-ran"'
    mkdir clevercloud
    exe clevercloud/post-deploy 'touch "$APP_HOME/legacy-ran"'
    echo '{"hooks": {"postDeploy": "./clevercloud/post-deploy"}}' >clevercloud/php.json
    run --separate-stderr "$CCWRAP" plan
    assert_success
    run --separate-stderr "$CCWRAP" check
    assert_failure 1
    assert_output "clevercloud/php.json: hooks.postDeploy is deprecated: it now runs as the last run-succeeded hook; run 'ccwrap migrate' to move it to hooks.d/run-succeeded/"
    run ls -A
    assert_output - <<'EOF'
clevercloud
hooks.d
EOF
}

@test "plan: no colour when stdout is not a terminal" {
    exe hooks.d/pre-build/10-x true
    exe hooks.d/pre-build/20-y.bak true
    run "$CCWRAP" plan
    assert_success
    refute_output --partial $'\e'
}

@test "plan: colour on a terminal, none with NO_COLOR even there" {
    exe hooks.d/pre-build/10-x true
    exe hooks.d/pre-build/20-y.bak true
    mkdir hooks.d/post-build
    printf 'true\n' >hooks.d/post-build/10-plain
    run "$CCWRAP" plan build
    plain=$output
    cmd=$(printf '%q plan build' "$CCWRAP")

    in_pty "$cmd"
    assert_success
    assert_equal "${lines[0]}" $'\e[1mbuild\e[0m'
    assert_equal "${lines[1]}" $'  \e[1mpre-build\e[0m'
    assert_equal "${lines[2]}" "      1  hooks.d/pre-build/10-x       exec hooks.d/pre-build/10-x"
    assert_equal "${lines[3]}" $'    \e[2m  -  hooks.d/pre-build/20-y.bak   skipped: name ends in \'.bak\'\e[0m'
    assert_equal "${lines[4]}" $'  \e[1mcommand                           \e[0m  COMMAND as given to ccwrap (CC_BUILD_COMMAND is not set)'
    assert_equal "${lines[5]}" $'  \e[1mpost-build\e[0m'
    assert_equal "${lines[6]}" $'    \e[31m  1  hooks.d/post-build/10-plain  error: not executable; chmod +x hooks.d/post-build/10-plain, or rename it to hooks.d/post-build/10-plain.disabled (fails with status 126)\e[0m'
    assert_equal "${lines[7]}" $'  \e[1mcache archive                     \e[0m  none: CC_DISABLE_BUILD_CACHE_UPLOAD=true'
    assert_equal "${lines[8]}" $'  \e[1menvironment                       \e[0m  set by ccwrap: APP_HOME (the root), INSTANCE_TYPE=build, INSTANCE_NUMBER=0, INSTANCE_ID (a new UUID), PORT=8080'
    assert_equal "${#lines[@]}" 9

    # An empty NO_COLOR does not count (no-color.org).
    in_pty "NO_COLOR= $cmd"
    assert_success
    assert_equal "${lines[0]}" $'\e[1mbuild\e[0m'

    in_pty "NO_COLOR=1 $cmd"
    assert_success
    assert_equal "$output" "$plain"
}

@test "plan with an unknown phase or an extra word is a usage error: 125 and the message" {
    run --separate-stderr "$CCWRAP" plan bogus
    assert_failure 125
    assert_output ""
    assert_equal "$stderr" "ccwrap: plan takes build or run, not 'bogus'; see 'ccwrap --help'"
    run --separate-stderr "$CCWRAP" plan build run
    assert_failure 125
    assert_output ""
    assert_equal "$stderr" "ccwrap: unexpected 'run'; see 'ccwrap --help'"
}

# ---------------------------------------------------------------------------------------
# check

@test "check: exit 0 and no output when everything is in order" {
    exe hooks.d/pre-build/10-x true
    exe hooks.d/pre-build/20-y.bak true
    mkdir -p hooks.d/pre-run
    ln -s /dev/null hooks.d/pre-run/10-masked
    exe build.sh true
    export CC_PRE_BUILD_HOOK='build.sh --fast'
    printf 'shell = "/bin/sh"\nhooks_dirs = {"hooks.d"}\nready = "tcp"\n' >ccwrap.conf
    run --separate-stderr "$CCWRAP" check
    assert_success
    assert_output ""
    assert_equal "$stderr" ""
}

@test "check: a drop-in that is not executable" {
    mkdir -p hooks.d/pre-run
    printf 'true\n' >hooks.d/pre-run/10-plain
    run --separate-stderr "$CCWRAP" check
    assert_failure 1
    assert_output "hooks.d/pre-run/10-plain: not executable; chmod +x hooks.d/pre-run/10-plain, or rename it to hooks.d/pre-run/10-plain.disabled"
    assert_equal "$stderr" ""
}

@test "check: a broken symlink" {
    mkdir -p hooks.d/post-build
    ln -s ../../missing.sh hooks.d/post-build/10-link
    run --separate-stderr "$CCWRAP" check
    assert_failure 1
    assert_output "hooks.d/post-build/10-link: broken symlink to ../../missing.sh; fix the link, or remove it"
}

@test "check: a drop-in writable by others" {
    exe hooks.d/run-failed/10-report true
    chmod 757 hooks.d/run-failed/10-report
    run --separate-stderr "$CCWRAP" check
    assert_failure 1
    assert_output "hooks.d/run-failed/10-report: writable by group or others; chmod go-w hooks.d/run-failed/10-report"
}

@test "check: a drop-in folder writable by others, and a hooks_dirs folder writable by others" {
    exe hooks.d/pre-run/10-x true
    chmod 777 hooks.d/pre-run
    run --separate-stderr "$CCWRAP" check
    assert_failure 1
    assert_output "hooks.d/pre-run/10-x: its folder hooks.d/pre-run is writable by group or others; chmod go-w hooks.d/pre-run"

    chmod 755 hooks.d/pre-run
    chmod 777 hooks.d
    run --separate-stderr "$CCWRAP" check
    assert_failure 1
    assert_output - <<'EOF'
hooks.d: writable by group or others; chmod go-w hooks.d
hooks.d/pre-run/10-x: its folder hooks.d is writable by group or others; chmod go-w hooks.d
EOF
}

@test "check: a CC_*_HOOK naming a script that does not exist, or one that is not executable" {
    CC_PRE_RUN_HOOK='./missing.sh --now' run --separate-stderr "$CCWRAP" check
    assert_failure 1
    assert_output "CC_PRE_RUN_HOOK: ./missing.sh: no such file; fix the path in CC_PRE_RUN_HOOK"

    CC_POST_BUILD_HOOK='scripts/assets.sh' run --separate-stderr "$CCWRAP" check
    assert_failure 1
    assert_output "CC_POST_BUILD_HOOK: scripts/assets.sh: no such file; fix the path in CC_POST_BUILD_HOOK"

    printf 'true\n' >ccbuild.sh
    CC_PRE_BUILD_HOOK='ccbuild.sh' run --separate-stderr "$CCWRAP" check
    assert_failure 1
    assert_output "CC_PRE_BUILD_HOOK: ccbuild.sh is not executable; chmod +x ccbuild.sh"
}

@test "check: malformed legacy JSON is named with FILE:LINE:COLUMN" {
    mkdir clevercloud
    printf '{\n  "hooks": {\n    "postDeploy": "x",\n  }\n}\n' >clevercloud/php.json
    run --separate-stderr "$CCWRAP" check
    assert_failure 1
    assert_output "clevercloud/php.json:4:3: malformed JSON, file ignored: string or '}' expected near '}'"
}

@test "check: a legacy postDeploy still present is a deprecation; with legacy_post_deploy = fail, a refusal too" {
    mkdir clevercloud
    exe clevercloud/post-deploy 'echo deployed'
    echo '{"hooks": {"postDeploy": "./clevercloud/post-deploy"}}' >clevercloud/php.json
    run --separate-stderr "$CCWRAP" check
    assert_failure 1
    assert_output "clevercloud/php.json: hooks.postDeploy is deprecated: it now runs as the last run-succeeded hook; run 'ccwrap migrate' to move it to hooks.d/run-succeeded/"

    printf 'legacy_post_deploy = "fail"\n' >ccwrap.conf
    run --separate-stderr "$CCWRAP" check
    assert_failure 1
    assert_output - <<'EOF'
clevercloud/php.json hooks.postDeploy: legacy_post_deploy is "fail": run refuses to start; run 'ccwrap migrate --write'
clevercloud/php.json: hooks.postDeploy is deprecated: it now runs as the last run-succeeded hook; run 'ccwrap migrate' to move it to hooks.d/run-succeeded/
EOF

    printf 'legacy_post_deploy = "ignore"\n' >ccwrap.conf
    run --separate-stderr "$CCWRAP" check
    assert_success
    assert_output ""
}

@test "check: a bad readiness spec from CCWRAP_READY, and from the config file with FILE:LINE" {
    CCWRAP_READY=bogus run --separate-stderr "$CCWRAP" check
    assert_failure 1
    assert_output "CCWRAP_READY: bad readiness spec 'bogus': unknown kind; use tcp, tcp:PORT, tcp:HOST:PORT, http://HOST:PORT/PATH, notify, file:PATH, delay:SECONDS, exit or none"

    printf '# where readiness is\n\nready = "tcp:99999"\n' >ccwrap.conf
    run --separate-stderr "$CCWRAP" check
    assert_failure 1
    assert_output "ccwrap.conf:3: bad readiness spec 'tcp:99999': port must be 1-65535"
    assert_equal "$stderr" ""
}

@test "check: a config file that does not parse is one line on stdout with FILE:LINE, exit 1" {
    printf 'shell = "/bin/sh"\nhook_timeout = "abc"\n' >ccwrap.conf
    run --separate-stderr "$CCWRAP" check
    assert_failure 1
    assert_output "ccwrap.conf:2: hook_timeout must be a whole number of seconds from 0 to 86400, not 'abc'"
    assert_equal "$stderr" ""

    printf '\n# a comment\nshell = "/bin/sh\n' >ccwrap.conf
    run --separate-stderr "$CCWRAP" check
    assert_failure 1
    assert_output 'ccwrap.conf:3: this string is never closed; add the closing "'
    assert_equal "$stderr" ""

    printf 'ready = "tcp"\nbogus = 1\n' >ccwrap.conf
    run --separate-stderr "$CCWRAP" check
    assert_failure 1
    assert_output "ccwrap.conf:2: no such option 'bogus'; the options are shell, hooks_dirs, hook_timeout, kill_grace, legacy_post_deploy, legacy_misplaced, ready, ready_timeout, on_ready_timeout, leftovers, exec_in_place, trusted_users, trust_expansions, cache, cache_key, cache_keep, cache_max_bytes, cache_max_entries, cache_sign_key, cache_verify_key and env_files"
    assert_equal "$stderr" ""
}

@test "check: a configured shell that does not exist" {
    printf 'shell = "/nonexistent/sh"\n' >ccwrap.conf
    run --separate-stderr "$CCWRAP" check
    assert_failure 1
    assert_output "/nonexistent/sh: the configured shell cannot be executed; install it or change shell"
}

@test "check: a hooks_dirs entry that is a file is one problem, one line" {
    : >shared-hooks
    printf 'hooks_dirs = {"hooks.d", "shared-hooks"}\n' >ccwrap.conf
    run --separate-stderr "$CCWRAP" check
    assert_failure 1
    assert_output "shared-hooks: not a folder; fix hooks_dirs or remove it"
}

@test "check: a point's drop-in name that is a file rather than a folder" {
    mkdir hooks.d
    : >hooks.d/pre-run
    run --separate-stderr "$CCWRAP" check
    assert_failure 1
    assert_output "hooks.d/pre-run: not a folder; drop-ins go in a folder of that name"
}

@test "check: several problems at once, one line each, in a stable order" {
    printf 'shell = "/nonexistent/sh"\nready = "delay:x"\n' >ccwrap.conf
    mkdir -p hooks.d/pre-build hooks.d/run-succeeded clevercloud
    printf 'true\n' >hooks.d/pre-build/10-plain
    ln -s nowhere hooks.d/run-succeeded/10-link
    printf '{"hooks": ' >clevercloud/java.json
    export CC_PRE_RUN_HOOK='bin/missing'
    run --separate-stderr "$CCWRAP" check
    assert_failure 1
    assert_equal "$stderr" ""
    assert_output - <<'EOF'
/nonexistent/sh: the configured shell cannot be executed; install it or change shell
hooks.d/pre-build/10-plain: not executable; chmod +x hooks.d/pre-build/10-plain, or rename it to hooks.d/pre-build/10-plain.disabled
CC_PRE_RUN_HOOK: bin/missing: no such file; fix the path in CC_PRE_RUN_HOOK
hooks.d/run-succeeded/10-link: broken symlink to nowhere; fix the link, or remove it
clevercloud/java.json:1:10: malformed JSON, file ignored: unexpected token near end of file
ccwrap.conf:2: bad readiness spec 'delay:x': 'x' is not a duration such as 5, 0.5 or 250ms (at most 1 day)
EOF
}

@test "check with a usage error, or a root that is not a folder, exits 125" {
    run --separate-stderr "$CCWRAP" check extra
    assert_failure 125
    assert_output ""
    assert_equal "$stderr" "ccwrap: unexpected 'extra'; see 'ccwrap --help'"

    run --separate-stderr "$CCWRAP" check --write
    assert_failure 125
    assert_equal "$stderr" "ccwrap: --write goes with migrate; see 'ccwrap --help'"

    run --separate-stderr "$CCWRAP" -C "$BATS_TEST_TMPDIR/nowhere" check
    assert_failure 125
    assert_equal "$stderr" "ccwrap: $BATS_TEST_TMPDIR/nowhere: the application root is not a folder; fix --root"
}

# ---------------------------------------------------------------------------------------
# --events

@test "--events and CCWRAP_EVENTS: a build and a run, every line JSON, every event with its values" {
    EV=$BATS_TEST_TMPDIR/events.jsonl
    APPPID=$BATS_TEST_TMPDIR/app.pid
    export CC_PRE_BUILD_HOOK='true'
    exe hooks.d/pre-build/10-deps true
    exe hooks.d/post-build/10-assets true
    exe hooks.d/run-succeeded/10-up 'touch "$APP_HOME/up"'
    run --separate-stderr "$CCWRAP" --events "$EV" build -- true
    assert_success
    unset CC_PRE_BUILD_HOOK

    port=$(free_port)
    PORT=$port CCWRAP_EVENTS=$EV "$CCWRAP" run -- "$TESTAPP" --listen "$port" --pid "$APPPID" 3>&- &
    pid=$!
    remember_pid "$pid"
    wait_for 10 test -s "$APPPID"
    remember_pid "$(cat "$APPPID")"
    # The run-succeeded hook has ended: the TERM can only reach the application.
    wait_for 10 grep -q '"event":"hook_end","point":"run-succeeded"' "$EV"
    kill -TERM "$pid"
    wait_for 10 exited "$pid"
    status=0
    wait "$pid" || status=$?
    assert_equal "$status" 143

    n=0
    while IFS= read -r line; do
        n=$((n + 1))
        jq -e 'type == "object"' <<<"$line" >/dev/null || fail "line $n is not a JSON object: $line"
    done <"$EV"
    assert_equal "$n" 21

    run jq -c 'del(.time, .pid, .duration_ms, .after_ms)' "$EV"
    assert_success
    assert_output - <<EOF
{"event":"phase_start","phase":"build"}
{"event":"hook_start","point":"pre-build","source":"CC_PRE_BUILD_HOOK"}
{"event":"hook_end","point":"pre-build","source":"CC_PRE_BUILD_HOOK","status":0,"timed_out":false}
{"event":"hook_start","point":"pre-build","source":"hooks.d/pre-build/10-deps"}
{"event":"hook_end","point":"pre-build","source":"hooks.d/pre-build/10-deps","status":0,"timed_out":false}
{"event":"command_start","command":"true"}
{"event":"command_end","status":0}
{"event":"hook_start","point":"post-build","source":"hooks.d/post-build/10-assets"}
{"event":"hook_end","point":"post-build","source":"hooks.d/post-build/10-assets","status":0,"timed_out":false}
{"event":"cache_save","saved":false,"reason":"disabled"}
{"event":"phase_end","phase":"build","status":0,"signal":null}
{"event":"exit","status":0,"signal":null}
{"event":"phase_start","phase":"run","ready":"tcp"}
{"event":"command_start","command":"$TESTAPP"}
{"event":"ready","spec":"tcp"}
{"event":"hook_start","point":"run-succeeded","source":"hooks.d/run-succeeded/10-up"}
{"event":"hook_end","point":"run-succeeded","source":"hooks.d/run-succeeded/10-up","status":0,"timed_out":false}
{"event":"signal","signal":"TERM"}
{"event":"app_end","status":143}
{"event":"phase_end","phase":"run","status":143,"signal":"TERM"}
{"event":"exit","status":143,"signal":"TERM"}
EOF

    # Every event has a time; a hook's end has its start's pid and a duration in whole ms;
    # ready, signal and app_end name the application's pid.
    app=$(cat "$APPPID")
    run jq -s -e --argjson app "$app" '
        all(.[]; (.time | type) == "number" and .time > 0)
        and (map(select(.event == "hook_start" or .event == "hook_end")) | group_by(.source)
             | length == 4 and all(.[]; length == 2 and .[0].pid == .[1].pid and .[0].pid > 1))
        and all(.[] | select(.event == "hook_end"); (.duration_ms | type) == "number"
                and .duration_ms >= 0 and .duration_ms == (.duration_ms | floor))
        and ([.[] | select(.event == "ready" or .event == "signal" or .event == "app_end")
              | .pid] == [$app, $app, $app])
        and (last(.[] | select(.event == "command_start")).pid == $app)
        and (first(.[] | select(.event == "ready")).after_ms >= 0)' "$EV"
    assert_success
    assert_output true
}

@test "--events appends: two runs leave both runs' lines; a failing hook's status is there" {
    export CCWRAP_EVENTS=$BATS_TEST_TMPDIR/events.jsonl
    exe hooks.d/post-build/10-bad 'exit 3'
    run --separate-stderr "$CCWRAP" build -- true
    assert_failure 3
    first=$(wc -l <"$CCWRAP_EVENTS")
    assert_equal "$first" 7
    run --separate-stderr "$CCWRAP" build -- true
    assert_failure 3
    assert_equal "$(wc -l <"$CCWRAP_EVENTS")" 14
    run jq -c 'select(.event == "hook_end" or .event == "phase_end" or .event == "exit")
        | del(.time, .pid, .duration_ms)' "$CCWRAP_EVENTS"
    assert_output - <<'EOF'
{"event":"hook_end","point":"post-build","source":"hooks.d/post-build/10-bad","status":3,"timed_out":false}
{"event":"phase_end","phase":"build","status":3,"signal":null}
{"event":"exit","status":3,"signal":null}
{"event":"hook_end","point":"post-build","source":"hooks.d/post-build/10-bad","status":3,"timed_out":false}
{"event":"phase_end","phase":"build","status":3,"signal":null}
{"event":"exit","status":3,"signal":null}
EOF
    # --events wins over CCWRAP_EVENTS.
    run --separate-stderr "$CCWRAP" --events "$BATS_TEST_TMPDIR/other.jsonl" build -- true
    assert_failure 3
    assert_equal "$(wc -l <"$CCWRAP_EVENTS")" 14
    assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/other.jsonl")" 7
}

@test "an event log that cannot be opened or written: one warning, the same outcome" {
    : >"$BATS_TEST_TMPDIR/a-file"
    bad=$BATS_TEST_TMPDIR/a-file/events.jsonl

    run --separate-stderr "$CCWRAP" build -- sh -c 'exit 3'
    assert_failure 3
    assert_equal "$stderr" ""
    run --separate-stderr "$CCWRAP" --events "$bad" build -- sh -c 'exit 3'
    assert_failure 3
    assert_equal "$stderr" "ccwrap: warning: $bad: cannot open the event log, going on without it: Not a directory"

    ready_line='^ccwrap: Application ready \(none\) after [0-9]+\.[0-9]{3} s$'
    run --separate-stderr "$CCWRAP" run --ready none -- sh -c 'exit 4'
    assert_failure 4
    assert_regex "$stderr" "$ready_line"
    CCWRAP_EVENTS=$bad run --separate-stderr "$CCWRAP" run --ready none -- sh -c 'exit 4'
    assert_failure 4
    assert_equal "${stderr_lines[0]}" "ccwrap: warning: $bad: cannot open the event log, going on without it: Not a directory"
    assert_regex "${stderr_lines[1]}" "$ready_line"
    assert_equal "${#stderr_lines[@]}" 2

    # Opened, but every write fails: said once, at the first event, not once per event.
    run --separate-stderr "$CCWRAP" --events /dev/full run --ready none -- sh -c 'exit 4'
    assert_failure 4
    assert_equal "${stderr_lines[0]}" "ccwrap: warning: /dev/full: cannot write the event log: No space left on device"
    assert_regex "${stderr_lines[1]}" "$ready_line"
    assert_equal "${#stderr_lines[@]}" 2
}

# ---------------------------------------------------------------------------------------
# What ships around ccwrap

@test "the bash completion sources cleanly and completes subcommands, plan's phases and hook points" {
    completion=$TOP/contrib/bash-completion/ccwrap
    run bash --norc --noprofile -c 'set -u; source "$1"' _ "$completion"
    assert_success
    assert_output ""

    # shellcheck disable=SC2016 # expanded by the inner bash
    run bash --norc --noprofile -c '
        source "$1" || exit 9
        spec=$(complete -p ccwrap) || exit 8
        fn=${spec#*-F }
        fn=${fn%% *}
        complete_words() {
            COMP_WORDS=("$@")
            COMP_CWORD=$(($# - 1))
            COMP_LINE="$*"
            COMP_POINT=${#COMP_LINE}
            COMPREPLY=()
            "$fn" ccwrap "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
            echo "${COMPREPLY[*]}"
        }
        echo "$fn"
        complete_words ccwrap ""
        complete_words ccwrap pl
        complete_words ccwrap -q c
        complete_words ccwrap plan ""
        complete_words ccwrap hook run-
        complete_words ccwrap run --ready no' _ "$completion"
    assert_success
    assert_output - <<'EOF'
_ccwrap
build run hook plan check migrate cache cron
plan
check cache cron
build run
run-succeeded run-failed
notify none
EOF
}

@test "make install DESTDIR=… PREFIX=/usr installs exactly the binary, the man page and the config; uninstall removes them" {
    plain_build_only "make install"
    src=$(file_copy)
    inst=$BATS_TEST_TMPDIR/inst
    run timeout 120 make -C "$src" -s -j4 install DESTDIR="$inst" PREFIX=/usr 3>&-
    assert_success
    run sh -c 'cd "$1" && find . ! -type d -printf "%P %m\n" | sort' _ "$inst"
    assert_output - <<'EOF'
usr/bin/ccwrap 755
usr/etc/ccwrap/ccwrap.conf 644
usr/libexec/ccwrap/ccwrap-cache 755
usr/share/man/man1/ccwrap.1 644
EOF
    cmp "$src/wrapper/ccwrap.1" "$inst/usr/share/man/man1/ccwrap.1"
    cmp "$src/conf/ccwrap.conf" "$inst/usr/etc/ccwrap/ccwrap.conf"
    # The binary looks for its configuration where it was installed.
    run "$inst/usr/bin/ccwrap" --help
    assert_success
    assert_line --partial "/usr/etc/ccwrap/ccwrap.conf)"

    run timeout 60 make -C "$src" -s uninstall DESTDIR="$inst" PREFIX=/usr 3>&-
    assert_success
    run find "$inst" ! -type d
    assert_output ""
    [ ! -e "$inst/usr/etc/ccwrap" ]
}

@test "make demo ends by itself with status 0 within 60 s" {
    plain_build_only "make demo"
    src=$(file_copy)
    DEMO_PORT=$(free_port)
    export DEMO_PORT
    run timeout 60 make -C "$src" -s -j4 demo 3>&-
    assert_success
    assert_line --partial "ready"
    assert_line --partial "ccwrap run exited with status 0"
}
