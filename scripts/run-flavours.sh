#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# run-flavours.sh FLAVOUR... - build and run the suite on each flavour in
# turn (make run), going on after a failure so that one run shows
# everything. Prints each flavour's closing line and their total, and exits
# with the first failure's code.

. "$(dirname "$0")/lib.sh"

first_rc=0
summaries=()
for flavour in "$@"; do
	rm -f "$BUILD/$flavour/results/summary.txt"
	set +e
	make -s -C "$TOP" run KERNEL="$flavour"
	rc=$?
	set -e
	[ "$rc" -eq 0 ] || [ "$first_rc" -ne 0 ] || first_rc=$rc
	if [ -f "$BUILD/$flavour/results/summary.txt" ]; then
		summaries+=("$(tail -n 1 "$BUILD/$flavour/results/summary.txt")")
	else
		summaries+=("pipe ($flavour): 0 passed, 1 failed, 0 skipped")
		echo "pipe ($flavour): did not run (exit $rc)"
	fi
done

echo
printf '%s\n' "${summaries[@]}"
printf '%s\n' "${summaries[@]}" | awk '
	{ for (i = 1; i < NF; i++) {
		if ($(i + 1) ~ /^passed/) p += $i
		if ($(i + 1) ~ /^failed/) f += $i
		if ($(i + 1) ~ /^skipped/) s += $i } }
	END { printf "total: %d passed, %d failed, %d skipped\n", p, f, s }'
exit $first_rc
