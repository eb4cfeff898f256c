#!/usr/bin/env bats
# ccwrap as a container's entrypoint (PID 1) under a real runtime, podman, with tests/podman's
# settings: the image `make image` builds (contrib/Containerfile.prebuilt over a Debian 12
# minbase made by contrib/base-image), stopped, killed and reloaded the way `podman stop` and
# `podman kill` do it; orphans, readiness, CC_*_HOOK variables, a failing pre-run, and a build
# cache shared by two containers through a folder of the host. `make check-container` runs it.
# The base image is built once and kept (build-container/); the test image is rebuilt each run
# from the binaries of the tree. Skipped, saying why, where podman cannot run a container.
# Design: doc/design.md §7 (signals, PID 1, orphans), §5 (run phase, readiness),
# §2 (hook variables), §10 (a shared cache).

load test_helper

IMAGE=localhost/ccwrap-test:latest
BASE=localhost/ccwrap-test-base:bookworm

setup_file() {
    local err
    export CONTAINER_SKIP=""
    if ! command -v podman >/dev/null; then
        CONTAINER_SKIP="podman is not installed: contrib/install-deps container"
        return 0
    fi
    if ! "$TOP/tests/podman" image inspect "$BASE" >/dev/null 2>&1 && ! command -v mmdebstrap >/dev/null; then
        CONTAINER_SKIP="no base image $BASE and no mmdebstrap to make one: contrib/install-deps container"
        return 0
    fi
    # No test's watchdog runs yet: every step here is bounded by timeout instead.
    timeout 600 "$TOP/contrib/base-image" "$TOP/tests/podman" "$BASE" 3>&-
    if ! err=$(timeout 60 "$TOP/tests/podman" run --rm "$BASE" true 2>&1 3>&-); then
        CONTAINER_SKIP="podman cannot run a container here: ${err//$'\n'/; }"
        return 0
    fi
    # The image of the binaries under test, as a user makes it (make image, COPY only), in one
    # layer over the base: vfs stores each layer as a full copy of the tree. The previous run's
    # image, untagged now, goes.
    timeout 300 make -C "$TOP" -s image IMAGE_ENGINE="$TOP/tests/podman" IMAGE_BASE="$BASE" IMAGE="$IMAGE" \
        IMAGE_BUILD_FLAGS=--layers=false >/dev/null 3>&-
    timeout 60 "$TOP/tests/podman" image prune -f >/dev/null 3>&-
}

setup() {
    [ -z "$CONTAINER_SKIP" ] || skip "$CONTAINER_SKIP"
    common_setup
    # Hooks and the application root are the test's, mounted as the image's /srv/app; what
    # they record goes to /out, writable by the image's user (nobody).
    OUT=$BATS_TEST_TMPDIR/out
    mkdir -p "$OUT"
    chmod 1777 "$OUT"
    NAMES=$BATS_TEST_TMPDIR/containers
    : >"$NAMES"
}

teardown() {
    local n
    if [ -f "${NAMES:-/nonexistent}" ]; then
        while read -r n; do
            timeout 30 "$TOP/tests/podman" rm -f -t 0 "$n" >/dev/null 2>&1 3>&- || true
        done <"$NAMES"
    fi
    kill_background
}

pm() {
    timeout 60 "$TOP/tests/podman" "$@" 3>&-
}

# start NAME PODMAN-RUN-ARGS...: a detached container of the test (removed in teardown), with
# the test's application root and /out mounted, and testapp in /usr/local/bin.
start() {
    local name=ccwrap-test-$$-$BATS_SUITE_TEST_NUMBER-$1
    shift
    echo "$name" >>"$NAMES"
    CTR=$name
    pm run -d --name "$name" -v "$APP:/srv/app:ro" -v "$OUT:/out" \
        -v "$TESTAPP:/usr/local/bin/testapp:ro" "$@" >/dev/null
}

# status_is STATUS: the container has exited, and podman wait and podman inspect say STATUS.
status_is() {
    run pm wait "$CTR"
    assert_success
    assert_output "$1"
    run pm inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$CTR"
    assert_output "exited $1"
}

# running: the container is still running.
running() {
    [ "$(pm inspect --format '{{.State.Running}}' "$CTR")" = true ]
}

# in_log LINE: /out/log has LINE.
in_log() {
    grep -qxF "$1" "$OUT/log"
}

# The test's own drop-ins: each logs its point to /out/log; run-failed with its result.
point_hooks() {
    hook pre-run 10-log 'echo pre-run >>/out/log'
    hook run-succeeded 10-log 'echo run-succeeded >>/out/log'
    hook run-failed 10-log 'echo "run-failed $CCWRAP_RESULT ${CCWRAP_EXIT_CODE:-} ${CCWRAP_EXIT_STATUS:-}" >>/out/log'
}

@test "the image as make image builds it: pre-run, ready on \$PORT, run-succeeded; podman stop ends it with the app's status" {
    local name=ccwrap-test-$$-$BATS_SUITE_TEST_NUMBER-demo
    echo "$name" >>"$NAMES"
    CTR=$name
    pm run -d --name "$name" "$IMAGE" >/dev/null
    wait_for 20 bash -c "$TOP/tests/podman logs $name 2>&1 | grep -q 'the application answered: hello, set by hooks.d/pre-run/10-set-greeting'"
    run pm logs "$name"
    assert_line --regexp '^ccwrap: Application ready \(tcp\) after [0-9]+\.[0-9]{3} s$'
    assert_line "demo-app: listening on 0.0.0.0:8080"
    # It runs as the image's user, nobody, the hooks with it.
    run pm top "$name" user comm
    assert_output --regexp "nobody +ccwrap"
    assert_output --regexp "nobody +demo-app"
    run pm stop -t 10 "$name"
    assert_success
    # demo-app stops cleanly on SIGTERM: status 0, as the bare program's.
    status_is 0
    run pm logs "$name"
    assert_line "demo-app: SIGTERM received, stopping cleanly"
}

@test "podman stop: the app gets SIGTERM once and dies of it: 143; run-succeeded ran once, run-failed never" {
    point_hooks
    start stop "$IMAGE" testapp --listen 8080 --signals /out/signals --exit-on TERM
    wait_for 20 in_log run-succeeded
    run pm stop -t 10 "$CTR"
    assert_success
    status_is 143
    assert_equal "$(cat "$OUT/signals")" "TERM 1"
    assert_equal "$(cat "$OUT/log")" "pre-run
run-succeeded"
}

@test "podman stop: an app that handles SIGTERM and exits 3 ends the container with 3" {
    point_hooks
    start stop3 -e CCWRAP_READY=none "$IMAGE" \
        sh -c 'trap "echo TERM >>/out/app; exit 3" TERM; echo started >>/out/app; while :; do sleep 1 & wait $!; done'
    wait_for 20 in_log run-succeeded
    wait_for 5 grep -q started "$OUT/app"
    run pm stop -t 10 "$CTR"
    assert_success
    status_is 3
    assert_equal "$(cat "$OUT/app")" "started
TERM"
    assert_equal "$(cat "$OUT/log")" "pre-run
run-succeeded"
}

@test "podman stop before the app is ready: the app gets SIGTERM once, 143, and no hook starts after it" {
    point_hooks
    start early "$IMAGE" testapp --listen-after 60 --listen 8080 --signals /out/signals --exit-on TERM
    wait_for 20 bash -c "$TOP/tests/podman top $CTR comm | grep -qx testapp"
    run pm stop -t 10 "$CTR"
    assert_success
    status_is 143
    assert_equal "$(cat "$OUT/signals")" "TERM 1"
    # §7: after a relayed TERM nothing new starts, run-failed included.
    assert_equal "$(cat "$OUT/log")" "pre-run"
}

@test "podman stop -t 1 on an app that ignores SIGTERM: killed, 137, nothing left" {
    local mark=ccwrap-test-mark-$$-$BATS_SUITE_TEST_NUMBER
    point_hooks
    start stubborn "$IMAGE" testapp --listen 8080 --signals /out/signals --print "$mark"
    wait_for 20 in_log run-succeeded
    run pm stop -t 1 "$CTR"
    assert_success
    status_is 137
    assert_equal "$(cat "$OUT/signals")" "TERM 1"
    # Not one process of the container is left on the host.
    run pgrep -f "$mark"
    assert_failure 1
}

@test "podman kill -s HUP: the app reloads (it logs the HUP and keeps serving), the container keeps running" {
    point_hooks
    start hup "$IMAGE" testapp --listen 8080 --http /=200 --signals /out/signals
    wait_for 20 in_log run-succeeded
    run pm kill -s HUP "$CTR"
    assert_success
    wait_for 5 grep -qx "HUP 1" "$OUT/signals"
    run pm kill -s HUP "$CTR"
    assert_success
    wait_for 5 grep -qx "HUP 2" "$OUT/signals"
    sleep 0.5
    assert running
    assert_equal "$(cat "$OUT/signals")" "HUP 1
HUP 2"
    # Still serving, and nothing ran again: no hook, no second start.
    run pm exec "$CTR" bash -c 'exec 3<>/dev/tcp/127.0.0.1/8080; printf "GET / HTTP/1.0\r\n\r\n" >&3; head -n 1 <&3'
    assert_success
    assert_output --regexp '^HTTP/1.0 200'
    assert_equal "$(cat "$OUT/log")" "pre-run
run-succeeded"
}

@test "podman kill -s HUP reaches the main program only, not the rest of its tree (§7: a reload)" {
    point_hooks
    start hup-tree "$IMAGE" \
        sh -c 'testapp --signals /out/helper-signals --touch /out/helper-up & exec testapp --listen 8080 --signals /out/signals'
    wait_for 20 in_log run-succeeded
    wait_for 5 test -e "$OUT/helper-up"
    run pm kill -s HUP "$CTR"
    assert_success
    wait_for 5 grep -qx "HUP 1" "$OUT/signals"
    sleep 0.5
    assert running
    assert_equal "$(cat "$OUT/signals")" "HUP 1"
    assert [ ! -s "$OUT/helper-signals" ]
    run pm top "$CTR" comm
    assert_output "COMMAND
ccwrap
testapp
testapp"
}

@test "orphans are reaped: no zombie in podman top, only ccwrap and the app are left" {
    # Each orphan's parent exits at once: the orphan is reparented to ccwrap (PID 1), and
    # becomes a zombie when it ends unless ccwrap reaps it.
    start orphans -e CCWRAP_READY=none "$IMAGE" \
        sh -c 'for i in 1 2 3 4 5; do (sleep 0.2 &) ; done; sh -c "sleep 0.3 &"; exec testapp --listen 8080'
    wait_for 10 bash -c "[ \"\$($TOP/tests/podman top $CTR comm | grep -c sleep)\" = 0 ]"
    sleep 0.5
    run pm top "$CTR" pid ppid state comm
    assert_success
    refute_output --regexp '[[:space:]]Z[[:space:]]'
    run pm top "$CTR" comm
    assert_output "COMMAND
ccwrap
testapp"
    run pm top "$CTR" pid comm
    assert_line --regexp '^1 +ccwrap$'
}

@test "readiness inside the container: run-succeeded only once the app listens on \$PORT" {
    point_hooks
    start ready -e PORT=9000 "$IMAGE" \
        sh -c 'echo app-started >>/out/log; exec testapp --listen-after 1.5 --listen "$PORT"'
    wait_for 20 in_log run-succeeded
    assert_equal "$(cat "$OUT/log")" "pre-run
app-started
run-succeeded"
    run pm logs "$CTR"
    assert_output --regexp "ccwrap: Application ready \(tcp\) after (1\.[5-9]|[2-9]\.)[0-9]* s"
}

@test "not ready within --ready-timeout: run-failed sees the timeout, the container ends with 124" {
    point_hooks
    start notready -e PORT=9000 --entrypoint /usr/local/bin/ccwrap "$IMAGE" \
        run --ready-timeout 1 -- testapp --listen 9001 --signals /out/signals --exit-on TERM
    status_is 124
    assert_equal "$(cat "$OUT/log")" "pre-run
run-failed timeout  "
    assert_equal "$(cat "$OUT/signals")" "TERM 1"
}

@test "CC_*_HOOK variables from podman run -e run before the drop-ins" {
    point_hooks
    start vars -e CC_PRE_RUN_HOOK='echo pre-run-var >>/out/log' \
        -e CC_RUN_SUCCEEDED_HOOK='echo "run-succeeded-var $PORT" >>/out/log' "$IMAGE" \
        testapp --listen 8080
    wait_for 20 in_log run-succeeded
    assert_equal "$(cat "$OUT/log")" "pre-run-var
pre-run
run-succeeded-var 8080
run-succeeded"
}

@test "a failing pre-run ends the container with the hook's status; run-failed runs; the app never starts" {
    point_hooks
    hook pre-run 20-fail 'exit 7'
    start prerun "$IMAGE" sh -c 'echo app-started >>/out/log; exec testapp --listen 8080'
    status_is 7
    assert_equal "$(cat "$OUT/log")" "pre-run
run-failed pre-run exited 7"
    run pm logs "$CTR"
    assert_line --partial "hooks.d/pre-run/20-fail"
}

@test "ccwrap build --from-cache in one container restores what another container's build saved to a host folder" {
    local store=$BATS_TEST_TMPDIR/store src1=$BATS_TEST_TMPDIR/src1 src2=$BATS_TEST_TMPDIR/src2 s
    mkdir -p "$store" "$src1" "$src2"
    for s in "$src1" "$src2"; do
        mkdir -p "$s/hooks.d/post-build"
        printf '#!/bin/sh\necho post-build >>/out/log\n' >"$s/hooks.d/post-build/10-log"
        chmod 755 "$s/hooks.d/post-build/10-log"
        echo 'source' >"$s/main.c"
    done
    # The first container builds: the command writes dist/, post-build runs, the archive goes
    # to the host's folder.
    run pm run --rm --user 0 -v "$src1:/srv/app" -v "$store:/store" -v "$OUT:/out" \
        -e CCWRAP_CACHE=/store -e APP_ID=myapp -e COMMIT_ID=c1 \
        --entrypoint /usr/local/bin/ccwrap "$IMAGE" \
        build -- sh -c 'mkdir -p dist && echo built >dist/app && ln -s app dist/link && echo command >>/out/log'
    assert_success
    assert_line --regexp "^ccwrap: build cache: saved [0-9]+ files, .* to /store/myapp/c1\.tar\.zst in "
    assert [ -f "$store/myapp/c1.tar.zst" ]
    assert_equal "$(cat "$OUT/log")" "command
post-build"
    : >"$OUT/log"
    # The second, from the same commit's sources only: restored, no command, no post-build.
    run pm run --rm --user 0 -v "$src2:/srv/app" -v "$store:/store" -v "$OUT:/out" \
        -e CCWRAP_CACHE=/store -e APP_ID=myapp -e COMMIT_ID=c1 \
        --entrypoint /usr/local/bin/ccwrap "$IMAGE" \
        build --from-cache -- sh -c 'echo command >>/out/log'
    assert_success
    assert_line --regexp "^ccwrap: build cache: restored [0-9]+ files, .* from /store/myapp/c1\.tar\.zst in "
    assert_line "ccwrap: build cache: build command and post-build hooks skipped (--from-cache)"
    assert_equal "$(cat "$OUT/log")" ""
    assert_equal "$(cat "$src2/dist/app")" built
    assert_equal "$(readlink "$src2/dist/link")" app
}

@test "contrib/Dockerfile builds over BUILD_BASE and BASE, and its image runs the demo as the user app" {
    # Its build stage installs a compiler with apt-get: it needs a Debian mirror, as mmdebstrap
    # did for the base; the build gets the host's network.
    local tag=localhost/ccwrap-dockerfile-test:latest name=ccwrap-test-$$-$BATS_SUITE_TEST_NUMBER-df
    echo "$name" >>"$NAMES"
    run timeout 900 "$TOP/tests/podman" build --quiet --layers=false --network=host \
        -f "$TOP/contrib/Dockerfile" --build-arg BUILD_BASE="$BASE" --build-arg BASE="$BASE" \
        -t "$tag" "$TOP" 3>&-
    assert_success
    CTR=$name
    pm run -d --name "$name" "$tag" >/dev/null
    wait_for 20 bash -c "$TOP/tests/podman logs $name 2>&1 | grep -q 'the application answered: hello, set by hooks.d/pre-run/10-set-greeting'"
    run pm top "$name" user comm
    assert_output --regexp "app +ccwrap"
    assert_output --regexp "app +demo-app"
    run pm stop -t 10 "$name"
    assert_success
    status_is 0
    pm rm -f "$name" >/dev/null
    pm rmi "$tag" >/dev/null
    pm image prune -f >/dev/null
}
