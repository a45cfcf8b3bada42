"""Response tails leave the worker: a client that reads slowly is relayed
by the gate, so that with one worker in all it keeps no other client
waiting.  Each slow reader's bytes are checked whole (sha256)."""
import hashlib
import os
import re
import signal
import socket
import time

import harness
from harness import PorterTest, Client, pattern, wait_for

BIG = 8 * 1024 * 1024


def pattern_sha(n):
    """sha256 of t/origin's /bytes/N body, without building it byte by
    byte (the pattern's period is 576)."""
    period = pattern(576)
    h = hashlib.sha256()
    whole = period * 1024
    while n >= len(whole):
        h.update(whole)
        n -= len(whole)
    h.update((period * (n // 576 + 1))[:n])
    return h.hexdigest()


def tail_metric(text, name):
    m = re.search(r"^%s (\d+)$" % name, text, re.M)
    return int(m.group(1)) if m else None


class SlowReader:
    """A client with a small receive buffer that asks for a large body
    and then does not read: its response cannot go out at once."""

    def __init__(self, port, path, version="1.1", headers="", raw=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.settimeout(30)
        self.sock.connect(("127.0.0.1", port))
        self.buf = b""
        self.sock.sendall(raw or ("GET %s HTTP/%s\r\nHost: test\r\n%s\r\n" %
                                  (path, version, headers)).encode())

    def read_some(self, n=4096):
        d = self.sock.recv(n)
        if not d:
            raise EOFError
        self.buf += d

    def head(self):
        while b"\r\n\r\n" not in self.buf:
            self.read_some()
        raw, self.buf = self.buf.split(b"\r\n\r\n", 1)
        return raw.decode("latin-1")

    def body_sha(self, framing, length=None):
        """Read the rest at full speed; sha256 of the decoded body."""
        h = hashlib.sha256()
        if framing == "length":
            got = 0
            while got < length:
                if not self.buf:
                    self.read_some(1 << 20)
                take = self.buf[:length - got]
                h.update(take)
                got += len(take)
                self.buf = self.buf[len(take):]
        elif framing == "close":
            h.update(self.buf)
            self.buf = b""
            while True:
                d = self.sock.recv(1 << 20)
                if not d:
                    break
                h.update(d)
        else:
            while True:
                while b"\r\n" not in self.buf:
                    self.read_some(1 << 20)
                line, self.buf = self.buf.split(b"\r\n", 1)
                size = int(line.split(b";")[0], 16)
                if size == 0:
                    while b"\r\n" not in self.buf:
                        self.read_some(1 << 20)
                    while not self.buf.startswith(b"\r\n"):
                        _, self.buf = self.buf.split(b"\r\n", 1)
                        while b"\r\n" not in self.buf:
                            self.read_some(1 << 20)
                    self.buf = self.buf[2:]
                    break
                while len(self.buf) < size + 2:
                    self.read_some(1 << 20)
                h.update(self.buf[:size])
                assert self.buf[size:size + 2] == b"\r\n"
                self.buf = self.buf[size + 2:]
        return h.hexdigest()

    def close(self):
        self.sock.close()


class TailBase(PorterTest):
    workers = 1
    # a worker held by a slow reader would hold it this long
    porter_extra = "send_timeout = 60s\nmax_workers = 1\n"

    def config_body(self):
        return super().config_body() + "[admin]\naddress = 127.0.0.1:0\n"

    def metrics(self):
        return self.admin_get("/metrics").body.decode()

    def relayed(self):
        return tail_metric(self.metrics(),
                           r'porter_tail_total\{event="relayed"\}')

    def quick_get(self):
        """Another client meanwhile: answered at once, not after the
        slow reader's send_timeout."""
        t0 = time.monotonic()
        c = Client(self.port, timeout=5)
        r = c.request(path="/bytes/4096")
        c.close()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, pattern(4096))
        self.assertLess(time.monotonic() - t0, 3)

    def slow_then_others(self, path, version="1.1", raw=None):
        before = self.relayed()
        slow = SlowReader(self.port, path, version, raw=raw)
        head = slow.head()
        # the worker writes until the client's window is full, then
        # waits park_after and hands the rest to the gate: the others
        # are answered meanwhile (held by the worker, not before
        # send_timeout)
        for _ in range(3):
            self.quick_get()
        # the gate counts it when it reads the record: maybe only now
        wait_for(lambda: self.relayed() >= before + 1, timeout=10,
                 what="the tail counted by the gate")
        return slow, head


class TailTest(TailBase):
    def test_content_length_slow_reader(self):
        slow, head = self.slow_then_others("/bytes/%d" % BIG)
        self.assertIn("Content-Length: %d" % BIG, head)
        self.assertEqual(slow.body_sha("length", BIG), pattern_sha(BIG))
        slow.close()

    def test_chunked_slow_reader(self):
        slow, head = self.slow_then_others("/chunked/%d?size=7000" % BIG)
        self.assertIn("Transfer-Encoding: chunked", head)
        self.assertEqual(slow.body_sha("chunked"), pattern_sha(BIG))
        slow.close()

    def test_chunked_to_http10_slow_reader(self):
        slow, head = self.slow_then_others("/chunked/%d" % BIG, "1.0")
        self.assertNotIn("chunked", head)
        self.assertEqual(slow.body_sha("close"), pattern_sha(BIG))
        slow.close()

    def test_close_delimited_slow_reader(self):
        slow, head = self.slow_then_others("/close/%d" % BIG)
        # an HTTP/1.1 client gets it chunked, as a worker would send it
        self.assertIn("Transfer-Encoding: chunked", head)
        self.assertEqual(slow.body_sha("chunked"), pattern_sha(BIG))
        slow.close()

    def test_request_body_is_not_the_next_request(self):
        # a body sent whole stays in the worker's buffer until the
        # response is over: it must not reach the gate as a next request
        inner = b"GET /bytes/3 HTTP/1.1\r\nHost: t\r\n\r\n"
        raw = (b"POST /bytes/%d HTTP/1.1\r\nHost: test\r\n"
               b"Content-Length: %d\r\n\r\n" % (BIG, len(inner))) + inner
        slow, head = self.slow_then_others(None, raw=raw)
        self.assertEqual(slow.body_sha("length", BIG), pattern_sha(BIG))
        # then the connection closes, with nothing after the body
        slow.sock.settimeout(10)
        rest = slow.buf
        while True:
            d = slow.sock.recv(65536)
            if not d:
                break
            rest += d
        self.assertEqual(rest, b"")
        slow.close()

    def test_pipelined_after_tail(self):
        # the next request, sent at once, goes with the tail and is
        # answered after it
        raw = (b"GET /bytes/%d HTTP/1.1\r\nHost: test\r\n\r\n" % BIG +
               b"GET /bytes/5 HTTP/1.1\r\nHost: test\r\n\r\n")
        slow, head = self.slow_then_others(None, raw=raw)
        self.assertEqual(slow.body_sha("length", BIG), pattern_sha(BIG))
        c = Client.__new__(Client)
        c.sock, c.buf = slow.sock, slow.buf
        r = c.read_response()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, pattern(5))
        slow.close()

    def test_keepalive_after_tail(self):
        slow, head = self.slow_then_others("/bytes/%d" % BIG)
        self.assertEqual(slow.body_sha("length", BIG), pattern_sha(BIG))
        # the same connection, parked by the gate, is answered again
        slow.sock.sendall(b"GET /bytes/77 HTTP/1.1\r\nHost: t\r\n\r\n")
        c = Client.__new__(Client)
        c.sock, c.buf = slow.sock, slow.buf
        r = c.read_response()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, pattern(77))
        slow.close()
        m = self.metrics()
        self.assertGreaterEqual(tail_metric(m, "porter_tail_bytes"), 1)


class TailLifeTest(TailBase):
    """Reloads, upgrades and stops finish the tails under way."""

    def test_reload_mid_relay(self):
        slow, head = self.slow_then_others("/bytes/%d" % BIG)
        self.porter.kill(signal.SIGHUP)
        wait_for(lambda: "configuration reloaded: generation 1" in
                 self.porter.log(), what="reload")
        self.quick_get()
        self.assertEqual(slow.body_sha("length", BIG), pattern_sha(BIG))
        slow.close()

    def test_graceful_stop_finishes_tail(self):
        slow, head = self.slow_then_others("/chunked/%d" % BIG)
        self.porter.kill(signal.SIGQUIT)
        wait_for(lambda: "gate: finishing 1 response tail" in
                 self.porter.log(), what="the gate finishing")
        self.assertEqual(slow.body_sha("chunked"), pattern_sha(BIG))
        slow.close()
        self.assertEqual(self.porter.proc.wait(30), 0)
        self.assertNotIn("cut short", self.porter.log())

    def test_upgrade_finishes_tail(self):
        slow, head = self.slow_then_others("/bytes/%d" % BIG)
        old = self.porter.proc.pid
        self.porter.kill(signal.SIGUSR2)
        new = self.porter.new_master(old)
        try:
            os.kill(old, signal.SIGQUIT)
            wait_for(lambda: "gate: finishing 1 response tail" in
                     self.porter.log(), what="the old gate finishing")
            self.assertEqual(slow.body_sha("length", BIG),
                             pattern_sha(BIG))
            self.assertEqual(self.porter.proc.wait(30), 0)
            self.assertNotIn("cut short", self.porter.log())
        finally:
            slow.close()
            os.kill(new, signal.SIGQUIT)
            wait_for(lambda: not os.path.exists(self.porter.pidfile),
                     what="new master stopped")


class TailCacheTest(TailBase):
    def config_body(self):
        return ("[cache]\nsize = 64M\nmax_object_size = 16M\n\n" +
                super().config_body())

    def test_cache_hit_slow_reader(self):
        path = "/bytes/%d?cc=max-age%%3D600" % BIG
        c = Client(self.port)
        r = c.request(path=path)
        c.close()
        self.assertEqual(r.header("cache-status"),
                         "porter; fwd=miss; stored")
        self.assertEqual(hashlib.sha256(r.body).hexdigest(),
                         pattern_sha(BIG))
        slow, head = self.slow_then_others(path)
        self.assertIn("Cache-Status: porter; hit", head)
        self.assertEqual(slow.body_sha("length", BIG), pattern_sha(BIG))
        # kept alive: the next request on it is answered from the store
        slow.sock.sendall(("GET %s HTTP/1.1\r\nHost: test\r\n\r\n" %
                           path).encode())
        c = Client.__new__(Client)
        c.sock, c.buf = slow.sock, slow.buf
        r = c.read_response()
        self.assertEqual(r.header("cache-status"), "porter; hit")
        self.assertEqual(hashlib.sha256(r.body).hexdigest(),
                         pattern_sha(BIG))
        slow.close()


class TailSeccompTest(TailCacheTest):
    """The same paths with the worker and the gate under the seccomp
    allow-list: a call outside it would kill one of them (SIGSYS)."""
    porter_extra = TailBase.porter_extra + "seccomp = on\n"

    def test_all_kinds_under_seccomp(self):
        # not stored: a response being stored stays on its worker
        for path, framing in (("/bytes/%d?cc=no-store" % BIG, "length"),
                              ("/chunked/%d?cc=no-store" % BIG, "chunked"),
                              ("/close/%d?cc=no-store" % BIG, "chunked")):
            slow, head = self.slow_then_others(path)
            self.assertEqual(slow.body_sha(framing, BIG), pattern_sha(BIG))
            slow.close()
        self.test_cache_hit_slow_reader()
        self.assertNotIn("killed by signal", self.porter.log())
        if "seccomp is off" not in self.porter.log():
            gate = re.findall(r"gate (\d+) started", self.porter.log())[-1]
            with open("/proc/%s/status" % gate) as f:
                self.assertIn("Seccomp:\t2", f.read())
        self.assertNotIn("gate", re.sub(r"gate \d+ started", "",
                                        "\n".join(
            l for l in self.porter.log().splitlines()
            if "exited" in l)))


class TailGateDeathTest(TailBase):
    expect_errors = r"gate \d+ exited"

    def test_gate_killed_mid_relay(self):
        slow, head = self.slow_then_others("/bytes/%d" % BIG)
        pid = int(wait_for(lambda: re.findall(r"gate (\d+) started",
                                              self.porter.log()),
                           what="gate pid")[-1])
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: len(re.findall(r"gate \d+ started",
                                        self.porter.log())) >= 2,
                 what="gate restarted")
        self.assertIn("and 1 response tail, now lost", self.porter.log())
        self.assertEqual(len(re.findall(r"response tail, now lost",
                                        self.porter.log())), 1)
        # the slow reader's connection ends short of the body
        with self.assertRaises(Exception):
            slow.body_sha("length", BIG)
        slow.close()
        self.assertEqual(tail_metric(
            self.metrics(), r'porter_tail_total\{event="lost"\}'), 1)
        # porter serves on, and the new gate relays tails again
        self.quick_get()
        slow, head = self.slow_then_others("/bytes/%d" % BIG)
        self.assertEqual(slow.body_sha("length", BIG), pattern_sha(BIG))
        slow.close()

if __name__ == "__main__":
    harness.main()
