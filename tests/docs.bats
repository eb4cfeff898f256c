#!/usr/bin/env bats
# docs.bats — the README and the man page held to what the program does (issue 23): every event
# name the sources can write is in the README's event list and the man page's EVENT LOG list,
# and every option `ccwrap --help` prints is in the man page's SYNOPSIS, on the same
# subcommand's line. The lists come from the sources and from --help, not from this file, so a
# new event or option that the docs do not name fails here.
# Design: doc/design.md §1 (options), §9 (the event log), as the README and the man page say them.

load test_helper

setup() {
    common_setup
    README=$TOP/README.md
    MAN=$TOP/wrapper/ccwrap.1
}

# Every event name the program can write: the first argument of each events_emit call.
emitted_events() {
    grep -ohE 'events_emit\("[a-z_]+"' "$TOP"/wrapper/*.c "$TOP"/wrapper/cache/*.c |
        sed -E 's/^events_emit\("//; s/"$//' | sort -u
}

# The README's bullet on --events, its continuation lines joined.
readme_event_list() {
    awk '/^- `--events FILE`/ { on = 1; print; next } on && /^  / { print; next } on { exit }' \
        "$README" | tr '\n' ' '
}

# The names of the man page's EVENT LOG list: its ".It Cm NAME" items.
man_event_items() {
    awk '/^\.Sh EVENT LOG/ { on = 1; next } on && /^\.Sh / { exit } on' "$MAN" |
        sed -n 's/^\.It Cm \([a-z_]*\).*$/\1/p' | sort -u
}

@test "every event the sources write is named in the README's event list and the man page's" {
    run emitted_events
    assert_success
    events=$output
    # The grep still finds the calls: a renamed function must not make this test pass on nothing.
    [ "$(wc -l <<<"$events")" -ge 15 ] || fail "only $(wc -l <<<"$events") events found: $events"
    assert_line app_end
    readme=$(readme_event_list)
    [ -n "$readme" ] || fail "README: no '- \`--events FILE\`' bullet"
    man=$(man_event_items)
    missing=()
    for e in $events; do
        [[ "$readme" == *"\`$e\`"* ]] || missing+=("README: $e")
        grep -qx -- "$e" <<<"$man" || missing+=("ccwrap.1 EVENT LOG: $e")
    done
    [ ${#missing[@]} -eq 0 ] || fail "events the program writes but the docs do not name: ${missing[*]}"
}

# The man page's SYNOPSIS as rendered, one form a line (continuation lines joined).
man_forms() {
    mandoc -Tascii "$MAN" | col -b |
        awk '/^SYNOPSIS/ { on = 1; next } on && /^[A-Z]/ { exit } on && NF' |
        awk '/^     ccwrap / { if (prev != "") print prev; prev = $0; next } { prev = prev " " $0 }
             END { print prev }' | sed -E 's/^ +//; s/ +/ /g'
}

# ccwrap --help's usage forms, one a line (continuation lines joined).
help_forms() {
    "$CCWRAP" --help | awk '/^$/ { exit } { sub(/^usage: /, ""); print }' |
        awk '/^ +\[/ { prev = prev " " $0; next } { if (prev != "") print prev; prev = $0 }
             END { print prev }' | sed -E 's/^ +//; s/ +/ /g'
}

# The options a line names: -x and --long words, each on a line; "-qv" is -q and -v.
options_in() {
    grep -oE '(^|[][ |(])--?[A-Za-z][-A-Za-z]*' <<<"$1" | sed -E 's/^[][ |(]//' |
        while read -r o; do
            if [[ $o == --* ]]; then echo "$o"; else for ((i = 1; i < ${#o}; i++)); do echo "-${o:i:1}"; done; fi
        done | sort -u
}

@test "every option ccwrap --help prints is in the man page's SYNOPSIS, with its subcommand" {
    run help_forms
    assert_success
    help=$output
    [ "$(wc -l <<<"$help")" -ge 8 ] || fail "too few usage forms in --help: $help"
    man=$(man_forms)
    [ "$(wc -l <<<"$man")" -ge 8 ] || fail "too few forms in the SYNOPSIS: $man"
    missing=()
    while read -r form; do
        # "ccwrap [GLOBAL] plan [--cache STORE] [build|run]": the subcommand is the third word.
        read -r _ global sub _ <<<"$form"
        if [ "$global" = "[GLOBAL]" ]; then
            synopsis=$(grep -E "^ccwrap \[global-options\] $sub( |$)" <<<"$man") ||
                { missing+=("no SYNOPSIS line for $sub"); continue; }
        else
            synopsis=$man
        fi
        for o in $(options_in "$form"); do
            grep -qxF -- "$o" <<<"$(options_in "$synopsis")" || missing+=("$o (${sub:-$form})")
        done
    done <<<"$help"
    # The GLOBAL options: each by one of its names ("-C, --root DIR": -C or --root).
    while read -r line; do
        names=$(options_in "${line%%  [a-z]*}")
        [ -n "$names" ] || continue
        found=
        for o in $names; do
            grep -qxF -- "$o" <<<"$(options_in "$man")" && found=1
        done
        [ -n "$found" ] || missing+=("GLOBAL $names")
    done < <("$CCWRAP" --help | sed -n '/^GLOBAL:/,/^$/p' | sed -E 's/^GLOBAL://')
    [ ${#missing[@]} -eq 0 ] || fail "options --help prints that the SYNOPSIS lacks: ${missing[*]}"
}
