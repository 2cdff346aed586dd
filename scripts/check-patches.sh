#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check-patches.sh - scripts/checkpatch.pl --strict on every patch of the
# series of $TREE, run from its base tree so that the MAINTAINERS and SPDX
# checks see a kernel tree. Any ERROR, WARNING or CHECK fails, except those
# listed, with a reason, in scripts/checkpatch-exceptions.

. "$(dirname "$0")/lib.sh"

# checkpatch's SPDX check runs scripts/spdxcheck.py, which needs these
# modules in the python3 found first on PATH: prefer Debian's.
need_packages /usr/lib/python3/dist-packages/ply:python3-ply \
	/usr/lib/python3/dist-packages/git:python3-git
export PATH=/usr/bin:/bin:$PATH

base=$(tree_flavour "$TREE" base)
src=$(flavour_src "$base")
"$TOP/scripts/prepare-source.sh" "$base" >/dev/null

# Accepted findings (scripts/checkpatch-exceptions) for one patch: the
# types to pass to --ignore, each announced so that none goes unseen.
accepted() {
	local glob type why
	while read -r glob type why; do
		case $glob in ''|'#'*) continue ;; esac
		# shellcheck disable=SC2254 # the glob is meant to match
		case $1 in $glob)
			echo "checkpatch: $1: accepted $type: $why" >&2
			printf '%s,' "$type" ;;
		esac
	done < "$TOP/scripts/checkpatch-exceptions"
}

bad=0
while read -r patch; do
	case $patch in ''|'#'*) continue ;; esac
	ignore=$(accepted "$patch")
	if out=$(cd "$src" && ./scripts/checkpatch.pl --strict --terse --show-types \
			${ignore:+--ignore "${ignore%,}"} "$SERIES_DIR/$patch" 2>&1); then
		echo "checkpatch: $patch: clean"
	else
		echo "checkpatch: $patch:"
		echo "$out" | sed 's/^/    /'
		bad=1
	fi
done < "$SERIES_DIR/series"
[ $bad -eq 0 ] || die $EXIT_TESTS_FAILED "checkpatch --strict reports problems (above)"
