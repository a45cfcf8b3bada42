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

    @harness.serial
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


class ReloadOutOfSlotsTest(PorterTest):
    """Reloads faster than busy workers drain use up the worker slots
    (2 * max_workers + 16): the reload that could start no workers is
    refused and says why, and the old generation serves on."""
    workers = 2
    porter_extra = "max_workers = 2\nshutdown_timeout = 8s\n"
    expect_errors = r"reload failed"

    def reloads_done(self):
        return len(re.findall(r"configuration reloaded: generation",
                              self.porter.log()))

    def test_reloads_faster_than_draining(self):
        hanging = []
        refused = False
        for n in range(1, 15):
            # every worker of the current generation busy
            for _ in range(2):
                c = Client(self.port)
                c.send(b"GET /hang HTTP/1.1\r\nHost: t\r\n\r\n")
                hanging.append(c)
            self.o["o1"].wait_requests(len(hanging))
            self.porter.kill(signal.SIGHUP)
            wait_for(lambda: self.reloads_done() >= n or
                     "reload failed" in self.porter.log(),
                     what="reload %d" % n)
            if "reload failed" in self.porter.log():
                refused = True
                break
        self.assertTrue(refused, "every reload went through")
        self.assertRegex(self.porter.log(), r"reload failed, old "
                         r"configuration kept: no free worker slot: \d+ "
                         r"workers of \d+ generations still draining")
        self.assertNotIn(", 0 workers", self.porter.log())
        # the clients leave (or shutdown_timeout ends the old workers):
        # the slots come free, and then it reloads
        for c in hanging:
            c.close()

        def reloaded():
            if self.reloads_done() >= n:
                return True
            self.porter.kill(signal.SIGHUP)
            return False
        wait_for(reloaded, 30, what="a reload once slots are free")
        wait_for(lambda: self.get("/bytes/7").status == 200, what="serves")


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
    @harness.serial
    def test_upgrade_under_load(self):
        load = Load(self.port, threads=6)
        wait_for(lambda: load.count() > 50, what="load running")
        old = self.porter.proc.pid
        self.porter.kill(signal.SIGUSR2)
        oldbin = self.porter.pidfile + ".oldbin"
        wait_for(lambda: os.path.exists(oldbin), what=".oldbin")
        new = self.porter.new_master(old)
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

    def test_reopened_logs_stay_close_on_exec(self):
        """After USR1 then USR2 the new binary and its workers hold the
        access log once each (their own), not the old master's too."""
        self.get("/bytes/1")
        wait_for(lambda: self.porter.access(), what="access log")
        os.rename(self.porter.accesslog, self.porter.accesslog + ".1")
        self.porter.kill(signal.SIGUSR1)
        wait_for(lambda: os.path.exists(self.porter.accesslog),
                 what="reopened access log")
        old = self.porter.proc.pid
        self.porter.kill(signal.SIGUSR2)
        new = self.porter.new_master(old)
        try:
            procs = [new] + [int(p) for p in children(new)]
            self.assertGreater(len(procs), 1)
            for pid in procs:
                fds = "/proc/%d/fd" % pid
                held = []
                for fd in os.listdir(fds):
                    try:
                        held.append(os.readlink(os.path.join(fds, fd)))
                    except OSError:
                        pass
                logs = [h for h in held if h.startswith(
                    self.porter.accesslog)]
                self.assertLessEqual(len(logs), 1, (pid, logs))
        finally:
            self.porter.kill(signal.SIGQUIT)
            self.porter.proc.wait(30)
            os.kill(new, signal.SIGQUIT)
            wait_for(lambda: not os.path.exists(self.porter.pidfile),
                     what="new master stopped")

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


class RelativeConfigUpgradeTest(unittest.TestCase):
    """A daemon started with a relative -c works from "/": its upgrade
    must still find the configuration."""

    def test_upgrade_with_relative_config(self):
        import shutil
        import tempfile
        tmp = tempfile.mkdtemp(prefix="porter-test.")
        o = harness.Origin("r")
        pidf = os.path.join(tmp, "p.pid")
        log = os.path.join(tmp, "error.log")
        pids = []
        try:
            with open(os.path.join(tmp, "p.ini"), "w") as f:
                f.write("[porter]\nworkers = 1\nmin_spare_workers = 0\n"
                        "pid_file = %s\nerror_log = %s\n%s"
                        "[listen a]\naddress = 127.0.0.1:0\n"
                        "[pool p]\nserver = %s\n" %
                        (pidf, log, "user = root\n" if os.geteuid() == 0
                         else "", o.hostport))
            r = subprocess.run([PORTER, "-c", "p.ini"], cwd=tmp,
                               timeout=30, stdin=subprocess.DEVNULL,
                               capture_output=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            old = int(wait_for(lambda: read(pidf).strip(), what="pid"))
            pids.append(old)
            port = int(wait_for(lambda: re.search(
                r"listening on [0-9.]+:(\d+)", read(log)),
                what="port").group(1))
            os.kill(old, signal.SIGUSR2)
            new = int(wait_for(lambda: (lambda t: t if t and int(t) != old
                                        else None)(read(pidf).strip()) or
                               "upgrade failed" in read(log),
                               what="new master's pid file"))
            self.assertNotIn("upgrade failed", read(log))
            pids.append(new)
            os.kill(old, signal.SIGQUIT)
            wait_for(lambda: not os.path.exists(pidf + ".oldbin"),
                     what="old master gone")
            self.assertEqual(harness.get(port, "/bytes/5").status, 200)
            self.assertNotRegex(read(log), harness.BAD_LOG)
        finally:
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGQUIT)
                except ProcessLookupError:
                    pass
            wait_for(lambda: not os.path.exists(pidf), what="stopped")
            o.stop()
            shutil.rmtree(tmp, ignore_errors=True)


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
        new = self.porter.new_master(old)
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


class CacheRollbackUpgradeTest(PorterTest):
    """An upgrade after a rolled-back upgrade: the third master must not
    take the cache slots of the old master that still runs."""
    expect_errors = r"upgrade failed"

    def config_body(self):
        return "[cache]\nsize = 8M\n\n" + super().config_body()

    def test_fill_survives_upgrade_after_rollback(self):
        old = self.porter.proc.pid
        self.porter.kill(signal.SIGUSR2)
        first = self.porter.new_master(old)
        # roll back: the new master goes, the old one serves on
        os.kill(first, signal.SIGQUIT)
        wait_for(lambda: "upgrade failed" in self.porter.log() and
                 read(self.porter.pidfile).strip() == str(old),
                 what="rollback")
        # a slow fill by a worker of the old master
        p = "/slow/30000?rate=10000&cc=max-age%3D600"
        c = Client(self.port)
        c.send(("GET %s HTTP/1.1\r\nHost: test\r\n\r\n" % p).encode())
        self.o["o1"].wait_requests(1)
        self.porter.kill(signal.SIGUSR2)
        second = self.porter.new_master(old)
        try:
            wait_for(lambda: self.porter.log().count(
                "cache: kept from the previous binary") == 2,
                what="the store taken over again")
            r = c.read_response()
            c.close()
            self.assertEqual(r.status, 200)
            self.assertEqual(r.body, harness.pattern(30000))
            # the fill was not aborted under the worker: it is stored
            # (asked only from the cache, so that asking stores nothing)
            r = wait_for(lambda: (lambda r: r if r.status == 200 else None)(
                self.get(p, headers={"Cache-Control": "only-if-cached"})),
                timeout=10, what="the object stored")
            self.assertEqual(r.header("cache-status"), "porter; hit")
            self.assertEqual(r.body, harness.pattern(30000))
        finally:
            self.porter.kill(signal.SIGQUIT)
            self.porter.proc.wait(30)
            os.kill(second, signal.SIGQUIT)
            wait_for(lambda: not os.path.exists(self.porter.pidfile),
                     what="new master stopped")


if __name__ == "__main__":
    harness.main()
