"""Reload (HUP), binary upgrade (USR2) and porter -s, under load."""
import os
import re
import signal
import subprocess
import time
import unittest

import harness
from harness import PORTER, PorterTest, Client, wait_for
from loadgen import Load


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def children(pid):
    """The pids whose parent is pid, but for the gate, which stays."""
    out = set()
    for p in os.listdir("/proc"):
        try:
            with open("/proc/%s/stat" % p) as f:
                stat = f.read()
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid and \
                    "(porter-gate)" not in stat:
                out.add(p)
        except (OSError, IndexError, ValueError):
            pass
    return out


class ReloadTest(PorterTest):
    origins = ("a", "b")
    workers = 2

    def config_body(self):
        return "[pool app]\nserver = %s\n" % self.o["a"].hostport

    def reloads_done(self):
        return len(re.findall(r"configuration reloaded: generation",
                              self.porter.log()))

    def reload(self, n):
        self.porter.kill(signal.SIGHUP)
        wait_for(lambda: self.reloads_done() >= n, what="reload %d" % n)

    def test_20_reloads_under_load_lose_nothing(self):
        load = Load(self.port, threads=8)
        wait_for(lambda: load.count() > 50, what="load running")
        for i in range(1, 21):
            before = load.count()
            self.reload(i)
            # the new generation serves before the next reload
            wait_for(lambda: load.count() > before + 20, what="progress")
        ok, failures = load.stop()
        self.assertEqual(failures, [])
        self.assertGreater(ok, 400)
        self.assertIn("generation 20", self.porter.log())

    def test_reload_applies_new_config(self):
        self.assertEqual(self.get("/").header("x-origin"), "a")
        self.porter.rewrite("[pool app]\nserver = %s\n" %
                            self.o["b"].hostport, workers=2)
        self.reload(1)
        # old workers may serve a last request; then only b
        wait_for(lambda: self.get("/").header("x-origin") == "b",
                 what="new pool")
        for _ in range(10):
            self.assertEqual(self.get("/").header("x-origin"), "b")

    def test_reload_changes_header_timeout(self):
        # accepted connections inherit the timeouts from the listening
        # socket: a reload must change them there too
        body = "[pool app]\nserver = %s\n" % self.o["a"].hostport

        def reload_to(n, timeout):
            old = children(self.porter.proc.pid)
            self.porter.rewrite(body, workers=2, porter_extra=(
                "client_header_timeout = %s\n" % timeout))
            self.reload(n)
            # a retiring worker may still take one connection, with the
            # old settings: wait until only the new generation accepts
            wait_for(lambda: not (old & children(self.porter.proc.pid)),
                     what="old workers gone")
            c = Client(self.port)
            c.send(b"GET / HTTP/1.1\r\nHost: t\r\n")
            return c

        c = reload_to(1, "400ms")
        t0 = time.monotonic()
        self.assertEqual(c.read_response().status, 408)
        self.assertLess(time.monotonic() - t0, 10)
        c.close()
        # no connection times out so soon any more
        c = reload_to(2, "30s")
        self.assertFalse(c.closed(1.5))
        c.send(b"\r\n")
        self.assertEqual(c.read_response().status, 200)
        c.close()

    def test_broken_config_keeps_old_one(self):
        self.porter.rewrite("[pool app]\nserver = %s\nbogus = 1\n" %
                            self.o["b"].hostport, workers=2)
        self.porter.kill(signal.SIGHUP)
        line = wait_for(lambda: re.search(r"reload failed, old "
                                          r"configuration kept: (.*)",
                                          self.porter.log()),
                        what="reload error")
        self.assertRegex(line.group(1), re.escape(self.porter.conf) +
                         r":\d+: unknown key \"bogus\"")
        for _ in range(10):
            self.assertEqual(self.get("/").header("x-origin"), "a")
        self.assertEqual(self.reloads_done(), 0)
        self.porter.expect_errors = r"reload failed"

    def test_listening_socket_survives_reload(self):
        c = Client(self.port)
        self.assertEqual(c.request(path="/").status, 200)
        self.reload(1)
        # the same port (it was port 0: a re-bind would move it)
        self.assertEqual(self.get("/").status, 200)
        r = c.request(path="/")
        self.assertEqual(r.status, 200)
        c.close()


class SignalOptionTest(PorterTest):
    def run_s(self, name):
        return subprocess.run([PORTER, "-c", self.porter.conf, "-s", name],
                              capture_output=True, text=True, timeout=30)

    def test_s_reload_reopen_quit(self):
        r = self.run_s("reload")
        self.assertEqual(r.returncode, 0, r.stderr)
        wait_for(lambda: "configuration reloaded" in self.porter.log(),
                 what="reload")
        self.assertEqual(self.run_s("reopen").returncode, 0)
        wait_for(lambda: "reopening log files" in self.porter.log(),
                 what="reopen")
        self.assertEqual(self.run_s("bogus").returncode, 1)
        self.assertEqual(self.run_s("quit").returncode, 0)
        self.assertEqual(self.porter.proc.wait(30), 0)
        r = self.run_s("reload")
        self.assertEqual(r.returncode, 1)
        self.assertIn("is porter running?", r.stderr)

    def test_stale_pid_file(self):
        with open(self.porter.pidfile + ".x", "w") as f:
            f.write("999999\n")
        self.porter.stop()
        os.rename(self.porter.pidfile + ".x", self.porter.pidfile)
        r = self.run_s("reload")
        self.assertEqual(r.returncode, 1)
        self.assertIn("stale pid file", r.stderr)


class UpgradeTest(PorterTest):
    def test_upgrade_under_load(self):
        load = Load(self.port, threads=6)
        wait_for(lambda: load.count() > 50, what="load running")
        old = self.porter.proc.pid
        self.porter.kill(signal.SIGUSR2)
        oldbin = self.porter.pidfile + ".oldbin"
        wait_for(lambda: os.path.exists(oldbin), what=".oldbin")
        new = int(wait_for(lambda: (lambda t: t if t and int(t) != old
                                    else None)(read(self.porter.pidfile)
                                               .strip()),
                           what="new master's pid file"))
        before = load.count()
        wait_for(lambda: load.count() > before + 50, what="progress")
        # the operator retires the old master
        os.kill(old, signal.SIGQUIT)
        self.assertEqual(self.porter.proc.wait(30), 0)
        self.assertFalse(os.path.exists(oldbin))
        before = load.count()
        wait_for(lambda: load.count() > before + 100, what="new serves")
        ok, failures = load.stop()
        self.assertEqual(failures, [])
        os.kill(new, signal.SIGQUIT)
        wait_for(lambda: not os.path.exists(self.porter.pidfile),
                 what="new master stopped")
        wait_for(lambda: not os.path.exists("/proc/%d" % new) or
                 "Z" in read("/proc/%d/stat" % new).split()[2],
                 what="new master exit")

    def test_failed_upgrade_restores_pid_file(self):
        # a config the new binary rejects makes it exit at once
        with open(self.porter.conf, "a") as f:
            f.write("bogus = 1\n")
        self.porter.kill(signal.SIGUSR2)
        wait_for(lambda: "upgrade failed" in self.porter.log(),
                 what="failure noticed")
        wait_for(lambda: os.path.exists(self.porter.pidfile),
                 what="pid file back")
        self.assertEqual(int(read(self.porter.pidfile)),
                         self.porter.proc.pid)
        self.assertEqual(self.get("/bytes/3").status, 200)
        self.porter.expect_errors = r"upgrade failed"


class CacheUpgradeTest(PorterTest):
    """The cache store passes to the new binary of an upgrade."""

    def config_body(self):
        return "[cache]\nsize = 8M\n\n" + super().config_body()

    def test_cache_survives_upgrade(self):
        p = "/counter?cc=max-age%3D600"
        first = self.get(p)
        self.assertEqual(self.get(p).header("cache-status"), "porter; hit")
        old = self.porter.proc.pid
        self.porter.kill(signal.SIGUSR2)
        new = int(wait_for(lambda: (lambda t: t if t and int(t) != old
                                    else None)(read(self.porter.pidfile)
                                               .strip()),
                           what="new master's pid file"))
        wait_for(lambda: "cache: kept from the previous binary (1 objects)"
                 in self.porter.log(), what="the store taken over")
        try:
            # a third binary while the first still runs: refused
            self.porter.expect_errors = r"earlier upgrade still runs"
            os.kill(new, signal.SIGUSR2)
            wait_for(lambda: "earlier upgrade still runs" in
                     self.porter.log(), what="second upgrade refused")
            os.kill(old, signal.SIGQUIT)
            self.assertEqual(self.porter.proc.wait(30), 0)
            # the new binary's workers answer from the old one's store
            for _ in range(3):
                r = self.get(p)
                self.assertEqual(r.header("cache-status"), "porter; hit")
                self.assertEqual(r.body, first.body)
            # and store new objects in it
            q = "/counter?cc=max-age%3D600&after=1"
            self.get(q)
            self.assertEqual(self.get(q).header("cache-status"),
                             "porter; hit")
        finally:
            os.kill(new, signal.SIGQUIT)
            wait_for(lambda: not os.path.exists(self.porter.pidfile),
                     what="new master stopped")


if __name__ == "__main__":
    harness.main()
