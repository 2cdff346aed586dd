#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# export-series.sh - the one direction of flow: the dev tree (build/dev,
# commits on top of base) is the source; this regenerates patches/ from
# it and copies its tools/testing/selftests/pipe to the top level.

. "$(dirname "$0")/lib.sh"

dev=${DEV_TREE:-$BUILD/dev}
suite=tools/testing/selftests/pipe
[ -d "$dev" ] || die $EXIT_USAGE "no dev tree at $dev; run 'make tree' first"
[ -z "$(git -C "$dev" status --porcelain --untracked-files=no)" ] ||
	die $EXIT_USAGE "$dev has uncommitted changes; commit them first"

"$TOP/scripts/format-series.sh" "$dev" "$TOP/patches"
rm -rf "${TOP:?}/$suite"
mkdir -p "$TOP/$suite"
git -C "$dev" archive HEAD "$suite" | tar -x -C "$TOP"
say "patches/: $(wc -l < "$TOP/patches/series") patches + cover letter; $suite updated"
git -C "$TOP" status --short -- patches "$suite"
