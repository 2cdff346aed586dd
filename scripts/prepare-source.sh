#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# prepare-source.sh FLAVOUR - check out the source of one kernel flavour
# in build/FLAVOUR/linux and print its commit id.
#
#   stock   Debian's tree as shipped (tag "import": upstream's packet mode)
#   base    stock with packet mode stripped (tag "base")
#   series  base + every patch in patches/series, applied with git am
#   debug   the series again, built with scripts/debug.config on top
#   arm64-4k, arm64-64k  the series again, cross-built for arm64
#   other   a tree that check-bisect.sh or check-mutants.sh checked out

. "$(dirname "$0")/lib.sh"

flavour=${1:?usage: prepare-source.sh FLAVOUR}
"$TOP/scripts/import-tree.sh"

case $flavour in
stock) start=import ;;
base|series|debug|arm64-4k|arm64-64k) start=base ;;
*)	# bisect, mutant: trees that check-bisect.sh and check-mutants.sh
	# step through themselves
	[ -e "$(flavour_src "$flavour")/.git" ] ||
		die $EXIT_USAGE "unknown flavour '$flavour' (stock, base or series)"
	git -C "$(flavour_src "$flavour")" rev-parse HEAD
	exit 0 ;;
esac

src=$(flavour_src "$flavour")
checkout_worktree "$src" "$start"

# The top-level suite builds against a kernel tree's kselftest framework
# (tools/testing/selftests/{lib.mk,kselftest*.h} are links through here).
[ -e "$BUILD/ksft" ] || ln -sfn "$flavour/linux/tools/testing/selftests" "$BUILD/ksft"

# Every flavour but base and stock is the series.
if [ "$start" = base ] && [ "$flavour" != base ]; then
	"$TOP/scripts/apply-series.sh" "$src" >&2
fi
git -C "$src" rev-parse HEAD
