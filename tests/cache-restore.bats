#!/usr/bin/env bats
# A build cache restore (§10, "the store is a trust boundary") from a hostile store:
# archives crafted here with python3's tarfile (pax) and zstd. The restore creates only files,
# folders, symbolic links and hard links below its staging folder, whatever a path's length;
# caps what it writes; fails whole on a full disk; keeps mtimes to the nanosecond.
# Design: doc/design.md §10 (build cache archive: the store is a trust boundary).

load test_helper

setup() {
    common_setup
    unset CC_DISABLE_BUILD_CACHE_UPLOAD CCWRAP_CACHE_MAX_BYTES CCWRAP_CACHE_MAX_ENTRIES
    STORE=$BATS_TEST_TMPDIR/store
    OUTSIDE=$BATS_TEST_TMPDIR/outside
    mkdir -p "$OUTSIDE"
    echo original >"$OUTSIDE/target"
    export CCWRAP_CACHE=$STORE APP_ID=myapp COMMIT_ID=c1
}

teardown() {
    kill_background
}

# craft SPEC...: the archive at the key's place in $STORE (or $ARCHIVE). A SPEC is
# KIND|NAME|ARG|MODE: KIND file (ARG: its text), dir, symlink and hardlink (ARG: the target),
# blk, chr (ARG: MAJOR,MINOR), fifo; MODE octal or empty. "{L}" in a NAME or ARG is 17
# components of 250 bytes (4267 bytes: longer than PATH_MAX).
craft() {
    local out=${ARCHIVE:-$STORE/myapp/c1.tar.zst}
    mkdir -p "$(dirname "$out")"
    chmod 700 "$STORE" "$STORE/myapp" 2>/dev/null || true
    python3 - "$BATS_TEST_TMPDIR/evil.tar" "$@" <<'EOF'
import io, sys, tarfile
out, specs = sys.argv[1], sys.argv[2:]
L = "/".join(["x" * 250] * 17)
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
    for spec in specs:
        kind, name, arg, mode = (spec.split("|") + [""])[:4]
        i = tarfile.TarInfo(name.replace("{L}", L))
        i.mtime = 1577934245
        if mode:
            i.mode = int(mode, 8)
        elif kind == "dir":
            i.mode = 0o755
        if kind == "file":
            data = arg.encode()
            i.size = len(data)
            t.addfile(i, io.BytesIO(data))
            continue
        i.type = {"symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE, "dir": tarfile.DIRTYPE,
                  "blk": tarfile.BLKTYPE, "chr": tarfile.CHRTYPE, "fifo": tarfile.FIFOTYPE}[kind]
        if kind in ("blk", "chr"):
            i.devmajor, i.devminor = (int(n) for n in arg.split(","))
        else:
            i.linkname = arg.replace("{L}", L)
        t.addfile(i)
EOF
    zstd -q -f "$BATS_TEST_TMPDIR/evil.tar" -o "$out"
}

# The restore is refused with a first line matching $1: the build runs in full, nothing
# outside the root is written, the root is as it was (src.txt alone), no staging folder stays.
assert_refused() {
    echo source >"$APP/src.txt"
    # No archive of the full build: the crafted one stays for the next check.
    CC_DISABLE_BUILD_CACHE_UPLOAD=true run --separate-stderr "$CCWRAP" build --from-cache -- sh -c 'echo command >>"$LOG"'
    assert_success
    assert_regex "${stderr_lines[0]}" "$1"
    assert_equal "${stderr_lines[1]}" "ccwrap: build cache: nothing restored; building in full"
    assert_equal "$(cat "$LOG")" command
    assert_equal "$(cat "$OUTSIDE/target")" original
    assert_equal "$(find "$OUTSIDE" | sort | tr '\n' ' ')" "$OUTSIDE $OUTSIDE/target "
    assert_equal "$(ls -A "$APP")" src.txt
    : >"$LOG"
}

@test "a symlink chain longer than PATH_MAX cannot lead a restore out of the root; long paths restore" {
    # The attack of issue 21: d/{L}/s -> OUTSIDE, then d/{L}/s/evil.
    craft "file|ok|x" "symlink|d/{L}/s|$OUTSIDE" "file|d/{L}/s/target|pwned"
    assert_refused "^ccwrap: build cache: archive entry 'd/x{94}…x{87}/s/target': refused: Cannot extract through symlink d/x{94}…x{94}/s\$"
    # A hard link made through it, and one whose target goes through it.
    craft "symlink|d/{L}/s|$OUTSIDE" "hardlink|d/{L}/s/h|ok"
    assert_refused "^ccwrap: build cache: archive entry 'd/x{94}…x{92}/s/h': refused: Cannot extract through symlink d/"
    craft "symlink|d/{L}/s|$OUTSIDE" "hardlink|h|d/{L}/s/target"
    assert_refused "^ccwrap: build cache: archive entry 'h': refused: its hard link target goes through symlink d/x{94}…x{94}/s\$"
    # Without a symbolic link on the way, the same long paths are made, and hard-linked.
    craft "file|d/{L}/f|deep" "symlink|d/{L}/l|f" "hardlink|top|d/{L}/f"
    run --separate-stderr "$CCWRAP" build --from-cache -- false
    assert_success
    assert_regex "${stderr_lines[0]}" "^ccwrap: build cache: restored 2 files, 0 folders, 1 symlink, "
    run python3 -c 'import os, sys
os.chdir("d")
for _ in range(17):
    os.chdir("x" * 250)
print(open("f").read(), os.readlink("l"), os.stat("f").st_ino == os.stat(sys.argv[1]).st_ino)' "$APP/top"
    assert_output "deep f True"
}

@test "device nodes, named pipes: the whole restore is refused, naming the entry and why" {
    craft "file|ok|x" "blk|disk|8,0|666"
    assert_refused "^ccwrap: build cache: archive entry 'disk': refused: a block device; a restore makes only files, folders and links\$"
    craft "file|ok|x" "chr|dev/mem|1,1|666"
    assert_refused "^ccwrap: build cache: archive entry 'dev/mem': refused: a character device; a restore makes only files, folders and links\$"
    craft "file|ok|x" "fifo|pipe||666"
    assert_refused "^ccwrap: build cache: archive entry 'pipe': refused: a named pipe; a restore makes only files, folders and links\$"
}

@test "no set-user-ID, set-group-ID or sticky bit on anything restored; one line names the first" {
    craft "dir|shared||2775" "dir|tmp||1777" "file|tmp/su|x|4755" "file|all|x|7777" "file|plain|x|640"
    run --separate-stderr "$CCWRAP" build --from-cache -- false
    assert_success
    assert_equal "${stderr_lines[0]}" "ccwrap: build cache: shared restored without its set-group-ID bit"
    assert_equal "${stderr_lines[1]}" "ccwrap: build cache: 3 more entries restored without set-user-ID, set-group-ID or sticky bits"
    assert_regex "${stderr_lines[2]}" "^ccwrap: build cache: restored 3 files, 2 folders, 0 symlinks, "
    assert_equal "$(stat -c '%a %n' shared tmp tmp/su all plain | tr '\n' ' ')" "775 shared 777 tmp 755 tmp/su 777 all 640 plain "
}

@test "hard links: only to what the archive made, inside the root, never through a symlink" {
    craft "file|ok|x" "hardlink|h|../outside/target"
    assert_refused "^ccwrap: build cache: archive entry 'h': refused: its hard link target \.\./outside/target contains '\.\.'\$"
    craft "file|ok|x" "hardlink|h|$OUTSIDE/target"
    assert_refused "^ccwrap: build cache: archive entry 'h': refused: its hard link target $OUTSIDE/target is absolute\$"
    craft "file|ok|x" "symlink|s|$OUTSIDE" "hardlink|h|s/target"
    assert_refused "^ccwrap: build cache: archive entry 'h': refused: its hard link target goes through symlink s\$"
    # A file of the root that the archive did not make is no target either.
    echo mine >"$APP/mine"
    craft "file|ok|x" "hardlink|h|mine"
    rm "$APP/mine"
    assert_refused "^ccwrap: build cache: archive entry 'h': refused: its hard link target is not a file the archive made before it\$"
    craft "dir|d|" "hardlink|h|d"
    assert_refused "^ccwrap: build cache: archive entry 'h': refused: its hard link target is not a file the archive made before it\$"
    # A hard link to a symbolic link is the link; walking through it is refused.
    craft "symlink|s|$OUTSIDE" "hardlink|h|s" "file|h/target|pwned"
    assert_refused "^ccwrap: build cache: archive entry 'h/target': refused: Cannot extract through symlink h\$"
}

@test "a store inside the root: the archive cannot replace or remove it; that entry is left out" {
    export CCWRAP_CACHE=$APP/.cache/ccwrap
    mkdir -p "$CCWRAP_CACHE"
    chmod 700 "$CCWRAP_CACHE"
    echo 'kept' >"$APP/.cache/ccwrap/other"
    ARCHIVE=$CCWRAP_CACHE/myapp/c1.tar.zst craft "file|ok|restored" "dir|.cache|" \
        "file|.cache/ccwrap/myapp/c1.tar.zst|garbage" "file|.cache/ccwrap/myapp/index|garbage"
    sum=$(sha256sum <"$CCWRAP_CACHE/myapp/c1.tar.zst")
    run --separate-stderr "$CCWRAP" build --from-cache -- false
    assert_success
    assert_equal "${stderr_lines[0]}" "ccwrap: build cache: .cache left out of the restore: the store is inside it"
    assert_regex "${stderr_lines[1]}" "^ccwrap: build cache: restored 1 file, 0 folders, 0 symlinks, "
    assert_equal "$(cat "$APP/ok")" restored
    assert_equal "$(sha256sum <"$CCWRAP_CACHE/myapp/c1.tar.zst")" "$sum"
    assert_equal "$(cat "$APP/.cache/ccwrap/other")" kept
    assert [ ! -e "$CCWRAP_CACHE/myapp/index" ]
}

@test "cache_max_entries and cache_max_bytes: past one the restore is refused, naming the setting" {
    craft "dir|a|" "file|a/1|x" "file|a/2|y" "file|ok|z"
    CCWRAP_CACHE_MAX_ENTRIES=3 assert_refused "^ccwrap: build cache: the archive holds more than 3 entries \(cache_max_entries\); raise cache_max_entries if it is right\$"
    printf 'cache_max_entries = 3\n' >"$BATS_TEST_TMPDIR/caps.conf"
    CCWRAP_CONFIG=$BATS_TEST_TMPDIR/caps.conf assert_refused "\(cache_max_entries\)"
    # 2 KiB of data in a file whose cap is 1K.
    craft "file|ok|x" "file|big|$(printf 'b%.0s' $(seq 2048))"
    printf 'cache_max_bytes = 1K\n' >"$BATS_TEST_TMPDIR/caps.conf"
    CCWRAP_CONFIG=$BATS_TEST_TMPDIR/caps.conf assert_refused "^ccwrap: build cache: the archive's files hold more than 1024 bytes \(cache_max_bytes\); raise cache_max_bytes if it is right\$"
    CCWRAP_CACHE_MAX_BYTES=2047 assert_refused "more than 2047 bytes \(cache_max_bytes\)"
    # At the cap, it restores.
    CCWRAP_CACHE_MAX_BYTES=2049 CCWRAP_CACHE_MAX_ENTRIES=2 run --separate-stderr "$CCWRAP" build --from-cache -- false
    assert_success
    assert_regex "${stderr_lines[0]}" "^ccwrap: build cache: restored 2 files, "
    # Values: bounded, named with their fix.
    CCWRAP_CACHE_MAX_BYTES=lots run --separate-stderr "$CCWRAP" build --from-cache -- false
    assert_failure 125
    assert_equal "$stderr" "ccwrap: CCWRAP_CACHE_MAX_BYTES: give a whole number of bytes from 1, with K, M, G or T for KiB, MiB, GiB or TiB, at most 1024T, not 'lots'"
    printf 'cache_max_entries = 0\n' >"$BATS_TEST_TMPDIR/caps.conf"
    CCWRAP_CONFIG=$BATS_TEST_TMPDIR/caps.conf run --separate-stderr "$CCWRAP" build --from-cache -- false
    assert_failure 125
    assert_equal "$stderr" "ccwrap: $BATS_TEST_TMPDIR/caps.conf:1: cache_max_entries must be a whole number of entries from 1 to 1000000000, not '0'"
    run "$CCWRAP" -c "$TOP/conf/ccwrap.conf" plan build
    assert_success
}

@test "mtimes of files, folders and symlinks are kept to the nanosecond, folders' after their content" {
    mkdir -p "$APP/d/sub"
    echo x >"$APP/d/sub/f"
    ln -s f "$APP/d/sub/l"
    touch -d '2020-01-02 03:04:05.123456789' "$APP/d/sub/f"
    touch -h -d '2021-02-03 04:05:06.987654321' "$APP/d/sub/l"
    touch -d '2019-05-06 07:08:09.5' "$APP/d/sub" "$APP/d"
    run "$CCWRAP" build -- true
    assert_success
    want=$(cd "$APP" && stat -c '%n %y' d d/sub d/sub/f d/sub/l)
    rm -rf "$APP/d"
    run --separate-stderr "$CCWRAP" build --from-cache -- false
    assert_success
    assert_equal "$(cd "$APP" && stat -c '%n %y' d d/sub d/sub/f d/sub/l)" "$want"
    assert_equal "$(cd "$APP" && stat -c '%y' d/sub/f)" "2020-01-02 03:04:05.123456789 +0000"
}

# run_in_tmpfs SIZE COMMAND...: COMMAND with the root $APP a tmpfs of SIZE, in a private mount
# namespace (gone with the command); what the root holds afterwards is printed after "--".
run_in_tmpfs() {
    local size=$1
    shift
    run --separate-stderr unshare --mount sh -c '
        root=$2
        mount --make-rprivate / && mount -t tmpfs -o size="$1" tmpfs "$root" && cd "$root" || exit 99
        shift 2
        echo source >src.txt
        "$@" 3>&-
        echo "status $?"
        echo --
        ls -A "$root"' sh "$size" "$APP" "$@"
}

@test "a restore onto a full disk fails whole: the error's words, what it needs, the root as it was, a full build" {
    [ "$(id -u)" = 0 ] || skip "a tmpfs of its own takes a private mount namespace (root)"
    unshare --mount true 2>/dev/null || skip "unshare --mount is refused here"
    # 30,000 files of 2,000 bytes (58.6 MiB) for an 8 MiB tmpfs.
    mkdir -p "$STORE/myapp"
    chmod 700 "$STORE" "$STORE/myapp"
    python3 - "$STORE/myapp/c1.tar" <<'EOF'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
    for n in range(30000):
        i = tarfile.TarInfo("node_modules/p%d/f%d.js" % (n // 100, n))
        i.size = 2000
        t.addfile(i, io.BytesIO(b"z" * 2000))
EOF
    zstd -q --rm "$STORE/myapp/c1.tar" -o "$STORE/myapp/c1.tar.zst"
    export CC_DISABLE_BUILD_CACHE_UPLOAD=true
    run_in_tmpfs 8m "$CCWRAP" build --from-cache -- sh -c 'echo command >>"$LOG"'
    assert_equal "${lines[*]}" "status 0 -- src.txt"
    assert_regex "${stderr_lines[0]}" "^ccwrap: build cache: node_modules/p[0-9]+/(f[0-9]+\.js)?: No space left on device\$"
    assert_regex "${stderr_lines[1]}" "^ccwrap: build cache: the restore needs 57\.2 MiB for the archive's files and [0-9.]+ (KiB|MiB) were written; free space where the root is, or build in full\$"
    assert_equal "${stderr_lines[2]}" "ccwrap: build cache: nothing restored; building in full"
    assert_equal "$(cat "$LOG")" command
}

@test "counts: files, folders and symlinks apart, in the save and restore lines and the event" {
    mkdir -p "$APP/a/b" "$APP/c"
    echo 1 >"$APP/a/b/f"
    echo 2 >"$APP/g"
    ln "$APP/g" "$APP/h"
    ln -s g "$APP/s"
    run --separate-stderr "$CCWRAP" build -- true
    assert_success
    assert_regex "${stderr_lines[0]}" "^ccwrap: build cache: saved 3 files, 3 folders, 1 symlink, "
    rm -rf "$APP/a" "$APP/c" "$APP/g" "$APP/h" "$APP/s"
    CCWRAP_EVENTS=$BATS_TEST_TMPDIR/events run --separate-stderr "$CCWRAP" build --from-cache -- false
    assert_success
    assert_regex "${stderr_lines[0]}" "^ccwrap: build cache: restored 3 files, 3 folders, 1 symlink, "
    assert_equal "$(stat -c %i "$APP/g")" "$(stat -c %i "$APP/h")"
    run grep -c '"event":"cache_restore","restored":true,.*"files":3,' "$BATS_TEST_TMPDIR/events"
    assert_output 1
}

@test "owners are kept when ccwrap is root (names first, else numbers); a set-group-ID root is no obstacle" {
    [ "$(id -u)" = 0 ] || skip "owners are restored only by root"
    mkdir -p "$APP/d"
    echo x >"$APP/d/f"
    echo y >"$APP/g"
    echo z >"$APP/r"
    ln -s g "$APP/s"
    chown nobody:nogroup "$APP/d" "$APP/d/f"
    chown 4242:4343 "$APP/g"
    chown -h nobody "$APP/s"
    run "$CCWRAP" build -- true
    assert_success
    want=$(cd "$APP" && stat -c '%n %U:%G %u:%g %a' d d/f g r s)
    rm -rf "$APP/d" "$APP/g" "$APP/r" "$APP/s"
    # The root's group and set-group-ID bit reach the staging folder; r stays root's.
    chgrp nogroup "$APP"
    chmod g+s "$APP"
    run --separate-stderr "$CCWRAP" build --from-cache -- false
    assert_success
    assert_regex "${stderr_lines[0]}" "^ccwrap: build cache: restored 3 files, 1 folder, 1 symlink, "
    assert_equal "$(cd "$APP" && stat -c '%n %U:%G %u:%g %a' d d/f g r s)" "$want"
    run ls -A "$APP"
    refute_output --partial .ccwrap-restore
}

@test "an entry that cannot take its place: those already moved go back, the root is as it was" {
    mkdir -p "$BATS_TEST_TMPDIR/src"
    for n in a b c d e; do
        echo "new $n" >"$BATS_TEST_TMPDIR/src/$n"
        echo "old $n" >"$APP/$n"
    done
    # An immutable file cannot be renamed: whichever order the staging folder is read in,
    # some entries are already in place when c fails.
    chattr +i "$APP/c" 2>/dev/null || skip "chattr +i is refused here"
    mkdir -p "$STORE/myapp"
    chmod 700 "$STORE" "$STORE/myapp"
    tar -I zstd -cf "$STORE/myapp/c1.tar.zst" -C "$BATS_TEST_TMPDIR/src" a b c d e
    CC_DISABLE_BUILD_CACHE_UPLOAD=true run --separate-stderr "$CCWRAP" build --from-cache -- sh -c 'echo command >>"$LOG"'
    chattr -i "$APP/c"
    assert_success
    assert_equal "${stderr_lines[0]}" "ccwrap: build cache: $APP/c: cannot put it in place: Operation not permitted"
    assert_equal "${stderr_lines[1]}" "ccwrap: build cache: nothing restored; building in full"
    assert_equal "$(cat "$LOG")" command
    assert_equal "$(cat "$APP"/a "$APP"/b "$APP"/c "$APP"/d "$APP"/e | tr '\n' ' ')" "old a old b old c old d old e "
    assert_equal "$(find "$APP" -mindepth 1 -printf "%f\n" | sort | tr "\n" " ")" "a b c d e "
}
