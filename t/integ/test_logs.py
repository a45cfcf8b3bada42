"""Access log formats and log reopening with workers that dropped
privileges."""
import json
import os
import signal
import unittest

import harness
from harness import PorterTest, wait_for


def lines_with(porter, text):
    return [l for l in porter.access() if text in l]


class JsonLogTest(PorterTest):
    porter_extra = "access_log_format = json\n"

    def test_json_lines(self):
        self.get("/bytes/42", headers={"User-Agent": 'a "quoted" agent',
                                       "Host": "json.test"})
        line = wait_for(lambda: lines_with(self.porter, "/bytes/42"),
                        what="log line")[0]
        obj = json.loads(line)
        self.assertEqual(obj["status"], 200)
        self.assertEqual(obj["bytes"], 42)
        self.assertEqual(obj["method"], "GET")
        self.assertEqual(obj["uri"], "/bytes/42")
        self.assertEqual(obj["host"], "json.test")
        self.assertEqual(obj["user_agent"], 'a "quoted" agent')
        self.assertEqual(obj["upstream"], self.o["o1"].hostport)
        self.assertIsInstance(obj["request_time"], float)
        self.assertEqual(obj["cache"], "-")


class CustomLogTest(PorterTest):
    porter_extra = ("access_log_format = $status $method $uri $host "
                    "up=$upstream t=$request_time\n")

    def test_custom_line(self):
        self.get("/bytes/7", headers={"Host": "c.test"})
        line = wait_for(lambda: lines_with(self.porter, "/bytes/7"),
                        what="log line")[0]
        self.assertRegex(line, r"^200 GET /bytes/7 c\.test up=%s "
                         r"t=\d+\.\d{3}$" % self.o["o1"].hostport)

    def test_bad_format_rejected(self):
        import subprocess
        bad = os.path.join(self.tmp, "bad.ini")
        with open(bad, "w") as f:
            f.write(self.porter.config_text(
                "[pool app]\nserver = 127.0.0.1:9\n",
                porter_extra="access_log_format = $status $nope\n"))
        r = subprocess.run([harness.PORTER, "-t", "-c", bad],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"bad\.ini:\d+: access_log_format: "
                         r"unknown variable \"\$nope\"")


@unittest.skipUnless(os.geteuid() == 0, "needs root")
class ReopenAsNobodyTest(PorterTest):
    porter_extra = "user = nobody\n"

    def setUp(self):
        super().setUp()
        # workers (nobody) must reach the log directory to reopen
        os.chmod(self.tmp, 0o755)

    def test_usr1_after_rename(self):
        self.get("/bytes/1")
        wait_for(lambda: self.porter.access(), what="first line")
        os.rename(self.porter.accesslog, self.porter.accesslog + ".1")
        self.porter.kill(signal.SIGUSR1)

        def fresh():
            self.get("/bytes/2")
            return lines_with(self.porter, "/bytes/2")
        wait_for(fresh, what="line in the new file")
        st = os.stat(self.porter.accesslog)
        import pwd
        self.assertEqual(st.st_uid, pwd.getpwnam("nobody").pw_uid)
        self.assertNotIn("reopen", "\n".join(
            l for l in self.porter.log().splitlines() if "[warn]" in l))


@unittest.skipUnless(os.geteuid() == 0, "needs root")
class LogOwnershipTest(unittest.TestCase):
    """The master (root) gives the workers' user only log files it
    created itself: never one that was there, nor what standard output
    points at, nor anything through a symbolic link."""

    def setUp(self):
        import pwd
        import tempfile
        self.tmp = tempfile.mkdtemp(prefix="porter-test.")
        os.chmod(self.tmp, 0o755)
        self.o = harness.Origin("o")
        self.nobody = pwd.getpwnam("nobody").pw_uid
        self.procs = []

    def tearDown(self):
        import shutil
        for p, out in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGQUIT)
                p.wait(30)
            out.close()
        self.o.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, access_log, stdout_path=None, expect_exit=False):
        import re
        import subprocess
        conf = os.path.join(self.tmp, "p.ini")
        with open(conf, "w") as f:
            f.write("[porter]\nworkers = 1\nmin_spare_workers = 0\n"
                    "user = nobody\npid_file = %s/p.pid\n"
                    "access_log = %s\n[listen a]\n"
                    "address = 127.0.0.1:0\n[pool p]\nserver = %s\n" %
                    (self.tmp, access_log, self.o.hostport))
        err = os.path.join(self.tmp, "stderr")
        out = open(stdout_path or os.devnull, "ab")
        errf = open(err, "ab")
        p = subprocess.Popen([harness.PORTER, "-d", "-c", conf],
                             stdin=subprocess.DEVNULL, stdout=out,
                             stderr=errf)
        errf.close()
        self.procs.append((p, out))
        if expect_exit:
            p.wait(30)
            with open(err) as f:
                return p.returncode, f.read()

        def port():
            if p.poll() is not None:
                raise AssertionError("porter exited")
            with open(err) as f:
                m = re.search(r"listening on [0-9.]+:(\d+)", f.read())
            return int(m.group(1)) if m else None
        self.port = wait_for(port, what="porter to listen")
        wait_for(lambda: os.path.exists(os.path.join(self.tmp, "p.pid")),
                 what="pid file")
        return p

    def served(self, path, logfile):
        """A request, and its line in logfile."""
        def line():
            harness.get(self.port, path)
            with open(logfile, errors="replace") as f:
                return path in f.read()
        wait_for(line, what="access log line")

    def test_existing_log_stays_root_owned(self):
        log = os.path.join(self.tmp, "access.log")
        with open(log, "w"):
            pass
        os.chmod(log, 0o644)
        self.start(log)
        self.served("/bytes/3", log)
        self.assertEqual(os.stat(log).st_uid, 0)

    def test_stdout_is_not_chowned(self):
        out = os.path.join(self.tmp, "stdout")
        with open(out, "w"):
            pass
        self.start("/dev/stdout", stdout_path=out)
        self.served("/bytes/4", out)
        self.assertEqual(os.stat(out).st_uid, 0)

    def test_created_log_is_0640_and_the_workers(self):
        import stat
        log = os.path.join(self.tmp, "new.log")
        self.start(log)
        self.served("/bytes/5", log)
        st = os.stat(log)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o640)
        self.assertEqual(st.st_uid, self.nobody)

    def test_symlinked_log_refused(self):
        real = os.path.join(self.tmp, "real.log")
        with open(real, "w"):
            pass
        link = os.path.join(self.tmp, "link.log")
        os.symlink(real, link)
        rc, err = self.start(link, expect_exit=True)
        self.assertNotEqual(rc, 0)
        self.assertIn("link.log: a symbolic link", err)
        self.assertEqual(os.stat(real).st_uid, 0)


if __name__ == "__main__":
    harness.main()
