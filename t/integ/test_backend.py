"""Backend failures: refused, timed out, broken responses, dying
mid-body, reused connections closed under us, clients that leave."""
import os
import socket
import time
import unittest

import harness
from harness import PorterTest, Client, Origin, dead_port, pattern, wait_for


def worker_fds(porter):
    """Open descriptors of each worker (children of the master)."""
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                stat = f.read()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == porter.proc.pid and "(porter-gate)" not in stat:
                out[pid] = len(os.listdir("/proc/%s/fd" % pid))
        except (OSError, IndexError, ValueError):
            pass
    return out


class RefusedTest(PorterTest):
    def config_body(self):
        port = dead_port(self)
        return "[pool app]\nserver = 127.0.0.1:%d\nretries = 0\n" % port

    def test_502(self):
        c = Client(self.port)
        r = c.request(path="/")
        self.assertEqual(r.status, 502)
        r = c.request(path="/")
        self.assertEqual(r.status, 502)
        c.close()

    def test_unforwarded_body_is_not_a_request(self):
        c = Client(self.port)
        # a body that arrived whole is skipped; the connection goes on
        r = c.request("POST", "/", body=b"GET /evil HTTP/1.1\r\n\r\n")
        self.assertEqual(r.status, 502)
        r = c.request(path="/")
        self.assertEqual(r.status, 502)
        # a body still on its way: porter answers and closes
        c.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n"
               b"\r\nGET /evil HTTP/1.1\r\n")
        r = c.read_response()
        self.assertEqual(r.status, 502)
        self.assertEqual(r.header("connection"), "close")
        self.assertTrue(c.closed())
        c.close()


class FailoverTest(PorterTest):
    origins = ("good",)

    def config_body(self):
        dead = dead_port(self)
        return ("[pool app]\nserver = 127.0.0.1:%d\nserver = %s\n"
                "retries = 1\n" % (dead, self.o["good"].hostport))

    def test_connect_failure_goes_to_next_server(self):
        for _ in range(6):
            r = self.get("/bytes/2")
            self.assertEqual(r.status, 200)
            self.assertEqual(r.header("x-origin"), "good")


class TimeoutTest(PorterTest):
    pool_extra = "read_timeout = 300ms\n"

    def test_504_on_read_timeout(self):
        t0 = time.monotonic()
        r = self.get("/hang")
        self.assertEqual(r.status, 504)
        self.assertLess(time.monotonic() - t0, 10)
        self.assertEqual(self.get("/bytes/1").status, 200)

    def test_slow_body_cut(self):
        # one byte every 500 ms: the head and the first byte arrive, then
        # read_timeout (300 ms) passes between two reads and porter cuts
        # the response short (the client must not take it as whole)
        c = Client(self.port)
        c.send(b"GET /slow/10?rate=2 HTTP/1.1\r\nHost: t\r\n\r\n")
        t0 = time.monotonic()
        with self.assertRaises(EOFError):
            c.read_response()
        self.assertLess(time.monotonic() - t0, 4.5)
        c.close()
        self.assertEqual(self.get("/bytes/3").body, pattern(3))

    def test_slow_body_within_read_timeout(self):
        # 2 bytes every 100 ms: slow as a whole (1 s), but no read waits
        # for read_timeout, so all of it arrives
        r = self.get("/slow/20?rate=20")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, pattern(20))


class BrokenBackendTest(PorterTest):
    workers = 1

    def test_cl_and_te_from_backend_is_502(self):
        r = self.get("/badcl")
        self.assertEqual(r.status, 502)
        self.assertEqual(self.get("/bytes/3").body, pattern(3))

    def test_abort_mid_body_closes_client(self):
        c = Client(self.port)
        c.send(b"GET /abort/100000 HTTP/1.1\r\nHost: t\r\n\r\n")
        with self.assertRaises(EOFError):
            c.read_response()
        c.close()
        self.assertEqual(self.get("/bytes/3").body, pattern(3))

    def test_reused_connection_closed_is_retried(self):
        c = Client(self.port)
        r = c.request(path="/quietclose")
        self.assertEqual(r.body, b"bye\n")
        # the backend closed the connection porter keeps for reuse
        for _ in range(3):
            r = c.request(path="/bytes/9")
            self.assertEqual(r.status, 200)
            self.assertEqual(r.body, pattern(9))
            r = c.request(path="/quietclose")
            self.assertEqual(r.status, 200)
        c.close()

    def test_late_bytes_never_answer_another_request(self):
        # the backend sends an unasked response after a whole one: the
        # kept connection must not answer the next client with it
        self.assertEqual(self.get("/extra").body, b"ok\n")
        wait_for(lambda: unread_from(self.o["o1"].port) > 0,
                 what="the stray response in porter's socket")
        for i in range(4):
            r = self.get("/echo?victim=%d" % i)
            self.assertEqual(r.status, 200)
            self.assertNotIn(b"POISONED", r.body)

    def test_client_gone_leaks_nothing(self):
        # warm up: the worker then holds one idle backend connection
        self.assertEqual(self.get("/bytes/1").status, 200)
        before = worker_fds(self.porter)
        for path in (b"/bytes/10000000", b"/hang", b"/slow/100000?rate=10000"):
            c = Client(self.port)
            c.send(b"GET " + path + b" HTTP/1.1\r\nHost: t\r\n\r\n")
            c.sock.recv(100) if path != b"/hang" else None
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                              b"\x01\x00\x00\x00\x00\x00\x00\x00")
            c.close()
        # the worker notices when its next write fails or the read ends
        wait_for(lambda: self.get("/bytes/1").status == 200, 30,
                 "worker free again")
        try:
            # no growth (the warm-up's client socket may close later)
            wait_for(lambda: (lambda now: set(now) == set(before) and all(
                now[p] <= before[p] for p in now))(worker_fds(self.porter)),
                30, "descriptors back to before")
        except AssertionError:
            pids = list(before)
            self.fail("descriptors: before %s, now %s; %s" % (
                before, worker_fds(self.porter),
                {p: sorted(os.readlink("/proc/%s/fd/%s" % (p, fd))
                           for fd in os.listdir("/proc/%s/fd" % p))
                 for p in pids if os.path.exists("/proc/" + p)}))


def unread_from(port):
    """Bytes waiting unread in sockets connected to 127.0.0.1:port."""
    n = 0
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            col = line.split()
            if col[2] == "0100007F:%04X" % port:
                n += int(col[4].split(":")[1], 16)
    return n


def worker_pipes(porter):
    """How many pipes the workers hold open (splice keeps one each)."""
    n = 0
    for pid in worker_fds(porter):
        try:
            fds = os.listdir("/proc/%s/fd" % pid)
        except OSError:
            continue
        for fd in fds:
            # a descriptor may close meanwhile (the client's socket)
            try:
                link = os.readlink("/proc/%s/fd/%s" % (pid, fd))
            except OSError:
                continue
            n += link.startswith("pipe:")
    return n


class SpliceTest(PorterTest):
    """Large plain bodies go through a pipe with splice(2)."""
    workers = 1

    def test_large_bodies_keep_alive(self):
        c = Client(self.port)
        r = c.request(path="/bytes/10")
        self.assertEqual(worker_pipes(self.porter), 0)
        # around the threshold, odd sizes, then a small one each time
        for n in (131072 + 65535, 131072 + 65536 + 1, 1048576, 5242883):
            r = c.request(path="/bytes/%d" % n)
            self.assertEqual(r.status, 200)
            self.assertEqual(r.header("content-length"), str(n))
            self.assertEqual(len(r.body), n)
            self.assertTrue(r.body == pattern(n), "size %d differs" % n)
            r = c.request(path="/bytes/7")
            self.assertEqual(r.body, pattern(7))
        c.close()
        self.assertEqual(worker_pipes(self.porter), 2,
                         "a worker keeps one pipe (two ends) for splice")
        # the pipe is reused: nothing grows with more bodies
        before = worker_fds(self.porter)
        c = Client(self.port)
        for _ in range(3):
            self.assertEqual(c.request(path="/bytes/2000000").body,
                             pattern(2000000))
        c.close()
        self.assertEqual(worker_pipes(self.porter), 2)
        wait_for(lambda: worker_fds(self.porter) == before, 10,
                 "descriptors as before")

    def test_backend_abort_mid_splice(self):
        c = Client(self.port)
        self.assertEqual(c.request(path="/bytes/1000000").status, 200)
        c.close()
        c = Client(self.port)
        c.send(b"GET /abort/3000000 HTTP/1.1\r\nHost: t\r\n\r\n")
        with self.assertRaises(EOFError):
            c.read_response()
        c.close()
        # the worker lives on, with a fresh pipe once it needs one
        self.assertEqual(self.get("/bytes/3").body, pattern(3))
        self.assertEqual(self.get("/bytes/400000").body, pattern(400000))
        self.assertLessEqual(worker_pipes(self.porter), 2)

    def test_head_and_not_modified_not_spliced(self):
        c = Client(self.port)
        r = c.request("HEAD", "/bytes/1000000")
        self.assertEqual(r.header("content-length"), "1000000")
        self.assertEqual(r.body, b"")
        r = c.request(path="/bytes/5")
        self.assertEqual(r.body, pattern(5))
        c.close()


class SpliceOffTest(PorterTest):
    workers = 1
    porter_extra = "splice = off\n"

    def test_large_bodies_copied(self):
        c = Client(self.port)
        for n in (1048576, 3000001):
            self.assertEqual(c.request(path="/bytes/%d" % n).body, pattern(n))
        c.close()
        self.assertEqual(worker_pipes(self.porter), 0)


class IPv6Test(PorterTest):
    def setUp(self):
        try:
            socket.socket(socket.AF_INET6).bind(("::1", 0))
        except OSError:
            self.skipTest("no IPv6 loopback")
        super().setUp()

    def config_body(self):
        o6 = Origin("v6", addr="::1")
        self.o["v6"] = o6
        return "[pool app]\nserver = %s\n" % o6.hostport

    def test_ipv6_backend(self):
        self.assertEqual(self.get("/bytes/2").header("x-origin"), "v6")


if __name__ == "__main__":
    harness.main()
