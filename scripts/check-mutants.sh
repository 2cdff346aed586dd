#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check-mutants.sh [NAME...] - prove that the suite catches wrong kernels.
# Each scripts/mutants/NAME.patch breaks the series kernel in one way and
# names, in "Expect-fail:" lines, tests that must then not pass. The series
# is applied to base, the mutant on top, and the result is built and run.
# About a minute per mutant once the series has been built once.

. "$(dirname "$0")/lib.sh"

src=$(flavour_src mutant)
"$TOP/scripts/import-tree.sh"

if [ $# -eq 0 ]; then
	set -- $(cd "$TOP/scripts/mutants" && ls *.patch | sed 's/\.patch$//')
fi

bad=0
for name in "$@"; do
	patch=$TOP/scripts/mutants/$name.patch
	[ -f "$patch" ] || die $EXIT_USAGE "no mutant $patch"
	checkout_worktree "$src" base
	"$TOP/scripts/apply-series.sh" "$src"
	git -C "$src" apply "$patch" || die $EXIT_PATCH "mutant $name no longer applies to the series"
	git -C "$src" commit -q -a -m "mutant: $name"

	say "mutant $name: $(head -n 1 "$patch")"
	"$TOP/scripts/build-kernel.sh" mutant
	"$TOP/scripts/make-initramfs.sh" mutant
	set +e
	TIMEOUT=${TIMEOUT:-300} "$TOP/scripts/run-qemu.sh" mutant all >/dev/null 2>&1
	rc=$?
	set -e
	log=$BUILD/mutant/results/console.log
	cp "$log" "$BUILD/mutant/results/console-$name.log"
	# Tests that did not pass: "not ok" or XFAIL.
	caught=$(tr -d '\r' < "$log" | grep -E '^# (not ok [0-9]+ |ok [0-9]+ .*# XFAIL)' |
		 sed -E 's/^# (not )?ok [0-9]+ ([^ ]+).*/\2/' | sort -u)
	echo "mutant $name: exit $rc; $(echo "$caught" | grep -c .) tests did not pass:"
	echo "$caught" | sed 's/^/    /'
	while read -r want; do
		if ! grep -qxF "$want" <<< "$caught"; then
			echo "    MISSED: $want passed on mutant $name"
			bad=1
		fi
	done < <(sed -n 's/^Expect-fail: //p' "$patch")
	# A broken kernel may also hang or lock up a later test: still
	# caught, if the named tests failed first.
	case $rc in
	"$EXIT_TESTS_FAILED"|"$EXIT_TIMEOUT"|"$EXIT_LOCKUP") ;;
	*) echo "    mutant $name: expected exit $EXIT_TESTS_FAILED, $EXIT_TIMEOUT or $EXIT_LOCKUP, got $rc"; bad=1 ;;
	esac
done
[ $bad -eq 0 ] || die $EXIT_TESTS_FAILED "the suite missed a mutant (above)"
say "every mutant was caught"
