"""porter -t and start-up with good and broken configurations."""
import os
import subprocess
import tempfile
import unittest

from harness import PORTER, Porter, wait_for


def run(args):
    return subprocess.run([PORTER] + args, capture_output=True, text=True,
                          timeout=30)


class ConfigTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="porter-test.")
        self.path = os.path.join(self.tmp, "porter.ini")

    def write(self, text):
        with open(self.path, "w") as f:
            f.write(text)

    def test_valid(self):
        self.write("[listen a]\naddress = 127.0.0.1:0\n"
                   "[pool p]\nserver = 127.0.0.1:9\n")
        r = run(["-t", "-c", self.path])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("valid", r.stdout)

    def test_errors_have_file_and_line(self):
        self.write("[porter]\nworkers = many\n"
                   "[listen a]\naddress = 127.0.0.1:0\n"
                   "[pool p]\nserver = 127.0.0.1:9\nspeed = fast\n"
                   "[route r]\npool = q\n")
        r = run(["-t", "-c", self.path])
        self.assertEqual(r.returncode, 1)
        self.assertIn(self.path + ":2: workers: invalid number", r.stderr)
        self.assertIn(self.path + ":7: unknown key \"speed\" in [pool p]",
                      r.stderr)
        self.assertIn(self.path + ":9: pool \"q\" is not defined", r.stderr)

    def test_broken_config_does_not_start(self):
        self.write("[listen a]\naddress = 127.0.0.1:0\n")
        r = run(["-d", "-c", self.path])
        self.assertEqual(r.returncode, 1)
        self.assertIn(self.path + ":", r.stderr)
        self.assertIn("no [pool NAME] section", r.stderr)

    def test_missing_file(self):
        r = run(["-t", "-c", os.path.join(self.tmp, "nope.ini")])
        self.assertEqual(r.returncode, 1)
        self.assertIn("nope.ini: cannot open", r.stderr)

    def test_usage_and_version(self):
        r = run(["-v"])
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^porter \d+\.\d+")
        r = run(["-x"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("usage:", r.stderr)

    def test_bind_failure_is_reported(self):
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        self.write("[porter]\npid_file = %s/p.pid\nuser = root\n[listen a]\n"
                   "address = 127.0.0.1:%d\n[pool p]\n"
                   "server = 127.0.0.1:9\n" % (self.tmp, port))
        r = run(["-d", "-c", self.path])
        s.close()
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot listen on 127.0.0.1:%d" % port, r.stderr)

    def tearDown(self):
        import shutil
        shutil.rmtree(self.tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
