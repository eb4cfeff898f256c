#!/usr/bin/env bats
# The binary `make` builds (issue 14): hardened (PIE, full RELRO, non-executable stack, stack
# protector, FORTIFY), with libconfuse and jansson linked in and glibc shared.
# Design: none in doc/design.md: how `make` builds the binary, not what it does.

load test_helper

setup() {
    common_setup
    # What `make` built, also when the suite runs against another build (tests/sanitize).
    BIN=$TOP/ccwrap
}

@test "the default build is a PIE with full RELRO and a non-executable stack" {
    run readelf -h "$BIN"
    assert_output --regexp 'Type: +DYN \(Position-Independent Executable file\)'
    run readelf -lW "$BIN"
    assert_output --partial GNU_RELRO
    assert_output --regexp 'GNU_STACK +(0x[0-9a-f]+ +){5}RW +0x'
    run readelf -dW "$BIN"
    assert_output --regexp 'FLAGS_1.*NOW.*PIE'
    assert_output --regexp '\(FLAGS\) +BIND_NOW'
    run readelf -sW --dyn-syms "$BIN"
    assert_output --partial __stack_chk_fail
    assert_output --regexp '__[a-z]+_chk@'
}

@test "libconfuse and jansson are linked in; only glibc is loaded at start" {
    run readelf -dW "$BIN"
    assert_success
    refute_output --partial libconfuse
    refute_output --partial libjansson
    run bash -c "readelf -dW '$BIN' | grep -c NEEDED"
    assert_output 1
    run bash -c "readelf -dW '$BIN' | grep NEEDED"
    assert_output --partial "[libc.so.6]"
}
