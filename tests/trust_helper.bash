# tests/trust_helper.bash — the set-up shared by the suites of the trust rule (doc/design.md §3),
# tests/trust.bats and tests/trust2.bats: a second local user, `nobody`, owns files there.
# Loaded after test_helper.

# trust_setup: common_setup, then skips without root or without nobody; lets nobody reach the
# test's folder (traverse only), as on a real host; CCWRAP_ENV files under the test's folder.
trust_setup() {
    common_setup
    [ "$(id -u)" -eq 0 ] || skip "these tests need root, to own files as another user"
    id nobody >/dev/null 2>&1 || skip "no user nobody"
    local d=$BATS_TEST_TMPDIR
    while [ "$d" != / ] && [ "$d" != /tmp ]; do
        chmod o+x "$d"
        d=$(dirname "$d")
    done
    export TMPDIR=$BATS_TEST_TMPDIR
}

# as_nobody COMMAND...: runs COMMAND as nobody, without root's groups.
as_nobody() {
    setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
}

# script PATH BODY: an executable sh script (mode 755) at PATH.
script() {
    mkdir -p "$(dirname "$1")"
    printf '#!/bin/sh\n%s\n' "$2" >"$1"
    chmod 755 "$1"
}

# ccw ARGS...: ccwrap bounded by timeout, as bats' run with stdout and stderr apart.
ccw() {
    run --separate-stderr timeout -k 2 20 "$CCWRAP" "$@"
}

# shellcheck disable=SC2034 # read by the suites
FIX_OWNER='or list that user in trusted_users'
