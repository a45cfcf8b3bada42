"""Persistent connections on both sides."""
import time
import unittest

import harness
from harness import PorterTest, Client, pattern


class KeepAliveTest(PorterTest):
    workers = 1

    def test_100_requests_one_backend_connection(self):
        c = Client(self.port)
        conns = set()
        for i in range(100):
            r = c.request(path="/bytes/%d" % (i * 10))
            self.assertEqual(r.status, 200)
            self.assertEqual(r.body, pattern(i * 10))
            conns.add(r.header("x-conn"))
        c.close()
        self.assertEqual(len(conns), 1, conns)
        self.assertEqual(self.get("/conns").body, b"1\n")

    def test_pipelined_in_order(self):
        c = Client(self.port)
        reqs = b"".join(b"GET /bytes/%d HTTP/1.1\r\nHost: t\r\n\r\n" % n
                        for n in (5, 50, 500, 5000))
        reqs += b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n" \
            b"\r\nabcGET /bytes/7 HTTP/1.1\r\nHost: t\r\n\r\n"
        c.send(reqs)
        for n in (5, 50, 500, 5000):
            self.assertEqual(c.read_response().body, pattern(n))
        self.assertEqual(c.read_response().body, b"abc")
        self.assertEqual(c.read_response().body, pattern(7))
        c.close()

    def test_http10(self):
        c = Client(self.port)
        r = c.request(path="/bytes/4", version="1.0",
                      headers={"Connection": "keep-alive"})
        self.assertEqual(r.header("connection"), "keep-alive")
        r = c.request(path="/bytes/4", version="1.0",
                      headers={"Connection": "keep-alive"})
        self.assertEqual(r.body, pattern(4))
        r = c.request(path="/bytes/4", version="1.0")
        self.assertEqual(r.header("connection"), "close")
        self.assertTrue(c.closed())
        c.close()

    def test_connection_close(self):
        c = Client(self.port)
        r = c.request(path="/bytes/4", headers={"Connection": "close"})
        self.assertEqual(r.header("connection"), "close")
        self.assertTrue(c.closed())
        c.close()


class LimitsTest(PorterTest):
    workers = 1
    porter_extra = "keepalive_requests = 3\nkeepalive_timeout = 200ms\n"

    def test_keepalive_requests(self):
        c = Client(self.port)
        for i in range(3):
            r = c.request(path="/bytes/1")
        self.assertEqual(r.header("connection"), "close")
        self.assertTrue(c.closed())
        c.close()

    def test_keepalive_timeout(self):
        c = Client(self.port)
        c.request(path="/bytes/1")
        t0 = time.monotonic()
        self.assertTrue(c.closed(10))
        self.assertLess(time.monotonic() - t0, 8)
        c.close()


class BackendKeepAliveOffTest(PorterTest):
    workers = 1
    pool_extra = "keepalive = 0\n"

    def test_no_reuse(self):
        c = Client(self.port)
        conns = {c.request(path="/bytes/1").header("x-conn")
                 for _ in range(5)}
        c.close()
        self.assertEqual(len(conns), 5)


if __name__ == "__main__":
    harness.main()
