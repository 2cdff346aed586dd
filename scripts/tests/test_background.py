# SPDX-License-Identifier: GPL-2.0
"""lib.sh's background jobs (make check's PREBUILD): the script's exit
status survives its EXIT trap under set -e, background_wait returns the
job's status, and no process of the job outlives the script, however it
ends: exit, die, a signal to the script or a Ctrl-C to its group."""

import os
import signal
import subprocess
import tempfile
import time
import unittest

SCRIPTS = os.path.join(os.path.dirname(__file__), "..")

# A job with a child, as prebuild-kernels.sh runs make: both pids in
# $1/pids once both run, then it waits well past any test.
LONG_JOB = ('background_start "$1/log" sh -c \'sleep 60 & echo "$$ $!" > "$0/pids.new"; '
            'mv "$0/pids.new" "$0/pids"; wait\' "$1"\n'
            'while [ ! -s "$1/pids" ]; do sleep 0.05; done\n')


def script(body, tmp):
    """BODY in bash after lib.sh; $1 is the directory TMP."""
    return ["bash", "-c", '. "$0/lib.sh"\n' + body, SCRIPTS, tmp]


def run(body):
    """BODY to its end, in a scratch directory of its own."""
    with tempfile.TemporaryDirectory() as tmp:
        return subprocess.run(script(body, tmp), capture_output=True, text=True, timeout=60)


def alive(pid):
    """Running, or stopped: a zombie has ended."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


class Background(unittest.TestCase):
    def job_pids(self, tmp):
        path = os.path.join(tmp, "pids")
        deadline = time.monotonic() + 30
        while not os.path.exists(path) and time.monotonic() < deadline:
            time.sleep(0.05)
        with open(path) as f:
            pids = [int(p) for p in f.read().split()]
        # Whatever the outcome, no test leaves its job behind.
        for pid in pids:
            self.addCleanup(lambda p=pid: alive(p) and os.kill(p, signal.SIGKILL))
        return pids

    def assertGone(self, pids):
        # background_stop waits for the group: nothing may be left.
        self.assertEqual([], [p for p in pids if alive(p)])

    def test_success_survives_the_exit_trap(self):
        r = run('background_start "$1/log" true\nbackground_wait\nexit 0\n')
        self.assertEqual(0, r.returncode, r.stderr)

    def test_wait_returns_the_jobs_status(self):
        r = run('background_start "$1/log" sh -c "exit 5"\n'
                'rc=0; background_wait || rc=$?\necho "$rc"\n')
        self.assertEqual(0, r.returncode, r.stderr)
        self.assertEqual("5", r.stdout.strip())

    def test_the_job_keeps_its_output_and_reads_nothing(self):
        # The script's stdin stays open: a job reading it would wait
        # (on a terminal, stop) for ever.
        with tempfile.TemporaryDirectory() as tmp:
            p = subprocess.Popen(script('background_start "$1/log" sh -c "echo built; cat"\n'
                                        'background_wait\ncat "$1/log"\n', tmp),
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True)
            self.addCleanup(p.kill)
            self.addCleanup(p.stdin.close)
            self.assertEqual(0, p.wait(timeout=30))
            self.assertEqual("built", p.stdout.read().strip())
            p.stdout.close()

    def test_an_early_exit_keeps_its_status_and_stops_the_job(self):
        with tempfile.TemporaryDirectory() as tmp:
            p = subprocess.Popen(script(LONG_JOB + "exit 3\n", tmp),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.addCleanup(p.kill)
            pids = self.job_pids(tmp)
            self.assertEqual(3, p.wait(timeout=30))
            self.assertGone(pids)

    def signal_while(self, what, sig, to_group):
        with tempfile.TemporaryDirectory() as tmp:
            p = subprocess.Popen(script(LONG_JOB + what, tmp),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 start_new_session=True)
            self.addCleanup(p.kill)
            pids = self.job_pids(tmp)
            if to_group:
                os.killpg(p.pid, sig)
            else:
                p.send_signal(sig)
            # The script ends by the signal, as it would without the
            # job, and at once: well before the foreground sleep ends.
            self.assertEqual(-sig, p.wait(timeout=30))
            self.assertGone(pids)

    def test_sigterm_to_the_script_in_wait_stops_the_job(self):
        self.signal_while("background_wait\n", signal.SIGTERM, to_group=False)

    def test_sigterm_to_the_script_in_a_command_stops_it_at_once(self):
        self.signal_while("sleep 60\n", signal.SIGTERM, to_group=False)

    def test_ctrl_c_to_the_scripts_group_stops_the_job(self):
        # The job's own group hears no Ctrl-C: only background_stop.
        self.signal_while("background_wait\n", signal.SIGINT, to_group=True)

    def test_a_script_with_its_own_exit_trap_is_refused(self):
        r = run('trap "rm -rf \\"$1/x\\"" EXIT\nbackground_start "$1/log" true\n')
        self.assertEqual(2, r.returncode)
        self.assertIn("EXIT trap", r.stderr)


if __name__ == "__main__":
    unittest.main()
