#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# apply-series.sh DIR - git am every patch named in the series of $TREE
# (patches/series, or patches/mainline/series) onto the checked-out commit
# of DIR. On failure the am is aborted, DIR is left as it was, and the
# message says which patch failed and why.

. "$(dirname "$0")/lib.sh"

tree=${1:?usage: apply-series.sh DIR}
series=$SERIES_DIR/series
name=$(rel "$SERIES_DIR")
[ -f "$series" ] || die $EXIT_USAGE "$series is missing"

# Whether the tree had packet mode before the first patch: the patches
# themselves add it, so asking after a failure would blame the tree.
had_mode=
git -C "$tree" grep -q PIPE_BUF_FLAG_PACKET -- include/linux/pipe_fs_i.h && had_mode=y

while read -r patch; do
	case $patch in ''|'#'*) continue ;; esac
	[ -f "$SERIES_DIR/$patch" ] || die $EXIT_PATCH "$name/series names $patch, which does not exist"
	if ! out=$(git -C "$tree" am -q --keep-cr "$SERIES_DIR/$patch" 2>&1); then
		git -C "$tree" am --abort >/dev/null 2>&1 || true
		# git am names each hunk that failed: "patch failed: FILE:LINE".
		hunks=$(printf '%s\n' "$out" | sed -n 's/^error: patch failed: //p' | paste -sd ' ' -)
		if [ -n "$had_mode" ] && [ -n "$(lock_get "$TREE_LOCK" strip)" ]; then
			die $EXIT_PATCH "$patch does not apply: this tree already has packet mode (PIPE_BUF_FLAG_PACKET in include/linux/pipe_fs_i.h). Apply the series to the stripped 'base' tree; on a tree with upstream's mode only the selftests patch applies."
		fi
		die $EXIT_PATCH "$name/$patch does not apply to $(git -C "$tree" log -1 --format='%h (%s)')${hunks:+: hunk at $hunks}"
	fi
done < "$series"
