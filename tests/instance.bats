#!/usr/bin/env bats
# The instance's environment (§13): the variables Clever Cloud sets, set only when unset,
# for hooks, the command, the application, workers and cron; --env-file and env_files in both
# formats, the environment winning; errors with file and line; the trust rule; plan's sources
# and hidden secrets.
# Design: doc/design.md §13 (the instance's environment).

load test_helper

setup() {
    common_setup
    unset INSTANCE_TYPE INSTANCE_NUMBER INSTANCE_ID CC_COMMIT_ID
    SHOW='for v in APP_HOME INSTANCE_TYPE INSTANCE_NUMBER INSTANCE_ID COMMIT_ID CC_COMMIT_ID PORT; do eval "echo $v=\${$v-unset}"; done'
}

teardown() {
    kill_background
}

@test "hooks, the command and the application see the platform's variables; INSTANCE_TYPE follows the phase" {
    hook pre-build 10-env "{ echo pre-build; $SHOW; } >>\"\$LOG\""
    hook pre-run 10-env "{ echo pre-run; $SHOW; } >>\"\$LOG\""
    run "$CCWRAP" build -- sh -c "{ echo command; $SHOW; } >>\"\$LOG\""
    assert_success
    run "$CCWRAP" -q run --ready exit -- sh -c "{ echo app; $SHOW; } >>\"\$LOG\""
    assert_success
    run sed -E 's/^INSTANCE_ID=[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/INSTANCE_ID=UUIDv4/' "$LOG"
    assert_output "pre-build
APP_HOME=$APP
INSTANCE_TYPE=build
INSTANCE_NUMBER=0
INSTANCE_ID=UUIDv4
COMMIT_ID=unset
CC_COMMIT_ID=unset
PORT=8080
command
APP_HOME=$APP
INSTANCE_TYPE=build
INSTANCE_NUMBER=0
INSTANCE_ID=UUIDv4
COMMIT_ID=unset
CC_COMMIT_ID=unset
PORT=8080
pre-run
APP_HOME=$APP
INSTANCE_TYPE=production
INSTANCE_NUMBER=0
INSTANCE_ID=UUIDv4
COMMIT_ID=unset
CC_COMMIT_ID=unset
PORT=8080
app
APP_HOME=$APP
INSTANCE_TYPE=production
INSTANCE_NUMBER=0
INSTANCE_ID=UUIDv4
COMMIT_ID=unset
CC_COMMIT_ID=unset
PORT=8080"
    # One UUID per ccwrap: the same for a build's hook and command, another for the run.
    run sh -c "grep '^INSTANCE_ID=' \"\$LOG\" | uniq | wc -l"
    assert_output 2
}

@test "COMMIT_ID and CC_COMMIT_ID come from the root's .git when there is one" {
    git -C "$APP" init -q
    git -C "$APP" -c user.email=t@t -c user.name=t commit -q --allow-empty -m one
    head=$(git -C "$APP" rev-parse HEAD)
    run "$CCWRAP" -q run --ready exit -- sh -c 'echo "$COMMIT_ID $CC_COMMIT_ID"'
    assert_success
    assert_output "$head $head"
    # Packed refs too, as after git gc.
    git -C "$APP" pack-refs --all
    run "$CCWRAP" -q run --ready exit -- sh -c 'echo "$COMMIT_ID"'
    assert_output "$head"
}

@test "a variable already set is never overridden, even empty" {
    export PORT=3000 INSTANCE_TYPE=staging INSTANCE_NUMBER=2 INSTANCE_ID=fixed COMMIT_ID=abc CC_COMMIT_ID=
    run "$CCWRAP" -q run --ready exit -- sh -c "$SHOW"
    assert_success
    assert_output "APP_HOME=$APP
INSTANCE_TYPE=staging
INSTANCE_NUMBER=2
INSTANCE_ID=fixed
COMMIT_ID=abc
CC_COMMIT_ID=
PORT=3000"
}

@test "workers see them too (cron entries: tests/cron.bats)" {
    export CC_WORKER_COMMAND="echo \"worker \$INSTANCE_TYPE \$INSTANCE_NUMBER \$PORT\" >>\"\$LOG\""
    run "$CCWRAP" run --ready none -- sh -c 'sleep 0.5'
    assert_success
    assert_equal "$(cat "$LOG")" "worker production 0 8080"
}

@test "--env-file NAME=\"value\" lines: export, quotes, escapes, multi-line values, comments; the environment wins; a later file wins" {
    cat >"$BATS_TEST_TMPDIR/one.env" <<'EOF'
# exported from the console's expert mode
export GREETING="hello \"world\""
MULTI="line one
line two"
SINGLE='no $expansion here'
BARE=plain value   
PORT="9000"
GIVEN="from the file"
LATER="one"

EOF
    printf 'LATER="two"\n' >"$BATS_TEST_TMPDIR/two.env"
    export GIVEN="from the environment"
    run "$CCWRAP" --env-file "$BATS_TEST_TMPDIR/one.env" --env-file "$BATS_TEST_TMPDIR/two.env" -q \
        run --ready exit -- sh -c 'printf "%s|" "$GREETING" "$MULTI" "$SINGLE" "$BARE" "$PORT" "$GIVEN" "$LATER"'
    assert_success
    assert_output 'hello "world"|line one
line two|no $expansion here|plain value|9000|from the environment|two|'
    # Loaded before the hooks run: a pre-build hook sees them.
    hook pre-build 10-see 'echo "$GREETING" >>"$LOG"'
    run "$CCWRAP" --env-file "$BATS_TEST_TMPDIR/one.env" build -- true
    assert_success
    assert_equal "$(cat "$LOG")" 'hello "world"'
}

@test "the JSON array of the CLI and console: [{\"name\": …, \"value\": …}], and env_files in the config" {
    printf '[{"name": "FROM_JSON", "value": "j s o n"}, {"name": "EMPTY", "value": ""}]\n' >"$APP/vars.json"
    printf 'FROM_LINES=yes\n' >"$APP/vars.env"
    printf 'env_files = {"vars.json", "vars.env"}\n' >"$APP/ccwrap.conf"
    run "$CCWRAP" -q run --ready exit -- sh -c 'echo "$FROM_JSON|${EMPTY-unset}|$FROM_LINES"'
    assert_success
    assert_output "j s o n||yes"
}

@test "a bad line names the file and line; run and build refuse with 125 before anything runs; check lists each" {
    f=$BATS_TEST_TMPDIR/bad.env
    printf 'GOOD=1\n\n9BAD=x\nNOEQUALS\nOPEN="never closed\n' >"$f"
    printf '[{"name": "OK", "value": "1"}, {"name": "1X", "value": "v"}, {"value": "no name"}, 3]\n' >"$BATS_TEST_TMPDIR/bad.json"
    hook pre-run 10-log 'echo pre-run >>"$LOG"'
    run "$CCWRAP" --env-file "$f" run -- true
    assert_failure 125
    assert_output "ccwrap: $f:3: not NAME=\"value\" with NAME like [A-Za-z_][A-Za-z0-9_]*; fix or remove the line
ccwrap: $f:4: not NAME=\"value\" with NAME like [A-Za-z_][A-Za-z0-9_]*; fix or remove the line
ccwrap: $f:5: the value's \" is never closed; close it"
    [ ! -s "$LOG" ]
    run "$CCWRAP" --env-file "$BATS_TEST_TMPDIR/bad.json" build -- true
    assert_failure 125
    assert_output "ccwrap: $BATS_TEST_TMPDIR/bad.json: entry 1: '1X' is not a variable name ([A-Za-z_][A-Za-z0-9_]*)
ccwrap: $BATS_TEST_TMPDIR/bad.json: entry 2: not {\"name\": \"NAME\", \"value\": \"VALUE\"}
ccwrap: $BATS_TEST_TMPDIR/bad.json: entry 3: not {\"name\": \"NAME\", \"value\": \"VALUE\"}"
    run "$CCWRAP" --env-file "$BATS_TEST_TMPDIR/missing.env" check
    assert_failure 1
    assert_output "$BATS_TEST_TMPDIR/missing.env: cannot read it: No such file or directory; fix the path or remove it"
}

@test "an env file that others may write is refused (the trust rule)" {
    [ "$(id -u)" = 0 ] || skip "the trust rule matters when ccwrap runs as root"
    mkdir -m 755 "$BATS_TEST_TMPDIR/etc"
    f=$BATS_TEST_TMPDIR/etc/app.env
    printf 'CC_PRE_RUN_HOOK="touch %s/owned"\n' "$BATS_TEST_TMPDIR" >"$f"
    chmod 646 "$f"
    run "$CCWRAP" --env-file "$f" run -- true
    assert_failure 125
    assert_output --regexp "^ccwrap: $f: .*writable by group or others"
    [ ! -e "$BATS_TEST_TMPDIR/owned" ]
}

@test "plan never shows the password of a URL, whatever the variable's name" {
    printf 'DATABASE_URL="postgres://shop:hunter2@db.example:5432/shop"\nREDIS_URL="redis://:pw%%2Fx@cache:6379"\nHOMEPAGE="https://example.com/@shop"\n' >"$APP/app.env"
    run "$CCWRAP" --env-file "$APP/app.env" plan run
    assert_success
    refute_output --partial hunter2
    refute_output --partial pw%2Fx
    assert_line --regexp "^ +-  DATABASE_URL +postgres://db.example:5432/shop \(user:password hidden\) \(from $APP/app.env:1\)$"
    assert_line --regexp "^ +-  REDIS_URL +redis://cache:6379 \(user:password hidden\) \(from $APP/app.env:2\)$"
    assert_line --regexp "^ +-  HOMEPAGE +https://example.com/@shop \(from $APP/app.env:3\)$"
    run "$CCWRAP" --env-file "$APP/app.env" run -- printenv DATABASE_URL
    assert_output --partial "postgres://shop:hunter2@db.example:5432/shop"
}

@test "plan shows each variable with its source and never the value of a secret's name" {
    printf 'export DB_PASSWORD="hunter2"\nApi_Key=k\nGITHUB_TOKEN=t\nMY_SECRET_X=s\nPORT=9000\nSHOWN=visible\nGIVEN=file\n' >"$APP/app.env"
    GIVEN=from-env run "$CCWRAP" --env-file "$APP/app.env" plan run
    assert_success
    refute_output --partial hunter2
    refute_output --regexp '=k$|\bk \(|\bt \(|\bs \('
    assert_line --regexp "^  environment +set by ccwrap: APP_HOME \(the root\), INSTANCE_TYPE=production, INSTANCE_NUMBER=0, INSTANCE_ID \(a new UUID\)$"
    assert_line --regexp "^ +-  DB_PASSWORD +\(hidden: the name suggests a secret\) \(from $APP/app.env:1\)$"
    assert_line --regexp "^ +-  Api_Key +\(hidden: the name suggests a secret\) \(from $APP/app.env:2\)$"
    assert_line --regexp "^ +-  GITHUB_TOKEN +\(hidden: the name suggests a secret\) \(from $APP/app.env:3\)$"
    assert_line --regexp "^ +-  MY_SECRET_X +\(hidden: the name suggests a secret\) \(from $APP/app.env:4\)$"
    assert_line --regexp "^ +-  PORT +9000 \(from $APP/app.env:5\)$"
    assert_line --regexp "^ +-  SHOWN +visible \(from $APP/app.env:6\)$"
    assert_line --regexp "^ +-  GIVEN +from-env \(from the environment, which wins over $APP/app.env:7\)$"
    PORT=3000 run "$CCWRAP" plan build
    assert_line --regexp "^  environment +set by ccwrap: APP_HOME \(the root\), INSTANCE_TYPE=build, INSTANCE_NUMBER=0, INSTANCE_ID \(a new UUID\); from the environment: PORT=3000$"
}
