#!/usr/bin/env bats
# CC_CACHE_DEPENDENCIES (§10, "Dependencies across commits"): a dependency archive per app
# and lock-file fingerprint in a local store, restored before the build command of the next
# commit and saved after a successful build; extra paths; signatures; plan build.
# Design: doc/design.md §10 (build cache archive, dependencies across commits).

load test_helper

setup() {
    common_setup
    STORE=$BATS_TEST_TMPDIR/store
    HOME=$BATS_TEST_TMPDIR/home
    mkdir -p "$HOME"
    chmod 755 "$HOME"
    export CCWRAP_CACHE=$STORE APP_ID=myapp COMMIT_ID=c1 CC_CACHE_DEPENDENCIES=true HOME
    echo '{"lockfileVersion": 3}' >"$APP/package-lock.json"
}

teardown() {
    kill_background
}

# The "install": node_modules at the root and npm's cache in the home.
INSTALL='mkdir -p node_modules/pkg "$HOME/.npm/_cacache" && echo dep >node_modules/pkg/index.js && echo cached >"$HOME/.npm/_cacache/entry"'
# What the build command finds when it starts, before it installs anything.
CHECK='if [ -f node_modules/pkg/index.js ] && [ -f "$HOME/.npm/_cacache/entry" ]; then echo warm; else echo cold; fi >>"$LOG"'

fresh_checkout() {
    rm -rf "$APP/node_modules" "$HOME/.npm"
}

@test "a new commit starts warm from the previous commit's dependencies" {
    run --separate-stderr "$CCWRAP" build -- sh -c "$CHECK; $INSTALL"
    assert_success
    assert_regex "$stderr" "ccwrap: dependencies: no dependency archive yet \(fingerprint [0-9a-f]{12}…\); the build installs them"
    assert_regex "$stderr" "ccwrap: dependencies: saved fingerprint [0-9a-f]{12}…, 2 files, 4 folders, 0 symlinks, [0-9.]+ (bytes|KiB) in [0-9]+\.[0-9]{3} s"
    fresh_checkout
    COMMIT_ID=c2 run --separate-stderr "$CCWRAP" build -- sh -c "$CHECK; $INSTALL"
    assert_success
    assert_regex "$stderr" "ccwrap: dependencies: restored deps of fingerprint [0-9a-f]{12}… \(exact\), 2 files, 4 folders, 0 symlinks, [0-9.]+ (bytes|KiB) in [0-9]+\.[0-9]{3} s"
    # The same fingerprint is saved once.
    refute_regex "$stderr" "dependencies: saved"
    assert_equal "$(cat "$LOG")" "cold
warm"
    assert_equal "$(cat "$APP/node_modules/pkg/index.js") $(cat "$HOME/.npm/_cacache/entry")" "dep cached"
    # Two archives (the root's, the home's), each with its record; the build archives' index untouched.
    assert_equal "$(find "$STORE/myapp" -name 'deps~~*.tar.zst' | wc -l)" 2
    assert_equal "$(find "$STORE/myapp" -name 'deps~~*.tar.zst.sig' | wc -l)" 2
    assert [ ! -e "$STORE/myapp/index" ]
}

@test "a changed lock file starts warm from the newest archive and says so, then saves its own" {
    run "$CCWRAP" build -- sh -c "$INSTALL"
    assert_success
    fresh_checkout
    echo '{"lockfileVersion": 3, "changed": true}' >"$APP/package-lock.json"
    COMMIT_ID=c2 run --separate-stderr "$CCWRAP" build -- sh -c "$CHECK; $INSTALL"
    assert_success
    assert_regex "$stderr" "ccwrap: dependencies: restored deps of fingerprint [0-9a-f]{12}… \(newest, lock files changed\)"
    assert_regex "$stderr" "ccwrap: dependencies: saved fingerprint"
    assert_equal "$(cat "$LOG")" "warm"
    assert_equal "$(wc -l <"$STORE/myapp/deps-index")" 2
}

@test "without CC_CACHE_DEPENDENCIES: cold, no dependency line, no dependency archive" {
    run "$CCWRAP" build -- sh -c "$INSTALL"
    assert_success
    fresh_checkout
    unset CC_CACHE_DEPENDENCIES
    COMMIT_ID=c2 run --separate-stderr "$CCWRAP" build -- sh -c "$CHECK; $INSTALL"
    assert_success
    refute_regex "$stderr" "dependencies"
    assert_equal "$(cat "$LOG")" "cold"
    # And a build without it saves none.
    rm -rf "$STORE"
    run "$CCWRAP" build -- sh -c "$INSTALL"
    assert_success
    assert [ ! -e "$STORE/myapp" ]
}

@test "a failed build saves no dependency archive; CC_DISABLE_BUILD_CACHE_UPLOAD does not stop one" {
    export CC_DISABLE_BUILD_CACHE_UPLOAD=true
    run "$CCWRAP" build -- sh -c "$INSTALL; exit 3"
    assert_failure 3
    assert [ ! -e "$STORE/myapp/deps-index" ]
    run --separate-stderr "$CCWRAP" build -- sh -c "$INSTALL"
    assert_success
    assert_regex "$stderr" "ccwrap: dependencies: saved fingerprint"
    assert [ ! -e "$STORE/myapp/c1.tar.zst" ]
}

@test "an unreadable store only warns: the build runs and keeps its status" {
    mkdir -p "$STORE"
    chmod 777 "$STORE"
    run --separate-stderr "$CCWRAP" build -- sh -c "$INSTALL; exit 0"
    assert_success
    assert_regex "$stderr" "ccwrap: warning: dependencies: nothing restored, the build installs them; the build's status is its own"
    assert_regex "$stderr" "ccwrap: warning: dependencies: no dependency archive saved; the build's status is its own"
}

@test "extra paths: one '../' into the home is kept, more climbing, leaving the home or a symbolic link is refused with a line" {
    mv "$APP/package-lock.json" "$BATS_TEST_TMPDIR/"
    inner=$HOME/src/app
    mkdir -p "$inner/build-cache" "$HOME/src/shared" "$BATS_TEST_TMPDIR/elsewhere"
    echo kept >"$inner/build-cache/f"
    echo shared >"$HOME/src/shared/f"
    ln -s "$BATS_TEST_TMPDIR/elsewhere" "$inner/linked"
    cd "$inner"
    export CC_CACHE_DEPENDENCIES_EXTRA_PATHS='build-cache:../shared:../../x:linked/sub:linked:/etc'
    run --separate-stderr "$CCWRAP" build -- true
    assert_success
    assert_regex "$stderr" "ccwrap: warning: dependencies: CC_CACHE_DEPENDENCIES_EXTRA_PATHS: '\.\./\.\./x' climbs more than one folder above the root \(one '\.\./' at most\); left out"
    assert_regex "$stderr" "ccwrap: warning: dependencies: linked/sub: linked is a symbolic link, which is never followed; left out"
    assert_regex "$stderr" "ccwrap: warning: dependencies: linked: linked is a symbolic link, which is never followed; left out"
    assert_regex "$stderr" "ccwrap: warning: dependencies: CC_CACHE_DEPENDENCIES_EXTRA_PATHS: '/etc' is absolute"
    assert_regex "$stderr" "ccwrap: dependencies: saved fingerprint [0-9a-f]{12}…, 2 files, 2 folders"
    rm -rf "$inner/build-cache" "$HOME/src/shared"
    COMMIT_ID=c2 run --separate-stderr "$CCWRAP" build -- true
    assert_success
    assert_equal "$(cat "$inner/build-cache/f") $(cat "$HOME/src/shared/f")" "kept shared"
    # A root outside the home: "../x" leaves it.
    cd "$APP"
    CC_CACHE_DEPENDENCIES_EXTRA_PATHS=../x run --separate-stderr "$CCWRAP" build -- true
    assert_success
    assert_regex "$stderr" "ccwrap: warning: dependencies: CC_CACHE_DEPENDENCIES_EXTRA_PATHS: '\.\./x' leaves the home folder $HOME; left out"
}

@test "signed dependency archives are verified; a tampered one is refused and the build installs from nothing" {
    make_keys
    CCWRAP_CACHE_SIGN_KEY=$KEYS/sign.pem run --separate-stderr "$CCWRAP" build -- sh -c "$INSTALL"
    assert_success
    assert_regex "$stderr" "ccwrap: dependencies: saved fingerprint [0-9a-f]{12}…, .*, signed in "
    fresh_checkout
    CCWRAP_CACHE_VERIFY_KEY=$KEYS/verify.pem COMMIT_ID=c2 run --separate-stderr "$CCWRAP" build -- sh -c "$CHECK"
    assert_success
    assert_regex "$stderr" "ccwrap: dependencies: restored deps of fingerprint [0-9a-f]{12}… \(exact\), .*, signature verified in "
    # Another archive in its place: its SHA-256 is not the record's.
    fresh_checkout
    root_archive=$(ls "$STORE"/myapp/deps~~*~~root.tar.zst)
    mkdir -p "$BATS_TEST_TMPDIR/evil/node_modules/pkg"
    echo evil >"$BATS_TEST_TMPDIR/evil/node_modules/pkg/index.js"
    bsdtar -C "$BATS_TEST_TMPDIR/evil" --zstd -cf "$root_archive" node_modules
    CCWRAP_CACHE_VERIFY_KEY=$KEYS/verify.pem COMMIT_ID=c3 run --separate-stderr "$CCWRAP" build -- sh -c "$CHECK"
    assert_success
    assert_regex "$stderr" "ccwrap: build cache: corrupt archive \(sha256 mismatch\): .*deps~~[0-9a-f]{64}~~root\.tar\.zst"
    assert_regex "$stderr" "ccwrap: warning: dependencies: nothing restored, the build installs them; the build's status is its own"
    assert [ ! -e "$APP/node_modules" ]
    # Unsigned, with a verify key: refused too.
    rm -f "$root_archive.sig"
    CCWRAP_CACHE_VERIFY_KEY=$KEYS/verify.pem COMMIT_ID=c4 run --separate-stderr "$CCWRAP" build -- true
    assert_success
    assert_regex "$stderr" "ccwrap: build cache: unsigned archive: .*deps~~[0-9a-f]{64}~~root\.tar\.zst has no signature"
    assert [ ! -e "$APP/node_modules" ]
}

@test "plan build shows the ecosystems, the paths, the fingerprint and which archive a restore takes" {
    echo 'x' >"$APP/Cargo.lock"
    run "$CCWRAP" plan build
    assert_success
    assert_line --regexp "^  dependencies +ecosystems Cargo \(Cargo\.lock\), npm \(package-lock\.json\); paths ~/\.cargo/registry, target, node_modules, ~/\.npm; fingerprint [0-9a-f]{12}…; a restore takes none yet$"
    run "$CCWRAP" build -- sh -c "$INSTALL"
    run "$CCWRAP" plan build
    assert_line --regexp "^  dependencies +.*; a restore takes the archive of this fingerprint \(saved\)$"
    echo 'y' >"$APP/Cargo.lock"
    run "$CCWRAP" plan build
    assert_line --regexp "^  dependencies +.*; a restore takes the newest, of fingerprint [0-9a-f]{12}… \(lock files changed\)$"
    unset CC_CACHE_DEPENDENCIES
    run "$CCWRAP" plan build
    refute_line --partial "dependencies"
}

# A real `npm ci --offline`: the package is in npm's cache folder (~/.npm, put there by
# `npm cache add` of a local tarball, no network), and that folder comes from the restore.
@test "a real npm ci --offline succeeds from a restored ~/.npm, and fails without it" {
    command -v npm >/dev/null || skip "npm not installed"
    pkg=$BATS_TEST_TMPDIR/pkg
    mkdir -p "$pkg"
    echo '{"name":"ccwrap-dep-fixture","version":"1.0.0","main":"index.js"}' >"$pkg/package.json"
    echo 'module.exports = 42' >"$pkg/index.js"
    (cd "$pkg" && npm pack --silent >/dev/null 2>&1)
    tarball=$pkg/ccwrap-dep-fixture-1.0.0.tgz
    integrity="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
    echo '{"name":"app","version":"1.0.0","dependencies":{"ccwrap-dep-fixture":"1.0.0"}}' >"$APP/package.json"
    cat >"$APP/package-lock.json" <<LOCK
{"name":"app","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{"":{"name":"app","version":"1.0.0","dependencies":{"ccwrap-dep-fixture":"1.0.0"}},"node_modules/ccwrap-dep-fixture":{"version":"1.0.0","resolved":"https://registry.npmjs.org/ccwrap-dep-fixture/-/ccwrap-dep-fixture-1.0.0.tgz","integrity":"$integrity"}}}
LOCK
    npm cache add "$tarball" >/dev/null 2>&1
    NPM_CI='npm ci --offline --no-audit --no-fund --no-update-notifier'
    run --separate-stderr "$CCWRAP" build -- sh -c "$NPM_CI"
    assert_success
    assert_regex "$stderr" "ccwrap: dependencies: saved fingerprint"
    # A fresh machine: no node_modules, no npm cache. Without the variable, npm cannot install.
    rm -rf "$APP/node_modules" "$HOME/.npm"
    CC_CACHE_DEPENDENCIES=false COMMIT_ID=c2 run "$CCWRAP" build -- sh -c "$NPM_CI"
    assert_failure
    rm -rf "$APP/node_modules" "$HOME/.npm"
    COMMIT_ID=c3 run --separate-stderr "$CCWRAP" build -- sh -c "rm -rf node_modules; $NPM_CI"
    assert_success
    assert_regex "$stderr" "ccwrap: dependencies: restored deps of fingerprint [0-9a-f]{12}… \(exact\)"
    assert_equal "$(node -p 'require("ccwrap-dep-fixture")')" 42
}
