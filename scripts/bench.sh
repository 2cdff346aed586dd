#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh [host|smoke] - run tools/pipe-bench on the base, stock and
# series kernels of $TREE under QEMU -icount, where guest time follows the
# instructions executed so that runs repeat, or with "host" on the running
# kernel; then write build/bench/TREE/results.csv, report.md and chart.png
# (host: build/bench/host/). "smoke" is make check's guard: one
# measurement on the series kernel under -icount, twice, non-zero and
# equal to the digit.
#
#   BENCH_KERNELS="base stock series"   BENCH_CLOCKS="icount" (or "icount tcg")
#
# The kernels are roles, each played by the tree's flavour built from that
# source (tree_flavour): on 6.12 base, stock and series; on 7.3, which
# strips nothing, stock-7.3 plays base and stock (one guest, reported
# under both names) and mainline plays series.
#
# The plain TCG clock (host time) is opt-in: its figures follow the
# host's speed, and on a loaded host the guest cannot even calibrate its
# TSC against the PIT ("Unable to calibrate against PIT"), falls back to
# jiffies, and the run fails on the clock check.
#
# The benchmark guest has one CPU. With two, under -icount the kernel
# finds its TSCs unsynchronized, marks the TSC unstable and falls back to
# jiffies: every figure becomes a multiple of the tick, or zero. On one
# CPU the TSC stays, and the two-process patterns measure a wakeup and a
# context switch per message handed over. Before measuring, the guest
# checks its clock (tools/pipe-bench: clocksource and resolution) and a
# clock coarser than a microsecond fails the run (verdict.py).

. "$(dirname "$0")/lib.sh"

mode=${1:-guests}
need_packages gnuplot:gnuplot-nox python3:python3
case $mode in
host)	out=$BUILD/bench/host ;;
smoke)	out=$BUILD/bench-smoke ;;
*)	out=$BUILD/bench/$TREE ;;
esac
mkdir -p "$out"

# bench_guest KERNEL CLOCK RESULTS [APPEND] - one benchmark guest.
bench_guest() {
	local extra=
	# 1 ns of guest time per instruction; idle time skipped. The guest's
	# RTC on a fixed date and on guest time: the kernel seeds its random
	# numbers from it, and a different seed alone moved two-process
	# figures by up to 12%.
	[ "$2" = icount ] && extra="-icount shift=0,sleep=off,align=off -rtc base=2025-01-01T00:00:00,clock=vm"
	# loglevel=4: a driver's late "input: ..." line (7.3 probes the PS/2
	# mouse asynchronously) landed in the middle of a BENCH line. Splats
	# are warnings or worse and still reach the console.
	CPUS=1 QEMU_EXTRA=$extra RESULTS=$3 TIMEOUT=${TIMEOUT:-1200} APPEND="loglevel=4 ${4:-}" \
		"$TOP/scripts/run-qemu.sh" "$1" bench
}

logs=()	# kernel:clock:console log, for bench-report.py
case $mode in
host)
	gcc -static -O2 -Wall -o "$out/packet_bench" "$TOP/tools/pipe-bench/packet_bench.c"
	say "benchmark on the host kernel $(uname -r)"
	"$out/packet_bench" -r 5 > "$out/host.log" ||
		die $EXIT_TESTS_FAILED "packet_bench failed on the host (above)"
	logs+=("host:host:$out/host.log")
	;;
smoke)
	only=packet,pair,64
	"$TOP/scripts/build-kernel.sh" series
	"$TOP/scripts/make-initramfs.sh" series
	for run in 1 2; do
		bench_guest series icount "$out/run$run" "BENCH_ONLY=$only" >/dev/null
	done
	a=$(grep -h '^BENCH,' "$out/run1/console.log" | tr -d '\r')
	b=$(grep -h '^BENCH,' "$out/run2/console.log" | tr -d '\r')
	[ -n "$a" ] && [ "$a" = "$b" ] ||
		die $EXIT_TESTS_FAILED "bench smoke: two -icount runs differ: '$a' and '$b' (build/bench-smoke/run*/console.log)"
	echo "bench smoke (series): ${only//,/ } B: $(cut -d, -f5 <<<"$a") ns, the same in two -icount runs;" \
		"$(tail -n 1 "$out/run1/summary.txt" | sed 's/.*measurements, //')"
	exit 0
	;;
guests)
	declare -A measured=()	# flavour -> 1 once its guests ran
	: > "$out/kernels"
	for role in ${BENCH_KERNELS:-base stock series}; do
		flavour=$(tree_flavour "$TREE" "$role")
		echo "$role $flavour" >> "$out/kernels"
		if [ -z "${measured[$flavour]:-}" ]; then
			"$TOP/scripts/build-kernel.sh" "$flavour"
			"$TOP/scripts/make-initramfs.sh" "$flavour"
			for clock in ${BENCH_CLOCKS:-icount}; do
				bench_guest "$flavour" "$clock" "$out/$flavour-$clock"
			done
			measured[$flavour]=1
		fi
		for clock in ${BENCH_CLOCKS:-icount}; do
			logs+=("$role:$clock:$out/$flavour-$clock/console.log")
		done
	done
	;;
*)	die $EXIT_USAGE "usage: bench.sh [host|smoke]" ;;
esac

python3 "$TOP/scripts/bench-report.py" "$out" "${logs[@]}"
say "wrote $out/results.csv, $out/report.md and $out/chart.png"
