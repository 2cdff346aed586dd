/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the packet pipe tests.
 *
 * A packet pipe is made with pipe2(fds, O_DIRECT): every write() becomes
 * one packet, and every read() returns at most one packet. Kernels without
 * the mode fail pipe2() with EINVAL; every test then skips.
 */
#ifndef __PIPE_PACKET_UTIL_H
#define __PIPE_PACKET_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "../kselftest_harness.h"

#define NO_PACKET_MODE "no packet mode in this kernel: pipe2(O_DIRECT) fails with EINVAL"

/* Large enough for any packet the tests write. */
#define BIG_READ	(128 * 1024)

static inline bool packet_mode_supported(void)
{
	int fds[2];

	if (pipe2(fds, O_DIRECT))
		return errno != EINVAL;
	close(fds[0]);
	close(fds[1]);
	return true;
}

/*
 * Report a known difference of the running kernel (upstream's packet mode)
 * as an expected failure: visible in the TAP, not counted as a failure.
 */
#define XFAIL(statement, fmt, ...) do {					\
	snprintf(_metadata->results->reason,				\
		 sizeof(_metadata->results->reason), fmt, ##__VA_ARGS__); \
	TH_LOG("XFAIL: %s", _metadata->results->reason);		\
	_metadata->exit_code = KSFT_XFAIL;				\
	statement;							\
} while (0)

static inline size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

/* A byte pattern that differs between packets and between offsets. */
static inline unsigned char pattern_byte(unsigned int seed, size_t i)
{
	return (unsigned char)(seed * 131 + i * 7 + (i >> 8));
}

static inline void fill_pattern(void *buf, size_t len, unsigned int seed)
{
	unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = pattern_byte(seed, i);
}

static inline bool check_pattern(const void *buf, size_t len, unsigned int seed)
{
	const unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != pattern_byte(seed, i))
			return false;
	return true;
}

/* Write one packet of @len pattern bytes; returns what write() returned. */
static inline ssize_t write_packet(int fd, size_t len, unsigned int seed)
{
	static unsigned char buf[BIG_READ];

	fill_pattern(buf, len, seed);
	return write(fd, buf, len);
}

static inline ssize_t write_str(int fd, const char *s)
{
	return write(fd, s, strlen(s));
}

/* Bytes queued in the pipe, or -1. */
static inline int queued_bytes(int fd)
{
	int n;

	if (ioctl(fd, FIONREAD, &n))
		return -1;
	return n;
}

static inline int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

#endif /* __PIPE_PACKET_UTIL_H */
