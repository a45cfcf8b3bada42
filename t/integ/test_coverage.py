"""Configuration keys driven through the binary that no other file
covers: random_two, passive marking by 5xx and its expiry, the health
check's status, body and timeout, purge_allow, routes without the cache,
lock_timeout, the client and tunnel timeouts, connect_timeout, servers on
a Unix socket, an IPv6 listener, the workers' hardening, chroot, syslog
and seccomp beside TLS, tunnels and the admin listener.

Each test is written so that it fails when its key does nothing: the
docstrings say which change of the configuration (or of porter) makes it
fail."""
import collections
import http.server
import os
import re
import shutil
import socket
import socketserver
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

import harness
from harness import PorterTest, Client, Origin, pattern, wait_for
from test_backend import worker_fds


def children(porter):
    """Pids of every child of porter's master (workers, gate, checker)."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                stat = f.read()
            if int(stat.rsplit(")", 1)[1].split()[1]) == porter.proc.pid:
                out.append(pid)
        except (OSError, IndexError, ValueError):
            pass
    return out


def status_field(pid, name):
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split(":", 1)[1].strip()
    return None


class RandomTwoTest(PorterTest):
    """balance = random_two sends nothing to a server busier than the
    other one it drew.  Server a answers after 500 ms, so it holds a
    request most of the time and the others are idle: a gets only the
    requests drawn while it was idle.  With round_robin (or random
    picks) a gets a third of them and this fails."""
    origins = ()
    workers = 4

    def setUp(self):
        self.slow = Origin("a", args=("-D", "500"))
        self.addCleanup(self.slow.stop)
        super().setUp()

    def config_body(self):
        self.o["b"] = Origin("b")
        self.o["c"] = Origin("c")
        return ("[pool app]\nserver = %s\nserver = %s\nserver = %s\n"
                "balance = random_two\n" % (self.slow.hostport,
                                            self.o["b"].hostport,
                                            self.o["c"].hostport))

    def test_busy_server_passed_over(self):
        counts = collections.Counter()
        lock = threading.Lock()
        errors = []

        def run():
            c = Client(self.port)
            try:
                for _ in range(30):
                    r = c.request(path="/bytes/1")
                    with lock:
                        if r.status != 200:
                            errors.append(r.status)
                        counts[r.header("x-origin")] += 1
            finally:
                c.close()
        ts = [threading.Thread(target=run) for _ in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(120)
        self.assertEqual(errors, [])
        self.assertEqual(sum(counts.values()), 120)
        # round robin: 40 each; here a few, the rest shared by b and c
        self.assertLess(counts["a"], 15, counts)
        self.assertGreater(counts["b"], 25, counts)
        self.assertGreater(counts["c"], 25, counts)


class PassiveFiveXxTest(PorterTest):
    """fail_on_5xx = on: a 500 marks the server down, for fail_timeout
    and no longer.  Fails with fail_on_5xx = off (b is never marked
    down) and with a fail_timeout of an hour (b never comes back)."""
    origins = ()
    workers = 2

    def config_body(self):
        self.o["a"] = Origin("a")
        self.o["b"] = Origin("b", args=("-S", "500"))
        return ("[pool app]\nserver = %s\nserver = %s\nmax_fails = 1\n"
                "fail_on_5xx = on\nfail_timeout = 3s\nretries = 0\n" %
                (self.o["a"].hostport, self.o["b"].hostport))

    def marks(self):
        return self.porter.log().count("server %s of pool app marked down"
                                       % self.o["b"].hostport)

    def test_marked_down_then_back(self):
        # round robin: within two requests one reaches b and gets its 500
        statuses = [self.get("/bytes/1").status for _ in range(2)]
        self.assertIn(500, statuses)
        wait_for(lambda: self.marks() == 1, 10, "b marked down")
        t_mark = time.monotonic()
        # down: everything goes to a while well inside fail_timeout
        n = 0
        while time.monotonic() - t_mark < 1.5:
            r = self.get("/bytes/1")
            self.assertEqual((r.status, r.header("x-origin")), (200, "a"))
            n += 1
        self.assertGreater(n, 3)
        # after fail_timeout b is tried again (and marked down again)
        wait_for(lambda: self.get("/bytes/1").status == 500, 15,
                 "b back after fail_timeout")
        self.assertGreaterEqual(time.monotonic() - t_mark, 2.5)
        wait_for(lambda: self.marks() == 2, 10, "b marked down again")


class HealthCheckKeysTest(PorterTest):
    """health_status, health_body and health_timeout: in each pair of
    pools the same server fails the check under one setting and passes
    under the other.  Fails if a key is ignored (the failing pool's
    server stays up) or misread (the passing pool's goes down)."""
    origins = ()
    workers = 1
    expect_errors = None

    def config_body(self):
        self.o["h204"] = Origin("h204", args=("-H", "204"))
        self.o["plain"] = Origin("plain")
        h = "health_interval = 100ms\nhealth_fall = 1\nhealth_rise = 1\n"
        g = "health_check = GET /health\n" + h
        p204 = self.o["h204"].hostport
        plain = self.o["plain"].hostport
        return (
            "[pool status_bad]\nserver = %s\n%shealth_status = 200\n"
            "[pool status_ok]\nserver = %s\n%shealth_status = 200-299\n"
            "[pool body_bad]\nserver = %s\n%shealth_body = healthy\n"
            "[pool body_ok]\nserver = %s\n%shealth_body = ok\n"
            "[pool slow_bad]\nserver = %s\n%s"
            "health_check = GET /health?delay=1500\nhealth_timeout = 300ms\n"
            "[pool slow_ok]\nserver = %s\n%s"
            "health_check = GET /health?delay=100\nhealth_timeout = 1500ms\n"
            "[route r]\npool = status_ok\n" % (
                p204, g, p204, g, plain, g, plain, g, plain, h, plain, h))

    def test_status_body_timeout(self):
        down = re.compile(r"server \S+ of pool (\w+) is down \((.*)\)")

        def pools_down():
            return {m.group(1): m.group(2)
                    for m in down.finditer(self.porter.log())}
        wait_for(lambda: {"status_bad", "body_bad", "slow_bad"} <=
                 set(pools_down()), 15, "failing checks")
        # then more checks of every server (each /health is a hit at the
        # origin): the pools that pass must still be up after them
        def hits(o):
            return int(harness.get(o.port, "/hits").body)
        h0, p0 = hits(self.o["h204"]), hits(self.o["plain"])
        wait_for(lambda: hits(self.o["h204"]) > h0 + 6 and
                 hits(self.o["plain"]) > p0 + 12, 20, "more checks")
        got = pools_down()
        self.assertEqual(set(got), {"status_bad", "body_bad", "slow_bad"},
                         got)
        self.assertEqual(self.get("/bytes/2").status, 200)
