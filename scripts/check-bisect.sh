#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check-bisect.sh - build and boot every prefix of the series of $TREE:
# base + patch 1, base + patches 1-2, ... Each prefix must build, boot and
# run the suite without a kernel splat and without a failed test: a test
# of what a prefix does not have yet skips or XFAILs there. A prefix that
# carries no tests yet (6.12's first four: the suite comes with patch 5)
# has none of its own to pass: it runs the finished top-level suite as a
# load (verdict.py's "smoke": failed tests counted, not judged, since they
# test what later patches add; a splat, panic, lockup, hang or a program
# that does not report in full still fails it). Slow: one kernel build
# per patch (1 to 3 min each with ccache warm, about 10 cold).
# FROM=N applies the patches before N without building them: a run that
# stopped at prefix N goes on from there.

. "$(dirname "$0")/lib.sh"

flavour=$(tree_flavour "$TREE" prefix)
src=$(flavour_src "$flavour")
"$TOP/scripts/import-tree.sh"
checkout_worktree "$src" base

from=${FROM:-1}
n=0
while read -r patch; do
	case $patch in ''|'#'*) continue ;; esac
	n=$((n + 1))
	# Drop the suite copied in for an earlier prefix (make-initramfs.sh)
	# before the patch that adds it arrives.
	git -C "$src" clean -fdxq -- tools/testing/selftests/pipe
	git -C "$src" am -q "$SERIES_DIR/$patch" ||
		{ git -C "$src" am --abort; die $EXIT_PATCH "$patch does not apply"; }
	[ "$n" -ge "$from" ] || continue
	say "prefix $n: $patch"
	expect=any
	if ! tree_carries_suite "$src"; then
		expect=smoke
		say "prefix $n carries no tests: the top-level suite runs as a load, its failures not judged"
	fi
	"$TOP/scripts/build-kernel.sh" "$flavour"
	"$TOP/scripts/make-initramfs.sh" "$flavour"
	set +e
	"$TOP/scripts/run-qemu.sh" "$flavour" "$expect"
	rc=$?
	set -e
	case $rc in
	0) ;;
	"$EXIT_TESTS_FAILED") die "$rc" "prefix $n ($patch) fails its own tests (build/$flavour/results/)" ;;
	*) die "$rc" "prefix $n ($patch) does not boot cleanly" ;;
	esac
done < "$SERIES_DIR/series"
say "all $n prefixes of $(rel "$SERIES_DIR")${FROM:+ from $from on} build, boot and pass their own tests"
