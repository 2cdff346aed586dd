#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check-bisect.sh - build and boot every prefix of the series of $TREE:
# base + patch 1, base + patches 1-2, ... Each prefix must build, boot and
# run the suite without a kernel splat and without a failed test: a test
# of what a prefix does not have yet skips or XFAILs there. Slow: one
# kernel build per patch (about 1 min each with ccache warm, 4 cold).

. "$(dirname "$0")/lib.sh"

flavour=$(tree_flavour "$TREE" prefix)
src=$(flavour_src "$flavour")
"$TOP/scripts/import-tree.sh"
checkout_worktree "$src" base

n=0
while read -r patch; do
	case $patch in ''|'#'*) continue ;; esac
	n=$((n + 1))
	# Drop the suite copied in for an earlier prefix (make-initramfs.sh)
	# before the patch that adds it arrives.
	git -C "$src" clean -fdxq -- tools/testing/selftests/pipe
	git -C "$src" am -q "$SERIES_DIR/$patch" ||
		{ git -C "$src" am --abort; die $EXIT_PATCH "$patch does not apply"; }
	say "prefix $n: $patch"
	"$TOP/scripts/build-kernel.sh" "$flavour"
	"$TOP/scripts/make-initramfs.sh" "$flavour"
	set +e
	"$TOP/scripts/run-qemu.sh" "$flavour" any
	rc=$?
	set -e
	case $rc in
	0) ;;
	"$EXIT_TESTS_FAILED") die "$rc" "prefix $n ($patch) fails its own tests (build/$flavour/results/)" ;;
	*) die "$rc" "prefix $n ($patch) does not boot cleanly" ;;
	esac
done < "$SERIES_DIR/series"
say "all $n prefixes of $(rel "$SERIES_DIR") build, boot and pass their own tests"
