// SPDX-License-Identifier: GPL-2.0
/*
 * Packet pipes: what one write() and one read() mean.
 *
 * Each write() to a packet pipe is one packet; each read() returns at most
 * one packet and drops what does not fit its buffer. Zero-length reads and
 * writes do nothing. Capacity is counted in packets (ring slots), not bytes.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "packet_util.h"

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

FIXTURE(packet) {
	int rd, wr;
};

FIXTURE_SETUP(packet)
{
	int fds[2];

	if (!packet_mode_supported())
		SKIP(return, NO_PACKET_MODE);
	ASSERT_EQ(0, pipe2(fds, O_DIRECT));
	self->rd = fds[0];
	self->wr = fds[1];
	/* A wrong kernel then answers EAGAIN instead of hanging the test. */
	ASSERT_EQ(0, set_nonblock(self->rd));
}

FIXTURE_TEARDOWN(packet)
{
	close(self->rd);
	close(self->wr);
}

/* Packet sizes around the limits the contract names. */
FIXTURE(size) {
	int rd, wr;
	size_t len;
};

FIXTURE_VARIANT(size) {
	int len;	/* > 0: bytes; -1: PIPE_BUF - 1; 0: PAGE_SIZE */
};

FIXTURE_VARIANT_ADD(size, one_byte) { .len = 1 };
FIXTURE_VARIANT_ADD(size, pipe_buf_minus_one) { .len = -1 };
FIXTURE_VARIANT_ADD(size, pipe_buf) { .len = PIPE_BUF };
FIXTURE_VARIANT_ADD(size, page_size) { .len = 0 };

FIXTURE_SETUP(size)
{
	int fds[2];

	if (!packet_mode_supported())
		SKIP(return, NO_PACKET_MODE);
	ASSERT_EQ(0, pipe2(fds, O_DIRECT | O_NONBLOCK));
	self->rd = fds[0];
	self->wr = fds[1];
	if (variant->len > 0)
		self->len = variant->len;
	else if (variant->len < 0)
		self->len = PIPE_BUF - 1;
	else
		self->len = page_size();
}

FIXTURE_TEARDOWN(size)
{
	close(self->rd);
	close(self->wr);
}

TEST_F(size, one_write_is_one_packet)
{
	ASSERT_EQ(self->len, write_packet(self->wr, self->len, 1));
	ASSERT_EQ(3, write_packet(self->wr, 3, 2));
	ASSERT_EQ(self->len + 3, queued_bytes(self->rd));

	/* A big buffer still gets exactly the first packet, intact. */
	ASSERT_EQ(self->len, read(self->rd, rbuf, rbuf_size));
	ASSERT_TRUE(check_pattern(rbuf, self->len, 1));
	ASSERT_EQ(3, read(self->rd, rbuf, rbuf_size));
	ASSERT_TRUE(check_pattern(rbuf, 3, 2));
	ASSERT_EQ(-1, read(self->rd, rbuf, rbuf_size));
	ASSERT_EQ(EAGAIN, errno);
}

TEST_F(size, queued_packets_come_back_one_per_read)
{
	const unsigned int n = 5;
	unsigned int i;

	for (i = 0; i < n; i++)
		ASSERT_EQ(self->len, write_packet(self->wr, self->len, 10 + i));
	ASSERT_EQ(n * self->len, queued_bytes(self->rd));

	for (i = 0; i < n; i++) {
		ASSERT_EQ(self->len, read(self->rd, rbuf, rbuf_size)) {
			TH_LOG("packet %u of %u", i, n);
		}
		ASSERT_TRUE(check_pattern(rbuf, self->len, 10 + i)) {
			TH_LOG("packet %u: contents changed", i);
		}
		ASSERT_EQ((n - 1 - i) * self->len, queued_bytes(self->rd));
	}
}

TEST_F(packet, short_read_drops_rest_of_packet)
{
	ASSERT_EQ(100, write_packet(self->wr, 100, 1));
	ASSERT_EQ(20, write_packet(self->wr, 20, 2));
	ASSERT_EQ(120, queued_bytes(self->rd));

	ASSERT_EQ(10, read(self->rd, rbuf, 10));
	ASSERT_TRUE(check_pattern(rbuf, 10, 1));
	/* The other 90 bytes of the first packet are gone. */
	ASSERT_EQ(20, queued_bytes(self->rd));

	ASSERT_EQ(20, read(self->rd, rbuf, rbuf_size));
	ASSERT_TRUE(check_pattern(rbuf, 20, 2));
	ASSERT_EQ(0, queued_bytes(self->rd));
}

TEST_F(packet, short_readv_drops_rest_of_packet)
{
	unsigned char a[5], b[5];
	struct iovec iov[2] = {
		{ .iov_base = a, .iov_len = sizeof(a) },
		{ .iov_base = b, .iov_len = sizeof(b) },
	};

	ASSERT_EQ(100, write_packet(self->wr, 100, 1));
	ASSERT_EQ(30, write_packet(self->wr, 30, 2));

	ASSERT_EQ(10, readv(self->rd, iov, 2));
	ASSERT_TRUE(check_pattern(a, 5, 1));
	ASSERT_EQ(pattern_byte(1, 5), b[0]);
	ASSERT_EQ(pattern_byte(1, 9), b[4]);
	ASSERT_EQ(30, queued_bytes(self->rd));

	ASSERT_EQ(30, read(self->rd, rbuf, rbuf_size));
	ASSERT_TRUE(check_pattern(rbuf, 30, 2));
}

TEST_F(packet, exact_size_read_stops_at_boundary)
{
	ASSERT_EQ(64, write_packet(self->wr, 64, 1));
	ASSERT_EQ(64, write_packet(self->wr, 64, 2));

	ASSERT_EQ(64, read(self->rd, rbuf, 64));
	ASSERT_TRUE(check_pattern(rbuf, 64, 1));
	ASSERT_EQ(64, queued_bytes(self->rd));
	ASSERT_EQ(64, read(self->rd, rbuf, 64));
	ASSERT_TRUE(check_pattern(rbuf, 64, 2));
}

TEST_F(packet, fionread_counts_all_queued_bytes)
{
	ASSERT_EQ(0, queued_bytes(self->rd));
	ASSERT_EQ(10, write_packet(self->wr, 10, 1));
	ASSERT_EQ(20, write_packet(self->wr, 20, 2));
	ASSERT_EQ(30, write_packet(self->wr, 30, 3));
	/* Not the size of the next packet: every byte that is queued. */
	ASSERT_EQ(60, queued_bytes(self->rd));
	ASSERT_EQ(60, queued_bytes(self->wr));
}

TEST_F(packet, zero_length_write_makes_no_packet)
{
	struct pollfd pfd = { .fd = self->rd, .events = POLLIN };

	ASSERT_EQ(0, write(self->wr, rbuf, 0));
	ASSERT_EQ(0, queued_bytes(self->rd));
	ASSERT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_EQ(-1, read(self->rd, rbuf, rbuf_size));
	ASSERT_EQ(EAGAIN, errno);

	/* Nor does it split or end the packet written next. */
	ASSERT_EQ(7, write_packet(self->wr, 7, 3));
	ASSERT_EQ(0, write(self->wr, rbuf, 0));
	ASSERT_EQ(7, read(self->rd, rbuf, rbuf_size));
	ASSERT_TRUE(check_pattern(rbuf, 7, 3));
}

TEST_F(packet, zero_length_read_consumes_nothing)
{
	ASSERT_EQ(10, write_packet(self->wr, 10, 4));

	ASSERT_EQ(0, read(self->rd, rbuf, 0));
	ASSERT_EQ(10, queued_bytes(self->rd));
	/* The packet is still whole: not truncated by the empty read. */
	ASSERT_EQ(10, read(self->rd, rbuf, rbuf_size));
	ASSERT_TRUE(check_pattern(rbuf, 10, 4));
}

/* Fill @wr with 1-byte packets until EAGAIN; returns how many fit. */
static int fill_with_packets(int wr)
{
	int n = 0;

	if (set_nonblock(wr))
		return -1;
	while (write(wr, "x", 1) == 1)
		n++;
	return errno == EAGAIN ? n : -1;
}

TEST_F(packet, capacity_counts_packets_not_bytes)
{
	int size = fcntl(self->wr, F_GETPIPE_SZ);
	int slots = size / page_size();

	ASSERT_GT(size, 0);
	ASSERT_EQ(slots, fill_with_packets(self->wr));
	/* Full with only a few bytes queued: one slot per packet. */
	ASSERT_EQ(slots, queued_bytes(self->rd));
	ASSERT_EQ(size, fcntl(self->wr, F_GETPIPE_SZ));
}

TEST_F(packet, pollout_cleared_when_full_and_back_after_read)
{
	struct pollfd pfd = { .fd = self->wr, .events = POLLOUT };

	ASSERT_EQ(1, poll(&pfd, 1, 0));
	ASSERT_TRUE(pfd.revents & POLLOUT);

	ASSERT_GT(fill_with_packets(self->wr), 0);
	ASSERT_EQ(0, poll(&pfd, 1, 0));

	ASSERT_EQ(1, read(self->rd, rbuf, rbuf_size));
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	ASSERT_TRUE(pfd.revents & POLLOUT);
	ASSERT_EQ(1, write(self->wr, "y", 1));
	ASSERT_EQ(0, poll(&pfd, 1, 0));
}

TEST_F(packet, one_page_pipe_holds_one_packet)
{
	ASSERT_EQ(page_size(), fcntl(self->wr, F_SETPIPE_SZ, page_size()));
	ASSERT_EQ(0, set_nonblock(self->wr));

	ASSERT_EQ(1, write(self->wr, "a", 1));
	ASSERT_EQ(-1, write(self->wr, "b", 1));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(1, read(self->rd, rbuf, rbuf_size));
	ASSERT_EQ('a', rbuf[0]);
	ASSERT_EQ(1, write(self->wr, "c", 1));
}

TEST_F(packet, shrinking_below_queued_packets_is_ebusy)
{
	int i;

	for (i = 0; i < 4; i++)
		ASSERT_EQ(1, write(self->wr, "p", 1));

	/* Four bytes queued, but four slots: two pages cannot hold them. */
	ASSERT_EQ(-1, fcntl(self->wr, F_SETPIPE_SZ, 2 * page_size()));
	ASSERT_EQ(EBUSY, errno);

	ASSERT_EQ(1, read(self->rd, rbuf, rbuf_size));
	ASSERT_EQ(1, read(self->rd, rbuf, rbuf_size));
	ASSERT_EQ(2 * page_size(), fcntl(self->wr, F_SETPIPE_SZ, 2 * page_size()));
	ASSERT_EQ(2, queued_bytes(self->rd));
	ASSERT_EQ(1, read(self->rd, rbuf, rbuf_size));
	ASSERT_EQ(1, read(self->rd, rbuf, rbuf_size));
}

TEST_F(packet, blocked_writer_wakes_when_a_packet_is_read)
{
	int slots, status;
	pid_t pid;

	slots = fill_with_packets(self->wr);
	ASSERT_GT(slots, 0);

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		/* Blocking write of one more packet into the full pipe. */
		fcntl(self->wr, F_SETFL, O_DIRECT);
		_exit(write_packet(self->wr, 50, 9) == 50 ? 0 : 1);
	}
	ASSERT_EQ('S', wait_sleeping_or_exited(pid)) {
		TH_LOG("the writer did not block on a full packet pipe");
	}

	ASSERT_EQ(1, read(self->rd, rbuf, rbuf_size));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));

	/* The woken writer's packet is whole, behind the others. */
	while (--slots)
		ASSERT_EQ(1, read(self->rd, rbuf, rbuf_size));
	ASSERT_EQ(50, read(self->rd, rbuf, rbuf_size));
	ASSERT_TRUE(check_pattern(rbuf, 50, 9));
}

TEST_F(packet, write_without_reader_is_epipe_and_sigpipe)
{
	sigset_t set, pending;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &set, NULL));

	close(self->rd);
	self->rd = -1;
	ASSERT_EQ(-1, write_packet(self->wr, 10, 1));
	ASSERT_EQ(EPIPE, errno);
	ASSERT_EQ(0, sigpending(&pending));
	ASSERT_TRUE(sigismember(&pending, SIGPIPE));
}

TEST_F(packet, queued_packets_drain_after_writer_closes)
{
	int i;

	for (i = 0; i < 3; i++)
		ASSERT_EQ(30, write_packet(self->wr, 30, i));
	close(self->wr);
	self->wr = -1;

	/* Each packet is truncated alone; none spills into the next read. */
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(2, read(self->rd, rbuf, 2));
		ASSERT_TRUE(check_pattern(rbuf, 2, i));
	}
	ASSERT_EQ(0, read(self->rd, rbuf, rbuf_size));
}

TEST_F(packet, poll_readiness_follows_packets)
{
	struct pollfd pfd = { .fd = self->rd, .events = POLLIN };

	ASSERT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_EQ(5, write_packet(self->wr, 5, 1));
	ASSERT_EQ(6, write_packet(self->wr, 6, 2));

	ASSERT_EQ(1, poll(&pfd, 1, 0));
	ASSERT_TRUE(pfd.revents & POLLIN);
	ASSERT_EQ(5, read(self->rd, rbuf, rbuf_size));

	/* One packet left: still readable. */
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	ASSERT_TRUE(pfd.revents & POLLIN);
	ASSERT_EQ(6, read(self->rd, rbuf, rbuf_size));

	ASSERT_EQ(0, poll(&pfd, 1, 0));
}

TEST_F(packet, epoll_readiness_follows_packets)
{
	struct epoll_event ev = { .events = EPOLLIN }, out;
	int lt, et;

	lt = epoll_create1(0);
	et = epoll_create1(0);
	ASSERT_GE(lt, 0);
	ASSERT_GE(et, 0);
	ASSERT_EQ(0, epoll_ctl(lt, EPOLL_CTL_ADD, self->rd, &ev));
	ev.events = EPOLLIN | EPOLLET;
	ASSERT_EQ(0, epoll_ctl(et, EPOLL_CTL_ADD, self->rd, &ev));

	ASSERT_EQ(0, epoll_wait(lt, &out, 1, 0));
	ASSERT_EQ(0, epoll_wait(et, &out, 1, 0));

	ASSERT_EQ(8, write_packet(self->wr, 8, 1));
	ASSERT_EQ(1, epoll_wait(et, &out, 1, 0));
	ASSERT_EQ(0, epoll_wait(et, &out, 1, 0));
	/* Every new packet is a new edge, even into a non-empty pipe. */
	ASSERT_EQ(9, write_packet(self->wr, 9, 2));
	ASSERT_EQ(1, epoll_wait(et, &out, 1, 0));

	ASSERT_EQ(1, epoll_wait(lt, &out, 1, 0));
	ASSERT_TRUE(out.events & EPOLLIN);
	ASSERT_EQ(8, read(self->rd, rbuf, rbuf_size));
	ASSERT_EQ(1, epoll_wait(lt, &out, 1, 0));
	ASSERT_EQ(9, read(self->rd, rbuf, rbuf_size));
	ASSERT_EQ(0, epoll_wait(lt, &out, 1, 0));

	close(lt);
	close(et);
}

/*
 * Self-describing packets for the concurrency tests: a header then a
 * pattern derived from (writer, seq).
 */
struct pkt_hdr {
	uint32_t writer;
	uint32_t seq;
	uint32_t len;
};

static size_t pkt_len(unsigned int writer, unsigned int seq)
{
	/* Sizes from the header alone up to PIPE_BUF. */
	return sizeof(struct pkt_hdr) +
	       (writer * 7919 + seq * 104729) % (PIPE_BUF - sizeof(struct pkt_hdr) + 1);
}

static void make_pkt(unsigned char *buf, unsigned int writer, unsigned int seq)
{
	struct pkt_hdr h = { writer, seq, pkt_len(writer, seq) };

	memcpy(buf, &h, sizeof(h));
	fill_pattern(buf + sizeof(h), h.len - sizeof(h), writer * 65536 + seq);
}

/* Is @buf, as returned by one read() of @n bytes, exactly one whole packet? */
static bool pkt_whole(const unsigned char *buf, ssize_t n, struct pkt_hdr *h)
{
	if (n < (ssize_t)sizeof(*h))
		return false;
	memcpy(h, buf, sizeof(*h));
	return h->len == n && h->len == pkt_len(h->writer, h->seq) &&
	       check_pattern(buf + sizeof(*h), n - sizeof(*h),
			     h->writer * 65536 + h->seq);
}

#define WRITERS		4
#define READERS		4
#define PER_WRITER	300

static void run_writer(int wr, unsigned int writer)
{
	unsigned char buf[PIPE_BUF];
	unsigned int seq;

	for (seq = 0; seq < PER_WRITER; seq++) {
		make_pkt(buf, writer, seq);
		if (write(wr, buf, pkt_len(writer, seq)) != (ssize_t)pkt_len(writer, seq))
			_exit(1);
	}
	_exit(0);
}

TEST(concurrent_writers_never_interleave)
{
	unsigned int next[WRITERS] = { 0 }, total = 0, w;
	struct pkt_hdr h;
	int fds[2], status;
	ssize_t n;

	if (!packet_mode_supported())
		SKIP(return, NO_PACKET_MODE);
	ASSERT_EQ(0, pipe2(fds, O_DIRECT));
	for (w = 0; w < WRITERS; w++) {
		pid_t pid = fork();

		ASSERT_GE(pid, 0);
		if (pid == 0) {
			close(fds[0]);
			run_writer(fds[1], w);
		}
	}
	close(fds[1]);

	while ((n = read(fds[0], rbuf, rbuf_size)) > 0) {
		ASSERT_TRUE(pkt_whole(rbuf, n, &h)) {
			TH_LOG("read %zd bytes that are not one whole packet (packet %u)",
			       n, total);
		}
		ASSERT_LT(h.writer, WRITERS);
		/* Per-writer order is kept: nothing lost or duplicated. */
		ASSERT_EQ(next[h.writer], h.seq);
		next[h.writer]++;
		total++;
	}
	ASSERT_EQ(0, n);
	ASSERT_EQ(WRITERS * PER_WRITER, total);
	for (w = 0; w < WRITERS; w++) {
		ASSERT_GT(wait(&status), 0);
		ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	close(fds[0]);
}

TEST(concurrent_readers_get_whole_packets)
{
	unsigned int counts[READERS], total = 0, r;
	int fds[2], res[2], status;
	pid_t pid;

	if (!packet_mode_supported())
		SKIP(return, NO_PACKET_MODE);
	ASSERT_EQ(0, pipe2(fds, O_DIRECT));
	ASSERT_EQ(0, pipe(res));
	for (r = 0; r < READERS; r++) {
		pid = fork();
		ASSERT_GE(pid, 0);
		if (pid == 0) {
			unsigned char buf[PIPE_BUF];
			unsigned int got = 0;
			struct pkt_hdr h;
			ssize_t n;

			close(fds[1]);
			while ((n = read(fds[0], buf, sizeof(buf))) > 0) {
				if (!pkt_whole(buf, n, &h))
					_exit(1);
				got++;
			}
			if (write(res[1], &got, sizeof(got)) != sizeof(got))
				_exit(2);
			_exit(n == 0 ? 0 : 3);
		}
	}
	close(fds[0]);
	close(res[1]);

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		run_writer(fds[1], 0);
	close(fds[1]);

	for (r = 0; r <= READERS; r++) {
		ASSERT_GT(wait(&status), 0);
		ASSERT_TRUE(WIFEXITED(status));
		ASSERT_EQ(0, WEXITSTATUS(status)) {
			TH_LOG("a reader got a torn or merged packet");
		}
	}
	ASSERT_EQ(sizeof(counts), read(res[0], counts, sizeof(counts)));
	for (r = 0; r < READERS; r++)
		total += counts[r];
	ASSERT_EQ(PER_WRITER, total);
	close(res[0]);
}

/*
 * Packets larger than a page, after the opt-in: with the pipe's packet
 * limit raised to its capacity (F_SETPIPE_PKT_SZ), a packet-mode write up
 * to the capacity is one packet, queued whole or not at all; longer
 * writes are cut into capacity-sized packets. A write that faults queues
 * nothing of the packet it faults in. Kernels without the opt-in (the
 * default cuts packets at PAGE_SIZE, as upstream) skip these tests.
 */
static unsigned char *wbuf;

static ssize_t write_big(int fd, size_t len, unsigned int seed)
{
	fill_pattern(wbuf, len, seed);
	return write(fd, wbuf, len);
}

FIXTURE(big) {
	int rd, wr;
	size_t capacity;
};

FIXTURE_SETUP(big)
{
	int fds[2];

	if (!packet_mode_supported())
		SKIP(return, NO_PACKET_MODE);
	ASSERT_EQ(0, pipe2(fds, O_DIRECT));
	self->rd = fds[0];
	self->wr = fds[1];
	ASSERT_EQ(0, set_nonblock(self->rd));
	self->capacity = fcntl(self->wr, F_GETPIPE_SZ);
	ASSERT_GE(self->capacity, 4 * page_size());
	ASSERT_LE(self->capacity, rbuf_size);
	wbuf = malloc(2 * self->capacity + 100);
	ASSERT_NE(NULL, wbuf);
	OPT_IN_PACKET_LIMIT(return, self->wr, self->capacity);
}

FIXTURE_TEARDOWN(big)
{
	close(self->rd);
	close(self->wr);
	free(wbuf);
}

TEST_F(big, packet_of_several_pages_is_one_read)
{
	size_t len = 2 * page_size() + 1000;

	ASSERT_EQ(len, write_big(self->wr, len, 1));
	ASSERT_EQ(7, write_big(self->wr, 7, 2));
	ASSERT_EQ(len + 7, queued_bytes(self->rd));

	ASSERT_EQ(len, read(self->rd, rbuf, rbuf_size));
	ASSERT_TRUE(check_pattern(rbuf, len, 1));
	ASSERT_EQ(7, read(self->rd, rbuf, rbuf_size));
	ASSERT_TRUE(check_pattern(rbuf, 7, 2));
}

TEST_F(big, short_read_drops_the_whole_rest)
{
	size_t len = 3 * page_size();

	ASSERT_EQ(len, write_big(self->wr, len, 3));
	ASSERT_EQ(5, write_big(self->wr, 5, 4));

	/* The head of the big packet; its other pages are gone too. */
	ASSERT_EQ(100, read(self->rd, rbuf, 100));
	ASSERT_TRUE(check_pattern(rbuf, 100, 3));
	ASSERT_EQ(5, queued_bytes(self->rd));
	ASSERT_EQ(5, read(self->rd, rbuf, rbuf_size));
	ASSERT_TRUE(check_pattern(rbuf, 5, 4));
}

TEST_F(big, read_ending_on_a_page_boundary_drops_the_rest)
{
	size_t len = 2 * page_size() + 10;

	ASSERT_EQ(len, write_big(self->wr, len, 5));
	ASSERT_EQ(1, write_big(self->wr, 1, 6));

	ASSERT_EQ(2 * page_size(), read(self->rd, rbuf, 2 * page_size()));
	ASSERT_TRUE(check_pattern(rbuf, 2 * page_size(), 5));
	ASSERT_EQ(1, read(self->rd, rbuf, rbuf_size));
	ASSERT_TRUE(check_pattern(rbuf, 1, 6));
}

TEST_F(big, capacity_sized_packet_is_one_read)
{
	ASSERT_EQ(self->capacity, write_big(self->wr, self->capacity, 7));
	ASSERT_EQ(self->capacity, read(self->rd, rbuf, rbuf_size));
	ASSERT_TRUE(check_pattern(rbuf, self->capacity, 7));
}

TEST_F(big, longer_write_is_cut_into_capacity_sized_packets)
{
	size_t len = 2 * self->capacity + 100;
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		fill_pattern(wbuf, len, 8);
		_exit(write(self->wr, wbuf, len) == (ssize_t)len ? 0 : 1);
	}
	ASSERT_EQ(0, fcntl(self->rd, F_SETFL, 0));
	ASSERT_EQ(self->capacity, read(self->rd, rbuf, rbuf_size));
	ASSERT_TRUE(check_pattern(rbuf, self->capacity, 8));
	ASSERT_EQ(self->capacity, read(self->rd, rbuf, rbuf_size));
	ASSERT_EQ(pattern_byte(8, self->capacity), rbuf[0]);
	ASSERT_EQ(100, read(self->rd, rbuf, rbuf_size));
	ASSERT_EQ(pattern_byte(8, 2 * self->capacity + 99), rbuf[99]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Fill all but @free slots of @wr with 1-byte packets. */
static bool leave_free_slots(int wr, size_t capacity, unsigned int free)
{
	unsigned int slots = capacity / page_size(), i;

	for (i = 0; i < slots - free; i++)
		if (write(wr, "s", 1) != 1)
			return false;
	return true;
}

TEST_F(big, nonblocking_write_is_all_or_nothing)
{
	ASSERT_EQ(0, set_nonblock(self->wr));
	ASSERT_TRUE(leave_free_slots(self->wr, self->capacity, 2));

	ASSERT_EQ(-1, write_big(self->wr, 2 * page_size() + 1, 9));
	ASSERT_EQ(EAGAIN, errno);
	/* Nothing of it was queued. */
	ASSERT_EQ(self->capacity / page_size() - 2, queued_bytes(self->rd));

	ASSERT_EQ(2 * page_size(), write_big(self->wr, 2 * page_size(), 9));
	ASSERT_EQ(-1, write(self->wr, "x", 1));
	ASSERT_EQ(EAGAIN, errno);
}

TEST_F(big, blocked_writer_waits_for_room_for_the_whole_packet)
{
	unsigned int slots = self->capacity / page_size(), i;
	size_t len = 3 * page_size();
	int status;
	pid_t pid;

	ASSERT_TRUE(leave_free_slots(self->wr, self->capacity, 1));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		_exit(write_big(self->wr, len, 10) == (ssize_t)len ? 0 : 1);

	ASSERT_EQ('S', wait_sleeping_or_exited(pid));
	/* One free slot, then two: still not room for three pages. */
	ASSERT_EQ(slots - 1, queued_bytes(self->rd));
	ASSERT_EQ(1, read(self->rd, rbuf, rbuf_size));
	ASSERT_EQ(slots - 2, queued_bytes(self->rd));
	/* The third free slot must wake the writer, though the pipe was not full. */
	ASSERT_EQ(1, read(self->rd, rbuf, rbuf_size));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	for (i = 0; i < slots - 3; i++)
		ASSERT_EQ(1, read(self->rd, rbuf, rbuf_size));
	ASSERT_EQ(len, read(self->rd, rbuf, rbuf_size));
	ASSERT_TRUE(check_pattern(rbuf, len, 10));
}

static void on_signal(int sig)
{
}

TEST_F(big, signal_while_waiting_leaves_no_partial_packet)
{
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART */
	unsigned int slots = self->capacity / page_size(), i;
	int status;
	pid_t pid;

	ASSERT_TRUE(leave_free_slots(self->wr, self->capacity, 1));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		sigaction(SIGUSR1, &sa, NULL);
		if (write_big(self->wr, 3 * page_size(), 11) != -1)
			_exit(1);
		_exit(errno == EINTR ? 0 : 2);
	}
	ASSERT_EQ('S', wait_sleeping_or_exited(pid));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));

	/* Only the 1-byte packets are queued: not a page of the big one. */
	ASSERT_EQ(slots - 1, queued_bytes(self->rd));
	for (i = 0; i < slots - 1; i++)
		ASSERT_EQ(1, read(self->rd, rbuf, rbuf_size));
	ASSERT_EQ(-1, read(self->rd, rbuf, rbuf_size));
	ASSERT_EQ(EAGAIN, errno);
}

TEST_F(big, resize_counts_every_page_of_a_packet)
{
	size_t len = 3 * page_size();

	ASSERT_EQ(len, write_big(self->wr, len, 12));
	ASSERT_EQ(1, write_big(self->wr, 1, 13));

	/* Four slots in use: two pages cannot hold them, four can. */
	ASSERT_EQ(-1, fcntl(self->wr, F_SETPIPE_SZ, 2 * page_size()));
	ASSERT_EQ(EBUSY, errno);
	ASSERT_EQ(4 * page_size(), fcntl(self->wr, F_SETPIPE_SZ, 4 * page_size()));
	ASSERT_EQ(len + 1, queued_bytes(self->rd));

	ASSERT_EQ(len, read(self->rd, rbuf, rbuf_size));
	ASSERT_TRUE(check_pattern(rbuf, len, 12));
	ASSERT_EQ(1, read(self->rd, rbuf, rbuf_size));
}

#define BIG_WRITERS	3
#define BIG_PER_WRITER	40

/* Packets that say who wrote them and how long they are. */
static size_t big_len(unsigned int w, unsigned int seq, size_t capacity)
{
	return 16 + (w * 40503u + seq * 2654435761u) % (capacity - 16);
}

TEST_F(big, concurrent_big_packets_never_interleave)
{
	unsigned int next[BIG_WRITERS] = { 0 }, total = 0, w;
	int status;
	ssize_t n;

	for (w = 0; w < BIG_WRITERS; w++) {
		pid_t pid = fork();

		ASSERT_GE(pid, 0);
		if (pid == 0) {
			unsigned int seq;

			close(self->rd);
			for (seq = 0; seq < BIG_PER_WRITER; seq++) {
				size_t len = big_len(w, seq, self->capacity);
				uint32_t hdr[2] = { w, seq };

				memcpy(wbuf, hdr, sizeof(hdr));
				fill_pattern(wbuf + sizeof(hdr), len - sizeof(hdr),
					     w * 1000 + seq);
				if (write(self->wr, wbuf, len) != (ssize_t)len)
					_exit(1);
			}
			_exit(0);
		}
	}
	close(self->wr);
	self->wr = -1;
	ASSERT_EQ(0, fcntl(self->rd, F_SETFL, 0));

	while ((n = read(self->rd, rbuf, rbuf_size)) > 0) {
		uint32_t hdr[2];

		memcpy(hdr, rbuf, sizeof(hdr));
		ASSERT_LT(hdr[0], BIG_WRITERS);
		ASSERT_EQ(next[hdr[0]], hdr[1]);
		ASSERT_EQ(big_len(hdr[0], hdr[1], self->capacity), n);
		ASSERT_TRUE(check_pattern(rbuf + sizeof(hdr), n - sizeof(hdr),
					  hdr[0] * 1000 + hdr[1]));
		next[hdr[0]]++;
		total++;
	}
	ASSERT_EQ(0, n);
	ASSERT_EQ(BIG_WRITERS * BIG_PER_WRITER, total);
	for (w = 0; w < BIG_WRITERS; w++) {
		ASSERT_GT(wait(&status), 0);
		ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
}

/* Three pages, the middle one unmapped (filled with 'f'); NULL on error. */
static unsigned char *map_with_hole(void)
{
	size_t pg = page_size();
	unsigned char *map;

	map = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return NULL;
	memset(map, 'f', 3 * pg);
	if (munmap(map + pg, pg)) {
		munmap(map, 3 * pg);
		return NULL;
	}
	return map;
}

static void unmap_with_hole(unsigned char *map)
{
	munmap(map, page_size());
	munmap(map + 2 * page_size(), page_size());
}

/*
 * With the default limit a write is cut into one-page packets: a write
 * that faults on its second page keeps the first, a whole packet, and
 * returns its bytes; nothing of the packet it faulted in is queued.
 */
TEST_F(packet, faulting_write_keeps_only_whole_packets)
{
	size_t pg = page_size();
	unsigned char *map = map_with_hole();
	ssize_t n;

	ASSERT_NE(NULL, map);
	/* A one-page packet from the unmapped page. */
	ASSERT_EQ(-1, write(self->wr, map + pg, 100));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(0, queued_bytes(self->rd));
	/* With the writer still open, an empty pipe is not end of file. */
	n = read(self->rd, rbuf, rbuf_size);
	if (n == 0)
		XFAIL(goto out, "an empty packet stays queued: read() returns 0");
	ASSERT_EQ(-1, n);
	ASSERT_EQ(EAGAIN, errno);

	ASSERT_EQ(pg, write(self->wr, map, 3 * pg));
	ASSERT_EQ(pg, queued_bytes(self->rd));
	ASSERT_EQ(pg, read(self->rd, rbuf, rbuf_size));
	ASSERT_EQ('f', rbuf[0]);
	ASSERT_EQ('f', rbuf[pg - 1]);
	ASSERT_EQ(-1, read(self->rd, rbuf, rbuf_size));
	ASSERT_EQ(EAGAIN, errno);
out:
	unmap_with_hole(map);
}

/* With the limit raised, the same write is one packet: none of it is queued. */
TEST_F(big, faulting_write_queues_nothing)
{
	size_t pg = page_size();
	unsigned char *map = map_with_hole();

	ASSERT_NE(NULL, map);
	ASSERT_EQ(-1, write(self->wr, map + pg, 100));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(0, queued_bytes(self->rd));

	/* A packet spanning the hole: nothing of it, not even its head. */
	ASSERT_EQ(-1, write(self->wr, map, 3 * pg));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(0, queued_bytes(self->rd));
	ASSERT_EQ(-1, read(self->rd, rbuf, rbuf_size));
	ASSERT_EQ(EAGAIN, errno);

	ASSERT_EQ(3, write(self->wr, "end", 3));
	ASSERT_EQ(3, read(self->rd, rbuf, rbuf_size));
	unmap_with_hole(map);
}

TEST_HARNESS_MAIN
