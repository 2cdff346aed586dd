#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make-initramfs.sh FLAVOUR - build build/FLAVOUR/initramfs.cpio: static
# busybox, the pipe kselftests installed by kselftest's own "install"
# target (built static against FLAVOUR's headers, for its architecture),
# the guest init and the helper that ends QEMU with a status. Run after
# build-kernel.sh FLAVOUR.

. "$(dirname "$0")/lib.sh"

flavour=$(flavour_kernel "${1:?usage: make-initramfs.sh FLAVOUR}")
load_arch "$flavour"
need_packages rsync:rsync "${ARCH_PACKAGES[@]}"
busybox=$(guest_busybox)
cc=${CROSS_COMPILE}gcc
# The suite's Makefile leaves its 32-bit programs (*_32) out, quietly,
# where gcc cannot build them: here they must be built and run.
# gcc-12-multilib, not gcc-multilib: on Debian 12 that one conflicts with
# every cross compiler, and would remove gcc-aarch64-linux-gnu (and the
# other way round). The suite finds <asm/*.h> in the kernel's headers.
if [ -n "$HAS_M32" ]; then
	need_packages /usr/lib32/libc.a:gcc-12-multilib
	echo 'int main(void) { return 0; }' | $cc -m32 -static -x c - -o /dev/null ||
		die $EXIT_USAGE "$cc -m32 -static fails: the suite's 32-bit programs would be left out (apt-get install gcc-12-multilib)"
fi

src=$(flavour_src "$flavour")
out=$BUILD/$flavour
obj=$out/obj
suite=tools/testing/selftests/pipe
[ -x "$obj/usr/gen_init_cpio" ] || die $EXIT_USAGE "$flavour is not built; run scripts/build-kernel.sh $flavour"

# The series carries the suite; other trees get the top-level copy (the
# Debian tree ignores untracked files, so this leaves git status clean).
# Where upstream has the directory (7.3: its Makefile and pipe_bench.c),
# the stock tree runs our suite in its place: our Makefile replaces
# upstream's until the next checkout.
if ! tree_carries_suite "$src"; then
	rm -rf "${src:?}/$suite"
	cp -r "$TOP/$suite" "$src/$suite"
fi

# Nothing to do when the kernel, the suite and the guest's files are those
# of the last image (up and smp4 boot the series' image right after it).
key=$({ cat "$out/build.key"; find "$src/$suite" -type f | sort | xargs cat
	cat "$0" "$busybox" "$TOP"/scripts/{guest-init.sh,timeout-wrapper.sh,debug-exit.c} \
		"$TOP/tools/pipe-bench/packet_bench.c"; } | sha256sum | cut -c1-16)
if [ -f "$out/initramfs.cpio" ] && [ "$(cat "$out/initramfs.key" 2>/dev/null)" = "$key" ]; then
	say "$flavour: initramfs up to date"
	exit 0
fi
rm -f "$out/initramfs.key"

say "$flavour: building the pipe selftests (static)"
install=$out/kselftest
rm -rf "$install"
log=$out/selftests.log
# A build directory of its own: objects from a non-static build (say
# "make kselftest-install" in the same tree) must not end up in the guest.
if ! make -C "$src/tools/testing/selftests" TARGETS=pipe BUILD="$out/kselftest-static" \
	ARCH="$KARCH" CROSS_COMPILE="$CROSS_COMPILE" \
	KHDR_INCLUDES="-isystem $obj/usr/include" USERLDFLAGS=-static \
	INSTALL_PATH="$install" install >"$log" 2>&1; then
	tail -n 20 "$log" >&2
	die $EXIT_BUILD "$flavour: building the pipe selftests failed (log: $log)"
fi

# Where -m32 works the Makefile must have built its 32-bit programs (the
# 6.12 series' first selftests patch has none yet).
if [ -n "$HAS_M32" ] && grep -q '_32\b' "$src/tools/testing/selftests/pipe/Makefile" &&
	! grep -q '_32$' "$install/kselftest-list.txt"; then
	die $EXIT_BUILD "$flavour: the suite's 32-bit programs (*_32) were not built (log: $log)"
fi

$cc -static -Os -o "$out/debug-exit" "$TOP/scripts/debug-exit.c" ||
	die $EXIT_BUILD "cannot build scripts/debug-exit.c statically"
$cc -static -O2 -Wall -o "$out/packet_bench" "$TOP/tools/pipe-bench/packet_bench.c" ||
	die $EXIT_BUILD "cannot build tools/pipe-bench/packet_bench.c statically"

list=$out/initramfs.list
{
	cat <<-EOL
	dir /dev 755 0 0
	nod /dev/console 600 0 0 c 5 1
	dir /bin 755 0 0
	dir /sbin 755 0 0
	dir /usr 755 0 0
	dir /usr/bin 755 0 0
	dir /usr/sbin 755 0 0
	dir /usr/local 755 0 0
	dir /usr/local/bin 755 0 0
	dir /proc 755 0 0
	dir /sys 755 0 0
	dir /tmp 1777 0 0
	file /bin/busybox $busybox 755 0 0
	slink /bin/sh busybox 777 0 0
	file /init $TOP/scripts/guest-init.sh 755 0 0
	file /usr/bin/timeout $TOP/scripts/timeout-wrapper.sh 755 0 0
	file /usr/local/bin/debug-exit $out/debug-exit 755 0 0
	file /usr/local/bin/packet_bench $out/packet_bench 755 0 0
	dir /kselftest 755 0 0
	EOL
	# Everything kselftest installed, at the same place under /kselftest.
	(cd "$install" && find . -mindepth 1 | sort) | while read -r p; do
		p=${p#./}
		if [ -d "$install/$p" ]; then
			echo "dir /kselftest/$p 755 0 0"
		else
			echo "file /kselftest/$p $install/$p $(stat -c %a "$install/$p") 0 0"
		fi
	done
} > "$list"
# A fixed timestamp makes the archive the same bytes each time: a guest
# that boots from the same bytes runs the same instructions, which the
# benchmark's -icount figures for two processes depend on.
"$obj/usr/gen_init_cpio" -t 1735689600 "$list" > "$out/initramfs.cpio" ||
	die $EXIT_BUILD "gen_init_cpio failed on $list"
echo "$key" > "$out/initramfs.key"
say "$flavour: initramfs $(du -k "$out/initramfs.cpio" | cut -f1) KiB"
