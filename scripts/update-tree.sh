#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# update-tree.sh [VERSION] - move the pins of $TREE (6.12 unless told) to what the archive serves now:
# import the newest (or the given) version of the kernel package, rebase
# the dev tree (build/dev) onto its base, export patches/ from it (so the
# cover letter names the new base), rewrite scripts/trees/$TREE.lock, move every
# pin of scripts/packages.lock to its newest version, and run the series
# checks. A patch that no longer applies stops it, naming the patch, the
# file and the hunk; the lock and patches/ are then left as they were.

. "$(dirname "$0")/lib.sh"

lock=$TREE_LOCK
pkg=$(lock_get "$lock" package)
old_version=$(lock_get "$lock" package-version)
dev=$DEV_TREE

# APT's lists may be up to an hour old; moving a pin reads them afresh.
rm -f "$APT_DIR/updated"
version=${1:-$(newest_version "$pkg")}
[ -n "$version" ] || die $EXIT_USAGE "the archive serves no $pkg (scripts/apt-sources.list)"
say "$pkg: pinned $old_version, moving to $version"

deb=$(fetch_deb "$pkg" "$version" - "$lock")
sha=$(sha256sum "$deb" | cut -c1-64)

# The dev tree at the old pin, holding exactly what patches/ holds.
"$TOP/scripts/make-tree.sh"
old_base=$(git_k rev-parse base)
ids=$("$TOP/scripts/import-tree.sh" "$version" "$sha")
read -r import base <<<"$ids"

if [ "$base" != "$old_base" ]; then
	say "rebasing $dev onto $base"
	log=$BUILD/update-tree.log
	if ! git -C "$dev" rebase -q --apply --onto "$base" "$old_base" >"$log" 2>&1; then
		failed=$(sed -n 's/^Patch failed at //p' "$log" | head -n 1)
		hunks=$(grep -E '^error: (patch failed|.*: patch does not apply)' "$log" | sed 's/^error: //' | paste -sd ';' -)
		git -C "$dev" rebase --abort >/dev/null 2>&1 || true
		die $EXIT_PATCH "$pkg $version: patch ${failed:-?} does not apply (${hunks:-see $log}); the pin stays at $old_version"
	fi
fi

# The new pin, then the tags and patches/ that follow from it.
tmp=$lock.tmp
awk -v v="$version" -v s="$sha" -v i="$import" -v b="$base" '
	/^package-version: / { $0 = "package-version: " v }
	/^deb-sha256: /      { $0 = "deb-sha256: " s }
	/^import-commit: /   { $0 = "import-commit: " i }
	/^base-commit: /     { $0 = "base-commit: " b }
	{ print }' "$lock" > "$tmp"
mv "$tmp" "$lock"
git_k tag -f import "$import" >/dev/null
git_k tag -f base "$base" >/dev/null
"$TOP/scripts/export-series.sh"

# Every other pinned package to its newest version.
while read -r name pinned_version _; do
	case $name in ''|'#'*) continue ;; esac
	newest=$(newest_version "$name")
	[ -n "$newest" ] || die $EXIT_USAGE "the archive serves no $name (scripts/apt-sources.list)"
	[ "$newest" != "$pinned_version" ] || continue
	new_sha=$(sha256sum "$(fetch_deb "$name" "$newest" - "$PACKAGES_LOCK")" | cut -c1-64)
	say "$name: $pinned_version -> $newest"
	awk -v n="$name" -v v="$newest" -v s="$new_sha" '
		$1 == n { $0 = sprintf("%-23s %-23s %s", n, v, s) } { print }' \
		"$PACKAGES_LOCK" > "$PACKAGES_LOCK.tmp"
	mv "$PACKAGES_LOCK.tmp" "$PACKAGES_LOCK"
done < "$PACKAGES_LOCK"

"$TOP/scripts/check-series.sh"
say "pinned $pkg $version (import $import, base $base); commit scripts/*.lock and patches/"
