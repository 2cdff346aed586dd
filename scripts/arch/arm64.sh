# SPDX-License-Identifier: GPL-2.0
# arm64 guests: what lib.sh's load_arch sets for the arm64 flavours. The
# kernel, the suite and the guest's helpers are cross-built; busybox is
# Debian's arm64 package, unpacked. Sourced, not run.

KARCH=arm64
SRCARCH=arm64
CROSS_COMPILE=aarch64-linux-gnu-
KIMAGE_TARGET=Image
KIMAGE=arch/arm64/boot/Image
CONSOLE=ttyAMA0
QEMU=qemu-system-aarch64
ARCH_PACKAGES=(aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu
	       qemu-system-aarch64:qemu-system-arm
	       /usr/aarch64-linux-gnu/lib/libc.a:libc6-dev-arm64-cross)
# No 32-bit (AArch32) programs: that would take an arm-linux-gnueabihf
# toolchain and CONFIG_COMPAT; the i386 ones run on x86-64.
HAS_M32=

# qemu_machine CPUS - QEMU's machine options. pauth-impdef: TCG emulates
# the architected pointer authentication cipher (QARMA) slowly; the
# implementation-defined one is as good for a test guest and much faster.
# guest-init.sh ends the run through semihosting's SYS_EXIT, which QEMU
# takes from user space only with userspace=on (scripts/debug-exit.c).
qemu_machine() {
	printf '%s\n' -M virt -cpu max,pauth-impdef=on -smp "$1" \
		-semihosting-config enable=on,target=native,userspace=on
}

# guest_busybox - print the path of a static arm64 busybox: the pinned
# busybox-static:arm64 (scripts/packages.lock), unpacked under build/. The
# private apt configuration reads arm64 lists itself: dpkg's architectures
# stay as they are.
guest_busybox() {
	local bb
	bb=$(pinned_package busybox-static:arm64)/bin/busybox
	file -L "$bb" | grep -q 'ARM aarch64.*statically linked' ||
		die $EXIT_USAGE "$bb is not a static arm64 program; remove it and retry"
	echo "$bb"
}
