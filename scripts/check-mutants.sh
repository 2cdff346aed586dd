#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check-mutants.sh [NAME...] - prove that the suite catches wrong kernels.
# Each scripts/mutants/NAME.patch breaks the series kernel in one way: a
# few lines saying how, then header lines, then the diff. The series is
# applied to base, the mutant on top, and the result is built and run.
# About two minutes per mutant once the series has been built once.
#
#   Expect-fail: TEST   (one or more) a test that must not pass
#   Expect-exit: N...   (optional) the exit codes the run may end with
#                       (scripts/lib.sh); 1, tests failed, by default
#   Append: WORDS       (optional) kernel command line words the guest of
#                       this mutant boots with (a race that needs
#                       preempt=full, say), after APPEND
#   Cpus: N             (optional) the CPUs of this mutant's guest, if not
#                       the mutant flavour's (a race that shows on 4)
#
# A mutant is caught when both hold:
# - the run ends with one of its Expect-exit codes, which may be 1 (tests
#   failed), 5 (panic or no result), 6 (timeout), 7 (splat) or 8 (lockup),
#   never 0 nor a harness error (2, 3, 4). A kernel that corrupts memory
#   may splat or oops rather than fail a test: such a mutant declares it;
# - no Expect-fail test passed: each printed "not ok" or XFAIL, or started
#   ("RUN") and never reported (its program crashed or hung). A test that
#   never started counts only when the run ended early (5, 6, 8: the
#   guest died or hung before it); otherwise its name is wrong.

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
	exits=$(sed -n 's/^Expect-exit: //p' "$patch")
	append=$(sed -n 's/^Append: //p' "$patch" | paste -sd ' ')
	cpus=$(sed -n 's/^Cpus: //p' "$patch")
	case $cpus in
	''|[1-9]|[1-9][0-9]) ;;
	*) die $EXIT_USAGE "mutant $name: Cpus: $cpus is not a number of CPUs" ;;
	esac
	for e in ${exits:-1}; do
		case $e in
		1|5|6|7|8) ;;
		*) die $EXIT_USAGE "mutant $name: Expect-exit $e; only 1, 5, 6, 7 and 8 show a broken kernel" ;;
		esac
	done
	grep -q '^Expect-fail: ' "$patch" || die $EXIT_USAGE "mutant $name names no Expect-fail test"
	checkout_worktree "$src" base
	"$TOP/scripts/apply-series.sh" "$src"
	git -C "$src" apply "$patch" || die $EXIT_PATCH "mutant $name no longer applies to the series"
	git -C "$src" commit -q -a -m "mutant: $name"

	say "mutant $name: $(sed -n '/^\(Expect-\|Append:\|Cpus:\)/q;p' "$patch" | paste -sd ' ')"
	"$TOP/scripts/build-kernel.sh" mutant
	"$TOP/scripts/make-initramfs.sh" mutant
	set +e
	APPEND="${APPEND:-} $append" TIMEOUT=${TIMEOUT:-300} CPUS=${cpus:-${CPUS:-}} \
		"$TOP/scripts/run-qemu.sh" mutant all >/dev/null 2>&1
	rc=$?
	set -e
	log=$BUILD/mutant/results/console-$name.log
	tr -d '\r' < "$BUILD/mutant/results/console.log" > "$log"
	# Tests that did not pass: "not ok" or XFAIL (none: no failure here).
	caught=$(sed -nE 's/^# (not ok [0-9]+ ([^ ]+).*|ok [0-9]+ ([^ ]+) .*# XFAIL.*)$/\2\3/p' "$log" |
		 sort -u)
	passed=$(awk '$1 == "#" && $2 == "ok" { print $4 }' "$log")
	started=$(awk '$1 == "#" && $2 == "#" && $3 == "RUN" { print $4 }' "$log")
	echo "mutant $name: exit $rc; $(echo "$caught" | grep -c .) tests did not pass:"
	echo "$caught" | sed 's/^/    /'
	case " ${exits:-1} " in
	*" $rc "*) ;;
	*) echo "    mutant $name: expected exit ${exits:-1}, got $rc"; bad=1 ;;
	esac
	while read -r want; do
		if grep -qxF "$want" <<< "$caught"; then
			continue
		elif grep -qxF "$want" <<< "$passed"; then
			echo "    MISSED: $want passed (or skipped) on mutant $name"
		elif grep -qxF "$want" <<< "$started"; then
			echo "    $want started and never reported: caught"
			continue
		elif [ "$rc" = 5 ] || [ "$rc" = 6 ] || [ "$rc" = 8 ]; then
			echo "    $want never started: the run ended first"
			continue
		else
			echo "    MISSED: $want never ran on mutant $name (its name?)"
		fi
		bad=1
	done < <(sed -n 's/^Expect-fail: //p' "$patch")
done
[ $bad -eq 0 ] || die $EXIT_TESTS_FAILED "the suite missed a mutant (above)"
say "every mutant was caught"
