# SPDX-License-Identifier: GPL-2.0
"""verdict.py on saved guest consoles: no QEMU needed.

Each log in logs/ is a real console (stock-all-pass, base-all-skip) or one
derived from it to show a way a run goes wrong.
"""

import os
import unittest

from verdict import (EXIT_NO_RESULT, EXIT_OK, EXIT_SPLAT, EXIT_TESTS_FAILED,
                     EXIT_TIMEOUT, verdict)

LOGS = os.path.join(os.path.dirname(__file__), "logs")


def run(name, expect="pass", qemu_rc=1, flavour="stock"):
    with open(os.path.join(LOGS, name)) as f:
        return verdict(f.read(), flavour, expect, qemu_rc)


class Verdict(unittest.TestCase):
    def test_all_pass(self):
        rc, summary, reasons = run("stock-all-pass.log")
        self.assertEqual(rc, EXIT_OK, reasons)
        self.assertEqual(summary, "pipe (stock): 37 passed, 0 failed, 0 skipped (1 xfail)")

    def test_xfail_is_a_problem_where_everything_must_pass(self):
        rc, _, reasons = run("stock-all-pass.log", expect="all", flavour="series")
        self.assertEqual(rc, EXIT_TESTS_FAILED)
        self.assertIn("XFAIL", reasons[0])

    def test_all_skip_on_base(self):
        rc, summary, reasons = run("base-all-skip.log", expect="skip", flavour="base")
        self.assertEqual(rc, EXIT_OK, reasons)
        self.assertEqual(summary, "pipe (base): 0 passed, 0 failed, 41 skipped")

    def test_skip_where_tests_must_run(self):
        rc, _, reasons = run("base-all-skip.log", expect="all", flavour="series")
        self.assertEqual(rc, EXIT_TESTS_FAILED)
        self.assertIn("skipped", reasons[0])

    def test_pass_on_base_means_the_strip_failed(self):
        rc, _, reasons = run("stock-all-pass.log", expect="skip", flavour="base")
        self.assertEqual(rc, EXIT_TESTS_FAILED)
        self.assertIn("should lack packet mode", reasons[0])

    def test_one_failure(self):
        rc, summary, reasons = run("stock-one-failure.log")
        self.assertEqual(rc, EXIT_TESTS_FAILED)
        self.assertTrue(summary.startswith("pipe (stock): 36 passed, 1 failed, 0 skipped"))
        self.assertIn("exact_size_read_stops_at_boundary failed", reasons[0])

    def test_panic_in_the_middle_of_tap(self):
        rc, _, reasons = run("panic-mid-tap.log", qemu_rc=0)
        self.assertEqual(rc, EXIT_NO_RESULT)
        self.assertIn("guest panicked: Kernel panic - not syncing", reasons[0])

    def test_hang(self):
        rc, _, reasons = run("hang-mid-tap.log", qemu_rc=124)
        self.assertEqual(rc, EXIT_TIMEOUT)
        self.assertIn("timed out", reasons[0])
        self.assertIn("blocked_writer_wakes", reasons[0])

    def test_no_tests_at_all(self):
        rc, summary, reasons = run("no-tests.log")
        self.assertEqual(rc, EXIT_NO_RESULT)
        self.assertEqual(reasons, ["no test ran"])
        self.assertEqual(summary, "pipe (stock): 0 passed, 0 failed, 0 skipped")

    def test_guest_ended_without_the_end_marker(self):
        rc, _, reasons = run("hang-mid-tap.log", qemu_rc=0)
        self.assertEqual(rc, EXIT_NO_RESULT)
        self.assertIn("gave no result", reasons[0])

    def test_splat_fails_even_when_all_pass(self):
        rc, summary, reasons = run("splat-all-pass.log")
        self.assertEqual(rc, EXIT_SPLAT)
        self.assertIn("0 failed", summary)
        self.assertIn("WARNING: CPU: 1 PID: 97 at fs/pipe.c", reasons[0])

    def test_crash_leaves_results_missing(self):
        rc, _, reasons = run("crash-missing-results.log")
        self.assertEqual(rc, EXIT_TESTS_FAILED)
        self.assertTrue(any("gave no result (crash or hang)" in r for r in reasons), reasons)

    def test_bisect_step_accepts_skips(self):
        rc, _, reasons = run("base-all-skip.log", expect="any", flavour="bisect")
        self.assertEqual(rc, EXIT_OK, reasons)


if __name__ == "__main__":
    unittest.main()
