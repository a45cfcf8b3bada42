"""Load balancing across workers on the shared backend table, passive and
active health, slow start, max_conns, backups, sticky sessions, hashing."""
import collections
import os
import re
import signal
import threading
import time
import unittest

import harness
from harness import PorterTest, Client, Origin, pattern, wait_for
from loadgen import Load


def origins_of(port, n, path="/bytes/1", threads=6, headers=None):
    """n requests from several keep-alive clients: X-Origin counts."""
    counts = collections.Counter()
    lock = threading.Lock()
    errors = []

    def run(k):
        c = Client(port)
        try:
            for _ in range(k):
                r = c.request(path=path, headers=headers)
                with lock:
                    if r.status == 200:
                        counts[r.header("x-origin")] += 1
                    else:
                        errors.append(r.status)
        finally:
            c.close()
    ts = [threading.Thread(target=run, args=(n // threads,))
          for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    return counts, errors


def ramp_samples(port, until, threads=3):
    """(monotonic time, X-Origin) of each request made by several
    keep-alive clients until the time until."""
    out = []
    lock = threading.Lock()
    errors = []

    def run():
        c = Client(port)
        try:
            while time.monotonic() < until:
                r = c.request(path="/bytes/1")
                with lock:
                    if r.status != 200:
                        errors.append(r.status)
                    out.append((time.monotonic(), r.header("x-origin")))
                if r.header("connection", "").lower() == "close":
                    # keepalive_requests reached
                    c.close()
                    c = Client(port)
        finally:
            c.close()
    ts = [threading.Thread(target=run) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert errors == [], errors
    return out


class RoundRobinTest(PorterTest):
    origins = ("a", "b", "c")
    workers = 4

    def config_body(self):
        o = self.o
        return ("[pool app]\nserver = %s weight=1\nserver = %s weight=2\n"
                "server = %s weight=3\n" % (o["a"].hostport,
                                            o["b"].hostport,
                                            o["c"].hostport))

    def test_weights_within_5_percent(self):
        counts, errors = origins_of(self.port, 3000)
        self.assertEqual(errors, [])
        total = sum(counts.values())
        self.assertEqual(total, 3000)
        for name, w in (("a", 1), ("b", 2), ("c", 3)):
            want = total * w / 6
            self.assertLessEqual(abs(counts[name] - want), want * 0.05,
                                 counts)


class LeastConnTest(PorterTest):
    origins = ()
    workers = 4
    pool_extra = "balance = least_conn\n"

    def setUp(self):
        self.slow = Origin("slow", args=("-D", "200"))
        self.fast = Origin("fast")
        try:
            super().setUp()
        except Exception:
            self.slow.stop()
            self.fast.stop()
            raise
        self.o["slow"] = self.slow
        self.o["fast"] = self.fast

    def config_body(self):
        return ("[pool app]\nserver = %s\nserver = %s\nbalance = "
                "least_conn\n" % (self.slow.hostport, self.fast.hostport))

    def test_prefers_the_idle_server(self):
        counts, errors = origins_of(self.port, 240, threads=4)
        self.assertEqual(errors, [])
        # the slow server holds its requests: most go to the fast one
        self.assertGreater(counts["fast"], 3 * counts["slow"], counts)


class HashTest(PorterTest):
    origins = ("a", "b", "c")
    workers = 3

    def config_body(self, names=("a", "b", "c")):
        return ("[pool app]\n%sbalance = hash\nhash_key = uri\n" %
                "".join("server = %s\n" % self.o[n].hostport for n in names))

    def mapping(self):
        return {i: self.get("/bytes/1?k=%d" % i).header("x-origin")
                for i in range(300)}

    def test_stable_and_minimal_moves_on_removal(self):
        first = self.mapping()
        self.assertEqual(first, self.mapping())      # same key, same server
        share = collections.Counter(first.values())
        for n in ("a", "b", "c"):
            self.assertGreater(share[n], 50, share)
        self.porter.rewrite(self.config_body(("a", "b")))
        self.porter.kill(signal.SIGHUP)
        wait_for(lambda: "generation 1" in self.porter.log(), what="reload")
        wait_for(lambda: all(self.get("/bytes/1?k=%d" % i)
                             .header("x-origin") != "c"
                             for i in range(300) if first[i] == "c"),
                 what="c gone")
        second = self.mapping()
        moved = [i for i in first if first[i] != second[i]]
        # only the removed server's keys move
        self.assertTrue(all(first[i] == "c" for i in moved))
        self.assertEqual(len(moved), share["c"])
        print("hash: %d of 300 keys moved after removing 1 of 3 servers"
              % len(moved))


class HashHeaderTest(PorterTest):
    origins = ("a", "b")
    pool_extra = "balance = hash\nhash_key = header:X-User\n"

    def test_header_key(self):
        for user in ("alice", "bob", "carol", "dave"):
            seen = {self.get("/bytes/1", headers={"X-User": user})
                    .header("x-origin") for _ in range(5)}
            self.assertEqual(len(seen), 1)


class StickyTest(PorterTest):
    origins = ("a", "b", "c")
    workers = 4
    pool_extra = "balance = sticky\nsticky_cookie = srv\n"

    def test_sticky_across_workers(self):
        r = self.get("/bytes/1")
        cookie = r.header("set-cookie")
        self.assertRegex(cookie, r"^srv=[0-9a-f]{16}; Path=/; HttpOnly$")
        self.assertNotIn("127.0.0.1", cookie)
        first = r.header("x-origin")
        value = cookie.split(";")[0]
        for _ in range(30):   # new connections: any worker
            r = self.get("/bytes/1", headers={"Cookie": "x=1; " + value})
            self.assertEqual(r.header("x-origin"), first)
            self.assertIsNone(r.header("set-cookie"))
        # no cookie: spread, and each answer names its server
        seen = {self.get("/bytes/1").header("x-origin") for _ in range(12)}
        self.assertEqual(len(seen), 3)


class FailoverTest(PorterTest):
    origins = ("a", "b", "c")
    workers = 3
    pool_extra = ("max_fails = 2\nfail_timeout = 30s\n"
                  "health_check = GET /health\nhealth_interval = 200ms\n"
                  "health_timeout = 500ms\nhealth_rise = 2\n"
                  "health_fall = 2\nslow_start = 4s\n")
    expect_errors = None

    @harness.serial
    def test_kill_one_of_three_under_load(self):
        load = Load(self.port, threads=6)
        wait_for(lambda: load.count() > 200, what="load")
        c = self.o["c"]
        c.proc.kill()       # the origin dies at once
        # workers notice within max_fails, the checker within health_fall
        wait_for(lambda: "server %s of pool app marked down" % c.hostport
                 in self.porter.log(), what="c marked down")
        wait_for(lambda: "server %s of pool app is down" % c.hostport
                 in self.porter.log(), what="checker: c down")
        before = load.count()
        wait_for(lambda: load.count() > before + 300, what="progress")
        ok, failures = load.stop()
        self.assertEqual(failures, [], "client errors while c died")
        # back: the checker sees it, then slow start ramps it up
        c.restart()
        wait_for(lambda: "server %s of pool app is up" % c.hostport in
                 self.porter.log(), 20, "c up again")
        t_up = time.monotonic()
        # the ramp, from which origin answered each request and when:
        # c's share grows from 1% of its third to all of it over
        # slow_start (4 s).  Without slow start it has its third at once.
        samples = ramp_samples(self.port, t_up + 6.5)
        first = [o for t, o in samples if t - t_up < 1.3]
        after = [o for t, o in samples if t - t_up >= 5]
        # enough requests in each window for the shares to mean something
        self.assertGreater(len(first), 40, len(first))
        self.assertGreater(len(after), 40, len(after))
        share_first = first.count("c") / len(first)
        share_after = after.count("c") / len(after)
        # about 8% in the first third of the ramp, 33% after it
        self.assertLess(share_first, 0.2, (share_first, share_after))
        self.assertGreater(share_after, 0.25, (share_first, share_after))


class MaxConnsTest(PorterTest):
    origins = ("a",)
    workers = 6
    porter_extra = ""

    def config_body(self):
        return ("[pool app]\nserver = %s max_conns=2\nqueue_timeout = 20s\n"
                % self.o["a"].hostport)

    def test_limit_across_workers(self):
        counts, errors = origins_of(self.port, 36,
                                    path="/bytes/1?delay=100", threads=6)
        self.assertEqual(errors, [])
        self.assertEqual(sum(counts.values()), 36)
        peak = int(harness.get(self.o["a"].port, "/maxconc").body)
        self.assertEqual(peak, 2)


class MaxConnsQueueTimeoutTest(PorterTest):
    origins = ("a",)
    workers = 3

    def config_body(self):
        return ("[pool app]\nserver = %s max_conns=1\nqueue_timeout = 200ms"
                "\n" % self.o["a"].hostport)

    def test_503_after_queue_timeout(self):
        c = Client(self.port)
        c.send(b"GET /bytes/1?delay=3000 HTTP/1.1\r\nHost: t\r\n\r\n")
        self.o["a"].wait_requests(1)
        r = self.get("/bytes/1")
        self.assertEqual(r.status, 503)
        self.assertEqual(r.header("retry-after"), "1")
        self.assertEqual(c.read_response().status, 200)
        c.close()


class MaxConnsWorkerKilledTest(PorterTest):
    """A worker killed mid-request gives its in-flight count back: the
    master releases it, or the server stays "full" for good."""
    origins = ("a",)
    workers = 4
    expect_errors = r"killed by signal 9"

    def config_body(self):
        return ("[pool app]\nserver = %s max_conns=2\nqueue_timeout = 200ms"
                "\n" % self.o["a"].hostport)

    def test_killed_workers_release_max_conns(self):
        from test_backend import worker_fds
        cs = []
        for _ in range(2):
            c = Client(self.port)
            c.send(b"GET /hang HTTP/1.1\r\nHost: t\r\n\r\n")
            cs.append(c)
        self.o["a"].wait_requests(2)
        # the server is full: a third request waits, then gets 503
        self.assertEqual(self.get("/bytes/1").status, 503)
        pids = [int(p) for p in worker_fds(self.porter)]
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        for c in cs:
            self.assertTrue(c.closed(10))
            c.close()
        wait_for(lambda: len(set(int(p) for p in worker_fds(self.porter))
                             - set(pids)) == self.workers,
                 what="workers respawned")
        for _ in range(6):
            self.assertEqual(self.get("/bytes/1").status, 200)


class BackupTest(PorterTest):
    origins = ("main", "spare")

    def config_body(self):
        return ("[pool app]\nserver = %s\nserver = %s backup\n"
                "health_check = GET /health\nhealth_interval = 100ms\n"
                "health_fall = 1\nhealth_rise = 1\n" %
                (self.o["main"].hostport, self.o["spare"].hostport))

    def test_backup_only_when_primary_down(self):
        for _ in range(10):
            self.assertEqual(self.get("/bytes/1").header("x-origin"),
                             "main")
        self.o["main"].restart(args=("-H", "503"))  # unhealthy now
        wait_for(lambda: "is down" in self.porter.log(), what="main down")
        for _ in range(10):
            self.assertEqual(self.get("/bytes/1").header("x-origin"),
                             "spare")
        self.o["main"].restart(args=())
        wait_for(lambda: "is up" in self.porter.log(), what="main up")
        for _ in range(10):
            self.assertEqual(self.get("/bytes/1").header("x-origin"),
                             "main")


class AllDownTest(PorterTest):
    origins = ("a", "b")

    def config_body(self):
        return ("[pool app]\nserver = %s down\nserver = %s down\n" %
                (self.o["a"].hostport, self.o["b"].hostport))

    def test_503_retry_after(self):
        r = self.get("/bytes/1")
        self.assertEqual(r.status, 503)
        self.assertEqual(r.header("retry-after"), "1")


if __name__ == "__main__":
    harness.main()
