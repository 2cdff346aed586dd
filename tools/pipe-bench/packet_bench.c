// SPDX-License-Identifier: GPL-2.0
/*
 * packet_bench - cost of moving messages through a plain pipe, a packet
 * pipe, AF_UNIX SOCK_SEQPACKET and SOCK_DGRAM socketpairs, and an eventfd
 * (the floor: two syscalls that move almost nothing).
 *
 * Patterns:
 *   pair      one thread writes a message and reads it back, N times
 *   pingpong  two processes bounce a message (ns per round trip)
 *   stream    one process writes N messages, another reads them
 *
 * A message that a transport cannot carry in one read (a packet pipe that
 * cuts packets at PAGE_SIZE) is read with as many reads as it takes; the
 * "reads" column says how many that was per message. For messages larger
 * than a page, a packet pipe is opened with its packet limit raised to its
 * capacity (F_SETPIPE_PKT_SZ) where the kernel has the opt-in.
 *
 * Before measuring, the clock is checked: its source (the kernel's current
 * clocksource) and its resolution, measured as the smallest step between
 * two readings that differ. A clock coarser than a microsecond (a guest
 * that fell back to jiffies) ends the run with exit code 3: its figures
 * would be multiples of the tick, or zero.
 *
 * Output: one CLOCK line, then one line per measurement:
 *   CLOCK,<clocksource>,<resolution_ns>
 *   BENCH,<transport>,<pattern>,<size>,<ns_median>,<ns_min>,<ns_max>,<reps>,<reads>
 * Usage: packet_bench [-r reps] [-q] [-o transport,pattern,size]
 *   -q  a short run; -o  only that one measurement (the harness's smoke test)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

enum transport { PIPE, PACKET, SEQPACKET, DGRAM, EVENTFD, NR_TRANSPORTS };

static const char *const transport_name[] = {
	"pipe", "packet", "seqpacket", "dgram", "eventfd",
};

static const size_t sizes[] = { 1, 64, 512, 4096, 16384, 65536 };

#ifndef F_SETPIPE_PKT_SZ
#define F_SETPIPE_PKT_SZ	(1024 + 17)
#endif

static unsigned char *buf;
#define BUF_SIZE (1 << 17)

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* A one-way channel for messages of @size: write to fd[1], read from fd[0]. */
static int open_channel(enum transport t, int fd[2], size_t size)
{
	int sv[2];

	switch (t) {
	case PIPE:
		return pipe(fd);
	case PACKET:
		if (pipe2(fd, O_DIRECT))
			return -1;
		/* The opt-in to packets larger than a page, where there is one */
		if (size > (size_t)sysconf(_SC_PAGESIZE))
			fcntl(fd[1], F_SETPIPE_PKT_SZ, fcntl(fd[1], F_GETPIPE_SZ));
		return 0;
	case SEQPACKET:
	case DGRAM:
		if (socketpair(AF_UNIX, t == DGRAM ? SOCK_DGRAM : SOCK_SEQPACKET, 0, sv))
			return -1;
		fd[0] = sv[0];
		fd[1] = sv[1];
		return 0;
	case EVENTFD:
		fd[0] = eventfd(0, 0);
		fd[1] = dup(fd[0]);
		return fd[0] < 0 || fd[1] < 0 ? -1 : 0;
	default:
		return -1;
	}
}

static void close_channel(int fd[2])
{
	close(fd[0]);
	close(fd[1]);
}

/* Read one message of @size; returns the number of reads it took. */
static unsigned int recv_msg(enum transport t, int fd, size_t size)
{
	unsigned int reads = 0;
	size_t got = 0;
	ssize_t n;

	if (t == EVENTFD)
		size = 8;
	do {
		n = read(fd, buf, t == EVENTFD ? 8 : BUF_SIZE);
		if (n <= 0)
			die("read");
		got += n;
		reads++;
	} while (got < size);
	return reads;
}

static void send_msg(enum transport t, int fd, size_t size)
{
	static const uint64_t one = 1;
	const void *p = t == EVENTFD ? (const void *)&one : buf;
	size_t len = t == EVENTFD ? 8 : size;

	if (write(fd, p, len) != (ssize_t)len)
		die("write");
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

#define CLOCKSOURCE "/sys/devices/system/clocksource/clocksource0/current_clocksource"
#define FINEST_CLOCK_NS 1000

/*
 * The clock's real resolution: the smallest step between two readings
 * that differ, over a few steps (clock_getres() reports the hrtimer
 * resolution, not that of the clocksource behind CLOCK_MONOTONIC).
 */
static long long clock_resolution(void)
{
	long long best = -1, prev, t;
	int steps;

	for (steps = 0; steps < 20; steps++) {
		prev = now_ns();
		while ((t = now_ns()) == prev)
			;
		if (best < 0 || t - prev < best)
			best = t - prev;
	}
	return best;
}

static void check_clock(char *out, size_t len)
{
	char source[64] = "unknown";
	long long res;
	FILE *f;

	f = fopen(CLOCKSOURCE, "r");
	if (f) {
		if (fscanf(f, "%63s", source) != 1)
			strcpy(source, "unknown");
		fclose(f);
	}
	res = clock_resolution();
	snprintf(out, len, "CLOCK,%s,%lld\n", source, res);
	if (res > FINEST_CLOCK_NS) {
		fputs(out, stdout);
		fprintf(stderr,
			"packet_bench: the clock (clocksource %s) resolves %lld ns, coarser than %d ns: no figure would mean anything\n",
			source, res, FINEST_CLOCK_NS);
		exit(3);
	}
}

/* Big enough to time, small enough for an emulated guest. */
static unsigned int iterations(size_t size, int quick)
{
	unsigned long n = 4000000UL / (size + 256);

	if (n > 2000)
		n = 2000;
	if (n < 40)
		n = 40;
	return quick ? n / 10 + 1 : n;
}

static double pair(enum transport t, size_t size, unsigned int n, unsigned int *reads)
{
	long long start;
	unsigned int i;
	int fd[2];

	if (open_channel(t, fd, size))
		die("channel");
	start = now_ns();
	for (i = 0; i < n; i++) {
		send_msg(t, fd[1], size);
		*reads += recv_msg(t, fd[0], size);
	}
	start = now_ns() - start;
	close_channel(fd);
	return (double)start / n;
}

static double pingpong(enum transport t, size_t size, unsigned int n, unsigned int *reads)
{
	int there[2], back[2], status;
	long long start;
	unsigned int i;
	pid_t pid;

	if (open_channel(t, there, size) || open_channel(t, back, size))
		die("channel");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		for (i = 0; i < n; i++) {
			recv_msg(t, there[0], size);
			send_msg(t, back[1], size);
		}
		_exit(0);
	}
	start = now_ns();
	for (i = 0; i < n; i++) {
		send_msg(t, there[1], size);
		*reads += recv_msg(t, back[0], size);
	}
	start = now_ns() - start;
	waitpid(pid, &status, 0);
	close_channel(there);
	close_channel(back);
	return (double)start / n;
}

static double stream(enum transport t, size_t size, unsigned int n, unsigned int *reads)
{
	size_t want = t == EVENTFD ? n : n * size, total;
	long long start;
	unsigned int i;
	int fd[2], status;
	pid_t pid;

	if (open_channel(t, fd, size))
		die("channel");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		for (i = 0; i < n; i++)
			send_msg(t, fd[1], size);
		_exit(0);
	}
	/*
	 * Count bytes, not reads: a plain pipe returns several messages in
	 * one read, and eventfd adds up the writes it has not been read for.
	 */
	start = now_ns();
	for (total = 0; total < want; (*reads)++) {
		ssize_t got = read(fd[0], buf, BUF_SIZE);

		if (got <= 0)
			die("read");
		total += t == EVENTFD ? *(uint64_t *)buf : (size_t)got;
	}
	start = now_ns() - start;
	waitpid(pid, &status, 0);
	close_channel(fd);
	return (double)start / n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

typedef double (*pattern_fn)(enum transport, size_t, unsigned int, unsigned int *);

int main(int argc, char **argv)
{
	static const struct { const char *name; pattern_fn fn; } patterns[] = {
		{ "pair", pair }, { "pingpong", pingpong }, { "stream", stream },
	};
	static char report[64 * 1024];
	unsigned int reps = 5, measured = 0, r, p, s;
	char only_tr[16] = "", only_pat[16] = "";
	size_t out = 0, only_size = 0;
	int quick = 0, opt;
	enum transport t;

	while ((opt = getopt(argc, argv, "r:qo:")) != -1) {
		if (opt == 'r') {
			reps = atoi(optarg);
		} else if (opt == 'q') {
			quick = 1;
		} else if (opt == 'o') {
			if (sscanf(optarg, "%15[^,],%15[^,],%zu", only_tr, only_pat,
				   &only_size) != 3) {
				fprintf(stderr, "packet_bench: -o wants transport,pattern,size\n");
				return 2;
			}
		} else {
			return 2;
		}
	}
	if (reps < 1 || reps > 100)
		return 2;
	buf = calloc(1, BUF_SIZE);
	if (!buf)
		die("calloc");
	check_clock(report, sizeof(report));
	out = strlen(report);

	for (t = 0; t < NR_TRANSPORTS; t++) {
		int fd[2];

		if (*only_tr && strcmp(only_tr, transport_name[t]))
			continue;
		if (open_channel(t, fd, 1)) {
			out += snprintf(report + out, sizeof(report) - out,
					"# %s: unavailable (%s)\n",
					transport_name[t], strerror(errno));
			continue;
		}
		close_channel(fd);
		for (p = 0; p < sizeof(patterns) / sizeof(patterns[0]); p++) {
			if (*only_pat && strcmp(only_pat, patterns[p].name))
				continue;
			for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
				size_t size = t == EVENTFD ? 8 : sizes[s];
				unsigned int n = iterations(size, quick), reads = 0;
				double ns[100];

				if (only_size && size != only_size)
					continue;
				for (r = 0; r < reps; r++)
					ns[r] = patterns[p].fn(t, size, n, &reads);
				qsort(ns, reps, sizeof(ns[0]), cmp_double);
				/* A figure of zero is a broken clock, never a result. */
				if (ns[0] <= 0) {
					fputs(report, stdout);
					fprintf(stderr, "packet_bench: %s %s %zu B measured %.1f ns\n",
						transport_name[t], patterns[p].name, size, ns[0]);
					return 3;
				}
				out += snprintf(report + out, sizeof(report) - out,
						"BENCH,%s,%s,%zu,%.1f,%.1f,%.1f,%u,%.2f\n",
						transport_name[t], patterns[p].name, size,
						ns[reps / 2], ns[0], ns[reps - 1], reps,
						(double)reads / ((double)n * reps));
				measured++;
				if (t == EVENTFD)
					break;
			}
		}
	}
	if (!measured) {
		fputs(report, stdout);
		fprintf(stderr, "packet_bench: nothing measured%s%s\n",
			*only_tr ? ": no such measurement as " : "", only_tr);
		return 2;
	}
	/*
	 * Print only at the end: console output while measuring would let
	 * the host's serial timing into the guest's (icount) clock.
	 */
	fputs(report, stdout);
	return 0;
}
