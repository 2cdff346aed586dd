#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make-tree.sh - create the dev tree of $TREE (build/dev, build/dev-7.3):
# a worktree at base with every patch of its series applied as commits.
# Edit and commit there (git add -f for new files: Debian's .gitignore
# hides the whole tree), then "make export" writes the series and the
# top-level suite from it.
# Refuses to replace a dev tree that holds work not yet exported.

. "$(dirname "$0")/lib.sh"

dev=$DEV_TREE
"$TOP/scripts/import-tree.sh"

if [ -e "$dev/.git" ]; then
	if [ -n "$(git -C "$dev" status --porcelain --untracked-files=no)" ]; then
		die $EXIT_USAGE "$dev has uncommitted changes; commit and 'make export', or remove it"
	fi
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	"$TOP/scripts/format-series.sh" "$dev" "$tmp" 2>/dev/null || true
	if ! series_diff "$SERIES_DIR" "$tmp" -rq >/dev/null; then
		die $EXIT_USAGE "$dev has commits that differ from $(rel "$SERIES_DIR")/; run 'make export TREE=$TREE' first, or remove $dev"
	fi
	say "dev tree $dev is up to date with $(rel "$SERIES_DIR")/"
	exit 0
fi

checkout_worktree "$dev" base
"$TOP/scripts/apply-series.sh" "$dev"
say "dev tree ready: $dev ($(git -C "$dev" rev-list --count base..HEAD) commits on base)"
