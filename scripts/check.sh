#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh - everything CI runs: the harness's own tests, the series checks
# (export round trip, selftests copy, checkpatch), the suite on base (must
# all skip), stock (must pass, XFAIL allowed), and series, up and smp4
# (must all pass), and broken guests: a panic, a hang and three lockups
# (must fail cleanly, each with its own code). Keeps going after a failure
# so that one run shows everything, and exits with the first failure's code.

. "$(dirname "$0")/lib.sh"

first_rc=0
note_rc() { [ "$1" -eq 0 ] || [ "$first_rc" -ne 0 ] || first_rc=$1; }

say "harness self-tests"
set +e
make -s -C "$TOP" selftest-harness 2>&1 | tail -n 3
note_rc "${PIPESTATUS[0]}"

"$TOP/scripts/check-series.sh"
note_rc $?

summaries=()
for flavour in base stock series up smp4; do
	rm -f "$BUILD/$flavour/results/summary.txt"
	make -s -C "$TOP" run KERNEL=$flavour
	rc=$?
	note_rc $rc
	if [ -f "$BUILD/$flavour/results/summary.txt" ]; then
		summaries+=("$(tail -n 1 "$BUILD/$flavour/results/summary.txt")")
	else
		summaries+=("pipe ($flavour): 0 passed, 1 failed, 0 skipped")
		echo "pipe ($flavour): did not run (exit $rc)"
	fi
done

# With the kernels built: broken guests must fail cleanly.
"$TOP/scripts/check-faults.sh"
note_rc $?
set -e

echo
printf '%s\n' "${summaries[@]}"
printf '%s\n' "${summaries[@]}" | awk '
	{ for (i = 1; i < NF; i++) {
		if ($(i + 1) ~ /^passed/) p += $i
		if ($(i + 1) ~ /^failed/) f += $i
		if ($(i + 1) ~ /^skipped/) s += $i } }
	END { printf "total: %d passed, %d failed, %d skipped\n", p, f, s }'
exit $first_rc
