#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check-series.sh - patches/ must be what "make export" would write, the
# selftests patch must carry exactly the top-level suite, and checkpatch
# must be clean. The check rebuilds the commits from patches/ (the series
# flavour's tree), formats them again and compares byte for byte.

. "$(dirname "$0")/lib.sh"

suite=tools/testing/selftests/pipe
say "series: apply, re-export and compare"
"$TOP/scripts/prepare-source.sh" series >/dev/null
src=$(flavour_src series)
again=$BUILD/export
"$TOP/scripts/format-series.sh" "$src" "$again"

fail=0
if ! diff -ru "$TOP/patches" "$again" > "$BUILD/export.diff"; then
	head -n 40 "$BUILD/export.diff"
	echo "patches/ differs from what 'make export' writes (full diff: build/export.diff)"
	fail=1
fi
# Compare the tracked top-level files, as they are in the work tree, with
# what the selftests patch puts into the kernel tree.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/patch" "$tmp/top"
git -C "$src" archive HEAD "$suite" | tar -x -C "$tmp/patch"
(cd "$TOP" && git ls-files -z "$suite" | xargs -0 cp --parents -t "$tmp/top")
if ! diff -ru "$tmp/patch" "$tmp/top"; then
	echo "$suite differs from the suite in the selftests patch; edit it in the dev tree and run 'make export'"
	fail=1
fi
"$TOP/scripts/check-patches.sh" || fail=1
"$TOP/scripts/check-fcntl-numbers.sh" || fail=1
[ $fail -eq 0 ] || die $EXIT_TESTS_FAILED "series checks failed"
say "series: patches/ round-trips, suite matches, checkpatch clean"
