#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Collect benchmark logs into results.csv, reads.csv, report.md, chart.png.

    bench-report.py OUTDIR KERNEL:CLOCK:LOG ...

Each LOG holds the "BENCH,..." lines tools/pipe-bench printed. The report
holds the ratios we judge the series by, measured in the same run on the
-icount clock (guest time = instructions executed), and says plainly
where a goal is missed.
"""

import csv
import os
import subprocess
import sys

HEADER = ["kernel", "clock", "transport", "pattern", "size",
          "ns_per_msg", "ns_min", "ns_max", "reps"]
PATTERNS = ("pair", "pingpong", "stream")
FINEST_CLOCK_NS = 1000          # as tools/pipe-bench and verdict.py


def load(specs):
    """BENCH rows, reads per message, and each log's CLOCK line. A log
    without a clock line, or with a figure that is not above zero, is an
    error: a benchmark that cannot measure must not look like one that did."""
    rows, reads, clocks = [], {}, {}
    for spec in specs:
        kernel, clock, path = spec.split(":", 2)
        with open(path, errors="replace") as f:
            for line in f:
                line = line.strip().rstrip("\r")
                if line.startswith("CLOCK,"):
                    _, source, res = line.split(",")
                    clocks[(kernel, clock)] = (source, int(res))
                if not line.startswith("BENCH,"):
                    continue
                try:
                    _, tr, pat, size, med, lo, hi, reps, nreads = line.split(",")
                    row = [kernel, clock, tr, pat, int(size), float(med),
                           float(lo), float(hi), int(reps)]
                    nreads = float(nreads)
                except ValueError:
                    sys.exit(f"bench-report: {path}: a BENCH line that does not parse "
                             f"(a kernel message in the middle of it?): {line}")
                if min(row[5:8]) <= 0:
                    sys.exit(f"bench-report: {path}: a figure of zero: {line}")
                rows.append(row)
                reads[(kernel, clock, tr, pat, int(size))] = nreads
        if (kernel, clock) not in clocks:
            sys.exit(f"bench-report: {path}: no CLOCK line (not a pipe-bench run?)")
        source, res = clocks[(kernel, clock)]
        if res > FINEST_CLOCK_NS:
            sys.exit(f"bench-report: {path}: the guest's clock ({source}) resolves "
                     f"{res} ns, coarser than {FINEST_CLOCK_NS} ns: no figure to report")
    return rows, reads, clocks


def ratio_row(label, num, den, goal):
    if not num or not den:
        return f"| {label} | - | - | - | not measured |"
    r = num / den
    verdict = "holds" if r <= goal else "**missed**"
    return f"| {label} | {num:.0f} | {den:.0f} | {r:.3f} | {verdict} (goal <= {goal}) |"


def load_previous(outdir):
    """The -icount medians of the results.csv this run replaces, if any."""
    try:
        with open(os.path.join(outdir, "results.csv"), newline="") as f:
            return {(r["kernel"], r["transport"], r["pattern"], int(r["size"])):
                    float(r["ns_per_msg"]) for r in csv.DictReader(f)
                    if r["clock"] == "icount"}
    except (OSError, KeyError, ValueError):
        return {}


def repeatability(rows, previous):
    """Compare this run's -icount medians with the previous run's."""
    diffs = []
    for r in rows:
        key = (r[0], r[2], r[3], r[4])
        if r[1] == "icount" and key in previous:
            if previous[key] > 0:
                diffs.append((abs(r[5] - previous[key]) / previous[key], key))
    if not diffs:
        return ["## Repeatability", "",
                "No earlier -icount run in this directory to compare with.", ""]
    worst, key = max(diffs)
    verdict = "holds" if worst <= 0.01 else "**missed**"
    return ["## Repeatability", "",
            f"Against the previous run's results.csv: {len(diffs)} -icount figures "
            f"compared, the largest difference is {100 * worst:.2f}% "
            f"({'/'.join(map(str, key))}); {verdict} (goal <= 1%).", ""]


def roles_played(outdir):
    """(role, flavour) pairs from bench.sh's OUTDIR/kernels, if any."""
    try:
        with open(os.path.join(outdir, "kernels")) as f:
            return [tuple(line.split()) for line in f if len(line.split()) == 2]
    except OSError:
        return []


def report(rows, reads, clocksources, outdir, previous):
    ns = {(r[0], r[1], r[2], r[3], r[4]): r[5] for r in rows}
    kernels = sorted({r[0] for r in rows}, key=["base", "stock", "series", "host"].index)
    clocks = sorted({r[1] for r in rows})
    clock = "icount" if "icount" in clocks else clocks[0]
    get = lambda k, tr, pat, size: ns.get((k, clock, tr, pat, size))
    out = [f"# Packet pipe benchmark ({clock} clock)", "",
           "ns per message, median of the repetitions; lower is better;",
           "'-': the transport is missing on that kernel (no packet mode on base);",
           "'(N reads)': a message took N reads to receive.",
           "Under -icount a guest nanosecond is one instruction: the figures",
           "count work, not the host's speed, and repeat exactly.", "",
           "| kernel | clock | guest clocksource | resolution (ns) |",
           "|---|---|---|---|"]
    out += [f"| {k} | {c} | {src} | {res} |" for (k, c), (src, res) in sorted(clocksources.items())]
    out.append("")
    roles = roles_played(outdir)
    if roles:
        out += ["Each kernel is a role played by a flavour of the tree",
                "(scripts/flavours/; one guest may play two roles):", "",
                "| kernel | flavour |", "|---|---|"]
        out += [f"| {role} | {flavour} |" for role, flavour in roles]
        out.append("")

    for k in kernels:
        out += [f"## {k}", "", "| transport | pattern | " +
                " | ".join(str(s) for s in (1, 64, 512, 4096, 16384, 65536)) + " |",
                "|---|---|" + "---|" * 6]
        for tr in ("pipe", "packet", "seqpacket", "dgram", "eventfd"):
            for pat in PATTERNS:
                if tr == "eventfd":
                    v = get(k, tr, pat, 8)
                    if v is not None:
                        out.append(f"| eventfd (8 B) | {pat} | {v:.0f} |" + " |" * 5)
                    continue
                cells = []
                for s in (1, 64, 512, 4096, 16384, 65536):
                    v = get(k, tr, pat, s)
                    n = reads.get((k, clock, tr, pat, s), 1.0)
                    if v is None:
                        cells.append("-")
                    elif tr != "pipe" and n > 1.01:
                        cells.append(f"{v:.0f} ({n:.0f} reads)")
                    else:
                        cells.append(f"{v:.0f}")
                out.append(f"| {tr} | {pat} | " + " | ".join(cells) + " |")
        out.append("")

    if {"series", "stock", "base"} <= set(kernels):
        # Judged on the pair pattern: one thread, so the figure is the
        # instructions of one write and one read. The two-process patterns
        # also count where timer ticks and wakeups fall, which moves with
        # any change in code size; they are shown below, not judged.
        def goals(pat):
            rows = []
            for s in (1, 64, 512, 4096):
                rows.append(ratio_row(f"packet {pat} {s} B: series / stock",
                                      get("series", "packet", pat, s),
                                      get("stock", "packet", pat, s), 1.02))
            for s in (1, 64, 512, 4096, 16384, 65536):
                rows.append(ratio_row(f"plain pipe {pat} {s} B: series / base",
                                      get("series", "pipe", pat, s),
                                      get("base", "pipe", pat, s), 1.01))
            for s in (16384, 65536):
                rows.append(ratio_row(f"{pat} {s} B: series packet / series plain pipe",
                                      get("series", "packet", pat, s),
                                      get("series", "pipe", pat, s), 1.05))
            rows.append(ratio_row(f"{pat} 64 B: series packet / series SEQPACKET",
                                  get("series", "packet", pat, 64),
                                  get("series", "seqpacket", pat, 64), 0.4))
            return rows

        head = ["| ratio | numerator ns | denominator ns | ratio | verdict |",
                "|---|---|---|---|---|"]
        out += ["## Goals (write+read pairs in one thread)", ""] + head + goals("pair")
        out += ["", "## The same ratios for two processes (not judged)", "",
                "Ping-pong and streaming between two processes also measure the",
                "scheduler: a few instructions more or less move the timer ticks",
                "and wakeups to other points of the loop, so these ratios swing",
                "by a few percent either way with no change to the pipe code.",
                "They still repeat exactly from one run to the next.", ""] + head
        for pat in ("pingpong", "stream"):
            out += goals(pat)
        out += ["", "The aim beyond the first goal is series / stock <= 0.95 for packets",
                "up to 4096 B.", "",
                "### For reference, not judged", "",
                "| ratio | value |", "|---|---|"]
        for pat in PATTERNS:
            for s in (16384, 65536):
                a, b = get("stock", "packet", pat, s), get("stock", "pipe", pat, s)
                n = reads.get(("stock", clock, "packet", pat, s), 1.0)
                if a and b:
                    out.append(f"| stock packet / stock plain pipe, {pat} {s} B "
                               f"({n:.0f} reads per message) | {a / b:.3f} |")
        for k in ("stock", "series"):
            a, b = get(k, "packet", "pair", 64), get(k, "eventfd", "pair", 8)
            if a and b:
                out.append(f"| {k}: packet pair 64 B / eventfd pair (the floor) | {a / b:.2f} |")
            a, b = get(k, "packet", "pair", 64), get(k, "seqpacket", "pair", 64)
            if a and b:
                out.append(f"| {k}: packet / SEQPACKET, pair 64 B | {a / b:.3f} |")
        out.append("")

    out += repeatability(rows, previous)
    with open(os.path.join(outdir, "report.md"), "w") as f:
        f.write("\n".join(out) + "\n")
    return clock, kernels


def chart(rows, outdir, clock, kernels):
    kernel = "series" if "series" in kernels else kernels[-1]
    data = os.path.join(outdir, "chart.dat")
    with open(data, "w") as f:
        for tr in ("pipe", "packet", "seqpacket", "dgram"):
            f.write(f'"{tr}"\n')
            for r in rows:
                if r[0] == kernel and r[1] == clock and r[2] == tr and r[3] == "pair":
                    f.write(f"{r[4]} {r[5]}\n")
            f.write("\n\n")
    floor = next((r[5] for r in rows if r[0] == kernel and r[1] == clock
                  and r[2] == "eventfd" and r[3] == "pair"), None)
    script = f"""
set terminal png size 900,600
set output '{os.path.join(outdir, "chart.png")}'
set title 'ns per message, write+read pair, {kernel} kernel, {clock} clock'
set logscale xy
set xlabel 'message size (bytes)'
set ylabel 'ns per message'
set key left top
set grid
plot for [i=0:3] '{data}' index i using 1:2 with linespoints title columnheader(1)""" + (
        f", {floor} title 'eventfd floor' with lines dashtype 2" if floor else "")
    subprocess.run(["gnuplot"], input=script, text=True, check=True)


def main():
    outdir, specs = sys.argv[1], sys.argv[2:]
    rows, reads, clocks = load(specs)
    if not rows:
        sys.exit("bench-report: no BENCH lines in " + " ".join(specs))
    previous = load_previous(outdir)
    with open(os.path.join(outdir, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        w.writerows(rows)
    with open(os.path.join(outdir, "reads.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["kernel", "clock", "transport", "pattern", "size", "reads_per_msg"])
        for key, n in sorted(reads.items()):
            w.writerow(list(key) + [n])
    clock, kernels = report(rows, reads, clocks, outdir, previous)
    chart(rows, outdir, clock, kernels)


if __name__ == "__main__":
    main()
