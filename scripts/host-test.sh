#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# host-test.sh [build] - the suite outside the harness, as a kernel
# developer makes it: tools/testing/selftests/pipe's own Makefile, against
# the series' uapi headers (install-headers.sh), every program written to
# build/host-test. Without an argument it then runs the suite on the
# running (host) kernel (run_tests); with "build" it only checks that the
# 64-bit programs and, where gcc -m32 works, the 32-bit ones were built
# and that tools/pipe-bench builds and measures on the host (make check
# does that, so neither can rot unseen).

. "$(dirname "$0")/lib.sh"

mode=${1:-run}
include=$("$TOP/scripts/install-headers.sh")
out=$BUILD/host-test
suite=$TOP/tools/testing/selftests/pipe
rm -rf "$out"
mkdir -p "$out"
ksft() {
	make -s -C "$suite" OUTPUT="$out" KHDR_INCLUDES="-isystem $include" "$@"
}
# ksft_value EXPR - what EXPR expands to in the suite's Makefile (after lib.mk).
ksft_value() {
	make -s -C "$suite" OUTPUT="$out" -f - print <<<"include Makefile
print: ; @echo $1"
}

# Can the running kernel execute i386 programs (IA32 emulation)?
runs_i386() {
	local probe=$out/.i386-probe
	echo 'int main(void) { return 0; }' |
		gcc -m32 -static -x c - -o "$probe" 2>/dev/null && "$probe" 2>/dev/null
}

if [ "$mode" = run ]; then
	say "the suite on the host kernel $(uname -r) (programs in $out)"
	log=$out/run.log
	if [ "$(uname -m)" = x86_64 ] && ! runs_i386; then
		echo "host-test: this kernel runs no i386 programs (no IA32 emulation): the _32 programs are left out"
		progs=$(ksft_value '$(TEST_GEN_PROGS)' | tr ' ' '\n' | grep -v '_32$' | tr '\n' ' ')
		ksft run_tests TEST_GEN_PROGS="$progs" 2>&1 | tee "$log"
	else
		ksft run_tests 2>&1 | tee "$log"
	fi
	# run_tests exits 0 whatever the tests said: fail on a failed program.
	if grep -q '^not ok' "$log"; then
		die 1 "the suite failed on the host kernel: $(grep -c '^not ok' "$log") program(s), see $log"
	fi
	exit 0
fi
[ "$mode" = build ] || die $EXIT_USAGE "usage: host-test.sh [build]"

# make check wants both: on x86-64 the i386 programs must build here too.
[ "$(uname -m)" != x86_64 ] || need_packages /usr/lib32/libc.a:gcc-12-multilib
log=$out/build.log
ksft all >"$log" 2>&1 || { tail -n 20 "$log"; die $EXIT_BUILD "the suite does not build outside kselftest (build/host-test/build.log)"; }
m32=
[ "$(uname -m)" != x86_64 ] || m32=y
echo 'int main(void) { return 0; }' | gcc -m32 -x c - -o /dev/null 2>/dev/null && m32=y
progs=$(ksft_value '$(TEST_GEN_PROGS)')
[ -n "$progs" ] || die $EXIT_BUILD "the suite's Makefile lists no programs"
bad=0 built=()
# run_tests sources kselftest's runner through the same links as lib.mk.
runner=$(ksft_value '$(selfdir)/kselftest/runner.sh')
[ -f "$runner" ] || { echo "host build: run_tests would need $runner, which is missing"; bad=1; }
for prog in $progs; do
	case $prog in
	*_32) want='ELF 32-bit.*Intel 80386' ;;
	*)    want='ELF 64-bit' ;;
	esac
	if file "$prog" 2>/dev/null | grep -q "$want"; then
		built+=("$(basename "$prog")")
	else
		echo "host build: $prog is missing or not $want"
		bad=1
	fi
done
[ -n "$m32" ] && ! grep -q '_32' <<<"$progs" && { echo "host build: no _32 program, though 32-bit ones are expected here (gcc -m32)"; bad=1; }
# The benchmark as make bench-host builds it, and one measurement.
gcc -static -O2 -Wall -Werror -o "$out/packet_bench" "$TOP/tools/pipe-bench/packet_bench.c" ||
	{ echo "host build: tools/pipe-bench does not build"; bad=1; }
[ $bad -ne 0 ] || "$out/packet_bench" -r 1 -o pipe,pair,64 >"$out/bench.log" ||
	{ echo "host build: packet_bench failed on the host: $(cat "$out/bench.log")"; bad=1; }
stray=$(git -C "$TOP" status --porcelain --ignored -- tools | grep -E '^(\?\?|!!)' || true)
[ -z "$stray" ] || { echo "host build: wrote into the clone: $stray"; bad=1; }
[ $bad -eq 0 ] || die $EXIT_BUILD "the suite's build outside kselftest is broken (above)"
what="32-bit ones included"
[ -n "$m32" ] || what="no 32-bit ones (not x86-64, no gcc -m32)"
echo "host build: ${#built[@]} programs in build/host-test, $what: ${built[*]}; packet_bench measures"
