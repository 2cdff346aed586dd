# SPDX-License-Identifier: GPL-2.0
"""The flavour records in scripts/flavours/: only known keys, every value
resolves (fragments and architecture files exist, a kernel borrowed from
another flavour is one that is built), and lib.sh reads them."""

import os
import subprocess
import unittest

SCRIPTS = os.path.join(os.path.dirname(__file__), "..")
RECORDS = os.path.join(SCRIPTS, "flavours")
KEYS = {"about", "tree", "source", "kernel", "arch", "config", "cpus", "boot", "expect",
        "ccache"}


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
                self.assertIn(source, {"base", "stock", "series", "prefix", "mutant"})
                tree = recs[kernel].get("tree", "6.12")
                self.assertTrue(os.path.isfile(os.path.join(SCRIPTS, "trees", tree + ".lock")), tree)
                arch = fields.get("arch", "x86_64")
                for f in (arch + ".sh", arch + ".config"):
                    self.assertTrue(os.path.isfile(os.path.join(SCRIPTS, "arch", f)), f)
                for frag in fields.get("config", "").split():
                    self.assertTrue(os.path.isfile(os.path.join(SCRIPTS, frag)), frag)
                self.assertIn(fields.get("expect", "pass"), {"skip", "pass", "all", "any"})
                self.assertGreaterEqual(int(fields.get("cpus", "2")), 1)
                self.assertIn(fields.get("ccache", "preprocessed"), {"preprocessed", "depend"})
                if fields.get("ccache") == "depend":
                    # Depend mode finds no other config's objects: only
                    # a kernel of its own, with a config nobody shares.
                    self.assertNotIn("kernel", fields)
                    self.assertTrue(fields.get("config") or fields.get("arch"))

    def test_lib_reads_records_and_refuses_unknown_flavours(self):
        r = field("smp4", "boot")
        self.assertEqual("preempt=full", r.stdout.strip(), r.stderr)
        r = field("no-such-flavour", "boot")
        self.assertNotEqual(0, r.returncode)
        self.assertIn("unknown flavour", r.stderr)

    def test_every_tree_has_a_stock_and_a_series_flavour(self):
        recs = records()
        for lock in os.listdir(os.path.join(SCRIPTS, "trees")):
            tree = lock[:-len(".lock")]
            with self.subTest(tree=tree):
                for source in ("stock", "series", "prefix"):
                    r = subprocess.run(
                        ["bash", "-c", '. "$0/lib.sh" && tree_flavour "$1" "$2"',
                         SCRIPTS, tree, source], capture_output=True, text=True)
                    self.assertEqual(0, r.returncode, r.stderr)
                    rec = recs[r.stdout.strip()]
                    self.assertEqual(tree, rec.get("tree", "6.12"))
                    # the plain flavour: not debug, not arm64-*
                    self.assertNotIn("config", rec, r.stdout)
                    self.assertNotIn("arch", rec, r.stdout)

    def test_select_tree_points_at_the_trees_series(self):
        r = subprocess.run(
            ["bash", "-c", '. "$0/lib.sh" && echo "$SERIES_DIR $KERNEL_REPO $DEV_TREE"', SCRIPTS],
            capture_output=True, text=True, env=dict(os.environ, TREE="7.3", BUILD="/b"))
        self.assertEqual(0, r.returncode, r.stderr)
        series, repo, dev = r.stdout.split()
        self.assertTrue(series.endswith("/patches/mainline"), series)
        self.assertEqual(("/b/stock-7.3/linux", "/b/dev-7.3"), (repo, dev))
        r = subprocess.run(["bash", "-c", '. "$0/lib.sh"', SCRIPTS], capture_output=True,
                           text=True, env=dict(os.environ, TREE="4.4"))
        self.assertNotEqual(0, r.returncode)
        self.assertIn("unknown tree '4.4'", r.stderr)


if __name__ == "__main__":
    unittest.main()
