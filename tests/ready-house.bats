#!/usr/bin/env bats
# Readiness (§5.3) where the kernel's sock_diag cannot be asked: a service confined as by
# systemd's RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX opens no netlink socket, and tcp's
# listener lookup reads /proc/net/tcp and tcp6 instead. Each case runs with netlink and without
# (tests/fixtures/nonetlink) and must end and speak the same. Also: delay's waiting text.

load test_helper

NONETLINK=$TOP/tests/fixtures/nonetlink

setup() {
    common_setup
    [ -x "$NONETLINK" ] || fail "$NONETLINK is missing; make tests/fixtures/nonetlink"
}

teardown() {
    kill_background
}

# via WAY COMMAND...: COMMAND as it is ("netlink"), or unable to open a netlink socket
# ("nonetlink").
via() {
    local way=$1
    shift
    if [ "$way" = nonetlink ]; then
        "$NONETLINK" "$@"
    else
        "$@"
    fi
}

@test "nonetlink: a netlink socket fails with EAFNOSUPPORT, inet and unix sockets open" {
    run "$NONETLINK" python3 -c '
import errno, socket
for family, proto in ((socket.AF_NETLINK, 4), (socket.AF_INET, 0), (socket.AF_INET6, 0), (socket.AF_UNIX, 0)):
    try:
        socket.socket(family, socket.SOCK_DGRAM, proto).close()
        print(family.name, "opens")
    except OSError as e:
        print(family.name, errno.errorcode[e.errno])
'
    assert_success
    assert_output "AF_NETLINK EAFNOSUPPORT
AF_INET opens
AF_INET6 opens
AF_UNIX opens"
    run "$NONETLINK"
    assert_failure 2
    assert_output "usage: nonetlink COMMAND [ARG ...]"
}

@test "tcp without netlink: the application's own wildcard listener makes it ready, as with netlink" {
    export PORT
    PORT=$(free_port)
    for way in netlink nonetlink; do
        run --separate-stderr via "$way" "$CCWRAP" run -- "$TESTAPP" --listen "$PORT" --listen-after 0.3 \
            --exit-after 1 --exit 0
        assert_success
        assert_equal "$(norm "$stderr")" "ccwrap: Application ready (tcp) after N s"
    done
}

@test "tcp without netlink: a listener on 127.0.0.1 only is not ready, and the fix is named" {
    port=$(free_port)
    for way in netlink nonetlink; do
        # 3 s: python3 may take more than one to start on a busy machine.
        PORT=$port run --separate-stderr via "$way" "$CCWRAP" run --ready-timeout 3 -- \
            python3 -m http.server "$port" --bind 127.0.0.1
        assert_failure 124
        assert_equal "$stderr" "ccwrap: application not ready after 3.000 s: The application listens on 127.0.0.1:$port only, which nothing outside this machine reaches; make it listen on 0.0.0.0:$port (all interfaces)"
    done
}

@test "tcp without netlink: a listener on [::1] only is read from /proc/net/tcp6 and named" {
    python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null ||
        skip "no IPv6 loopback here"
    port=$(free_port)
    for way in netlink nonetlink; do
        PORT=$port run --separate-stderr via "$way" "$CCWRAP" run --ready-timeout 3 -- \
            python3 -m http.server "$port" --bind ::1
        assert_failure 124
        assert_equal "$stderr" "ccwrap: application not ready after 3.000 s: The application listens on [::1]:$port only, which nothing outside this machine reaches; make it listen on 0.0.0.0:$port (all interfaces)"
    done
}

@test "tcp without netlink: a port held before the application starts is said and its holder named" {
    port=$(free_port)
    "$TESTAPP" --listen "$port" 3>&- &
    holder=$!
    remember_pid "$holder"
    wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
    hook run-succeeded 10-never 'echo "run-succeeded ran" >>"$LOG"'
    for way in netlink nonetlink; do
        PORT=$port run --separate-stderr via "$way" "$CCWRAP" run --ready-timeout 1 -- sleep 30
        assert_failure 124
        assert_equal "$stderr" "ccwrap: warning: port $port is already in use by pid $holder (testapp) before the application starts; stop that process or choose another PORT
ccwrap: application not ready after 1.000 s: Port $port is held by pid $holder (testapp), not by the application"
    done
    assert_equal "$(cat "$LOG")" ""
}

@test "delay: the waiting text gives the seconds without trailing zeros" {
    run --separate-stderr "$CCWRAP" run --ready delay:2.50 --ready-timeout 1 -- sleep 30
    assert_failure 124
    assert_equal "$stderr" "ccwrap: application not ready after 1.000 s: Waiting 2.5 s"
    run --separate-stderr "$CCWRAP" run --ready delay:7 --ready-timeout 5.2 -- sleep 30
    assert_failure 124
    assert_equal "$stderr" "ccwrap: Waiting 7 s
ccwrap: application not ready after 5.200 s: Waiting 7 s"
}
