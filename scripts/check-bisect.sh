#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check-bisect.sh - build and boot every prefix of the series: base + patch
# 1, base + patches 1-2, ... Each prefix must build, boot and run the suite
# without a kernel splat (tests may skip or fail on an early prefix: the
# full suite is only expected to pass at the end). Slow: one kernel build
# per patch (about 1 min each with ccache warm, 4 cold).

. "$(dirname "$0")/lib.sh"

src=$(flavour_src bisect)
"$TOP/scripts/import-tree.sh"
checkout_worktree "$src" base

n=0
while read -r patch; do
	case $patch in ''|'#'*) continue ;; esac
	n=$((n + 1))
	# Drop the suite copied in for an earlier prefix (make-initramfs.sh)
	# before the patch that adds it arrives.
	git -C "$src" clean -fdxq -- tools/testing/selftests/pipe
	git -C "$src" am -q "$TOP/patches/$patch" ||
		{ git -C "$src" am --abort; die $EXIT_PATCH "$patch does not apply"; }
	say "prefix $n: $patch"
	"$TOP/scripts/build-kernel.sh" bisect
	"$TOP/scripts/make-initramfs.sh" bisect
	# Only a kernel that misbehaves fails here: TAP failures on a prefix
	# are reported, and the splat/panic/hang exits are fatal.
	set +e
	"$TOP/scripts/run-qemu.sh" bisect any
	rc=$?
	set -e
	case $rc in 0|"$EXIT_TESTS_FAILED") ;; *) die "$rc" "prefix $n ($patch) does not boot cleanly" ;; esac
done < "$TOP/patches/series"
say "all $n prefixes build and boot"
