#!/usr/bin/env bats
# The build cache archive (§10) with the local folder store: create, keys, restore,
# prune, disable, override and ignore paths, corrupt, missing and malicious archives,
# concurrent builds, and what plan, check and the event log say of it.
# Design: doc/design.md §10 (build cache archive), §9 (plan, check, events).

load test_helper

setup() {
    common_setup
    unset CC_DISABLE_BUILD_CACHE_UPLOAD
    STORE=$BATS_TEST_TMPDIR/store
    export CCWRAP_CACHE=$STORE APP_ID=myapp COMMIT_ID=c1
}

teardown() {
    kill_background
}

# A small application tree: a file, a script, a symlink, a hard link, an empty folder.
make_tree() {
    mkdir -p "$APP/node_modules/pkg" "$APP/empty" "$APP/.git"
    echo 'module.exports = 1' >"$APP/node_modules/pkg/index.js"
    printf '#!/bin/sh\necho run\n' >"$APP/start.sh"
    chmod 750 "$APP/start.sh"
    ln -s node_modules/pkg/index.js "$APP/main.js"
    ln "$APP/start.sh" "$APP/start-link.sh"
    echo 'ref: refs/heads/main' >"$APP/.git/HEAD"
    touch -d '2020-01-02 03:04:05' "$APP/node_modules/pkg/index.js"
}

# The names in an archive, sorted.
members() {
    zstd -dc "$1" | bsdtar -tf - | sort
}

@test "build saves the root but .git to the store after post-build and says what and where" {
    make_tree
    run --separate-stderr "$CCWRAP" build -- true
    assert_success
    assert_regex "$stderr" "^ccwrap: build cache: saved 3 files, 3 folders, 1 symlink, [0-9.]+ (bytes|KiB) to $STORE/myapp/c1\.tar\.zst in [0-9]+\.[0-9]{3} s$"
    assert_equal "$(members "$STORE/myapp/c1.tar.zst")" "empty/
main.js
node_modules/
node_modules/pkg/
node_modules/pkg/index.js
start-link.sh
start.sh"
    # Modes, symlinks, hard links and mtimes are kept.
    run bash -c "zstd -dc '$STORE/myapp/c1.tar.zst' | bsdtar -tvf - | sort -k9"
    assert_line --regexp '^lrwxrwxrwx .* main.js -> node_modules/pkg/index.js$'
    assert_line --regexp '^-rwxr-x--- .* start-link.sh$'
    assert_line --regexp '^hrwxr-x--- .* start.sh link to start-link.sh$'
    assert_line --regexp ' Jan  2  2020 node_modules/pkg/index.js$'
    assert_equal "$(stat -c %a "$STORE" "$STORE/myapp" "$STORE/myapp/c1.tar.zst" | tr '\n' ' ')" "700 700 600 "
}

@test "the archive comes after post-build hooks: what they write is in it; a failed build saves none" {
    hook post-build 10-gen 'echo generated >dist.txt'
    run --separate-stderr "$CCWRAP" build -- true
    assert_success
    assert_equal "$(members "$STORE/myapp/c1.tar.zst")" "dist.txt
hooks.d/
hooks.d/post-build/
hooks.d/post-build/10-gen"
    export COMMIT_ID=c2
    run --separate-stderr "$CCWRAP" build -- false
    assert_failure 1
    assert [ ! -e "$STORE/myapp/c2.tar.zst" ]
    hook post-build 20-fail 'exit 4'
    run --separate-stderr "$CCWRAP" build -- true
    assert_failure 4
    assert [ ! -e "$STORE/myapp/c2.tar.zst" ]
}

@test "CC_DISABLE_BUILD_CACHE_UPLOAD=true: no archive; -v and plan say so" {
    export CC_DISABLE_BUILD_CACHE_UPLOAD=true
    echo x >"$APP/file"
    run --separate-stderr "$CCWRAP" build -- true
    assert_success
    assert_equal "$stderr" ""
    run --separate-stderr "$CCWRAP" -v build -- true
    assert_success
    assert_equal "${stderr_lines[-1]}" "ccwrap: build cache: no archive: CC_DISABLE_BUILD_CACHE_UPLOAD=true"
    assert [ ! -e "$STORE" ]
    # A restore, a list and a prune create no store either.
    run --separate-stderr "$CCWRAP" build --from-cache -- true
    assert_success
    assert_equal "${stderr_lines[0]}" "ccwrap: build cache: no archive for commit c1: $STORE/myapp/c1.tar.zst does not exist"
    run "$CCWRAP" cache list
    assert_success
    assert_output "$STORE/myapp/
  (no archives)"
    run "$CCWRAP" cache prune
    assert_success
    assert [ ! -e "$STORE" ]
}

@test "--from-cache: pre-build runs, then the archive replaces the command and post-build" {
    make_tree
    run "$CCWRAP" build -- true
    assert_success
    # A fresh checkout of the same commit on another machine: only the sources.
    rm -rf "$APP/node_modules" "$APP/main.js" "$APP/start-link.sh" "$APP/empty"
    echo 'changed' >"$APP/start.sh"
    logging_hook pre-build 10-before
    logging_hook post-build 10-after
    run --separate-stderr "$CCWRAP" build --from-cache -- sh -c 'echo command >>"$LOG"'
    assert_success
    assert_equal "$(cat "$LOG")" "pre-build/10-before"
    assert_regex "${stderr_lines[2]}" "^ccwrap: build cache: restored 3 files, 3 folders, 1 symlink, [0-9.]+ (bytes|KiB) from $STORE/myapp/c1\.tar\.zst in [0-9.]+ s$"
    assert_equal "${stderr_lines[3]}" "ccwrap: build cache: build command and post-build hooks skipped (--from-cache)"
    assert_equal "$(cat "$APP/node_modules/pkg/index.js")" 'module.exports = 1'
    assert_equal "$(readlink "$APP/main.js")" node_modules/pkg/index.js
    assert_equal "$(stat -c %a "$APP/start.sh")" 750
    assert_equal "$(stat -c %i "$APP/start.sh")" "$(stat -c %i "$APP/start-link.sh")"
    assert_equal "$(stat -c %Y "$APP/node_modules/pkg/index.js")" "$(date -d '2020-01-02 03:04:05' +%s)"
    assert [ -d "$APP/empty" ]
    assert_equal "$(cat "$APP/.git/HEAD")" 'ref: refs/heads/main'
    run ls -A "$APP"
    refute_output --partial .ccwrap-restore
}

@test "a restore drops set-user-ID, set-group-ID and sticky bits, and says so; the archive keeps them" {
    mkdir -p "$APP/bin" "$APP/shared"
    printf '#!/bin/sh\n' >"$APP/bin/tool"
    chmod 6755 "$APP/bin/tool"
    chmod 2775 "$APP/shared"
    run "$CCWRAP" build -- true
    assert_success
    run bash -c "zstd -dc '$STORE/myapp/c1.tar.zst' | bsdtar -tvf -"
    assert_line --regexp '^-rwsr-sr-x .* bin/tool$'
    rm -rf "${APP:?}/bin" "$APP/shared"
    run --separate-stderr "$CCWRAP" build --from-cache -- true
    assert_success
    assert_equal "${stderr_lines[0]}" "ccwrap: build cache: bin/tool restored without its set-user-ID and set-group-ID bits"
    assert_equal "${stderr_lines[1]}" "ccwrap: build cache: 1 more entry restored without set-user-ID, set-group-ID or sticky bits"
    assert_equal "$(stat -c %a "$APP/bin/tool")" 755
    # A folder's set-group-ID bit gives its group to whoever writes there: dropped too.
    assert_equal "$(stat -c %a "$APP/shared")" 775
}

@test "--from-cache without an archive for the key: says why and builds in full, saving one" {
    logging_hook post-build 10-after
    run --separate-stderr "$CCWRAP" build --from-cache -- sh -c 'echo command >>"$LOG"'
    assert_success
    assert_equal "${stderr_lines[0]}" "ccwrap: build cache: no archive for commit c1: $STORE/myapp/c1.tar.zst does not exist"
    assert_equal "${stderr_lines[1]}" "ccwrap: build cache: nothing restored; building in full"
    assert_equal "$(cat "$LOG")" "command
post-build/10-after"
    assert [ -f "$STORE/myapp/c1.tar.zst" ]
}

@test "the key: APP_ID, else cache_key, else the root; COMMIT_ID, else the git HEAD, else latest" {
    unset APP_ID COMMIT_ID
    run "$CCWRAP" build -- true
    assert_success
    enc=${APP//\//\~2F}
    assert [ -f "$STORE/$enc/latest.tar.zst" ]
    printf 'cache_key = "shop"\n' >"$APP/ccwrap.conf"
    git -C "$APP" init -q -b main
    git -C "$APP" -c user.email=t@t -c user.name=t commit -q --allow-empty -m one
    head=$(git -C "$APP" rev-parse HEAD)
    run "$CCWRAP" build -- true
    assert_success
    assert [ -f "$STORE/shop/$head.tar.zst" ]
    # A packed branch is found too.
    git -C "$APP" pack-refs --all
    rm -f "$STORE/shop/$head.tar.zst"
    run "$CCWRAP" build -- true
    assert [ -f "$STORE/shop/$head.tar.zst" ]
    APP_ID=other run "$CCWRAP" build -- true
    assert [ -f "$STORE/other/$head.tar.zst" ]
    COMMIT_ID=abc run "$CCWRAP" build -- true
    assert [ -f "$STORE/shop/abc.tar.zst" ]
    # plan names each part of the key and where it came from.
    run "$CCWRAP" plan build
    assert_line "  cache archive                    archive to $STORE (CCWRAP_CACHE), app shop (cache_key), commit $head (.git/HEAD), keep 2, not signed, restores not verified"
}

@test "cache_keep: the last N archives per app stay; ccwrap cache list and prune --keep" {
    for c in c1 c2 c3; do
        COMMIT_ID=$c run "$CCWRAP" build -- true
        assert_success
    done
    assert_equal "$(cd "$STORE/myapp" && echo ./*.tar.zst)" "./c2.tar.zst ./c3.tar.zst"
    run --separate-stderr "$CCWRAP" cache list
    assert_success
    assert_equal "${lines[0]}" "$STORE/myapp/"
    assert_regex "${lines[1]}" '^  c3 +[0-9-]+ [0-9:]+ UTC +[0-9]+ bytes  0 files$'
    assert_regex "${lines[2]}" '^  c2 '
    assert_equal "${#lines[@]}" 3
    # One file is "1 file".
    echo x >"$APP/one"
    COMMIT_ID=c3 run "$CCWRAP" build -- true
    run --separate-stderr "$CCWRAP" cache list
    assert_regex "${lines[1]}" '^  c3 +[0-9-]+ [0-9:]+ UTC +[0-9]+ bytes  1 file$'
    rm "$APP/one"
    run --separate-stderr "$CCWRAP" cache prune --keep 1
    assert_success
    assert_equal "$stderr" "ccwrap: build cache: pruned 1 archive of $STORE/myapp, kept at most 1"
    assert_equal "$(cd "$STORE/myapp" && echo ./*.tar.zst)" "./c3.tar.zst"
    printf 'cache_keep = 0\n' >"$APP/ccwrap.conf"
    for c in c4 c5 c6; do COMMIT_ID=$c run "$CCWRAP" build -- true; done
    assert_equal "$(cd "$STORE/myapp" && echo ./*.tar.zst)" "./c3.tar.zst ./c4.tar.zst ./c5.tar.zst ./c6.tar.zst"
    run "$CCWRAP" cache prune --keep x
    assert_failure 125
    assert_output "ccwrap: --keep 'x': give a whole number of archives from 0 (all) to 10000; see 'ccwrap --help'"
    run "$CCWRAP" cache
    assert_failure 125
    assert_output "ccwrap: cache takes list or prune; see 'ccwrap --help'"
}

@test "CC_OVERRIDE_BUILDCACHE: only its paths; CC_IGNORE_FROM_BUILDCACHE and the old name: minus theirs" {
    mkdir -p "$APP/target/classes" "$APP/target/tmp" "$APP/node_modules/x" "$APP/src"
    touch "$APP/target/app.jar" "$APP/target/tmp/junk" "$APP/node_modules/x/a" "$APP/src/Main.java"
    export CC_OVERRIDE_BUILDCACHE='target:./node_modules/'
    export CC_IGNORE_FROM_BUILDCACHE='target/tmp'
    run --separate-stderr "$CCWRAP" build -- true
    assert_success
    assert_equal "$(members "$STORE/myapp/c1.tar.zst")" "node_modules/
node_modules/x/
node_modules/x/a
target/
target/app.jar
target/classes/"
    unset CC_OVERRIDE_BUILDCACHE CC_IGNORE_FROM_BUILDCACHE
    export IGNORE_FROM_BUILDCACHE='node_modules:src:../etc'
    run --separate-stderr "$CCWRAP" build -- true
    assert_success
    assert_equal "${stderr_lines[0]}" "ccwrap: warning: IGNORE_FROM_BUILDCACHE is deprecated; name it CC_IGNORE_FROM_BUILDCACHE"
    assert_equal "${stderr_lines[1]}" "ccwrap: warning: IGNORE_FROM_BUILDCACHE: '../etc' is not a path inside the application root; left out"
    assert_equal "$(members "$STORE/myapp/c1.tar.zst" | tr '\n' ' ')" "target/ target/app.jar target/classes/ target/tmp/ target/tmp/junk "
}

@test "a folder store inside the root is not archived into itself" {
    make_tree
    CCWRAP_CACHE=$APP/.cache/ccwrap run --separate-stderr "$CCWRAP" build -- true
    assert_success
    # The tree's 7 entries and .cache/, which the save created: not the store below it.
    assert_regex "$stderr" "^ccwrap: build cache: saved 3 files, 4 folders, 1 symlink, [0-9.]+ (bytes|KiB) to $APP/\.cache/ccwrap/myapp/c1\.tar\.zst in "
    run members "$APP/.cache/ccwrap/myapp/c1.tar.zst"
    assert_line ".cache/"
    refute_output --partial ".cache/ccwrap"
    # Named with a trailing slash and the user's own ignore list: both kept.
    echo x >"$APP/skip.txt"
    CCWRAP_CACHE=$APP/.cache/ccwrap/ CC_IGNORE_FROM_BUILDCACHE=skip.txt run --separate-stderr "$CCWRAP" build -- true
    assert_success
    run members "$APP/.cache/ccwrap/myapp/c1.tar.zst"
    refute_output --partial ".cache/ccwrap"
    refute_output --partial "skip.txt"
    assert_line "start.sh"
}

@test "sockets and named pipes are left out with a note" {
    mkfifo "$APP/fifo"
    python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$APP/app.sock"
    touch "$APP/file"
    run --separate-stderr "$CCWRAP" build -- true
    assert_success
    assert_equal "${stderr_lines[0]}" "ccwrap: build cache: app.sock left out: a socket"
    assert_equal "${stderr_lines[1]}" "ccwrap: build cache: fifo left out: a named pipe"
    assert_equal "$(members "$STORE/myapp/c1.tar.zst")" "file"
}

@test "a path longer than 4095 bytes: one line that names its folder and the fix; the build keeps status 0" {
    # 21 folders of 200 bytes: 4221 bytes, more than PATH_MAX, made one level at a time.
    python3 -c 'import os, sys
os.chdir(sys.argv[1])
for _ in range(21):
    os.mkdir("d" * 200); os.chdir("d" * 200)
open("f", "w").close()' "$APP"
    touch "$APP/file"
    run --separate-stderr "$CCWRAP" build -- true
    assert_success
    assert_equal "${#stderr_lines[@]}" 2
    assert_regex "${stderr_lines[0]}" "^ccwrap: build cache: d{96}…d{96}: a path below it is longer than 4095 bytes; name this folder or one above it in CC_IGNORE_FROM_BUILDCACHE\$"
    assert_equal "${stderr_lines[1]}" "ccwrap: warning: build cache: no archive saved; the build itself succeeded"
    assert [ ! -e "$STORE/myapp/c1.tar.zst" ]
    CC_IGNORE_FROM_BUILDCACHE=$(printf 'd%.0s' $(seq 200)) run --separate-stderr "$CCWRAP" build -- true
    assert_success
    assert_equal "$(members "$STORE/myapp/c1.tar.zst")" "file"
}

@test "a tree as deep as PATH_MAX allows (2040 folders) is archived and restored whole" {
    # One open folder per level: the walk needs more descriptors than the depth.
    [ "$(ulimit -n)" -ge 4096 ] || ulimit -n 4096 2>/dev/null ||
        skip "the open-file limit is $(ulimit -n) and cannot be raised to 4096"
    python3 -c 'import os, sys
os.chdir(sys.argv[1])
for _ in range(2040):
    os.mkdir("a"); os.chdir("a")
open("f", "w").write("bottom\n")
os.symlink("f", "link")' "$APP"
    run --separate-stderr "$CCWRAP" build -- true
    assert_success
    assert_regex "${stderr_lines[0]}" "^ccwrap: build cache: saved 1 file, 2040 folders, 1 symlink, "
    rm -rf "$APP/a"
    run --separate-stderr "$CCWRAP" build --from-cache -- false
    assert_success
    bottom=$(cd "$APP" && python3 -c 'import os
for _ in range(2040):
    os.chdir("a")
print(open("f").read(), end="")
print(os.readlink("link"))')
    assert_equal "$bottom" "$(printf 'bottom\nf')"
}

@test "a corrupt or truncated archive: says why, leaves the root as it was, builds in full" {
    mkdir -p "$STORE/myapp"
    chmod 700 "$STORE" "$STORE/myapp"
    echo 'not an archive' >"$STORE/myapp/c1.tar.zst"
    echo source >"$APP/src.txt"
    run --separate-stderr "$CCWRAP" build --from-cache -- sh -c 'echo command >>"$LOG"'
    assert_success
    assert_regex "${stderr_lines[0]}" '^ccwrap: build cache: the archive is corrupt: '
    assert_equal "${stderr_lines[1]}" "ccwrap: build cache: nothing restored; building in full"
    assert_equal "$(cat "$LOG")" command
    # Half of a real archive: what it held before the cut is not left in the root.
    mkdir -p "$BATS_TEST_TMPDIR/big/dir"
    for i in $(seq 1 200); do head -c 4096 /dev/urandom >"$BATS_TEST_TMPDIR/big/dir/f$i"; done
    tar -C "$BATS_TEST_TMPDIR/big" -cf - dir | zstd -q >"$BATS_TEST_TMPDIR/full.tar.zst"
    size=$(stat -c %s "$BATS_TEST_TMPDIR/full.tar.zst")
    head -c $((size / 2)) "$BATS_TEST_TMPDIR/full.tar.zst" >"$STORE/myapp/c1.tar.zst"
    : >"$LOG"
    run --separate-stderr "$CCWRAP" build --from-cache -- sh -c 'echo command >>"$LOG"'
    assert_success
    assert_regex "${stderr_lines[0]}" '^ccwrap: build cache: '
    assert_equal "$(cat "$LOG")" command
    assert [ ! -e "$APP/dir" ]
    run ls -A "$APP"
    refute_output --partial .ccwrap-restore
}

# A crafted archive at the key's place: python3's tarfile, then zstd.
craft() {
    mkdir -p "$STORE/myapp"
    chmod 700 "$STORE" "$STORE/myapp"
    python3 - "$BATS_TEST_TMPDIR/evil.tar" "$@" <<'EOF'
import io, sys, tarfile
out, specs = sys.argv[1], sys.argv[2:]
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
    for spec in specs:
        kind, name, arg = spec.split("|")
        i = tarfile.TarInfo(name)
        if kind == "file":
            data = arg.encode()
            i.size = len(data)
            t.addfile(i, io.BytesIO(data))
            continue
        i.type = {"symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE, "dir": tarfile.DIRTYPE}[kind]
        i.linkname = arg
        t.addfile(i)
EOF
    zstd -q -f "$BATS_TEST_TMPDIR/evil.tar" -o "$STORE/myapp/c1.tar.zst"
    # No record of a save (NAME.sig): restored unchecked, as one saved by an older ccwrap.
    rm -f "$STORE/myapp/c1.tar.zst.sig"
}

# The restore of the crafted archive is refused, nothing outside the root is written, the
# root keeps no part of the archive, and the build runs in full.
assert_refused() {
    run --separate-stderr "$CCWRAP" build --from-cache -- sh -c 'echo command >>"$LOG"'
    assert_success
    assert_regex "${stderr_lines[0]}" "$1"
    assert_equal "${stderr_lines[1]}" "ccwrap: build cache: nothing restored; building in full"
    assert_equal "$(cat "$LOG")" command
    assert_equal "$(cat "$OUTSIDE/target")" original
    assert_equal "$(find "$OUTSIDE" | sort | tr '\n' ' ')" "$OUTSIDE $OUTSIDE/target "
    assert [ ! -e "$APP/ok" ]
    run ls -A "$APP"
    refute_output --partial .ccwrap-restore
    : >"$LOG"
}

@test "malicious archives: '..', absolute paths, a symlink to walk through, links out; all refused" {
    OUTSIDE=$BATS_TEST_TMPDIR/outside
    mkdir -p "$OUTSIDE"
    echo original >"$OUTSIDE/target"
    craft "file|ok|x" "file|../outside/target|pwned"
    assert_refused "^ccwrap: build cache: archive entry '\.\./outside/target': refused: Path contains '\.\.'$"
    craft "file|ok|x" "file|$OUTSIDE/target|pwned"
    assert_refused "^ccwrap: build cache: archive entry '$OUTSIDE/target': refused: Path is absolute$"
    craft "file|ok|x" "symlink|link|$OUTSIDE" "file|link/target|pwned"
    assert_refused "^ccwrap: build cache: archive entry 'link/target': refused: Cannot extract through symlink link"
    craft "file|ok|x" "symlink|d|.." "file|d/outside/new|pwned"
    assert_refused "^ccwrap: build cache: archive entry 'd/outside/new': refused: Cannot extract through symlink d"
    craft "file|ok|x" "hardlink|h|$OUTSIDE/target" "file|h|pwned"
    assert_refused "^ccwrap: build cache: archive entry 'h': refused: "
    craft "file|ok|x" "hardlink|h|../outside/target"
    assert_refused "^ccwrap: build cache: archive entry 'h': refused: "
    craft "file|ok|x" "symlink|./a//b|$OUTSIDE" "file|a/./b/target|pwned"
    assert_refused "^ccwrap: build cache: archive entry 'a/\./b/target': refused: Cannot extract through symlink a/b$"
    craft "file|ok|x" "symlink|s|$OUTSIDE" "hardlink|h|s" "file|h/target|pwned"
    assert_refused "^ccwrap: build cache: archive entry 'h/target': refused: Cannot extract through symlink h$"
    craft "file|ok|x" "symlink|s|$OUTSIDE" "hardlink|h|s/target"
    assert_refused "^ccwrap: build cache: archive entry 'h': refused: its hard link target goes through symlink s$"
    craft "file|ok|x" "symlink|t|$OUTSIDE/target" "file|t|pwned"
    assert_refused "^ccwrap: build cache: archive entry 't': refused: it would replace a symbolic link$"
    craft "file|ok|x" "dir|d|" "symlink|d|$OUTSIDE"
    assert_refused "^ccwrap: build cache: archive entry 'd': refused: a symbolic link would replace an entry$"
    # The root's own history is not the archive's to replace.
    craft "file|ok|x" "file|.git/config|[core]"
    assert_refused "^ccwrap: build cache: archive entry '\.git/config': refused: the archive may not write there$"
}

@test "concurrent builds of one key: the archive is one of them, whole; no temporary file stays" {
    for i in 1 2 3 4; do
        mkdir -p "$BATS_TEST_TMPDIR/r$i"
        head -c 3000000 /dev/urandom >"$BATS_TEST_TMPDIR/r$i/blob"
        echo "$i" >"$BATS_TEST_TMPDIR/r$i/id"
        sha256sum <"$BATS_TEST_TMPDIR/r$i/blob" >"$BATS_TEST_TMPDIR/r$i.sum"
    done
    pids=()
    for i in 1 2 3 4; do
        "$CCWRAP" -q -C "$BATS_TEST_TMPDIR/r$i" build -- true 3>&- &
        pids+=($!)
        remember_pid $!
    done
    for p in "${pids[@]}"; do wait "$p"; done
    zstd -q -t "$STORE/myapp/c1.tar.zst"
    mkdir "$BATS_TEST_TMPDIR/x"
    zstd -dc "$STORE/myapp/c1.tar.zst" | bsdtar -C "$BATS_TEST_TMPDIR/x" -xf -
    id=$(cat "$BATS_TEST_TMPDIR/x/id")
    assert_equal "$(sha256sum <"$BATS_TEST_TMPDIR/x/blob")" "$(cat "$BATS_TEST_TMPDIR/r$id.sum")"
    assert_equal "$(find "$STORE/myapp" -mindepth 1 -printf '%f\n' | sort | tr '\n' ' ')" "c1.tar.zst c1.tar.zst.sig index lock "
    assert_equal "$(grep -c . "$STORE/myapp/index")" 1
}

@test "a store that fails on upload warns and the build that succeeded keeps status 0" {
    echo x >"$APP/file"
    echo 'a file' >"$BATS_TEST_TMPDIR/notdir"
    CCWRAP_CACHE=$BATS_TEST_TMPDIR/notdir/store run --separate-stderr "$CCWRAP" build -- true
    assert_success
    assert_equal "$stderr" "ccwrap: build cache: $BATS_TEST_TMPDIR/notdir/store: cannot create the cache folder: Not a directory
ccwrap: warning: build cache: no archive saved; the build itself succeeded"
}

@test "a cache folder that others may write, or owned by another user, is refused" {
    mkdir -p "$STORE"
    chmod 777 "$STORE"
    run --separate-stderr "$CCWRAP" build -- true
    assert_success
    assert_equal "${stderr_lines[0]}" "ccwrap: build cache: $STORE: writable by group or others: they could swap archives; chmod go-w $STORE"
    chmod 700 "$STORE"
    if [ "$(id -u)" = 0 ]; then
        chown nobody "$STORE"
        run --separate-stderr "$CCWRAP" build -- true
        assert_success
        assert_equal "${stderr_lines[0]}" "ccwrap: build cache: $STORE: owned by uid $(id -u nobody), not by this user (uid 0): another user could swap archives; chown 0 $STORE or choose another cache folder"
        chown 0 "$STORE"
    fi
    ln -s "$STORE" "$BATS_TEST_TMPDIR/link"
    CCWRAP_CACHE=$BATS_TEST_TMPDIR/link run --separate-stderr "$CCWRAP" build -- true
    assert_success
    assert_equal "${stderr_lines[0]}" "ccwrap: build cache: $BATS_TEST_TMPDIR/link: cannot open the cache folder: not a folder (a symbolic link?)"
}

@test "the default store: \$XDG_CACHE_HOME/ccwrap, else ~/.cache/ccwrap for a user; /var/cache/ccwrap for root" {
    unset CCWRAP_CACHE
    if [ "$(id -u)" = 0 ]; then
        run "$CCWRAP" plan build
        assert_line --partial "cache archive                    archive to /var/cache/ccwrap (default), app myapp (APP_ID)"
        skip "the user defaults need a non-root user"
    fi
    XDG_CACHE_HOME=$BATS_TEST_TMPDIR/xdg run "$CCWRAP" build -- true
    assert [ -f "$BATS_TEST_TMPDIR/xdg/ccwrap/myapp/c1.tar.zst" ]
}

@test "events: cache_save and cache_restore with sizes and times; no credentials anywhere" {
    echo x >"$APP/file"
    run "$CCWRAP" --events "$BATS_TEST_TMPDIR/ev" build -- true
    assert_success
    run "$CCWRAP" --events "$BATS_TEST_TMPDIR/ev" build --from-cache -- true
    assert_success
    run jq -c 'select(.event | startswith("cache")) | del(.time) | .ms |= (. >= 0) | .bytes |= (. > 0)' "$BATS_TEST_TMPDIR/ev"
    assert_output "{\"event\":\"cache_save\",\"saved\":true,\"store\":\"$STORE\",\"app\":\"myapp\",\"commit\":\"c1\",\"files\":1,\"bytes\":true,\"ms\":true,\"signed\":false}
{\"event\":\"cache_restore\",\"restored\":true,\"store\":\"$STORE\",\"app\":\"myapp\",\"commit\":\"c1\",\"files\":1,\"bytes\":true,\"ms\":true,\"verified\":false}"
    CC_DISABLE_BUILD_CACHE_UPLOAD=true run "$CCWRAP" --events "$BATS_TEST_TMPDIR/ev2" build -- true
    run jq -c 'select(.event == "cache_save") | del(.time)' "$BATS_TEST_TMPDIR/ev2"
    assert_output '{"event":"cache_save","saved":false,"reason":"disabled"}'
    run "$CCWRAP" --events "$BATS_TEST_TMPDIR/ev3" build --cache 'http://u:s3cret@127.0.0.1:1/c' --from-cache -- true
    assert_success
    refute_output --partial s3cret
    run grep -c s3cret "$BATS_TEST_TMPDIR/ev3"
    assert_output 0
    run jq -r 'select(.event == "cache_restore") | .reason' "$BATS_TEST_TMPDIR/ev3"
    assert_output unreachable
}

@test "plan shows the store without credentials; --cache > CCWRAP_CACHE > cache setting" {
    printf 'cache = "https://ci:t0ken@cache.example/ccwrap"\n' >"$APP/ccwrap.conf"
    unset CCWRAP_CACHE
    run "$CCWRAP" plan build
    assert_line "  cache archive                    archive to https://cache.example/ccwrap/ (cache), app myapp (APP_ID), commit c1 (COMMIT_ID), keep 2, not signed, restores not verified"
    refute_output --partial t0ken
    CCWRAP_CACHE=s3://bucket/pre run "$CCWRAP" plan build
    assert_line --partial "archive to s3://bucket/pre/ (CCWRAP_CACHE)"
    CCWRAP_CACHE=s3://bucket/pre run "$CCWRAP" plan --cache /srv/cache build
    assert_line --partial "archive to /srv/cache (--cache)"
    CC_DISABLE_BUILD_CACHE_UPLOAD=true run "$CCWRAP" plan build
    assert_line "  cache archive                    none: CC_DISABLE_BUILD_CACHE_UPLOAD=true"
}

@test "check validates the store; the configuration refuses a bad cache or cache_keep" {
    CCWRAP_CACHE=ftp://host/x run "$CCWRAP" check
    assert_failure 1
    assert_output "CCWRAP_CACHE: 'ftp://host/x': unknown store; give an absolute folder, http(s)://HOST/PATH or s3://BUCKET/PREFIX"
    unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
    CCWRAP_CACHE=s3://bucket run "$CCWRAP" check
    assert_failure 1
    assert_output "CCWRAP_CACHE: an s3:// store needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment; export them
CCWRAP_CACHE: s3://bucket/ is restored without cache_verify_key: whoever can write the store chooses what this instance runs; sign archives in CI and set cache_verify_key"
    CCWRAP_CACHE=s3://Bad_Bucket run "$CCWRAP" check
    assert_output "CCWRAP_CACHE: 's3://Bad_Bucket': not an S3 bucket name (lower-case letters, digits, '.' and '-'); write s3://BUCKET/PREFIX"
    run "$CCWRAP" check
    assert_success
    mkdir -m 777 "$BATS_TEST_TMPDIR/open"
    CCWRAP_CACHE=$BATS_TEST_TMPDIR/open run "$CCWRAP" check
    assert_failure 1
    assert_output "CCWRAP_CACHE: the cache folder $BATS_TEST_TMPDIR/open must be a folder of this user or root, writable by nobody else; chmod go-w or choose another"
    unset CCWRAP_CACHE
    printf 'shell = "/bin/sh"\ncache = "relative/dir"\n' >"$APP/ccwrap.conf"
    run "$CCWRAP" build -- true
    assert_failure 125
    assert_output "ccwrap: ccwrap.conf:2: cache 'relative/dir': unknown store; give an absolute folder, http(s)://HOST/PATH or s3://BUCKET/PREFIX"
    printf 'cache_keep = -1\n' >"$APP/ccwrap.conf"
    run "$CCWRAP" build -- true
    assert_failure 125
    assert_output "ccwrap: ccwrap.conf:1: cache_keep must be a whole number of archives from 0 (all) to 10000, not '-1'"
    run "$CCWRAP" run --cache /x -- true
    assert_failure 125
    assert_output "ccwrap: --cache goes with build, cache, plan or check; see 'ccwrap --help'"
}

@test "ccwrap run and a build without a cache never load libarchive or libcurl" {
    run ldd "$CCWRAP"
    refute_output --partial libarchive
    refute_output --partial libcurl
    # The helper links libarchive; libcurl it loads only for an http(s) or s3 store.
    run ldd "$TOP/ccwrap-cache"
    assert_output --partial libarchive
    refute_output --partial libcurl
    mkdir -m 700 "$BATS_TEST_TMPDIR/store"
    LD_DEBUG=libs LD_DEBUG_OUTPUT=$BATS_TEST_TMPDIR/local \
        CCWRAP_CACHE_STORE=$BATS_TEST_TMPDIR/store run "$TOP/ccwrap-cache" -q list app
    assert_success
    run cat "$BATS_TEST_TMPDIR"/local.*
    assert_output --partial libarchive.so.13
    refute_output --partial libcurl
    LD_DEBUG=libs LD_DEBUG_OUTPUT=$BATS_TEST_TMPDIR/remote \
        CCWRAP_CACHE_STORE=http://127.0.0.1:9/c run "$TOP/ccwrap-cache" -q list app
    assert_failure
    run cat "$BATS_TEST_TMPDIR"/remote.*
    assert_output --partial libcurl.so.4
}

@test "without libcurl, a remote store says what to install and the build goes on as with an unreachable one" {
    [ "$(id -u)" = 0 ] || skip "hiding libcurl.so.4 takes a private mount namespace (root)"
    lib=$(ldconfig -p | awk '/libcurl\.so\.4 / { print $NF; exit }')
    [ -n "$lib" ] || skip "libcurl.so.4 is not installed"
    unshare -m true 2>/dev/null || skip "unshare -m is refused here"
    echo source >"$APP/src.txt"
    # libcurl.so.4 replaced by an empty file, in this command's mount namespace only.
    CCWRAP_CACHE=http://127.0.0.1:9/c run --separate-stderr unshare -m sh -c \
        'mount --bind /dev/null "$1" && shift && exec "$@"' sh "$lib" \
        "$CCWRAP" build --from-cache -- sh -c 'echo command >>"$LOG"'
    assert_success
    why="ccwrap: build cache: http://127.0.0.1:9/c/: cannot load libcurl.so.4 ($lib: file too short); install libcurl4 for http(s) and s3 stores"
    assert_equal "${stderr_lines[0]}" "$why"
    assert_equal "${stderr_lines[1]}" "ccwrap: build cache: nothing restored; building in full"
    assert_equal "${stderr_lines[2]}" "$why"
    assert_equal "${stderr_lines[3]}" "ccwrap: warning: build cache: no archive saved; the build itself succeeded"
    assert_equal "${#stderr_lines[@]}" 4
    assert_equal "$(cat "$LOG")" command
}
