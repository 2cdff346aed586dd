# SPDX-License-Identifier: GPL-2.0
"""lib.sh's need_space, and make check on a disk without room: one
message and exit code 10 at once, never a flood of tar or compiler
errors from a step that ran out of space half-way (as CI saw once, on a
machine with a few hundred MiB free)."""

import os
import re
import signal
import subprocess
import tempfile
import unittest

SCRIPTS = os.path.join(os.path.dirname(__file__), "..")
EXIT_NO_SPACE = 10


def need_space(directory, gib):
    return subprocess.run(["bash", "-c", '. "$0/lib.sh"; need_space "$1" "$2" "the test step"',
                           SCRIPTS, directory, str(gib)],
                          capture_output=True, text=True, timeout=60)


class SmallDisk:
    """A 16 MiB tmpfs, as a disk with almost nothing free; its device and
    its mount point have a space in their names, as df's columns must
    survive."""

    def __enter__(self):
        self.top = tempfile.mkdtemp()
        self.tmp = os.path.join(self.top, "small disk")
        os.mkdir(self.tmp)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "small disk", self.tmp],
                           capture_output=True, text=True)
        if r.returncode != 0:
            os.rmdir(self.tmp)
            os.rmdir(self.top)
            raise unittest.SkipTest("cannot mount a tmpfs here: " + r.stderr.strip())
        return self.tmp

    def __exit__(self, *exc):
        subprocess.run(["umount", self.tmp], check=True)
        os.rmdir(self.tmp)
        os.rmdir(self.top)


def run_group(argv, env, timeout=30):
    """ARGV in a process group of its own, all of it killed if it runs
    past TIMEOUT: a check.sh that does not stop at once goes on to run
    the whole harness, this test included."""
    p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        raise AssertionError("%s did not stop within %d s" % (argv[0], timeout))
    return p.returncode, out, err


class Space(unittest.TestCase):
    def test_enough_space_passes_silently(self):
        with tempfile.TemporaryDirectory() as tmp:
            r = need_space(os.path.join(tmp, "new", "dir"), 0)
            self.assertEqual((0, ""), (r.returncode, r.stderr))

    def test_too_little_space_is_one_message(self):
        with tempfile.TemporaryDirectory() as tmp:
            r = need_space(tmp, 1 << 30)
        self.assertEqual(EXIT_NO_SPACE, r.returncode, r.stderr)
        lines = r.stderr.splitlines()
        self.assertEqual(1, len(lines), r.stderr)
        self.assertRegex(lines[0], r"^error: the test step needs about 1073741824 GiB free on /\S* "
                         r"\(for .*\), and \d+ MiB are free there: free some space")

    @unittest.skipUnless(os.geteuid() == 0, "mounting a small tmpfs needs root")
    def test_full_disk_counts_what_is_free(self):
        with SmallDisk() as disk:
            r = need_space(disk, 1)
        self.assertEqual(EXIT_NO_SPACE, r.returncode, r.stderr)
        self.assertRegex(r.stderr, r"needs about 1 GiB free on %s .*, and 1[0-6] MiB are free" % disk)

    @unittest.skipUnless(os.geteuid() == 0, "mounting a small tmpfs needs root")
    @unittest.skipIf(os.environ.get("TEST_SPACE_NESTED"), "inside the check.sh of this test")
    def test_make_check_from_a_fresh_clone_stops_first(self):
        # Before its first step: nothing downloaded, nothing unpacked,
        # and no build/ that would let the next run skip the question.
        with SmallDisk() as disk:
            env = dict(os.environ, BUILD=os.path.join(disk, "build"), TEST_SPACE_NESTED="1")
            rc, out, err = run_group([os.path.join(SCRIPTS, "check.sh")], env)
            left = os.listdir(disk)
        self.assertEqual(EXIT_NO_SPACE, rc, err)
        m = re.search(r"make check from a fresh clone needs about (\d+) GiB free on %s " % disk, err)
        self.assertTrue(m, err)
        # A cold .ci/run took 16.4 GiB (README.md, "Disk").
        self.assertGreaterEqual(int(m.group(1)), 17)
        self.assertNotIn("harness self-tests", out + err)
        self.assertEqual([], left)

if __name__ == "__main__":
    unittest.main()
