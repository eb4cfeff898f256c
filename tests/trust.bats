#!/usr/bin/env bats
# Trust boundaries (issue 10, doc/security.md): what ccwrap runs as root must belong to root
# (or to ccwrap's user, or to trusted_users) and be writable by nobody else; CCWRAP_ENV and
# --events cannot be turned against it by a second local user. The second user is `nobody`.
# Design: doc/design.md §3 (the trust rule).

load test_helper
load trust_helper

setup() {
    trust_setup
}

# ---- item 1: one trust rule for everything ccwrap executes -----------------------------------

@test "a drop-in owned by another user is refused with 126 and chown; check says the same" {
    logging_hook pre-build 10-theirs
    chown nobody hooks.d/pre-build/10-theirs
    ccw build -- sh -c 'echo command >>"$LOG"'
    assert_failure 126
    assert_equal "$stderr" "ccwrap: hooks.d/pre-build/10-theirs: owned by nobody (uid 65534), not by root; chown root hooks.d/pre-build/10-theirs, $FIX_OWNER"
    assert_equal "$(cat "$LOG")" ""
    ccw check
    assert_failure 1
    assert_output "hooks.d/pre-build/10-theirs: owned by nobody (uid 65534), not by root; chown root hooks.d/pre-build/10-theirs, $FIX_OWNER"
    # The fix it names works.
    chown root hooks.d/pre-build/10-theirs
    ccw -q build -- sh -c 'echo command >>"$LOG"'
    assert_success
    assert_equal "$(cat "$LOG")" "pre-build/10-theirs
command"
}

@test "a group-writable point folder, or a folder owned by another user: its drop-ins are refused" {
    logging_hook pre-run 10-x
    chmod 775 hooks.d/pre-run
    ccw hook pre-run
    assert_failure 126
    assert_equal "$stderr" "ccwrap: hooks.d/pre-run/10-x: its folder hooks.d/pre-run is writable by group or others; chmod go-w hooks.d/pre-run"
    chmod 755 hooks.d/pre-run
    chown nobody hooks.d
    ccw hook pre-run
    assert_failure 126
    assert_equal "$stderr" "ccwrap: hooks.d/pre-run/10-x: its folder hooks.d is owned by nobody (uid 65534), not by root; chown root hooks.d, $FIX_OWNER"
    ccw check
    assert_failure 1
    assert_output "hooks.d: owned by nobody (uid 65534), not by root; chown root hooks.d, $FIX_OWNER
hooks.d/pre-run/10-x: its folder hooks.d is owned by nobody (uid 65534), not by root; chown root hooks.d, $FIX_OWNER"
    assert_equal "$(cat "$LOG")" ""
}

@test "a drop-in that is a symlink to another user's file is refused, naming the target" {
    local theirs=$BATS_TEST_TMPDIR/theirs
    mkdir -p "$theirs" hooks.d/pre-build
    script "$theirs/tool" 'echo ran >>"$LOG"'
    chown -R nobody "$theirs"
    ln -s "$theirs/tool" hooks.d/pre-build/10-link
    ccw hook pre-build
    assert_failure 126
    assert_equal "$stderr" "ccwrap: hooks.d/pre-build/10-link: its target's folder $theirs is owned by nobody (uid 65534), not by root; chown root $theirs, $FIX_OWNER"
    chown root "$theirs"
    ccw hook pre-build
    assert_failure 126
    assert_equal "$stderr" "ccwrap: hooks.d/pre-build/10-link: its target $theirs/tool is owned by nobody (uid 65534), not by root; chown root $theirs/tool, $FIX_OWNER"
    assert_equal "$(cat "$LOG")" ""
}

@test "a symlink another user made in a sticky shared folder is refused, though its target is root's" {
    local shared=$BATS_TEST_TMPDIR/shared
    mkdir -p "$shared" hooks.d/pre-build
    chmod 1777 "$shared"
    # nobody may create entries there: a link to a root-owned program (any program) is theirs.
    as_nobody ln -s /usr/bin/touch "$shared/tool"
    ln -s "$shared/tool" hooks.d/pre-build/10-link
    ccw hook pre-build
    assert_failure 126
    assert_equal "$stderr" "ccwrap: hooks.d/pre-build/10-link: the symlink $shared/tool is owned by nobody (uid 65534), not by root; chown -h root $shared/tool, $FIX_OWNER"
}

@test "a 0777 script named by CC_PRE_BUILD_HOOK is refused like the same drop-in" {
    script clevercloud/pre.sh 'echo ran >>"$LOG"'
    chmod 777 clevercloud/pre.sh
    CC_PRE_BUILD_HOOK="clevercloud/pre.sh --flag" ccw build -- sh -c 'echo command >>"$LOG"'
    assert_failure 126
    assert_equal "$stderr" "ccwrap: CC_PRE_BUILD_HOOK: clevercloud/pre.sh is writable by group or others; chmod go-w clevercloud/pre.sh"
    assert_equal "$(cat "$LOG")" ""
    chmod 755 clevercloud/pre.sh
    chown nobody clevercloud
    CC_PRE_BUILD_HOOK="./clevercloud/pre.sh" ccw check
    assert_failure 1
    assert_output "CC_PRE_BUILD_HOOK: clevercloud/pre.sh: its folder clevercloud is owned by nobody (uid 65534), not by root; chown root clevercloud, $FIX_OWNER"
}

@test "a folder named by a variable: each entry is held to the rule" {
    script scripts/10-mine 'echo mine >>"$LOG"'
    script scripts/20-theirs 'echo theirs >>"$LOG"'
    chown nobody scripts/20-theirs
    CC_PRE_BUILD_HOOK=scripts ccw -q hook pre-build
    assert_failure 126
    assert_equal "$stderr" "ccwrap: scripts/20-theirs: owned by nobody (uid 65534), not by root; chown root scripts/20-theirs, $FIX_OWNER"
    assert_equal "$(cat "$LOG")" "mine"
}

@test "a world-writable application root: anyone could swap hooks.d, so nothing in it runs" {
    logging_hook pre-build 10-x
    chmod 777 "$APP"
    ccw hook pre-build
    assert_failure 126
    assert_equal "$stderr" "ccwrap: hooks.d/pre-build/10-x: its folder $APP is writable by group or others; chmod go-w $APP"
    ccw check
    assert_failure 1
    assert_output "hooks.d: its folder $APP is writable by group or others; chmod go-w $APP
hooks.d/pre-build/10-x: its folder $APP is writable by group or others; chmod go-w $APP"
    assert_equal "$(cat "$LOG")" ""
}

@test "the script a legacy postDeploy names is held to the rule; its refusal is logged" {
    mkdir -p clevercloud
    echo '{"hooks": {"postDeploy": "./clevercloud/notify arg"}}' >clevercloud/php.json
    script clevercloud/notify 'echo notified >>"$LOG"'
    chown nobody clevercloud/notify
    ccw check
    assert_failure 1
    assert_line "clevercloud/php.json hooks.postDeploy: clevercloud/notify is owned by nobody (uid 65534), not by root; chown root clevercloud/notify, $FIX_OWNER"
    ccw -q run --ready none -- true
    assert_success
    assert_equal "$stderr" "ccwrap: clevercloud/php.json hooks.postDeploy: clevercloud/notify is owned by nobody (uid 65534), not by root; chown root clevercloud/notify, $FIX_OWNER"
    assert_equal "$(cat "$LOG")" ""
}

@test "the configured shell is held to the rule too" {
    cp /bin/sh "$BATS_TEST_TMPDIR/theirsh"
    chown nobody "$BATS_TEST_TMPDIR/theirsh"
    echo "shell = \"$BATS_TEST_TMPDIR/theirsh\"" >ccwrap.conf
    CC_PRE_BUILD_HOOK='echo ran >>"$LOG"' ccw hook pre-build
    assert_failure 126
    assert_equal "$stderr" "ccwrap: CC_PRE_BUILD_HOOK: the shell $BATS_TEST_TMPDIR/theirsh: owned by nobody (uid 65534), not by root; chown root $BATS_TEST_TMPDIR/theirsh, $FIX_OWNER"
    assert_equal "$(cat "$LOG")" ""
    # check names it even when no hook would use it.
    ccw check
    assert_failure 1
    assert_output "$BATS_TEST_TMPDIR/theirsh: owned by nobody (uid 65534), not by root; chown root $BATS_TEST_TMPDIR/theirsh, $FIX_OWNER"
}

@test "exec in place holds CC_BUILD_COMMAND and CC_RUN_COMMAND to the same rule" {
    script bin/start 'echo "start $*" >>"$LOG"'
    chmod 777 bin/start
    # leftovers = "keep" and nothing after the command: ccwrap would become it.
    printf 'leftovers = "keep"\n' >ccwrap.conf
    CC_BUILD_COMMAND="bin/start build" ccw -v build
    assert_failure 126
    assert_equal "$stderr" "ccwrap: CC_BUILD_COMMAND: bin/start is writable by group or others; chmod go-w bin/start"
    CC_RUN_COMMAND="./bin/start run" ccw -v run --ready none
    assert_failure 126
    assert_equal "$stderr" "ccwrap: CC_RUN_COMMAND: bin/start is writable by group or others; chmod go-w bin/start"
    [ ! -e "$LOG" ] || [ ! -s "$LOG" ]
    chmod 755 bin/start
    CC_RUN_COMMAND="./bin/start run" ccw -v run --ready none
    assert_success
    assert_equal "${stderr_lines[0]}" "ccwrap: running CC_RUN_COMMAND: /bin/sh -c exec ./bin/start run"
    [[ ${stderr_lines[1]} == "ccwrap: exec in place: nothing follows the application, it takes ccwrap's pid "[0-9]* ]]
    assert_equal "$(cat "$LOG")" "start run"
}

@test "CC_BUILD_COMMAND and CC_RUN_COMMAND naming a script: held to the rule like a hook's; check and plan say so" {
    script bin/start 'echo "start $*" >>"$LOG"'
    chmod 777 bin/start
    CC_BUILD_COMMAND="bin/start build" ccw build
    assert_failure 126
    assert_equal "$stderr" "ccwrap: CC_BUILD_COMMAND: bin/start is writable by group or others; chmod go-w bin/start"
    # Run: the application cannot be executed (§5.2): run-failed with exec, then 126.
    hook run-failed 10-f 'echo "run-failed $CCWRAP_RESULT $CCWRAP_EXIT_STATUS" >>"$LOG"'
    CC_RUN_COMMAND="./bin/start run" ccw -q run --ready none
    assert_failure 126
    assert_equal "$stderr" "ccwrap: CC_RUN_COMMAND: bin/start is writable by group or others; chmod go-w bin/start"
    assert_equal "$(cat "$LOG")" "run-failed exec 126"
    : >"$LOG"
    chmod 755 bin/start
    chown nobody bin
    CC_BUILD_COMMAND="./bin/start" CC_RUN_COMMAND="$APP/bin/start" ccw check
    assert_failure 1
    assert_output "CC_BUILD_COMMAND: bin/start: its folder bin is owned by nobody (uid 65534), not by root; chown root bin, $FIX_OWNER
CC_RUN_COMMAND: $APP/bin/start: its folder bin is owned by nobody (uid 65534), not by root; chown root bin, $FIX_OWNER"
    CC_BUILD_COMMAND="./bin/start" ccw plan build
    assert_success
    assert_line "  command                          COMMAND if given, else CC_BUILD_COMMAND: error: bin/start: its folder bin is owned by nobody (uid 65534), not by root; chown root bin, $FIX_OWNER"
    # A bare word is a program from PATH; a quoted first word is unquoted, as the shell does.
    CC_BUILD_COMMAND='echo "bare $0" >>"$LOG"' ccw -q build
    assert_success
    CC_BUILD_COMMAND='"./bin/start" quoted' ccw -q build
    assert_failure 126
    assert_equal "$stderr" "ccwrap: CC_BUILD_COMMAND: bin/start: its folder bin is owned by nobody (uid 65534), not by root; chown root bin, $FIX_OWNER"
    # The COMMAND after -- is the operator's own, run as given (doc/security.md).
    ccw -q build -- ./bin/start direct
    assert_success
    assert_equal "$(cat "$LOG")" "bare /bin/sh
start direct"
    chown root bin
    CC_BUILD_COMMAND="bin/start fixed" ccw -q build
    assert_success
    assert_equal "$(tail -n 1 "$LOG")" "start fixed"
}

@test "the configured shell is held to the rule for CC_BUILD_COMMAND and CC_RUN_COMMAND too" {
    cp /bin/sh "$BATS_TEST_TMPDIR/theirsh"
    chown nobody "$BATS_TEST_TMPDIR/theirsh"
    echo "shell = \"$BATS_TEST_TMPDIR/theirsh\"" >ccwrap.conf
    CC_BUILD_COMMAND='echo ran >>"$LOG"' ccw build
    assert_failure 126
    assert_equal "$stderr" "ccwrap: CC_BUILD_COMMAND: the shell $BATS_TEST_TMPDIR/theirsh: owned by nobody (uid 65534), not by root; chown root $BATS_TEST_TMPDIR/theirsh, $FIX_OWNER"
    CC_RUN_COMMAND='echo ran >>"$LOG"' ccw run --ready none
    assert_failure 126
    assert_equal "$stderr" "ccwrap: CC_RUN_COMMAND: the shell $BATS_TEST_TMPDIR/theirsh: owned by nobody (uid 65534), not by root; chown root $BATS_TEST_TMPDIR/theirsh, $FIX_OWNER"
    assert_equal "$(cat "$LOG")" ""
}

@test "hooks keep \$0 as the path the user named: dirname \"\$0\" works in a real script" {
    # With fexecve the kernel would hand the shell /dev/fd/N as $0, and dirname "$0" would be
    # /dev/fd: the library below would not be found.
    mkdir -p hooks.d/pre-build/lib
    echo 'echo "lib next to $0" >>"$LOG"' >hooks.d/pre-build/lib/common.sh
    hook pre-build 10-x '. "$(dirname "$0")/lib/common.sh"'
    script clevercloud/pre.sh 'echo "$0 in $(dirname "$0")" >>"$LOG"'
    CC_PRE_BUILD_HOOK=./clevercloud/pre.sh ccw -q hook pre-build
    assert_success
    assert_equal "$(cat "$LOG")" "./clevercloud/pre.sh in ./clevercloud
lib next to hooks.d/pre-build/10-x"
}

@test "a tree owned by its user runs when ccwrap runs as that user (a developer's laptop)" {
    logging_hook pre-build 10-mine
    chmod 666 "$LOG"
    chown -R nobody "$APP"
    run --separate-stderr as_nobody "$CCWRAP" -q hook pre-build
    assert_success
    assert_equal "$stderr" ""
    assert_equal "$(cat "$LOG")" "pre-build/10-mine"
    # ... and the same tree run by root is refused, which trusted_users relaxes.
    ccw hook pre-build
    assert_failure 126
}

@test "trusted_users: root over a build user's checkout (CI), only from a file ccwrap trusts" {
    logging_hook pre-build 10-ci
    chown -R nobody "$APP"
    printf 'trusted_users = {"nobody"}\n' >"$BATS_TEST_TMPDIR/ccwrap.conf"
    ccw -q -c "$BATS_TEST_TMPDIR/ccwrap.conf" hook pre-build
    assert_success
    assert_equal "$(cat "$LOG")" "pre-build/10-ci"
    # Group or others still may not write.
    chmod g+w hooks.d/pre-build/10-ci
    ccw -c "$BATS_TEST_TMPDIR/ccwrap.conf" hook pre-build
    assert_failure 126
    assert_equal "$stderr" "ccwrap: hooks.d/pre-build/10-ci: writable by group or others; chmod go-w hooks.d/pre-build/10-ci"
    # The checkout's own ccwrap.conf, the build user's, cannot trust the build user.
    chmod g-w hooks.d/pre-build/10-ci
    printf 'trusted_users = {"nobody"}\n' >ccwrap.conf
    chown nobody ccwrap.conf
    ccw hook pre-build
    assert_failure 126
    assert_equal "${stderr_lines[0]}" "ccwrap: warning: ccwrap.conf: trusted_users ignored: only a file ccwrap trusts may set it, and its folder $APP is owned by nobody (uid 65534), not by root; chown root $APP, $FIX_OWNER"
    assert_regex "${stderr_lines[1]}" "^ccwrap: hooks.d/pre-build/10-ci: .*owned by nobody"
    printf 'trusted_users = {"no-such-user-here"}\n' >"$BATS_TEST_TMPDIR/ccwrap.conf"
    ccw -c "$BATS_TEST_TMPDIR/ccwrap.conf" hook pre-build
    assert_failure 125
    assert_equal "$stderr" "ccwrap: $BATS_TEST_TMPDIR/ccwrap.conf:1: trusted_users: no user 'no-such-user-here' on this system; give a user name or uid"
}

@test "CCWRAP_TRUSTED_USERS: the same from the environment (docker run -e), replacing the file's" {
    logging_hook pre-build 10-ci
    chown -R nobody "$APP"
    CCWRAP_TRUSTED_USERS="daemon, 65534" ccw -q hook pre-build
    assert_success
    assert_equal "$(cat "$LOG")" "pre-build/10-ci"
    CCWRAP_TRUSTED_USERS="" ccw -q hook pre-build
    assert_failure 126
    CCWRAP_TRUSTED_USERS=$'nobody,no-such-user\e' ccw hook pre-build
    assert_failure 125
    assert_equal "$stderr" "ccwrap: CCWRAP_TRUSTED_USERS: no user 'no-such-user\x1b' on this system; give user names or uids, separated by commas"
}

@test "drop-ins not executable, or writable by others, still fail with 126 naming the fix" {
    logging_hook pre-build 10-a
    chmod 644 hooks.d/pre-build/10-a
    ccw hook pre-build
    assert_failure 126
    assert_equal "$stderr" "ccwrap: hooks.d/pre-build/10-a: not executable; chmod +x hooks.d/pre-build/10-a, or rename it to hooks.d/pre-build/10-a.disabled"
    chmod 757 hooks.d/pre-build/10-a
    ccw hook pre-build
    assert_failure 126
    assert_equal "$stderr" "ccwrap: hooks.d/pre-build/10-a: writable by group or others; chmod go-w hooks.d/pre-build/10-a"
}

# ---- items 2 and 3: migrate stays in the tree; the notify socket accepts only the app ----------
# (migrate's folders: legacy.bats, "nobody's hooks.d ..."; the notify socket: readiness.bats.)

@test "migrate --write: nobody's dangling symlink where the drop-in would go is never followed" {
    local secret=$BATS_TEST_TMPDIR/secret
    mkdir -m 700 "$secret"
    mkdir -p clevercloud hooks.d/run-succeeded
    echo '{"hooks": {"postDeploy": "./notify"}}' >clevercloud/php.json
    script notify 'echo notified'
    chown -R nobody hooks.d
    as_nobody ln -s "$secret/cron-job" hooks.d/run-succeeded/50-post-deploy
    ccw migrate --write
    assert_success
    assert_output --partial 'hooks.postDeploy "./notify" -> hooks.d/run-succeeded/51-post-deploy'
    assert_equal "$(ls -A "$secret")" ""
    [ -L hooks.d/run-succeeded/50-post-deploy ] || fail "the link was replaced"
    # Nothing of nobody's runs: the link is broken, and the drop-in migrate wrote sits in
    # nobody's folder, which the trust rule refuses, naming the fix.
    run -127 --separate-stderr timeout -k 2 20 "$CCWRAP" -q hook run-succeeded
    assert_equal "$stderr" "ccwrap: hooks.d/run-succeeded/50-post-deploy: broken symlink to $secret/cron-job; fix the link, or remove it
ccwrap: hooks.d/run-succeeded/51-post-deploy: its folder hooks.d is owned by nobody (uid 65534), not by root; chown root hooks.d, $FIX_OWNER"
}

@test "notify: a READY=1 that nobody sends to the application's socket is ignored, with one warning" {
    "$CCWRAP" run --ready notify --ready-timeout 1.5 -- sleep 30 2>"$BATS_TEST_TMPDIR/err" 3>&- &
    local cc=$! name s=0
    remember_pid "$cc"
    wait_for 5 grep -q "@ccwrap-notify-$cc-" /proc/net/unix
    name=$(grep -o "@ccwrap-notify-$cc-[0-9a-f]*" /proc/net/unix | head -1)
    foreign_ready "$name" as_nobody
    wait "$cc" || s=$?
    assert_equal "$s" 124
    run grep -c "READY=1 from pid [0-9]* (python3), which is not the application or below it; ignored" "$BATS_TEST_TMPDIR/err"
    assert_output 1
    refute grep -q "Application ready" "$BATS_TEST_TMPDIR/err"
}

# ---- item 4: CCWRAP_ENV is read from what ccwrap created -------------------------------------

@test "CCWRAP_ENV: a private 0700 folder and a 0600 file whatever the umask, in a shared TMPDIR" {
    mkdir -p "$BATS_TEST_TMPDIR/shared"
    chmod 777 "$BATS_TEST_TMPDIR/shared"
    hook pre-build 10-look 'stat -c "%a %U" "$(dirname "$CCWRAP_ENV")" "$CCWRAP_ENV" >>"$LOG"'
    TMPDIR=$BATS_TEST_TMPDIR/shared run --separate-stderr \
        sh -c 'umask 777 && exec timeout 20 "$@"' sh "$CCWRAP" -q hook pre-build
    assert_success
    assert_equal "$stderr" ""
    assert_equal "$(cat "$LOG")" "700 root
600 root"
    assert_equal "$(ls -A "$BATS_TEST_TMPDIR/shared")" ""
}

@test "CCWRAP_ENV: another user cannot swap the file in a shared TMPDIR" {
    mkdir -p "$BATS_TEST_TMPDIR/shared"
    chmod 777 "$BATS_TEST_TMPDIR/shared"
    # While the hook runs, nobody tries what worked before: replace the file by their own.
    hook pre-build 10-race "
        setpriv --reuid=nobody --regid=nogroup --clear-groups -- sh -c '
            rm -f \"\$CCWRAP_ENV\" 2>/dev/null; echo LD_PRELOAD=/x.so >\"\$CCWRAP_ENV\" 2>/dev/null
            echo PATH=/home/nobody/bin >\"\$CCWRAP_ENV\" 2>/dev/null || echo refused >>\"\$LOG\"'
        echo MINE=1 >>\"\$CCWRAP_ENV\""
    chmod 666 "$LOG"
    TMPDIR=$BATS_TEST_TMPDIR/shared ccw -q build -- sh -c 'echo "MINE=$MINE PATH=$PATH" >>"$LOG"'
    assert_success
    assert_equal "$(cat "$LOG")" "refused
MINE=1 PATH=$PATH"
}

@test "CCWRAP_ENV replaced by another file (a new inode) is not read" {
    hook pre-build 10-swap 'rm "$CCWRAP_ENV"; echo A=1 >"$CCWRAP_ENV"'
    ccw build -- sh -c 'echo "A=$A" >>"$LOG"'
    assert_success
    assert_regex "${stderr_lines[2]}" "^ccwrap: warning: hooks.d/pre-build/10-swap: CCWRAP_ENV $BATS_TEST_TMPDIR/ccwrap\.[A-Za-z0-9]{6}/env\.1 is no longer the file ccwrap made; ignored$"
    assert_equal "$(cat "$LOG")" "A="
}

@test "CCWRAP_ENV refuses LD_*, BASH_ENV, ENV, NOTIFY_SOCKET and CCWRAP_*, naming the line" {
    hook pre-build 10-env 'printf "%s\n" LD_PRELOAD=/x.so BASH_ENV=/x ENV=/x NOTIFY_SOCKET=/x CCWRAP_HOOK=x OK=1 >>"$CCWRAP_ENV"'
    ccw build -- sh -c 'echo "OK=$OK LD_PRELOAD=$LD_PRELOAD BASH_ENV=$BASH_ENV ENV=$ENV HOOK=$CCWRAP_HOOK" >>"$LOG"'
    assert_success
    local w='ccwrap: warning: hooks.d/pre-build/10-env: CCWRAP_ENV line'
    assert_equal "${stderr_lines[2]}" "$w 1 sets LD_PRELOAD, which ccwrap refuses: LD_* variables change how every later program is loaded; ignored"
    assert_equal "${stderr_lines[3]}" "$w 2 sets BASH_ENV, which ccwrap refuses: it makes every later shell run a file first; ignored"
    assert_equal "${stderr_lines[4]}" "$w 3 sets ENV, which ccwrap refuses: it makes every later shell run a file first; ignored"
    assert_equal "${stderr_lines[5]}" "$w 4 sets NOTIFY_SOCKET, which ccwrap refuses: it is ccwrap's to set; ignored"
    assert_equal "${stderr_lines[6]}" "$w 5 sets CCWRAP_HOOK, which ccwrap refuses: CCWRAP_* variables are ccwrap's own; ignored"
    assert_equal "$(cat "$LOG")" "OK=1 LD_PRELOAD= BASH_ENV= ENV= HOOK="
}

@test "CCWRAP_ENV: an unterminated last line is not applied, and said" {
    hook pre-build 10-env 'printf "A=1\nB=2" >>"$CCWRAP_ENV"'
    ccw build -- sh -c 'echo "A=$A B=$B" >>"$LOG"'
    assert_success
    assert_equal "${stderr_lines[2]}" "ccwrap: warning: hooks.d/pre-build/10-env: CCWRAP_ENV line 2 has no newline at its end (the hook may have been cut short); ignored"
    assert_equal "$(cat "$LOG")" "A=1 B="
}

@test "CCWRAP_ENV: 100,000 lines are applied in bounded time, capped at 4096 variables" {
    hook pre-build 10-many 'i=0; while [ $i -lt 100000 ]; do echo "V$i=x"; i=$((i+1)); done >>"$CCWRAP_ENV"'
    hook pre-build 20-next 'echo "V4095=$V4095 V4096=$V4096" >>"$LOG"'
    local start=$SECONDS
    ccw build -- sh -c 'echo command >>"$LOG"'
    assert_success
    [ $((SECONDS - start)) -lt 15 ] || fail "took $((SECONDS - start)) s"
    assert_equal "${stderr_lines[2]}" "ccwrap: warning: hooks.d/pre-build/10-many: CCWRAP_ENV line 4097: more than 4096 variables; this line and the rest are ignored"
    assert_equal "$(cat "$LOG")" "V4095=x V4096=
command"
}

@test "CCWRAP_ENV growing the environment past ARG_MAX is refused, naming the file and hook" {
    # Each hook writes 8 variables of 100 KiB: the second would take the environment past half
    # of ARG_MAX, after which every exec (the command's too) could fail with E2BIG.
    local body='v=$(head -c 102400 /dev/zero | tr "\0" a); for n in 1 2 3 4 5 6 7 8; do echo "'
    hook pre-build 10-a "${body}A\$n=\$v\"; done >>\"\$CCWRAP_ENV\""
    hook pre-build 20-b "${body}B\$n=\$v\"; done >>\"\$CCWRAP_ENV\""
    ccw build -- sh -c 'echo "${#A8} ${#B8}" >>"$LOG"'
    assert_success
    assert_regex "${stderr_lines[4]}" "^ccwrap: warning: hooks.d/pre-build/20-b: CCWRAP_ENV $BATS_TEST_TMPDIR/ccwrap\.[A-Za-z0-9]{6}/env\.2 would make the environment [0-9]+ bytes, more than half of ARG_MAX \([0-9]+\) and every later program could fail to start; nothing from it is applied; write fewer or shorter variables$"
    assert_equal "$(cat "$LOG")" "102400 0"
}

@test "a TMPDIR that fails is said, not silently replaced by /tmp" {
    TMPDIR=$BATS_TEST_TMPDIR/missing CC_PRE_BUILD_HOOK='true' ccw hook pre-build
    assert_success
    assert_equal "${stderr_lines[1]}" "ccwrap: Running CC_PRE_BUILD_HOOK: true"
    assert_equal "${stderr_lines[0]}" "ccwrap: warning: TMPDIR=$BATS_TEST_TMPDIR/missing: cannot create the CCWRAP_ENV folder there: No such file or directory; using /tmp; fix TMPDIR"
}

# ---- item 5: --events never redirects, blocks or stalls --------------------------------------

@test "--events does not follow a symlink: root's 0600 file stays as it was" {
    echo secret >"$BATS_TEST_TMPDIR/roots-file"
    chmod 600 "$BATS_TEST_TMPDIR/roots-file"
    # nobody's own folder (a sticky shared one is already guarded by fs.protected_symlinks).
    mkdir -p "$BATS_TEST_TMPDIR/pub"
    chown nobody "$BATS_TEST_TMPDIR/pub"
    as_nobody ln -s "$BATS_TEST_TMPDIR/roots-file" "$BATS_TEST_TMPDIR/pub/events"
    ccw --events "$BATS_TEST_TMPDIR/pub/events" build -- true
    assert_success
    assert_equal "$stderr" "ccwrap: warning: $BATS_TEST_TMPDIR/pub/events: cannot open the event log, going on without it: a symbolic link, which is not followed; name the file itself"
    assert_equal "$(cat "$BATS_TEST_TMPDIR/roots-file")" "secret"
}

@test "--events on a FIFO nobody reads: no wait, one warning" {
    mkfifo "$BATS_TEST_TMPDIR/fifo"
    ccw --events "$BATS_TEST_TMPDIR/fifo" build -- true
    assert_success
    assert_equal "$stderr" "ccwrap: warning: $BATS_TEST_TMPDIR/fifo: cannot open the event log, going on without it: nothing reads this FIFO or socket; start the reader first"
}

@test "--events on a FIFO whose reader stops reading: events are dropped, one warning, no stall" {
    local fifo=$BATS_TEST_TMPDIR/fifo
    mkfifo "$fifo"
    # A reader that holds the FIFO open and never reads.
    (exec 4<>"$fifo" && sleep 60) 3>&- &
    remember_pid $!
    mkdir -p hooks.d/pre-build
    for i in $(seq 1000 1700); do
        printf '#!/bin/true\n' >"hooks.d/pre-build/$i"
        chmod 755 "hooks.d/pre-build/$i"
    done
    local start=$SECONDS
    ccw --events "$fifo" build -- true
    assert_success
    [ $((SECONDS - start)) -lt 15 ] || fail "took $((SECONDS - start)) s"
    assert_equal "$(grep -v -e '^ccwrap: Running ' -e '^ccwrap: Finished ' <<<"$stderr")" "ccwrap: warning: $fifo: the event log's reader is not keeping up; events are dropped, ccwrap does not wait for it"
}

@test "--events on a FIFO whose reader stops reading: a TERM still reaches the application at once" {
    local fifo=$BATS_TEST_TMPDIR/fifo sig=$BATS_TEST_TMPDIR/signals pidf=$BATS_TEST_TMPDIR/app.pid
    mkfifo "$fifo"
    (exec 4<>"$fifo" && sleep 60) 3>&- &
    remember_pid $!
    # 700 hooks fill the FIFO's 64 KiB before the application starts.
    mkdir -p hooks.d/pre-run
    for i in $(seq 1000 1700); do
        printf '#!/bin/true\n' >"hooks.d/pre-run/$i"
        chmod 755 "hooks.d/pre-run/$i"
    done
    start_ccwrap -q --events "$fifo" run --ready none -- "$TESTAPP" --signals "$sig" --pid "$pidf" --exit-on TERM 2>/dev/null
    wait_for 15 test -s "$pidf"
    local t0
    t0=$(date +%s%3N)
    kill -TERM "$CCPID"
    wait_for 5 grep -qx "TERM 1" "$sig"
    [ $(($(date +%s%3N) - t0)) -lt 1000 ] || fail "TERM relayed after $(($(date +%s%3N) - t0)) ms"
    wait_status "$CCPID"
    assert_equal "$status" 143
}

@test "with stderr closed, messages do not land in the event log" {
    local ev=$BATS_TEST_TMPDIR/events.jsonl
    hook pre-build 10-x 'true'
    run sh -c 'exec timeout 20 "$@" 2>&-' sh "$CCWRAP" --events "$ev" build -- true
    assert_success
    [ -s "$ev" ] || fail "no events"
    if grep -v '^{"event":' "$ev"; then
        fail "non-event lines in the event log"
    fi
}

# ---- item 7: the smaller findings ------------------------------------------------------------

@test "a set-user-ID or set-group-ID ccwrap refuses to run: 125" {
    # The sanitizers' runtime refuses set-user-ID programs before main: nothing to see there.
    if grep -aq __asan_init "$CCWRAP"; then skip "a sanitizer build does not run set-user-ID"; fi
    local bin=$BATS_TEST_TMPDIR/bin
    mkdir -p "$bin"
    cp "$CCWRAP" "$bin/ccwrap"
    chmod 4755 "$bin/ccwrap"
    run --separate-stderr as_nobody "$bin/ccwrap" hook pre-build
    assert_failure 125
    assert_equal "$stderr" "ccwrap: $bin/ccwrap: installed set-user-ID or set-group-ID (real uid 65534, effective uid 0): anyone could run hooks with its owner's rights; chmod u-s,g-s $bin/ccwrap"
    chmod 2755 "$bin/ccwrap"
    run --separate-stderr as_nobody "$bin/ccwrap" hook pre-build
    assert_failure 125
    assert_equal "$stderr" "ccwrap: $bin/ccwrap: installed set-user-ID or set-group-ID (real uid 65534, effective uid 65534): anyone could run hooks with its owner's rights; chmod u-s,g-s $bin/ccwrap"
    chmod 755 "$bin/ccwrap"
    run --separate-stderr as_nobody "$bin/ccwrap" hook pre-build
    assert_success
}

@test "plan and check show control characters in names and values escaped: no forged lines" {
    local name=$'10-x\e[31m\n99-forged: all good'
    hook pre-build "$name" 'true'
    chmod 644 "hooks.d/pre-build/$name"
    export CC_PRE_BUILD_HOOK=$'echo hi\n  2  FORGED  exec /bin/evil'
    ccw check
    assert_failure 1
    assert_equal "${#lines[@]}" 1
    assert_output "hooks.d/pre-build/10-x\\x1b[31m\\x0a99-forged: all good: not executable; chmod +x \$'hooks.d/pre-build/10-x\\x1b[31m\\x0a99-forged: all good', or rename it to \$'hooks.d/pre-build/10-x\\x1b[31m\\x0a99-forged: all good.disabled'"
    ccw plan build
    assert_success
    refute_output --partial $'\e'
    refute_line --regexp "^ *2 +FORGED"
    assert_line --partial "/bin/sh -c 'echo hi\\x0a  2  FORGED  exec /bin/evil'"
}

@test "plan and check do not print \${VAR} values of the configuration in errors" {
    export CCWRAP_TEST_SECRET=hunter2-s3cret
    for line in 'shell = "${CCWRAP_TEST_SECRET}"' 'hook_timeout = "${CCWRAP_TEST_SECRET}"' \
        'legacy_post_deploy = "${CCWRAP_TEST_SECRET}"' 'trusted_users = {"${CCWRAP_TEST_SECRET}"}'; do
        echo "# case: $line"
        echo "$line" >ccwrap.conf
        for sub in check plan; do
            ccw "$sub"
            refute_output --partial hunter2
            [[ $stderr != *hunter2* ]] || fail "$sub printed the secret: $stderr"
            [[ "$output$stderr" == *"the value given with \${...} (not shown)"* ]] || fail "no message: $output$stderr"
        done
    done
    echo 'ready = "${CCWRAP_TEST_SECRET}"' >ccwrap.conf
    ccw check
    assert_failure 1
    assert_output "ccwrap.conf:1: the readiness spec given with \${CCWRAP_TEST_SECRET} is not valid (its value is not shown); fix CCWRAP_TEST_SECRET, or see ccwrap(1) for the forms the spec takes"
    ccw plan run
    assert_success
    refute_output --partial hunter2
    ccw run -- true
    assert_failure 125
    assert_equal "$stderr" "ccwrap: ccwrap.conf:1: the readiness spec given with \${CCWRAP_TEST_SECRET} is not valid (its value is not shown); fix CCWRAP_TEST_SECRET, or see ccwrap(1) for the forms the spec takes"
}

@test "a ready setting with an unset or empty \${VAR}: run, plan and check give the same line, with the fix" {
    local sub
    unset CCWRAP_TEST_PORT
    for line in 'ready = "tcp:${CCWRAP_TEST_PORT}"' 'ready = "${CCWRAP_TEST_PORT}"' \
        'ready = "http://127.0.0.1:${CCWRAP_TEST_PORT}/health"'; do
        echo "# case: $line, unset"
        echo "$line" >ccwrap.conf
        local unset_msg='ccwrap.conf:1: ${CCWRAP_TEST_PORT} is not set; set it, or give a default with ${CCWRAP_TEST_PORT:-value}'
        ccw run -- sh -c 'echo ran >>"$LOG"'
        assert_failure 125
        assert_equal "$stderr" "ccwrap: $unset_msg"
        ccw check
        assert_failure 1
        assert_equal "$output$stderr" "$unset_msg"
        ccw plan run
        assert_failure 125
        assert_equal "$stderr" "ccwrap: $unset_msg"

        echo "# case: $line, empty"
        local empty_msg='ccwrap.conf:1: the readiness spec given with ${CCWRAP_TEST_PORT} is not valid: CCWRAP_TEST_PORT is set but empty; give it a value, or see ccwrap(1) for the forms the spec takes'
        export CCWRAP_TEST_PORT=
        ccw run -- sh -c 'echo ran >>"$LOG"'
        assert_failure 125
        assert_equal "$stderr" "ccwrap: $empty_msg"
        ccw check
        assert_failure 1
        assert_equal "$output$stderr" "$empty_msg"
        ccw plan run
        assert_success
        assert_line "  readiness                        error: ${empty_msg#ccwrap.conf:1: }"
        unset CCWRAP_TEST_PORT
    done
    # A default after :- is taken for an unset variable only, as libconfuse does.
    echo 'ready = "tcp:${CCWRAP_TEST_PORT:-8080}"' >ccwrap.conf
    ccw plan run
    assert_line --partial "(tcp:8080, from ccwrap.conf:1)"
    CCWRAP_TEST_PORT='' ccw check
    assert_failure 1
    assert_output "ccwrap.conf:1: the readiness spec given with \${CCWRAP_TEST_PORT} is not valid: CCWRAP_TEST_PORT is set but empty; give it a value, or see ccwrap(1) for the forms the spec takes"
    assert_equal "$(cat "$LOG")" ""
}

@test "a .//path value is checked and run from the same place" {
    script pre.sh 'echo "ran $0" >>"$LOG"'
    chmod 777 pre.sh
    CC_PRE_BUILD_HOOK=.//pre.sh ccw hook pre-build
    assert_failure 126
    assert_equal "$stderr" "ccwrap: CC_PRE_BUILD_HOOK: pre.sh is writable by group or others; chmod go-w pre.sh"
    chmod 755 pre.sh
    CC_PRE_BUILD_HOOK='././/pre.sh' ccw -q hook pre-build
    assert_success
    assert_equal "$(cat "$LOG")" "ran ././/pre.sh"
}

@test "duplicated hooks_dirs entries are merged once" {
    logging_hook pre-build 10-x
    echo 'hooks_dirs = {"hooks.d", "./hooks.d", "hooks.d/", "'"$APP"'/hooks.d"}' >ccwrap.conf
    ccw -q hook pre-build
    assert_success
    assert_equal "$(cat "$LOG")" "pre-build/10-x"
    ccw plan build
    assert_success
    assert_equal "$(grep -c '10-x' <<<"$output")" 1
    assert_line --partial "exec hooks.d/pre-build/10-x"
}
