#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# list-flavours.sh [--markdown] - the flavours, from their records in
# scripts/flavours/ (lib.sh): name, what the suite must show, and what
# the flavour is. --markdown prints a table for the README.

. "$(dirname "$0")/lib.sh"

if [ "${1:-}" = --markdown ]; then
	echo "| flavour | source | kernel | arch | CPUs | boot | must show | what it is |"
	echo "|---|---|---|---|---|---|---|---|"
fi
for f in $(flavour_names); do
	if [ "${1:-}" = --markdown ]; then
		printf '| `%s` | %s | %s | %s | %s | %s | %s | %s |\n' "$f" \
			"$(flavour_field "$f" source "(boots $(flavour_kernel "$f"))")" \
			"$(flavour_kernel "$f")" "$(flavour_arch "$f")" "$(flavour_cpus "$f")" \
			"$(flavour_append "$f")" "$(flavour_expect "$f")" "$(flavour_field "$f" about)"
	else
		printf '  %-10s %-5s %s\n' "$f" "$(flavour_expect "$f")" "$(flavour_field "$f" about)"
	fi
done
