#!/usr/bin/env bats
# Legacy postDeploy (§6): clevercloud/*.json hooks run as the last run-succeeded hook,
# legacy_post_deploy = run | ignore | fail, and `ccwrap migrate [--write]`.
# Design: doc/design.md §6 (legacy postDeploy).

load test_helper

setup() {
    common_setup
    # The fixtures' scripts append "postDeploy NAME ARGS" there.
    export CCWRAP_TEST_LOG=$LOG
    # ccwrap's CCWRAP_ENV files go there too, not to /tmp.
    export TMPDIR=$BATS_TEST_TMPDIR
}

# Every ccwrap here is bounded: a hang fails the test instead of the suite, and leaves nothing.
ccwrap() {
    timeout -k 2 20 "$CCWRAP" "$@"
}

# fixture NAME: the legacy layout tests/fixtures/legacy/NAME becomes the application root.
fixture() {
    cp -a "$FIXTURES/legacy/$1/." "$APP/"
}

# deprecation FILE KEY: the warning a run prints once per legacy file.
deprecation() {
    echo "ccwrap: warning: $1: $2 is deprecated: it now runs as the last run-succeeded hook; run 'ccwrap migrate' to move it to hooks.d/run-succeeded/"
}

# misplaced FILE: the warning for deploy.hooks.postDeploy, skipped as by default.
misplaced() {
    echo "ccwrap: warning: $1: deploy.hooks.postDeploy is misplaced: Clever Cloud read hooks only at the top level, so it most likely never ran; skipped: move it to hooks.postDeploy, delete it, or set legacy_misplaced = \"run\""
}

# misplaced_run FILE: the same when legacy_misplaced = "run" says to run it.
misplaced_run() {
    echo "ccwrap: warning: $1: deploy.hooks.postDeploy is misplaced (Clever Cloud read hooks only at the top level); run, as legacy_misplaced = \"run\" says"
}

READY_NONE='^ccwrap: Application ready \(none\) after [0-9]+\.[0-9]{3} s$'

# finished LINE SOURCE: LINE is the successful end of the hook SOURCE.
assert_finished() {
    assert_regex "$1" "^ccwrap: Finished $2: status 0 in [0-9]+\\.[0-9]{3} s\$"
}

# Everything under the root: names, modes, sizes, mtimes and contents.
snapshot() {
    (cd "$APP" && find . -printf '%p %M %s %T@\n' | LC_ALL=C sort &&
        find . -type f -exec sha256sum {} + | LC_ALL=C sort)
}

# ---- each real layout, run -----------------------------------------------

@test "PHP layout: \"postDeploy\": \"ccbuild.sh\" runs ./ccbuild.sh once the application is ready" {
    fixture php
    run --separate-stderr ccwrap run --ready none -- true
    assert_success
    assert_output ""
    assert_equal "${stderr_lines[0]}" "$(deprecation clevercloud/php.json hooks.postDeploy)"
    assert_regex "${stderr_lines[1]}" "$READY_NONE"
    assert_equal "${stderr_lines[2]}" "ccwrap: Running clevercloud/php.json hooks.postDeploy: ccbuild.sh"
    assert_finished "${stderr_lines[3]}" "clevercloud/php.json hooks.postDeploy"
    assert_equal "${#stderr_lines[@]}" 4
    assert_equal "$(cat "$LOG")" "postDeploy ccbuild.sh"
}

@test "Ruby layout: \"./clevercloud/notify-slack\" beside deploy.goal and other keys runs once" {
    fixture ruby
    run --separate-stderr ccwrap run --ready none -- true
    assert_success
    assert_equal "${stderr_lines[0]}" "$(deprecation clevercloud/ruby.json hooks.postDeploy)"
    assert_regex "${stderr_lines[1]}" "$READY_NONE"
    assert_equal "${stderr_lines[2]}" "ccwrap: Running clevercloud/ruby.json hooks.postDeploy: ./clevercloud/notify-slack"
    assert_finished "${stderr_lines[3]}" "clevercloud/ruby.json hooks.postDeploy"
    assert_equal "${#stderr_lines[@]}" 4
    assert_equal "$(cat "$LOG")" "postDeploy notify-slack"
}

@test "a value with arguments, \"./bin/robo build\", runs bin/robo with its argument" {
    fixture robo-args
    run --separate-stderr ccwrap run --ready none -- true
    assert_success
    assert_equal "${stderr_lines[0]}" "$(deprecation clevercloud/php.json hooks.postDeploy)"
    assert_regex "${stderr_lines[1]}" "$READY_NONE"
    assert_equal "${stderr_lines[2]}" "ccwrap: Running clevercloud/php.json hooks.postDeploy: ./bin/robo build"
    assert_finished "${stderr_lines[3]}" "clevercloud/php.json hooks.postDeploy"
    assert_equal "${#stderr_lines[@]}" 4
    assert_equal "$(cat "$LOG")" "postDeploy robo build"
}

@test "hooks nested under deploy: warned about and skipped by default, as the platform never ran them" {
    fixture nested-deploy
    run --separate-stderr ccwrap run --ready none -- true
    assert_success
    assert_equal "${stderr_lines[0]}" "$(misplaced clevercloud/java.json)"
    assert_regex "${stderr_lines[1]}" "$READY_NONE"
    assert_equal "${#stderr_lines[@]}" 2
    assert_equal "$(cat "$LOG")" ""
    run --separate-stderr ccwrap plan run
    assert_success
    assert_line "      -  clevercloud/java.json deploy.hooks.postDeploy  skipped: misplaced under deploy, where Clever Cloud never read it; legacy_misplaced = \"run\" runs it"
    run --separate-stderr ccwrap check
    assert_failure 1
    assert_output "clevercloud/java.json: deploy.hooks.postDeploy is misplaced: Clever Cloud read hooks only at the top level, so it most likely never ran; skipped: move it to hooks.postDeploy, delete it, or set legacy_misplaced = \"run\""
}

@test "hooks nested under deploy run when legacy_misplaced = \"run\" says so, with the warning" {
    fixture nested-deploy
    echo 'legacy_misplaced = "run"' >ccwrap.conf
    run --separate-stderr ccwrap run --ready none -- true
    assert_success
    assert_equal "${stderr_lines[0]}" "$(misplaced_run clevercloud/java.json)"
    assert_equal "${stderr_lines[1]}" "$(deprecation clevercloud/java.json deploy.hooks.postDeploy)"
    assert_regex "${stderr_lines[2]}" "$READY_NONE"
    assert_equal "${stderr_lines[3]}" "ccwrap: Running clevercloud/java.json deploy.hooks.postDeploy: clevercloud/post-deploy.sh"
    assert_finished "${stderr_lines[4]}" "clevercloud/java.json deploy.hooks.postDeploy"
    assert_equal "${#stderr_lines[@]}" 5
    assert_equal "$(cat "$LOG")" "postDeploy post-deploy.sh"
}

@test "malformed JSON: a warning with file:line:column, the file ignored, the run goes on" {
    fixture malformed
    run --separate-stderr ccwrap run --ready none -- sh -c 'echo app >>"$LOG"; exit 3'
    assert_failure 3
    assert_equal "${stderr_lines[0]}" "ccwrap: warning: clevercloud/php.json:4:3: malformed JSON, file ignored: string or '}' expected near '}'"
    assert_regex "${stderr_lines[1]}" "$READY_NONE"
    assert_equal "${#stderr_lines[@]}" 2
    assert_equal "$(cat "$LOG")" "app"
}

@test "buckets.json and a php.json without hooks: no warning, nothing run" {
    fixture buckets
    run --separate-stderr ccwrap run --ready none -- true
    assert_success
    assert_regex "${stderr_lines[0]}" "$READY_NONE"
    assert_equal "${#stderr_lines[@]}" 1
    assert_equal "$(cat "$LOG")" ""
}

@test "a non-string, an empty postDeploy and a non-object hooks are each named and ignored" {
    mkdir clevercloud
    echo '{"hooks": {"postDeploy": 42}}' >clevercloud/a.json
    echo '{"hooks": {"postDeploy": "  "}}' >clevercloud/b.json
    echo '{"hooks": "./notify"}' >clevercloud/c.json
    run --separate-stderr ccwrap run --ready none -- true
    assert_success
    assert_equal "${stderr_lines[0]}" "ccwrap: warning: clevercloud/a.json: hooks.postDeploy must be a string, got number; ignored"
    assert_equal "${stderr_lines[1]}" "ccwrap: warning: clevercloud/b.json: hooks.postDeploy is empty; ignored"
    assert_equal "${stderr_lines[2]}" "ccwrap: warning: clevercloud/c.json: hooks must be an object, got string; ignored"
    assert_regex "${stderr_lines[3]}" "$READY_NONE"
    assert_equal "${#stderr_lines[@]}" 4
}

# ---- when and in which order ----------------------------------------------

@test "the legacy hook runs after readiness, while the app runs, last: after the variable and drop-ins" {
    fixture php
    # The fixture is a copy: make it also say whether the application is still running.
    echo 'kill -0 "$CCWRAP_APP_PID" && echo "postDeploy app-running" >>"$LOG"' >>ccbuild.sh
    export CC_RUN_SUCCEEDED_HOOK='echo CC_RUN_SUCCEEDED_HOOK >>"$LOG"'
    logging_hook run-succeeded 10-first
    logging_hook run-succeeded 99-last
    # The application waits (at most 5 s) until the legacy hook has run, then ends.
    run --separate-stderr ccwrap run --ready delay:0.1 -- sh -c 'echo app >>"$LOG"
        i=0; while ! grep -q app-running "$LOG" && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done'
    assert_success
    assert_equal "$(cat "$LOG")" "app
CC_RUN_SUCCEEDED_HOOK
run-succeeded/10-first
run-succeeded/99-last
postDeploy ccbuild.sh
postDeploy app-running"
    assert_equal "${stderr_lines[0]}" "$(deprecation clevercloud/php.json hooks.postDeploy)"
    assert_regex "${stderr_lines[1]}" '^ccwrap: Application ready \(delay:0\.1\) after 0\.[0-9]{3} s$'
    assert_equal "${stderr_lines[2]}" "ccwrap: Running CC_RUN_SUCCEEDED_HOOK: echo CC_RUN_SUCCEEDED_HOOK >>\"\$LOG\""
    assert_equal "${stderr_lines[4]}" "ccwrap: Running hooks.d/run-succeeded/10-first"
    assert_equal "${stderr_lines[6]}" "ccwrap: Running hooks.d/run-succeeded/99-last"
    assert_equal "${stderr_lines[8]}" "ccwrap: Running clevercloud/php.json hooks.postDeploy: ccbuild.sh"
    assert_finished "${stderr_lines[9]}" "clevercloud/php.json hooks.postDeploy"
    assert_equal "${#stderr_lines[@]}" 10
}

@test "the application never becomes ready: the warning is printed at the start, the legacy hook does not run" {
    fixture php
    run --separate-stderr ccwrap run --ready delay:5 -- sh -c 'exit 4'
    assert_failure 4
    assert_equal "${stderr_lines[0]}" "$(deprecation clevercloud/php.json hooks.postDeploy)"
    assert_equal "${stderr_lines[1]}" "ccwrap: application exited before it was ready (exit-code: 4)"
    assert_equal "${#stderr_lines[@]}" 2
    assert_equal "$(cat "$LOG")" ""
}

@test "a failing legacy hook is logged; ccwrap exits with the application's status" {
    fixture php
    printf '#!/bin/sh\nexit 3\n' >ccbuild.sh
    logging_hook run-succeeded 10-before
    run --separate-stderr ccwrap run --ready none -- sh -c 'sleep 0.2; exit 7'
    assert_failure 7
    assert_equal "${stderr_lines[0]}" "$(deprecation clevercloud/php.json hooks.postDeploy)"
    assert_regex "${stderr_lines[1]}" "$READY_NONE"
    assert_equal "${stderr_lines[2]}" "ccwrap: Running hooks.d/run-succeeded/10-before"
    assert_finished "${stderr_lines[3]}" "hooks.d/run-succeeded/10-before"
    assert_equal "${stderr_lines[4]}" "ccwrap: Running clevercloud/php.json hooks.postDeploy: ccbuild.sh"
    assert_regex "${stderr_lines[5]}" '^ccwrap: clevercloud/php.json hooks.postDeploy failed: status 3 in [0-9]+\.[0-9]{3} s$'
    assert_equal "${#stderr_lines[@]}" 6
    assert_equal "$(cat "$LOG")" "run-succeeded/10-before"

    run --separate-stderr ccwrap run --ready none -- sh -c 'sleep 0.2'
    assert_success
    assert_equal "${stderr_lines[0]}" "$(deprecation clevercloud/php.json hooks.postDeploy)"
    assert_regex "${stderr_lines[1]}" "$READY_NONE"
    assert_regex "${stderr_lines[5]}" '^ccwrap: clevercloud/php.json hooks.postDeploy failed: status 3 in'
    assert_equal "${#stderr_lines[@]}" 6
}

@test "a postDeploy naming a missing script (a real typo): the hook's error once, the app's status" {
    fixture missing-script
    run --separate-stderr ccwrap run --ready none -- sh -c 'sleep 0.2; exit 5'
    assert_failure 5
    assert_equal "${stderr_lines[0]}" "$(deprecation clevercloud/node.json hooks.postDeploy)"
    assert_regex "${stderr_lines[1]}" "$READY_NONE"
    assert_equal "${stderr_lines[2]}" "ccwrap: clevercloud/node.json hooks.postDeploy: ./clevercloud/notfiy.sh: no such file; fix the path in clevercloud/node.json hooks.postDeploy"
    assert_equal "${#stderr_lines[@]}" 3
    # check: one line for the missing script, not two in two wordings; and the deprecation.
    run --separate-stderr ccwrap check
    assert_failure 1
    assert_output "clevercloud/node.json hooks.postDeploy: ./clevercloud/notfiy.sh: no such file; fix the path in clevercloud/node.json hooks.postDeploy
clevercloud/node.json: hooks.postDeploy is deprecated: it now runs as the last run-succeeded hook; run 'ccwrap migrate' to move it to hooks.d/run-succeeded/"
}

@test "one deprecation warning per file per run: two files two warnings, two keys in one file one" {
    fixture php
    mkdir -p clevercloud/scripts
    cp "$FIXTURES/legacy/ruby/clevercloud/notify-slack" clevercloud/scripts/
    cat >clevercloud/ruby.json <<'EOF'
{
  "hooks": {"postDeploy": "./clevercloud/scripts/notify-slack top"},
  "deploy": {"hooks": {"postDeploy": "./clevercloud/scripts/notify-slack nested"}}
}
EOF
    echo 'legacy_misplaced = "run"' >ccwrap.conf
    run --separate-stderr ccwrap run --ready none -- true
    assert_success
    assert_equal "$(printf '%s\n' "${stderr_lines[@]}" | grep -c 'is deprecated')" 2
    assert_equal "${stderr_lines[0]}" "$(deprecation clevercloud/php.json hooks.postDeploy)"
    assert_equal "${stderr_lines[1]}" "$(misplaced_run clevercloud/ruby.json)"
    assert_equal "${stderr_lines[2]}" "$(deprecation clevercloud/ruby.json hooks.postDeploy)"
    assert_regex "${stderr_lines[3]}" "$READY_NONE"
    assert_equal "${stderr_lines[4]}" "ccwrap: Running clevercloud/php.json hooks.postDeploy: ccbuild.sh"
    assert_equal "${stderr_lines[6]}" "ccwrap: Running clevercloud/ruby.json hooks.postDeploy: ./clevercloud/scripts/notify-slack top"
    assert_equal "${stderr_lines[8]}" "ccwrap: Running clevercloud/ruby.json deploy.hooks.postDeploy: ./clevercloud/scripts/notify-slack nested"
    assert_equal "${#stderr_lines[@]}" 10
    assert_equal "$(cat "$LOG")" "postDeploy ccbuild.sh
postDeploy notify-slack top
postDeploy notify-slack nested"
}

@test "ccwrap hook run-succeeded runs the legacy hook too, last" {
    fixture robo-args
    logging_hook run-succeeded 10-first
    run --separate-stderr ccwrap hook run-succeeded
    assert_success
    assert_equal "${stderr_lines[0]}" "$(deprecation clevercloud/php.json hooks.postDeploy)"
    assert_equal "${stderr_lines[1]}" "ccwrap: Running hooks.d/run-succeeded/10-first"
    assert_equal "${stderr_lines[3]}" "ccwrap: Running clevercloud/php.json hooks.postDeploy: ./bin/robo build"
    assert_finished "${stderr_lines[4]}" "clevercloud/php.json hooks.postDeploy"
    assert_equal "${#stderr_lines[@]}" 5
    assert_equal "$(cat "$LOG")" "run-succeeded/10-first
postDeploy robo build"
}

@test "other points and the build phase never run the legacy hook" {
    fixture php
    run --separate-stderr ccwrap build -- true
    assert_success
    assert_equal "$stderr" ""
    run --separate-stderr ccwrap hook pre-run
    assert_success
    assert_equal "$stderr" ""
    assert_equal "$(cat "$LOG")" ""
}

# ---- legacy_post_deploy ----------------------------------------------------

@test "legacy_post_deploy = \"ignore\": nothing runs, nothing is said" {
    fixture php
    echo 'legacy_post_deploy = "ignore"' >ccwrap.conf
    run --separate-stderr ccwrap run --ready none -- true
    assert_success
    assert_regex "${stderr_lines[0]}" "$READY_NONE"
    assert_equal "${#stderr_lines[@]}" 1
    run --separate-stderr ccwrap hook run-succeeded
    assert_success
    assert_equal "$stderr" ""
    assert_equal "$(cat "$LOG")" ""
}

@test "legacy_post_deploy = \"fail\": exit 125 with the reason; no hook runs, the app never starts" {
    fixture nested-deploy
    # A misplaced postDeploy, even skipped, is one left in the file.
    echo 'legacy_post_deploy = "fail"' >ccwrap.conf
    logging_hook pre-run 10-pre
    run --separate-stderr ccwrap run --ready none -- sh -c 'echo app >>"$LOG"'
    assert_failure 125
    assert_output ""
    assert_equal "$stderr" "ccwrap: clevercloud/java.json: deploy.hooks.postDeploy is deprecated and legacy_post_deploy is \"fail\"; run 'ccwrap migrate --write'"
    assert_equal "$(cat "$LOG")" ""
}

@test "legacy_post_deploy = \"fail\" with no postDeploy left starts as usual" {
    fixture buckets
    echo 'legacy_post_deploy = "fail"' >ccwrap.conf
    run --separate-stderr ccwrap run --ready none -- sh -c 'echo app >>"$LOG"'
    assert_success
    assert_regex "$stderr" "$READY_NONE"
    assert_equal "$(cat "$LOG")" "app"
}

@test "legacy_post_deploy: a bad word is a configuration error naming file and line" {
    fixture php
    printf '\nlegacy_post_deploy = "skip"\n' >ccwrap.conf
    run --separate-stderr ccwrap run --ready none -- sh -c 'echo app >>"$LOG"'
    assert_failure 125
    assert_regex "$stderr" '^ccwrap: .*ccwrap\.conf:2: .*legacy_post_deploy'
    assert_equal "$(cat "$LOG")" ""
}

# ---- ccwrap migrate --------------------------------------------------------

@test "migrate (dry run) prints each change, touches nothing, exits 0" {
    fixture php
    cp -a "$FIXTURES/legacy/ruby/clevercloud/." clevercloud/
    before=$(snapshot)
    run --separate-stderr ccwrap migrate
    assert_success
    assert_equal "$output" "clevercloud/php.json: hooks.postDeploy \"ccbuild.sh\" -> hooks.d/run-succeeded/50-post-deploy
clevercloud/php.json: left empty ({}), kept: --remove-empty removes it
clevercloud/ruby.json: hooks.postDeploy \"./clevercloud/notify-slack\" -> hooks.d/run-succeeded/51-post-deploy
dry run: nothing changed; run 'ccwrap migrate --write' to apply"
    assert_equal "$stderr" ""
    assert_equal "$(snapshot)" "$before"
    [ ! -e hooks.d ]
}

@test "migrate --write, PHP: an executable 50-post-deploy running the old value; hooks goes" {
    fixture php
    run --separate-stderr ccwrap migrate --write
    assert_success
    assert_equal "$output" "clevercloud/php.json: hooks.postDeploy \"ccbuild.sh\" -> hooks.d/run-succeeded/50-post-deploy
clevercloud/php.json: left empty ({}), kept: --remove-empty removes it
migrated 1 hook(s)"
    assert_equal "$stderr" ""
    assert_equal "$(stat -c %A hooks.d/run-succeeded/50-post-deploy)" "-rwxr-xr-x"
    assert_equal "$(cat hooks.d/run-succeeded/50-post-deploy)" "#!/bin/sh
# Moved by 'ccwrap migrate' from clevercloud/php.json hooks.postDeploy.
# ccwrap runs drop-ins from the application root, like the old hook.
exec ./ccbuild.sh"
    assert_equal "$(cat clevercloud/php.json)" "{}"
    assert_equal "$(ls -A clevercloud)" "php.json"
}

@test "migrate --write, Ruby: deploy.goal and the other keys stay, in their order" {
    fixture ruby
    run --separate-stderr ccwrap migrate --write
    assert_success
    assert_equal "${lines[0]}" "clevercloud/ruby.json: hooks.postDeploy \"./clevercloud/notify-slack\" -> hooks.d/run-succeeded/50-post-deploy"
    assert_equal "$(tail -n 1 hooks.d/run-succeeded/50-post-deploy)" "exec ./clevercloud/notify-slack"
    assert_equal "$(cat clevercloud/ruby.json)" '{
  "deploy": {
    "goal": "production"
  },
  "other": [
    1,
    2
  ]
}'
}

@test "migrate --write keeps every other key and value in the file's own order" {
    fixture robo-args
    cat >clevercloud/php.json <<'EOF'
{
  "zeta": "first here, last alphabetically",
  "hooks": {
    "postDeploy": "./bin/robo build",
    "preBuild": "kept"
  },
  "deploy": {"webroot": "/public", "goal": "production"},
  "build": {"type": "maven", "goal": "package"},
  "alpha": [1, 2.5, 0.1, true, null, {}, []],
  "unicode": "café ✓ \"quoted\" a/b"
}
EOF
    run --separate-stderr ccwrap migrate --write
    assert_success
    assert_equal "$(cat clevercloud/php.json)" '{
  "zeta": "first here, last alphabetically",
  "hooks": {
    "preBuild": "kept"
  },
  "deploy": {
    "webroot": "/public",
    "goal": "production"
  },
  "build": {
    "type": "maven",
    "goal": "package"
  },
  "alpha": [
    1,
    2.5,
    0.1,
    true,
    null,
    {},
    []
  ],
  "unicode": "café ✓ \"quoted\" a/b"
}'
    assert_equal "$(tail -n 1 hooks.d/run-succeeded/50-post-deploy)" "exec ./bin/robo build"
}

@test "migrate --write, nested deploy.hooks: left in place by default, with the warning and a summary" {
    fixture nested-deploy
    before=$(snapshot)
    run --separate-stderr ccwrap migrate --write
    assert_success
    assert_equal "$stderr" "$(misplaced clevercloud/java.json)"
    assert_equal "$output" "left 1 misplaced hook(s) in place: legacy_misplaced = \"skip\""
    assert_equal "$(snapshot)" "$before"
}

@test "migrate --write, nested deploy.hooks with legacy_misplaced = \"run\": the key and its hooks go" {
    fixture nested-deploy
    echo 'legacy_misplaced = "run"' >ccwrap.conf
    run --separate-stderr ccwrap migrate --write
    assert_success
    assert_equal "$stderr" "$(misplaced_run clevercloud/java.json)"
    assert_equal "$output" "clevercloud/java.json: deploy.hooks.postDeploy \"clevercloud/post-deploy.sh\" -> hooks.d/run-succeeded/50-post-deploy
migrated 1 hook(s)"
    assert_equal "$(cat clevercloud/java.json)" '{
  "build": {
    "type": "maven",
    "goal": "package"
  },
  "deploy": {
    "jarName": "target/app.jar"
  }
}'
    assert_equal "$(tail -n 1 hooks.d/run-succeeded/50-post-deploy)" "exec clevercloud/post-deploy.sh"
}

@test "migrate --write keeps the JSON file's mode; a second --write says so and changes nothing" {
    fixture php
    chmod 640 clevercloud/php.json
    run --separate-stderr ccwrap migrate --write
    assert_success
    assert_equal "$(stat -c %a clevercloud/php.json)" "640"
    before=$(snapshot)
    run --separate-stderr ccwrap migrate --write
    assert_success
    assert_equal "$output" "nothing to migrate: no postDeploy hook in clevercloud/*.json"
    assert_equal "$stderr" ""
    assert_equal "$(snapshot)" "$before"
    run --separate-stderr ccwrap migrate
    assert_success
    assert_equal "$output" "nothing to migrate: no postDeploy hook in clevercloud/*.json"
}

@test "migrate --write: two hooks become 50- and 51-post-deploy; an existing 50 is never overwritten" {
    fixture php
    cp -a "$FIXTURES/legacy/ruby/clevercloud/." clevercloud/
    hook run-succeeded 50-post-deploy 'echo mine >>"$LOG"'
    mine=$(sha256sum hooks.d/run-succeeded/50-post-deploy)
    run --separate-stderr ccwrap migrate --write
    assert_success
    assert_equal "$output" "clevercloud/php.json: hooks.postDeploy \"ccbuild.sh\" -> hooks.d/run-succeeded/51-post-deploy
clevercloud/php.json: left empty ({}), kept: --remove-empty removes it
clevercloud/ruby.json: hooks.postDeploy \"./clevercloud/notify-slack\" -> hooks.d/run-succeeded/52-post-deploy
migrated 2 hook(s)"
    assert_equal "$(sha256sum hooks.d/run-succeeded/50-post-deploy)" "$mine"
    assert_equal "$(tail -n 1 hooks.d/run-succeeded/51-post-deploy)" "exec ./ccbuild.sh"
    assert_equal "$(tail -n 1 hooks.d/run-succeeded/52-post-deploy)" "exec ./clevercloud/notify-slack"
    assert_equal "$(ls -A hooks.d/run-succeeded)" "50-post-deploy
51-post-deploy
52-post-deploy"
}

@test "migrate --write: two keys in one file become 50 and 51, in the order they ran" {
    fixture robo-args
    cp -a "$FIXTURES/legacy/nested-deploy/clevercloud/post-deploy.sh" clevercloud/
    cat >clevercloud/php.json <<'EOF'
{"deploy": {"hooks": {"postDeploy": "clevercloud/post-deploy.sh"}}, "hooks": {"postDeploy": "./bin/robo build"}}
EOF
    echo 'legacy_misplaced = "run"' >ccwrap.conf
    run --separate-stderr ccwrap migrate --write
    assert_success
    assert_equal "$output" "clevercloud/php.json: hooks.postDeploy \"./bin/robo build\" -> hooks.d/run-succeeded/50-post-deploy
clevercloud/php.json: deploy.hooks.postDeploy \"clevercloud/post-deploy.sh\" -> hooks.d/run-succeeded/51-post-deploy
clevercloud/php.json: left empty ({}), kept: --remove-empty removes it
migrated 2 hook(s)"
    assert_equal "$(cat clevercloud/php.json)" "{}"
    run --separate-stderr ccwrap run --ready none -- true
    assert_success
    assert_equal "$(cat "$LOG")" "postDeploy robo build
postDeploy post-deploy.sh"
}

@test "after migrate --write, run runs the drop-in in place of the legacy hook, without a warning" {
    fixture robo-args
    run --separate-stderr ccwrap migrate --write
    assert_success
    run --separate-stderr ccwrap run --ready none -- true
    assert_success
    assert_regex "${stderr_lines[0]}" "$READY_NONE"
    assert_equal "${stderr_lines[1]}" "ccwrap: Running hooks.d/run-succeeded/50-post-deploy"
    assert_finished "${stderr_lines[2]}" "hooks.d/run-succeeded/50-post-deploy"
    assert_equal "${#stderr_lines[@]}" 3
    assert_equal "$(cat "$LOG")" "postDeploy robo build"
}

@test "migrate writes into the configured hooks_dirs' first folder" {
    fixture php
    echo 'hooks_dirs = {"ops/hooks"}' >ccwrap.conf
    run --separate-stderr ccwrap migrate --write
    assert_success
    assert_equal "${lines[0]}" "clevercloud/php.json: hooks.postDeploy \"ccbuild.sh\" -> ops/hooks/run-succeeded/50-post-deploy"
    [ -x ops/hooks/run-succeeded/50-post-deploy ]
    [ ! -e hooks.d ]
    run --separate-stderr ccwrap run --ready none -- true
    assert_success
    assert_equal "${stderr_lines[1]}" "ccwrap: Running ops/hooks/run-succeeded/50-post-deploy"
    assert_equal "$(cat "$LOG")" "postDeploy ccbuild.sh"
}

@test "migrate on a trailing comma: not a success; which file, where, exit 125, nothing changed" {
    fixture malformed
    before=$(snapshot)
    run --separate-stderr ccwrap migrate --write
    assert_failure 125
    assert_output ""
    assert_equal "$stderr" "ccwrap: clevercloud/php.json:4:3: malformed JSON: string or '}' expected near '}'; cannot migrate: fix it, then migrate again"
    assert_equal "$(snapshot)" "$before"
    run --separate-stderr ccwrap migrate
    assert_failure 125
    assert_output ""
    # plan shows the file it ignored where the hook would have been.
    run --separate-stderr ccwrap plan run
    assert_success
    assert_line "      -  clevercloud/php.json      ignored: malformed JSON: string or '}' expected near '}'"
}

@test "migrate on buckets.json and a file without hooks: nothing to migrate, no change, exit 0" {

    rm -rf "${APP:?}"/* && fixture buckets
    before=$(snapshot)
    run --separate-stderr ccwrap migrate --write
    assert_success
    assert_equal "$output" "nothing to migrate: no postDeploy hook in clevercloud/*.json"
    assert_equal "$stderr" ""
    assert_equal "$(snapshot)" "$before"
}

@test "migrate refuses a symlinked JSON file and changes nothing, exit 125" {
    fixture php
    mv clevercloud/php.json shared.json
    ln -s ../shared.json clevercloud/php.json
    before=$(snapshot)
    run --separate-stderr ccwrap migrate --write
    assert_failure 125
    assert_output ""
    assert_equal "$stderr" "ccwrap: clevercloud/php.json: is a symbolic link, not rewritten; move its postDeploy by hand"
    assert_equal "$(snapshot)" "$before"
}

@test "migrate refuses a hard-linked JSON file: the rename would cut it from its other name" {
    fixture php
    ln clevercloud/php.json shared.json
    before=$(snapshot)
    run --separate-stderr ccwrap migrate --write
    assert_failure 125
    assert_output ""
    assert_equal "$stderr" "ccwrap: clevercloud/php.json: has 2 hard links, not rewritten; move its postDeploy by hand"
    assert_equal "$(snapshot)" "$before"
}

@test "a legacy file that links to a file not everyone may read: its text is never quoted in a message" {
    mkdir clevercloud
    printf '{"a": "SECRET-VALUE' >"$BATS_TEST_TMPDIR/creds"
    chmod 600 "$BATS_TEST_TMPDIR/creds"
    ln -s "$BATS_TEST_TMPDIR/creds" clevercloud/php.json
    run --separate-stderr ccwrap check
    assert_failure 1
    assert_output "clevercloud/php.json:1:19: malformed JSON, file ignored: its text is not shown: a symbolic link to a file not everyone may read"
    # A file of the tree itself, or readable by all, still says where and what.
    chmod 644 "$BATS_TEST_TMPDIR/creds"
    run --separate-stderr ccwrap check
    assert_output "clevercloud/php.json:1:19: malformed JSON, file ignored: premature end of input near '\"SECRET-VALUE'"
}

@test "migrate leaves a postDeploy naming a folder to the user: the run runs its scripts, a drop-in would not" {
    mkdir -p clevercloud/post-deploy.d
    cp "$FIXTURES/legacy/ruby/clevercloud/notify-slack" clevercloud/post-deploy.d/10-notify
    echo '{"hooks": {"postDeploy": "./clevercloud/post-deploy.d"}}' >clevercloud/php.json
    run --separate-stderr ccwrap run --ready none -- true
    assert_success
    assert_equal "${stderr_lines[0]}" "$(deprecation clevercloud/php.json hooks.postDeploy)"
    assert_regex "${stderr_lines[1]}" "$READY_NONE"
    assert_equal "${stderr_lines[2]}" "ccwrap: Running clevercloud/post-deploy.d/10-notify"
    assert_equal "$(cat "$LOG")" "postDeploy notify-slack"
    before=$(snapshot)
    run --separate-stderr ccwrap migrate --write
    assert_failure 125
    assert_output ""
    assert_equal "$stderr" "ccwrap: clevercloud/php.json: hooks.postDeploy names a folder, whose scripts ccwrap runs in turn; not migrated: move them into hooks.d/run-succeeded/ by hand"
    assert_equal "$(snapshot)" "$before"
}

# ---- shapes met in real repositories -----------------------------------------

@test "a script committed without the executable bit: run and check say so; migrate refuses, --force moves it" {
    fixture not-executable
    run --separate-stderr ccwrap run --ready none -- sh -c 'sleep 0.2'
    assert_success
    assert_equal "${stderr_lines[2]}" "ccwrap: clevercloud/php.json hooks.postDeploy: clevercloud/deploy.sh is not executable; chmod +x clevercloud/deploy.sh"
    assert_equal "${#stderr_lines[@]}" 3
    before=$(snapshot)
    run --separate-stderr ccwrap migrate --write
    assert_failure 125
    assert_output ""
    assert_equal "$stderr" "ccwrap: clevercloud/php.json hooks.postDeploy: clevercloud/deploy.sh is not executable; chmod +x clevercloud/deploy.sh; not migrated (--force migrates it as it is)"
    assert_equal "$(snapshot)" "$before"
    run --separate-stderr ccwrap migrate --write --force
    assert_success
    assert_equal "$stderr" "ccwrap: warning: clevercloud/php.json hooks.postDeploy: clevercloud/deploy.sh is not executable; chmod +x clevercloud/deploy.sh; migrated as it is (--force)"
    assert_equal "$output" "clevercloud/php.json: hooks.postDeploy \"./clevercloud/deploy.sh\" -> hooks.d/run-succeeded/50-post-deploy
migrated 1 hook(s)"
    assert_equal "$(tail -n 1 hooks.d/run-succeeded/50-post-deploy)" "exec ./clevercloud/deploy.sh"
    # check looks through the drop-in at what it runs.
    run --separate-stderr ccwrap check
    assert_failure 1
    assert_output "hooks.d/run-succeeded/50-post-deploy: clevercloud/deploy.sh is not executable; chmod +x clevercloud/deploy.sh"
    chmod +x clevercloud/deploy.sh
    run --separate-stderr ccwrap check
    assert_success
    assert_output ""
}

@test "a script that does not exist (a typo): migrate refuses and names the path; --force moves it" {
    fixture missing-script
    before=$(snapshot)
    run --separate-stderr ccwrap migrate
    assert_failure 125
    assert_output ""
    assert_equal "$stderr" "ccwrap: clevercloud/node.json hooks.postDeploy: ./clevercloud/notfiy.sh: no such file; fix the path in clevercloud/node.json hooks.postDeploy; not migrated (--force migrates it as it is)"
    run --separate-stderr ccwrap migrate --write
    assert_failure 125
    assert_equal "$(snapshot)" "$before"
    run --separate-stderr ccwrap migrate --write --force
    assert_success
    run --separate-stderr ccwrap check
    assert_failure 1
    assert_output "hooks.d/run-succeeded/50-post-deploy: ./clevercloud/notfiy.sh: no such file; fix the path in hooks.d/run-succeeded/50-post-deploy"
}

@test "a bare name: a script at the root for run, plan, check and migrate alike, never a command from PATH" {
    fixture php
    # A program of the same name on PATH must not be what runs.
    mkdir bin
    printf '#!/bin/sh\necho "PATH ccbuild.sh" >>"$LOG"\n' >bin/ccbuild.sh
    chmod 755 bin/ccbuild.sh
    export PATH=$APP/bin:$PATH
    run --separate-stderr ccwrap run --ready none -- true
    assert_success
    assert_equal "$(cat "$LOG")" "postDeploy ccbuild.sh"
    run --separate-stderr ccwrap plan run
    assert_line "      1  clevercloud/php.json hooks.postDeploy  /bin/sh -c './ccbuild.sh'  (deprecated: ccwrap migrate)"
    run --separate-stderr ccwrap migrate --write
    assert_success
    assert_equal "$(tail -n 1 hooks.d/run-succeeded/50-post-deploy)" "exec ./ccbuild.sh"

    # Without the file at the root: the missing script, everywhere, even with one on PATH.
    rm -rf hooks.d ccbuild.sh clevercloud && fixture php && rm ccbuild.sh
    : >"$LOG"
    run --separate-stderr ccwrap run --ready none -- sh -c 'sleep 0.2'
    assert_success
    assert_equal "${stderr_lines[2]}" "ccwrap: clevercloud/php.json hooks.postDeploy: ccbuild.sh: no such file; fix the path in clevercloud/php.json hooks.postDeploy"
    assert_equal "$(cat "$LOG")" ""
    run --separate-stderr ccwrap plan run
    assert_line "      1  clevercloud/php.json hooks.postDeploy  error: ccbuild.sh: no such file; fix the path in clevercloud/php.json hooks.postDeploy (fails with status 127)"
    run --separate-stderr ccwrap check
    assert_failure 1
    assert_line --index 0 "clevercloud/php.json hooks.postDeploy: ccbuild.sh: no such file; fix the path in clevercloud/php.json hooks.postDeploy"
    run --separate-stderr ccwrap migrate
    assert_failure 125
    assert_equal "$stderr" "ccwrap: clevercloud/php.json hooks.postDeploy: ccbuild.sh: no such file; fix the path in clevercloud/php.json hooks.postDeploy; not migrated (--force migrates it as it is)"
}

@test "existing drop-ins sorted after 50: the migrated one sorts after them all, the order of a run is kept" {
    fixture dropins-after-50
    run --separate-stderr ccwrap run --ready none -- sh -c 'sleep 0.3'
    assert_success
    order_before=$(cat "$LOG")
    assert_equal "$order_before" "run-succeeded/10-first
run-succeeded/60-notify
run-succeeded/90-cleanup
postDeploy ccbuild.sh"
    run --separate-stderr ccwrap migrate --write
    assert_success
    # Bytewise, 90-post-deploy sorts after 90-cleanup; README.md is a skipped name.
    assert_equal "${lines[0]}" "clevercloud/php.json: hooks.postDeploy \"ccbuild.sh\" -> hooks.d/run-succeeded/90-post-deploy"
    : >"$LOG"
    run --separate-stderr ccwrap run --ready none -- sh -c 'sleep 0.3'
    assert_success
    assert_equal "$(cat "$LOG")" "$order_before"
}

@test "a drop-in that sorts after every NN-post-deploy: migrate refuses, naming it and the fix" {
    fixture dropins-after-50
    logging_hook run-succeeded 99-zz
    before=$(snapshot)
    run --separate-stderr ccwrap migrate --write
    assert_failure 125
    assert_output ""
    assert_equal "$stderr" "ccwrap: hooks.d/run-succeeded: 99-zz sorts after 99-post-deploy, so a migrated hook would no longer run last; rename it (40-99-zz, say), then migrate again"
    assert_equal "$(snapshot)" "$before"
}

@test "a UTF-8 byte-order mark (Windows editors): the file is read, run, migrated, and keeps its mark" {
    fixture bom
    run --separate-stderr ccwrap run --ready none -- true
    assert_success
    assert_equal "${stderr_lines[0]}" "$(deprecation clevercloud/php.json hooks.postDeploy)"
    assert_equal "$(cat "$LOG")" "postDeploy ccbuild.sh"
    run --separate-stderr ccwrap migrate --write
    assert_success
    assert_equal "$stderr" ""
    assert_equal "$(head -c 3 clevercloud/php.json | od -An -tx1)" " ef bb bf"
    assert_equal "$(tail -c +4 clevercloud/php.json)" '{
  "deploy": {
    "webroot": "/public"
  }
}'
}

@test "CR LF line ends and 4-space indentation are kept when migrate rewrites the file" {
    fixture crlf-four-spaces
    run --separate-stderr ccwrap migrate --write
    assert_success
    assert_equal "$(od -An -c clevercloud/java.json | tr -d ' \n')" "$(printf '{\r\n    "build": {\r\n        "type": "maven",\r\n        "goal": "package"\r\n    }\r\n}\r\n' | od -An -c | tr -d ' \n')"
}

@test "tab indentation, a file on one line, no final newline: each written back alike" {
    fixture php
    printf '{\n\t"deploy": {\n\t\t"webroot": "/public"\n\t},\n\t"hooks": {\n\t\t"postDeploy": "ccbuild.sh"\n\t}\n}' >clevercloud/php.json
    echo '{"build": {"type": "maven"}, "hooks": {"postDeploy": "ccbuild.sh"}, "x": [1, 2]}' >clevercloud/java.json
    run --separate-stderr ccwrap migrate --write
    assert_success
    assert_equal "$(cat clevercloud/java.json)" '{"build": {"type": "maven"}, "x": [1, 2]}'
    assert_equal "$(od -An -c clevercloud/php.json | tr -d ' \n')" "$(printf '{\n\t"deploy": {\n\t\t"webroot": "/public"\n\t}\n}' | od -An -c | tr -d ' \n')"
}

@test "a file left as {}: kept by default and said so; removed only with --remove-empty" {
    fixture php
    run --separate-stderr ccwrap migrate --write
    assert_success
    assert_equal "$(cat clevercloud/php.json)" "{}"
    rm -rf hooks.d clevercloud && fixture php
    run --separate-stderr ccwrap migrate --remove-empty
    assert_success
    assert_equal "$output" "clevercloud/php.json: hooks.postDeploy \"ccbuild.sh\" -> hooks.d/run-succeeded/50-post-deploy
clevercloud/php.json: left empty, would be removed
dry run: nothing changed; run 'ccwrap migrate --write' to apply"
    [ -f clevercloud/php.json ]
    run --separate-stderr ccwrap migrate --write --remove-empty
    assert_success
    assert_equal "${lines[1]}" "clevercloud/php.json: left empty, removed"
    [ ! -e clevercloud/php.json ]
    [ -x hooks.d/run-succeeded/50-post-deploy ]
    run --separate-stderr ccwrap run --ready none -- sh -c 'sleep 0.2'
    assert_success
    assert_equal "$(cat "$LOG")" "postDeploy ccbuild.sh"
}

@test "--force and --remove-empty go with migrate only" {
    run --separate-stderr ccwrap run --force -- true
    assert_failure 125
    assert_equal "$stderr" "ccwrap: --force goes with migrate; see 'ccwrap --help'"
    run --separate-stderr ccwrap check --remove-empty
    assert_failure 125
    assert_equal "$stderr" "ccwrap: --remove-empty goes with migrate; see 'ccwrap --help'"
}

@test "a legacy file over 1 MiB: a warning under run, a refusal under legacy_post_deploy = \"fail\"" {
    mkdir clevercloud
    { printf '{"hooks": {"postDeploy": "./x"}, "pad": "'; head -c 1100000 /dev/zero | tr '\0' a; printf '"}\n'; } >clevercloud/php.json
    run --separate-stderr ccwrap run --ready none -- sh -c 'echo app >>"$LOG"'
    assert_success
    assert_equal "${stderr_lines[0]}" "ccwrap: warning: clevercloud/php.json: larger than 1 MiB, file ignored"
    assert_equal "$(cat "$LOG")" "app"
    : >"$LOG"
    echo 'legacy_post_deploy = "fail"' >ccwrap.conf
    run --separate-stderr ccwrap run --ready none -- sh -c 'echo app >>"$LOG"'
    assert_failure 125
    assert_equal "$stderr" "ccwrap: clevercloud/php.json: larger than 1 MiB, so it may hold a postDeploy, and legacy_post_deploy is \"fail\"; fix or remove it"
    assert_equal "$(cat "$LOG")" ""
    run --separate-stderr ccwrap check
    assert_failure 1
    assert_output "clevercloud/php.json: larger than 1 MiB, file ignored
clevercloud/php.json: cannot be read and legacy_post_deploy is \"fail\": run refuses to start; fix or remove it"
    run --separate-stderr ccwrap migrate --write
    assert_failure 125
    assert_equal "$stderr" "ccwrap: clevercloud/php.json: larger than 1 MiB; cannot migrate: fix it, then migrate again"
}

@test "migrate shows control characters in file names escaped: no forged line" {
    fixture php
    mv clevercloud/php.json "clevercloud/a"$'\n'"ccwrap: migrated 9 hook(s)"$'\e'"[2K.json"
    run --separate-stderr ccwrap migrate
    assert_success
    assert_equal "${lines[0]}" 'clevercloud/a\x0accwrap: migrated 9 hook(s)\x1b[2K.json: hooks.postDeploy "ccbuild.sh" -> hooks.d/run-succeeded/50-post-deploy'
    assert_equal "${#lines[@]}" 3
    # JSON's own escapes, written as they are: \u001b is ESC once parsed.
    printf '%s\n' '{"hooks": {"postDeploy": "./x\u001b[2K\nmigrated"}}' >clevercloud/b.json
    run --separate-stderr ccwrap migrate --force
    assert_success
    assert_equal "${lines[2]}" 'clevercloud/b.json: hooks.postDeploy "./x\u001B[2K\nmigrated" -> hooks.d/run-succeeded/51-post-deploy'
    # A script name holding ESC c (a terminal reset) is named escaped in the refusal.
    rm clevercloud/b.json
    printf '%s\n' '{"hooks": {"postDeploy": "./x\u001bc"}}' >clevercloud/c.json
    run --separate-stderr ccwrap migrate
    assert_failure 125
    assert_equal "$stderr" 'ccwrap: clevercloud/c.json hooks.postDeploy: ./x\x1bc: no such file; fix the path in clevercloud/c.json hooks.postDeploy; not migrated (--force migrates it as it is)'
    run --separate-stderr ccwrap migrate --force
    assert_success
    assert_equal "$stderr" 'ccwrap: warning: clevercloud/c.json hooks.postDeploy: ./x\x1bc: no such file; fix the path in clevercloud/c.json hooks.postDeploy; migrated as it is (--force)'
}

# ---- migrate --write stays in the tree (a second user owns part of it) --------

# as_nobody COMMAND...: runs COMMAND as the unprivileged user nobody.
as_nobody() {
    setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
}

# A root-only folder outside the tree, and a tree whose hooks.d nobody owns.
hostile_setup() {
    [ "$(id -u)" = 0 ] || skip "needs root to act as a second user"
    SECRET=$BATS_TEST_TMPDIR/secret
    mkdir -m 700 "$SECRET"
    # nobody must reach the tree to plant links in it, as a deployment user would.
    chmod o+x "$BATS_RUN_TMPDIR" "$BATS_RUN_TMPDIR/test" "$BATS_TEST_TMPDIR"
    fixture php
    mkdir hooks.d
    chown nobody hooks.d
}

@test "nobody's hooks.d/run-succeeded is a symlink to a root-only folder: migrate refuses, writes nothing there" {
    hostile_setup
    as_nobody ln -s "$SECRET" hooks.d/run-succeeded
    before=$(snapshot)
    run --separate-stderr ccwrap migrate --write
    assert_failure 125
    assert_output ""
    assert_equal "$stderr" "ccwrap: hooks.d/run-succeeded: a symbolic link on the way; migrate writes only through real folders, so that it never writes outside the tree: replace the link with a folder"
    assert_equal "$(ls -A "$SECRET")" ""
    assert_equal "$(snapshot)" "$before"
    # The dry run refuses what --write would.
    run --separate-stderr ccwrap migrate
    assert_failure 125
    assert_output ""
    assert_equal "$stderr" "ccwrap: hooks.d/run-succeeded: a symbolic link on the way; migrate writes only through real folders, so that it never writes outside the tree: replace the link with a folder"
    assert_equal "$(ls -A "$SECRET")" ""
}

@test "nobody's hooks.d is swapped for a symlink, or links deeper down: refused alike" {
    hostile_setup
    rmdir hooks.d
    mkdir -m 777 ops
    as_nobody ln -s "$SECRET" ops/hooks
    echo 'hooks_dirs = {"ops/hooks"}' >ccwrap.conf
    run --separate-stderr ccwrap migrate --write
    assert_failure 125
    assert_equal "$stderr" "ccwrap: ops/hooks/run-succeeded: a symbolic link on the way; migrate writes only through real folders, so that it never writes outside the tree: replace the link with a folder"
    assert_equal "$(ls -A "$SECRET")" ""
    echo 'hooks_dirs = {"../secret"}' >ccwrap.conf
    run --separate-stderr ccwrap migrate --write
    assert_failure 125
    assert_equal "$stderr" "ccwrap: ../secret/run-succeeded: outside the application root; migrate writes only inside it"
    assert_equal "$(ls -A "$SECRET")" ""
}

@test "a clevercloud folder that is a symlink to a root-only folder: migrate does not rewrite what it points to" {
    hostile_setup
    mv clevercloud/php.json "$SECRET/"
    rm -rf clevercloud
    chown nobody "$APP"
    as_nobody ln -s "$SECRET" clevercloud
    secret_before=$(sha256sum "$SECRET/php.json")
    run --separate-stderr ccwrap migrate --write
    assert_failure 125
    assert_equal "$stderr" "ccwrap: clevercloud: a symbolic link on the way; migrate writes only through real folders, so that it never writes outside the tree: replace the link with a folder"
    assert_equal "$(sha256sum "$SECRET/php.json")" "$secret_before"
    assert_equal "$(ls -A "$SECRET")" "php.json"
    [ ! -e hooks.d/run-succeeded ]
}

@test "migrate --write makes its folders 0755 whatever the umask, and the drop-in 0755" {
    fixture php
    umask 077
    run --separate-stderr ccwrap migrate --write
    assert_success
    umask 022
    assert_equal "$(stat -c %a hooks.d hooks.d/run-succeeded hooks.d/run-succeeded/50-post-deploy)" "755
755
755"
}
