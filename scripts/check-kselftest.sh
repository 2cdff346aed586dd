#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check-kselftest.sh - what a kernel developer types after git am: "make
# kselftest TARGETS=pipe" in the tree of $TREE with its series applied
# (the series flavour's source), out of tree in build/kselftest-TREE. It
# builds the uapi headers and the pipe selftests and runs them on the
# running (host) kernel. Passes when every program the directory's
# Makefile lists ran and none failed (on 7.3 mainline's pipe_bench and
# ours); i386 programs are built, and run where the host can.

. "$(dirname "$0")/lib.sh"

need_packages gcc:gcc make:make flex:flex bison:bison bc:bc rsync:rsync
flavour=$(tree_flavour "$TREE" series)
"$TOP/scripts/prepare-source.sh" "$flavour" >/dev/null
src=$(flavour_src "$flavour")
obj=$BUILD/kselftest-$TREE
log=$obj/kselftest.log
mkdir -p "$obj"

kmake() {
	make -s -C "$src" O="$obj" -j"$(nproc)" "$@"
}
# kselftest needs a configured tree; any configuration will do.
[ -f "$obj/.config" ] || kmake tinyconfig >/dev/null
say "$TREE: make kselftest TARGETS=pipe in $(rel "$src") (series applied), on the host kernel $(uname -r)"
set +e
kmake kselftest TARGETS=pipe 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
[ "$rc" -eq 0 ] || die $EXIT_TESTS_FAILED "make kselftest TARGETS=pipe failed (exit $rc; $(rel "$log"))"

# Every program of the directory's Makefile must have run.
progs=$(make -s -C "$src/tools/testing/selftests/pipe" OUTPUT="$obj/kselftest/pipe" \
	-f - print <<<'include Makefile
print: ; @echo $(notdir $(TEST_GEN_PROGS) $(TEST_PROGS))')
# A program the host cannot execute (an i386 one on a kernel without
# IA32 emulation) is run by the runner's shell as a script, which exits
# with 2, and kselftest reports that as "ok ... # XFAIL": it did not run.
i386=y
echo 'int main(void) { return 0; }' | gcc -m32 -static -x c - -o "$obj/i386-probe" 2>/dev/null &&
	"$obj/i386-probe" 2>/dev/null || i386=
bad=0 ran=0
for prog in $progs; do
	if [ -z "$i386" ] && [[ $prog == *_32 ]]; then
		echo "check-kselftest: $prog built, not run: the host kernel runs no i386 programs (no IA32 emulation)"
		continue
	fi
	ran=$((ran + 1))
	if ! grep -Eq "^ok [0-9]+ selftests: pipe: $prog( # SKIP.*)?$" "$log"; then
		echo "check-kselftest: $prog did not pass: $(grep -E "selftests: pipe: $prog( |$)" "$log" || echo 'not run')"
		bad=1
	fi
done
[ "$bad" -eq 0 ] || die $EXIT_TESTS_FAILED "make kselftest TARGETS=pipe on $TREE: not every program passed ($(rel "$log"))"
echo "check-kselftest ($TREE): make kselftest TARGETS=pipe: $ran of $(wc -w <<<"$progs") programs ran, all ok: $(echo $progs)"
