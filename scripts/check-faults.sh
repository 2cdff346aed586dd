#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check-faults.sh [FLAVOUR] - show on a real guest that the harness turns a
# panic and a hang into a clear message and the right exit code, well
# within the time limit, instead of a hang or a false pass.

. "$(dirname "$0")/lib.sh"

flavour=${1:-base}
results=$BUILD/$flavour/faults
bad=0

expect_exit() {
	local want=$1 what=$2 rc
	shift 2
	set +e
	env RESULTS="$results/$what" "$@" "$TOP/scripts/run-qemu.sh" "$flavour" skip \
		> "$results/$what.out" 2>&1
	rc=$?
	set -e
	if [ "$rc" -eq "$want" ]; then
		echo "faults: $what: exit $rc as expected: $(grep -m1 '^  ' "$results/$what.out" | sed 's/^  //')"
	else
		echo "faults: $what: expected exit $want, got $rc"
		cat "$results/$what.out"
		bad=1
	fi
}

mkdir -p "$results"
# No init: the kernel panics ("No working init found").
expect_exit "$EXIT_NO_RESULT" panic APPEND="rdinit=/nonexistent init=/nonexistent"
# An init that never ends: only the host's timeout stops it.
expect_exit "$EXIT_TIMEOUT" hang TIMEOUT=15 APPEND="rdinit=/bin/busybox -- sleep 100000"
[ $bad -eq 0 ] || die $EXIT_TESTS_FAILED "the harness mishandled a broken guest (above)"
