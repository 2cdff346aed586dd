#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# run-qemu.sh FLAVOUR [EXPECT] - boot FLAVOUR's kernel with its initramfs
# on the flavour's architecture, CPUs and command line (lib.sh,
# scripts/arch/), run the pipe selftests, and judge the console
# (verdict.py).
# Saves console.log and qemu.cmd under build/FLAVOUR/results/.
#
#   ACCEL=tcg|kvm   QEMU accelerator (default tcg: kvm hangs on our machines)
#   TIMEOUT=secs    whole-run limit (default 600)
#   SHELL_MODE=1    interactive guest shell instead of the tests
#   APPEND="..."    extra kernel command line
#   QEMU_EXTRA="..." extra QEMU options (the benchmark's -icount)
#   CPUS=n          CPUs other than the flavour's (the benchmark's one)
# With EXPECT "bench" the guest runs tools/pipe-bench instead of the suite.

. "$(dirname "$0")/lib.sh"

flavour=${1:?usage: run-qemu.sh FLAVOUR [skip|pass|all|any|smoke|bench]}
expect=${2:-$(flavour_expect "$flavour")}
out=$BUILD/$(flavour_kernel "$flavour")
results=${RESULTS:-$BUILD/$flavour/results}
load_arch "$flavour"
need_packages python3:python3 "${ARCH_PACKAGES[@]}"
for f in kernel initramfs.cpio; do
	[ -f "$out/$f" ] || die $EXIT_USAGE "$out/$f is missing; run 'make build KERNEL=$flavour'"
done
mkdir -p "$results"

append="console=$CONSOLE panic=-1 $(flavour_append "$flavour") ${APPEND:-}"
what=suite
if [ "$expect" = bench ]; then
	append="$append harness=bench"
	what=benchmark
fi
cpus=${CPUS:-$(flavour_cpus "$flavour")}
mapfile -t machine < <(qemu_machine "$cpus")
# shellcheck disable=SC2206 # QEMU_EXTRA is a list of options
cmd=("$QEMU" -accel "${ACCEL:-tcg}" -m 512 "${machine[@]}" -nographic -no-reboot
     -kernel "$out/kernel" -initrd "$out/initramfs.cpio" ${QEMU_EXTRA:-})

if [ -n "${SHELL_MODE:-}" ]; then
	"${cmd[@]}" -append "$append harness=shell" || true
	exit 0
fi

printf '%q ' "${cmd[@]}" -append "$append" > "$results/qemu.cmd"
echo >> "$results/qemu.cmd"
say "$flavour: booting under ${ACCEL:-tcg}${QEMU_EXTRA:+ $QEMU_EXTRA}, running the $what (timeout ${TIMEOUT:-600}s)"
start=$(date +%s)
set +e
timeout "${TIMEOUT:-600}" "${cmd[@]}" -append "$append" </dev/null >"$results/console.log" 2>&1
qemu_rc=$?
set -e
say "$flavour: guest ran $(( $(date +%s) - start ))s (qemu exit $qemu_rc)"

# Every program the suite's Makefile built must report (kselftest's
# install lists them).
set +e
python3 "$TOP/scripts/verdict.py" --flavour "$flavour" --expect "$expect" \
	--qemu-rc "$qemu_rc" --cpus "$cpus" --programs "$out/kselftest/kselftest-list.txt" \
	"$results/console.log" | tee "$results/summary.txt"
rc=${PIPESTATUS[0]}
set -e
[ "$rc" -eq 0 ] || say "$flavour: see $results/console.log"
exit "$rc"
