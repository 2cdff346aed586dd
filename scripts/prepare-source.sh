#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# prepare-source.sh FLAVOUR - check out the source of one kernel flavour
# in build/FLAVOUR/linux and print its commit id. The flavour's record
# (scripts/flavours/FLAVOUR) names its source:
#
#   stock   Debian's tree as shipped (tag "import": upstream's packet mode)
#   base    stock with packet mode stripped (tag "base")
#   series  base + every patch of the tree's series, applied with git am
#   prefix, mutant
#           a tree that check-bisect.sh or check-mutants.sh checked out

. "$(dirname "$0")/lib.sh"

flavour=${1:?usage: prepare-source.sh FLAVOUR}
use_flavour "$flavour"
"$TOP/scripts/import-tree.sh"

source=$(flavour_field "$flavour" source)
case $source in
stock) start=import ;;
base|series) start=base ;;
prefix|mutant)
	# bisect, mutant: trees that check-bisect.sh and check-mutants.sh
	# step through themselves
	[ -e "$(flavour_src "$flavour")/.git" ] ||
		die $EXIT_USAGE "flavour '$flavour': its tree is set up by check-bisect.sh or check-mutants.sh"
	git -C "$(flavour_src "$flavour")" rev-parse HEAD
	exit 0 ;;
*)	die $EXIT_USAGE "flavour '$flavour' boots another's kernel, or names no source (scripts/flavours/$flavour)" ;;
esac

src=$(flavour_src "$flavour")
checkout_worktree "$src" "$start"

# The top-level suite builds against a kernel tree's kselftest framework
# (tools/testing/selftests/{lib.mk,kselftest*.h} are links through here).
[ -e "$BUILD/ksft" ] || ln -sfn "$flavour/linux/tools/testing/selftests" "$BUILD/ksft"

if [ "$source" = series ]; then
	"$TOP/scripts/apply-series.sh" "$src" >&2
fi
git -C "$src" rev-parse HEAD
