// SPDX-License-Identifier: GPL-2.0
/*
 * autofs, the main user of packet pipes: act as a minimal autofs v5 daemon
 * and check that each read() of the notification pipe is one whole
 * notification, whatever size the daemon thinks a notification has.
 *
 * The kernel writes sizeof(union autofs_v5_packet_union) bytes per
 * notification: 304 on x86-64, where i386 userspace counts 300 (a __u64
 * in the struct is 8-byte aligned on one and 4 on the other). autofs makes
 * its pipe a packet pipe, so a daemon reading its own size loses only the
 * padding and the next read starts at the next notification. Built with
 * -m32 (autofs_packet_test_32) this is the real 32-bit daemon case; the
 * 64-bit build checks the same by reading 300 bytes at a time.
 *
 * Without packet mode the tests skip, after showing the misalignment.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <linux/auto_fs.h>

#include "packet_util.h"

/* What an i386 daemon believes a notification is. */
#define I386_PACKET_SIZE 300

/* What the test keeps as the autofs daemon. */
struct daemon {
	char dir[64];
	int rd;		/* the notification pipe */
	int root;	/* the autofs root, for the ioctls */
	bool packet;	/* did autofs make its pipe a packet pipe? */
};

/* Mount autofs on a new directory, with a pipe for its notifications. */
static void start_daemon(struct __test_metadata *_metadata, struct daemon *d,
			 bool direct)
{
	char opts[128];
	int fds[2];

	d->root = -1;
	d->rd = -1;
	if (geteuid())
		SKIP(return, "mounting autofs needs root");
	/* Keep the mounts of this test to itself. */
	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		SKIP(return, "no private mount namespace: %s", strerror(errno));
	snprintf(d->dir, sizeof(d->dir), "/tmp/autofs.XXXXXX");
	if (!mkdtemp(d->dir))
		ASSERT_EQ(0, -errno);
	ASSERT_EQ(0, pipe(fds));
	d->rd = fds[0];
	snprintf(opts, sizeof(opts), "fd=%d,pgrp=%d,minproto=5,maxproto=5%s",
		 fds[1], getpgrp(), direct ? ",direct" : "");
	if (mount("autofs", d->dir, "autofs", 0, opts)) {
		rmdir(d->dir);
		if (errno == ENODEV)
			SKIP(return, "no autofs in this kernel");
		ASSERT_EQ(0, -errno);
	}
	/* autofs keeps its own reference to the write end. */
	d->packet = fcntl(fds[1], F_GETFL) & O_DIRECT;
	close(fds[1]);
	d->root = open(d->dir, O_RDONLY | O_DIRECTORY);
	ASSERT_GE(d->root, 0);
}

static void stop_daemon(struct daemon *d)
{
	if (d->root >= 0)
		close(d->root);
	/* A direct mount may have a tmpfs on top of the autofs one. */
	while (!umount2(d->dir, MNT_DETACH))
		;
	rmdir(d->dir);
	if (d->rd >= 0)
		close(d->rd);
}

/* Both kinds of mount: a trigger per name, or the mount point itself. */
FIXTURE(autofs) {
	struct daemon d;
};

FIXTURE_VARIANT(autofs) {
	bool direct;
};

FIXTURE_VARIANT_ADD(autofs, indirect) { .direct = false };
FIXTURE_VARIANT_ADD(autofs, direct) { .direct = true };

FIXTURE_SETUP(autofs)
{
	start_daemon(_metadata, &self->d, variant->direct);
}

FIXTURE_TEARDOWN(autofs)
{
	stop_daemon(&self->d);
}

/* Several names under one mount, and expiry: indirect mounts only. */
FIXTURE(indirect) {
	struct daemon d;
};

FIXTURE_SETUP(indirect)
{
	start_daemon(_metadata, &self->d, false);
}

FIXTURE_TEARDOWN(indirect)
{
	stop_daemon(&self->d);
}

/*
 * Size of a notification as the running kernel writes it: ours, unless
 * this is i386 code on an x86-64 kernel, which pads the struct to 8 bytes.
 */
static size_t kernel_packet_size(void)
{
	size_t size = sizeof(union autofs_v5_packet_union);
	struct utsname u;

	if (sizeof(long) == 4 && !uname(&u) && !strcmp(u.machine, "x86_64"))
		size = (size + 7) & ~(size_t)7;
	return size;
}

/*
 * In a new process group (so autofs does not take it for the daemon),
 * open the directory @path: that triggers a mount, a plain stat() of an
 * existing trigger would not.
 */
static pid_t touch_path(const char *path)
{
	pid_t pid = fork();
	int fd;

	if (pid == 0) {
		setpgid(0, 0);
		fd = open(path, O_RDONLY | O_DIRECTORY);
		if (fd >= 0)
			_exit(0);
		_exit(errno == ENOENT ? 1 : 2);
	}
	return pid;
}

static int wait_status(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/*
 * A buffer larger than any notification: PIPE_BUF, the size the pipe(2)
 * manual says is enough for any packet.
 */
#define LARGE_READ PIPE_BUF

/* Read a notification with a buffer of @size (at most LARGE_READ). */
static ssize_t read_notification(int rd, struct autofs_v5_packet *p, size_t size)
{
	static unsigned char buf[LARGE_READ];
	ssize_t n = read(rd, buf, size);

	memset(p, 0, sizeof(*p));
	if (n > 0)
		memcpy(p, buf, n < (ssize_t)sizeof(*p) ? n : sizeof(*p));
	return n;
}

/* Where a process must go to make the daemon mount @name. */
static const char *missing_path(struct daemon *d, bool direct, const char *name)
{
	static char path[128];

	if (direct)
		return d->dir;
	snprintf(path, sizeof(path), "%s/%s", d->dir, name);
	return path;
}

TEST_F(autofs, notification_is_one_read_and_ready_answers_it)
{
	struct autofs_v5_packet p;
	char where[128];
	ssize_t n;
	pid_t pid;

	if (!self->d.packet)
		SKIP(return, "autofs pipe is not a packet pipe: " NO_PACKET_MODE);
	pid = touch_path(missing_path(&self->d, variant->direct, "foo"));
	ASSERT_GT(pid, 0);

	/* A large buffer still gets exactly one notification. */
	n = read_notification(self->d.rd, &p, LARGE_READ);
	ASSERT_EQ(kernel_packet_size(), n);
	ASSERT_EQ(5, p.hdr.proto_version);
	ASSERT_EQ(variant->direct ? autofs_ptype_missing_direct :
				    autofs_ptype_missing_indirect, p.hdr.type);
	ASSERT_NE(0, p.wait_queue_token);
	ASSERT_EQ(strlen(p.name), p.len);
	if (!variant->direct)
		ASSERT_STREQ("foo", p.name);
	ASSERT_EQ(pid, p.pid);

	/*
	 * Mount something where asked, then tell the kernel. (Without a
	 * mount a direct trigger would just fire again.)
	 */
	if (variant->direct) {
		snprintf(where, sizeof(where), "%s", self->d.dir);
	} else {
		snprintf(where, sizeof(where), "%s/foo", self->d.dir);
		ASSERT_EQ(0, mkdir(where, 0755));
	}
	ASSERT_EQ(0, mount("none", where, "tmpfs", 0, NULL));
	ASSERT_EQ(0, ioctl(self->d.root, AUTOFS_IOC_READY, p.wait_queue_token));
	ASSERT_EQ(0, wait_status(pid));
}

TEST_F(autofs, fail_answer_fails_the_access)
{
	struct autofs_v5_packet p;
	pid_t pid;

	if (!self->d.packet)
		SKIP(return, "autofs pipe is not a packet pipe: " NO_PACKET_MODE);
	pid = touch_path(missing_path(&self->d, variant->direct, "nosuch"));
	ASSERT_GT(pid, 0);
	ASSERT_EQ(kernel_packet_size(), read_notification(self->d.rd, &p, LARGE_READ));
	ASSERT_EQ(0, ioctl(self->d.root, AUTOFS_IOC_FAIL, p.wait_queue_token));
	ASSERT_EQ(1, wait_status(pid));	/* ENOENT */
}

/*
 * Several notifications queued back to back, read by a daemon whose
 * notification is 300 bytes: each read must start at a notification.
 */
TEST_F(indirect, back_to_back_notifications_stay_aligned_for_i386_size)
{
	static const char *const names[] = { "a", "bb", "ccc" };
	struct autofs_v5_packet p;
	unsigned int i, misaligned = 0;
	pid_t pids[3];
	ssize_t n;

	for (i = 0; i < 3; i++) {
		pids[i] = touch_path(missing_path(&self->d, false, names[i]));
		ASSERT_GT(pids[i], 0);
	}
	/* Let all three be queued before reading any. */
	while (queued_bytes(self->d.rd) < 3 * (int)kernel_packet_size())
		usleep(1000);

	for (i = 0; i < 3; i++) {
		n = read_notification(self->d.rd, &p, I386_PACKET_SIZE);
		ASSERT_EQ(I386_PACKET_SIZE, n);
		if (p.hdr.proto_version != 5 ||
		    p.hdr.type != autofs_ptype_missing_indirect) {
			TH_LOG("read %u starts inside a notification: proto_version %d, type %d",
			       i, p.hdr.proto_version, p.hdr.type);
			misaligned++;
			continue;
		}
		ASSERT_EQ(strlen(p.name), p.len);
		ASSERT_EQ(0, ioctl(self->d.root, AUTOFS_IOC_FAIL, p.wait_queue_token));
	}
	if (misaligned) {
		/* Release the waiters we could not decode. */
		for (i = 0; i < 3; i++)
			kill(pids[i], SIGKILL);
	}
	for (i = 0; i < 3; i++)
		wait_status(pids[i]);
	if (!self->d.packet)
		SKIP(return, "no packet mode: %u of 3 reads of %d bytes were misaligned",
		     misaligned, I386_PACKET_SIZE);
	ASSERT_EQ(0, misaligned);
}

TEST_F(indirect, expire_notification_reads_whole)
{
	struct autofs_v5_packet p;
	char where[128];
	int how = AUTOFS_EXP_IMMEDIATE;
	pid_t pid, expirer;

	if (!self->d.packet)
		SKIP(return, "autofs pipe is not a packet pipe: " NO_PACKET_MODE);

	/* Mount foo through the daemon protocol first. */
	pid = touch_path(missing_path(&self->d, false, "foo"));
	ASSERT_EQ(kernel_packet_size(), read_notification(self->d.rd, &p, LARGE_READ));
	snprintf(where, sizeof(where), "%s/foo", self->d.dir);
	ASSERT_EQ(0, mkdir(where, 0755));
	ASSERT_EQ(0, mount("none", where, "tmpfs", 0, NULL));
	ASSERT_EQ(0, ioctl(self->d.root, AUTOFS_IOC_READY, p.wait_queue_token));
	ASSERT_EQ(0, wait_status(pid));

	/* The expire ioctl waits for the daemon: run it in a child. */
	expirer = fork();
	ASSERT_GE(expirer, 0);
	if (expirer == 0)
		_exit(ioctl(self->d.root, AUTOFS_IOC_EXPIRE_MULTI, &how) ? 1 : 0);

	ASSERT_EQ(kernel_packet_size(), read_notification(self->d.rd, &p, LARGE_READ));
	ASSERT_EQ(5, p.hdr.proto_version);
	ASSERT_EQ(autofs_ptype_expire_indirect, p.hdr.type);
	ASSERT_STREQ("foo", p.name);
	ASSERT_EQ(0, umount2(where, 0));
	ASSERT_EQ(0, ioctl(self->d.root, AUTOFS_IOC_READY, p.wait_queue_token));
	ASSERT_EQ(0, wait_status(expirer));
}

TEST_HARNESS_MAIN
