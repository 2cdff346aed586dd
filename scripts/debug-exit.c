// SPDX-License-Identifier: GPL-2.0
/*
 * debug-exit VALUE - end the QEMU guest with an exit status the host can
 * tell from a panic or a reboot (QEMU exits 0 then, with -no-reboot):
 * QEMU exits with (VALUE << 1) | 1, so a finished run gives 1 or 3.
 *
 * x86-64: the isa-debug-exit device (iobase 0xf4), which computes the
 * status itself. arm64: semihosting's SYS_EXIT, with the status computed
 * here; QEMU needs -semihosting-config enable=on,userspace=on.
 */
#include <stdio.h>
#include <stdlib.h>
#ifdef __x86_64__
#include <sys/io.h>
#endif

static void guest_exit(unsigned long value)
{
#if defined(__x86_64__)
	if (ioperm(0xf4, 4, 1)) {
		perror("debug-exit: ioperm");
		return;
	}
	outl(value, 0xf4);
#elif defined(__aarch64__)
	/* SYS_EXIT's parameter block: ADP_Stopped_ApplicationExit, status. */
	unsigned long block[2] = { 0x20026, (value << 1) | 1 };
	register unsigned long op asm("x0") = 0x18;	/* SYS_EXIT */
	register unsigned long arg asm("x1") = (unsigned long)block;

	asm volatile("hlt #0xf000" : "+r" (op) : "r" (arg) : "memory");
#else
#error "debug-exit: no way to end QEMU known on this architecture"
#endif
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: debug-exit VALUE\n");
		return 2;
	}
	guest_exit(strtoul(argv[1], NULL, 0));
	/* Not reached when QEMU provides the way out. */
	fprintf(stderr, "debug-exit: the guest did not end (no exit device?)\n");
	return 1;
}
