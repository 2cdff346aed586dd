# SPDX-License-Identifier: GPL-2.0
"""verdict.py on saved guest consoles: no QEMU needed.

Each log in logs/ is a real console (stock-all-pass, base-all-skip,
stock-opt-in-skips (the 16-patch suite on stock, where the tests of
F_SETPIPE_PKT_SZ skip),
up-all-pass, and up-hung-task and smp4-rcu-stall from check-faults.sh) or
one derived from it to show a way a run goes wrong. up-soft-lockup is
up-all-pass cut inside a splice test, followed by the report that the up
kernel printed when a program made the 13-patch series' splice spin
(issue #11, finding 2), its comm and pid changed to the test's.
"""

import os
import unittest

from verdict import (EXIT_LOCKUP, EXIT_NO_RESULT, EXIT_OK, EXIT_SPLAT,
                     EXIT_TESTS_FAILED, EXIT_TIMEOUT, program_lines, verdict)

LOGS = os.path.join(os.path.dirname(__file__), "logs")
SUITE = ["packet_test", "packet_mode_test", "packet_stress_test",
         "autofs_packet_test", "autofs_packet_test_32"]


def run(name, expect="pass", qemu_rc=1, flavour="stock", listed=None, cpus=None):
    with open(os.path.join(LOGS, name)) as f:
        return verdict(f.read(), flavour, expect, qemu_rc, listed, cpus)


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

    def test_stock_may_skip_only_for_the_missing_opt_in(self):
        rc, summary, reasons = run("stock-opt-in-skips.log")
        self.assertEqual(rc, EXIT_OK, reasons)
        self.assertEqual(summary, "pipe (stock): 124 passed, 0 failed, 104 skipped (18 xfail)")
        with open(os.path.join(LOGS, "stock-opt-in-skips.log")) as f:
            other = f.read().replace("no F_SETPIPE_PKT_SZ in this kernel (EINVAL)",
                                     "something else is missing")
        rc, _, reasons = verdict(other, "stock", "pass", 1)
        self.assertEqual(rc, EXIT_TESTS_FAILED)
        self.assertIn("something else is missing", reasons[0])

    def test_each_program_gets_its_own_line(self):
        with open(os.path.join(LOGS, "stock-opt-in-skips.log")) as f:
            lines = program_lines(f.read())
        self.assertIn("  autofs_packet_test_32: 6 passed, 0 failed, 0 skipped", lines)
        self.assertIn("  packet_limit_test_32: 25 passed, 0 failed, 33 skipped (3 xfail)",
                      lines)
        self.assertEqual(len(lines), 8)
        with open(os.path.join(LOGS, "crash-missing-results.log")) as f:
            self.assertRegex("\n".join(program_lines(f.read())), r": \d+ passed, [1-9]\d* failed")

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

    def test_every_listed_program_reported(self):
        rc, summary, reasons = run("up-all-pass.log", expect="all",
                                   flavour="up", listed=SUITE)
        self.assertEqual(rc, EXIT_OK, reasons)
        self.assertEqual(summary, "pipe (up): 85 passed, 0 failed, 0 skipped")

    def test_a_listed_program_that_never_ran_fails(self):
        rc, summary, reasons = run("up-32bit-missing.log", expect="all",
                                   flavour="up", listed=SUITE)
        self.assertEqual(rc, EXIT_TESTS_FAILED)
        self.assertIn("1 failed", summary)
        self.assertEqual(reasons, ["autofs_packet_test_32: built, but it never "
                                   "reported (did not run)"])

    def test_soft_lockup(self):
        rc, _, reasons = run("up-soft-lockup.log", expect="all", flavour="up",
                             qemu_rc=0, listed=SUITE)
        self.assertEqual(rc, EXIT_LOCKUP)
        self.assertEqual(reasons, [
            "kernel lockup, RCU stall or hung task: watchdog: BUG: soft lockup"
            " - CPU#0 stuck for 26s! [packet_mode_tes:93] (last test started:"
            " splice.big_packet_waits_for_room_in_the_destination)"])

    def test_lockup_report_beats_the_timeout(self):
        rc, _, reasons = run("up-soft-lockup.log", qemu_rc=124)
        self.assertEqual(rc, EXIT_LOCKUP)
        self.assertIn("soft lockup", reasons[0])

    def test_rcu_stall(self):
        rc, _, reasons = run("smp4-rcu-stall.log", expect="all",
                             flavour="smp4", qemu_rc=0)
        self.assertEqual(rc, EXIT_LOCKUP)
        self.assertEqual(reasons, [
            "kernel lockup, RCU stall or hung task: rcu: INFO: rcu_preempt "
            "self-detected stall on CPU"])

    def test_hung_task(self):
        rc, _, reasons = run("up-hung-task.log", expect="all", flavour="up",
                             qemu_rc=0)
        self.assertEqual(rc, EXIT_LOCKUP)
        self.assertEqual(reasons, [
            "kernel lockup, RCU stall or hung task: INFO: task busybox:1 "
            "blocked for more than 2 seconds."])

    def test_guest_with_fewer_cpus_than_given(self):
        # QEMU's -smp 2 without sockets=2: the kernel found one CPU.
        rc, _, reasons = run("stock-all-pass.log", cpus=2)
        self.assertEqual(rc, EXIT_TESTS_FAILED)
        self.assertEqual(reasons, ["the guest brought up 1 CPUs, not 2"])

    def test_a_program_without_tap_counts_by_the_runners_line(self):
        with open(os.path.join(LOGS, "stock-all-pass.log")) as f:
            text = f.read()
        bench = ("# selftests: pipe: pipe_bench\n# config: writers=1 readers=1\n"
                 "# throughput_MBps: 812.50\n{} 3 selftests: pipe: pipe_bench\n")
        end = "harness: end of tests"
        for ok, rc in (("ok", EXIT_OK), ("not ok", EXIT_TESTS_FAILED)):
            with self.subTest(result=ok):
                log = text.replace(end, bench.format(ok) + end)
                got, summary, reasons = verdict(log, "mainline", "pass", 1)
                self.assertEqual(rc, got, reasons)
                self.assertIn("38 passed" if ok == "ok" else "37 passed", summary)
        # one of ours that printed nothing is still a failure
        log = text.replace(end, bench.replace("pipe_bench", "packet_test").format("ok") + end)
        got, _, reasons = verdict(log, "mainline", "pass", 1)
        self.assertEqual(EXIT_TESTS_FAILED, got)
        self.assertIn("printed no TAP plan", " ".join(reasons))

    def test_bisect_step_accepts_skips(self):
        rc, _, reasons = run("base-all-skip.log", expect="any", flavour="bisect")
        self.assertEqual(rc, EXIT_OK, reasons)

    def test_smoke_counts_failed_tests_without_judging_them(self):
        rc, summary, reasons = run("stock-one-failure.log", expect="smoke",
                                   flavour="bisect")
        self.assertEqual(rc, EXIT_OK, reasons)
        self.assertIn(" 1 failed", summary)
        rc, _, _ = run("stock-one-failure.log", expect="any", flavour="bisect")
        self.assertEqual(rc, EXIT_TESTS_FAILED)

    def test_smoke_still_fails_on_what_breaks_a_run(self):
        for log, want in (("crash-missing-results.log", EXIT_TESTS_FAILED),
                          ("splat-all-pass.log", EXIT_SPLAT),
                          ("up-soft-lockup.log", EXIT_LOCKUP)):
            with self.subTest(log=log):
                rc, _, reasons = run(log, expect="smoke", flavour="bisect")
                self.assertEqual(rc, want, reasons)



class BenchVerdict(unittest.TestCase):
    """Benchmark consoles: bench-coarse-clock is the guest setup that broke
    make bench (2 CPUs under -icount: the TSC marked unstable, jiffies);
    bench-one-cpu the one-CPU guest that replaced it (one measurement on
    the base kernel, as bench.sh smoke takes one on the series)."""

    def test_fine_clock(self):
        rc, summary, reasons = run("bench-one-cpu.log", expect="bench",
                                   flavour="series")
        self.assertEqual(rc, EXIT_OK, reasons)
        self.assertRegex(summary, r"^bench \(series\): 1 measurements, clock tsc(-early)? \(\d+ ns\)$")

    def test_coarse_clock_fails_with_one_message(self):
        rc, summary, reasons = run("bench-coarse-clock.log", expect="bench",
                                   flavour="series")
        self.assertEqual(rc, EXIT_TESTS_FAILED)
        self.assertIn("clock refined-jiffies", summary)
        self.assertEqual(len(reasons), 1)
        self.assertRegex(reasons[0], r"clocksource refined-jiffies\) resolves only "
                         r"\d{6,} ns, coarser than 1000 ns")

    def test_zero_figure_fails(self):
        with open(os.path.join(LOGS, "bench-one-cpu.log")) as f:
            text = f.read()
        broken = "\n".join(
            ",".join(l.split(",")[:4] + ["0.0", "0.0", "0.0"] + l.split(",")[7:])
            if l.startswith("BENCH,") else l for l in text.splitlines())
        rc, _, reasons = verdict(broken, "series", "bench", 1)
        self.assertEqual(rc, EXIT_TESTS_FAILED)
        self.assertIn("a figure that is zero", reasons[0])

    def test_no_clock_line(self):
        with open(os.path.join(LOGS, "bench-one-cpu.log")) as f:
            text = "\n".join(l for l in f.read().splitlines()
                             if not l.startswith("CLOCK,"))
        rc, _, reasons = verdict(text, "series", "bench", 1)
        self.assertEqual(rc, EXIT_NO_RESULT)
        self.assertEqual(reasons, ["the benchmark printed no CLOCK line"])


if __name__ == "__main__":
    unittest.main()
