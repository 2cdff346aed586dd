# SPDX-License-Identifier: GPL-2.0
"""bench-report.py on saved benchmark consoles (logs/bench-*.log): a
clock that cannot measure, or a figure of zero, is an error, never a
report; a ratio with a missing or zero side is "not measured"."""

import importlib.util
import os
import tempfile
import unittest

HERE = os.path.dirname(__file__)
LOGS = os.path.join(HERE, "logs")
spec = importlib.util.spec_from_file_location(
    "bench_report", os.path.join(HERE, "..", "bench-report.py"))
bench_report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench_report)


class BenchReport(unittest.TestCase):
    def test_fine_clock_is_loaded(self):
        rows, _, clocks = bench_report.load(
            ["base:icount:" + os.path.join(LOGS, "bench-one-cpu.log")])
        self.assertEqual(len(rows), 1)
        self.assertGreater(rows[0][5], 0)
        self.assertEqual(clocks[("base", "icount")][0], "tsc-early")

    def test_coarse_clock_is_an_error(self):
        with self.assertRaises(SystemExit) as e:
            bench_report.load(
                ["base:icount:" + os.path.join(LOGS, "bench-coarse-clock.log")])
        self.assertIn("refined-jiffies", str(e.exception.code))
        self.assertIn("coarser than 1000 ns", str(e.exception.code))

    def load_edited(self, old, new):
        """The error load() exits with on bench-one-cpu.log, OLD made NEW."""
        with open(os.path.join(LOGS, "bench-one-cpu.log")) as f:
            text = f.read()
        self.assertIn(old, text)
        with tempfile.NamedTemporaryFile("w", suffix=".log") as f:
            f.write(text.replace(old, new))
            f.flush()
            with self.assertRaises(SystemExit) as e:
                bench_report.load(["base:icount:" + f.name])
        return str(e.exception.code)

    def test_zero_figure_is_an_error(self):
        self.assertIn("a figure of zero",
                      self.load_edited("BENCH,pipe,pair,64,1781.1,1781.1,1781.1",
                                       "BENCH,pipe,pair,64,0.0,0.0,0.0"))

    def test_kernel_message_inside_a_line_is_an_error(self):
        # 7.3's guest printed "input: ..." in the middle of a BENCH line.
        self.assertIn("does not parse",
                      self.load_edited("1781.1,5,1.00", "1781.1,5,1.00input: ImExPS/2 Mouse"))

    def test_ratio_never_divides_by_zero(self):
        self.assertIn("not measured", bench_report.ratio_row("x", 1.0, 0.0, 1.01))
        self.assertIn("not measured", bench_report.ratio_row("x", None, 2.0, 1.01))
        self.assertIn("holds", bench_report.ratio_row("x", 1.0, 1.0, 1.01))


if __name__ == "__main__":
    unittest.main()
