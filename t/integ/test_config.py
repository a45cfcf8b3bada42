"""porter -t and start-up with good and broken configurations."""
import os
import re
import subprocess
import tempfile
import unittest

from harness import PORTER, Porter, wait_for


# as root, workers run as root only when the configuration says so
ROOT_USER = "user = root\n" if os.geteuid() == 0 else ""


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
        self.write("[porter]\n%s[listen a]\naddress = 127.0.0.1:0\n"
                   "[pool p]\nserver = 127.0.0.1:9\n" % ROOT_USER)
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

    def test_t_checks_what_start_up_refuses(self):
        """-t fails on what start-up would refuse, with file:line, and
        start-up refuses the same."""
        base = ("[listen a]\naddress = 127.0.0.1:0\n"
                "[pool p]\nserver = 127.0.0.1:9\n")
        if os.geteuid() == 0:
            # root without a user: the workers would run as root
            self.write("[porter]\nworkers = 2\n" + base)
            r = run(["-t", "-c", self.path])
            self.assertEqual(r.returncode, 1, r.stdout)
            self.assertIn(self.path + ":1: porter runs as root but no "
                          "user is set", r.stderr)
            self.write(base)
            r = run(["-t", "-c", self.path])
            self.assertEqual(r.returncode, 1, r.stdout)
            self.assertIn(self.path + ": porter runs as root", r.stderr)
        self.write("[porter]\nworkers = 2\nuser = nosuchuser\n" + base)
        r = run(["-t", "-c", self.path])
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn(self.path + ':3: user "nosuchuser" does not exist',
                      r.stderr)
        r = run(["-d", "-c", self.path])
        self.assertEqual(r.returncode, 1)
        self.assertIn(self.path + ':3: user "nosuchuser" does not exist',
                      r.stderr)
        self.write("[porter]\n%sgroup = nosuchgroup\n" % ROOT_USER + base)
        r = run(["-t", "-c", self.path])
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertRegex(r.stderr, re.escape(self.path) +
                         r':\d: group "nosuchgroup" does not exist')
        # log files in directories that are not there
        self.write("[porter]\n%serror_log = %s/no/error.log\n"
                   "access_log = %s/no/access.log\n" % (
                       ROOT_USER, self.tmp, self.tmp) + base)
        r = run(["-t", "-c", self.path])
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertRegex(r.stderr, re.escape(self.path) +
                         r":\d: error_log .*/no/error.log: directory")
        self.assertRegex(r.stderr, re.escape(self.path) +
                         r":\d: access_log .*/no/access.log: directory")

    def test_t_tls_files(self):
        """A certificate that cannot be read fails -t at its line; a
        good one passes."""
        cert = os.path.join(self.tmp, "cert.pem")
        key = os.path.join(self.tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                        "-subj", "/CN=localhost"], check=True,
                       capture_output=True, timeout=60)
        conf = ("[porter]\n%s[listen a]\naddress = 127.0.0.1:0\n"
                "tls_certificate = %%s\ntls_key = %s\n"
                "[pool p]\nserver = 127.0.0.1:9\n" % (ROOT_USER, key))
        self.write(conf % cert)
        r = run(["-t", "-c", self.path])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.write(conf % os.path.join(self.tmp, "missing.pem"))
        r = run(["-t", "-c", self.path])
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, re.escape(self.path) +
                         r":\d: cannot load certificate .*missing.pem")
        # a directory in place of the file: no one can read it as PEM
        self.write(conf % self.tmp)
        r = run(["-t", "-c", self.path])
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot load certificate " + self.tmp, r.stderr)

    def put(self, name, text):
        path = os.path.join(self.tmp, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_include(self):
        """include = PATH or pattern: sorted, relative to the including
        file, the includer's section goes on after it, errors at the
        included file's lines."""
        self.put("conf.d/20-pool.ini", "[pool p]\nserver = 127.0.0.1:9\n")
        self.put("conf.d/10-porter.ini", "max_workers = 8\n")
        self.put("conf.d/notes.txt", "not ini\n")
        self.put("listen.ini", "address = 127.0.0.1:0\n")
        self.write("include = conf.d/none-*.ini\n"
                   "[porter]\n%sinclude = conf.d/*.ini\nworkers = 3\n"
                   "[listen a]\ninclude = %s\n" % (
                       ROOT_USER, os.path.join(self.tmp, "listen.ini")))
        r = run(["-t", "-c", self.path])
        self.assertEqual(r.returncode, 0, r.stderr)
        # errors name the included file and its line, in sorted order
        p20 = self.put("conf.d/20-pool.ini", "[pool p]\nserver = bad\n")
        p10 = self.put("conf.d/10-porter.ini", "\nworkers = many\n")
        r = run(["-t", "-c", self.path])
        self.assertEqual(r.returncode, 1)
        self.assertIn(p20 + ":2: server:", r.stderr)
        i = r.stderr.index(p10 + ":2:")
        self.assertLess(i, r.stderr.index(p20 + ":2:"), r.stderr)
        # workers set in the included file and again after the include
        self.assertIn(self.path + ":%d: duplicate key \"workers\"" %
                      (5 if ROOT_USER else 4), r.stderr)

    def test_include_errors(self):
        base = ("[porter]\n%s[listen a]\naddress = 127.0.0.1:0\n"
                "[pool p]\nserver = 127.0.0.1:9\n" % ROOT_USER)
        # a path that is not there is an error at the include line
        self.write(base + "include = nosuch.ini\n")
        r = run(["-t", "-c", self.path])
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, re.escape(self.path) + r":\d+: include: "
                         r"cannot open .*nosuch.ini: No such file")
        # a cycle: a.ini includes b.ini includes a.ini
        a = self.put("a.ini", "include = b.ini\n")
        b = self.put("b.ini", "\ninclude = a.ini\n")
        self.write(base + "include = a.ini\n")
        r = run(["-t", "-c", self.path])
        self.assertEqual(r.returncode, 1)
        self.assertIn(b + ":2: include: " + a + " is already being read",
                      r.stderr)
        # the main file itself
        self.put("a.ini", "include = porter.ini\n")
        r = run(["-t", "-c", self.path])
        self.assertEqual(r.returncode, 1)
        self.assertIn(a + ":1: include: ", r.stderr)
        self.assertIn("is already being read", r.stderr)
        # a device or a directory is no configuration file
        for what in ("/dev/zero", self.tmp):
            self.write(base + "include = %s\n" % what)
            r = run(["-t", "-c", self.path])
            self.assertEqual(r.returncode, 1)
            self.assertIn("include: %s is not a regular file" % what,
                          r.stderr)
        # no cycle but too deep
        for i in range(20):
            self.put("d%d.ini" % i, "include = d%d.ini\n" % (i + 1))
        self.put("d20.ini", "")
        self.write(base + "include = d0.ini\n")
        r = run(["-t", "-c", self.path])
        self.assertEqual(r.returncode, 1)
        self.assertIn("d15.ini:1: include: nested more than 16 deep",
                      r.stderr)

    def test_T_prints_what_t_accepts(self):
        """-T prints every key with defaults filled in, includes
        flattened and ${} expanded; porter reads it back to the same."""
        page = self.put("50x.html", "<h1>down</h1>\n")
        self.put("routes.ini", "[route api]\npath = /api/\n"
                 "host = a.example *.b.example\nheader = X-A: 1\n"
                 "strip_prefix = /api\nadd_request_header = X-B: $${x}\n"
                 "rate_limit = 10r/s burst=20\nallow = 127.0.0.1 ::1\n"
                 "pool = p\ncache = on\n"
                 "[route home]\nreturn = 302 https://$host/\n")
        self.write("[porter]\n%serror_page = 502 %s\n"
                   "access_log_format = $client $status\n"
                   "[listen a]\naddress = 127.0.0.1:0\naddress = [::1]:0\n"
                   "[pool p]\nserver = 127.0.0.1:${PORTER_T_PORT} weight=2\n"
                   "server = 127.0.0.1:10 backup\nbalance = hash\n"
                   "hash_key = header:X-User\nhealth_check = GET /h\n"
                   "[pool q]\nserver = 127.0.0.1:11\n"
                   "include = routes.ini\n"
                   "[cache]\nsize = 1M\n[admin]\naddress = 127.0.0.1:0\n"
                   % (ROOT_USER, page))
        env = dict(os.environ, PORTER_T_PORT="9")
        r = subprocess.run([PORTER, "-T", "-c", self.path],
                           capture_output=True, text=True, timeout=30,
                           env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout
        for line in ("workers = 4", "shutdown_timeout = 30s",
                     "keepalive = 32", "connect_timeout = 5s",
                     "max_header_size = 16384", "server_tokens = on",
                     "server = 127.0.0.1:9 weight=2", "balance = hash",
                     "hash_key = header:X-User", "health_check = GET /h",
                     "health_status = 200-399", "balance = round_robin",
                     "add_request_header = X-B: $${x}",
                     "return = 302 https://$host/", "size = 1048576",
                     "max_object_size = 262144", "allow = 127.0.0.0/8 ::1",
                     "hide_headers = X-Powered-By", "[route home]"):
            self.assertIn("\n" + line + "\n", out)
        self.assertNotIn("include", out)
        self.assertNotIn("PORTER_T_PORT", out)
        # what -T prints, -t accepts, and -T prints it back the same
        dumped = self.put("dumped.ini", out)
        r = run(["-t", "-c", dumped])
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run(["-T", "-c", dumped])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.split("\n", 1)[1], out.split("\n", 1)[1])

    def tearDown(self):
        import shutil
        shutil.rmtree(self.tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
