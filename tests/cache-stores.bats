#!/usr/bin/env bats
# The build cache's remote stores (§10): http(s) GET/PUT/DELETE against a real nginx
# with WebDAV, and s3:// signed with AWS SigV4 against s3rver (npm), both on 127.0.0.1.
# Design: doc/design.md §10 (build cache archive: stores).

load test_helper

setup() {
    common_setup
    unset CC_DISABLE_BUILD_CACHE_UPLOAD AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN \
        AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_REGION AWS_DEFAULT_REGION
    export APP_ID=myapp COMMIT_ID=c1
    mkdir -p "$APP/node_modules/pkg"
    echo 'module.exports = 1' >"$APP/node_modules/pkg/index.js"
    head -c 2000000 /dev/urandom >"$APP/node_modules/pkg/blob.bin"
    sha256sum <"$APP/node_modules/pkg/blob.bin" >"$BATS_TEST_TMPDIR/blob.sum"
}

teardown() {
    kill_background
}

# nginx as this user, everything under the test's folder: /cache/ takes PUT and DELETE, /private/
# too behind basic auth (user:s3cret), /ro/ only reads.
start_nginx() {
    NGX=$BATS_TEST_TMPDIR/nginx
    mkdir -p "$NGX/www/cache" "$NGX/www/private" "$NGX/www/ro" "$NGX/tmp" "$NGX/logs"
    NGINX_PORT=$(free_port)
    printf 'user:{PLAIN}s3cret\n' >"$NGX/htpasswd"
    cat >"$NGX/nginx.conf" <<EOF
daemon off;
master_process off;
pid $NGX/nginx.pid;
error_log $NGX/logs/error.log;
events { worker_connections 64; }
http {
    access_log $NGX/logs/access.log;
    client_body_temp_path $NGX/tmp/body;
    proxy_temp_path $NGX/tmp/proxy;
    fastcgi_temp_path $NGX/tmp/fastcgi;
    uwsgi_temp_path $NGX/tmp/uwsgi;
    scgi_temp_path $NGX/tmp/scgi;
    client_max_body_size 0;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $NGX/www;
        location /cache/ { dav_methods PUT DELETE; create_full_put_path on; }
        location /private/ {
            auth_basic "cache";
            auth_basic_user_file $NGX/htpasswd;
            dav_methods PUT DELETE;
            create_full_put_path on;
        }
        location /ro/ { }
    }
}
EOF
    nginx -p "$NGX" -c "$NGX/nginx.conf" -e "$NGX/logs/error.log" 3>&- &
    remember_pid $!
    wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$NGINX_PORT"
}

# s3rver (tests/s3server.js) with the bucket "builds"; key S3RVER, secret S3RVER.
start_s3() {
    [ -f "$TOP/tests/node_modules/@20minutes/s3rver/package.json" ] ||
        fail "s3rver is not installed: run contrib/install-deps"
    S3DIR=$BATS_TEST_TMPDIR/s3
    mkdir -p "$S3DIR"
    S3_PORT=$(free_port)
    NODE_PATH=$TOP/tests/node_modules node "$TOP/tests/s3server.js" "$S3DIR" "$S3_PORT" builds \
        >"$BATS_TEST_TMPDIR/s3.log" 2>&1 3>&- &
    remember_pid $!
    wait_for 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$S3_PORT"
    export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
    export AWS_ENDPOINT_URL=http://127.0.0.1:$S3_PORT
}

# A second machine: a fresh checkout without node_modules, restoring from the store; with
# CCWRAP_CACHE_VERIFY_KEY the signature is verified, without it a warning says it was not.
assert_restores() {
    rm -rf "$APP/node_modules"
    run --separate-stderr "$CCWRAP" build --from-cache -- sh -c 'echo command >>"$LOG"'
    assert_success
    if [ -n "${CCWRAP_CACHE_VERIFY_KEY:-}" ]; then
        assert_regex "${stderr_lines[0]}" "^ccwrap: build cache: restored 2 files, 2 folders, 0 symlinks, [0-9.]+ MiB from $1, signature verified in [0-9.]+ s$"
    else
        assert_regex "${stderr_lines[0]}" "^ccwrap: warning: build cache: .*: restored without cache_verify_key: whoever can write the store chooses what this instance runs; sign archives in CI and set cache_verify_key$"
        assert_regex "${stderr_lines[1]}" "^ccwrap: build cache: restored 2 files, 2 folders, 0 symlinks, [0-9.]+ MiB from $1 in [0-9.]+ s$"
    fi
    assert_equal "$(cat "$LOG")" ""
    assert_equal "$(sha256sum <"$APP/node_modules/pkg/blob.bin")" "$(cat "$BATS_TEST_TMPDIR/blob.sum")"
}

@test "http: the archive is PUT to nginx signed, listed in the app's index, restored with GET and verified" {
    start_nginx
    make_keys
    export CCWRAP_CACHE=http://127.0.0.1:$NGINX_PORT/cache
    CCWRAP_CACHE_SIGN_KEY=$KEYS/sign.pem run --separate-stderr "$CCWRAP" build -- true
    assert_success
    assert_regex "$stderr" "^ccwrap: build cache: saved 2 files, 2 folders, 0 symlinks, [0-9.]+ MiB to http://127.0.0.1:$NGINX_PORT/cache/myapp/c1\.tar\.zst, signed in [0-9.]+ s$"
    zstd -q -t "$NGX/www/cache/myapp/c1.tar.zst"
    assert_regex "$(cat "$NGX/www/cache/myapp/index")" '^c1 [0-9]+ [0-9]+ 2$'
    assert_equal "$(sed -n 4p "$NGX/www/cache/myapp/c1.tar.zst.sig")" "sha256 $(sha256sum <"$NGX/www/cache/myapp/c1.tar.zst" | cut -d' ' -f1)"
    CCWRAP_CACHE_VERIFY_KEY=$KEYS/verify.pem assert_restores "http://127.0.0.1:$NGINX_PORT/cache/myapp/c1\.tar\.zst"
    # Another key's signature, or a byte changed on the server: refused, a full build.
    openssl genpkey -algorithm ed25519 -out "$KEYS/other.pem" 2>/dev/null
    openssl pkey -in "$KEYS/other.pem" -pubout -out "$KEYS/other.pub"
    : >"$LOG"
    CCWRAP_CACHE_VERIFY_KEY=$KEYS/other.pub run --separate-stderr "$CCWRAP" build --from-cache -- sh -c 'echo command >>"$LOG"'
    assert_success
    assert_equal "${stderr_lines[0]}" "ccwrap: build cache: signature does not match: http://127.0.0.1:$NGINX_PORT/cache/myapp/c1.tar.zst is not signed for app myapp, commit c1 by the key of cache_verify_key $KEYS/other.pub"
    assert_equal "$(cat "$LOG")" command
    printf 'X' | dd of="$NGX/www/cache/myapp/c1.tar.zst" bs=1 seek=100 conv=notrunc 2>/dev/null
    : >"$LOG"
    CCWRAP_CACHE_VERIFY_KEY=$KEYS/verify.pem run --separate-stderr "$CCWRAP" build --from-cache -- sh -c 'echo command >>"$LOG"'
    assert_success
    assert_regex "${stderr_lines[0]}" "^ccwrap: build cache: corrupt archive \(sha256 mismatch\): http://127.0.0.1:$NGINX_PORT/cache/myapp/c1\.tar\.zst is "
    assert_equal "$(cat "$LOG")" command
}

@test "http, s3: a missing archive, a store never saved to, a missing bucket: each says which" {
    start_nginx
    export CCWRAP_CACHE=http://127.0.0.1:$NGINX_PORT/cache CC_DISABLE_BUILD_CACHE_UPLOAD=true
    run --separate-stderr "$CCWRAP" build --from-cache -- true
    assert_success
    assert_equal "${stderr_lines[0]}" "ccwrap: build cache: no archive for commit c1: http://127.0.0.1:$NGINX_PORT/cache/myapp/c1.tar.zst does not exist, nor the app's index: nothing saved there yet, or a wrong store path"
    COMMIT_ID=c2 CC_DISABLE_BUILD_CACHE_UPLOAD=false run "$CCWRAP" build -- true
    assert [ -f "$NGX/www/cache/myapp/index" ]
    run --separate-stderr "$CCWRAP" build --from-cache -- true
    assert_equal "${stderr_lines[0]}" "ccwrap: build cache: no archive for commit c1: http://127.0.0.1:$NGINX_PORT/cache/myapp/c1.tar.zst does not exist"
    start_s3
    export CCWRAP_CACHE=s3://no-such-bucket/x
    run --separate-stderr "$CCWRAP" --events "$BATS_TEST_TMPDIR/ev" build --from-cache -- sh -c 'echo command >>"$LOG"'
    assert_success
    assert_equal "${stderr_lines[0]}" "ccwrap: build cache: no such bucket: s3://no-such-bucket/x/ (HTTP 404 NoSuchBucket); create the bucket or fix the cache setting"
    assert_equal "${stderr_lines[1]}" "ccwrap: build cache: nothing restored; building in full"
    assert_equal "$(cat "$LOG")" command
    run jq -r 'select(.event == "cache_restore") | .reason' "$BATS_TEST_TMPDIR/ev"
    assert_output no-store
}

@test "http: cache_keep prunes with DELETE; ccwrap cache list reads the index" {
    start_nginx
    export CCWRAP_CACHE=http://127.0.0.1:$NGINX_PORT/cache
    printf 'cache_keep = 1\n' >"$BATS_TEST_TMPDIR/ccwrap.conf"
    export CCWRAP_CONFIG=$BATS_TEST_TMPDIR/ccwrap.conf
    COMMIT_ID=c1 run "$CCWRAP" build -- true
    COMMIT_ID=c2 run "$CCWRAP" build -- true
    assert_success
    assert_equal "$(find "$NGX/www/cache/myapp" -mindepth 1 -printf '%f\n' | sort | tr '\n' ' ')" "c2.tar.zst c2.tar.zst.sig index "
    run --separate-stderr "$CCWRAP" cache list
    assert_success
    assert_equal "${lines[0]}" "http://127.0.0.1:$NGINX_PORT/cache/myapp/"
    assert_regex "${lines[1]}" '^  c2 .* 2 files$'
    assert_equal "${#lines[@]}" 2
}

@test "http: prune never sends a DELETE outside the store's path, whatever the index says" {
    start_nginx
    export CCWRAP_CACHE=http://127.0.0.1:$NGINX_PORT/cache/deep
    echo precious >"$NGX/www/cache/x.tar.zst"
    for c in c1 c2; do COMMIT_ID=$c run "$CCWRAP" build -- true; done
    printf '../../x 1 1 1\n' >>"$NGX/www/cache/deep/myapp/index"
    run --separate-stderr "$CCWRAP" cache prune --keep 1
    assert_success
    assert_equal "${stderr_lines[0]}" "ccwrap: build cache: the index names '~2E.~2F..~2Fx', not an archive name this store writes; line ignored, nothing deleted"
    assert_equal "$(cat "$NGX/www/cache/x.tar.zst")" precious
    assert_equal "$(find "$NGX/www/cache/deep/myapp" -mindepth 1 -printf '%f\n' | sort | tr '\n' ' ')" "c2.tar.zst c2.tar.zst.sig index "
    run grep -c 'DELETE /cache/x' "$NGX/logs/access.log"
    assert_output 0
}

@test "http: user:password in the URL authenticates and is never shown; a wrong one warns, status 0" {
    start_nginx
    export CCWRAP_CACHE=http://user:s3cret@127.0.0.1:$NGINX_PORT/private
    run --separate-stderr "$CCWRAP" --events "$BATS_TEST_TMPDIR/ev" build -- true
    assert_success
    assert_regex "$stderr" "to http://127.0.0.1:$NGINX_PORT/private/myapp/c1\.tar\.zst in"
    assert [ -f "$NGX/www/private/myapp/c1.tar.zst" ]
    run "$CCWRAP" plan build
    refute_output --partial s3cret
    assert_line --partial "archive to http://127.0.0.1:$NGINX_PORT/private/ (CCWRAP_CACHE)"
    assert_restores "http://127.0.0.1:$NGINX_PORT/private/myapp/c1\.tar\.zst"
    export COMMIT_ID=c2 CCWRAP_CACHE=http://user:wrong@127.0.0.1:$NGINX_PORT/private
    run --separate-stderr "$CCWRAP" --events "$BATS_TEST_TMPDIR/ev" build -- true
    assert_success
    assert_equal "$stderr" "ccwrap: build cache: http://127.0.0.1:$NGINX_PORT/private/myapp/c2.tar.zst: PUT refused: HTTP 401: the store refused the credentials; check the user:password of the URL
ccwrap: warning: build cache: no archive saved; the build itself succeeded"
    run grep -c -e s3cret -e wrong "$BATS_TEST_TMPDIR/ev"
    assert_output 0
}

@test "http: a store that refuses PUT, or nothing listening: a warning on save, a full build on restore" {
    start_nginx
    export CCWRAP_CACHE=http://127.0.0.1:$NGINX_PORT/ro
    run --separate-stderr "$CCWRAP" build -- true
    assert_success
    assert_equal "${stderr_lines[0]}" "ccwrap: build cache: http://127.0.0.1:$NGINX_PORT/ro/myapp/c1.tar.zst: PUT refused: HTTP 405"
    closed=$(free_port)
    export CCWRAP_CACHE=http://127.0.0.1:$closed/cache
    run --separate-stderr "$CCWRAP" build --from-cache -- sh -c 'echo command >>"$LOG"'
    assert_success
    assert_regex "${stderr_lines[0]}" "^ccwrap: build cache: http://127.0.0.1:$closed/cache/myapp/c1\.tar\.zst: GET: Failed to connect to 127\.0\.0\.1 port $closed"
    assert_equal "${stderr_lines[1]}" "ccwrap: build cache: nothing restored; building in full"
    assert_equal "$(cat "$LOG")" command
}

@test "s3: SigV4-signed PUT, GET and DELETE against s3rver, path-style at AWS_ENDPOINT_URL" {
    start_s3
    export CCWRAP_CACHE=s3://builds/ci/cache
    printf 'cache_keep = 1\n' >"$BATS_TEST_TMPDIR/ccwrap.conf"
    export CCWRAP_CONFIG=$BATS_TEST_TMPDIR/ccwrap.conf
    make_keys
    export CCWRAP_CACHE_SIGN_KEY=$KEYS/sign.pem
    run --separate-stderr "$CCWRAP" build -- true
    assert_success
    assert_regex "$stderr" "^ccwrap: build cache: saved 2 files, 2 folders, 0 symlinks, [0-9.]+ MiB to s3://builds/ci/cache/myapp/c1\.tar\.zst, signed in [0-9.]+ s$"
    assert [ -f "$S3DIR/builds/ci/cache/myapp/c1.tar.zst._S3rver_object" ]
    assert [ -f "$S3DIR/builds/ci/cache/myapp/c1.tar.zst.sig._S3rver_object" ]
    CCWRAP_CACHE_VERIFY_KEY=$KEYS/verify.pem assert_restores "s3://builds/ci/cache/myapp/c1\.tar\.zst"
    COMMIT_ID=c2 run "$CCWRAP" build -- true
    assert_success
    assert [ ! -e "$S3DIR/builds/ci/cache/myapp/c1.tar.zst._S3rver_object" ]
    assert [ ! -e "$S3DIR/builds/ci/cache/myapp/c1.tar.zst.sig._S3rver_object" ]
    assert [ -f "$S3DIR/builds/ci/cache/myapp/c2.tar.zst._S3rver_object" ]
}

@test "s3: a wrong secret is refused by the server; the build warns and keeps status 0" {
    start_s3
    export CCWRAP_CACHE=s3://builds/p AWS_SECRET_ACCESS_KEY=not-the-secret
    run --separate-stderr "$CCWRAP" --events "$BATS_TEST_TMPDIR/ev" build -- true
    assert_success
    assert_equal "$stderr" "ccwrap: build cache: s3://builds/p/myapp/c1.tar.zst: PUT refused: HTTP 403 SignatureDoesNotMatch: the store refused the credentials; check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY
ccwrap: warning: build cache: no archive saved; the build itself succeeded"
    assert [ ! -e "$S3DIR/builds/p" ]
    run --separate-stderr "$CCWRAP" --events "$BATS_TEST_TMPDIR/ev" build --from-cache -- true
    assert_success
    assert_equal "${stderr_lines[0]}" "ccwrap: build cache: s3://builds/p/myapp/c1.tar.zst: GET refused: HTTP 403 SignatureDoesNotMatch: the store refused the credentials; check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    run grep -c -e not-the-secret -e S3RVER "$BATS_TEST_TMPDIR/ev"
    assert_output 0
    unset AWS_SECRET_ACCESS_KEY
    run --separate-stderr "$CCWRAP" build -- true
    assert_success
    assert_equal "${stderr_lines[0]}" "ccwrap: build cache: s3://builds/p/: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set; export the store's access key and secret"
}

@test "a fleet: CI saves signed to S3, three instances verify and restore the same archive" {
    start_s3
    make_keys
    export CCWRAP_CACHE=s3://builds/fleet
    CCWRAP_CACHE_SIGN_KEY=$KEYS/sign.pem run "$CCWRAP" build -- true
    assert_success
    # The instances hold the public key only.
    export CCWRAP_CACHE_VERIFY_KEY=$KEYS/verify.pem
    # (not $i: bats' run uses that name)
    for inst in 1 2 3; do
        mkdir -p "$BATS_TEST_TMPDIR/instance$inst"
        run --separate-stderr "$CCWRAP" -C "$BATS_TEST_TMPDIR/instance$inst" build --from-cache -- false
        assert_success
        assert_regex "$stderr" '^ccwrap: build cache: restored 2 files, 2 folders, 0 symlinks, [0-9.]+ MiB from s3://builds/fleet/myapp/c1\.tar\.zst, signature verified in'
        assert_equal "$(sha256sum <"$BATS_TEST_TMPDIR/instance$inst/node_modules/pkg/blob.bin")" \
            "$(cat "$BATS_TEST_TMPDIR/blob.sum")"
    done
    # An instance's full build (it has no private key) saves nothing: the signed archive stays,
    # and the next instance restores it.
    mkdir -p "$BATS_TEST_TMPDIR/instance4"
    echo poisoned >"$BATS_TEST_TMPDIR/instance1/evil"
    run --separate-stderr "$CCWRAP" -C "$BATS_TEST_TMPDIR/instance1" build -- true
    assert_success
    assert_equal "$stderr" "ccwrap: build cache: no archive saved: CCWRAP_CACHE_VERIFY_KEY is set and cache_sign_key is not, and every restore would refuse an unsigned archive; archives are saved where cache_sign_key is set"
    run --separate-stderr "$CCWRAP" -C "$BATS_TEST_TMPDIR/instance4" build --from-cache -- true
    assert_success
    assert_regex "${stderr_lines[0]}" ', signature verified in '
    assert [ ! -e "$BATS_TEST_TMPDIR/instance4/evil" ]
    # One that writes the store itself, unsigned, is refused by the next instance.
    CCWRAP_CACHE_VERIFY_KEY='' run "$CCWRAP" -C "$BATS_TEST_TMPDIR/instance1" build -- true
    assert_success
    rm -rf "$BATS_TEST_TMPDIR/instance4"
    mkdir -p "$BATS_TEST_TMPDIR/instance4"
    run --separate-stderr "$CCWRAP" -C "$BATS_TEST_TMPDIR/instance4" build --from-cache -- true
    assert_success
    assert_equal "${stderr_lines[0]}" "ccwrap: build cache: unsigned archive: s3://builds/fleet/myapp/c1.tar.zst.sig holds no signature, and cache_verify_key $KEYS/verify.pem is set; save it from a build that signs (cache_sign_key)"
    assert [ ! -e "$BATS_TEST_TMPDIR/instance4/evil" ]
}

@test "a TERM while the archive is uploading reaches the helper, and the build ends as TERM ends it" {
    port=$(free_port)
    # A server that takes the connection and never answers.
    python3 -c 'import socket,sys,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); c=s.accept(); time.sleep(60)' "$port" 3>&- &
    remember_pid $!
    wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
    export CCWRAP_CACHE=http://127.0.0.1:$port/cache
    start_ccwrap build -- true
    wait_for 10 pgrep -P "$CCPID" -x ccwrap-cache
    kill -TERM "$CCPID"
    wait_status "$CCPID"
    assert_equal "$status" 143
}
