#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh [host] - run tools/pipe-bench on base, stock and series under
# two clocks (plain TCG, and QEMU -icount, where guest time follows the
# instructions executed so that runs repeat), or with "host" on the running
# kernel; then write build/bench/results.csv, report.md and chart.png.
#
#   BENCH_KERNELS="base stock series"   BENCH_CLOCKS="icount tcg"

. "$(dirname "$0")/lib.sh"

need_packages gnuplot:gnuplot-nox python3:python3
out=$BUILD/bench
mkdir -p "$out"

logs=()	# kernel:clock:console log, for bench-report.py
if [ "${1:-}" = host ]; then
	gcc -static -O2 -Wall -o "$out/packet_bench" "$TOP/tools/pipe-bench/packet_bench.c"
	say "benchmark on the host kernel $(uname -r)"
	"$out/packet_bench" -r 5 > "$out/host.log"
	logs+=("host:host:$out/host.log")
else
	for kernel in ${BENCH_KERNELS:-base stock series}; do
		"$TOP/scripts/build-kernel.sh" "$kernel"
		"$TOP/scripts/make-initramfs.sh" "$kernel"
		for clock in ${BENCH_CLOCKS:-icount tcg}; do
			extra=
			# 1 ns of guest time per instruction; idle time skipped.
			# The guest's RTC on a fixed date and on guest time: the
			# kernel seeds its random numbers from it, and a different
			# seed alone moved two-process figures by up to 12%.
			[ "$clock" = icount ] && extra="-icount shift=0,sleep=off,align=off -rtc base=2025-01-01T00:00:00,clock=vm"
			QEMU_EXTRA=$extra RESULTS=$out/$kernel-$clock TIMEOUT=${TIMEOUT:-1200} \
				"$TOP/scripts/run-qemu.sh" "$kernel" bench
			logs+=("$kernel:$clock:$out/$kernel-$clock/console.log")
		done
	done
fi

python3 "$TOP/scripts/bench-report.py" "$out" "${logs[@]}"
say "wrote $out/results.csv, $out/report.md and $out/chart.png"
