#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# export-series.sh - the one direction of flow: the dev tree of $TREE
# (build/dev or build/dev-7.3, commits on top of base) is the source; this
# regenerates the tree's series (patches/ or patches/mainline/) from it and
# copies its tools/testing/selftests/pipe to the top level, but for the
# files upstream has there (suite_upstream_files: the series only changes
# them, and the top level holds only what we wrote).

. "$(dirname "$0")/lib.sh"

dev=$DEV_TREE
suite=tools/testing/selftests/pipe
[ -d "$dev" ] || die $EXIT_USAGE "no dev tree at $dev; run 'make tree' first"
[ -z "$(git -C "$dev" status --porcelain --untracked-files=no)" ] ||
	die $EXIT_USAGE "$dev has uncommitted changes; commit them first"

"$TOP/scripts/format-series.sh" "$dev" "$SERIES_DIR"
mapfile -t upstream < <(suite_upstream_files)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git -C "$dev" archive HEAD "$suite" | tar -x -C "$tmp"
for f in "${upstream[@]}"; do
	rm -f "$tmp/$suite/$f"
	[ ! -e "$TOP/$suite/$f" ] || cp "$TOP/$suite/$f" "$tmp/$suite/$f"
done
rm -rf "${TOP:?}/$suite"
mkdir -p "$TOP/$suite"
cp -r "$tmp/$suite/." "$TOP/$suite/"
say "$(rel "$SERIES_DIR")/: $(wc -l < "$SERIES_DIR/series") patches + cover letter; $suite updated"
git -C "$TOP" status --short -- "$SERIES_DIR" "$suite"
