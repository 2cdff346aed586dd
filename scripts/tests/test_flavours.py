# SPDX-License-Identifier: GPL-2.0
"""The flavour records in scripts/flavours/: only known keys, every value
resolves (fragments and architecture files exist, a kernel borrowed from
another flavour is one that is built), and lib.sh reads them."""

import os
import subprocess
import unittest

SCRIPTS = os.path.join(os.path.dirname(__file__), "..")
RECORDS = os.path.join(SCRIPTS, "flavours")
KEYS = {"about", "source", "kernel", "arch", "config", "cpus", "boot", "expect"}


def records():
    out = {}
    for name in sorted(os.listdir(RECORDS)):
        fields = {}
        with open(os.path.join(RECORDS, name)) as f:
            for line in f:
                line = line.rstrip("\n")
                if not line or line.startswith("#"):
                    continue
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        out[name] = fields
    return out


def field(flavour, key):
    return subprocess.run(
        ["bash", "-c", '. "$0/lib.sh" && flavour_field "$1" "$2"', SCRIPTS, flavour, key],
        capture_output=True, text=True)


class Flavours(unittest.TestCase):
    def test_records_use_known_keys_and_values(self):
        recs = records()
        self.assertIn("series", recs)
        for name, fields in recs.items():
            with self.subTest(flavour=name):
                self.assertLessEqual(set(fields), KEYS)
                self.assertTrue(fields.get("about"))
                kernel = fields.get("kernel", name)
                self.assertIn(kernel, recs)
                source = recs[kernel].get("source")
                self.assertIn(source, {"base", "stock", "series", "managed"})
                arch = fields.get("arch", "x86_64")
                for f in (arch + ".sh", arch + ".config"):
                    self.assertTrue(os.path.isfile(os.path.join(SCRIPTS, "arch", f)), f)
                for frag in fields.get("config", "").split():
                    self.assertTrue(os.path.isfile(os.path.join(SCRIPTS, frag)), frag)
                self.assertIn(fields.get("expect", "pass"), {"skip", "pass", "all", "any"})
                self.assertGreaterEqual(int(fields.get("cpus", "2")), 1)

    def test_lib_reads_records_and_refuses_unknown_flavours(self):
        r = field("smp4", "boot")
        self.assertEqual("preempt=full", r.stdout.strip(), r.stderr)
        r = field("no-such-flavour", "boot")
        self.assertNotEqual(0, r.returncode)
        self.assertIn("unknown flavour", r.stderr)


if __name__ == "__main__":
    unittest.main()
