// SPDX-License-Identifier: GPL-2.0
/*
 * Packet pipes: the packet limit.
 *
 * By default a write through a packet-mode file is cut into packets of at
 * most PAGE_SIZE bytes, as upstream has always done and as the pipe(2)
 * manual describes ("Writes of greater than PIPE_BUF bytes ... will be
 * split into multiple packets"; "a buffer size of PIPE_BUF will be
 * sufficient to read the largest possible packets" - true where PIPE_BUF
 * is the page size). Larger packets are a per-pipe opt-in:
 *
 *   F_GETPIPE_PKT_SZ     either end: the pipe's packet limit in bytes,
 *                        PAGE_SIZE until set
 *   F_SETPIPE_PKT_SZ, n  either end: n rounded up to a page multiple;
 *                        0 or more than the capacity is EINVAL; returns
 *                        the new limit; not a pipe is EBADF; a
 *                        notification pipe is EINVAL
 *
 * A write up to the limit is then one packet, whole or not at all, and a
 * longer write is cut at the limit. F_SETPIPE_SZ below the limit lowers it
 * to the new capacity. open() of a FIFO with O_DIRECT is refused (EINVAL),
 * as upstream; F_SETFL O_DIRECT on a FIFO end works.
 *
 * The tests of the default pass on any kernel with packet mode (upstream
 * too); the tests of the opt-in skip on kernels without the commands.
 * Built with -m32 as well (packet_limit_test_32), for the compat fcntl64
 * path. The page size is read at run time; nothing assumes 4 KiB.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "packet_util.h"

#ifndef O_NOTIFICATION_PIPE
#define O_NOTIFICATION_PIPE O_EXCL	/* <linux/watch_queue.h> */
#endif

#define SPLICE_NO_PACKET "upstream never makes a packet of spliced data"

/* Larger than any packet a test reads: twice a new pipe's capacity. */
static unsigned char *rbuf;
static size_t rbuf_size;

static void __attribute__((constructor)) alloc_rbuf(void)
{
	rbuf_size = big_read_size();
	rbuf = malloc(rbuf_size);
	if (!rbuf)
		abort();
}

static size_t round_up_pages(size_t n)
{
	size_t pg = page_size();

	return (n + pg - 1) / pg * pg;
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* Is @buf the pattern of @seed from offset @off on? */
static bool check_pattern_at(const unsigned char *buf, size_t len,
			     unsigned int seed, size_t off)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != pattern_byte(seed, off + i))
			return false;
	return true;
}

/*
 * Read back a write of @len pattern bytes (@seed) that must come as
 * packets of @packet bytes, the last one shorter, each read with a buffer
 * of @bufsize bytes (at most rbuf_size). Returns 0 when it did, else the
 * number of the read that differed, its result in *got.
 */
static unsigned int read_packets(int rd, size_t len, size_t packet, size_t bufsize,
				 unsigned int seed, ssize_t *got)
{
	unsigned int reads = 0;
	size_t off = 0;

	while (off < len) {
		size_t want = min_size(len - off, packet);

		*got = read(rd, rbuf, bufsize);
		reads++;
		if (*got != (ssize_t)want || !check_pattern_at(rbuf, want, seed, off))
			return reads;
		off += want;
	}
	return 0;
}

/* Fill all but @free slots of @wr with 1-byte packets; false on error. */
static bool leave_free_slots(int wr, unsigned int free)
{
	int size = fcntl(wr, F_GETPIPE_SZ);
	unsigned int slots, i;

	if (size <= 0)
		return false;
	slots = size / page_size();
	for (i = 0; i + free < slots; i++)
		if (write(wr, "s", 1) != 1)
			return false;
	return true;
}

/* Read @n 1-byte packets; false if any read is not one. */
static bool read_small_packets(int rd, unsigned int n)
{
	while (n--)
		if (read(rd, rbuf, rbuf_size) != 1)
			return false;
	return true;
}

/*
 * The default split: a write through a packet-mode file comes back as
 * packets of one page each, the last one shorter.
 */
FIXTURE(split) {
	int rd, wr;
	size_t len;
};

FIXTURE_VARIANT(split) {
	unsigned int pages;	/* the write: pages... */
	unsigned int bytes;	/* ...plus bytes, */
	bool capacity;		/* or the capacity */
};

FIXTURE_VARIANT_ADD(split, page_plus_one) { .pages = 1, .bytes = 1 };
FIXTURE_VARIANT_ADD(split, two_pages_plus_100) { .pages = 2, .bytes = 100 };
FIXTURE_VARIANT_ADD(split, three_pages) { .pages = 3 };
FIXTURE_VARIANT_ADD(split, capacity) { .capacity = true };

FIXTURE_SETUP(split)
{
	int fds[2];

	if (!packet_mode_supported())
		SKIP(return, NO_PACKET_MODE);
	ASSERT_EQ(0, pipe2(fds, O_DIRECT | O_NONBLOCK));
	self->rd = fds[0];
	self->wr = fds[1];
	if (variant->capacity)
		self->len = fcntl(self->wr, F_GETPIPE_SZ);
	else
		self->len = variant->pages * page_size() + variant->bytes;
	ASSERT_LE(self->len, (size_t)fcntl(self->wr, F_GETPIPE_SZ));
}

FIXTURE_TEARDOWN(split)
{
	close(self->rd);
	close(self->wr);
}

TEST_F(split, write_comes_back_as_page_sized_packets)
{
	unsigned int bad;
	ssize_t got;

	/* It fits the empty pipe: all of it is queued at once. */
	ASSERT_EQ(self->len, write_packet(self->wr, self->len, 1));
	ASSERT_EQ(self->len, queued_bytes(self->rd));
	/* A buffer larger than the write still gets one page per read. */
	bad = read_packets(self->rd, self->len, page_size(), rbuf_size, 1, &got);
	ASSERT_EQ(0, bad) {
		TH_LOG("read %u of a %zu-byte write returned %zd bytes or wrong data",
		       bad, self->len, got);
	}
	ASSERT_EQ(-1, read(self->rd, rbuf, rbuf_size));
	ASSERT_EQ(EAGAIN, errno);
}

TEST_F(split, writev_comes_back_as_page_sized_packets)
{
	size_t cut1 = self->len / 3, cut2 = self->len - 7;
	unsigned char *buf = malloc(self->len);
	struct iovec iov[3];
	unsigned int bad;
	ssize_t got;

	/* Segments that end anywhere but on a page boundary. */
	ASSERT_FALSE(!buf);
	fill_pattern(buf, self->len, 2);
	iov[0] = (struct iovec){ .iov_base = buf, .iov_len = cut1 };
	iov[1] = (struct iovec){ .iov_base = buf + cut1, .iov_len = cut2 - cut1 };
	iov[2] = (struct iovec){ .iov_base = buf + cut2, .iov_len = self->len - cut2 };
	ASSERT_EQ(self->len, writev(self->wr, iov, 3));
	bad = read_packets(self->rd, self->len, page_size(), rbuf_size, 2, &got);
	ASSERT_EQ(0, bad) {
		TH_LOG("read %u of a %zu-byte writev returned %zd bytes or wrong data",
		       bad, self->len, got);
	}
	ASSERT_EQ(0, queued_bytes(self->rd));
	free(buf);
}

/*
 * The pipe(2) manual's case (LTP's pipe2_03): 8192 bytes, two reads of
 * 4096, on pages of PIPE_BUF bytes. Where pages are larger, the default
 * limit is still a page, as upstream: a write of two pages is two packets
 * of a page there (the next test covers writes of up to a page).
 */
TEST(manual_two_pipe_buf_write_is_two_reads_of_pipe_buf)
{
	size_t unit = page_size();	/* PIPE_BUF on 4 KiB pages */
	unsigned char *buf;
	int fds[2];

	if (!packet_mode_supported())
		SKIP(return, NO_PACKET_MODE);
	buf = malloc(2 * unit);
	ASSERT_FALSE(!buf);
	ASSERT_EQ(0, pipe2(fds, O_DIRECT));
	fill_pattern(buf, 2 * unit, 3);
	ASSERT_EQ(2 * unit, write(fds[1], buf, 2 * unit));

	/* A buffer for both halves still gets one: they are two packets. */
	ASSERT_EQ(unit, read(fds[0], rbuf, 2 * unit));
	ASSERT_TRUE(check_pattern(rbuf, unit, 3));
	ASSERT_EQ(unit, read(fds[0], rbuf, 2 * unit));
	ASSERT_TRUE(check_pattern_at(rbuf, unit, 3, unit));

	/* A reader of a page (the manual's PIPE_BUF on 4 KiB pages) loses nothing. */
	ASSERT_EQ(2 * unit, write(fds[1], buf, 2 * unit));
	ASSERT_EQ(unit, read(fds[0], rbuf, unit));
	ASSERT_TRUE(check_pattern(rbuf, unit, 3));
	ASSERT_EQ(unit, read(fds[0], rbuf, unit));
	ASSERT_TRUE(check_pattern_at(rbuf, unit, 3, unit));
	ASSERT_EQ(0, queued_bytes(fds[0]));
	close(fds[0]);
	close(fds[1]);
	free(buf);
}

/*
 * "Specifying a buffer size of PIPE_BUF will be sufficient to read the
 * largest possible packets": with the default limit, a reader of PIPE_BUF
 * bytes loses nothing, whatever the size of the write. Where pages are
 * larger than PIPE_BUF (arm64 with 64 KiB pages) the manual's sentence
 * cannot hold for writes of more than PIPE_BUF, which upstream cuts at
 * PAGE_SIZE, not at PIPE_BUF: those are read with a page-sized buffer.
 * Writes of up to PIPE_BUF are one packet read whole at every page size.
 */
FIXTURE(manual) {
	int rd, wr;
	size_t len;
};

FIXTURE_VARIANT(manual) {
	unsigned int bytes;	/* the write: bytes... */
	unsigned int pages;	/* ...plus pages... */
	unsigned int capacities;/* ...plus capacities */
};

FIXTURE_VARIANT_ADD(manual, one_byte) { .bytes = 1 };
FIXTURE_VARIANT_ADD(manual, pipe_buf_minus_one) { .bytes = PIPE_BUF - 1 };
FIXTURE_VARIANT_ADD(manual, pipe_buf) { .bytes = PIPE_BUF };
FIXTURE_VARIANT_ADD(manual, pipe_buf_plus_one) { .bytes = PIPE_BUF + 1 };
FIXTURE_VARIANT_ADD(manual, page) { .pages = 1 };
FIXTURE_VARIANT_ADD(manual, page_plus_one) { .pages = 1, .bytes = 1 };
FIXTURE_VARIANT_ADD(manual, three_pages_plus_five) { .pages = 3, .bytes = 5 };
FIXTURE_VARIANT_ADD(manual, capacity) { .capacities = 1 };
FIXTURE_VARIANT_ADD(manual, twice_capacity_plus_100) { .capacities = 2, .bytes = 100 };

FIXTURE_SETUP(manual)
{
	int fds[2];

	if (!packet_mode_supported())
		SKIP(return, NO_PACKET_MODE);
	ASSERT_EQ(0, pipe2(fds, O_DIRECT));
	self->rd = fds[0];
	self->wr = fds[1];
	self->len = variant->bytes + variant->pages * page_size() +
		    variant->capacities * (size_t)fcntl(self->wr, F_GETPIPE_SZ);
}

FIXTURE_TEARDOWN(manual)
{
	close(self->rd);
	close(self->wr);
}

TEST_F(manual, pipe_buf_reader_loses_nothing)
{
	size_t pg = page_size(), bufsize = PIPE_BUF;
	size_t capacity = fcntl(self->wr, F_GETPIPE_SZ);
	unsigned int bad;
	int status = 0;
	pid_t pid = 0;
	ssize_t got;

	if (pg > PIPE_BUF && self->len > PIPE_BUF) {
		TH_LOG("%zu-byte pages: packets of up to a page, read with %zu bytes",
		       pg, pg);
		bufsize = pg;
	}
	if (self->len <= capacity) {
		ASSERT_EQ(self->len, write_packet(self->wr, self->len, 4));
	} else {
		/* More than the pipe holds: a writer that waits for the reader. */
		pid = fork();
		ASSERT_GE(pid, 0);
		if (pid == 0)
			_exit(write_packet(self->wr, self->len, 4) == (ssize_t)self->len ? 0 : 1);
	}
	bad = read_packets(self->rd, self->len, pg, bufsize, 4, &got);
	ASSERT_EQ(0, bad) {
		TH_LOG("read %u (of %zu bytes) of a %zu-byte write: %zd bytes or wrong data",
		       bad, bufsize, self->len, got);
	}
	if (pid) {
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	ASSERT_EQ(0, queued_bytes(self->rd));
}

/*
 * A non-blocking write that does not fit queues its whole packets, one
 * page each, and returns their bytes; nothing of the packet that did not
 * fit. Nothing fits: EAGAIN.
 */
TEST(nonblocking_write_queues_the_pages_that_fit)
{
	size_t pg = page_size(), capacity;
	unsigned int bad;
	int fds[2];
	ssize_t got;

	if (!packet_mode_supported())
		SKIP(return, NO_PACKET_MODE);
	ASSERT_EQ(0, pipe2(fds, O_DIRECT | O_NONBLOCK));
	capacity = fcntl(fds[1], F_GETPIPE_SZ);

	ASSERT_EQ(capacity, write_packet(fds[1], capacity + 100, 5));
	ASSERT_EQ(-1, write(fds[1], "x", 1));
	ASSERT_EQ(EAGAIN, errno);
	bad = read_packets(fds[0], capacity, pg, rbuf_size, 5, &got);
	ASSERT_EQ(0, bad) {
		TH_LOG("read %u returned %zd", bad, got);
	}

	/* Two free slots: two pages of a three-page write. */
	ASSERT_TRUE(leave_free_slots(fds[1], 2));
	ASSERT_EQ(2 * pg, write_packet(fds[1], 3 * pg, 6));
	ASSERT_EQ(capacity / pg - 2 + 2 * pg, queued_bytes(fds[0]));
	ASSERT_TRUE(read_small_packets(fds[0], capacity / pg - 2));
	bad = read_packets(fds[0], 2 * pg, pg, rbuf_size, 6, &got);
	ASSERT_EQ(0, bad) {
		TH_LOG("read %u returned %zd", bad, got);
	}
	ASSERT_EQ(-1, read(fds[0], rbuf, rbuf_size));
	ASSERT_EQ(EAGAIN, errno);
	close(fds[0]);
	close(fds[1]);
}

/*
 * F_GETPIPE_PKT_SZ and F_SETPIPE_PKT_SZ: values, errors, either end.
 */
FIXTURE(limit) {
	int rd, wr;
	size_t pg, capacity;
};

FIXTURE_SETUP(limit)
{
	int fds[2];

	if (!packet_mode_supported())
		SKIP(return, NO_PACKET_MODE);
	if (!packet_limit_supported())
		SKIP(return, NO_PACKET_LIMIT);
	ASSERT_EQ(0, pipe2(fds, O_DIRECT | O_NONBLOCK));
	self->rd = fds[0];
	self->wr = fds[1];
	self->pg = page_size();
	self->capacity = fcntl(self->wr, F_GETPIPE_SZ);
	ASSERT_GE(self->capacity, 8 * self->pg);
	ASSERT_LE(self->capacity, rbuf_size);
}

FIXTURE_TEARDOWN(limit)
{
	close(self->rd);
	close(self->wr);
}

TEST_F(limit, get_is_page_size_until_set)
{
	int fds[2];

	ASSERT_EQ(self->pg, get_packet_limit(self->rd));
	ASSERT_EQ(self->pg, get_packet_limit(self->wr));
	/* A plain pipe has the same limit. */
	ASSERT_EQ(0, pipe(fds));
	ASSERT_EQ(self->pg, get_packet_limit(fds[0]));
	ASSERT_EQ(self->pg, get_packet_limit(fds[1]));
	close(fds[0]);
	close(fds[1]);
}

TEST_F(limit, set_rounds_up_to_pages_and_returns_the_limit)
{
	size_t pg = self->pg, cap = self->capacity;
	const size_t n[] = { 1, pg - 1, pg, pg + 1, 2 * pg, 3 * pg - 1, 3 * pg + 1,
			     cap - pg, cap - 1, cap, pg };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(n); i++) {
		/* Each end in turn; the other sees the same limit. */
		int set = i % 2 ? self->rd : self->wr;
		int other = i % 2 ? self->wr : self->rd;

		ASSERT_EQ(round_up_pages(n[i]), set_packet_limit(set, n[i])) {
			TH_LOG("F_SETPIPE_PKT_SZ %zu on the %s end", n[i],
			       i % 2 ? "read" : "write");
		}
		ASSERT_EQ(round_up_pages(n[i]), get_packet_limit(other));
		ASSERT_EQ(round_up_pages(n[i]), get_packet_limit(set));
	}
	/* The capacity is not changed by any of it. */
	ASSERT_EQ(cap, fcntl(self->wr, F_GETPIPE_SZ));
}

TEST_F(limit, zero_is_einval)
{
	ASSERT_EQ(2 * self->pg, set_packet_limit(self->wr, 2 * self->pg));
	ASSERT_EQ(-1, set_packet_limit(self->wr, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, set_packet_limit(self->rd, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(2 * self->pg, get_packet_limit(self->rd));
}

TEST_F(limit, above_capacity_is_einval_capacity_is_not)
{
	size_t cap = self->capacity;
	const size_t n[] = { cap + 1, cap + self->pg, 2 * cap };
	unsigned int i;

	ASSERT_EQ(2 * self->pg, set_packet_limit(self->wr, 2 * self->pg));
	for (i = 0; i < ARRAY_SIZE(n); i++) {
		ASSERT_EQ(-1, set_packet_limit(i % 2 ? self->rd : self->wr, n[i])) {
			TH_LOG("F_SETPIPE_PKT_SZ %zu with a capacity of %zu", n[i], cap);
		}
		ASSERT_EQ(EINVAL, errno);
		ASSERT_EQ(2 * self->pg, get_packet_limit(self->wr));
	}
	ASSERT_EQ(cap, set_packet_limit(self->rd, cap));
	ASSERT_EQ(cap, get_packet_limit(self->wr));
}

/*
 * Values near the ends of the argument's range are refused, not wrapped
 * round by the rounding up to a page (nor taken as their low bits).
 */
TEST_F(limit, huge_values_are_einval)
{
	const unsigned long pg = self->pg;
	const unsigned long n[] = {
		ULONG_MAX, ULONG_MAX - pg + 2,		/* rounds up to 0 */
		(unsigned long)INT_MAX + 1, (unsigned long)INT_MAX,
		UINT_MAX, UINT_MAX - pg + 2,		/* 0 in 32 bits */
		(unsigned long)LONG_MAX + 1, (unsigned long)LONG_MAX,
	};
	unsigned int i;

	ASSERT_EQ(2 * pg, set_packet_limit(self->wr, 2 * pg));
	for (i = 0; i < ARRAY_SIZE(n); i++) {
		errno = 0;
		ASSERT_EQ(-1, fcntl(self->wr, F_SETPIPE_PKT_SZ, n[i])) {
			TH_LOG("F_SETPIPE_PKT_SZ %#lx was accepted", n[i]);
		}
		ASSERT_EQ(EINVAL, errno);
		ASSERT_EQ(2 * pg, get_packet_limit(self->rd)) {
			TH_LOG("F_SETPIPE_PKT_SZ %#lx changed the limit", n[i]);
		}
	}
}

TEST_F(limit, one_limit_per_pipe_seen_from_every_end)
{
	char path[64];
	int fds[2], dup_wr, reopened;

	ASSERT_EQ(3 * self->pg, set_packet_limit(self->rd, 3 * self->pg));
	dup_wr = dup(self->wr);
	ASSERT_GE(dup_wr, 0);
	ASSERT_EQ(3 * self->pg, get_packet_limit(dup_wr));
	/* Another open file of the same pipe. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", self->wr);
	reopened = open(path, O_WRONLY);
	if (reopened >= 0) {
		ASSERT_EQ(3 * self->pg, get_packet_limit(reopened));
		ASSERT_EQ(2 * self->pg, set_packet_limit(reopened, 2 * self->pg));
		ASSERT_EQ(2 * self->pg, get_packet_limit(self->rd));
		close(reopened);
	} else {
		TH_LOG("no /proc: %s", strerror(errno));
	}
	/* Another pipe keeps its own. */
	ASSERT_EQ(0, pipe2(fds, O_DIRECT));
	ASSERT_EQ(self->pg, get_packet_limit(fds[1]));
	ASSERT_EQ(4 * self->pg, set_packet_limit(fds[0], 4 * self->pg));
	ASSERT_NE(4 * self->pg, get_packet_limit(self->wr));
	close(fds[0]);
	close(fds[1]);
	close(dup_wr);
}

/* The limit belongs to the pipe: set on a plain pipe, a packet end uses it. */
TEST_F(limit, limit_of_a_plain_pipe_applies_once_packet_mode_is_on)
{
	size_t pg = self->pg;
	unsigned int bad;
	int fds[2];
	ssize_t got;

	ASSERT_EQ(0, pipe2(fds, O_NONBLOCK));
	ASSERT_EQ(4 * pg, set_packet_limit(fds[1], 4 * pg));
	/* Plain writes are still a stream: one read takes both. */
	ASSERT_EQ(3 * pg, write_packet(fds[1], 3 * pg, 7));
	ASSERT_EQ(10, write_packet(fds[1], 10, 8));
	ASSERT_EQ(3 * pg + 10, read(fds[0], rbuf, rbuf_size));
	ASSERT_TRUE(check_pattern(rbuf, 3 * pg, 7));

	ASSERT_EQ(0, fcntl(fds[1], F_SETFL, O_DIRECT | O_NONBLOCK));
	ASSERT_EQ(4 * pg, get_packet_limit(fds[1]));
	ASSERT_EQ(3 * pg, write_packet(fds[1], 3 * pg, 9));
	ASSERT_EQ(10, write_packet(fds[1], 10, 10));
	ASSERT_EQ(3 * pg, read(fds[0], rbuf, rbuf_size));
	ASSERT_TRUE(check_pattern(rbuf, 3 * pg, 9));
	ASSERT_EQ(10, read(fds[0], rbuf, rbuf_size));
	/* Longer: cut at the limit. */
	ASSERT_EQ(5 * pg, write_packet(fds[1], 5 * pg, 11));
	bad = read_packets(fds[0], 5 * pg, 4 * pg, rbuf_size, 11, &got);
	ASSERT_EQ(0, bad) {
		TH_LOG("read %u returned %zd", bad, got);
	}
	close(fds[0]);
	close(fds[1]);
}

/* Not a pipe: EBADF, as F_SETPIPE_SZ and F_GETPIPE_SZ give. */
TEST(not_a_pipe_is_ebadf)
{
	char path[] = "/tmp/packet_limit.XXXXXX";
	int fds[5], sv[2], n = 0, i;

	if (!packet_limit_supported())
		SKIP(return, NO_PACKET_LIMIT);
	fds[n] = mkstemp(path);
	if (fds[n] < 0) {
		snprintf(path, sizeof(path), "packet_limit.XXXXXX");
		fds[n] = mkstemp(path);
	}
	ASSERT_GE(fds[n], 0);
	unlink(path);
	n++;
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	fds[n++] = sv[0];
	fds[n] = open("/", O_RDONLY | O_DIRECTORY);
	ASSERT_GE(fds[n], 0);
	n++;
	fds[n] = open("/dev/null", O_RDWR);
	if (fds[n] >= 0)
		n++;
	else
		TH_LOG("no /dev/null here: %s", strerror(errno));

	for (i = 0; i < n; i++) {
		ASSERT_EQ(-1, set_packet_limit(fds[i], page_size())) {
			TH_LOG("F_SETPIPE_PKT_SZ on descriptor %d of %d was accepted", i, n);
		}
		ASSERT_EQ(EBADF, errno);
		ASSERT_EQ(-1, get_packet_limit(fds[i]));
		ASSERT_EQ(EBADF, errno);
		close(fds[i]);
	}
	close(sv[1]);
	/* And a closed descriptor. */
	ASSERT_EQ(-1, set_packet_limit(fds[0], page_size()));
	ASSERT_EQ(EBADF, errno);
}

/* Only the kernel writes notifications: their pipe has no packet limit to set. */
TEST(notification_pipe_is_einval)
{
	int fds[2];

	if (!packet_limit_supported())
		SKIP(return, NO_PACKET_LIMIT);
	if (pipe2(fds, O_NOTIFICATION_PIPE)) {
		ASSERT_EQ(ENOPKG, errno);
		SKIP(return, "no notification pipes: CONFIG_WATCH_QUEUE is off");
	}
	ASSERT_EQ(-1, set_packet_limit(fds[1], page_size()));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, set_packet_limit(fds[0], 2 * page_size()));
	ASSERT_EQ(EINVAL, errno);
	/* Reading the limit is fine on any pipe. */
	ASSERT_EQ(page_size(), get_packet_limit(fds[0]));
	ASSERT_EQ(page_size(), get_packet_limit(fds[1]));
	close(fds[0]);
	close(fds[1]);
}

/*
 * With the limit raised to 4 pages: a write up to the limit is one
 * packet, whole or nothing; a longer write is cut at the limit.
 */
#define RAISED_PAGES 4

FIXTURE(raised) {
	int rd, wr;
	size_t pg, limit, capacity;
};

FIXTURE_SETUP(raised)
{
	int fds[2];

	if (!packet_mode_supported())
		SKIP(return, NO_PACKET_MODE);
	ASSERT_EQ(0, pipe2(fds, O_DIRECT | O_NONBLOCK));
	self->rd = fds[0];
	self->wr = fds[1];
	self->pg = page_size();
	self->limit = RAISED_PAGES * self->pg;
	self->capacity = fcntl(self->wr, F_GETPIPE_SZ);
	ASSERT_GE(self->capacity, 4 * self->limit);
	ASSERT_LE(self->capacity, rbuf_size);
	OPT_IN_PACKET_LIMIT(return, self->wr, self->limit);
}

FIXTURE_TEARDOWN(raised)
{
	close(self->rd);
	close(self->wr);
}

TEST_F(raised, write_up_to_the_limit_is_one_packet)
{
	const size_t n[] = { self->pg + 1, 2 * self->pg, self->limit - 1, self->limit };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(n); i++)
		ASSERT_EQ(n[i], write_packet(self->wr, n[i], 20 + i));
	for (i = 0; i < ARRAY_SIZE(n); i++) {
		ASSERT_EQ(n[i], read(self->rd, rbuf, rbuf_size));
		ASSERT_TRUE(check_pattern(rbuf, n[i], 20 + i));
	}
	/* A short read drops the rest of the packet, all its pages. */
	ASSERT_EQ(self->limit, write_packet(self->wr, self->limit, 24));
	ASSERT_EQ(7, write_packet(self->wr, 7, 25));
	ASSERT_EQ(PIPE_BUF, read(self->rd, rbuf, PIPE_BUF));
	ASSERT_EQ(7, read(self->rd, rbuf, rbuf_size));
	ASSERT_TRUE(check_pattern(rbuf, 7, 25));
}

TEST_F(raised, longer_write_is_cut_at_the_limit_not_the_capacity)
{
	size_t n[] = { self->limit + 1, 2 * self->limit + 100, self->capacity };
	unsigned int i, bad;
	ssize_t got;

	for (i = 0; i < ARRAY_SIZE(n); i++) {
		ASSERT_EQ(n[i], write_packet(self->wr, n[i], 30 + i));
		bad = read_packets(self->rd, n[i], self->limit, rbuf_size, 30 + i, &got);
		ASSERT_EQ(0, bad) {
			TH_LOG("write of %zu: read %u returned %zd bytes or wrong data",
			       n[i], bad, got);
		}
		ASSERT_EQ(0, queued_bytes(self->rd));
	}
}

TEST_F(raised, write_beyond_the_capacity_is_cut_at_the_limit)
{
	size_t len = 2 * self->capacity + 100;
	unsigned int bad;
	int status;
	ssize_t got;
	pid_t pid;

	ASSERT_EQ(0, fcntl(self->wr, F_SETFL, O_DIRECT));
	ASSERT_EQ(0, fcntl(self->rd, F_SETFL, 0));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		_exit(write_packet(self->wr, len, 40) == (ssize_t)len ? 0 : 1);
	bad = read_packets(self->rd, len, self->limit, rbuf_size, 40, &got);
	ASSERT_EQ(0, bad) {
		TH_LOG("read %u returned %zd bytes or wrong data", bad, got);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST_F(raised, nonblocking_packet_is_whole_or_nothing)
{
	unsigned int slots = self->capacity / self->pg, small = slots - RAISED_PAGES + 1;

	/* One slot short of the limit: a packet of the limit does not fit. */
	ASSERT_TRUE(leave_free_slots(self->wr, RAISED_PAGES - 1));
	ASSERT_EQ(-1, write_packet(self->wr, self->limit, 41));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(small, queued_bytes(self->rd));
	/* Nor does a longer write queue a part of its first packet. */
	ASSERT_EQ(-1, write_packet(self->wr, 2 * self->limit, 41));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(small, queued_bytes(self->rd));

	ASSERT_EQ(self->limit - self->pg, write_packet(self->wr, self->limit - self->pg, 42));
	ASSERT_EQ(-1, write(self->wr, "x", 1));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_TRUE(read_small_packets(self->rd, small));
	ASSERT_EQ(self->limit - self->pg, read(self->rd, rbuf, rbuf_size));
	ASSERT_TRUE(check_pattern(rbuf, self->limit - self->pg, 42));
}

TEST_F(raised, nonblocking_write_returns_the_whole_packets_queued)
{
	unsigned int slots = self->capacity / self->pg, small = slots - RAISED_PAGES - 2;

	/* Room for one packet of the limit and two pages: not for two packets. */
	ASSERT_TRUE(leave_free_slots(self->wr, RAISED_PAGES + 2));
	ASSERT_EQ(self->limit, write_packet(self->wr, 2 * self->limit, 43));
	ASSERT_EQ(small + self->limit, queued_bytes(self->rd));
	ASSERT_TRUE(read_small_packets(self->rd, small));
	ASSERT_EQ(self->limit, read(self->rd, rbuf, rbuf_size));
	ASSERT_TRUE(check_pattern(rbuf, self->limit, 43));
	ASSERT_EQ(-1, read(self->rd, rbuf, rbuf_size));
	ASSERT_EQ(EAGAIN, errno);
}

/*
 * A blocking write of two packets of the limit, with room for one: the
 * first is queued, the second waits until it fits whole.
 */
TEST_F(raised, blocked_writer_queues_each_packet_whole)
{
	unsigned int slots = self->capacity / self->pg, small = slots - RAISED_PAGES, i;
	int status;
	pid_t pid;

	ASSERT_TRUE(leave_free_slots(self->wr, RAISED_PAGES));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		fcntl(self->wr, F_SETFL, O_DIRECT);
		_exit(write_packet(self->wr, 2 * self->limit, 44) ==
		      (ssize_t)(2 * self->limit) ? 0 : 1);
	}
	ASSERT_EQ('S', wait_sleeping_or_exited(pid));
	ASSERT_EQ(small + self->limit, queued_bytes(self->rd));
	/* Free slots one by one: nothing of the second packet until it fits. */
	for (i = 1; i < RAISED_PAGES; i++) {
		ASSERT_TRUE(read_small_packets(self->rd, 1));
		usleep(10000);
		ASSERT_EQ(small - i + self->limit, queued_bytes(self->rd)) {
			TH_LOG("%u slots free: a part of the waiting packet was queued", i);
		}
	}
	ASSERT_TRUE(read_small_packets(self->rd, 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	ASSERT_TRUE(read_small_packets(self->rd, small - RAISED_PAGES));
	ASSERT_EQ(self->limit, read(self->rd, rbuf, rbuf_size));
	ASSERT_TRUE(check_pattern(rbuf, self->limit, 44));
	ASSERT_EQ(self->limit, read(self->rd, rbuf, rbuf_size));
	ASSERT_TRUE(check_pattern_at(rbuf, self->limit, 44, self->limit));
}

/* A limit lowered later leaves the packets already queued whole. */
TEST_F(raised, lowering_the_limit_keeps_queued_packets)
{
	unsigned int bad;
	ssize_t got;

	ASSERT_EQ(3 * self->pg, write_packet(self->wr, 3 * self->pg, 45));
	ASSERT_EQ(self->pg, set_packet_limit(self->rd, 1));
	ASSERT_EQ(2 * self->pg, write_packet(self->wr, 2 * self->pg, 46));
	ASSERT_EQ(3 * self->pg, read(self->rd, rbuf, rbuf_size));
	ASSERT_TRUE(check_pattern(rbuf, 3 * self->pg, 45));
	bad = read_packets(self->rd, 2 * self->pg, self->pg, rbuf_size, 46, &got);
	ASSERT_EQ(0, bad) {
		TH_LOG("read %u returned %zd", bad, got);
	}
}

/*
 * F_SETPIPE_SZ and the limit: a capacity below the limit lowers it to the
 * new capacity; a larger capacity does not raise it; the limit cannot be
 * set above the capacity in force.
 */
TEST_F(raised, shrinking_the_capacity_below_the_limit_lowers_it)
{
	unsigned int bad;
	ssize_t got;
	int size;

	ASSERT_EQ(self->capacity, set_packet_limit(self->wr, self->capacity));
	size = fcntl(self->wr, F_SETPIPE_SZ, 4 * self->pg);
	ASSERT_EQ(4 * self->pg, size);
	ASSERT_EQ(size, get_packet_limit(self->rd));

	/* Growing again leaves the limit where it is. */
	ASSERT_EQ(self->capacity, fcntl(self->rd, F_SETPIPE_SZ, self->capacity));
	ASSERT_EQ(size, get_packet_limit(self->wr));
	ASSERT_EQ(8 * self->pg, write_packet(self->wr, 8 * self->pg, 47));
	bad = read_packets(self->rd, 8 * self->pg, size, rbuf_size, 47, &got);
	ASSERT_EQ(0, bad) {
		TH_LOG("read %u returned %zd", bad, got);
	}
}

TEST_F(raised, limit_follows_the_rounded_capacity)
{
	int size;

	/* 8 pages of limit; 3 pages asked, a power of two given. */
	ASSERT_EQ(8 * self->pg, set_packet_limit(self->wr, 8 * self->pg));
	size = fcntl(self->wr, F_SETPIPE_SZ, 3 * self->pg);
	ASSERT_GE(size, 3 * self->pg);
	ASSERT_LT(size, 8 * self->pg);
	ASSERT_EQ(size, get_packet_limit(self->wr));
	ASSERT_EQ(size, write_packet(self->wr, size, 48));
	ASSERT_EQ(size, read(self->rd, rbuf, rbuf_size));
}

TEST_F(raised, capacity_at_or_above_the_limit_keeps_it)
{
	ASSERT_EQ(2 * self->limit, fcntl(self->wr, F_SETPIPE_SZ, 2 * self->limit));
	ASSERT_EQ(self->limit, get_packet_limit(self->wr));
	ASSERT_EQ(self->limit, fcntl(self->wr, F_SETPIPE_SZ, self->limit));
	ASSERT_EQ(self->limit, get_packet_limit(self->rd));
	ASSERT_EQ(self->limit, write_packet(self->wr, self->limit, 49));
	ASSERT_EQ(self->limit, read(self->rd, rbuf, rbuf_size));
}

TEST_F(raised, failed_shrink_keeps_the_limit)
{
	unsigned int i;

	ASSERT_EQ(8 * self->pg, set_packet_limit(self->wr, 8 * self->pg));
	for (i = 0; i < 6; i++)
		ASSERT_EQ(1, write(self->wr, "b", 1));
	/* Six slots in use: four pages cannot hold them. */
	ASSERT_EQ(-1, fcntl(self->wr, F_SETPIPE_SZ, 4 * self->pg));
	ASSERT_EQ(EBUSY, errno);
	ASSERT_EQ(8 * self->pg, get_packet_limit(self->rd));
}

TEST_F(raised, limit_above_the_current_capacity_is_einval)
{
	ASSERT_EQ(self->limit, fcntl(self->wr, F_SETPIPE_SZ, self->limit));
	ASSERT_EQ(-1, set_packet_limit(self->wr, self->limit + 1));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, set_packet_limit(self->rd, 2 * self->limit));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(self->limit, get_packet_limit(self->wr));
	ASSERT_EQ(self->pg, set_packet_limit(self->wr, self->pg));
	ASSERT_EQ(self->limit, set_packet_limit(self->rd, self->limit));
}

TEST_F(raised, grown_capacity_takes_a_larger_limit)
{
	size_t cap = 2 * self->capacity;
	int size;

	if (cap > rbuf_size)
		SKIP(return, "the read buffer holds %zu bytes", rbuf_size);
	size = fcntl(self->wr, F_SETPIPE_SZ, cap);
	if (size < 0 && errno == EPERM)
		SKIP(return, "a pipe of %zu bytes is above the limit for this user", cap);
	ASSERT_EQ(cap, size);
	ASSERT_EQ(self->limit, get_packet_limit(self->wr));
	ASSERT_EQ(cap, set_packet_limit(self->wr, cap));
	ASSERT_EQ(cap, write_packet(self->wr, cap, 50));
	ASSERT_EQ(cap, read(self->rd, rbuf, rbuf_size));
	ASSERT_TRUE(check_pattern(rbuf, cap, 50));
}

/*
 * Concurrent writers while the limit changes: each writer's packets
 * carry a header on every page (writer, write, length, offset), so that
 * the reader can tell any packet - also the second or later part of a
 * write cut at the limit - and check it. Every packet must be one piece
 * of one write, cut only on page boundaries, never more than the largest
 * limit used; a write during which the limit did not change must come as
 * packets of exactly that limit.
 */
#define CW_WRITERS	3
#define CW_WRITES	100	/* per writer, for pages of CW_WRITES_PAGE bytes; */
#define CW_WRITES_PAGE	4096u	/* on larger pages as many bytes (20 writes or more) */
#define CW_MAGIC	0x4c494d54u	/* "LIMT" */

struct cw_hdr {
	uint32_t magic, writer, seq, len, off;
};

#define CW_HDR sizeof(struct cw_hdr)

struct cw_state {
	unsigned int writes;		/* per writer */
	atomic_uint gen;		/* odd while the limit changes */
	atomic_uint limit;		/* the limit in force when gen is even */
	atomic_bool done;
	atomic_uint flips, flip_errors;
	/* The limit during the whole write, or 0 if it changed meanwhile. */
	atomic_uint stable[CW_WRITERS][CW_WRITES];
};

/* The length of a write, from its writer and number alone. */
static size_t cw_len(unsigned int w, unsigned int seq, size_t pg, size_t big)
{
	uint32_t r = (w + 1) * 2654435761u ^ (seq + 1) * 40503u;
	size_t len;

	r ^= r >> 13;
	r *= 0x5bd1e995u;
	r ^= r >> 15;
	/* Half within a page, half up to the largest. */
	len = r & 1 ? 1 + (r >> 1) % pg : pg + 1 + (r >> 1) % (big - pg);
	/* Every piece from a page boundary on holds a header. */
	if (len < CW_HDR)
		len = CW_HDR;
	if (len % pg && len % pg < CW_HDR)
		len += CW_HDR;
	return len;
}

static void cw_fill(unsigned char *buf, unsigned int w, unsigned int seq, size_t len, size_t pg)
{
	size_t off;

	fill_pattern(buf, len, w * 65536 + seq);
	for (off = 0; off < len; off += pg) {
		struct cw_hdr h = { CW_MAGIC, w, seq, len, off };

		memcpy(buf + off, &h, CW_HDR);
	}
}

/* Is @buf, @n bytes, the piece of write (w, seq, len) at offset @off? */
static bool cw_piece_ok(const unsigned char *buf, size_t n, unsigned int w,
			unsigned int seq, size_t len, size_t off, size_t pg)
{
	size_t k;

	for (k = 0; k < n; k += pg) {
		struct cw_hdr h;

		memcpy(&h, buf + k, CW_HDR);
		if (h.magic != CW_MAGIC || h.writer != w || h.seq != seq ||
		    h.len != len || h.off != off + k)
			return false;
		if (!check_pattern_at(buf + k + CW_HDR, min_size(pg, n - k) - CW_HDR,
				      w * 65536 + seq, off + k + CW_HDR))
			return false;
	}
	return true;
}

static void cw_writer(struct cw_state *st, int wr, unsigned int w, size_t pg, size_t big)
{
	unsigned char *buf = malloc(big + CW_HDR);
	unsigned int seq;

	if (!buf)
		_exit(2);
	for (seq = 0; seq < st->writes; seq++) {
		size_t len = cw_len(w, seq, pg, big);
		unsigned int g1, g2, limit;

		cw_fill(buf, w, seq, len, pg);
		g1 = atomic_load(&st->gen);
		limit = atomic_load(&st->limit);
		if (write(wr, buf, len) != (ssize_t)len)
			_exit(1);
		g2 = atomic_load(&st->gen);
		atomic_store(&st->stable[w][seq], g1 == g2 && !(g1 & 1) ? limit : 0);
	}
	_exit(0);
}

/* Flip the limit through the read end (either end will do) until done. */
static void cw_flipper(struct cw_state *st, int rd, size_t pg, size_t big)
{
	const size_t limits[] = { pg, 2 * pg, 4 * pg, big };
	uint64_t s = 0x9e3779b97f4a7c15ull;
	unsigned int pause;

	while (!atomic_load(&st->done)) {
		size_t limit;

		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		limit = limits[s % ARRAY_SIZE(limits)];
		atomic_fetch_add(&st->gen, 1);
		if (set_packet_limit(rd, limit) != (int)limit)
			atomic_fetch_add(&st->flip_errors, 1);
		atomic_store(&st->limit, limit);
		atomic_fetch_add(&st->gen, 1);
		atomic_fetch_add(&st->flips, 1);
		/* A pause of a few microseconds: a sleep would take a tick. */
		for (pause = (s >> 32) % 20000; pause; pause--)
			if (atomic_load(&st->done))
				break;
	}
	_exit(0);
}

TEST(concurrent_writers_while_the_limit_changes)
{
	unsigned int next_seq[CW_WRITERS] = { 0 }, w, s, pieces = 0;
	size_t next_off[CW_WRITERS] = { 0 }, pg = page_size(), big, capacity;
	/* Per write: the first piece, the number of pieces, all but the last equal? */
	static size_t first[CW_WRITERS][CW_WRITES];
	static unsigned int count[CW_WRITERS][CW_WRITES];
	static bool uneven[CW_WRITERS][CW_WRITES];
	unsigned int stable_cut = 0, stable = 0;
	struct cw_state *st;
	pid_t flipper;
	int fds[2], status;
	ssize_t n;

	if (!packet_mode_supported())
		SKIP(return, NO_PACKET_MODE);
	if (!packet_limit_supported())
		SKIP(return, NO_PACKET_LIMIT);
	st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(st != MAP_FAILED);
	ASSERT_EQ(0, pipe2(fds, O_DIRECT));
	capacity = fcntl(fds[1], F_GETPIPE_SZ);
	big = capacity / 2;
	ASSERT_GE(big, 4 * pg);
	ASSERT_EQ(pg, get_packet_limit(fds[0]));
	atomic_store(&st->limit, pg);
	/* Writes are up to 12 pages long: about as many bytes at any page size. */
	st->writes = CW_WRITES * CW_WRITES_PAGE / pg;
	if (st->writes < 20)
		st->writes = 20;
	if (st->writes > CW_WRITES)
		st->writes = CW_WRITES;

	/* Children that die with the reader, should one of its checks fail. */
	flipper = fork();
	ASSERT_GE(flipper, 0);
	if (flipper == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(fds[1]);
		cw_flipper(st, fds[0], pg, big);
	}
	for (w = 0; w < CW_WRITERS; w++) {
		pid_t pid = fork();

		ASSERT_GE(pid, 0);
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			close(fds[0]);
			/* Writes up to 3/2 of the largest limit: cut even then. */
			cw_writer(st, fds[1], w, pg, big + big / 2);
		}
	}
	close(fds[1]);

	while ((n = read(fds[0], rbuf, capacity)) > 0) {
		struct cw_hdr h;
		size_t off;

		ASSERT_GE(n, CW_HDR);
		memcpy(&h, rbuf, CW_HDR);
		ASSERT_EQ(CW_MAGIC, h.magic) {
			TH_LOG("piece %u: %zd bytes that do not start at a page of a write",
			       pieces, n);
		}
		ASSERT_LT(h.writer, CW_WRITERS);
		w = h.writer;
		off = next_off[w];
		/* Each writer's pieces in order, none lost, none twice. */
		ASSERT_EQ(next_seq[w], h.seq);
		ASSERT_EQ(off, h.off) {
			TH_LOG("writer %u write %u: piece at %u, expected %zu",
			       w, h.seq, h.off, off);
		}
		ASSERT_EQ(cw_len(w, h.seq, pg, big + big / 2), h.len);
		ASSERT_LE(off + n, h.len);
		/* Never above the largest limit; cut only on a page boundary. */
		ASSERT_LE(n, big);
		if (off + n < h.len)
			ASSERT_EQ(0, n % pg) {
				TH_LOG("writer %u write %u: a %zd-byte piece that is not the last",
				       w, h.seq, n);
			}
		/* Within a page: one packet whatever the limit. */
		if (h.len <= pg)
			ASSERT_EQ(h.len, n);
		ASSERT_TRUE(cw_piece_ok(rbuf, n, w, h.seq, h.len, off, pg)) {
			TH_LOG("writer %u write %u: piece at %zu of %zd bytes is torn or mixed",
			       w, h.seq, off, n);
		}
		if (!off)
			first[w][h.seq] = n;
		else if (off + n < h.len && (size_t)n != first[w][h.seq])
			uneven[w][h.seq] = true;
		count[w][h.seq]++;
		pieces++;
		next_off[w] += n;
		if (next_off[w] == h.len) {
			next_off[w] = 0;
			next_seq[w]++;
		}
	}
	ASSERT_EQ(0, n);
	atomic_store(&st->done, true);
	for (w = 0; w < CW_WRITERS + 1; w++) {
		ASSERT_GT(wait(&status), 0);
		ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	for (w = 0; w < CW_WRITERS; w++)
		ASSERT_EQ(st->writes, next_seq[w]);
	ASSERT_EQ(0, atomic_load(&st->flip_errors));

	/* A write that saw one limit throughout was cut exactly at it. */
	for (w = 0; w < CW_WRITERS; w++) {
		for (s = 0; s < st->writes; s++) {
			size_t limit = atomic_load(&st->stable[w][s]);
			size_t len = cw_len(w, s, pg, big + big / 2);

			if (!limit)
				continue;
			stable++;
			if (len > limit)
				stable_cut++;
			ASSERT_EQ(min_size(len, limit), first[w][s]) {
				TH_LOG("writer %u write %u of %zu bytes under a limit of %zu",
				       w, s, len, limit);
			}
			ASSERT_EQ((len + limit - 1) / limit, count[w][s]);
			ASSERT_FALSE(uneven[w][s]);
		}
	}
	TH_LOG("%u pieces of %u writes; %u limit changes; %u writes under one limit, %u cut",
	       pieces, CW_WRITERS * st->writes, atomic_load(&st->flips), stable, stable_cut);
	close(fds[0]);
	munmap(st, sizeof(*st));
}

/*
 * FIFOs: open() with O_DIRECT fails with EINVAL, as upstream, for every
 * access mode; F_SETFL O_DIRECT on an open end turns packets on.
 */
FIXTURE(fifo) {
	char dir[64];
	char path[96];
};

FIXTURE_SETUP(fifo)
{
	if (!packet_mode_supported())
		SKIP(return, NO_PACKET_MODE);
	snprintf(self->dir, sizeof(self->dir), "/tmp/packet_limit.XXXXXX");
	if (!mkdtemp(self->dir)) {
		/* Some test machines have no writable /tmp. */
		snprintf(self->dir, sizeof(self->dir), "packet_limit.XXXXXX");
		ASSERT_FALSE(!mkdtemp(self->dir));
	}
	snprintf(self->path, sizeof(self->path), "%s/fifo", self->dir);
	ASSERT_EQ(0, mkfifo(self->path, 0600));
}

FIXTURE_TEARDOWN(fifo)
{
	unlink(self->path);
	rmdir(self->dir);
}

TEST_F(fifo, open_wronly_odirect_is_einval)
{
	int rd, wr;

	/* A reader is there: the open would not block or fail otherwise. */
	rd = open(self->path, O_RDONLY | O_NONBLOCK);
	ASSERT_GE(rd, 0);
	wr = open(self->path, O_WRONLY | O_DIRECT | O_NONBLOCK);
	ASSERT_EQ(-1, wr);
	ASSERT_EQ(EINVAL, errno);
	wr = open(self->path, O_WRONLY | O_DIRECT);
	ASSERT_EQ(-1, wr);
	ASSERT_EQ(EINVAL, errno);
	/* No writer was left behind: the reader sees end of file. */
	ASSERT_EQ(0, read(rd, rbuf, rbuf_size));
	close(rd);
}

TEST_F(fifo, open_rdwr_odirect_is_einval)
{
	int fd;

	fd = open(self->path, O_RDWR | O_DIRECT);
	ASSERT_EQ(-1, fd);
	ASSERT_EQ(EINVAL, errno);
	fd = open(self->path, O_RDWR | O_DIRECT | O_NONBLOCK);
	ASSERT_EQ(-1, fd);
	ASSERT_EQ(EINVAL, errno);
}

TEST_F(fifo, open_rdonly_odirect_is_einval)
{
	int fd;

	fd = open(self->path, O_RDONLY | O_DIRECT | O_NONBLOCK);
	ASSERT_EQ(-1, fd);
	ASSERT_EQ(EINVAL, errno);
}

/* A blocking open waits for a reader (or not), then fails all the same. */
TEST_F(fifo, blocking_open_odirect_is_einval)
{
	int rd, status;
	pid_t pid;

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		int wr = open(self->path, O_WRONLY | O_DIRECT);

		if (wr >= 0)
			_exit(1);
		_exit(errno == EINVAL ? 0 : 2);
	}
	ASSERT_NE('?', wait_sleeping_or_exited(pid));
	/* Not a blocking open here: the child may be gone already. */
	rd = open(self->path, O_RDONLY | O_NONBLOCK);
	ASSERT_GE(rd, 0);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status)) {
		TH_LOG("open(O_WRONLY | O_DIRECT) of a FIFO %s",
		       WEXITSTATUS(status) == 1 ? "succeeded" : "failed, but not with EINVAL");
	}
	close(rd);
}

TEST_F(fifo, setfl_odirect_gives_packets_cut_at_a_page)
{
	unsigned int bad;
	ssize_t got;
	int rd, wr;

	rd = open(self->path, O_RDONLY | O_NONBLOCK);
	ASSERT_GE(rd, 0);
	wr = open(self->path, O_WRONLY);
	ASSERT_GE(wr, 0);
	ASSERT_EQ(0, fcntl(wr, F_SETFL, O_DIRECT));
	ASSERT_EQ(O_DIRECT, fcntl(wr, F_GETFL) & O_DIRECT);

	ASSERT_EQ(5, write_str(wr, "first"));
	ASSERT_EQ(6, write_str(wr, "second"));
	ASSERT_EQ(5, read(rd, rbuf, rbuf_size));
	ASSERT_EQ(0, memcmp(rbuf, "first", 5));
	ASSERT_EQ(6, read(rd, rbuf, rbuf_size));
	ASSERT_EQ(2 * page_size() + 100, write_packet(wr, 2 * page_size() + 100, 60));
	bad = read_packets(rd, 2 * page_size() + 100, page_size(), rbuf_size, 60, &got);
	ASSERT_EQ(0, bad) {
		TH_LOG("read %u returned %zd", bad, got);
	}
	close(wr);
	close(rd);
}

TEST_F(fifo, limit_works_on_a_fifo)
{
	size_t pg = page_size();
	int rd, wr;

	if (!packet_limit_supported())
		SKIP(return, NO_PACKET_LIMIT);
	rd = open(self->path, O_RDONLY | O_NONBLOCK);
	ASSERT_GE(rd, 0);
	wr = open(self->path, O_WRONLY);
	ASSERT_GE(wr, 0);
	ASSERT_EQ(pg, get_packet_limit(rd));
	ASSERT_EQ(3 * pg, set_packet_limit(rd, 3 * pg));
	ASSERT_EQ(3 * pg, get_packet_limit(wr));
	ASSERT_EQ(0, fcntl(wr, F_SETFL, O_DIRECT));
	ASSERT_EQ(3 * pg, write_packet(wr, 3 * pg, 61));
	ASSERT_EQ(3 * pg, read(rd, rbuf, rbuf_size));
	ASSERT_TRUE(check_pattern(rbuf, 3 * pg, 61));
	close(wr);
	close(rd);
}

/* Reopening a pipe through /proc is an open() too: O_DIRECT is refused. */
TEST(proc_reopen_of_a_pipe_with_odirect_is_einval)
{
	char path[64];
	int fds[2], fd;

	if (!packet_mode_supported())
		SKIP(return, NO_PACKET_MODE);
	ASSERT_EQ(0, pipe(fds));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[1]);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		SKIP(return, "cannot reopen a pipe through /proc: %s", strerror(errno));
	close(fd);
	ASSERT_EQ(-1, open(path, O_WRONLY | O_DIRECT));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, open(path, O_RDWR | O_DIRECT));
	ASSERT_EQ(EINVAL, errno);
	/* The pipe is as it was: a plain pipe. */
	ASSERT_EQ(0, fcntl(fds[1], F_GETFL) & O_DIRECT);
	ASSERT_EQ(2, write_str(fds[1], "ab"));
	ASSERT_EQ(2, write_str(fds[1], "cd"));
	ASSERT_EQ(4, read(fds[0], rbuf, rbuf_size));
	close(fds[0]);
	close(fds[1]);
}

/*
 * The splice family obeys the limit too: what one vmsplice(), splice()
 * from a file or sendfile() puts into a packet pipe becomes packets of at
 * most the limit, one packet if it fits within it.
 */
#define PATH_LEN 64
#define FILE_PAGES 4

FIXTURE(spliced) {
	char path[PATH_LEN];
	int file, rd, wr;
	size_t pg;
	unsigned char *data;	/* FILE_PAGES page-aligned pages, also the file's data */
};

FIXTURE_VARIANT(spliced) {
	int how;
};

enum { BY_VMSPLICE, BY_SPLICE, BY_SENDFILE };

FIXTURE_VARIANT_ADD(spliced, vmsplice) { .how = BY_VMSPLICE };
FIXTURE_VARIANT_ADD(spliced, splice) { .how = BY_SPLICE };
FIXTURE_VARIANT_ADD(spliced, sendfile) { .how = BY_SENDFILE };

FIXTURE_SETUP(spliced)
{
	size_t len;
	int fds[2];

	self->file = -1;
	self->data = MAP_FAILED;
	if (!packet_mode_supported())
		SKIP(return, NO_PACKET_MODE);
	self->pg = page_size();
	len = FILE_PAGES * self->pg;
	self->data = mmap(NULL, len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(self->data != MAP_FAILED);
	fill_pattern(self->data, len, 70);
	snprintf(self->path, PATH_LEN, "/tmp/packet_limit.XXXXXX");
	self->file = mkstemp(self->path);
	if (self->file < 0) {
		snprintf(self->path, PATH_LEN, "packet_limit.XXXXXX");
		self->file = mkstemp(self->path);
	}
	ASSERT_GE(self->file, 0);
	ASSERT_EQ(len, write(self->file, self->data, len));
	ASSERT_EQ(0, pipe2(fds, O_DIRECT | O_NONBLOCK));
	self->rd = fds[0];
	self->wr = fds[1];
}

FIXTURE_TEARDOWN(spliced)
{
	close(self->rd);
	close(self->wr);
	if (self->file >= 0) {
		close(self->file);
		unlink(self->path);
	}
	if (self->data != MAP_FAILED)
		munmap(self->data, FILE_PAGES * self->pg);
}

/* Put the first @len bytes of the data into the pipe with one call. */
static ssize_t splice_in(int how, int file, int wr, void *data, size_t len)
{
	struct iovec iov = { .iov_base = data, .iov_len = len };
	loff_t off = 0;
	off_t soff = 0;

	switch (how) {
	case BY_VMSPLICE:
		return vmsplice(wr, &iov, 1, 0);
	case BY_SPLICE:
		return splice(file, &off, wr, NULL, len, 0);
	default:
		return sendfile(wr, file, &soff, len);
	}
}

/*
 * Read the data from @off up to @len back; each read must be one packet
 * of at most @limit bytes. Returns the number of reads, or 0 on a wrong
 * one (its result in *got).
 */
static unsigned int read_spliced(int rd, size_t off, size_t len, size_t limit, ssize_t *got)
{
	unsigned int reads = 0;

	while (off < len) {
		*got = read(rd, rbuf, rbuf_size);
		if (*got <= 0 || (size_t)*got > limit || (size_t)*got > len - off ||
		    !check_pattern_at(rbuf, *got, 70, off))
			return 0;
		off += *got;
		reads++;
	}
	return reads;
}

TEST_F(spliced, default_limit_makes_page_sized_packets)
{
	size_t len = 3 * self->pg;
	ssize_t got;

	ASSERT_EQ(len, splice_in(variant->how, self->file, self->wr, self->data, len));
	got = read(self->rd, rbuf, rbuf_size);
	/* Upstream: no packets, so one read takes all; the series never. */
	if (got == (ssize_t)len && !packet_limit_supported())
		XFAIL(return, SPLICE_NO_PACKET);
	ASSERT_EQ(self->pg, got);
	ASSERT_TRUE(check_pattern(rbuf, self->pg, 70));
	ASSERT_EQ(2, read_spliced(self->rd, self->pg, len, self->pg, &got)) {
		TH_LOG("a read returned %zd", got);
	}
}

TEST_F(spliced, raised_limit_keeps_a_call_within_it_whole)
{
	size_t len = 3 * self->pg;
	ssize_t got;

	OPT_IN_PACKET_LIMIT(return, self->wr, len);
	ASSERT_EQ(len, splice_in(variant->how, self->file, self->wr, self->data, len));
	ASSERT_EQ(7, write_str(self->wr, "trailer"));
	ASSERT_EQ(1, read_spliced(self->rd, 0, len, len, &got)) {
		TH_LOG("a read returned %zd", got);
	}
	ASSERT_EQ(7, read(self->rd, rbuf, rbuf_size));
}

TEST_F(spliced, raised_limit_cuts_a_longer_call)
{
	size_t len = FILE_PAGES * self->pg - 100;
	unsigned int reads;
	ssize_t got;

	OPT_IN_PACKET_LIMIT(return, self->wr, 2 * self->pg);
	ASSERT_EQ(len, splice_in(variant->how, self->file, self->wr, self->data, len));
	/* Two packets of two pages at best; never one above the limit. */
	reads = read_spliced(self->rd, 0, len, 2 * self->pg, &got);
	ASSERT_NE(0, reads) {
		TH_LOG("a read returned %zd", got);
	}
	ASSERT_GE(reads, 2);
	ASSERT_EQ(0, queued_bytes(self->rd));
}

/*
 * Pipe to pipe: a packet larger than the destination's limit is cut into
 * packets of that limit; tee leaves the source as it was.
 */
FIXTURE(p2p) {
	int src[2], dst[2];
	size_t pg, len;
};

FIXTURE_SETUP(p2p)
{
	if (!packet_mode_supported())
		SKIP(return, NO_PACKET_MODE);
	ASSERT_EQ(0, pipe2(self->src, O_DIRECT | O_NONBLOCK));
	ASSERT_EQ(0, pipe2(self->dst, O_DIRECT | O_NONBLOCK));
	self->pg = page_size();
	self->len = 4 * self->pg;
	OPT_IN_PACKET_LIMIT(return, self->src[1], self->len);
	ASSERT_EQ(self->len, write_packet(self->src[1], self->len, 80));
	ASSERT_EQ(9, write_packet(self->src[1], 9, 81));
}

FIXTURE_TEARDOWN(p2p)
{
	close(self->src[0]);
	close(self->src[1]);
	close(self->dst[0]);
	close(self->dst[1]);
}

TEST_F(p2p, splice_cuts_at_the_default_limit_of_the_destination)
{
	unsigned int bad;
	ssize_t got;

	ASSERT_EQ(self->len, splice(self->src[0], NULL, self->dst[1], NULL, self->len, 0));
	bad = read_packets(self->dst[0], self->len, self->pg, rbuf_size, 80, &got);
	ASSERT_EQ(0, bad) {
		TH_LOG("read %u returned %zd", bad, got);
	}
	ASSERT_EQ(9, read(self->src[0], rbuf, rbuf_size));
}

TEST_F(p2p, splice_cuts_at_a_raised_limit_of_the_destination)
{
	unsigned int bad;
	ssize_t got;

	ASSERT_EQ(2 * self->pg, set_packet_limit(self->dst[0], 2 * self->pg));
	ASSERT_EQ(self->len, splice(self->src[0], NULL, self->dst[1], NULL, self->len, 0));
	bad = read_packets(self->dst[0], self->len, 2 * self->pg, rbuf_size, 80, &got);
	ASSERT_EQ(0, bad) {
		TH_LOG("read %u returned %zd", bad, got);
	}
}

TEST_F(p2p, tee_cuts_at_the_limit_of_the_destination_and_keeps_the_source)
{
	unsigned int bad;
	ssize_t got;

	ASSERT_EQ(self->len + 9, tee(self->src[0], self->dst[1], self->len + 9, 0));
	bad = read_packets(self->dst[0], self->len, self->pg, rbuf_size, 80, &got);
	ASSERT_EQ(0, bad) {
		TH_LOG("read %u returned %zd", bad, got);
	}
	ASSERT_EQ(9, read(self->dst[0], rbuf, rbuf_size));
	ASSERT_EQ(self->len, read(self->src[0], rbuf, rbuf_size));
	ASSERT_TRUE(check_pattern(rbuf, self->len, 80));
}

TEST_HARNESS_MAIN
