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
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "../kselftest_harness.h"

#define NO_PACKET_MODE "no packet mode in this kernel: pipe2(O_DIRECT) fails with EINVAL"

/*
 * The per-pipe packet limit (include/uapi/linux/fcntl.h of the series):
 * PAGE_SIZE until F_SETPIPE_PKT_SZ raises it, up to the pipe's capacity.
 * A packet-mode write up to the limit is one packet; longer writes are
 * cut at the limit. Kernels without the commands answer EINVAL.
 */
#ifndef F_LINUX_SPECIFIC_BASE
#define F_LINUX_SPECIFIC_BASE	1024
#endif
#ifndef F_SETPIPE_PKT_SZ
#define F_SETPIPE_PKT_SZ	(F_LINUX_SPECIFIC_BASE + 17)
#endif
#ifndef F_GETPIPE_PKT_SZ
#define F_GETPIPE_PKT_SZ	(F_LINUX_SPECIFIC_BASE + 18)
#endif

#define NO_PACKET_LIMIT \
	"no F_SETPIPE_PKT_SZ in this kernel (EINVAL): packets stop at PAGE_SIZE"

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

/* The capacity of a new pipe (16 pages unless a per-user limit applies). */
static inline size_t default_capacity(void)
{
	int fds[2], size;

	if (pipe(fds))
		return 16 * page_size();
	size = fcntl(fds[0], F_GETPIPE_SZ);
	close(fds[0]);
	close(fds[1]);
	return size > 0 ? (size_t)size : 16 * page_size();
}

/*
 * A read buffer larger than any packet a test writes without growing its
 * pipe: twice a new pipe's capacity, allocated once per process.
 */
static inline size_t big_read_size(void)
{
	static size_t size;

	if (!size)
		size = 2 * default_capacity();
	return size;
}

/* Set the packet limit of @fd's pipe: the new limit, or -1 and errno. */
static inline int set_packet_limit(int fd, size_t bytes)
{
	return fcntl(fd, F_SETPIPE_PKT_SZ, (unsigned long)bytes);
}

/* The packet limit of @fd's pipe, or -1 and errno. */
static inline int get_packet_limit(int fd)
{
	return fcntl(fd, F_GETPIPE_PKT_SZ);
}

/* Does this kernel have F_SETPIPE_PKT_SZ and F_GETPIPE_PKT_SZ? */
static inline bool packet_limit_supported(void)
{
	int fds[2], limit;

	if (pipe(fds))
		return false;
	limit = get_packet_limit(fds[0]);
	close(fds[0]);
	close(fds[1]);
	return limit > 0;
}

/*
 * Raise the packet limit of @fd's pipe to @bytes (a multiple of the page
 * size) before a test of packets larger than a page. On a kernel without
 * the opt-in, report a skip and run @statement (like SKIP()); fail the
 * test if the kernel refuses the value.
 */
#define OPT_IN_PACKET_LIMIT(statement, fd, bytes) do {			\
	size_t __bytes = (bytes);					\
	int __limit = set_packet_limit(fd, __bytes);			\
									\
	if (__limit < 0 && errno == EINVAL && !packet_limit_supported()) \
		SKIP(statement, NO_PACKET_LIMIT);			\
	ASSERT_EQ(__bytes, __limit) {					\
		TH_LOG("F_SETPIPE_PKT_SZ %zu: %s", __bytes,		\
		       __limit < 0 ? strerror(errno) : "another limit");	\
	}								\
} while (0)

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
	static unsigned char *buf;
	static size_t size;

	if (len > size) {
		unsigned char *p = realloc(buf, len);

		if (!p) {
			errno = ENOMEM;
			return -1;
		}
		buf = p;
		size = len;
	}
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

/* Wait until @pid sleeps in the kernel ('S') or has exited ('Z'). */
static inline char wait_sleeping_or_exited(pid_t pid)
{
	char path[64], state = '?';
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	for (;;) {
		f = fopen(path, "r");
		if (!f)
			return '?';
		if (fscanf(f, "%*d (%*[^)]) %c", &state) != 1)
			state = '?';
		fclose(f);
		if (state == 'S' || state == 'Z')
			return state;
		usleep(1000);
	}
}

#endif /* __PIPE_PACKET_UTIL_H */
