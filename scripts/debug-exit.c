// SPDX-License-Identifier: GPL-2.0
/*
 * debug-exit VALUE - end the QEMU guest through the isa-debug-exit device
 * (iobase 0xf4). QEMU then exits with (VALUE << 1) | 1, so the host can tell
 * a finished run (1 or 3) from a panic or a reboot (0).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/io.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: debug-exit VALUE\n");
		return 2;
	}
	if (ioperm(0xf4, 4, 1)) {
		perror("debug-exit: ioperm");
		return 1;
	}
	outl(strtoul(argv[1], NULL, 0), 0xf4);
	/* Not reached when the device is present. */
	fprintf(stderr, "debug-exit: no isa-debug-exit device\n");
	return 1;
}
