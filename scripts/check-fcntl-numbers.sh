#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check-fcntl-numbers.sh [PATCH...] - no patch may add an fcntl command at
# a number mainline already uses (scripts/mainline-fcntl.table): a program
# built against our header would issue mainline's command on a newer
# kernel. Checks the lines the patches add (the series of every tree by
# default: patches/*.patch, patches/mainline/*.patch).

. "$(dirname "$0")/lib.sh"

table=$TOP/scripts/mainline-fcntl.table
if [ $# -eq 0 ]; then
	for t in $(tree_names); do
		select_tree "$t"
		set -- "$@" "$SERIES_DIR"/*.patch
	done
fi
bad=$(awk -v table="$table" '
	BEGIN {
		while ((getline line < table) > 0)
			if (line !~ /^#/ && split(line, f, "\t") >= 2)
				taken[f[1]] = f[2]
	}
	/^\+#define[ \t]+F_[A-Z0-9_]+[ \t]+\(F_LINUX_SPECIFIC_BASE *\+ *[0-9]+\)/ {
		name = $2
		n = $0
		sub(/.*F_LINUX_SPECIFIC_BASE *\+ */, "", n)
		sub(/\).*/, "", n)
		if ((n in taken) && taken[n] != name)
			printf "%s: %s is F_LINUX_SPECIFIC_BASE + %s, which mainline uses for %s\n",
			       FILENAME, name, n, taken[n]
	}' "$@")
[ -z "$bad" ] || { echo "$bad"; die $EXIT_TESTS_FAILED "a patch reuses a mainline fcntl number"; }
say "fcntl: no patch reuses a number mainline uses"
