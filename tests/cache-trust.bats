#!/usr/bin/env bats
# The build cache store as a trust boundary (§10): signed and verified archives, their
# SHA-256 checked before extraction, settings an untrusted ccwrap.conf may not set, credentials
# kept out of the helper's command line and core dumps, override paths never followed through
# a symbolic link, and a prune that deletes only what the store wrote.
# Design: doc/design.md §10 (build cache archive: the store is a trust boundary),
# §3 (trust rule), §8 (settings from an untrusted file).

load test_helper

setup() {
    common_setup
    unset CC_DISABLE_BUILD_CACHE_UPLOAD CCWRAP_CACHE_SIGN_KEY CCWRAP_CACHE_VERIFY_KEY
    STORE=$BATS_TEST_TMPDIR/store
    export CCWRAP_CACHE=$STORE APP_ID=myapp COMMIT_ID=c1
    mkdir -p "$APP/node_modules/pkg"
    echo 'module.exports = 1' >"$APP/node_modules/pkg/index.js"
    make_keys
}

teardown() {
    kill_background
}

# A restore on a fresh checkout; "$output" is ccwrap's stderr, the command logs to $LOG.
restore() {
    rm -rf "$APP/node_modules"
    : >"$LOG"
    CC_DISABLE_BUILD_CACHE_UPLOAD=true run --separate-stderr "$CCWRAP" build --from-cache -- sh -c 'echo command >>"$LOG"'
    assert_success
}

# The restore was refused with the line $1, and the build ran in full.
assert_refused() {
    assert_equal "${stderr_lines[0]}" "$1"
    assert_equal "${stderr_lines[1]}" "ccwrap: build cache: nothing restored; building in full"
    assert_equal "$(cat "$LOG")" command
    assert [ ! -e "$APP/node_modules" ]
}

@test "a signed save and a verified restore; plan says which key signs and which verifies" {
    export CCWRAP_CACHE_SIGN_KEY=$KEYS/sign.pem
    run --separate-stderr "$CCWRAP" build -- true
    assert_success
    assert_regex "$stderr" "^ccwrap: build cache: saved 1 file, 2 folders, 0 symlinks, [0-9.]+ (bytes|KiB) to $STORE/myapp/c1\.tar\.zst, signed in [0-9.]+ s$"
    assert_equal "$(head -5 "$STORE/myapp/c1.tar.zst.sig")" "ccwrap-cache v1
app myapp
commit c1
sha256 $(sha256sum <"$STORE/myapp/c1.tar.zst" | cut -d' ' -f1)
size $(stat -c %s "$STORE/myapp/c1.tar.zst")"
    assert_regex "$(sed -n 6p "$STORE/myapp/c1.tar.zst.sig")" '^ed25519 [A-Za-z0-9+/]{86}==$'
    # The key's material is nowhere but in its file.
    run grep -rc -F "$(sed -n 2p "$KEYS/sign.pem")" "$STORE"
    refute_output --regexp ':[1-9]'
    export CCWRAP_CACHE_VERIFY_KEY=$KEYS/verify.pem
    run "$CCWRAP" plan build
    assert_line "  cache archive                    archive to $STORE (CCWRAP_CACHE), app myapp (APP_ID), commit c1 (COMMIT_ID), keep 2, signed with $KEYS/sign.pem (CCWRAP_CACHE_SIGN_KEY), restores verified with $KEYS/verify.pem (CCWRAP_CACHE_VERIFY_KEY)"
    unset CCWRAP_CACHE_SIGN_KEY
    restore
    assert_regex "${stderr_lines[0]}" "^ccwrap: build cache: restored 1 file, 2 folders, 0 symlinks, [0-9.]+ (bytes|KiB) from $STORE/myapp/c1\.tar\.zst, signature verified in [0-9.]+ s$"
    assert_equal "$(cat "$LOG")" ""
    assert_equal "$(cat "$APP/node_modules/pkg/index.js")" 'module.exports = 1'
}

@test "the keys come from the configuration too; the environment comes first" {
    printf 'cache_sign_key = "%s"\ncache_verify_key = "%s"\n' "$KEYS/sign.pem" "$KEYS/verify.pem" >"$BATS_TEST_TMPDIR/ccwrap.conf"
    export CCWRAP_CONFIG=$BATS_TEST_TMPDIR/ccwrap.conf
    run "$CCWRAP" plan build
    assert_line --partial "keep 2, signed with $KEYS/sign.pem (cache_sign_key), restores verified with $KEYS/verify.pem (cache_verify_key)"
    CCWRAP_CACHE_VERIFY_KEY=/etc/other.pem run "$CCWRAP" plan build
    assert_line --partial "restores verified with /etc/other.pem (CCWRAP_CACHE_VERIFY_KEY)"
    run --separate-stderr "$CCWRAP" build -- true
    assert_success
    restore
    assert_regex "${stderr_lines[0]}" ", signature verified in "
    # A remote store: check asks for a verify key, and is content with one.
    CCWRAP_CACHE=http://127.0.0.1:9/c CCWRAP_CACHE_VERIFY_KEY='' run "$CCWRAP" -c /dev/null check
    assert_failure 1
    assert_output "CCWRAP_CACHE: http://127.0.0.1:9/c/ is restored without cache_verify_key: whoever can write the store chooses what this instance runs; sign archives in CI and set cache_verify_key"
    CCWRAP_CACHE=http://127.0.0.1:9/c run "$CCWRAP" check
    assert_success
    printf 'cache_verify_key = "keys/verify.pem"\n' >"$BATS_TEST_TMPDIR/ccwrap.conf"
    run "$CCWRAP" plan build
    assert_failure 125
    assert_output "ccwrap: $BATS_TEST_TMPDIR/ccwrap.conf:1: cache_verify_key 'keys/verify.pem': give the absolute path of a PEM key file"
}

@test "an archive and its record copied under another commit's or app's name do not verify" {
    CCWRAP_CACHE_SIGN_KEY=$KEYS/sign.pem run "$CCWRAP" build -- true
    assert_success
    export CCWRAP_CACHE_VERIFY_KEY=$KEYS/verify.pem
    cp "$STORE/myapp/c1.tar.zst" "$STORE/myapp/c2.tar.zst"
    cp "$STORE/myapp/c1.tar.zst.sig" "$STORE/myapp/c2.tar.zst.sig"
    COMMIT_ID=c2 restore
    assert_refused "ccwrap: build cache: signature does not match: $STORE/myapp/c2.tar.zst is not signed for app myapp, commit c2 by the key of cache_verify_key $KEYS/verify.pem"
    mkdir -m 700 "$STORE/other"
    cp "$STORE/myapp/c1.tar.zst" "$STORE/myapp/c1.tar.zst.sig" "$STORE/other/"
    APP_ID=other restore
    assert_refused "ccwrap: build cache: signature does not match: $STORE/other/c1.tar.zst is not signed for app other, commit c1 by the key of cache_verify_key $KEYS/verify.pem"
    # Its record edited to name the new commit: the signature still does not cover it.
    sed -i 's/^commit c1$/commit c2/' "$STORE/myapp/c2.tar.zst.sig"
    COMMIT_ID=c2 restore
    assert_refused "ccwrap: build cache: signature does not match: $STORE/myapp/c2.tar.zst is not signed for app myapp, commit c2 by the key of cache_verify_key $KEYS/verify.pem"
    # Without a verify key the record still names its commit: refused as corrupt.
    unset CCWRAP_CACHE_VERIFY_KEY
    cp "$STORE/myapp/c1.tar.zst.sig" "$STORE/myapp/c2.tar.zst.sig"
    COMMIT_ID=c2 restore
    assert_refused "ccwrap: build cache: corrupt archive: $STORE/myapp/c2.tar.zst was recorded for another app or commit; a save replaces it"
}

@test "a tampered byte: refused by its SHA-256, with or without keys; the root keeps nothing of it" {
    run "$CCWRAP" build -- true
    assert_success
    size=$(stat -c %s "$STORE/myapp/c1.tar.zst")
    printf '\x00' | dd of="$STORE/myapp/c1.tar.zst" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
    restore
    assert_regex "${stderr_lines[0]}" "^ccwrap: build cache: corrupt archive \(sha256 mismatch\): $STORE/myapp/c1\.tar\.zst is $size bytes with SHA-256 [0-9a-f]{16}…, its record says $size bytes, [0-9a-f]{16}…; a save replaces it$"
    assert_equal "${stderr_lines[1]}" "ccwrap: build cache: nothing restored; building in full"
    assert_equal "$(cat "$LOG")" command
    run ls -A "$APP"
    refute_output --partial .ccwrap-restore
    # A byte more: the size says so too.
    run "$CCWRAP" build -- true
    size=$(stat -c %s "$STORE/myapp/c1.tar.zst")
    echo >>"$STORE/myapp/c1.tar.zst"
    CCWRAP_CACHE_VERIFY_KEY=$KEYS/verify.pem restore
    assert_regex "${stderr_lines[0]}" "^ccwrap: build cache: corrupt archive \(sha256 mismatch\): $STORE/myapp/c1\.tar\.zst is $((size + 1)) bytes "
}

@test "a wrong key, an unsigned archive, a record without signature: refused with a verify key" {
    openssl genpkey -algorithm ed25519 -out "$KEYS/other.pem" 2>/dev/null
    chmod 600 "$KEYS/other.pem"
    CCWRAP_CACHE_SIGN_KEY=$KEYS/other.pem run "$CCWRAP" build -- true
    assert_success
    export CCWRAP_CACHE_VERIFY_KEY=$KEYS/verify.pem
    restore
    assert_refused "ccwrap: build cache: signature does not match: $STORE/myapp/c1.tar.zst is not signed for app myapp, commit c1 by the key of cache_verify_key $KEYS/verify.pem"
    # Saved without a signing key: its record has no signature.
    mkdir -p "$APP/node_modules/pkg"
    echo 'module.exports = 1' >"$APP/node_modules/pkg/index.js"
    CCWRAP_CACHE_VERIFY_KEY='' run "$CCWRAP" build -- true
    assert_success
    restore
    assert_refused "ccwrap: build cache: unsigned archive: $STORE/myapp/c1.tar.zst.sig holds no signature, and cache_verify_key $KEYS/verify.pem is set; save it from a build that signs (cache_sign_key)"
    # No record at all (an archive put there by hand, or by an older ccwrap).
    rm "$STORE/myapp/c1.tar.zst.sig"
    restore
    assert_refused "ccwrap: build cache: unsigned archive: $STORE/myapp/c1.tar.zst has no signature (no $STORE/myapp/c1.tar.zst.sig), and cache_verify_key $KEYS/verify.pem is set; save it from a build that signs (cache_sign_key)"
    # Without a verify key, an archive without a record is restored (-v says it was not checked).
    unset CCWRAP_CACHE_VERIFY_KEY
    rm -rf "$APP/node_modules"
    run "$CCWRAP" -v build --from-cache -- true
    assert_success
    assert_line "ccwrap: build cache: $STORE/myapp/c1.tar.zst has no record of its SHA-256 (saved by an older ccwrap); restored unchecked"
    assert [ -f "$APP/node_modules/pkg/index.js" ]
    # A public key that is not one.
    echo 'not a key' >"$KEYS/bad.pem"
    CCWRAP_CACHE_VERIFY_KEY=$KEYS/bad.pem restore
    assert_regex "${stderr_lines[0]}" "^ccwrap: build cache: cache_verify_key $KEYS/bad\.pem: cannot read it as a PEM public key \(.*\); make one with openssl pkey -in PRIVATE -pubout -out FILE$"
}

@test "an instance with only the verify key never replaces the signed archive with an unsigned one" {
    CCWRAP_CACHE_SIGN_KEY=$KEYS/sign.pem run "$CCWRAP" build -- true
    assert_success
    cp "$STORE/myapp/c1.tar.zst.sig" "$BATS_TEST_TMPDIR/signed.sig"
    export CCWRAP_CACHE_VERIFY_KEY=$KEYS/verify.pem
    run "$CCWRAP" plan build
    assert_line --partial "keep 2, not saved (no cache_sign_key, and restores are verified), restores verified with $KEYS/verify.pem (CCWRAP_CACHE_VERIFY_KEY)"
    # A full build on an instance (here without --from-cache; a failed fetch does the same).
    run --separate-stderr "$CCWRAP" --events "$BATS_TEST_TMPDIR/events" build -- true
    assert_success
    assert_equal "$stderr" "ccwrap: build cache: no archive saved: CCWRAP_CACHE_VERIFY_KEY is set and cache_sign_key is not, and every restore would refuse an unsigned archive; archives are saved where cache_sign_key is set"
    run grep -c '"event":"cache_save","saved":false,"reason":"unsigned"' "$BATS_TEST_TMPDIR/events"
    assert_output 1
    cmp "$STORE/myapp/c1.tar.zst.sig" "$BATS_TEST_TMPDIR/signed.sig"
    restore
    assert_regex "${stderr_lines[0]}" ", signature verified in "
}

@test "a signing key readable by others, or owned by another user, is refused with the fix; nothing saved" {
    chmod 644 "$KEYS/sign.pem"
    CCWRAP_CACHE_SIGN_KEY=$KEYS/sign.pem run --separate-stderr "$CCWRAP" build -- true
    assert_success
    assert_equal "$stderr" "ccwrap: build cache: cache_sign_key $KEYS/sign.pem: readable or writable by group or others (mode 644): a signing key is its owner's alone; chmod 600 $KEYS/sign.pem
ccwrap: warning: build cache: no archive saved; the build itself succeeded"
    assert [ ! -e "$STORE/myapp/c1.tar.zst" ]
    chmod 600 "$KEYS/sign.pem"
    chown nobody "$KEYS/sign.pem"
    CCWRAP_CACHE_SIGN_KEY=$KEYS/sign.pem run --separate-stderr "$CCWRAP" build -- true
    assert_success
    assert_equal "$stderr" "ccwrap: warning: build cache: CCWRAP_CACHE_SIGN_KEY $KEYS/sign.pem: owned by nobody (uid 65534), not by root; chown root $KEYS/sign.pem, or list that user in trusted_users; no archive saved (an unsigned one would be refused)"
    assert [ ! -e "$STORE/myapp/c1.tar.zst" ]
    CCWRAP_CACHE_SIGN_KEY=$KEYS/sign.pem run "$CCWRAP" check
    assert_failure 1
    assert_output "CCWRAP_CACHE_SIGN_KEY: CCWRAP_CACHE_SIGN_KEY $KEYS/sign.pem: owned by nobody (uid 65534), not by root; chown root $KEYS/sign.pem, or list that user in trusted_users"
    # A verify key another user could replace: nothing restored.
    chown root "$KEYS/sign.pem"
    run "$CCWRAP" build -- true
    chmod 666 "$KEYS/verify.pem"
    CCWRAP_CACHE_VERIFY_KEY=$KEYS/verify.pem restore
    assert_refused "ccwrap: warning: build cache: CCWRAP_CACHE_VERIFY_KEY $KEYS/verify.pem: writable by group or others; chmod go-w $KEYS/verify.pem; nothing restored"
}

@test "an untrusted ccwrap.conf may not choose the store, the app's key, the keys or trusted_users" {
    unset CCWRAP_CACHE APP_ID
    printf 'cache = "%s"\ncache_key = "evil"\ncache_verify_key = "%s"\ncache_keep = 5\n' "$BATS_TEST_TMPDIR/evil" "$KEYS/verify.pem" >"$APP/ccwrap.conf"
    chown nobody "$APP/ccwrap.conf"
    run --separate-stderr "$CCWRAP" plan build
    assert_success
    assert_equal "${stderr_lines[*]}" "ccwrap: warning: ccwrap.conf: cache ignored: only a file ccwrap trusts may set it, and ccwrap.conf is owned by nobody (uid 65534), not by root; chown root $APP/ccwrap.conf, or list that user in trusted_users ccwrap: warning: ccwrap.conf: cache_key ignored: only a file ccwrap trusts may set it, and ccwrap.conf is owned by nobody (uid 65534), not by root; chown root $APP/ccwrap.conf, or list that user in trusted_users ccwrap: warning: ccwrap.conf: cache_verify_key ignored: only a file ccwrap trusts may set it, and ccwrap.conf is owned by nobody (uid 65534), not by root; chown root $APP/ccwrap.conf, or list that user in trusted_users"
    # cache_keep decides nothing about trust: it stays.
    assert_line "  cache archive                    archive to /var/cache/ccwrap (default), app $APP (the root), commit c1 (COMMIT_ID), keep 5, not signed, restores not verified"
    # Group-writable: the same.
    chown root "$APP/ccwrap.conf"
    chmod 664 "$APP/ccwrap.conf"
    printf 'trusted_users = {"nobody"}\ncache = "%s"\n' "$BATS_TEST_TMPDIR/evil" >"$APP/ccwrap.conf"
    run --separate-stderr "$CCWRAP" plan build
    assert_success
    assert_equal "${stderr_lines[0]}" "ccwrap: warning: ccwrap.conf: trusted_users ignored: only a file ccwrap trusts may set it, and ccwrap.conf is writable by group or others; chmod go-w $APP/ccwrap.conf"
    assert_equal "${stderr_lines[1]}" "ccwrap: warning: ccwrap.conf: cache ignored: only a file ccwrap trusts may set it, and ccwrap.conf is writable by group or others; chmod go-w $APP/ccwrap.conf"
    assert_line --partial "archive to /var/cache/ccwrap (default)"
    # Trusted again: obeyed, without a word.
    chmod 644 "$APP/ccwrap.conf"
    run --separate-stderr "$CCWRAP" plan build
    assert_equal "$stderr" ""
    assert_line --partial "archive to $BATS_TEST_TMPDIR/evil (cache)"
}

@test "the store's password is never on the helper's command line; the helper leaves no core" {
    port=$(free_port)
    # A server that takes the connection and never answers.
    python3 -c 'import socket,sys,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); c=s.accept(); time.sleep(60)' "$port" 3>&- &
    remember_pid $!
    wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
    export CCWRAP_CACHE=http://user:s3cret-pw@127.0.0.1:$port/cache
    # A core_pattern of "core" would write it in the helper's folder, the root, which the next
    # save archives (with the environment's secrets in it).
    ulimit -c unlimited
    # bash starts a background job with QUIT ignored, which ccwrap and its helper would keep:
    # QUIT's default action is what is tested, so it is restored.
    env --default-signal=QUIT "$CCWRAP" build -- true 2>"$BATS_TEST_TMPDIR/err" 3>&- &
    CCPID=$!
    remember_pid "$CCPID"
    wait_for 10 pgrep -P "$CCPID" -x ccwrap-cache
    helper=$(pgrep -P "$CCPID" -x ccwrap-cache)
    # Wait for the upload (the archive is made first).
    wait_for 10 bash -c "ls -l /proc/$helper/fd | grep -q socket"
    run tr '\0' ' ' <"/proc/$helper/cmdline"
    assert_success
    refute_output --partial s3cret
    assert_output "$(dirname "$CCWRAP")/ccwrap-cache -n save $APP myapp c1 2 "
    # Its environment, which holds the store, is root's alone: not dumpable.
    run setpriv --reuid=nobody --regid=nogroup --clear-groups cat "/proc/$helper/environ"
    assert_failure
    assert_equal "$(awk '/^Uid:/ {print $2}' "/proc/$helper/status")" 0
    run awk '/^Max core file size/ {print $5}' "/proc/$helper/limits"
    assert_output 0
    # QUIT's default action dumps core, like SEGV's, and AddressSanitizer does not catch it
    # (tests/sanitize fails on any report, and a SEGV would make one).
    kill -QUIT "$helper"
    wait_status "$CCPID"
    assert_equal "$status" 0
    assert_equal "$(tail -n 1 "$BATS_TEST_TMPDIR/err")" "ccwrap: warning: build cache: no archive saved; the build itself succeeded"
    run find "$APP" "$BATS_TEST_TMPDIR" -name 'core*'
    assert_output ""
}

@test "a password with '/', '#', '?' or a space is never shown: messages, plan, check, events" {
    for pw in 'pa/ss' 'pa#ss' 'pa?ss' 'pa ss'; do
        export CCWRAP_CACHE="http://user:$pw@127.0.0.1:9/cache"
        run --separate-stderr "$CCWRAP" --events "$BATS_TEST_TMPDIR/ev" build --from-cache -- true
        assert_success
        assert_equal "${stderr_lines[0]}" "ccwrap: build cache: cache store 'http://127.0.0.1:9/cache': the URL's user:password holds a '/', '?', '#' or space; percent-encode them (%2F, %3F, %23, %20)"
        run "$CCWRAP" plan build
        refute_output --partial "$pw"
        assert_line --partial "archive to http://127.0.0.1:9/cache (CCWRAP_CACHE)"
        run "$CCWRAP" check
        assert_output "CCWRAP_CACHE: 'http://127.0.0.1:9/cache': the URL's user:password holds a '/', '?', '#' or space; percent-encode them (%2F, %3F, %23, %20)"
        run grep -c -F "$pw" "$BATS_TEST_TMPDIR/ev"
        assert_output 0
    done
    printf 'cache = "http://u:se#cret@127.0.0.1:9/c"\n' >"$APP/ccwrap.conf"
    run "$CCWRAP" plan build
    assert_failure 125
    assert_output "ccwrap: ccwrap.conf:1: cache 'http://127.0.0.1:9/c': the URL's user:password holds a '/', '?', '#' or space; percent-encode them (%2F, %3F, %23, %20)"
}

@test "CC_OVERRIDE_BUILDCACHE through a symbolic link is left out with a warning; patterns are said" {
    OUTSIDE=$BATS_TEST_TMPDIR/outside
    mkdir -p "$OUTSIDE/bundle" "$APP/dist" "$APP/node_modules/b"
    chmod 700 "$OUTSIDE"
    echo secret >"$OUTSIDE/bundle/key"
    ln -s "$OUTSIDE" "$APP/vendor"
    echo built >"$APP/dist/app.js"
    echo b >"$APP/node_modules/b/index.js"
    echo keep >"$APP/node_modules/pkg/keep.js"
    CC_OVERRIDE_BUILDCACHE='vendor/bundle:dist:node_modules/*/x' run --separate-stderr "$CCWRAP" build -- true
    assert_success
    assert_equal "${stderr_lines[0]}" "ccwrap: warning: CC_OVERRIDE_BUILDCACHE: 'node_modules/*/x' is a pattern, which CC_OVERRIDE_BUILDCACHE does not expand; name each path; left out"
    assert_equal "${stderr_lines[1]}" "ccwrap: warning: CC_OVERRIDE_BUILDCACHE: vendor/bundle: vendor is a symbolic link, which the archive never follows; left out (name the folder it points to, inside the root)"
    assert_equal "$(zstd -dc "$STORE/myapp/c1.tar.zst" | bsdtar -tf - | sort | tr '\n' ' ')" "dist/ dist/app.js "
    # CC_IGNORE_FROM_BUILDCACHE takes patterns: '*' within one folder.
    CC_IGNORE_FROM_BUILDCACHE='node_modules/*/index.js:vendor/bundle/key:vendor' run --separate-stderr "$CCWRAP" build -- true
    assert_success
    assert_equal "${stderr_lines[0]}" "ccwrap: build cache: CC_IGNORE_FROM_BUILDCACHE: vendor/bundle/key: vendor is a symbolic link, archived as one (its target never is)"
    assert_equal "$(zstd -dc "$STORE/myapp/c1.tar.zst" | bsdtar -tf - | sort | tr '\n' ' ')" "dist/ dist/app.js node_modules/ node_modules/b/ node_modules/pkg/ node_modules/pkg/keep.js "
}

@test "prune deletes only names the store writes: an index line '../../x' is ignored, said, kept" {
    echo precious >"$BATS_TEST_TMPDIR/x.tar.zst"
    for c in c1 c2; do COMMIT_ID=$c run "$CCWRAP" build -- true; done
    printf '../../x 1 1 1\n/etc/passwd 1 1 1\n' >>"$STORE/myapp/index"
    run --separate-stderr "$CCWRAP" cache prune --keep 1
    assert_success
    assert_equal "${stderr_lines[0]}" "ccwrap: build cache: the index names '~2E.~2F..~2Fx', not an archive name this store writes; line ignored, nothing deleted"
    assert_equal "${stderr_lines[1]}" "ccwrap: build cache: the index names '~2Fetc~2Fpasswd', not an archive name this store writes; line ignored, nothing deleted"
    assert_equal "$(cat "$BATS_TEST_TMPDIR/x.tar.zst")" precious
    assert_equal "$(cd "$STORE/myapp" && echo ./*.tar.zst*)" "./c2.tar.zst ./c2.tar.zst.sig"
}

@test "a store that fills up: the save says why in the system's words, and leaves no partial archive" {
    mkdir -m 700 "$STORE"
    mount -t tmpfs -o size=64k,mode=700 tmpfs "$STORE" 2>/dev/null || skip "cannot mount a tmpfs here"
    head -c 3000000 /dev/urandom >"$APP/blob"
    run --separate-stderr "$CCWRAP" build -- true
    left=$(find "$STORE" -type f -printf '%f ')
    umount "$STORE"
    assert_success
    assert_equal "$left" ""
    assert_equal "$stderr" "ccwrap: build cache: archive: No space left on device
ccwrap: warning: build cache: no archive saved; the build itself succeeded"
}
