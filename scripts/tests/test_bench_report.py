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

    def test_zero_figure_is_an_error(self):
        with open(os.path.join(LOGS, "bench-one-cpu.log")) as f:
            text = f.read().replace("BENCH,pipe,pair,64,1781.1,1781.1,1781.1",
                                    "BENCH,pipe,pair,64,0.0,0.0,0.0")
        with tempfile.NamedTemporaryFile("w", suffix=".log") as f:
            f.write(text)
            f.flush()
            with self.assertRaises(SystemExit) as e:
                bench_report.load(["base:icount:" + f.name])
        self.assertIn("a figure of zero", str(e.exception.code))

    def test_ratio_never_divides_by_zero(self):
        self.assertIn("not measured", bench_report.ratio_row("x", 1.0, 0.0, 1.01))
        self.assertIn("not measured", bench_report.ratio_row("x", None, 2.0, 1.01))
        self.assertIn("holds", bench_report.ratio_row("x", 1.0, 1.0, 1.01))


if __name__ == "__main__":
    unittest.main()
