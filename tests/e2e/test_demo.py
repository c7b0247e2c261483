"""The partner scenario (`make demo`, tests/e2e/partner_demo.py) runs to the end with every step
holding, so the demo cannot rot."""

import io
import contextlib
import unittest

import partner_demo


class DemoTest(unittest.TestCase):
    def test_scenario_holds(self):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = partner_demo.main([])
        self.assertEqual(rc, 0, "demo failed:\n%s\n%s" % (out.getvalue(), err.getvalue()))
        text = out.getvalue()
        self.assertIn("demo OK", text)
        for line in ("has the report", "delivery receipts", "suspects detained",
                     "has received nothing"):
            self.assertIn(line, text)


if __name__ == "__main__":
    unittest.main()
