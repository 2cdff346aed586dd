// SPDX-License-Identifier: GPL-2.0
/*
 * Packet pipe stress: several writers and readers on one packet pipe,
 * with faults injected while they run, and every packet checked.
 *
 * Each packet carries a header (writer, sequence number, length, checksum)
 * and a pattern derived from it. Readers check that every read is exactly
 * one packet (cut only where their own buffer is smaller), that the
 * checksum holds, and that each writer's packets come in order. At the
 * end every packet a writer queued must have been read exactly once.
 *
 * Injected while the traffic runs:
 *   signal   SIGUSR1 (no SA_RESTART) to writers and readers, so blocked
 *            calls return EINTR
 *   efault   writes from a buffer whose end is unmapped: EFAULT, nothing
 *            queued
 *   resize   F_SETPIPE_SZ between sizes that all hold the largest packet
 *            (never below the packet limit, so the limit stays)
 *   setfl    F_SETFL toggling O_NONBLOCK on a writer's own open file
 *            (packet mode kept), and O_DIRECT off and on between writes
 *   exit     writers that stop early, readers that leave mid-stream
 *
 * The largest packet is half a new pipe's capacity (8 pages), with the
 * pipe's packet limit raised to it (F_SETPIPE_PKT_SZ); on a kernel
 * without the opt-in it is one page, the default limit.
 *
 * PIPE_STRESS_PACKETS sets the number of packets: by default 20000 on
 * 4 KiB pages, the same number of bytes on larger pages (fewer, larger
 * packets); the long mode (a million or more) for debug kernels.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "packet_util.h"

#define WRITERS		4
#define READERS		3
#define MAGIC		0x5041434bu	/* "PACK" */
#define HDR		sizeof(struct stress_hdr)

/* Packets sent by default, for this page size; on larger pages as many bytes. */
#define DEFAULT_PACKETS		20000ul
#define DEFAULT_PACKETS_PAGE	4096ul

struct stress_hdr {
	uint32_t magic;
	uint16_t writer;
	uint16_t flags;
	uint32_t seq;
	uint32_t len;
	uint32_t sum;
};

/* Shared between all processes (MAP_SHARED). */
struct stress_state {
	unsigned long packets;		/* packets to send in all */
	size_t max_len;			/* largest packet */
	atomic_ulong next_ticket;	/* writers take packets to send from here */
	atomic_bool writers_done;	/* only now may a read return 0 */
	bool inject_efault;
	atomic_ulong sent[WRITERS];	/* packets each writer queued */
	atomic_ulong verified;
	atomic_ulong truncated;
	atomic_ulong anomalies;
	atomic_ulong faults_signal, faults_efault, faults_resize, faults_setfl, faults_exit;
	atomic_uchar seen[];		/* [writer][seq]: times read */
};

static struct stress_state *st;
static unsigned long per_writer_max;

static uint32_t checksum(const unsigned char *p, size_t len)
{
	uint32_t sum = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++)
		sum = (sum ^ p[i]) * 16777619u;
	return sum;
}

/* A small deterministic generator per process. */
static uint32_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint32_t)*s;
}

static void on_usr1(int sig)
{
}

static void note_anomaly(const char *what, unsigned int w, unsigned int seq, ssize_t n)
{
	atomic_fetch_add(&st->anomalies, 1);
	fprintf(stderr, "# anomaly: %s (writer %u seq %u, %zd bytes)\n", what, w, seq, n);
}

static void build_packet(unsigned char *buf, unsigned int w, unsigned int seq, size_t len)
{
	struct stress_hdr h = { MAGIC, w, 0, seq, len, 0 };

	fill_pattern(buf + HDR, len - HDR, w * 1000003u + seq);
	h.sum = checksum(buf + HDR, len - HDR);
	memcpy(buf, &h, HDR);
}

/* Exit codes: 0 done, LEFT left mid-stream on purpose (to be replaced). */
#define LEFT 3

static void writer(int pipe_wr, unsigned int w, unsigned int seq)
{
	size_t pg = page_size(), maplen = st->max_len + 2 * pg;
	uint64_t seed = 0x9e3779b97f4a7c15ull * (w + 1) + seq;
	unsigned char *buf, *guard;
	char path[64];
	int fd, fl;

	/* An open file of its own, so that F_SETFL touches only this writer. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", pipe_wr);
	fd = open(path, O_WRONLY);
	if (fd < 0 || fcntl(fd, F_SETFL, O_DIRECT))
		_exit(10);
	close(pipe_wr);

	buf = malloc(st->max_len);
	/* A buffer that ends at an unmapped page, for EFAULT. */
	guard = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!buf || guard == MAP_FAILED || munmap(guard + maplen - pg, pg))
		_exit(11);

	while (atomic_fetch_add(&st->next_ticket, 1) < st->packets) {
		size_t len = HDR + rnd(&seed) % (st->max_len - HDR + 1);
		uint32_t r = rnd(&seed);
		ssize_t n;

		if (seq >= per_writer_max)
			break;
		if (st->inject_efault && r % 97 == 0) {
			/* The packet's tail lies in the unmapped page. */
			unsigned char *p = guard + maplen - pg - len / 2;

			memset(p, 0xee, len / 2);
			n = write(fd, p, len);
			if (n >= 0)
				note_anomaly("write over an unmapped page queued data", w, seq, n);
			else if (errno == EFAULT)
				atomic_fetch_add(&st->faults_efault, 1);
			else if (errno != EAGAIN && errno != EINTR)
				note_anomaly("write over an unmapped page: unexpected error",
					     w, seq, -errno);
		}
		if (r % 89 == 1) {
			fl = fcntl(fd, F_GETFL);
			fcntl(fd, F_SETFL, (fl ^ O_NONBLOCK) | O_DIRECT);
			atomic_fetch_add(&st->faults_setfl, 1);
		}
		if (r % 89 == 2) {
			/* Packet mode off and back on between two writes. */
			fl = fcntl(fd, F_GETFL);
			fcntl(fd, F_SETFL, fl & ~O_DIRECT);
			fcntl(fd, F_SETFL, fl | O_DIRECT);
			atomic_fetch_add(&st->faults_setfl, 1);
		}
		if (r % 1000 == 3) {
			/* Leave mid-stream; the controller starts a successor. */
			atomic_fetch_add(&st->next_ticket, -1);
			atomic_fetch_add(&st->faults_exit, 1);
			_exit(LEFT);
		}

		build_packet(buf, w, seq, len);
		for (;;) {
			n = write(fd, buf, len);
			if (n == (ssize_t)len)
				break;
			if (n >= 0) {
				note_anomaly("short packet write", w, seq, n);
				_exit(12);
			}
			if (errno == EAGAIN) {
				struct pollfd pfd = { .fd = fd, .events = POLLOUT };

				poll(&pfd, 1, 10);
				continue;
			}
			if (errno == EINTR)
				continue;
			note_anomaly("write failed", w, seq, -errno);
			_exit(13);
		}
		seq++;
		atomic_store(&st->sent[w], seq);
	}
	_exit(0);
}

/* Read until end of file, or leave now and then; check every packet. */
static void reader(int rd, unsigned int id)
{
	size_t bufsize = id == 0 ? st->max_len / 2 : st->max_len;
	uint64_t seed = 0x2545f4914f6cdd1dull * (id + 1) + getpid();
	unsigned int last[WRITERS];
	unsigned long count = 0;
	unsigned char *buf;
	ssize_t n;

	buf = malloc(bufsize);
	if (!buf)
		_exit(20);
	memset(last, 0xff, sizeof(last));
	for (;;) {
		struct stress_hdr h;

		n = read(rd, buf, bufsize);
		if (n == 0) {
			if (!atomic_load(&st->writers_done))
				note_anomaly("read returned 0 while a writer was open", 0, 0, 0);
			break;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			note_anomaly("read failed", 0, 0, -errno);
			break;
		}
		if ((size_t)n < HDR) {
			note_anomaly("read shorter than a header", 0, 0, n);
			continue;
		}
		memcpy(&h, buf, HDR);
		if (h.magic != MAGIC || h.writer >= WRITERS || h.seq >= per_writer_max ||
		    h.len < HDR || h.len > st->max_len) {
			note_anomaly("torn or merged packet: bad header", h.writer, h.seq, n);
			continue;
		}
		if ((size_t)n != (h.len < bufsize ? h.len : bufsize)) {
			note_anomaly("read is not exactly one packet", h.writer, h.seq, n);
			continue;
		}
		if ((size_t)n == h.len) {
			if (checksum(buf + HDR, n - HDR) != h.sum)
				note_anomaly("checksum mismatch", h.writer, h.seq, n);
		} else {
			if (!check_pattern(buf + HDR, n - HDR, h.writer * 1000003u + h.seq))
				note_anomaly("truncated packet's head is wrong",
					     h.writer, h.seq, n);
			atomic_fetch_add(&st->truncated, 1);
		}
		if (last[h.writer] != ~0u && h.seq <= last[h.writer])
			note_anomaly("writer's packets out of order", h.writer, h.seq, n);
		last[h.writer] = h.seq;
		if (atomic_fetch_add(&st->seen[h.writer * per_writer_max + h.seq], 1))
			note_anomaly("packet read twice", h.writer, h.seq, n);
		atomic_fetch_add(&st->verified, 1);
		if (++count > 100 && rnd(&seed) % 1000 == 7) {
			atomic_fetch_add(&st->faults_exit, 1);
			_exit(LEFT);
		}
	}
	_exit(0);
}

/* Does a faulting packet write leave an empty packet (a false EOF)? */
static bool efault_leaves_empty_packet(void)
{
	void *hole = mmap(NULL, page_size(), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char b[16];
	bool empty;
	int fds[2];

	if (hole == MAP_FAILED || pipe2(fds, O_DIRECT | O_NONBLOCK))
		return false;
	empty = write(fds[1], hole, 10) < 0 && read(fds[0], b, sizeof(b)) == 0;
	close(fds[0]);
	close(fds[1]);
	munmap(hole, page_size());
	return empty;
}

/* The pipe under test; the controller keeps both ends. */
static int stress_pipe[2];

static pid_t spawn_writer(int *p, unsigned int w, unsigned int seq)
{
	pid_t pid = fork();

	if (pid == 0) {
		close(p[0]);
		writer(p[1], w, seq);
	}
	return pid;
}

static pid_t spawn_reader(int *p, unsigned int id)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (p[1] >= 0)
			close(p[1]);
		reader(p[0], id);
	}
	return pid;
}

FIXTURE(stress) {
};

FIXTURE_SETUP(stress)
{
}

FIXTURE_TEARDOWN(stress)
{
}

/*
 * The long mode runs for many minutes on a debug kernel; the runner's
 * timeout (settings, or kselftest_override_timeout) bounds it instead.
 */
TEST_F_TIMEOUT(stress, writers_readers_with_faults, 24 * 3600)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	pid_t writers[WRITERS], readers[READERS];
	int wstatus[WRITERS], running;
	const char *env = getenv("PIPE_STRESS_PACKETS");
	unsigned long packets;
	unsigned long lost = 0, w, s, rounds = 0;
	static const int sizes[] = { 1, 2, 4 };
	size_t max_len, shared;
	int status, i;
	uint64_t seed = 42;

	if (!packet_mode_supported())
		SKIP(return, NO_PACKET_MODE);
	ASSERT_EQ(0, pipe2(stress_pipe, O_DIRECT));
	/*
	 * The largest packet kept whole: half a new pipe's capacity, with
	 * the limit raised to it, or a page without the opt-in.
	 */
	max_len = fcntl(stress_pipe[1], F_GETPIPE_SZ) / 2;
	ASSERT_GE(max_len, 2 * page_size());
	if (set_packet_limit(stress_pipe[1], max_len) != (int)max_len) {
		ASSERT_FALSE(packet_limit_supported()) {
			TH_LOG("F_SETPIPE_PKT_SZ %zu: %s", max_len, strerror(errno));
		}
		TH_LOG("packets of one page only: %s", NO_PACKET_LIMIT);
		max_len = page_size();
	}
	packets = env ? strtoul(env, NULL, 0) :
		DEFAULT_PACKETS * DEFAULT_PACKETS_PAGE / page_size();
	if (!packets)
		packets = 1;
	per_writer_max = packets + 1;
	shared = sizeof(*st) + WRITERS * per_writer_max;
	st = mmap(NULL, shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, st);
	st->packets = packets;
	st->max_len = max_len;
	st->inject_efault = !efault_leaves_empty_packet();
	if (!st->inject_efault)
		TH_LOG("no EFAULT injection: this kernel leaves an empty packet (upstream 6.12)");
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));

	/* Sizes to switch between, each holding the largest packet. */
	ASSERT_GE(fcntl(stress_pipe[1], F_SETPIPE_SZ, 2 * max_len), 2 * max_len);

	for (i = 0; i < WRITERS; i++)
		writers[i] = spawn_writer(stress_pipe, i, 0);
	for (i = 0; i < READERS; i++)
		readers[i] = spawn_reader(stress_pipe, i);

	/*
	 * The controller: reap and replace children that left, inject
	 * signals and resizes, until every writer is done. It keeps the
	 * read end open, so writers never see EPIPE while readers change.
	 */
	for (running = WRITERS; running; ) {
		pid_t pid = waitpid(-1, &status, WNOHANG);

		if (pid > 0) {
			bool left = WIFEXITED(status) && WEXITSTATUS(status) == LEFT;

			for (i = 0; i < WRITERS; i++) {
				if (writers[i] != pid)
					continue;
				if (left) {
					writers[i] = spawn_writer(stress_pipe, i,
								  atomic_load(&st->sent[i]));
				} else {
					wstatus[i] = status;
					writers[i] = 0;
					running--;
				}
			}
			for (i = 0; i < READERS; i++) {
				if (readers[i] != pid)
					continue;
				EXPECT_TRUE(left || (WIFEXITED(status) && !WEXITSTATUS(status)));
				readers[i] = left ? spawn_reader(stress_pipe, i) : 0;
			}
			continue;
		}
		rounds++;
		/* Only live children: a reaped pid may belong to someone else. */
		i = rnd(&seed) % WRITERS;
		if (writers[i] > 0 && !kill(writers[i], SIGUSR1))
			atomic_fetch_add(&st->faults_signal, 1);
		i = rnd(&seed) % READERS;
		if (readers[i] > 0 && !kill(readers[i], SIGUSR1))
			atomic_fetch_add(&st->faults_signal, 1);
		if (fcntl(stress_pipe[1], F_SETPIPE_SZ, sizes[rnd(&seed) % 3] * max_len) > 0)
			atomic_fetch_add(&st->faults_resize, 1);
		usleep(1000);
	}
	atomic_store(&st->writers_done, true);
	close(stress_pipe[1]);
	stress_pipe[1] = -1;
	for (i = 0; i < WRITERS; i++) {
		EXPECT_TRUE(WIFEXITED(wstatus[i]) && WEXITSTATUS(wstatus[i]) == 0) {
			TH_LOG("writer %d exit status %d", i, wstatus[i]);
		}
	}
	/* The readers drain what is left and see end of file. */
	for (i = 0; i < READERS; i++) {
		while (readers[i] > 0) {
			ASSERT_EQ(readers[i], waitpid(readers[i], &status, 0));
			ASSERT_TRUE(WIFEXITED(status));
			if (WEXITSTATUS(status) == LEFT) {
				readers[i] = spawn_reader(stress_pipe, i);
				continue;
			}
			EXPECT_EQ(0, WEXITSTATUS(status));
			readers[i] = 0;
		}
	}
	close(stress_pipe[0]);

	/* Every packet queued was read exactly once. */
	for (w = 0; w < WRITERS; w++)
		for (s = 0; s < atomic_load(&st->sent[w]); s++)
			if (atomic_load(&st->seen[w * per_writer_max + s]) != 1)
				lost++;

	TH_LOG("max packet %zu bytes, %lu controller rounds", max_len, rounds);
	TH_LOG("packets verified %lu (truncated by a smaller reader %lu), lost %lu, anomalies %lu",
	       atomic_load(&st->verified), atomic_load(&st->truncated), lost,
	       atomic_load(&st->anomalies));
	TH_LOG("faults injected: signal %lu efault %lu resize %lu setfl %lu exit %lu",
	       atomic_load(&st->faults_signal), atomic_load(&st->faults_efault),
	       atomic_load(&st->faults_resize), atomic_load(&st->faults_setfl),
	       atomic_load(&st->faults_exit));
	ASSERT_EQ(0, atomic_load(&st->anomalies));
	ASSERT_EQ(0, lost);
	ASSERT_GT(atomic_load(&st->verified), 0);
	munmap(st, shared);
}

TEST_HARNESS_MAIN
