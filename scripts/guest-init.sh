#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the test guest: mount the basics, run the installed kselftests,
# and end QEMU through debug-exit (isa-debug-exit on x86-64, semihosting
# on arm64: scripts/debug-exit.c). The exit value stays 1 (failure)
# unless the runner got to its end; the host reads the verdict from the TAP.
# Kernel command line: harness=shell gives an interactive shell instead,
# harness=bench runs the benchmark (tools/pipe-bench) instead of the tests.
# Other NAME=value parameters reach this script as environment variables.

result=1
/bin/busybox --install -s
export PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
# kselftest's runner logs to /dev/stdout, which devtmpfs does not provide.
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
ln -sf /proc/self/fd /dev/fd
# An RCU stall panics too (lockup.config panics on the other lockups),
# and a hung task is reported within 10 s of its timeout, not up to a
# whole timeout later. Kernels without the knobs skip them.
k=/proc/sys/kernel
[ -e $k/panic_on_rcu_stall ] && echo 1 > $k/panic_on_rcu_stall
[ -e $k/hung_task_check_interval_secs ] && echo 10 > $k/hung_task_check_interval_secs

if grep -qw harness=shell /proc/cmdline; then
	echo "harness: interactive shell; 'exit' ends the guest"
	setsid cttyhack sh -l
	debug-exit 0
fi

if grep -qw harness=bench /proc/cmdline; then
	echo "harness: benchmark on kernel $(uname -r)"
	# BENCH_ONLY=transport,pattern,size: one measurement (make check's
	# benchmark smoke test).
	packet_bench -q -r 5 ${BENCH_ONLY:+-o "$BENCH_ONLY"} &&
		echo "harness: end of bench" && result=0
	debug-exit $result
fi

echo "harness: guest up, kernel $(uname -r)"
# KSFT_TIMEOUT (from the kernel command line) overrides each program's
# timeout: run_kselftest.sh ignores the environment for that.
if cd /kselftest && ./run_kselftest.sh ${KSFT_TIMEOUT:+-o "$KSFT_TIMEOUT"}; then
	result=0
fi
echo "harness: end of tests"
debug-exit $result
