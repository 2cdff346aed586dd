#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh - everything CI runs: the harness's own tests, the series checks
# of both trees (export round trip, selftests copy, checkpatch), the suite
# on base (must all skip), stock (must pass, XFAIL allowed), series, up and
# smp4 (must all pass), stock-7.3 and mainline (as their records in
# scripts/flavours/ say), and broken guests: a panic, a hang and three
# lockups (must fail cleanly, each with its own code). Keeps going after a failure
# so that one run shows everything, and exits with the first failure's code.
# make check-arm64 runs the arm64 flavours (CI runs it too).

. "$(dirname "$0")/lib.sh"

# From a fresh clone, the whole run's space is asked for at once, rather
# than found missing an hour in. A run with build/ in place writes much
# less, and each big step asks for its own share (need_space).
[ -d "$BUILD" ] || need_space "$BUILD" "$SPACE_CHECK" "make check from a fresh clone"

first_rc=0
steps=()
logs=$BUILD/check
mkdir -p "$logs"
# step NAME CMD... - run one step, its output also kept in
# build/check/NAME.log. The run ends with a line per step, and with the
# last lines of each failed step: where the tail of a CI log shows them.
step() {
	local name=$1 log rc
	shift
	log=$logs/${name// /-}.log
	set +e
	"$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	set -e
	[ "$rc" -eq 0 ] || [ "$first_rc" -ne 0 ] || first_rc=$rc
	if [ "$rc" -eq 0 ]; then
		steps+=("$(printf 'make check: %-30s ok' "$name")")
	else
		steps+=("$(printf 'make check: %-30s FAILED (exit %d), build/check/%s:' "$name" "$rc" "${log##*/}")")
		while IFS= read -r line; do steps+=("    $line"); done < <(grep -v '^$' "$log" | tail -n 4)
	fi
}

# unittest -v lists every test; the count and the verdict are enough here.
harness_selftests() {
	say "harness self-tests"
	make -s -C "$TOP" selftest-harness 2>&1 | tail -n 3
}
step "harness self-tests" harness_selftests
# Every tree (TREE, which lib.sh exports, would narrow it to one).
step "series checks" env -u TREE make -s -C "$TOP" check-series

# The suite's own build outside kselftest, 64- and 32-bit, and the
# benchmark's host build: what make host-test and make bench-host use.
step "suite build outside kselftest" "$TOP/scripts/host-test.sh" build

# PREBUILD: flavours whose kernels build at the lowest priority beside
# the rest of the run (scripts/prebuild-kernels.sh), now that the series
# checks have imported every tree. Their packages are checked here first,
# so that no two builds run apt-get at once. The run waits for them.
# Only kernels that no step here builds: two builds of one flavour at
# once would share its worktree and build directory. When the series
# checks failed, a tree may not be imported: no background build then
# (it would import one beside the foreground).
check_flavours=(base stock series up smp4 stock-7.3 mainline)
prebuilding=
read -ra prebuild <<< "${PREBUILD:-}"
for f in "${prebuild[@]}"; do
	k=$(flavour_kernel "$f")
	for c in "${check_flavours[@]}"; do
		[ "$k" != "$(flavour_kernel "$c")" ] ||
			die $EXIT_USAGE "PREBUILD: make check builds $f's kernel itself"
	done
done
if [ ${#prebuild[@]} -gt 0 ] && [ "$first_rc" -ne 0 ]; then
	say "an earlier step failed: not building ${prebuild[*]} beside"
elif [ ${#prebuild[@]} -gt 0 ]; then
	for f in "${prebuild[@]}"; do
		(load_arch "$(flavour_kernel "$f")" && need_build_packages) || exit
	done
	say "building the kernels of ${prebuild[*]} beside the checks (build/check/prebuild.log)"
	# However this run ends, no build of it outlives it: a make
	# check-debug after it would build in the same directory at once.
	background_start "$logs/prebuild.log" "$TOP/scripts/prebuild-kernels.sh" "${prebuild[@]}"
	prebuilding=1
fi

# Broken guests must fail cleanly: the base and series kernels first (up
# and smp4 boot the series kernel).
broken_guests() {
	make -s -C "$TOP" build KERNEL=base && make -s -C "$TOP" build KERNEL=series &&
		"$TOP/scripts/check-faults.sh"
}
step "broken guests" broken_guests

# make bench's guest, in small: one measurement under -icount, twice.
step "benchmark smoke" "$TOP/scripts/bench.sh" smoke

# The suite on each flavour; its closing lines and their total come last.
step "suite on every flavour" "$TOP/scripts/run-flavours.sh" "${check_flavours[@]}"

# The kernels built beside: their build's outcome, once it is over (the
# wait outside step, whose pipeline runs in a subshell).
if [ -n "$prebuilding" ]; then
	say "waiting for the kernels of ${prebuild[*]}"
	prebuild_rc=0
	background_wait || prebuild_rc=$?
	step "kernels built beside" sh -c 'cat "$1"; exit "$2"' - "$logs/prebuild.log" "$prebuild_rc"
fi

echo
printf '%s\n' "${steps[@]}"
exit $first_rc
