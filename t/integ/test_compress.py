"""Response compression through the real binary: gzip, br and zstd chosen
by Accept-Encoding, streamed for every framing an origin uses, the cases
left as they are, the fields a compressed answer changes, cache hits per
client, and server-sent events that still arrive one by one."""
import gzip
import re
import subprocess
import time
import unittest
import zlib

import harness
from harness import PorterTest, Client, pattern

CODINGS = ("gzip", "br", "zstd")


def decode(coding, data):
    """The identity bytes of a body sent with Content-Encoding coding."""
    if coding == "gzip":
        return gzip.decompress(data)
    cmd = {"br": ["brotli", "-d", "-c"], "zstd": ["zstd", "-d", "-c", "-q"]}
    r = subprocess.run(cmd[coding], input=data, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60, check=False)
    if r.returncode != 0:
        raise AssertionError("%s -d failed: %s" % (coding, r.stderr))
    return r.stdout


class CompressTest(PorterTest):
    workers = 2
    porter_extra = ("compression = on\n"
                    "compression_types = text/plain text/event-stream "
                    "text/html\n"
                    "compression_min_length = 100\n"
                    "compression_level = 6\n")

    def fetch(self, path, ae=None, method="GET", version="1.1", extra=None):
        h = {"Accept-Encoding": ae} if ae is not None else {}
        h.update(extra or {})
        c = Client(self.port)
        try:
            return c.request(method=method, path=path, headers=h,
                             version=version)
        finally:
            c.close()

    def assert_compressed(self, r, coding, want):
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("content-encoding"), coding)
        self.assertIsNone(r.header("content-length"))
        self.assertIn("accept-encoding", r.header("vary", "").lower())
        self.assertEqual(decode(coding, r.body), want)

    def assert_identity(self, r, want, vary=True):
        self.assertIsNone(r.header("content-encoding"))
        self.assertEqual(r.body, want)
        if vary:
            self.assertIn("accept-encoding", r.header("vary", "").lower())

    def test_each_coding_each_framing(self):
        # 1 KiB and 1 MiB with Content-Length, chunked, close-delimited
        for coding in CODINGS:
            for n in (1024, 1 << 20):
                for path in ("/bytes/%d", "/chunked/%d?size=5000",
                             "/close/%d"):
                    with self.subTest(coding=coding, n=n, path=path):
                        r = self.fetch(path % n, ae=coding)
                        self.assertEqual(r.header("transfer-encoding"),
                                         "chunked")
                        self.assert_compressed(r, coding, pattern(n))
                        if n == 1 << 20:
                            self.assertLess(len(r.body), n // 4)

    def test_empty_bodies_of_unknown_length(self):
        # no length known: min_length cannot apply, the stream is empty
        for coding in CODINGS:
            for path in ("/chunked/0", "/close/0"):
                with self.subTest(coding=coding, path=path):
                    self.assert_compressed(self.fetch(path, ae=coding),
                                           coding, b"")

    def test_http10_client_gets_close_delimited(self):
        c = Client(self.port)
        try:
            r = c.request(path="/bytes/5000", version="1.0",
                          headers={"Accept-Encoding": "gzip",
                                   "Connection": "keep-alive"})
            self.assertIsNone(r.header("transfer-encoding"))
            self.assertEqual(r.header("connection"), "close")
            self.assert_compressed(r, "gzip", pattern(5000))
        finally:
            c.close()

    def test_keepalive_after_compressed_answers(self):
        c = Client(self.port)
        try:
            for coding in CODINGS + ("gzip",):
                r = c.request(path="/bytes/3000",
                              headers={"Accept-Encoding": coding})
                self.assert_compressed(r, coding, pattern(3000))
            r = c.request(path="/bytes/3000")
            self.assert_identity(r, pattern(3000))
        finally:
            c.close()

    def test_preference_and_qvalues(self):
        cases = [
            ("gzip, br, zstd", "zstd"),
            ("gzip, br", "br"),
            ("gzip", "gzip"),
            ("x-gzip", "gzip"),
            ("GZIP;Q=1", "gzip"),
            ("zstd;q=0.5, br;q=0.9, gzip;q=0.1", "br"),
            ("zstd;q=0, br;q=0, gzip", "gzip"),
            ("*", "zstd"),
            ("*;q=0.5, zstd;q=0", "br"),
            ("gzip;q=0.5, identity", None),
            ("gzip;q=0", None),
            ("*;q=0", None),
            ("identity", None),
            ("", None),
            ("deflate, compress", None),
            ("gzip;q=2", None),
            ("gzip;q=0.0001", None),
            ("br;q=0.001", "br"),
            ("gzip ; q=0.8 , br ; q=0.7", "gzip"),
        ]
        for ae, want in cases:
            with self.subTest(ae=ae):
                r = self.fetch("/bytes/2000", ae=ae)
                if want is None:
                    self.assert_identity(r, pattern(2000))
                    self.assertIsNotNone(r.header("content-length"))
                else:
                    self.assert_compressed(r, want, pattern(2000))

    def test_no_accept_encoding_gets_identity(self):
        r = self.fetch("/bytes/2000")
        self.assert_identity(r, pattern(2000))
        self.assertEqual(r.header("content-length"), "2000")

    def test_left_alone(self):
        cases = [
            # below min_length with a known length
            ("/bytes/99", None),
            # already encoded: passed through as is, even if it lies
            ("/bytes/2000?ce=gzip", None),
            ("/bytes/2000?ce=identity", None),
            # no-transform
            ("/bytes/2000?cc=public%2C+no-transform", None),
            # a type not listed
            ("/bytes/2000?type=image/png", None),
            ("/bytes/2000?type=application/octet-stream", None),
            # 204
            ("/bytes/2000?status=204", None),
        ]
        for path, _ in cases:
            with self.subTest(path=path):
                r = self.fetch(path, ae="gzip, br, zstd")
                self.assertIsNone(r.header("content-encoding")
                                  if "ce=" not in path else None)
                if "ce=" in path:
                    self.assertEqual(r.header("content-encoding"),
                                     re.search(r"ce=(\w+)", path).group(1))
                if "status=204" not in path:
                    n = int(re.search(r"/bytes/(\d+)", path).group(1))
                    self.assertEqual(r.body, pattern(n))
                    self.assertEqual(r.header("content-length"), str(n))
                self.assertNotIn("accept-encoding",
                                 r.header("vary", "").lower())

    def test_type_with_parameters_and_case(self):
        r = self.fetch("/bytes/2000?type=Text/HTML%3B+charset%3Dutf-8",
                       ae="gzip")
        self.assert_compressed(r, "gzip", pattern(2000))

    def test_head_range_and_304(self):
        r = self.fetch("/bytes/2000", ae="gzip", method="HEAD")
        self.assertIsNone(r.header("content-encoding"))
        self.assertEqual(r.header("content-length"), "2000")
        # the origin's 206 with Content-Range
        r = self.fetch("/bytes/2000?ranges=1", ae="gzip",
                       extra={"Range": "bytes=10-1009"})
        self.assertEqual(r.status, 206)
        self.assertIsNone(r.header("content-encoding"))
        self.assertEqual(r.body, pattern(2000)[10:1010])
        # a 304 to a conditional request
        r = self.fetch("/bytes/2000?etag=v1", ae="gzip",
                       extra={"If-None-Match": '"v1"'})
        self.assertEqual(r.status, 304)
        self.assertIsNone(r.header("content-encoding"))

    def test_fields_of_a_compressed_answer(self):
        r = self.fetch("/bytes/2000?etag=abc&vary=Cookie&ar=bytes",
                       ae="gzip")
        self.assert_compressed(r, "gzip", pattern(2000))
        self.assertEqual(r.header("etag"), 'W/"abc"')
        self.assertEqual(r.headers_named("vary"), ["Cookie, Accept-Encoding"])
        self.assertIsNone(r.header("accept-ranges"))
        # identity keeps the strong ETag and Accept-Ranges, and says Vary
        r = self.fetch("/bytes/2000?etag=abc&vary=Cookie&ar=bytes")
        self.assert_identity(r, pattern(2000))
        self.assertEqual(r.header("etag"), '"abc"')
        self.assertEqual(r.header("accept-ranges"), "bytes")
        self.assertEqual(r.headers_named("vary"), ["Cookie, Accept-Encoding"])
        # already there, or Vary: *: not added again
        for v in ("accept-encoding", "*"):
            r = self.fetch("/bytes/2000?vary=" + v, ae="br")
            self.assertEqual(r.headers_named("vary"), [v])
        # a weak ETag stays as it was
        r = self.fetch("/bytes/2000?etag=W/x", ae="zstd")
        self.assertEqual(r.header("content-encoding"), "zstd")

    def test_server_sent_events_one_by_one(self):
        # The origin sends event 0, waits 4 s, sends event 1 and ends.
        # Event 0 must reach the client as soon as it was sent, flushed
        # so that it decodes (checked on the prefix for gzip and zstd,
        # whose tools decode an unfinished stream; brotli's does not):
        # the last bytes come seconds after the first ones.
        for coding in CODINGS:
            with self.subTest(coding=coding):
                c = Client(self.port, timeout=30)
                try:
                    c.send(b"GET /events/2?gap=4000 HTTP/1.1\r\n"
                           b"Host: test\r\nAccept-Encoding: " +
                           coding.encode() + b"\r\n\r\n")
                    while b"\r\n\r\n" not in c.buf:
                        c._fill()
                    head, c.buf = c.buf.split(b"\r\n\r\n", 1)
                    self.assertIn(b"content-encoding: " + coding.encode(),
                                  head.lower())
                    # chunks until event 0 decodes (br: the first one)
                    first = b""
                    for _ in range(10):
                        size = int(c._line().split(b";")[0], 16)
                        self.assertNotEqual(size, 0)
                        first += c._exact(size)
                        c._exact(2)
                        if coding == "br" or self.partial(
                                coding, first) == b"data: 0\n\n":
                            break
                    t1 = time.monotonic()
                    if coding != "br":
                        self.assertEqual(self.partial(coding, first),
                                         b"data: 0\n\n")
                    rest = b""
                    while True:
                        size = int(c._line().split(b";")[0], 16)
                        if size == 0:
                            break
                        rest += c._exact(size)
                        c._exact(2)
                    self.assertGreater(time.monotonic() - t1, 2.0)
                    self.assertEqual(decode(coding, first + rest),
                                     b"data: 0\n\ndata: 1\n\n")
                finally:
                    c.close()

    def partial(self, coding, data):
        """What a flushed, unfinished stream decodes to so far."""
        if coding == "gzip":
            return zlib.decompressobj(16 + 15).decompress(data)
        # zstd writes what it decoded, then complains of the missing end
        r = subprocess.run(["zstd", "-d", "-c", "-q"], input=data,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=60, check=False)
        return r.stdout

    def test_access_log_and_metrics(self):
        self.fetch("/bytes/4000", ae="br")
        self.fetch("/bytes/4000")
        lines = harness.wait_for(
            lambda: [l for l in self.porter.access() if "/bytes/4000" in l]
            if len([l for l in self.porter.access()
                    if "/bytes/4000" in l]) == 2 else None,
            what="two access log lines")
        m = re.search(r'" 200 (\d+) ', lines[0])
        self.assertIsNotNone(m, lines[0])
        self.assertLess(int(m.group(1)), 4000)
        m = re.search(r'" 200 (\d+) ', lines[1])
        self.assertEqual(int(m.group(1)), 4000)


class CompressLogTest(PorterTest):
    """$compression in a custom access log format; bytes saved in
    /metrics."""
    porter_extra = ("compression = on\ncompression_types = text/plain\n"
                    "access_log_format = $uri $status $bytes "
                    "$compression\n")

    def config_body(self):
        return ("[admin]\naddress = 127.0.0.1:0\n\n" +
                super().config_body())

    def test_variable_and_counters(self):
        c = Client(self.port)
        try:
            for ae in ("zstd", "br", "gzip", None):
                h = {"Accept-Encoding": ae} if ae else {}
                r = c.request(path="/bytes/10000", headers=h)
                self.assertEqual(r.status, 200)
        finally:
            c.close()
        lines = harness.wait_for(
            lambda: (lambda l: l if len(l) == 4 else None)(
                [x for x in self.porter.access() if "/bytes/" in x]),
            what="access log lines")
        self.assertEqual([l.split()[3] for l in lines],
                         ["zstd", "br", "gzip", "-"])
        self.assertEqual(lines[3].split()[2], "10000")
        metrics = self.admin_get("/metrics").body.decode()
        for coding in CODINGS:
            self.assertIn('porter_compressed_total{coding="%s"} 1' % coding,
                          metrics)
        saved = int(re.search(r"^porter_compression_saved_bytes_total (\d+)$",
                              metrics, re.M).group(1))
        self.assertGreater(saved, 3 * 10000 // 2)
        self.assertIn("porter_compression_in_bytes_total 30000", metrics)


class CompressZeroTest(PorterTest):
    """compression_min_length = 0: small bodies are compressed, but one
    known to be empty stays as it is (an empty stream would only add
    bytes); an empty body of unknown length becomes an empty stream."""
    porter_extra = ("compression = on\ncompression_types = text/plain\n"
                    "compression_min_length = 0\n")

    def test_zero_length(self):
        for coding in CODINGS:
            with self.subTest(coding=coding):
                r = harness.get(self.port, "/bytes/0",
                                headers={"Accept-Encoding": coding})
                self.assertIsNone(r.header("content-encoding"))
                self.assertEqual(r.header("content-length"), "0")
                self.assertEqual(r.body, b"")
                r = harness.get(self.port, "/bytes/1",
                                headers={"Accept-Encoding": coding})
                self.assertEqual(r.header("content-encoding"), coding)
                self.assertEqual(decode(coding, r.body), pattern(1))
                r = harness.get(self.port, "/chunked/0",
                                headers={"Accept-Encoding": coding})
                self.assertEqual(r.header("content-encoding"), coding)
                self.assertEqual(decode(coding, r.body), b"")


class CompressRouteTest(PorterTest):
    """Per route: one compresses, one does not; the default is off."""

    def config_body(self):
        return (super().config_body() +
                "\n[route zipped]\npath = /bytes/\npool = app\n"
                "compression = on\ncompression_types = text/*\n"
                "compression_level = 1\n"
                "\n[route plain]\npath = /\npool = app\n")

    def test_routes(self):
        r = harness.get(self.port, "/bytes/3000",
                        headers={"Accept-Encoding": "gzip"})
        self.assertEqual(r.header("content-encoding"), "gzip")
        self.assertEqual(gzip.decompress(r.body), pattern(3000))
        r = harness.get(self.port, "/chunked/3000",
                        headers={"Accept-Encoding": "gzip"})
        self.assertIsNone(r.header("content-encoding"))
        self.assertEqual(r.body, pattern(3000))


class CompressCacheTest(PorterTest):
    """The cache stores the identity once; each hit is compressed for the
    client that asks, and a client without Accept-Encoding gets the
    stored bytes."""
    porter_extra = ("compression = on\ncompression_types = text/plain\n")

    def config_body(self):
        return ("[cache]\nsize = 8M\nmax_object_size = 2M\n\n" +
                super().config_body())

    def fetches(self):
        return int(harness.get(self.o["o1"].port, "/hits").body) - 1

    def test_hits_per_client(self):
        n = 300000
        p = "/bytes/%d?cc=max-age%%3D60&etag=e1" % n
        first = harness.get(self.port, p,
                            headers={"Accept-Encoding": "gzip"})
        self.assertEqual(first.header("content-encoding"), "gzip")
        self.assertEqual(gzip.decompress(first.body), pattern(n))
        for ae in ("gzip", None, "br", "zstd", None, "gzip;q=0"):
            with self.subTest(ae=ae):
                h = {"Accept-Encoding": ae} if ae else {}
                r = harness.get(self.port, p, headers=h)
                self.assertEqual(r.header("cache-status"), "porter; hit")
                self.assertIn("accept-encoding",
                              r.header("vary", "").lower())
                if ae in (None, "gzip;q=0"):
                    self.assertIsNone(r.header("content-encoding"))
                    self.assertEqual(r.header("content-length"), str(n))
                    self.assertEqual(r.header("etag"), '"e1"')
                    self.assertEqual(r.body, pattern(n))
                else:
                    self.assertEqual(r.header("content-encoding"), ae)
                    self.assertEqual(r.header("etag"), 'W/"e1"')
                    self.assertEqual(decode(ae, r.body), pattern(n))
        self.assertEqual(self.fetches(), 1)
        # a Range on the stored object: the identity part, uncompressed
        r = harness.get(self.port, p, headers={"Accept-Encoding": "gzip",
                                               "Range": "bytes=0-99"})
        self.assertEqual(r.status, 206)
        self.assertIsNone(r.header("content-encoding"))
        self.assertEqual(r.body, pattern(100))

    def test_cut_short_is_not_stored(self):
        # the origin ends after half its Content-Length: the client's
        # compressed answer ends without its last chunk, the connection
        # closes, and nothing is stored
        p = "/abort/40000?cc=max-age%3D60"
        for _ in range(2):
            c = Client(self.port)
            try:
                with self.assertRaises(EOFError):
                    c.request(path=p, headers={"Accept-Encoding": "gzip"})
            finally:
                c.close()
        self.assertEqual(self.fetches(), 2)
        r = harness.get(self.port, "/bytes/100?cc=max-age%3D60")
        self.assertEqual(r.status, 200)

    def test_identity_first_then_compressed_hit(self):
        p = "/chunked/5000?cc=max-age%3D60"
        r = harness.get(self.port, p)
        self.assertEqual(r.body, pattern(5000))
        r = harness.get(self.port, p, headers={"Accept-Encoding": "zstd"})
        self.assertEqual(r.header("cache-status"), "porter; hit")
        self.assertEqual(decode("zstd", r.body), pattern(5000))


if __name__ == "__main__":
    harness.main()
