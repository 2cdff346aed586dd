#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn one guest console log into a verdict.

    verdict.py --flavour F --expect POLICY --qemu-rc RC [--cpus N]
               [--programs LIST] console.log

Reads the kselftest TAP that run_kselftest.sh printed (tests nested one level
under each program), the way QEMU ended, and any kernel splat on the console.
Prints one line "pipe (F): N passed, N failed, N skipped" and exits with the
harness's exit codes (scripts/lib.sh). run_kselftest.sh's own exit status is
never trusted: it is 0 even when a test fails. LIST is kselftest's
kselftest-list.txt: every program in it must have reported its results.
N is the number of CPUs the guest was given: the kernel must bring them
all up.

POLICY says what the flavour must show:
  skip  every test skips (a kernel without packet mode; a pass means the
        strip did not take)
  pass  every test passes; XFAIL (a known upstream limitation) is allowed,
        and so is a SKIP for the missing opt-in (F_SETPIPE_PKT_SZ)
  all   every test passes: no skip, no XFAIL
  any   skips, XFAILs and passes are all fine (a bisect step); failures
        and missing results still count
  smoke a bisect step whose tree carries no tests yet ran the finished
        suite as a load: failed tests are counted, not judged (they test
        what later patches add), but every program must report in full,
        and a splat, panic, lockup or hang fails as anywhere
  bench the guest ran the benchmark: it must reach its end, with no
        splat, on a clock finer than a microsecond (its CLOCK line), and
        every figure non-zero; there is no TAP
"""

import argparse
import re
import sys

EXIT_OK, EXIT_TESTS_FAILED, EXIT_NO_RESULT, EXIT_TIMEOUT, EXIT_SPLAT = 0, 1, 5, 6, 7
EXIT_LOCKUP = 8
QEMU_TIMEOUT = 124              # from timeout(1)
QEMU_GUEST_DONE = (1, 3)        # debug-exit: (value << 1) | 1
END_MARKER = "harness: end of tests"
BENCH_END_MARKER = "harness: end of bench"
# tools/pipe-bench: "CLOCK,<clocksource>,<resolution ns>", then "BENCH,..."
CLOCK_LINE = re.compile(r"^CLOCK,([^,]*),(-?\d+)$")
FINEST_CLOCK_NS = 1000

# Anything the kernel prints when it is not well; one of them fails a run
# even when every test passed.
SPLAT = re.compile(
    r"BUG:|WARNING:|Oops|Kernel panic|kernel BUG at|general protection fault"
    r"|KASAN|UBSAN|KFENCE|possible recursive locking|circular locking"
    r"|inconsistent lock state|bad unlock balance|INFO: task .* blocked"
    r"|detected stalls|Call Trace:")

# The lockup and hang detectors (scripts/lockup.config). Their reports
# come before the panic they trigger, or before the host's timeout where
# the kernel does not panic: they say why the run ended.
LOCKUP = re.compile(
    r"watchdog: BUG: soft lockup|detected hard LOCKUP"
    r"|rcu: INFO: rcu_\w+ (self-)?detected (expedited )?stall"
    r"|INFO: task .+ blocked for more than")
TEST_START = re.compile(r"^# #\s+RUN\s+(\S+)")
CPUS_UP = re.compile(r"^smp: Brought up \d+ nodes?, (\d+) CPUs?")

# What a test says when it skips for want of the opt-in to big packets
# (stock and other upstream kernels have packet mode but not the fcntl).
OPT_IN_MISSING = "no F_SETPIPE_PKT_SZ in this kernel"

# Programs of upstream's directory that print no TAP (7.3's pipe_bench):
# judged by the runner's line alone. Ours must print their plan.
PLAIN_PROGRAM = re.compile(r"^pipe_bench$")

RESULT = re.compile(r"^(not ok|ok) (\d+) (.*?)(?:\s+#\s*(\w+)\s*(.*))?$")
PLAN = re.compile(r"^1\.\.(\d+)")


class Program:
    """One test binary: its plan and the results of its tests."""

    def __init__(self, name):
        self.name = name
        self.plan = None
        self.results = []       # (ok, name, directive, reason)
        self.outcome = None     # the runner's ok/not ok line for it
        self.tally = None       # its results, counted by judge()


def parse(lines):
    """Return (programs, top-level plan) from kselftest runner output."""
    programs, top_plan, cur = [], None, None
    for line in lines:
        m = re.match(r"^# selftests: \S+: (\S+)", line)
        if m:
            cur = Program(m.group(1))
            programs.append(cur)
            continue
        if line.startswith("# ") and cur is not None:
            inner = line[2:]
            m = PLAN.match(inner)
            if m and cur.plan is None:
                cur.plan = int(m.group(1))
                continue
            m = RESULT.match(inner)
            if m:
                directive = (m.group(4) or "").upper()
                cur.results.append((m.group(1) == "ok", m.group(3),
                                    directive, m.group(5) or ""))
            continue
        m = PLAN.match(line)
        if m and top_plan is None:
            top_plan = int(m.group(1))
            continue
        m = RESULT.match(line)
        if m and cur is not None and "selftests:" in m.group(3):
            cur.outcome = (m.group(1) == "ok", m.group(4) or "")
            cur = None
    return programs, top_plan


class Tally:
    def __init__(self):
        self.passed = self.failed = self.skipped = self.xfail = 0
        self.problems = []

    def fail(self, why):
        self.failed += 1
        self.problems.append(why)

    def add(self, other):
        self.passed += other.passed
        self.failed += other.failed
        self.skipped += other.skipped
        self.xfail += other.xfail
        self.problems += other.problems

    def counts(self):
        return (f"{self.passed} passed, {self.failed} failed, {self.skipped} skipped"
                + (f" ({self.xfail} xfail)" if self.xfail else ""))


def judge(programs, top_plan, expect, listed=None):
    t = Tally()
    for p in programs:
        p.tally = pt = Tally()
        for ok, name, directive, reason in p.results:
            label = f"{p.name}: {name}"
            if directive == "SKIP":
                pt.skipped += 1
                if expect == "all" or (expect == "pass" and
                                       OPT_IN_MISSING not in reason):
                    pt.problems.append(f"{label} skipped ({reason})")
            elif directive == "XFAIL":
                pt.xfail += 1
                if expect in ("skip", "all"):
                    pt.problems.append(f"{label} is XFAIL here ({reason})")
            elif ok:
                pt.passed += 1
                if expect == "skip":
                    pt.problems.append(f"{label} passed on a kernel that "
                                       "should lack packet mode")
            elif expect == "smoke":
                pt.failed += 1
            else:
                pt.fail(f"{label} failed")
        if p.plan is None and not p.results and p.outcome is not None \
                and PLAIN_PROGRAM.match(p.name):
            # A program that prints no TAP of its own (mainline's
            # pipe_bench): one test, the runner's line its result.
            if p.outcome[0]:
                pt.passed += 1
            else:
                pt.fail(f"{p.name}: program failed ({p.outcome[1] or 'exit status'})")
        elif p.plan is None:
            pt.fail(f"{p.name}: printed no TAP plan (did it start?)")
        elif len(p.results) < p.plan:
            missing = p.plan - len(p.results)
            pt.failed += missing
            pt.problems.append(f"{p.name}: {missing} of {p.plan} tests gave "
                               "no result (crash or hang)")
        if p.outcome is None:
            pt.problems.append(f"{p.name}: the runner printed no result for it")
        elif not p.outcome[0] and all(ok for ok, *_ in p.results) \
                and len(p.results) >= (p.plan or 0):
            pt.fail(f"{p.name}: program failed ({p.outcome[1] or 'exit status'})")
        t.add(pt)
    if listed is not None:
        ran = {p.name for p in programs}
        for name in listed:
            if name not in ran:
                t.fail(f"{name}: built, but it never reported (did not run)")
    elif top_plan is not None and len(programs) < top_plan:
        t.problems.append(f"{top_plan - len(programs)} of {top_plan} test "
                          "programs never started")
    return t


def program_lines(text):
    """One line per test program: its own results, as judge() counts them."""
    programs, top_plan = parse([l.rstrip("\r") for l in text.splitlines()])
    judge(programs, top_plan, "any")
    return [f"  {p.name}: {p.tally.counts()}" for p in programs]


def lockup_report(lines):
    """The first lockup, stall or hung-task report, and the test it hit."""
    test = None
    for line in lines:
        m = TEST_START.match(line)
        if m:
            test = m.group(1)
        elif LOCKUP.search(line):
            return line.strip() + (f" (last test started: {test})" if test else "")
    return None


def verdict(text, flavour, expect, qemu_rc, listed=None, cpus=None):
    """Return (exit code, summary line, list of reasons)."""
    lines = [l.rstrip("\r") for l in text.splitlines()]
    if expect == "bench":
        return bench_verdict(lines, flavour, qemu_rc)
    programs, top_plan = parse(lines)
    t = judge(programs, top_plan, expect, listed)
    up = next((int(m.group(1)) for m in map(CPUS_UP.match, lines) if m), None)
    if cpus and up is not None and up != cpus:
        t.problems.append(f"the guest brought up {up} CPUs, not {cpus}")
    summary = f"pipe ({flavour}): {t.counts()}"
    splats = [l.strip() for l in lines if SPLAT.search(l)]
    last = next((l for l in reversed(lines)
                 if l.strip() and not l.startswith("qemu-system")),
                "(empty console)")

    lockup = lockup_report(lines)
    if lockup:
        return EXIT_LOCKUP, summary, [f"kernel lockup, RCU stall or hung task: {lockup}"]
    if qemu_rc == QEMU_TIMEOUT:
        return EXIT_TIMEOUT, summary, [f"guest timed out; last console line: {last}"]
    if splats and "Kernel panic" in " ".join(splats):
        panic = next(s for s in splats if "Kernel panic" in s)
        return EXIT_NO_RESULT, summary, [f"guest panicked: {panic}"]
    if qemu_rc not in QEMU_GUEST_DONE or END_MARKER not in lines:
        return EXIT_NO_RESULT, summary, [
            f"guest gave no result (qemu exit {qemu_rc}); last console line: {last}"]
    if splats:
        return EXIT_SPLAT, summary, [f"kernel splat on the console: {s}"
                                     for s in splats[:5]]
    if not programs or t.passed + t.failed + t.skipped + t.xfail == 0:
        return EXIT_NO_RESULT, summary, ["no test ran"]
    # Under smoke a failed test is counted only; whatever else failed
    # left a problem behind.
    if t.problems or (t.failed and expect != "smoke"):
        return EXIT_TESTS_FAILED, summary, t.problems
    return EXIT_OK, summary, []


def bench_clock(lines):
    """(clocksource, resolution in ns) from the benchmark's CLOCK line."""
    for line in lines:
        m = CLOCK_LINE.match(line.strip())
        if m:
            return m.group(1), int(m.group(2))
    return None, None


def bench_verdict(lines, flavour, qemu_rc):
    """A benchmark run: it ended by itself on a clock that can measure,
    every figure is a number above zero, and the kernel stayed quiet."""
    rows = [l.strip() for l in lines if l.startswith("BENCH,")]
    source, resolution = bench_clock(lines)
    summary = f"bench ({flavour}): {len(rows)} measurements, clock {source} ({resolution} ns)"
    splats = [l.strip() for l in lines if SPLAT.search(l)]
    lockup = lockup_report(lines)
    if lockup:
        return EXIT_LOCKUP, summary, [f"kernel lockup, RCU stall or hung task: {lockup}"]
    if qemu_rc == QEMU_TIMEOUT:
        return EXIT_TIMEOUT, summary, ["guest timed out during the benchmark"]
    if resolution is not None and resolution > FINEST_CLOCK_NS:
        return EXIT_TESTS_FAILED, summary, [
            f"the guest's clock (clocksource {source}) resolves only {resolution} ns, "
            f"coarser than {FINEST_CLOCK_NS} ns: its figures would be multiples of it "
            "or zero; give the benchmark guest a clock it keeps (see README, Performance)"]
    if qemu_rc not in QEMU_GUEST_DONE or BENCH_END_MARKER not in lines:
        return EXIT_NO_RESULT, summary, [f"the benchmark did not finish (qemu exit {qemu_rc})"]
    if resolution is None:
        return EXIT_NO_RESULT, summary, ["the benchmark printed no CLOCK line"]
    if splats:
        return EXIT_SPLAT, summary, [f"kernel splat on the console: {s}" for s in splats[:5]]
    bad = [r for r in rows if not all(_positive(v) for v in r.split(",")[4:7])]
    if not rows or bad:
        return EXIT_TESTS_FAILED, summary, [
            f"a figure that is zero or not a number: {r}" for r in bad[:5]] or ["no figure"]
    return EXIT_OK, summary, []


def _positive(text):
    try:
        return float(text) > 0
    except ValueError:
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--flavour", required=True)
    ap.add_argument("--expect", choices=("skip", "pass", "all", "any", "smoke", "bench"),
                    required=True)
    ap.add_argument("--qemu-rc", type=int, required=True)
    ap.add_argument("--cpus", type=int, help="CPUs the guest was given")
    ap.add_argument("--programs", type=argparse.FileType(),
                    help="kselftest-list.txt: the programs that must report")
    ap.add_argument("log")
    args = ap.parse_args()
    listed = None
    if args.programs:
        listed = [l.strip().split(":", 1)[-1] for l in args.programs if l.strip()]
    with open(args.log, errors="replace") as f:
        text = f.read()
    rc, summary, reasons = verdict(text, args.flavour, args.expect,
                                   args.qemu_rc, listed, args.cpus)
    if args.expect != "bench":
        print("\n".join(program_lines(text)))
    for r in reasons:
        print(f"  {r}")
    print(summary)
    sys.exit(rc)


if __name__ == "__main__":
    main()
