# SPDX-License-Identifier: GPL-2.0
# x86-64 guests: what lib.sh's load_arch sets for the x86-64 flavours.
# Sourced, not run.

KARCH=x86_64
SRCARCH=x86
CROSS_COMPILE=
# The image build-kernel.sh makes, under the object directory.
KIMAGE_TARGET=bzImage
KIMAGE=arch/x86/boot/bzImage
CONSOLE=ttyS0
QEMU=qemu-system-x86_64
ARCH_PACKAGES=(qemu-system-x86_64:qemu-system-x86)
# The suite's Makefile builds its *_32 programs (i386 code: the autofs
# daemon's 300-byte packets, the compat fcntl64 path) where -m32 works.
HAS_M32=y

# qemu_machine CPUS - QEMU's machine options. One CPU per socket: without
# ACPI the kernel finds CPUs in SeaBIOS's MP table, which lists only the
# first CPU of each socket, and -smp N alone makes one socket of N cores.
# guest-init.sh ends the run through isa-debug-exit (scripts/debug-exit.c).
qemu_machine() {
	printf '%s\n' -smp "$1,sockets=$1" -device isa-debug-exit,iobase=0xf4,iosize=0x04
}

# guest_busybox - print the path of a static x86-64 busybox: the pinned
# busybox-static (scripts/packages.lock), unpacked under build/.
guest_busybox() {
	local bb
	bb=$(pinned_package busybox-static:amd64)/bin/busybox
	file -L "$bb" | grep -q 'x86-64.*statically linked' ||
		die $EXIT_USAGE "$bb is not a static x86-64 program; remove it and retry"
	echo "$bb"
}
