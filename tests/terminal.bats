#!/usr/bin/env bats
# terminal.bats — at a terminal, `ccwrap run -- X` behaves exactly as the bare X (§7): each
# scenario is played twice on a real pseudo-terminal by tests/fixtures/term.py, under a real
# job-control shell (bash -i, dash -i), once with $W empty and once with W='ccwrap … --'. The
# typed lines are the same ("$W cat"), so the two transcripts and statuses must be identical.
# Design: doc/design.md §7 (signals at a terminal: Ctrl-C, Ctrl-Z, hangup).

load test_helper

setup() {
    common_setup
    export TERM=dumb HISTFILE=
    SIGLOG=$BATS_TEST_TMPDIR/signals
    PIDF=$BATS_TEST_TMPDIR/app.pid
    BASH_I=(env "PS1=PROMPT> " bash --norc --noprofile -i)
    # shellcheck disable=SC2034 # named by the tests through a nameref
    DASH_I=(env "PS1=PROMPT> " dash -i)
}

teardown() {
    kill_background
}

# play NAME COMMAND...: the steps on stdin, played by term.py running COMMAND, first with W
# empty (the bare command), then with W='ccwrap -q run --ready none --' (or $WRAP). Sets $bare and
# $wrapped (transcripts, job pids as PID) and $bare_status and $wrapped_status; $SIGLOG.bare
# and $SIGLOG.wrapped are the $SIGLOG each run left.
play() {
    local name=$1 steps=$BATS_TEST_TMPDIR/$1.steps w
    shift
    cat >"$steps"
    for w in bare wrapped; do
        rm -f "$PIDF" "$SIGLOG"
        if [ "$w" = bare ]; then W=; else W=${WRAP:-"$CCWRAP -q run --ready none --"}; fi
        local st=0
        W=$W "$FIXTURES/term.py" -- "$@" <"$steps" >"$BATS_TEST_TMPDIR/$name.$w" \
            2>"$BATS_TEST_TMPDIR/$name.$w.err" 3>&- || st=$?
        printf -v "${w}_status" %s "$st"
        printf -v "$w" %s "$(sed -E 's/^\[([0-9]+)\] [0-9]+$/[\1] PID/' "$BATS_TEST_TMPDIR/$name.$w")"
        [ ! -e "$SIGLOG" ] || mv "$SIGLOG" "$SIGLOG.$w"
        # A step that timed out (99) is a failure of the scenario itself: show where.
        [ "$st" != 99 ] || fail "$w: $(cat "$BATS_TEST_TMPDIR/$name.$w.err")
$(cat "$BATS_TEST_TMPDIR/$name.$w")"
    done
}

# same: the transcripts and statuses of the bare command and of ccwrap are identical.
same() {
    assert_equal "$wrapped" "$bare"
    assert_equal "$wrapped_status" "$bare_status"
}

@test "Ctrl-C aborts 'ccwrap run -- cat; echo next' like 'cat; echo next' (bash -i, dash -i; cat, tac)" {
    for shell in BASH_I DASH_I; do
        for cmd in cat tac; do
            declare -n sh_argv=$shell
            play ctrl-c "${sh_argv[@]}" <<EOF
expect PROMPT> 
type \$W $cmd; echo ne''xt
reading $cmd
key ^C
expect PROMPT> 
type echo "st=\$?"
expect st=.*\\n.*PROMPT> 
type exit 3
EOF
            same
            assert_equal "$bare_status" 3
            assert_regex "$bare" $'\nst=130\n'
            refute_regex "$bare" $'\nnext\n'
            unset -n sh_argv
        done
    done
}

@test "Ctrl-C handled by 'ccwrap build -- X; echo next', X exiting 0: the line goes on, as for the bare X" {
    # Nothing follows the command in the build (no post-build hook, no cache archive): ccwrap
    # ends with its status, 0, and the shell runs the rest of the line (bash's and dash's rule).
    cat >"$BATS_TEST_TMPDIR/x" <<'EOF'
#!/usr/bin/env python3
import signal, sys, time
signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
print("waiting", flush=True)
time.sleep(30)
EOF
    chmod 755 "$BATS_TEST_TMPDIR/x"
    export X=$BATS_TEST_TMPDIR/x
    for shell in BASH_I DASH_I; do
        declare -n sh_argv=$shell
        WRAP="$CCWRAP -q build --" play handled "${sh_argv[@]}" <<'EOF'
expect PROMPT> 
type $W "$X"; echo "ne""xt st=$?"
expect waiting
key ^C
expect next st=0\r?\n.*PROMPT> 
type exit 3
EOF
        same
        assert_equal "$bare_status" 3
        unset -n sh_argv
    done
}

@test "Ctrl-\\ kills the job with SIGQUIT like the bare command, and the shell says so" {
    for shell in BASH_I DASH_I; do
        declare -n sh_argv=$shell
        play quit "${sh_argv[@]}" <<'EOF'
expect PROMPT> 
type $W cat; echo "st=$?"
reading cat
key ^\
expect st=.*\n.*PROMPT> 
type exit
EOF
        same
        # Both shells name the job's signal, and go on with the line (only SIGINT aborts it).
        assert_regex "$bare" $'Quit\nst=131\n'
        unset -n sh_argv
    done
}

@test "Ctrl-Z gives the prompt back; fg resumes the job; bg runs it until it reads the terminal" {
    # `bg; sleep 0.5`: the shell tells of a background job's stop before its next prompt if the
    # stop came by then, later otherwise; the sleep makes that the same for both.
    for shell in BASH_I DASH_I; do
        declare -n sh_argv=$shell
        play ctrl-z "${sh_argv[@]}" <<'EOF'
expect PROMPT> 
type $W cat
reading cat
key ^Z
expect Stopped.*\n.*PROMPT> 
type jobs
expect PROMPT> 
type fg
expect cat\n
reading cat
type one
expect one\n(.*\n)?one\n
key ^D
expect PROMPT> 
type echo "st=$?"
expect PROMPT> 
type $W tac
reading tac
key ^Z
expect Stopped.*\n.*PROMPT> 
type bg; sleep 0.5
expect PROMPT> 
stopped tac
type jobs
expect PROMPT> 
type fg
reading tac
type a
type b
key ^D
expect b\na\n
expect PROMPT> 
type echo "st=$?"
expect PROMPT> 
type exit
EOF
        same
        assert_regex "$bare" $'\nst=0\n.*\nst=0\n'
        # The shell's words for the two stops: ^Z, then the background read of the terminal.
        # dash names each stop's signal: ^Z's, then the background read's.
        assert_regex "$bare" 'Stopped +\$\{?W\}? cat'
        [ "$shell" = BASH_I ] || assert_regex "$bare" 'Stopped \(tty input\) +\$\{W\} tac'
        unset -n sh_argv
    done
}

@test "a background job that reads the terminal stops on SIGTTIN; fg lets it read" {
    # The sleep: the shell tells of the stop before its next prompt in both runs (see Ctrl-Z).
    for shell in BASH_I DASH_I; do
        declare -n sh_argv=$shell
        play ttin "${sh_argv[@]}" <<'EOF'
expect PROMPT> 
type $W cat & sleep 0.5
expect PROMPT> 
stopped cat
type jobs
expect PROMPT> 
type fg
reading cat
type hello
expect hello\n(.*\n)?hello\n
key ^D
expect PROMPT> 
type echo "st=$?"
expect PROMPT> 
type exit
EOF
        same
        assert_regex "$bare" $'\nst=0\n'
        [ "$shell" = BASH_I ] || assert_regex "$bare" 'Stopped \(tty input\) +\$\{W\} cat'
        unset -n sh_argv
    done
}

@test "a child that stops itself with kill -STOP \$\$ gives the prompt back; fg resumes it" {
    for shell in BASH_I DASH_I; do
        declare -n sh_argv=$shell
        play self-stop "${sh_argv[@]}" <<'EOF'
expect PROMPT> 
type $W sh -c 'echo before; kill -STOP $$; echo after; exit 4'
expect before\n(.*\n)*.*PROMPT> 
type fg
expect after\n(.*\n)*PROMPT> 
type echo "st=$?"
expect PROMPT> 
type exit
EOF
        same
        assert_regex "$bare" $'\nst=4\n'
        assert_regex "$bare" 'Stopped'
        [ "$shell" = BASH_I ] || assert_regex "$bare" 'Stopped \(signal\)'
        unset -n sh_argv
    done
}

@test "a window change reaches the application once; it is in the foreground group and opens /dev/tty" {
    play winch "${BASH_I[@]}" <<EOF
expect PROMPT> 
type \$W '$TESTAPP' --signals '$SIGLOG' --pid '$PIDF' --exit-on INT
exists $PIDF
resize 40 120
sleep 0.3
key ^C
expect PROMPT> 
type \$W sh -c 'set -- \$(ps -o pgid=,tpgid= -p \$\$); [ "\$1" = "\$2" ] && echo fore''ground; echo tty-ok >/dev/tty'
expect tty-ok\\n.*PROMPT> 
type exit
EOF
    same
    assert_equal "$(cat "$SIGLOG.wrapped")" "WINCH 1
INT 1"
    assert_equal "$(cat "$SIGLOG.wrapped")" "$(cat "$SIGLOG.bare")"
    assert_regex "$bare" $'\nforeground\ntty-ok\n'
}

# As session leader of the terminal, the way `ssh -t host ccwrap run -- X` runs it: term.py
# runs $W X itself, with W empty or ccwrap.
leader() {
    local name=$1
    shift
    play "$name" sh -c 'exec $W "$@"' sh "$@"
}

@test "ccwrap as session leader on a terminal (ssh -t) running bash -m and dash: job control works inside" {
    for shell in "bash --norc --noprofile -m -i" "dash -i"; do
        # shellcheck disable=SC2086 # the shell's words
        leader leader env "PS1=PROMPT> " $shell <<'EOF'
expect PROMPT> 
type cat; echo ne''xt
reading cat
key ^C
expect PROMPT> 
type echo "st=$?"
expect PROMPT> 
type cat
reading cat
key ^Z
expect Stopped.*\n.*PROMPT> 
type fg
reading cat
type hi
expect hi\n(.*\n)?hi\n
key ^D
expect PROMPT> 
type exit 3
EOF
        same
        assert_equal "$bare_status" 3
        assert_regex "$bare" $'\nst=130\n'
        refute_regex "$bare" $'\nnext\n'
    done
}

@test "ccwrap as session leader running tac: it reads the terminal, ^Z is ignored as for the bare tac, ^C kills it" {
    leader tac tac <<'EOF'
reading tac
type one
type two
key ^D
expect two\none\n
EOF
    same
    assert_equal "$bare_status" 0
    # A session leader's group is orphaned: the kernel discards ^Z's SIGTSTP there.
    leader tac-keys tac <<'EOF'
reading tac
key ^Z
sleep 0.3
type still-reading
expect still-reading\n
reading tac
key ^C
EOF
    same
    assert_equal "$bare_status" 130
    assert_regex "$bare" $'still-reading\n'
}

@test "ccwrap as PID 1 on a terminal (docker run -it) running bash: job control works inside" {
    unshare_why_not || skip "$UNSHARE_WHY_NOT"
    play pid1 unshare --pid --fork --mount-proc setsid --ctty sh -c 'exec $W env "PS1=PROMPT> " bash --norc --noprofile -i' <<'EOF'
expect PROMPT> 
type echo "pid=$$"
expect PROMPT> 
type cat; echo ne''xt
reading cat
key ^C
expect PROMPT> 
type echo "st=$?"
expect PROMPT> 
type cat
reading cat
key ^Z
expect Stopped.*\n.*PROMPT> 
type fg
reading cat
type hi
expect hi\n(.*\n)?hi\n
key ^D
expect PROMPT> 
type exit 3
EOF
    # The only difference: bash is PID 1 itself, or PID 2 below ccwrap.
    assert_equal "$wrapped" "${bare/pid=1/pid=2}"
    assert_equal "$wrapped_status" "$bare_status"
    assert_equal "$bare_status" 3
    assert_regex "$bare" $'\nst=130\n'
}

@test "ccwrap as PID 1 on a terminal running tac: it reads; ^C ends it with 130, as outside a container" {
    unshare_why_not || skip "$UNSHARE_WHY_NOT"
    play pid1-tac unshare --pid --fork --mount-proc setsid --ctty sh -c 'exec $W tac' <<'EOF'
reading tac
type one
type two
key ^D
expect two\none\n
EOF
    same
    assert_equal "$bare_status" 0
    # The bare tac as PID 1 would ignore ^C (the kernel shields a namespace's init from
    # signals it does not handle): ccwrap, like tini, lets ^C end it.
    W="$CCWRAP -q run --ready none --" run "$FIXTURES/term.py" -- unshare --pid --fork --mount-proc \
        setsid --ctty sh -c 'exec $W tac' <<'EOF'
reading tac
key ^C
EOF
    assert_failure 130
}
