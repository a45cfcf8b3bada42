"""Malformed and ambiguous requests get a 4xx and a closed connection;
the worker lives on and serves the next connection normally."""
import unittest

import harness
from harness import PorterTest, Client


BAD = [
    (b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
     b"Content-Length: 6\r\n\r\nhello!", 400),
    (b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: +5\r\n\r\nhello", 400),
    (b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5, 5\r\n\r\nhello",
     400),
    (b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, identity"
     b"\r\n\r\n0\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: xchunked\r\n\r\n",
     400),
    (b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked"
     b"\r\n\r\n0\r\n\r\n", 501),
    (b"GET / HTTP/1.1\r\nHost: t\r\nX-A: a\r\n b\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost : t\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: t\r\nX-A: a\rb\r\n\r\n", 400),
    (b"GET / HTTP/1.1\nHost: t\n\n", 400),
    (b"GET / HTTP/1.1\r\nHost: t\r\nX-A: a\x00b\r\n\r\n", 400),
    (b"GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505),
    (b"GET / HTTP/1.1\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: user@t\r\n\r\n", 400),
    (b"GET http://u@t/ HTTP/1.1\r\nHost: t\r\n\r\n", 400),
    (b"GET  / HTTP/1.1\r\nHost: t\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: t\r\nExpect: magic\r\n\r\n", 417),
    (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414),
    (b"GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + b"b" * 17000 +
     b"\r\n\r\n", 431),
    (b"GET / HTTP/1.1\r\nHost: t\r\n" + b"X-N: 1\r\n" * 120 + b"\r\n", 431),
    (b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"0x5\r\nhello\r\n0\r\n\r\n", 400),
    (b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"5\r\nhelloXX0\r\n\r\n", 400),
    (b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"fffffffffffffffff\r\n", 400),
    (b"CONNECT t:443 HTTP/1.1\r\nHost: t:443\r\n\r\n", 405),
    (b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2000000\r\n\r\n",
     413),
]


class BadRequestTest(PorterTest):
    workers = 1
    porter_extra = "client_max_body_size = 1M\n"

    def test_rejected_then_served(self):
        for raw, want in BAD:
            c = Client(self.port)
            c.send(raw)
            r = c.read_response()
            self.assertEqual(r.status, want, raw[:80])
            self.assertEqual(r.header("connection"), "close")
            self.assertTrue(c.closed(), raw[:80])
            c.close()
            # the (only) worker is alive and serves the next connection
            r = self.get("/bytes/3")
            self.assertEqual(r.status, 200)
        self.assertEqual(self.get("/hits").body, b"%d\n" % (len(BAD) + 1))

    def test_valid_oddities_accepted(self):
        # what RFC 9110/9112 allow is not refused: a later HTTP/1.x minor,
        # chunk sizes with leading zeros, an empty or zero-padded port
        c = Client(self.port)
        for raw, body in (
                (b"GET /bytes/3 HTTP/1.2\r\nHost: t\r\n\r\n", b"012"),
                (b"POST /echo HTTP/1.1\r\nHost: t\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n"
                 b"00000000000000000005\r\nhello\r\n0\r\n\r\n", b"hello"),
                (b"GET /bytes/3 HTTP/1.1\r\nHost: t:\r\n\r\n", b"012"),
                (b"GET /bytes/3 HTTP/1.1\r\nHost: t:0000080\r\n\r\n",
                 b"012")):
            c.send(raw)
            r = c.read_response()
            self.assertEqual((r.status, r.body), (200, body), raw[:60])
        c.close()

    def test_nothing_after_bad_request_is_forwarded(self):
        c = Client(self.port)
        c.send(b"GET /bytes/1 HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
               b"GET /hits HTTP/1.1\r\nHost: t\r\n\r\n")
        r = c.read_response()
        self.assertEqual(r.status, 400)
        self.assertTrue(c.closed())
        c.close()
        self.assertEqual(self.get("/hits").body, b"1\n")

    def test_chunked_body_over_limit(self):
        c = Client(self.port)
        chunk = b"x" * 65536
        c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n")
        try:
            for _ in range(20):
                c.send(b"10000\r\n" + chunk + b"\r\n")
        except OSError:
            pass
        r = c.read_response()
        self.assertEqual(r.status, 413)
        c.close()


class HeaderTimeoutTest(PorterTest):
    workers = 1
    porter_extra = "client_header_timeout = 300ms\n"

    def test_408_on_slow_head(self):
        c = Client(self.port)
        c.send(b"GET / HTTP/1.1\r\nHost: t\r\n")
        r = c.read_response()
        self.assertEqual(r.status, 408)
        self.assertTrue(c.closed())
        c.close()
        self.assertEqual(self.get("/bytes/1").status, 200)

    def test_idle_connection_closed_quietly(self):
        c = Client(self.port)
        self.assertTrue(c.closed(10))
        self.assertEqual(c.buf, b"")
        c.close()


class SilentConnectionTest(PorterTest):
    """A connection that never sends holds no worker (TCP_DEFER_ACCEPT)."""
    workers = 1
    porter_extra = "client_header_timeout = 30s\n"

    def test_silent_connection_does_not_block_the_worker(self):
        import socket
        silent = socket.create_connection(("127.0.0.1", self.port), 5)
        try:
            # the one worker serves others meanwhile, not the silent one
            c = Client(self.port, timeout=10)
            r = c.request(path="/bytes/5")
            self.assertEqual(r.status, 200)
            c.close()
        finally:
            silent.close()


if __name__ == "__main__":
    harness.main()
