"""The operator files in etc/: the init script (etc/init.d/porter) run for
real against the built porter, the systemd unit (systemd-analyze verify,
when present) and the logrotate file (logrotate, when present).

The init script reads PORTER_BIN, PORTER_CONF and PORTER_PID (and the
timeouts) from the environment, so it runs from the source tree against a
temporary configuration; PORTER_DEFAULTS points away from a real
/etc/default/porter.  Every wait is a bounded poll; the script's own waits
are bounded by the PORTER_*_TIMEOUT values given here.
"""
import grp
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
import unittest

import harness
from harness import PORTER, BAD_LOG, pattern, wait_for

# made from their .in files with configure's paths, in the build directory
BUILD = os.path.dirname(os.path.abspath(PORTER))
INIT = os.path.join(BUILD, "etc", "init.d", "porter")
UNIT = os.path.join(BUILD, "etc", "porter.service")
LOGROTATE = os.path.join(BUILD, "etc", "logrotate.d", "porter")
# INIT_SHELL=bash (or busybox sh, ...) runs the script with another shell
SH = os.environ.get("INIT_SHELL") or shutil.which("sh") or "/bin/sh"


def read(path):
    try:
        with open(path, "r", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def alive(pid):
    """The process exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return st.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def refused(port):
    try:
        socket.create_connection(("127.0.0.1", port), 2).close()
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    return False


class InitTest(unittest.TestCase):
    """A temp dir with a configuration for porter and two origins; the
    script controls porter, the test checks what it did."""

    expect_errors = None

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="porter-test.")
        self.conf = os.path.join(self.tmp, "porter.ini")
        self.pidfile = os.path.join(self.tmp, "porter.pid")
        self.errlog = os.path.join(self.tmp, "error.log")
        self.accesslog = os.path.join(self.tmp, "access.log")
        self.extra_pids = []
        self.o = {}
        for name in ("o1", "o2"):
            self.o[name] = harness.Origin(name)
        self.write_config("o1")
        self.env = dict(os.environ)
        self.env.update({
            "PORTER_BIN": PORTER,
            "PORTER_CONF": self.conf,
            "PORTER_PID": self.pidfile,
            "PORTER_DEFAULTS": os.path.join(self.tmp, "no-defaults"),
            "PORTER_START_TIMEOUT": "20",
            "PORTER_STOP_TIMEOUT": "20",
            "PORTER_UPGRADE_TIMEOUT": "20",
            # Debian's init-functions hands actions to systemctl, but only
            # for scripts in /etc/init.d: never here.  Be sure anyway.
            "SYSTEMCTL_SKIP_REDIRECT": "1",
        })

    def write_config(self, origin, extra="", broken=False):
        user = "user = root\n" if os.geteuid() == 0 else ""
        text = ("[porter]\nworkers = 2\nmin_spare_workers = 0\n"
                "pid_file = %s\nerror_log = %s\naccess_log = %s\n"
                "log_level = info\n%s%s\n"
                "[listen main]\naddress = 127.0.0.1:0\n\n"
                "[pool app]\nserver = %s\n" %
                (self.pidfile, self.errlog, self.accesslog, user, extra,
                 self.o[origin].hostport))
        if broken:
            text += "no_such_key = 1\n"
        with open(self.conf, "w") as f:
            f.write(text)

    def init(self, action, timeout=120, **env):
        e = dict(self.env)
        e.update(env)
        r = subprocess.run(SH.split() + [INIT, action], env=e,
                           timeout=timeout,
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, errors="replace")
        r.out = r.stdout + r.stderr
        return r

    def ok(self, action, **env):
        r = self.init(action, **env)
        self.assertEqual(r.returncode, 0, "%s: %s" % (action, r.out))
        return r

    def pid(self, path=None):
        text = read(path or self.pidfile).strip()
        return int(text) if text else None

    def port(self):
        """The address porter bound last (listen uses port 0)."""
        ports = re.findall(r"listening on 127\.0\.0\.1:(\d+)",
                           read(self.errlog))
        self.assertTrue(ports, "no listening line in the error log")
        return int(ports[-1])

    def serves(self, origin="o1"):
        r = harness.get(self.port(), "/bytes/7")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, pattern(7))
        self.assertEqual(r.header("x-origin"), origin)

    def start(self):
        r = self.ok("start")
        pid = self.pid()
        self.assertIsNotNone(pid, r.out)
        self.assertTrue(alive(pid))
        self.serves()
        return pid

    def failed(self):
        outcome = getattr(self, "_outcome", None)
        if outcome is None:
            return False
        if not getattr(outcome, "success", True):
            return True
        # Python 3.11 puts failures straight into the result
        result = getattr(outcome, "result", None)
        return any(t is self for t, _ in getattr(result, "failures", []) +
                   getattr(result, "errors", []))

    def tearDown(self):
        failed = self.failed()
        # whatever a failed test left running
        for pid in self.extra_pids:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        for f in (self.pidfile, self.pidfile + ".oldbin"):
            pid = self.pid(f)
            if pid and alive(pid):
                os.kill(pid, signal.SIGTERM)
                try:
                    wait_for(lambda: not alive(pid), 20, "porter to stop")
                except AssertionError:
                    os.kill(pid, signal.SIGKILL)
        for o in self.o.values():
            o.stop()
        bad = [l for l in read(self.errlog).splitlines()
               if BAD_LOG.search(l) and not (
                   self.expect_errors and re.search(self.expect_errors, l))]
        if failed:
            print("--- porter log (%s) ---\n%s--- end ---" %
                  (self.tmp, read(self.errlog)[-6000:]))
        if bad or failed or os.environ.get("PORTER_KEEP_TMP"):
            print("porter test files kept in", self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        self.assertEqual(bad, [], "error lines in porter's log")


class ScriptTest(InitTest):
    def test_syntax(self):
        r = subprocess.run(SH.split() + ["-n", INIT], capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(INIT) as f:
            head = f.read(4096)
        self.assertTrue(head.startswith("#!/bin/sh\n"))
        self.assertIn("### BEGIN INIT INFO", head)
        self.assertIn("### END INIT INFO", head)
        self.assertTrue(os.stat(INIT).st_mode & stat.S_IXUSR,
                        "etc/init.d/porter is not executable")

    def test_usage(self):
        self.assertEqual(self.init("").returncode, 2)
        r = self.init("frobnicate")
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage:", r.out)

    def test_start_status_stop(self):
        r = self.init("status")
        self.assertEqual(r.returncode, 3, r.out)
        self.ok("stop")                 # not running: fine
        pid = self.start()
        r = self.ok("status")
        self.assertIn("running (pid %d)" % pid, r.out)
        r = self.ok("start")            # running already: fine, no change
        self.assertIn("already running", r.out)
        self.assertEqual(self.pid(), pid)
        port = self.port()
        r = self.ok("stop")
        self.assertFalse(alive(pid), "stop returned before porter exited")
        self.assertFalse(os.path.exists(self.pidfile))
        self.assertTrue(refused(port))
        r = self.init("status")
        self.assertEqual(r.returncode, 3, r.out)
        self.assertIn("graceful stop", read(self.errlog))

    def test_status_stale_pid_file(self):
        # a pid nobody has any more, then one that is not porter
        p = subprocess.Popen(["true"])
        p.wait()
        for pid in (p.pid, os.getpid()):
            with open(self.pidfile, "w") as f:
                f.write("%d\n" % pid)
            r = self.init("status")
            self.assertEqual(r.returncode, 1, r.out)
            self.assertEqual(self.init("reload").returncode, 7)
        # start replaces the stale pid file
        pid = self.start()
        self.assertNotEqual(pid, os.getpid())
        self.ok("stop")

    def test_configtest(self):
        r = self.ok("configtest")
        self.assertIn("valid", r.out)
        self.write_config("o1", broken=True)
        r = self.init("configtest")
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.out, re.escape(self.conf) + r":\d+: ")

    def test_reload(self):
        pid = self.start()
        # a broken configuration: refused with its errors, nothing sent
        self.write_config("o2", broken=True)
        r = self.init("reload")
        self.assertEqual(r.returncode, 1, r.out)
        self.assertRegex(r.out, re.escape(self.conf) + r":\d+: .*no_such_key")
        self.assertNotIn("reloading", read(self.errlog))
        self.assertEqual(self.pid(), pid)
        self.serves("o1")
        # a good one: reloaded, the new pool serves
        self.write_config("o2")
        self.ok("reload")
        wait_for(lambda: "configuration reloaded" in read(self.errlog),
                 what="reload done")

        def from_o2():
            return harness.get(self.port(), "/bytes/7").header(
                "x-origin") == "o2"
        wait_for(from_o2, what="the new pool to serve")
        self.assertEqual(self.pid(), pid)
        self.serves("o2")
        # force-reload is reload
        self.write_config("o1")
        self.ok("force-reload")
        wait_for(lambda: read(self.errlog).count("configuration reloaded")
                 == 2, what="second reload")
        self.ok("stop")
        # not running: 7
        self.assertEqual(self.init("reload").returncode, 7)

    def test_restart(self):
        pid = self.start()
        self.write_config("o1", broken=True)
        r = self.init("restart")
        self.assertEqual(r.returncode, 1, r.out)
        self.assertIn("no_such_key", r.out)
        self.assertEqual(self.pid(), pid)
        self.assertTrue(alive(pid))
        self.serves("o1")
        self.write_config("o2")
        self.ok("restart")
        new = self.pid()
        self.assertNotEqual(new, pid)
        self.assertFalse(alive(pid))
        self.serves("o2")
        self.ok("try-restart")
        self.assertNotEqual(self.pid(), new)
        self.ok("stop")
        r = self.ok("try-restart")      # not running: stays so
        self.assertFalse(os.path.exists(self.pidfile))

    def test_upgrade(self):
        self.assertEqual(self.init("upgrade").returncode, 7)
        old = self.start()
        port = self.port()
        # a configuration the new binary would refuse: not even tried
        self.write_config("o1", broken=True)
        r = self.init("upgrade")
        self.assertEqual(r.returncode, 1, r.out)
        self.assertNotIn("upgrade: starting", read(self.errlog))
        self.assertEqual(self.pid(), old)
        self.write_config("o1")
        r = self.ok("upgrade")
        new = self.pid()
        self.assertNotEqual(new, old)
        self.assertTrue(alive(new))
        self.assertFalse(alive(old), "the old master still runs")
        self.assertFalse(os.path.exists(self.pidfile + ".oldbin"))
        self.assertIn("upgraded", r.out)
        # the same sockets, handed over
        self.assertEqual(self.port(), port)
        self.serves("o1")
        r = self.ok("status")
        self.assertIn("pid %d" % new, r.out)
        self.ok("stop")
        self.assertFalse(alive(new))
        self.assertFalse(os.path.exists(self.pidfile))

    def fake_binary(self, body):
        """Start porter from a copy in the temp dir, then put a script
        there: an upgrade starts it, while porter -t still works."""
        sbin = os.path.join(self.tmp, "sbin")
        os.mkdir(sbin)
        copy = os.path.join(sbin, "porter")
        shutil.copy2(PORTER, copy)
        self.env["PORTER_BIN"] = copy
        old = self.start()
        with open(copy + ".new", "w") as f:
            f.write("#!/bin/sh\ncase \"$1\" in -t) exec %s \"$@\" ;; "
                    "esac\n%s\n" % (PORTER, body))
        os.chmod(copy + ".new", 0o755)
        os.rename(copy + ".new", copy)
        return old

    def test_upgrade_new_binary_exits(self):
        old = self.fake_binary("exit 1")
        r = self.init("upgrade", PORTER_UPGRADE_TIMEOUT="10")
        self.assertEqual(r.returncode, 1, r.out)
        self.assertIn("goes on serving", r.out)
        # the old master took its pid file back and serves on
        wait_for(lambda: self.pid() == old, what="pid file back")
        self.assertFalse(os.path.exists(self.pidfile + ".oldbin"))
        self.assertTrue(alive(old))
        self.serves()
        self.ok("status")
        self.ok("stop")
        self.assertFalse(alive(old))
        self.expect_errors = r"upgrade failed|exited \(status"

    def test_upgrade_new_binary_hangs(self):
        hang = os.path.join(self.tmp, "hang.pid")
        old = self.fake_binary("echo $$ > %s\nexec sleep 60" % hang)
        t0 = time.monotonic()
        r = self.init("upgrade", PORTER_UPGRADE_TIMEOUT="2")
        self.assertLess(time.monotonic() - t0, 30)
        self.assertEqual(r.returncode, 1, r.out)
        self.assertIn("did not come up", r.out)
        hung = int(wait_for(lambda: read(hang).strip(), what="hang pid"))
        self.extra_pids.append(hung)
        # the old master serves on; status finds it in the .oldbin file
        self.assertTrue(alive(old))
        self.serves()
        r = self.ok("status")
        self.assertIn(str(old), r.out)
        # the operator ends the new binary: the old master takes over again
        os.kill(hung, signal.SIGKILL)
        wait_for(lambda: self.pid() == old, what="pid file back")
        self.ok("stop")
        self.assertFalse(alive(old))
        self.expect_errors = r"upgrade failed|exited \(status"

    def test_stop_timeout_sends_term(self):
        # a request the origin never answers keeps a worker busy; the
        # script gives up waiting after 1 s and sends TERM.  (porter ends
        # a graceful stop itself after shutdown_timeout.)
        self.write_config("o1", extra="shutdown_timeout = 4s\n")
        pid = self.start()
        c = harness.Client(self.port())
        try:
            c.send(b"GET /hang HTTP/1.1\r\nHost: t\r\n\r\n")
            self.o["o1"].wait_requests(1)
            t0 = time.monotonic()
            r = self.ok("stop", PORTER_STOP_TIMEOUT="1")
            self.assertLess(time.monotonic() - t0, 18)
            self.assertIn("sending TERM", r.out)
            self.assertFalse(alive(pid))
            self.assertFalse(os.path.exists(self.pidfile))
        finally:
            c.close()
        # porter may log the worker it had to kill
        self.expect_errors = r"killing|killed by signal"

    def test_pid_file_from_config(self):
        # PORTER_PID unset: the script reads pid_file from porter.ini
        self.env.pop("PORTER_PID")
        pid = self.start()
        r = self.ok("status")
        self.assertIn("pid %d" % pid, r.out)
        self.ok("stop")
        self.assertFalse(alive(pid))
        self.assertEqual(self.init("status").returncode, 3)

    def test_defaults_file(self):
        # /etc/default/porter sets what the environment does not give
        defaults = os.path.join(self.tmp, "defaults")
        with open(defaults, "w") as f:
            f.write("PORTER_CONF=%s\nPORTER_PID=/nonexistent/p.pid\n" %
                    self.conf)
        self.env.pop("PORTER_CONF")
        self.env["PORTER_DEFAULTS"] = defaults
        pid = self.start()      # PORTER_PID from the environment wins
        self.ok("stop")
        self.assertFalse(alive(pid))

    def test_without_lsb_functions(self):
        env = {"PORTER_LSB_FUNCTIONS": os.path.join(self.tmp, "none")}
        self.assertEqual(self.init("status", **env).returncode, 3)
        r = self.ok("start", **env)
        self.assertRegex(r.out, r"porter started \(pid \d+\)\n")
        pid = self.pid()
        self.serves()
        r = self.ok("status", **env)
        self.assertEqual(r.stdout, "porter is running (pid %d)\n" % pid)
        self.write_config("o1", broken=True)
        r = self.init("reload", **env)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not reloading", r.stderr)
        self.write_config("o1")
        r = self.ok("stop", **env)
        self.assertEqual(r.stdout, "porter stopped\n")

    def test_not_installed(self):
        env = {"PORTER_BIN": os.path.join(self.tmp, "nonexistent")}
        self.assertEqual(self.init("start", **env).returncode, 5)
        self.assertEqual(self.init("configtest", **env).returncode, 5)
        self.assertEqual(self.init("stop", **env).returncode, 0)
        self.assertEqual(self.init("status", **env).returncode, 3)
        env = {"PORTER_CONF": os.path.join(self.tmp, "nonexistent.ini")}
        self.assertEqual(self.init("start", **env).returncode, 6)


@unittest.skipUnless(shutil.which("logrotate"), "logrotate not installed")
class LogrotateTest(InitTest):
    def rotate(self):
        """etc/logrotate.d/porter with the temp dir's paths, forced."""
        with open(LOGROTATE) as f:
            text = f.read()
        logs = re.search(r"^(/\S*/log/porter/)\*\.log \{", text, re.M)
        self.assertTrue(logs, text)
        pid = re.search(r"cat (/\S*/porter\.pid) ", text)
        self.assertTrue(pid, text)
        text = text.replace(logs.group(1), self.tmp + "/")
        text = text.replace(pid.group(1), self.pidfile)
        # new files for the user the test's porter runs as
        me = pwd.getpwuid(os.geteuid()).pw_name
        gr = grp.getgrgid(os.getegid()).gr_name
        self.assertIn("create 0640 porter adm", text)
        text = text.replace("create 0640 porter adm",
                            "create 0640 %s %s" % (me, gr))
        conf = os.path.join(self.tmp, "logrotate.conf")
        with open(conf, "w") as f:
            f.write(text)
        return subprocess.run(
            ["logrotate", "-f", "-s", os.path.join(self.tmp, "state"), conf],
            capture_output=True, text=True, timeout=60)

    def test_rotate_reopens(self):
        self.start()
        port = self.port()      # before the log with the line is rotated
        self.serves()
        wait_for(lambda: read(self.accesslog), what="access log line")
        r = self.rotate()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.exists(self.errlog + ".1"))
        self.assertTrue(os.path.exists(self.accesslog + ".1"))
        # porter got USR1 (it says so in the old file, then reopens) and
        # writes to the new files
        wait_for(lambda: "reopening log files" in read(self.errlog + ".1"),
                 what="reopen")

        def fresh_line():
            harness.get(port, "/bytes/2")
            return "/bytes/2" in read(self.accesslog)
        wait_for(fresh_line, what="a line in the new access log")
        self.ok("stop")

    def test_not_running_is_quiet(self):
        with open(self.errlog, "w") as f:
            f.write("old line\n")
        r = self.rotate()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        self.assertTrue(os.path.exists(self.errlog + ".1"))


@unittest.skipUnless(shutil.which("systemd-analyze"),
                     "systemd-analyze not installed")
class UnitTest(unittest.TestCase):
    def test_verify(self):
        with open(UNIT) as f:
            text = f.read()
        for line in ("Type=notify", "NotifyAccess=main", "ExecStartPre=",
                     "porter -d -c ", "ExecReload=", "porter -s reload",
                     "KillSignal=SIGQUIT", "Restart=on-failure",
                     "LimitNOFILE=", "After=network-online.target"):
            self.assertIn(line, text)
        # verify wants the binaries to exist: use the built one
        tmp = tempfile.mkdtemp(prefix="porter-test.")
        try:
            unit = os.path.join(tmp, "porter.service")
            with open(unit, "w") as f:
                sbin = re.search(r"^ExecStart=(/\S*/porter) ", text, re.M)
                self.assertTrue(sbin, text)
                f.write(text.replace(sbin.group(1), PORTER))
            cmd = ["systemd-analyze", "verify", "--man=no", unit]
            r = subprocess.run(cmd, capture_output=True, text=True,
                               timeout=60)
            if "--man" in r.stderr:     # older systemd: no such option
                cmd.remove("--man=no")
                r = subprocess.run(cmd, capture_output=True, text=True,
                                   timeout=60)
            if r.returncode != 0 and re.search(
                    r"[Ff]ailed to (initialize|connect|create)", r.stderr):
                self.skipTest("systemd-analyze verify cannot run here: " +
                              r.stderr.strip()[:200])
            # verify exits 0 on a bad value or an unknown key: read what it
            # says.  An older systemd (< 245) does not know some hardening
            # keys and ignores them; the man pages need not be installed.
            newer = r"(ProtectClock|ProtectKernelLogs|ProtectHostname)"
            problems = [l for l in r.stderr.splitlines()
                        if "porter" in l and not re.search(
                            r"[Uu]nknown (key|lvalue)[^A-Za-z]*" + newer +
                            r"|'man |man:", l)]
            self.assertEqual(problems, [], r.stderr)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    harness.main()
