#!/usr/bin/env bats
# The build cache helper ccwrap-cache as a program of the house (§10): its messages go
# through ccwrap's own message core, so an archive's entry names, whoever wrote them, cannot
# forge a line or drive the terminal; its flags are checked like ccwrap's.

load test_helper

setup() {
    common_setup
    unset CC_DISABLE_BUILD_CACHE_UPLOAD CCWRAP_CACHE_MAX_BYTES CCWRAP_CACHE_MAX_ENTRIES
    STORE=$BATS_TEST_TMPDIR/store
    HELPER=$(dirname "$CCWRAP")/ccwrap-cache
    export CCWRAP_CACHE=$STORE APP_ID=myapp COMMIT_ID=c1
}

teardown() {
    kill_background
}

# hostile KIND NAME MODE: the store's archive of commit c1, one entry NAME (python escapes
# allowed: "\x1b", "\n") of KIND "file" or "chr" (the character device 1,1), with MODE.
hostile() {
    mkdir -p "$STORE/myapp"
    chmod 700 "$STORE" "$STORE/myapp"
    python3 -c 'import io, sys, tarfile
kind, name, mode = sys.argv[2], sys.argv[3].encode().decode("unicode_escape"), int(sys.argv[4], 8)
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
    i = tarfile.TarInfo(name)
    i.mode = mode
    if kind == "chr":
        i.type, i.devmajor, i.devminor = tarfile.CHRTYPE, 1, 1
        t.addfile(i)
    else:
        i.size = 1
        t.addfile(i, io.BytesIO(b"x"))' "$BATS_TEST_TMPDIR/evil.tar" "$@"
    zstd -q -f "$BATS_TEST_TMPDIR/evil.tar" -o "$STORE/myapp/c1.tar.zst"
}

@test "an archive entry name with a terminal escape or a newline is shown as one line, control bytes as '?'" {
    hostile chr 'dev/\x1b[2J\x1b]0;owned\x07mem' 666
    CC_DISABLE_BUILD_CACHE_UPLOAD=true run --separate-stderr "$CCWRAP" build --from-cache -- true
    assert_success
    assert_equal "${stderr_lines[0]}" "ccwrap: build cache: archive entry 'dev/?[2J?]0;owned?mem': refused: a character device; a restore makes only files, folders and links"
    assert_equal "${stderr_lines[1]}" "ccwrap: build cache: nothing restored; building in full"
    [[ $stderr != *$'\e'* && $stderr != *$'\a'* ]]

    # A newline in a name cannot forge a second message: the set-user-ID line stays one line.
    hostile file 'tool\nccwrap: build cache: restored 0 files' 4755
    run --separate-stderr "$CCWRAP" build --from-cache -- true
    assert_success
    assert_equal "${stderr_lines[0]}" "ccwrap: build cache: tool?ccwrap: build cache: restored 0 files restored without its set-user-ID bit"
    assert_regex "${stderr_lines[1]}" "^ccwrap: build cache: restored 1 file, 0 folders, 0 symlinks, "
    for line in "${stderr_lines[@]}"; do
        [ "$line" != "ccwrap: build cache: restored 0 files" ]
    done
}

@test "ccwrap-cache: -q, -n and -v are its flags; any other is refused with the usage, status 2" {
    mkdir -m 700 "$STORE"
    CCWRAP_CACHE_STORE=$STORE run --separate-stderr "$HELPER" -n list myapp
    assert_success
    assert_output "$STORE/myapp/
  (no archives)"
    CCWRAP_CACHE_STORE=$STORE run --separate-stderr "$HELPER" -x list myapp
    assert_failure 2
    assert_output ""
    assert_equal "${stderr_lines[0]}" "ccwrap: build cache: -x: unknown option; give -q (quiet), -n (normal) or -v (verbose)"
    assert_regex "${stderr_lines[1]}" "^usage: CCWRAP_CACHE_STORE=STORE ccwrap-cache \[-q\|-n\|-v\] save ROOT APP COMMIT KEEP \| "
    assert_equal "${#stderr_lines[@]}" 3
    # The same status as a wrong command, whose usage names -n too.
    CCWRAP_CACHE_STORE=$STORE run --separate-stderr "$HELPER" -v lists myapp
    assert_failure 2
    assert_regex "${stderr_lines[0]}" "^usage: .*\[-q\|-n\|-v\]"
}
