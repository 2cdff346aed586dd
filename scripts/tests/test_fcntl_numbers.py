# SPDX-License-Identifier: GPL-2.0
"""check-fcntl-numbers.sh on small patches: a command defined at a number
mainline uses fails the check, a free number and mainline's own
definitions pass."""

import os
import subprocess
import tempfile
import unittest

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "check-fcntl-numbers.sh")

HUNK = """--- a/include/uapi/linux/fcntl.h
+++ b/include/uapi/linux/fcntl.h
@@ -1,1 +1,3 @@
 /* fcntl */
+#define {0}	(F_LINUX_SPECIFIC_BASE + {1})
+#define {2}	(F_LINUX_SPECIFIC_BASE + {3})
"""


def check(*defines):
    with tempfile.NamedTemporaryFile("w", suffix=".patch", delete=False) as f:
        f.write(HUNK.format(*defines))
    try:
        return subprocess.run(["bash", SCRIPT, f.name], capture_output=True, text=True)
    finally:
        os.unlink(f.name)


class FcntlNumbers(unittest.TestCase):
    def test_numbers_mainline_took_in_6_19_fail(self):
        r = check("F_SETPIPE_PKT_SZ", 15, "F_GETPIPE_PKT_SZ", 16)
        self.assertNotEqual(0, r.returncode)
        self.assertIn("F_GETDELEG", r.stdout)
        self.assertIn("F_SETDELEG", r.stdout)

    def test_next_free_numbers_pass(self):
        r = check("F_SETPIPE_PKT_SZ", 17, "F_GETPIPE_PKT_SZ", 18)
        self.assertEqual(0, r.returncode, r.stdout + r.stderr)

    def test_mainline_own_definitions_pass(self):
        r = check("F_SETPIPE_SZ", 7, "F_GETDELEG", 15)
        self.assertEqual(0, r.returncode, r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
