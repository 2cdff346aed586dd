#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check-series.sh - for the series of $TREE (patches/, patches/mainline/):
# it must be what "make export" would write, the suite it puts into the
# kernel must be exactly the top-level suite (but for the files upstream
# has there, which the series only changes), and checkpatch must be clean.
# The check rebuilds the commits from the series (the tree's series
# flavour), formats them again and compares byte for byte.

. "$(dirname "$0")/lib.sh"

suite=tools/testing/selftests/pipe
name=$(rel "$SERIES_DIR")
flavour=$(tree_flavour "$TREE" series)
say "$name: apply, re-export and compare"
"$TOP/scripts/prepare-source.sh" "$flavour" >/dev/null
src=$(flavour_src "$flavour")
again=$BUILD/export-$TREE
"$TOP/scripts/format-series.sh" "$src" "$again"

fail=0
if ! series_diff "$SERIES_DIR" "$again" -ru > "$BUILD/export-$TREE.diff"; then
	head -n 40 "$BUILD/export-$TREE.diff"
	echo "$name/ differs from what 'make export TREE=$TREE' writes (full diff: build/export-$TREE.diff)"
	fail=1
fi
# Compare the tracked top-level files, as they are in the work tree, with
# what the selftests patch puts into the kernel tree.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/patch" "$tmp/top"
git -C "$src" archive HEAD "$suite" | tar -x -C "$tmp/patch"
(cd "$TOP" && git ls-files -z "$suite" | xargs -0 cp --parents -t "$tmp/top")
for f in $(suite_upstream_files); do
	rm -f "$tmp/patch/$suite/$f" "$tmp/top/$suite/$f"
done
if ! diff -ru "$tmp/patch" "$tmp/top"; then
	echo "$suite differs from the suite $name puts into the kernel; edit it in the dev tree and run 'make export TREE=$TREE'"
	fail=1
fi
"$TOP/scripts/check-patches.sh" || fail=1
"$TOP/scripts/check-fcntl-numbers.sh" "$SERIES_DIR"/*.patch || fail=1
[ $fail -eq 0 ] || die $EXIT_TESTS_FAILED "checks of $name failed"
say "$name: round-trips, suite matches, checkpatch clean"
