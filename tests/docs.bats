#!/usr/bin/env bats
# docs.bats — the documentation held to what the program does (issue 23) and to itself (issue
# 25): every event name the sources can write is in the event list of doc/configuration.md and
# the man page's EVENT LOG list; every option `ccwrap --help` prints is in the man page's
# SYNOPSIS, on the same subcommand's line; every "§N" the sources, tests and docs cite is a
# heading of doc/design.md; every relative link of README.md and doc/*.md reaches a file (and
# a heading); every C file and header of wrapper/ and wrapper/cache/ is in design.md's file
# map. The lists come from the sources, --help and the tree, not from this file, so a new
# event, option, section, link or file that the docs do not follow fails here.
# Design: doc/design.md §1 (options), §9 (the event log), as the docs and the man page say them;
# the whole of design.md as the code cites it.

load test_helper

setup() {
    common_setup
    EVENTS_DOC=$TOP/doc/configuration.md
    DESIGN=$TOP/doc/design.md
    MAN=$TOP/wrapper/ccwrap.1
}

# Every event name the program can write: the first argument of each events_emit call.
emitted_events() {
    grep -ohE 'events_emit\("[a-z_]+"' "$TOP"/wrapper/*.c "$TOP"/wrapper/cache/*.c |
        sed -E 's/^events_emit\("//; s/"$//' | sort -u
}

# The bullet on --events of doc/configuration.md, its continuation lines joined.
readme_event_list() {
    awk '/^- `--events FILE`/ { on = 1; print; next } on && /^  / { print; next } on { exit }' \
        "$EVENTS_DOC" | tr '\n' ' '
}

# The names of the man page's EVENT LOG list: its ".It Cm NAME" items.
man_event_items() {
    awk '/^\.Sh EVENT LOG/ { on = 1; next } on && /^\.Sh / { exit } on' "$MAN" |
        sed -n 's/^\.It Cm \([a-z_]*\).*$/\1/p' | sort -u
}

@test "every event the sources write is named in doc/configuration.md's event list and the man page's" {
    run emitted_events
    assert_success
    events=$output
    # The grep still finds the calls: a renamed function must not make this test pass on nothing.
    [ "$(wc -l <<<"$events")" -ge 15 ] || fail "only $(wc -l <<<"$events") events found: $events"
    assert_line app_end
    readme=$(readme_event_list)
    [ -n "$readme" ] || fail "doc/configuration.md: no '- \`--events FILE\`' bullet"
    man=$(man_event_items)
    missing=()
    for e in $events; do
        [[ "$readme" == *"\`$e\`"* ]] || missing+=("doc/configuration.md: $e")
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

# The "§N" and "§N.M" headings of doc/design.md ("## §5 Run phase", "### §5.3 Readiness").
design_sections() {
    sed -n -E 's/^#+ (§[0-9]+(\.[0-9]+)*)( .*)?$/\1/p' "$DESIGN" | sort -u
}

@test "every §N or §N.M the sources, tests and docs cite is a heading of doc/design.md" {
    run design_sections
    assert_success
    headings=$output
    [ "$(wc -l <<<"$headings")" -ge 13 ] || fail "too few § headings in doc/design.md: $headings"
    # -I: no binary files (fuzz corpora); node_modules holds other projects' sections.
    cited=$(cd "$TOP" && grep -rhoI --exclude-dir=node_modules '§[0-9][0-9.]*' \
        wrapper tests contrib doc README.md | sed -E 's/\.+$//' | sort -u)
    [ "$(wc -l <<<"$cited")" -ge 13 ] || fail "too few § citations found: $cited"
    missing=()
    for c in $cited; do
        grep -qxF -- "$c" <<<"$headings" || missing+=("$c")
    done
    [ ${#missing[@]} -eq 0 ] || fail "cited but not a heading of doc/design.md: ${missing[*]}"
}

# The anchors of a Markdown file's headings, as GitHub makes them: lower case, punctuation
# dropped (letters, digits, spaces, '-' and '_' kept), spaces made '-', a repeated one '-1', '-2'.
anchors_of() {
    awk '/^```/ { fence = !fence; next }
         !fence && /^#+ / {
             h = $0; sub(/^#+ /, "", h); h = tolower(h)
             gsub(/[^a-z0-9 _-]/, "", h); gsub(/ /, "-", h)
             n = seen[h]++; print (n ? h "-" n : h)
         }' "$1"
}

# Every link target of a Markdown file: "[text](target)" outside fenced code blocks.
links_of() {
    awk '/^```/ { fence = !fence; next } !fence' "$1" | grep -oE '\]\([^) ]+\)' |
        sed -E 's/^\]\(//; s/\)$//'
}

@test "every relative link of README.md and doc/*.md reaches a file, and an #anchor a heading" {
    cd "$TOP" || return 1
    # The helpers see the anchors they must: a wrong slug rule must not pass on nothing.
    run anchors_of README.md
    assert_line quick-start
    run anchors_of doc/design.md
    assert_line 53-readiness
    assert_line where-the-code-lives
    checked=0
    bad=()
    for md in README.md doc/*.md; do
        dir=$(dirname "$md")
        while read -r link; do
            [ -n "$link" ] || continue
            case $link in http://* | https://* | mailto:*) continue ;; esac
            path=${link%%#*}
            anchor=
            [[ $link == *"#"* ]] && anchor=${link#*#}
            target=$md
            [ -n "$path" ] && target=$dir/$path
            checked=$((checked + 1))
            if [ ! -e "$target" ]; then
                bad+=("$md: $link (no file $target)")
            elif [ -n "$anchor" ] && ! anchors_of "$target" | grep -qxF -- "$anchor"; then
                bad+=("$md: $link (no heading #$anchor in $target)")
            fi
        done < <(links_of "$md")
    done
    [ "$checked" -ge 30 ] || fail "only $checked relative links found"
    [ ${#bad[@]} -eq 0 ] || fail "broken links: ${bad[*]}"
}

@test "every C file and header of wrapper/ and wrapper/cache/ is in doc/design.md's file map" {
    map=$(awk '/^## Where the code lives/ { on = 1; next } on && /^## / { exit } on' "$DESIGN")
    [ -n "$map" ] || fail "doc/design.md: no '## Where the code lives' section"
    cd "$TOP" || return 1
    files=(wrapper/*.c wrapper/*.h wrapper/cache/*.c wrapper/cache/*.h)
    [ ${#files[@]} -ge 30 ] || fail "only ${#files[@]} files found: ${files[*]}"
    missing=()
    for f in "${files[@]}"; do
        grep -qF -- "| \`$f\` |" <<<"$map" || missing+=("$f")
    done
    [ ${#missing[@]} -eq 0 ] || fail "not in the file map of doc/design.md: ${missing[*]}"
}
