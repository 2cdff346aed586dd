#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh - everything CI runs: the harness's own tests, the series checks
# (export round trip, selftests copy, checkpatch), the suite on base (must
# all skip), stock (must pass, XFAIL allowed), and series, up and smp4
# (must all pass), and broken guests: a panic, a hang and three lockups
# (must fail cleanly, each with its own code). Keeps going after a failure
# so that one run shows everything, and exits with the first failure's code.
# make check-arm64 runs the arm64 flavours (CI runs it too).

. "$(dirname "$0")/lib.sh"

first_rc=0
note_rc() { [ "$1" -eq 0 ] || [ "$first_rc" -ne 0 ] || first_rc=$1; }

say "harness self-tests"
set +e
make -s -C "$TOP" selftest-harness 2>&1 | tail -n 3
note_rc "${PIPESTATUS[0]}"

"$TOP/scripts/check-series.sh"
note_rc $?

# The suite's own build outside kselftest, 64- and 32-bit, and the
# benchmark's host build: what make host-test and make bench-host use.
"$TOP/scripts/host-test.sh" build
note_rc $?

# Broken guests must fail cleanly: the base and series kernels first (up
# and smp4 boot the series kernel).
make -s -C "$TOP" build KERNEL=base && make -s -C "$TOP" build KERNEL=series &&
	"$TOP/scripts/check-faults.sh"
note_rc $?

# make bench's guest, in small: one measurement under -icount, twice.
"$TOP/scripts/bench.sh" smoke
note_rc $?

# The suite on each flavour; its closing lines and their total come last.
"$TOP/scripts/run-flavours.sh" base stock series up smp4
note_rc $?

exit $first_rc
