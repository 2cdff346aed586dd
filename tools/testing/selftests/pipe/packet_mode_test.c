// SPDX-License-Identifier: GPL-2.0
/*
 * Packet pipes: how the mode is switched on and off.
 *
 * pipe2(O_DIRECT) puts the mode on the write end; F_SETFL sets or clears
 * O_DIRECT on a pipe or FIFO write end (open() of a FIFO with O_DIRECT
 * is refused, as upstream); the read end's flag changes nothing; dup()ed
 * descriptors share the open file and so the mode.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "packet_util.h"

/* Larger than any packet a test reads: twice a new pipe's capacity. */
static char *rbuf;
static size_t rbuf_size;

static void __attribute__((constructor)) alloc_rbuf(void)
{
	rbuf_size = big_read_size();
	rbuf = malloc(rbuf_size);
	if (!rbuf)
		abort();
}

/* Read once into a big buffer; returns the length and NUL-terminates. */
static ssize_t read_once(int fd)
{
	ssize_t n = read(fd, rbuf, rbuf_size - 1);

	rbuf[n > 0 ? n : 0] = '\0';
	return n;
}

TEST(pipe2_odirect_marks_write_end_only)
{
	int fds[2];

	if (!packet_mode_supported())
		SKIP(return, NO_PACKET_MODE);
	ASSERT_EQ(0, pipe2(fds, O_DIRECT));
	ASSERT_EQ(O_WRONLY | O_DIRECT, fcntl(fds[1], F_GETFL) & (O_ACCMODE | O_DIRECT));
	ASSERT_EQ(O_RDONLY, fcntl(fds[0], F_GETFL) & (O_ACCMODE | O_DIRECT));
	ASSERT_EQ(0, fcntl(fds[0], F_GETFL) & O_NONBLOCK);
	ASSERT_EQ(0, fcntl(fds[0], F_GETFD) & FD_CLOEXEC);
	close(fds[0]);
	close(fds[1]);
}

TEST(pipe2_odirect_with_nonblock)
{
	int fds[2];

	if (!packet_mode_supported())
		SKIP(return, NO_PACKET_MODE);
	ASSERT_EQ(0, pipe2(fds, O_DIRECT | O_NONBLOCK));
	ASSERT_EQ(O_NONBLOCK | O_DIRECT, fcntl(fds[1], F_GETFL) & (O_NONBLOCK | O_DIRECT));
	ASSERT_EQ(O_NONBLOCK, fcntl(fds[0], F_GETFL) & (O_NONBLOCK | O_DIRECT));

	ASSERT_EQ(-1, read(fds[0], rbuf, 1));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(3, write_str(fds[1], "one"));
	ASSERT_EQ(3, write_str(fds[1], "two"));
	ASSERT_EQ(3, read_once(fds[0]));
	ASSERT_STREQ("one", rbuf);
	close(fds[0]);
	close(fds[1]);
}

TEST(pipe2_odirect_with_cloexec)
{
	int fds[2];

	if (!packet_mode_supported())
		SKIP(return, NO_PACKET_MODE);
	ASSERT_EQ(0, pipe2(fds, O_DIRECT | O_CLOEXEC));
	ASSERT_EQ(FD_CLOEXEC, fcntl(fds[0], F_GETFD) & FD_CLOEXEC);
	ASSERT_EQ(FD_CLOEXEC, fcntl(fds[1], F_GETFD) & FD_CLOEXEC);
	ASSERT_EQ(O_DIRECT, fcntl(fds[1], F_GETFL) & O_DIRECT);
	close(fds[0]);
	close(fds[1]);
}

TEST(pipe2_rejects_unknown_flags)
{
	static const int bad[] = { O_APPEND, O_SYNC, O_NOATIME, O_TRUNC, O_RDWR };
	unsigned int i;
	int fds[2];

	if (!packet_mode_supported())
		SKIP(return, NO_PACKET_MODE);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ASSERT_EQ(-1, pipe2(fds, O_DIRECT | bad[i])) {
			TH_LOG("pipe2(O_DIRECT | 0%o) was accepted", bad[i]);
		}
		ASSERT_EQ(EINVAL, errno);
		ASSERT_EQ(-1, pipe2(fds, bad[i]));
		ASSERT_EQ(EINVAL, errno);
	}
}

TEST(setfl_turns_packet_mode_on)
{
	int fds[2];

	if (!packet_mode_supported())
		SKIP(return, NO_PACKET_MODE);
	ASSERT_EQ(0, pipe(fds));
	ASSERT_EQ(2, write_str(fds[1], "ab"));
	ASSERT_EQ(2, write_str(fds[1], "cd"));
	ASSERT_EQ(4, read_once(fds[0]));	/* a plain pipe merges */

	ASSERT_EQ(0, fcntl(fds[1], F_SETFL, O_DIRECT));
	ASSERT_EQ(O_DIRECT, fcntl(fds[1], F_GETFL) & O_DIRECT);
	ASSERT_EQ(2, write_str(fds[1], "ef"));
	ASSERT_EQ(2, write_str(fds[1], "gh"));
	ASSERT_EQ(2, read_once(fds[0]));
	ASSERT_STREQ("ef", rbuf);
	ASSERT_EQ(2, read_once(fds[0]));
	ASSERT_STREQ("gh", rbuf);
	close(fds[0]);
	close(fds[1]);
}

TEST(setfl_turns_packet_mode_off)
{
	int fds[2];

	if (!packet_mode_supported())
		SKIP(return, NO_PACKET_MODE);
	ASSERT_EQ(0, pipe2(fds, O_DIRECT));
	ASSERT_EQ(0, fcntl(fds[1], F_SETFL, 0));
	ASSERT_EQ(0, fcntl(fds[1], F_GETFL) & O_DIRECT);
	ASSERT_EQ(2, write_str(fds[1], "ab"));
	ASSERT_EQ(2, write_str(fds[1], "cd"));
	ASSERT_EQ(4, read_once(fds[0]));
	ASSERT_STREQ("abcd", rbuf);
	close(fds[0]);
	close(fds[1]);
}

TEST(setfl_nonblock_keeping_odirect_keeps_packets)
{
	int fds[2], fl;

	if (!packet_mode_supported())
		SKIP(return, NO_PACKET_MODE);
	ASSERT_EQ(0, pipe2(fds, O_DIRECT));
	fl = fcntl(fds[1], F_GETFL);
	ASSERT_EQ(0, fcntl(fds[1], F_SETFL, fl | O_NONBLOCK));
	ASSERT_EQ(O_DIRECT | O_NONBLOCK, fcntl(fds[1], F_GETFL) & (O_DIRECT | O_NONBLOCK));
	ASSERT_EQ(1, write_str(fds[1], "a"));
	ASSERT_EQ(1, write_str(fds[1], "b"));
	ASSERT_EQ(1, read_once(fds[0]));
	ASSERT_EQ(1, read_once(fds[0]));
	close(fds[0]);
	close(fds[1]);
}

TEST(odirect_on_read_end_alone_changes_nothing)
{
	int fds[2];

	if (!packet_mode_supported())
		SKIP(return, NO_PACKET_MODE);
	ASSERT_EQ(0, pipe(fds));
	ASSERT_EQ(0, fcntl(fds[0], F_SETFL, O_DIRECT));
	ASSERT_EQ(2, write_str(fds[1], "ab"));
	ASSERT_EQ(2, write_str(fds[1], "cd"));
	ASSERT_EQ(4, read_once(fds[0]));
	ASSERT_STREQ("abcd", rbuf);
	close(fds[0]);
	close(fds[1]);
}

TEST(dup_shares_packet_mode)
{
	int fds[2], wr2;

	if (!packet_mode_supported())
		SKIP(return, NO_PACKET_MODE);
	ASSERT_EQ(0, pipe2(fds, O_DIRECT));
	wr2 = dup(fds[1]);
	ASSERT_GE(wr2, 0);
	ASSERT_EQ(O_DIRECT, fcntl(wr2, F_GETFL) & O_DIRECT);

	ASSERT_EQ(3, write_str(wr2, "dup"));
	ASSERT_EQ(4, write_str(fds[1], "orig"));
	ASSERT_EQ(3, read_once(fds[0]));
	ASSERT_EQ(4, read_once(fds[0]));

	/* Clearing the mode through one descriptor clears it for both. */
	ASSERT_EQ(0, fcntl(wr2, F_SETFL, 0));
	ASSERT_EQ(0, fcntl(fds[1], F_GETFL) & O_DIRECT);
	ASSERT_EQ(2, write_str(fds[1], "ab"));
	ASSERT_EQ(2, write_str(wr2, "cd"));
	ASSERT_EQ(4, read_once(fds[0]));
	close(wr2);
	close(fds[0]);
	close(fds[1]);
}

FIXTURE(fifo) {
	char dir[64];
	char path[96];
};

FIXTURE_SETUP(fifo)
{
	if (!packet_mode_supported())
		SKIP(return, NO_PACKET_MODE);
	snprintf(self->dir, sizeof(self->dir), "/tmp/packet_fifo.XXXXXX");
	if (!mkdtemp(self->dir)) {
		/* Some test machines have no writable /tmp. */
		snprintf(self->dir, sizeof(self->dir), "packet_fifo.XXXXXX");
		ASSERT_NE(NULL, mkdtemp(self->dir));
	}
	snprintf(self->path, sizeof(self->path), "%s/fifo", self->dir);
	ASSERT_EQ(0, mkfifo(self->path, 0600));
}

FIXTURE_TEARDOWN(fifo)
{
	unlink(self->path);
	rmdir(self->dir);
}

TEST_F(fifo, setfl_odirect_gives_packet_reads)
{
	int rd, wr;

	rd = open(self->path, O_RDONLY | O_NONBLOCK);
	ASSERT_GE(rd, 0);
	wr = open(self->path, O_WRONLY);
	ASSERT_GE(wr, 0);

	ASSERT_EQ(0, fcntl(wr, F_SETFL, O_DIRECT));
	ASSERT_EQ(5, write_str(wr, "first"));
	ASSERT_EQ(6, write_str(wr, "second"));
	ASSERT_EQ(5, read_once(rd));
	ASSERT_STREQ("first", rbuf);
	ASSERT_EQ(6, read_once(rd));
	ASSERT_STREQ("second", rbuf);

	/* And a short read drops the rest of a FIFO packet too. */
	ASSERT_EQ(7, write_str(wr, "packet1"));
	ASSERT_EQ(7, write_str(wr, "packet2"));
	ASSERT_EQ(3, read(rd, rbuf, 3));
	ASSERT_EQ(7, read_once(rd));
	ASSERT_STREQ("packet2", rbuf);
	close(rd);
	close(wr);
}

TEST_F(fifo, setfl_on_rdwr_end_packetizes_its_writes)
{
	int fd;

	fd = open(self->path, O_RDWR | O_NONBLOCK);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, fcntl(fd, F_SETFL, O_DIRECT | O_NONBLOCK));
	ASSERT_EQ(2, write_str(fd, "xy"));
	ASSERT_EQ(1, write_str(fd, "z"));
	ASSERT_EQ(2, read_once(fd));
	ASSERT_STREQ("xy", rbuf);
	ASSERT_EQ(1, read_once(fd));
	close(fd);
}

/*
 * open() of a FIFO with O_DIRECT fails with EINVAL, as upstream: only
 * F_SETFL switches a FIFO end to packets. packet_limit_test checks that.
 */

/*
 * A packet written after plain (stream) data must keep its own boundary:
 * the stream bytes may end the same read, but the packet never merges with
 * what was written before or after it.
 */
TEST(stream_then_packet_keeps_packet_boundary)
{
	int fds[2];
	ssize_t n;

	if (!packet_mode_supported())
		SKIP(return, NO_PACKET_MODE);
	ASSERT_EQ(0, pipe(fds));
	ASSERT_EQ(0, set_nonblock(fds[0]));
	ASSERT_EQ(4, write_str(fds[1], "AAAA"));
	ASSERT_EQ(0, fcntl(fds[1], F_SETFL, O_DIRECT));
	ASSERT_EQ(4, write_str(fds[1], "BBBB"));
	ASSERT_EQ(2, write_str(fds[1], "CC"));

	n = read(fds[0], rbuf, 10);
	if (n == 10 && !memcmp(rbuf, "AAAABBBBCC", 10))
		XFAIL(goto out, "upstream merges a packet write into a preceding stream buffer");
	ASSERT_EQ(8, n);
	ASSERT_EQ(0, memcmp(rbuf, "AAAABBBB", 8));
	ASSERT_EQ(2, read_once(fds[0]));
	ASSERT_STREQ("CC", rbuf);
out:
	close(fds[0]);
	close(fds[1]);
}

TEST(packet_then_stream_reads_packet_alone)
{
	int fds[2];

	if (!packet_mode_supported())
		SKIP(return, NO_PACKET_MODE);
	ASSERT_EQ(0, pipe2(fds, O_DIRECT));
	ASSERT_EQ(4, write_str(fds[1], "BBBB"));
	ASSERT_EQ(0, fcntl(fds[1], F_SETFL, 0));
	ASSERT_EQ(4, write_str(fds[1], "AAAA"));
	ASSERT_EQ(2, write_str(fds[1], "aa"));

	ASSERT_EQ(4, read_once(fds[0]));
	ASSERT_STREQ("BBBB", rbuf);
	ASSERT_EQ(6, read_once(fds[0]));
	ASSERT_STREQ("AAAAaa", rbuf);
	close(fds[0]);
	close(fds[1]);
}

/*
 * Data that splice(), vmsplice() or sendfile() puts into a packet-mode
 * pipe forms one packet per call; pipe-to-pipe splice and tee keep the
 * packets they move; a splice that ends inside a packet splits it, and
 * the rest stays in the source as a packet of its own.
 */
#define SPLICE_NO_PACKET "upstream never makes a packet of spliced data"

#define PATH_LEN 64

FIXTURE(splice) {
	char path[PATH_LEN];
	int file, rd, wr;
};

/*
 * A new file of 100 pattern bytes (seed 42), in /tmp or else in the
 * current directory; its name is left in @path for unlink().
 */
static int pattern_file(char path[PATH_LEN])
{
	char data[100];
	int fd;

	snprintf(path, PATH_LEN, "/tmp/packet_file.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0) {
		snprintf(path, PATH_LEN, "packet_file.XXXXXX");
		fd = mkstemp(path);
	}
	if (fd < 0)
		return -1;
	fill_pattern(data, sizeof(data), 42);
	if (write(fd, data, sizeof(data)) != sizeof(data)) {
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

FIXTURE_SETUP(splice)
{
	int fds[2];

	if (!packet_mode_supported())
		SKIP(return, NO_PACKET_MODE);
	self->file = pattern_file(self->path);
	ASSERT_GE(self->file, 0);
	ASSERT_EQ(0, pipe2(fds, O_DIRECT | O_NONBLOCK));
	self->rd = fds[0];
	self->wr = fds[1];
}

FIXTURE_TEARDOWN(splice)
{
	close(self->rd);
	close(self->wr);
	close(self->file);
	unlink(self->path);
}

/* The file's contents must never change, whatever the pipe does. */
static bool file_intact(int fd)
{
	char data[100];

	return pread(fd, data, sizeof(data), 0) == sizeof(data) &&
	       check_pattern(data, sizeof(data), 42);
}

TEST_F(splice, splice_from_file_forms_one_packet_per_call)
{
	loff_t off = 0;
	ssize_t n;

	ASSERT_EQ(30, splice(self->file, &off, self->wr, NULL, 30, 0));
	ASSERT_EQ(30, splice(self->file, &off, self->wr, NULL, 30, 0));
	ASSERT_EQ(5, write_str(self->wr, "abcde"));

	n = read_once(self->rd);
	if (n == 65)
		XFAIL(goto out, SPLICE_NO_PACKET);
	ASSERT_EQ(30, n);
	ASSERT_TRUE(check_pattern(rbuf, 30, 42));
	ASSERT_EQ(30, read_once(self->rd));
	ASSERT_EQ(pattern_byte(42, 30), (unsigned char)rbuf[0]);
	ASSERT_EQ(5, read_once(self->rd));
	ASSERT_STREQ("abcde", rbuf);
out:
	ASSERT_TRUE(file_intact(self->file));
}

TEST_F(splice, sendfile_forms_one_packet_per_call)
{
	off_t off = 0;
	ssize_t n;

	ASSERT_EQ(40, sendfile(self->wr, self->file, &off, 40));
	ASSERT_EQ(40, sendfile(self->wr, self->file, &off, 40));
	n = read_once(self->rd);
	if (n == 80)
		XFAIL(return, SPLICE_NO_PACKET);
	ASSERT_EQ(40, n);
	ASSERT_EQ(40, read_once(self->rd));
	ASSERT_EQ(pattern_byte(42, 40), (unsigned char)rbuf[0]);
	ASSERT_TRUE(file_intact(self->file));
}

TEST_F(splice, vmsplice_forms_one_packet_per_call)
{
	static char one[10] = "0123456789", two[20] = "abcdefghijklmnopqrst";
	struct iovec iov = { .iov_base = one, .iov_len = sizeof(one) };
	ssize_t n;

	ASSERT_EQ(10, vmsplice(self->wr, &iov, 1, 0));
	iov.iov_base = two;
	iov.iov_len = sizeof(two);
	ASSERT_EQ(20, vmsplice(self->wr, &iov, 1, 0));
	ASSERT_EQ(5, write_str(self->wr, "tail!"));

	n = read_once(self->rd);
	if (n == 35 || n == 30)
		XFAIL(return, SPLICE_NO_PACKET);
	ASSERT_EQ(10, n);
	ASSERT_EQ(20, read_once(self->rd));
	ASSERT_EQ(0, memcmp(rbuf, two, 20));
	ASSERT_EQ(5, read_once(self->rd));
}

TEST_F(splice, pipe_to_pipe_splice_keeps_packets)
{
	int dst[2];

	ASSERT_EQ(0, pipe2(dst, O_NONBLOCK));
	ASSERT_EQ(100, write_packet(self->wr, 100, 1));
	ASSERT_EQ(200, write_packet(self->wr, 200, 2));
	ASSERT_EQ(50, write_packet(self->wr, 50, 3));

	/* Into a plain pipe: the packets arrive as they left. */
	ASSERT_EQ(350, splice(self->rd, NULL, dst[1], NULL, 1000, 0));
	ASSERT_EQ(100, read_once(dst[0]));
	ASSERT_TRUE(check_pattern(rbuf, 100, 1));
	ASSERT_EQ(200, read_once(dst[0]));
	ASSERT_TRUE(check_pattern(rbuf, 200, 2));
	ASSERT_EQ(50, read_once(dst[0]));
	close(dst[0]);
	close(dst[1]);
}

TEST_F(splice, splice_ending_inside_a_packet_keeps_its_rest)
{
	int dst[2];
	size_t i;

	ASSERT_EQ(0, pipe2(dst, O_NONBLOCK));
	ASSERT_EQ(100, write_packet(self->wr, 100, 4));
	ASSERT_EQ(20, write_packet(self->wr, 20, 5));

	ASSERT_EQ(50, splice(self->rd, NULL, dst[1], NULL, 50, 0));
	ASSERT_EQ(50, read_once(dst[0]));
	ASSERT_TRUE(check_pattern(rbuf, 50, 4));
	/*
	 * As splice always did: the rest of the packet stays in the source,
	 * as a packet of its own, and the next packet is still whole.
	 */
	ASSERT_EQ(50, read_once(self->rd));
	for (i = 0; i < 50; i++)
		ASSERT_EQ(pattern_byte(4, 50 + i), (unsigned char)rbuf[i]);
	ASSERT_EQ(20, read_once(self->rd));
	ASSERT_TRUE(check_pattern(rbuf, 20, 5));
	close(dst[0]);
	close(dst[1]);
}

TEST_F(splice, tee_keeps_packets_and_the_source)
{
	int dst[2];

	ASSERT_EQ(0, pipe2(dst, O_NONBLOCK));
	ASSERT_EQ(100, write_packet(self->wr, 100, 6));
	ASSERT_EQ(200, write_packet(self->wr, 200, 7));

	/* A tee that ends inside the second packet ends it there. */
	ASSERT_EQ(150, tee(self->rd, dst[1], 150, 0));
	ASSERT_EQ(100, read_once(dst[0]));
	ASSERT_TRUE(check_pattern(rbuf, 100, 6));
	ASSERT_EQ(50, read_once(dst[0]));
	ASSERT_TRUE(check_pattern(rbuf, 50, 7));
	ASSERT_EQ(-1, read_once(dst[0]));

	/* The source still holds both packets, whole. */
	ASSERT_EQ(100, read_once(self->rd));
	ASSERT_EQ(200, read_once(self->rd));
	ASSERT_TRUE(check_pattern(rbuf, 200, 7));
	close(dst[0]);
	close(dst[1]);
}

TEST_F(splice, stream_data_spliced_into_packet_pipe_becomes_a_packet)
{
	int src[2];
	ssize_t n;

	ASSERT_EQ(0, pipe(src));
	ASSERT_EQ(3, write_str(src[1], "abc"));
	ASSERT_EQ(3, write_str(src[1], "def"));
	ASSERT_EQ(6, splice(src[0], NULL, self->wr, NULL, 100, 0));
	/* A later packet write must not merge into the spliced data. */
	ASSERT_EQ(1, write_str(self->wr, "x"));

	n = read_once(self->rd);
	if (n == 7)
		XFAIL(goto out, SPLICE_NO_PACKET);
	ASSERT_EQ(6, n);
	ASSERT_STREQ("abcdef", rbuf);
	ASSERT_EQ(1, read_once(self->rd));
out:
	close(src[0]);
	close(src[1]);
}

/*
 * A packet larger than a page, after the opt-in on both pipes (the
 * destination's limit would cut it otherwise), moves whole or not at all.
 */
TEST_F(splice, big_packet_waits_for_room_in_the_destination)
{
	size_t pg = page_size(), len = 3 * pg;
	unsigned int slots, i;
	int dst[2];

	/* A packet pipe: each 1-byte write below takes a slot of its own. */
	ASSERT_EQ(0, pipe2(dst, O_DIRECT | O_NONBLOCK));
	slots = fcntl(dst[1], F_GETPIPE_SZ) / pg;
	ASSERT_GE(slots, 4);
	OPT_IN_PACKET_LIMIT(return, self->wr, len);
	OPT_IN_PACKET_LIMIT(return, dst[1], len);
	ASSERT_EQ(len, write_packet(self->wr, len, 8));
	ASSERT_EQ(len, queued_bytes(self->rd));

	/* Two free slots: the three-page packet is not torn to fit. */
	for (i = 0; i < slots - 2; i++)
		ASSERT_EQ(1, write_str(dst[1], "s"));
	ASSERT_EQ(-1, splice(self->rd, NULL, dst[1], NULL, len, SPLICE_F_NONBLOCK));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(len, queued_bytes(self->rd));

	for (i = 0; i < slots - 2; i++)
		ASSERT_EQ(1, read(dst[0], rbuf, rbuf_size));
	ASSERT_EQ(len, splice(self->rd, NULL, dst[1], NULL, len, SPLICE_F_NONBLOCK));
	ASSERT_EQ(len, read(dst[0], rbuf, rbuf_size));
	ASSERT_TRUE(check_pattern(rbuf, len, 8));
	close(dst[0]);
	close(dst[1]);
}

/*
 * Bad input: each call gets its defined error, and the pipe is left as it
 * was (no packet lost, cut or half queued).
 */
FIXTURE(bad) {
	int rd, wr;
	size_t pg;
	char *hole;	/* a page that is not mapped */
};

/*
 * Raw system calls for arguments that the C library's declarations (and
 * the compiler's checks of them) would not let through.
 */
static long raw_write(int fd, const void *buf, size_t len)
{
	return syscall(__NR_write, fd, buf, len);
}

static long raw_read(int fd, void *buf, size_t len)
{
	return syscall(__NR_read, fd, buf, len);
}

FIXTURE_SETUP(bad)
{
	int fds[2];

	if (!packet_mode_supported())
		SKIP(return, NO_PACKET_MODE);
	ASSERT_EQ(0, pipe2(fds, O_DIRECT | O_NONBLOCK));
	self->rd = fds[0];
	self->wr = fds[1];
	self->pg = page_size();
	self->hole = mmap(NULL, self->pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->hole);
	ASSERT_EQ(5, write_str(self->wr, "first"));
}

FIXTURE_TEARDOWN(bad)
{
	close(self->rd);
	close(self->wr);
	munmap(self->hole, self->pg);
}

/* The packet queued in setup must still be there, whole. */
static bool first_packet_intact(int rd)
{
	return read_once(rd) == 5 && !strcmp(rbuf, "first");
}

TEST_F(bad, pipe2_rejects_a_bad_array)
{
	ASSERT_EQ(-1, pipe2((int *)self->hole, O_DIRECT));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, pipe2(NULL, O_DIRECT | O_CLOEXEC));
	ASSERT_EQ(EFAULT, errno);
}

TEST_F(bad, write_from_bad_buffers_queues_nothing)
{
	struct iovec iov[2] = {
		{ .iov_base = "ok", .iov_len = 2 },
		{ .iov_base = self->hole, .iov_len = 10 },
	};

	ASSERT_EQ(-1, raw_write(self->wr, NULL, 10));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, write(self->wr, self->hole, 10));
	ASSERT_EQ(EFAULT, errno);
	/* A good segment then a bad one: no packet of the good part alone. */
	ASSERT_EQ(-1, writev(self->wr, iov, 2));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(5, queued_bytes(self->rd));
	ASSERT_TRUE(first_packet_intact(self->rd));
}

TEST_F(bad, read_into_bad_buffer_keeps_the_packet)
{
	ASSERT_EQ(-1, raw_read(self->rd, NULL, 10));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, read(self->rd, self->hole, 10));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(5, queued_bytes(self->rd));
	ASSERT_TRUE(first_packet_intact(self->rd));
}

TEST_F(bad, unaligned_buffers_work)
{
	static char buf[64];

	memcpy(buf + 1, "odd", 3);
	ASSERT_EQ(3, write(self->wr, buf + 1, 3));
	ASSERT_TRUE(first_packet_intact(self->rd));
	ASSERT_EQ(3, read(self->rd, buf + 3, 3));
	ASSERT_EQ(0, memcmp(buf + 3, "odd", 3));
}

TEST_F(bad, huge_lengths_are_refused)
{
	struct iovec iov = { .iov_base = rbuf, .iov_len = SIZE_MAX };

	ASSERT_EQ(-1, raw_write(self->wr, rbuf, SIZE_MAX));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, writev(self->wr, &iov, 1));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_TRUE(first_packet_intact(self->rd));
}

TEST_F(bad, too_many_iovecs_are_refused)
{
	static struct iovec iov[IOV_MAX + 1];
	unsigned int i;

	for (i = 0; i <= IOV_MAX; i++) {
		iov[i].iov_base = rbuf;
		iov[i].iov_len = 1;
	}
	ASSERT_EQ(-1, writev(self->wr, iov, IOV_MAX + 1));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, readv(self->rd, iov, IOV_MAX + 1));
	ASSERT_EQ(EINVAL, errno);
	/* IOV_MAX one-byte segments are one packet. */
	ASSERT_EQ(IOV_MAX, writev(self->wr, iov, IOV_MAX));
	ASSERT_TRUE(first_packet_intact(self->rd));
	ASSERT_EQ(IOV_MAX, read(self->rd, rbuf, rbuf_size));
}

#ifndef O_NOTIFICATION_PIPE
#define O_NOTIFICATION_PIPE O_EXCL	/* <linux/watch_queue.h> */
#endif

/*
 * Only the kernel writes to a notification pipe, and each notification is
 * read whole already: packet mode is refused there, by pipe2() and fcntl().
 */
TEST_F(bad, notification_pipe_refuses_odirect)
{
	int fds[2];

	if (!pipe2(fds, O_DIRECT | O_NOTIFICATION_PIPE)) {
		close(fds[0]);
		close(fds[1]);
		XFAIL(return, "upstream takes O_DIRECT on a notification pipe");
	}
	if (errno == ENOPKG)	/* the flags passed, watch queues are off */
		XFAIL(return, "upstream takes O_DIRECT on a notification pipe");
	ASSERT_EQ(EINVAL, errno);

	if (pipe2(fds, O_NOTIFICATION_PIPE)) {
		ASSERT_EQ(ENOPKG, errno);
		SKIP(return, "no notification pipes: CONFIG_WATCH_QUEUE is off");
	}
	EXPECT_EQ(-1, fcntl(fds[1], F_SETFL, O_DIRECT));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, fcntl(fds[1], F_GETFL) & O_DIRECT);
	close(fds[0]);
	close(fds[1]);
	ASSERT_TRUE(first_packet_intact(self->rd));
}

TEST_F(bad, wrong_and_closed_descriptors_are_ebadf)
{
	int fd = dup(self->wr);

	ASSERT_EQ(-1, read(self->wr, rbuf, 1));
	ASSERT_EQ(EBADF, errno);
	ASSERT_EQ(-1, write(self->rd, "x", 1));
	ASSERT_EQ(EBADF, errno);
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(-1, write(fd, "x", 1));
	ASSERT_EQ(EBADF, errno);
	ASSERT_EQ(-1, fcntl(fd, F_SETFL, O_DIRECT));
	ASSERT_EQ(EBADF, errno);
	ASSERT_TRUE(first_packet_intact(self->rd));
}

/*
 * Page-cache safety, the class of bug of Dirty Pipe (CVE-2022-0847): a
 * pipe buffer that holds a file's page must never take a write, and no
 * flag left in a ring slot by an earlier buffer may reach the buffer that
 * splice or tee puts there next. Before each test every slot of each pipe
 * has held a mergeable stream page and a packet, and the file's page then
 * lands on the stale flags of one or the other. The variants check packet
 * pipes and plain pipes (pipes whose O_DIRECT was cleared). The writes
 * after the file's page are stream writes, the kind that appends to the
 * last buffer when it may.
 */
FIXTURE(page_cache) {
	char path[PATH_LEN];
	int file;
	int a[2], b[2], c[2];
};

FIXTURE_VARIANT(page_cache) {
	bool packet;
};

FIXTURE_VARIANT_ADD(page_cache, packet_pipe) { .packet = true };
FIXTURE_VARIANT_ADD(page_cache, plain_pipe) { .packet = false };

/*
 * Go twice round the ring of a non-blocking pipe, one write and one read
 * per slot, page-sized stream writes and one-byte packets in turn; the
 * last to use slot 0 (where the next buffer goes) is a packet if
 * @packet_last. Leave the write end in the variant's mode.
 */
static bool use_every_slot(int fds[2], bool packet_last, bool packet)
{
	int stream = O_NONBLOCK, pkt = O_NONBLOCK | O_DIRECT;
	size_t pg = page_size();
	unsigned int slots = fcntl(fds[1], F_GETPIPE_SZ) / pg, i;

	for (i = 0; i < 2 * slots; i++) {
		bool as_packet = packet_last ^ (i % 2) ^ (i < slots);
		ssize_t len = as_packet ? 1 : pg;

		if (fcntl(fds[1], F_SETFL, as_packet ? pkt : stream) ||
		    write_packet(fds[1], len, i) != len ||
		    read(fds[0], rbuf, rbuf_size) != len)
			return false;
	}
	return !fcntl(fds[1], F_SETFL, packet ? pkt : stream);
}

/* A write that may append to the last buffer: without O_DIRECT. */
static ssize_t stream_write(int fd, const char *str)
{
	int fl = fcntl(fd, F_GETFL);
	ssize_t n;

	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_DIRECT))
		return -1;
	n = write_str(fd, str);
	return fcntl(fd, F_SETFL, fl) ? -1 : n;
}

FIXTURE_SETUP(page_cache)
{
	if (!packet_mode_supported())
		SKIP(return, NO_PACKET_MODE);
	self->file = pattern_file(self->path);
	ASSERT_GE(self->file, 0);
	ASSERT_EQ(0, pipe2(self->a, O_NONBLOCK));
	ASSERT_EQ(0, pipe2(self->b, O_NONBLOCK));
	ASSERT_EQ(0, pipe2(self->c, O_NONBLOCK));
	ASSERT_TRUE(use_every_slot(self->a, false, variant->packet));
	ASSERT_TRUE(use_every_slot(self->b, true, variant->packet));
	ASSERT_TRUE(use_every_slot(self->c, false, variant->packet));
}

FIXTURE_TEARDOWN(page_cache)
{
	int *fds[] = { self->a, self->b, self->c };
	unsigned int i;

	for (i = 0; i < 3; i++) {
		close(fds[i][0]);
		close(fds[i][1]);
	}
	close(self->file);
	unlink(self->path);
}

/*
 * A pipe holding 30 bytes of the file, then "XYZ" written after them, was
 * read once and gave @n bytes: a packet pipe returns the two as packets,
 * a plain pipe as one run of 33 bytes. Either way the written bytes went
 * to a page of their own, not into the file's.
 */
static bool file_then_xyz(ssize_t n, int rd, bool packet)
{
	if (n != (packet ? 30 : 33) || !check_pattern(rbuf, 30, 42))
		return false;
	if (!packet)
		return !strcmp(rbuf + 30, "XYZ");
	return read_once(rd) == 3 && !strcmp(rbuf, "XYZ");
}

TEST_F(page_cache, write_after_splice_never_reaches_the_file)
{
	loff_t off = 0;
	ssize_t n;

	/* Onto a stale merge flag in a, onto a stale packet flag in b. */
	ASSERT_EQ(30, splice(self->file, &off, self->a[1], NULL, 30, 0));
	ASSERT_EQ(3, stream_write(self->a[1], "XYZ"));
	off = 0;
	ASSERT_EQ(30, splice(self->file, &off, self->b[1], NULL, 30, 0));
	ASSERT_EQ(3, stream_write(self->b[1], "XYZ"));
	ASSERT_TRUE(file_intact(self->file));

	n = read_once(self->a[0]);
	if (variant->packet && n == 33)
		XFAIL(return, SPLICE_NO_PACKET);
	ASSERT_TRUE(file_then_xyz(n, self->a[0], variant->packet));
	ASSERT_TRUE(file_then_xyz(read_once(self->b[0]), self->b[0], variant->packet));
}

TEST_F(page_cache, tee_and_splice_of_a_file_page_keep_the_file)
{
	loff_t off = 0;
	ssize_t n;

	/* The file's page is in turn the last buffer of a, b and c. */
	ASSERT_EQ(30, splice(self->file, &off, self->a[1], NULL, 30, 0));
	ASSERT_EQ(30, tee(self->a[0], self->b[1], 30, SPLICE_F_NONBLOCK));
	ASSERT_EQ(3, stream_write(self->a[1], "XYZ"));
	ASSERT_EQ(30, splice(self->b[0], NULL, self->c[1], NULL, 30, 0));
	ASSERT_EQ(3, stream_write(self->b[1], "UVW"));
	ASSERT_EQ(3, stream_write(self->c[1], "XYZ"));
	ASSERT_TRUE(file_intact(self->file));

	n = read_once(self->a[0]);
	if (variant->packet && n == 33)
		XFAIL(return, SPLICE_NO_PACKET);
	ASSERT_TRUE(file_then_xyz(n, self->a[0], variant->packet));
	ASSERT_EQ(3, read_once(self->b[0]));
	ASSERT_STREQ("UVW", rbuf);
	ASSERT_TRUE(file_then_xyz(read_once(self->c[0]), self->c[0], variant->packet));
}

TEST_HARNESS_MAIN
