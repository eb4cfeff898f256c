#!/usr/bin/env bats
# Cron (§12): clevercloud/cron.json's schedules as cron(5) reads them, checked against
# python3-croniter on random schedules; `ccwrap cron`; check and run refusing a bad file; one
# real entry beside an application, minute by minute: $ROOT, the prefix, the end line, an
# overlap skipped, its process tree stopped with the application; no wake-up while idle.
# Design: doc/design.md §12 (cron).

load test_helper

setup() {
    common_setup
    mkdir -p "$APP/clevercloud"
}

teardown() {
    kill_background
    if [ -f "$BATS_TEST_TMPDIR/sleep.pid" ]; then
        kill -KILL "$(cat "$BATS_TEST_TMPDIR/sleep.pid")" 2>/dev/null || true
    fi
}

cron_json() {
    printf '%s\n' "$1" >"$APP/clevercloud/cron.json"
}

@test "thousands of random schedules and start times: the same next times as python3-croniter" {
    # Fixed seeds, so a failure can be replayed: tests/fixtures/cron-random.py CCWRAP SEED N.
    run /usr/bin/python3 "$FIXTURES/cron-random.py" "$CCWRAP" 24 2500
    echo "$output" | tail -5
    assert_success
    assert_line --regexp '^cron-random: 2500 cases, [0-9]+ times compared, .* 0 disagreements$'
    run /usr/bin/python3 "$FIXTURES/cron-random.py" "$CCWRAP" 2 1500
    echo "$output" | tail -5
    assert_success
    # This seed draws schedules where croniter skips days that cron(5) runs on: the referee
    # (a brute-force walk over the days) is exercised, and sides with ccwrap.
    assert_line --regexp ' [1-9][0-9]* where croniter skips a time \(brute force sides with ccwrap\), 0 disagreements$'
    assert_line --regexp "^croniter wrong: '.*' from 2024-02-29T"
}

@test "schedules with known answers: steps, ranges, names, Sunday as 0 and 7, leap days, month ends, the OR rule" {
    check() {
        run "$CCWRAP" cron --from "$1" --count "$2" "$3"
        assert_success
        assert_output "$4"
    }
    check 2026-12-06T10:00Z 3 '*/20 * * * *' $'2026-12-06T10:20:00Z\n2026-12-06T10:40:00Z\n2026-12-06T11:00:00Z'
    # Strictly after: a start on a matching minute (even at :00 seconds) is not counted.
    check 2026-12-06T10:20:00Z 1 '*/20 * * * *' '2026-12-06T10:40:00Z'
    check 2026-12-06T10:20:59Z 1 '*/20 * * * *' '2026-12-06T10:40:00Z'
    check 2026-12-06T10:00Z 3 '1-30/10 9 * * *' $'2026-12-07T09:01:00Z\n2026-12-07T09:11:00Z\n2026-12-07T09:21:00Z'
    check 2026-12-31T23:59Z 2 '0 0 1 JAN,Jul *' $'2027-01-01T00:00:00Z\n2027-07-01T00:00:00Z'
    check 2026-12-06T10:00Z 2 '0 8 * * Mon-Fri' $'2026-12-07T08:00:00Z\n2026-12-08T08:00:00Z'
    # Sunday is 0 and 7; 2026-12-06 is a Sunday.
    check 2026-12-05T10:00Z 1 '0 12 * * 7' '2026-12-06T12:00:00Z'
    check 2026-12-05T10:00Z 1 '0 12 * * 0' '2026-12-06T12:00:00Z'
    check 2026-12-05T10:00Z 2 '0 12 * * 5-7' $'2026-12-05T12:00:00Z\n2026-12-06T12:00:00Z'
    check 2026-03-01T00:00Z 3 '0 0 29 2 *' $'2028-02-29T00:00:00Z\n2032-02-29T00:00:00Z\n2036-02-29T00:00:00Z'
    # 2100 is not a leap year.
    check 2096-03-01T00:00Z 1 '0 0 29 feb *' '2104-02-29T00:00:00Z'
    check 2026-01-31T12:00Z 3 '30 23 31 * *' $'2026-01-31T23:30:00Z\n2026-03-31T23:30:00Z\n2026-05-31T23:30:00Z'
    # Both day fields restricted: either matches (the 13th, or a Friday).
    check 2026-11-10T00:00Z 3 '0 0 13 * fri' $'2026-11-13T00:00:00Z\n2026-11-20T00:00:00Z\n2026-11-27T00:00:00Z'
    # A field starting with * is unrestricted, as in Vixie cron: both must match.
    check 2026-01-01T00:00Z 2 '0 0 */10 * mon' $'2026-05-11T00:00:00Z\n2026-06-01T00:00:00Z'
    check 2026-12-06T10:00Z 2 '@hourly' $'2026-12-06T11:00:00Z\n2026-12-06T12:00:00Z'
    check 2026-12-06T10:00Z 1 '@daily' '2026-12-07T00:00:00Z'
    check 2026-12-06T10:00Z 1 '@midnight' '2026-12-07T00:00:00Z'
    check 2026-12-06T10:00Z 1 '@weekly' '2026-12-13T00:00:00Z'
    check 2026-12-06T10:00Z 1 '@monthly' '2027-01-01T00:00:00Z'
    check 2026-12-06T10:00Z 1 '@yearly' '2027-01-01T00:00:00Z'
    check 2026-12-06T10:00Z 1 '@annually' '2027-01-01T00:00:00Z'
    # The five fields may be separate words too, and options may follow them.
    run "$CCWRAP" cron --from 2026-12-06T10:00Z --count 1 0 '*' '*' '*' '*'
    assert_success
    assert_output '2026-12-06T11:00:00Z'
    run "$CCWRAP" cron 0 12 '*' '*' '*' --count 2 --from 2026-12-06T10:00Z
    assert_success
    assert_output $'2026-12-06T12:00:00Z\n2026-12-07T12:00:00Z'
    run "$CCWRAP" cron '* * * * *' --bogus
    assert_failure 125
    assert_output "ccwrap: unknown option '--bogus'; see 'ccwrap --help'"
}

@test "ccwrap cron: bad schedules name the field and why; bad --from and --count are usage errors" {
    bad() {
        run "$CCWRAP" cron "$1"
        assert_failure 125
        assert_output "ccwrap: '$1': $2"
    }
    bad '@reboot' "@reboot is refused, as Clever Cloud refuses it; run it from a pre-run hook"
    bad '@often' "'@often' is not one of @hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually"
    bad '60 * * * *' "minute: '60' is out of range 0-59"
    bad '* 24 * * *' "hour: '24' is out of range 0-23"
    bad '* * 0 * *' "day-of-month: '0' is out of range 1-31"
    bad '* * * 13 *' "month: '13' is out of range 1-12"
    bad '* * * * 8' "day-of-week: '8' is out of range 0-7"
    bad '* * * foo *' "month: 'foo': 'foo' is not a month name (jan..dec)"
    bad '* * * * mon-fry' "day-of-week: 'mon-fry': 'fry' is not a day name (sun..sat)"
    bad 'mon * * * *' "minute: 'mon': names are for months and days; give a number 0-59"
    bad '5/10 * * * *' "minute: '5/10': a step goes with a range or *; write 5-59/10"
    bad '*/0 * * * *' "minute: '*/0': the step is out of range 1-59"
    bad '30-10 * * * *' "minute: '30-10' is a range backwards; write it low-high"
    bad '1,,2 * * * *' "minute: '1,,2' has an empty list item"
    bad '* * * *' "day-of-week: missing: a schedule has five fields, MIN HOUR DAY-OF-MONTH MONTH DAY-OF-WEEK"
    bad '0 0 30 feb *' "day-of-month: no day of it exists in the months given (such as 30 feb); no time ever matches"
    bad '0 0 31 apr,jun,sep,nov *' "day-of-month: no day of it exists in the months given (such as 30 feb); no time ever matches"
    bad '* * * * * echo' "'echo' after the schedule; give five fields or an @ word"
    run "$CCWRAP" cron --from tomorrow '* * * * *'
    assert_failure 125
    assert_output "ccwrap: --from 'tomorrow': not a time; write it in UTC as 2026-12-06T10:00Z or 2026-12-06T10:00:30Z"
    run "$CCWRAP" cron --from 2026-02-30T10:00Z '* * * * *'
    assert_failure 125
    run "$CCWRAP" cron --count 0 '* * * * *'
    assert_failure 125
    assert_output "ccwrap: --count '0': give a whole number of times from 1 to 1000; see 'ccwrap --help'"
    run "$CCWRAP" run --from 2026-02-03T10:00Z -- true
    assert_failure 125
    assert_output "ccwrap: --from goes with cron; see 'ccwrap --help'"
}

@test "ccwrap cron without EXPRESSION: the next times of each entry of clevercloud/cron.json" {
    cron_json '["*/30 * * * * echo a", "@daily $ROOT/b.sh"]'
    run "$CCWRAP" cron --from 2026-12-06T10:00Z --count 2
    assert_success
    assert_output "cron[0] 2026-12-06T10:30:00Z
cron[0] 2026-12-06T11:00:00Z
cron[1] 2026-12-07T00:00:00Z
cron[1] 2026-12-08T00:00:00Z"
    rm "$APP/clevercloud/cron.json"
    run "$CCWRAP" cron
    assert_failure 125
    assert_output "ccwrap: $APP/clevercloud/cron.json: no such file; give an EXPRESSION or write the file"
}

@test "check and run: a bad cron.json names the file, the entry, the field and why; run exits 125 before anything runs" {
    cron_json '["@reboot echo hi", "0 0 32 * * echo", 5, "1 2 3 4 5", "* * * * * ./missing.sh", "*/5 * * * * echo fine"]'
    run "$CCWRAP" check
    assert_failure 1
    assert_output "clevercloud/cron.json: entry 0: @reboot is refused, as Clever Cloud refuses it; run it from a pre-run hook
clevercloud/cron.json: entry 1: day-of-month: '32' is out of range 1-31
clevercloud/cron.json: entry 2: not a string; write \"MIN HOUR DAY-OF-MONTH MONTH DAY-OF-WEEK COMMAND\"
clevercloud/cron.json: entry 3: no command after the schedule; write \"MIN HOUR DAY-OF-MONTH MONTH DAY-OF-WEEK COMMAND\"
clevercloud/cron.json: cron[4]: ./missing.sh: no such file; fix the path in cron[4]"
    hook pre-run 10-log 'echo pre-run >>"$LOG"'
    run "$CCWRAP" run -- sh -c 'echo app >>"$LOG"'
    assert_failure 125
    assert_line "ccwrap: clevercloud/cron.json: entry 0: @reboot is refused, as Clever Cloud refuses it; run it from a pre-run hook"
    assert_line "ccwrap: clevercloud/cron.json: entry 1: day-of-month: '32' is out of range 1-31"
    assert_line "ccwrap: clevercloud/cron.json: cron[4]: ./missing.sh: no such file; fix the path in cron[4]"
    [ ! -s "$LOG" ]
    cron_json '{"not": "an array"}'
    run "$CCWRAP" check
    assert_failure 1
    assert_output 'clevercloud/cron.json: not a JSON array; write ["*/5 * * * * COMMAND", ...]'
    cron_json '["* * * * * echo",'
    run "$CCWRAP" run -- true
    assert_failure 125
    assert_output --partial "ccwrap: clevercloud/cron.json: line 2 column 0: "
}

@test "the trust rule: a cron.json or an entry's script that others may write is refused" {
    [ "$(id -u)" = 0 ] || skip "the trust rule matters when ccwrap runs as root"
    cron_json '["* * * * * $ROOT/job.sh"]'
    printf '#!/bin/sh\necho job\n' >"$APP/job.sh"
    chmod 755 "$APP/job.sh"
    chmod 755 "$APP" "$APP/clevercloud"
    run "$CCWRAP" check
    assert_success
    chmod o+w "$APP/clevercloud/cron.json"
    run "$CCWRAP" run -- true
    assert_failure 125
    assert_output --regexp "^ccwrap: clevercloud/cron.json: .*writable by group or others.*chmod"
    chmod o-w "$APP/clevercloud/cron.json"
    chmod o+w "$APP/job.sh"
    run "$CCWRAP" check
    assert_failure 1
    assert_output --regexp "^clevercloud/cron.json: cron\[0\]: .*job.sh.*writable by group or others"
}

@test "a cron file keeps ccwrap beside the application: no exec in place" {
    cron_json '["@daily true"]'
    # Leftovers kept: otherwise ccwrap stays for them, whatever else.
    echo 'leftovers = "keep"' >"$APP/ccwrap.conf"
    run --separate-stderr "$CCWRAP" -v run --ready none -- true
    assert_success
    assert_equal "${stderr_lines[0]}" "ccwrap: not exec in place: clevercloud/cron.json's entries run beside the application"
}

@test "plan run shows each entry with its next time and how it runs" {
    cron_json '["0 3 * * * echo backup $ROOT"]'
    run "$CCWRAP" plan run
    assert_success
    assert_line --regexp "^  cron +clevercloud/cron.json, in UTC, beside the application; no second copy of a running entry$"
    assert_line --regexp "^ +1  cron\[0\] +0 3 \* \* \* echo backup \\\$ROOT  next [0-9-]+T03:00:00Z: /bin/sh -c 'echo backup $APP'$"
    # An entry run refuses (exit 125 before anything starts): plan says run refuses, as check does.
    cron_json '["0 3 * * * echo backup $ROOT", "@hourly ./missing.sh"]'
    run "$CCWRAP" plan run
    assert_success
    assert_line --regexp "^  cron +error: run refuses to start, see below$"
    assert_line --regexp "^ +2  cron\[1\] +@hourly ./missing.sh  next [0-9-]+T[0-9]{2}:00:00Z: error: ./missing.sh: no such file; fix the path in cron\[1\]$"
    run "$CCWRAP" run -- true
    assert_failure 125
    rm "$APP/clevercloud/cron.json"
    run "$CCWRAP" plan run
    refute_line --partial "cron"
}

@test "an idle schedule costs no wake-up: a daily entry, the application ready, three seconds" {
    cron_json '["@daily echo daily"]'
    start_ccwrap run --ready none -- sleep 60
    wait_for 5 grep -q '^voluntary_ctxt_switches' "/proc/$CCPID/status"
    sleep 0.5
    before=$(awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$CCPID/status")
    sleep 3
    after=$(awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$CCPID/status")
    echo "voluntary context switches: $before then $after"
    [ "$before" = "$after" ]
    kill -TERM "$CCPID"
    wait_status "$CCPID"
    [ "$status" = 143 ]
}

@test "a real entry beside the application: \$ROOT, prefixed output, its end, an overlap skipped, its tree stopped with the application" {
    plain_run_only "it waits on two real minutes"
    # One minute-granular run (up to ~2 minutes): entry 0 starts each minute and sleeps 70 s,
    # so at the next minute it is still running; entry 1 ends at once.
    cron_json '["* * * * * echo \"out $ROOT\"; echo err >&2; sleep 70 & echo $! >'"$BATS_TEST_TMPDIR"'/sleep.pid; wait", "* * * * * echo \"$ROOT $INSTANCE_TYPE $CCWRAP_CRON\" >>$ROOT/ran"]'
    export CCWRAP_EVENTS=$BATS_TEST_TMPDIR/events
    start_ccwrap run --ready none -- sh -c 'until [ -e "$APP_HOME/stop" ]; do sleep 0.1; done' \
        >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
    wait_for 65 grep -q '^ccwrap: cron\[1\]: exited with status 0' "$BATS_TEST_TMPDIR/err"
    # Started within a second of its minute.
    started=$(grep -m1 '^ccwrap: cron\[0\]: started at' "$BATS_TEST_TMPDIR/err")
    [ -n "$started" ]
    assert_equal "$(cat "$APP/ran")" "$APP production cron[1]"
    wait_for 65 grep -q '^ccwrap: cron\[0\]: not started at .*: still running (pid [0-9]*)$' \
        "$BATS_TEST_TMPDIR/err"
    sleeper=$(cat "$BATS_TEST_TMPDIR/sleep.pid")
    kill -0 "$sleeper"
    touch "$APP/stop"
    wait_status "$CCPID"
    [ "$status" = 0 ]
    # The entry's tree went with the application.
    run kill -0 "$sleeper"
    assert_failure
    cat "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err"
    grep -qx "cron\[0\]: out $APP" "$BATS_TEST_TMPDIR/out"
    grep -qx 'cron\[0\]: err' "$BATS_TEST_TMPDIR/err"
    grep -q '^ccwrap: stopping 1 cron entry: the application ended$' "$BATS_TEST_TMPDIR/err"
    grep -Eq '^ccwrap: cron\[0\]: (killed by signal TERM|exited with status 143) after [0-9.]+ s$' \
        "$BATS_TEST_TMPDIR/err"
    grep -q '"event":"cron_start","entry":"cron\[0\]"' "$CCWRAP_EVENTS"
    # Each start came within a second of its minute.
    run jq -r 'select(.event == "cron_start") | "\(.time - (.scheduled | fromdateiso8601))"' "$CCWRAP_EVENTS"
    assert_success
    [ -n "$output" ]
    for late in "${lines[@]}"; do
        echo "started $late s after its minute"
        awk -v d="$late" 'BEGIN { exit !(d >= 0 && d < 1) }'
    done
    grep -q '"event":"cron_end","entry":"cron\[1\]".*"status":0' "$CCWRAP_EVENTS"
}
