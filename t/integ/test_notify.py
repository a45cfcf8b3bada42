"""Service manager readiness (systemd's notify protocol, driven through a
socket the test listens on) and `porter -s reload` reporting the outcome
of a reload."""
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from harness import PORTER, PorterTest, wait_for


class Listener:
    """A unix datagram socket standing in for the service manager."""

    def __init__(self, abstract=False):
        self.dir = tempfile.mkdtemp(prefix="porter-notify.")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = "porter-test-%d-%s" % (os.getpid(),
                                          os.path.basename(self.dir))
            self.sock.bind("\0" + name)
            self.env_value = "@" + name
        else:
            self.env_value = os.path.join(self.dir, "notify")
            self.sock.bind(self.env_value)
        self.seen = []

    def env(self):
        return dict(os.environ, NOTIFY_SOCKET=self.env_value)

    def expect(self, pred, what, timeout=20.0):
        """The next message (as a dict) for which pred holds; earlier
        ones are kept in self.seen."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no %s among %r" % (what, self.seen))
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536).decode()
            except socket.timeout:
                continue
            msg = dict(l.split("=", 1) for l in data.splitlines() if l)
            self.seen.append(msg)
            if pred(msg):
                return msg

    def close(self):
        self.sock.close()
        import shutil
        shutil.rmtree(self.dir, ignore_errors=True)


def reload_cmd(conf):
    return subprocess.run([PORTER, "-s", "reload", "-c", conf],
                          capture_output=True, text=True, timeout=60)


class NotifyBase(PorterTest):
    """porter -d with NOTIFY_SOCKET naming a Listener."""
    expect_errors = r"reload failed|cannot listen"
    abstract = False

    def setUp(self):
        self.n = Listener(self.abstract)
        self.porter_env = self.n.env()
        try:
            super().setUp()
        except Exception:
            self.n.close()
            raise

    def tearDown(self):
        self.n.close()
        super().tearDown()

    def ready(self, m):
        return m.get("READY") == "1"


class NotifyTest(NotifyBase):
    def test_ready_reload_stop(self):
        m = self.n.expect(self.ready, "READY=1")
        self.assertEqual(m.get("MAINPID"), str(self.porter.proc.pid))
        self.assertRegex(m.get("STATUS", ""),
                         r"^serving, 2 workers, generation \d+$")

        # a good reload: RELOADING=1 with the time, then READY=1
        self.porter.kill(signal.SIGHUP)
        m = self.n.expect(lambda m: "RELOADING" in m, "RELOADING=1")
        self.assertEqual(m["RELOADING"], "1")
        usec = int(m["MONOTONIC_USEC"])
        # CLOCK_MONOTONIC, as Python's monotonic clock on Linux
        self.assertLess(abs(usec / 1e6 - time.monotonic()), 60)
        m = self.n.expect(self.ready, "READY=1 after the reload")
        self.assertRegex(m["STATUS"], r"^serving, \d+ workers, "
                         r"generation \d+$")

        # a broken file: the error, file:line, and READY=1 (still serving)
        with open(self.porter.conf, "a") as f:
            f.write("[route r]\npool = nosuch\n")
        self.porter.kill(signal.SIGHUP)
        self.n.expect(lambda m: "RELOADING" in m, "RELOADING=1")
        m = self.n.expect(self.ready, "READY=1 after a failed reload")
        self.assertRegex(m["STATUS"], r"^reload failed: " +
                         re.escape(self.porter.conf) +
                         r':\d+: pool "nosuch" is not defined')
        self.assertEqual(self.get("/").status, 200)

        self.porter.stop()
        m = self.n.expect(lambda m: "STOPPING" in m, "STOPPING=1")
        self.assertEqual(m["STOPPING"], "1")

    def test_reload_command_reports_failure(self):
        self.n.expect(self.ready, "READY=1")
        conf = self.porter.conf
        body = self.config_body()
        # a good configuration: 0
        r = reload_cmd(conf)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.n.expect(self.ready, "READY=1 after the reload")

        # a port in use: only the master finds out; the command waits
        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        try:
            self.porter.rewrite(body + "[listen busy]\naddress = "
                                "127.0.0.1:%d\n" % port)
            r = reload_cmd(conf)
        finally:
            busy.close()
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("cannot listen on 127.0.0.1:%d" % port, r.stderr)
        self.assertIn("reload failed", r.stderr)
        m = self.n.expect(self.ready, "READY=1 after a failed reload")
        self.assertIn("cannot listen on 127.0.0.1:%d" % port, m["STATUS"])
        self.assertEqual(self.get("/").status, 200)

        # a file with errors: refused before any signal
        self.porter.rewrite(body + "[route r]\npool = nosuch\n")
        r = reload_cmd(conf)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, re.escape(conf) +
                         r':\d+: pool "nosuch" is not defined')

        # good again: 0, and the new configuration serves
        self.porter.rewrite(body)
        r = reload_cmd(conf)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.get("/").status, 200)


class UpgradeNotifyTest(NotifyBase):
    def test_upgrade_hands_main_pid_over(self):
        """The old master's stop after an upgrade names the new master
        as the main process instead of saying STOPPING=1."""
        self.n.expect(self.ready, "READY=1")
        old = self.porter.proc.pid
        self.porter.kill(signal.SIGUSR2)

        new = self.porter.new_master(old)
        m = self.n.expect(self.ready, "READY=1 of the new master")
        self.assertEqual(m["MAINPID"], str(new))
        os.kill(old, signal.SIGQUIT)
        m = self.n.expect(lambda m: "MAINPID" in m or "STOPPING" in m,
                          "the old master's goodbye")
        self.assertEqual(m.get("MAINPID"), str(new), m)
        self.assertNotIn("STOPPING", m)
        self.assertEqual(self.porter.proc.wait(30), 0)
        # a reload of the new master still reports its outcome
        r = reload_cmd(self.porter.conf)
        self.assertEqual(r.returncode, 0, r.stderr)
        os.kill(new, signal.SIGQUIT)
        m = self.n.expect(lambda m: "STOPPING" in m, "STOPPING=1")
        wait_for(lambda: not os.path.exists(self.porter.pidfile),
                 what="the new master to stop")


class AbstractNotifyTest(NotifyTest):
    """NOTIFY_SOCKET=@name: the abstract namespace."""
    abstract = True


class ModesTest(unittest.TestCase):
    """-f stays in the foreground and logs to the configured file; the
    default mode detaches and names the master in MAINPID."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="porter-test.")
        self.n = Listener()
        self.conf = os.path.join(self.tmp, "porter.ini")
        self.pidfile = os.path.join(self.tmp, "porter.pid")
        self.errlog = os.path.join(self.tmp, "error.log")
        user = "user = root\n" if os.geteuid() == 0 else ""
        with open(self.conf, "w") as f:
            f.write("[porter]\n%sworkers = 1\nmin_spare_workers = 0\n"
                    "pid_file = %s\nerror_log = %s\n[listen a]\n"
                    "address = 127.0.0.1:0\n[pool p]\n"
                    "server = 127.0.0.1:9\n" % (user, self.pidfile,
                                                self.errlog))

    def tearDown(self):
        self.n.close()
        import shutil
        shutil.rmtree(self.tmp, ignore_errors=True)

    def pid(self):
        with open(self.pidfile) as f:
            return int(f.read())

    def quit(self, pid):
        os.kill(pid, signal.SIGQUIT)
        m = self.n.expect(lambda m: "STOPPING" in m, "STOPPING=1")
        self.assertEqual(m["STOPPING"], "1")
        wait_for(lambda: not os.path.exists(self.pidfile), what="stop")

    def test_foreground_logs_to_file(self):
        p = subprocess.Popen([PORTER, "-f", "-c", self.conf],
                             env=self.n.env(), stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            m = self.n.expect(lambda m: m.get("READY") == "1", "READY=1")
            self.assertEqual(m["MAINPID"], str(p.pid))
            self.assertEqual(self.pid(), p.pid)
            self.assertIsNone(p.poll())
            with open(self.errlog) as f:
                self.assertIn("porter started", f.read())
            self.quit(p.pid)
            self.assertEqual(p.wait(30), 0)
            self.assertEqual(p.stderr.read(), b"")
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdout.close()
            p.stderr.close()

    def test_daemon_names_its_master(self):
        r = subprocess.run([PORTER, "-c", self.conf], env=self.n.env(),
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        m = self.n.expect(lambda m: m.get("READY") == "1", "READY=1")
        pid = self.pid()
        self.assertEqual(m["MAINPID"], str(pid))
        self.quit(pid)


if __name__ == "__main__":
    unittest.main(verbosity=2)
