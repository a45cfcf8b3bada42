"""The shared cache through the real binary (RFC 9111): freshness, Age,
validation, Vary, request directives, invalidation, purge, coalescing,
stale serving, robustness when workers die."""
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

import harness
from harness import PorterTest, Client, wait_for


class CacheTest(PorterTest):
    workers = 3
    porter_extra = ""

    def config_body(self):
        return ("[cache]\nsize = 8M\nmax_object_size = 256k\n"
                "lock_timeout = 5s\npass_ttl = 2s\n\n" +
                super().config_body())

    def fetches(self):
        """Requests the origin has seen (not counting this question)."""
        return int(harness.get(self.o["o1"].port, "/hits").body) - 1

    def reset(self):
        harness.get(self.o["o1"].port, "/hits/reset")

    def test_fresh_hit_with_age(self):
        p = "/counter?cc=max-age%3D60"
        a = self.get(p)
        self.assertEqual(a.header("cache-status"),
                         "porter; fwd=miss; stored")
        b = self.get(p)
        self.assertEqual(b.body, a.body)
        self.assertEqual(b.header("cache-status"), "porter; hit")
        self.assertRegex(b.header("age"), r"^\d+$")
        self.assertEqual(len(b.headers_named("age")), 1)
        self.assertEqual(b.header("x-origin"), "o1")

    def test_origin_age_counts(self):
        self.get("/counter?cc=max-age%3D100&age=90")
        b = self.get("/counter?cc=max-age%3D100&age=90")
        self.assertEqual(b.header("cache-status"), "porter; hit")
        self.assertGreaterEqual(int(b.header("age")), 90)
        # past its lifetime: not served fresh
        self.get("/counter?cc=max-age%3D100&age=200")
        c = self.get("/counter?cc=max-age%3D100&age=200")
        self.assertNotEqual(c.header("cache-status"), "porter; hit")

    def test_not_stored(self):
        for q in ("cc=no-store", "cc=private", "cc=max-age%3D60&cookie=1",
                  "cc=max-age%3D60&vary=*"):
            p = "/counter?" + q
            a = self.get(p)
            b = self.get(p)
            self.assertNotEqual(a.body, b.body, q)
            self.assertIn("fwd=miss", b.header("cache-status"), q)

    def test_s_maxage_wins_and_expires(self):
        p = "/counter?cc=max-age%3D0,s-maxage%3D60"
        a = self.get(p)
        self.assertEqual(self.get(p).body, a.body)
        p = "/counter?exp=60"
        a = self.get(p)
        self.assertEqual(self.get(p).body, a.body)
        p = "/counter?exp=bad"          # Expires: 0 is already expired
        a = self.get(p)
        self.assertNotEqual(self.get(p).body, a.body)

    def test_response_rules(self):
        def second(p):
            self.get(p)
            return self.get(p).header("cache-status")
        # must-understand: stored, despite no-store, with a known status
        self.assertEqual(second(
            "/counter?cc=must-understand,no-store,max-age%3D60"),
            "porter; hit")
        # ... and never with an unknown one
        self.assertNotEqual(second(
            "/status/599?cc=must-understand,max-age%3D60"), "porter; hit")
        # a list-valued Age counts by its first member: stale at once
        self.assertNotEqual(second("/counter?cc=max-age%3D3600&age=7200,0"),
                            "porter; hit")
        # heuristic freshness for public responses of any status
        self.assertEqual(second("/status/599?cc=public&lm=1000"),
                         "porter; hit")

    def test_heuristic_freshness(self):
        p = "/counter?lm=100000"        # 10% of ~1 day: fresh
        a = self.get(p)
        self.assertEqual(self.get(p).body, a.body)

    def test_revalidation_with_etag(self):
        p = "/counter?cc=max-age%3D0&etag=v1"
        a = self.get(p)
        self.reset()
        b = self.get(p)
        # the origin said 304: porter served its stored body
        self.assertEqual(b.body, a.body)
        self.assertIn("fwd-status=304", b.header("cache-status"))
        self.assertEqual(self.fetches(), 1)

    def test_no_cache_response_revalidates_every_time(self):
        p = "/counter?cc=no-cache&etag=x"
        a = self.get(p)
        self.reset()
        for _ in range(3):
            self.assertEqual(self.get(p).body, a.body)
        self.assertEqual(self.fetches(), 3)

    def test_request_no_cache_and_max_age(self):
        p = "/counter?cc=max-age%3D60"
        a = self.get(p)
        b = self.get(p, headers={"Cache-Control": "no-cache"})
        self.assertNotEqual(b.body, a.body)    # no validator: refetched
        c = self.get(p, headers={"Pragma": "no-cache"})
        self.assertNotEqual(c.body, b.body)
        # min-fresh asks for more freshness than the object has left
        d = self.get(p, headers={"Cache-Control": "min-fresh=100"})
        self.assertNotEqual(d.body, c.body)
        e = self.get(p)
        self.assertEqual(e.body, d.body)

    def test_only_if_cached(self):
        r = self.get("/counter?cc=max-age%3D60&k=1",
                     headers={"Cache-Control": "only-if-cached"})
        self.assertEqual(r.status, 504)
        self.get("/counter?cc=max-age%3D60&k=2")
        r = self.get("/counter?cc=max-age%3D60&k=2",
                     headers={"Cache-Control": "only-if-cached"})
        self.assertEqual(r.status, 200)

    def test_vary(self):
        p = "/headers?cc=max-age%3D60&vary=Accept-Encoding"
        gz = self.get(p, headers={"Accept-Encoding": "gzip"})
        br = self.get(p, headers={"Accept-Encoding": "br"})
        self.assertIn(b"gzip", gz.body)
        self.assertIn(b"br", br.body)
        again = self.get(p, headers={"Accept-Encoding": "gzip"})
        self.assertEqual(again.body, gz.body)
        self.assertEqual(again.header("cache-status"), "porter; hit")
        again = self.get(p, headers={"Accept-Encoding": "br"})
        self.assertEqual(again.body, br.body)
        # the same values written otherwise find the same variant
        p = "/headers?cc=max-age%3D60&vary=Accept-Encoding,Foo&n=2"
        a = self.get(p, headers={"Accept-Encoding": "gzip, br",
                                 "Foo": "1,2"})
        for ae, foo in (("BR,gzip", " 1 ,  2"), ("br ,GZIP", "1,,2")):
            again = self.get(p, headers={"Accept-Encoding": ae, "Foo": foo})
            self.assertEqual(again.header("cache-status"), "porter; hit")
            self.assertEqual(again.body, a.body)
        other = self.get(p, headers={"Accept-Encoding": "gzip, br",
                                     "Foo": "2,1"})
        self.assertNotEqual(other.header("cache-status"), "porter; hit")

    def test_head_from_get_and_conditional_client(self):
        p = "/bytes/5000?cc=max-age%3D60&etag=abc"
        self.get(p)
        h = Client(self.port)
        r = h.request("HEAD", p)
        self.assertEqual(r.header("content-length"), "5000")
        self.assertEqual(r.header("cache-status"), "porter; hit")
        r = h.request("GET", p, headers={"If-None-Match": '"abc"'})
        self.assertEqual(r.status, 304)
        self.assertEqual(r.body, b"")
        self.assertEqual(r.header("etag"), '"abc"')
        r = h.request("GET", p, headers={"If-None-Match": '"zzz"'})
        self.assertEqual(r.status, 200)
        self.assertEqual(len(r.body), 5000)
        h.close()

    def test_unsafe_method_invalidates(self):
        p = "/counter?cc=max-age%3D60"
        a = self.get(p)
        self.assertEqual(self.get(p).body, a.body)
        c = Client(self.port)
        self.assertEqual(c.request("POST", p, body=b"x").status, 200)
        c.close()
        self.assertNotEqual(self.get(p).body, a.body)

    def big_request(self, method, path, headers, n=200000):
        """A request with Expect: 100-continue and an n-byte body of "x":
        porter reads the body after the head, through a buffer smaller
        than the body, so the head's bytes are long gone unless porter
        keeps them."""
        c = Client(self.port)
        head = "%s %s HTTP/1.1\r\nHost: test\r\n" % (method, path)
        for k, v in headers.items():
            head += "%s: %s\r\n" % (k, v)
        head += "Content-Length: %d\r\nExpect: 100-continue\r\n\r\n" % n
        c.send(head.encode())
        self.assertEqual(c.read_response(interim=True).status, 100)
        c.send(b"x" * n)
        r = c.read_response()
        c.close()
        return r

    def test_large_unsafe_request_invalidates(self):
        p = "/counter?cc=max-age%3D60"
        a = self.get(p)
        self.assertEqual(self.get(p).header("cache-status"), "porter; hit")
        self.assertEqual(self.big_request("POST", p, {}).status, 200)
        b = self.get(p)
        self.assertNotEqual(b.body, a.body)
        self.assertIn("fwd=miss", b.header("cache-status"))

    def test_large_authorized_request_not_shared(self):
        # RFC 9111 3.5: not stored for others without public
        p = "/headers?cc=max-age%3D60"
        r = self.big_request("GET", p, {"Authorization": "Bearer alice"})
        self.assertEqual(r.status, 200)
        self.assertIn(b"Bearer alice", r.body)
        anon = self.get(p)
        self.assertNotIn(b"alice", anon.body)
        self.assertIn("fwd=miss", anon.header("cache-status"))
        # stored, but as Authorization's own variant
        p = "/headers?cc=public,max-age%3D60&vary=Authorization"
        r = self.big_request("GET", p, {"Authorization": "Bearer alice"})
        self.assertIn(b"Bearer alice", r.body)
        anon = self.get(p)
        self.assertNotIn(b"alice", anon.body)
        self.assertIn("fwd=miss", anon.header("cache-status"))
        again = self.get(p, headers={"Authorization": "Bearer alice"})
        self.assertEqual(again.header("cache-status"), "porter; hit")
        self.assertIn(b"Bearer alice", again.body)

    def test_purge(self):
        p = "/counter?cc=max-age%3D60"
        a = self.get(p)
        c = Client(self.port)
        r = c.request("PURGE", p)
        self.assertEqual(r.status, 200)
        r = c.request("PURGE", p)
        self.assertEqual(r.status, 404)
        c.close()
        self.assertNotEqual(self.get(p).body, a.body)
        self.get("/counter?cc=max-age%3D60&a=1")
        self.get("/counter?cc=max-age%3D60&a=2")
        c = Client(self.port)
        r = c.request("PURGE", "/counter*")
        self.assertEqual(r.status, 200)
        self.assertRegex(r.body.decode(), r"purged [2-9]")
        c.close()

    def test_coalescing(self):
        p = "/counter?cc=max-age%3D60&delay=400"
        bodies = []

        def one():
            bodies.append(self.get(p).body)
        ts = [threading.Thread(target=one) for _ in range(8)]
        self.reset()
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        self.assertEqual(len(bodies), 8)
        self.assertEqual(len(set(bodies)), 1)
        self.assertEqual(self.fetches(), 1)

    def test_uncacheable_does_not_queue(self):
        p = "/counter?cc=no-store&delay=600"
        self.get(p)          # learns it is uncacheable (pass marker)
        ts = [threading.Thread(target=self.get, args=(p,))
              for _ in range(3)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        # three workers: at the origin together, not one after another
        # (requests waiting for one fill would reach it one at a time)
        peak = int(harness.get(self.o["o1"].port, "/maxconc").body)
        self.assertGreaterEqual(peak, 2)

    def test_stale_while_revalidate_in_background(self):
        # stale on arrival (Age 20 > max-age 10), inside the SWR window;
        # the origin takes 2 s to answer the refresh
        p = ("/counter?cc=max-age%3D10,stale-while-revalidate%3D60"
             "&age=20&delay=2000")
        self.reset()
        first = self.get(p)
        c = Client(self.port)
        # the stale object at once; this worker refreshes it afterwards
        r = c.request(path=p)
        self.assertEqual(r.header("cache-status"), "porter; hit; detail=stale")
        self.assertEqual(r.body, first.body)
        self.o["o1"].wait_requests(2)      # the refresh is at the origin
        # meanwhile the others get it stale too, without waiting
        r = self.get(p)
        self.assertEqual(r.header("cache-status"), "porter; hit; detail=stale")
        self.assertEqual(r.body, first.body)
        # then the refreshed object replaces it, on the refresher's
        # connection too
        wait_for(lambda: c.request(path=p).body != first.body, 30,
                 what="the refreshed object")
        c.close()

    def test_range_does_not_block_caching(self):
        p = "/bytes/1000?cc=max-age%3D60&r=1"
        self.get(p, headers={"Range": "bytes=0-9"})
        self.get(p)
        self.assertEqual(self.get(p).header("cache-status"), "porter; hit")

    def test_targeted_fields_replace_cache_control(self):
        # CDN-Cache-Control (RFC 9213) and Surrogate-Control speak to
        # porter; the client still sees them and Cache-Control
        for q, stored in (("cc=no-store&cdn=max-age%3D60", True),
                          ("cc=max-age%3D60&cdn=no-store", False),
                          ("cc=max-age%3D60&cdn=private", False),
                          ("cc=no-store&cdn=max-age%3D%2260%22", False),
                          ("cc=no-store&sc=max-age%3D60%3Bdev", True),
                          ("cc=max-age%3D60&sc=no-store", False),
                          ("cc=max-age%3D60&sc=foo", True)):
            p = "/counter?" + q
            a = self.get(p)
            self.assertIsNotNone(a.header("cdn-cache-control") or
                                 a.header("surrogate-control"), q)
            self.assertIsNotNone(a.header("cache-control"), q)
            b = self.get(p)
            self.assertEqual(b.header("cache-status") == "porter; hit",
                             stored, q)

    def test_head_refreshes_or_drops_stale_object(self):
        # RFC 9111 4.3.5: a 200 to a HEAD for a stale object updates it
        # when it describes the same representation
        p = "/counter?cc=max-age%3D0&hcc=max-age%3D600&h=1"
        first = self.get(p)
        r = self.get(p, method="HEAD")
        self.assertEqual(r.status, 200)
        # answered from the refreshed object
        self.assertEqual(r.header("cache-status"),
                         "porter; hit; fwd=stale; fwd-status=200")
        r = self.get(p)
        self.assertEqual(r.header("cache-status"), "porter; hit")
        self.assertEqual(r.body, first.body)
        self.assertEqual(r.header("cache-control"), "max-age=600")
        # a 304 to the HEAD's revalidation does too
        p = "/counter?cc=max-age%3D0&hcc=max-age%3D600&etag=e1&h=2"
        first = self.get(p)
        self.get(p, method="HEAD")
        r = self.get(p)
        self.assertEqual(r.header("cache-status"), "porter; hit")
        self.assertEqual(r.body, first.body)
        # another ETag: the stored object is out of date and goes
        p = "/counter?cc=max-age%3D0&hcc=max-age%3D600&etag=e1&hetag=e2&h=3"
        first = self.get(p)
        self.reset()
        self.get(p, method="HEAD")
        r = self.get(p)
        self.assertNotEqual(r.header("cache-status"), "porter; hit")
        self.assertNotEqual(r.body, first.body)
        self.assertEqual(self.fetches(), 2)

    def test_range_served_from_stored(self):
        p = "/bytes/1000?cc=max-age%3D60&etag=r1&rng=1"
        whole = harness.pattern(1000)
        self.reset()
        self.get(p)
        c = Client(self.port)
        r = c.request(path=p, headers={"Range": "bytes=10-19"})
        self.assertEqual(r.status, 206)
        self.assertEqual(r.header("content-range"), "bytes 10-19/1000")
        self.assertEqual(r.body, whole[10:20])
        self.assertEqual(r.header("cache-status"), "porter; hit")
        r = c.request(path=p, headers={"Range": "bytes=-3"})
        self.assertEqual((r.status, r.body), (206, whole[-3:]))
        r = c.request(path=p, headers={"Range": "bytes=1000-"})
        self.assertEqual(r.status, 416)
        self.assertEqual(r.header("content-range"), "bytes */1000")
        self.assertEqual(r.body, b"")
        # a validator that does not match: the whole response
        r = c.request(path=p, headers={"Range": "bytes=0-1",
                                       "If-Range": '"other"'})
        self.assertEqual((r.status, r.body), (200, whole))
        r = c.request(path=p, headers={"Range": "bytes=0-1",
                                       "If-Range": '"r1"'})
        self.assertEqual((r.status, r.body), (206, whole[:2]))
        c.close()
        self.assertEqual(self.fetches(), 1)

    def test_stored_part_answers_ranges_inside_it(self):
        p = "/bytes/100?cc=max-age%3D60&ranges=1&pt=1"
        whole = harness.pattern(100)
        self.reset()
        c = Client(self.port)
        r = c.request(path=p, headers={"Range": "bytes=-5"})
        self.assertEqual((r.status, r.body), (206, whole[95:]))
        self.assertEqual(r.header("cache-status"), "porter; fwd=miss; stored")
        for rng, first, last in (("bytes=-5", 95, 99), ("bytes=96-98", 96,
                                 98), ("bytes=96-", 96, 99)):
            r = c.request(path=p, headers={"Range": rng})
            self.assertEqual(r.status, 206, rng)
            self.assertEqual(r.header("cache-status"), "porter; hit", rng)
            self.assertEqual(r.header("content-range"),
                             "bytes %d-%d/100" % (first, last), rng)
            self.assertEqual(len(r.headers_named("content-range")), 1)
            self.assertEqual(r.body, whole[first:last + 1], rng)
        r = c.request(path=p, headers={"Range": "bytes=100-"})
        self.assertEqual((r.status, r.header("content-range")),
                         (416, "bytes */100"))
        # outside the part, or no Range: to the server, stored anew
        r = c.request(path=p, headers={"Range": "bytes=0-4"})
        self.assertEqual((r.status, r.body), (206, whole[:5]))
        self.assertNotEqual(r.header("cache-status"), "porter; hit")
        r = c.request(path=p)
        self.assertEqual((r.status, r.body), (200, whole))
        self.assertNotEqual(r.header("cache-status"), "porter; hit")
        r = c.request(path=p, headers={"Range": "bytes=50-59"})
        self.assertEqual((r.status, r.body), (206, whole[50:60]))
        self.assertEqual(r.header("cache-status"), "porter; hit")
        c.close()
        self.assertEqual(self.fetches(), 3)

    def test_uncacheable_markers_do_not_fill_the_store(self):
        for i in range(40):
            self.get("/bytes/10?cookie=1&cc=max-age%%3D60&u=%d" % i)
        p = "/bytes/100?cc=max-age%3D60&after=1"
        self.get(p)
        self.assertEqual(self.get(p).header("cache-status"), "porter; hit")

    def test_too_large_not_stored(self):
        p = "/bytes/300000?cc=max-age%3D60"
        self.get(p)
        self.assertIn("fwd=miss", self.get(p).header("cache-status"))


class StaleTest(PorterTest):
    workers = 2

    def config_body(self):
        return ("[cache]\nsize = 4M\n\n" + super().config_body() +
                "retries = 0\n")

    def test_stale_if_error_with_origin_stopped(self):
        p = "/counter?cc=max-age%3D1,stale-if-error%3D60"
        a = self.get(p)
        self.o["o1"].proc.kill()
        self.o["o1"].proc.wait()
        wait_for(lambda: self.get(p).header("cache-status") ==
                 "porter; hit; detail=stale-if-error", 10, "stale served")
        r = self.get(p)
        self.assertEqual(r.body, a.body)
        self.assertEqual(r.status, 200)

    def test_must_revalidate_never_stale(self):
        p = "/counter?cc=max-age%3D1,must-revalidate,stale-if-error%3D60"
        self.get(p)
        self.o["o1"].proc.kill()
        self.o["o1"].proc.wait()
        wait_for(lambda: self.get(p).status in (502, 504), 10, "error")


class StaleHealthTest(PorterTest):
    """Serving stale on an origin's 5xx still tells passive health."""
    origins = ("o1", "o2")

    def config_body(self):
        return ("[cache]\nsize = 4M\n\n" + super().config_body() +
                "max_fails = 1\nfail_on_5xx = on\nfail_timeout = 30s\n"
                "retries = 0\n")

    def test_failing_servers_marked_down(self):
        p = "/counter?cc=max-age%3D1,stale-if-error%3D60"
        a = self.get(p)
        self.assertEqual(a.status, 200)
        # both servers now answer everything with 500
        for o in self.o.values():
            o.restart(["-S", "500"])
        wait_for(lambda: self.get(p).header("cache-status") ==
                 "porter; hit; detail=stale-if-error", 10, "stale served")
        for _ in range(4):
            r = self.get(p)
            self.assertEqual((r.status, r.body), (200, a.body))
        log = wait_for(lambda: re.findall(r"server \S+ of pool app marked "
                                          r"down", self.porter.log()),
                       10, "servers marked down")
        self.assertGreaterEqual(len(log), 1)


class CacheRobustnessTest(PorterTest):
    workers = 4
    expect_errors = r"killed by signal 9"

    def config_body(self):
        return "[cache]\nsize = 4M\n\n" + super().config_body()

    @harness.serial
    def test_kill_workers_under_load(self):
        from loadgen import Load
        from test_backend import worker_fds
        load = Load(self.port, threads=6, path="/bytes/2000?cc=max-age%3D1",
                    size=2000)
        try:
            for _ in range(8):
                wait_for(lambda: load.count() > 0, what="load")
                pids = list(worker_fds(self.porter))
                try:
                    if pids:
                        os.kill(int(pids[0]), signal.SIGKILL)
                except ProcessLookupError:
                    pass    # the worker killed last time, reaped since
                time.sleep(0.05)
        finally:
            ok, failures = load.stop()
        # killed workers cut some connections; the cache must not wedge
        r = self.get("/bytes/2000?cc=max-age%3D60")
        self.assertEqual(r.status, 200)
        r = self.get("/bytes/2000?cc=max-age%3D60")
        self.assertEqual(r.header("cache-status"), "porter; hit")
        self.assertGreater(ok, 100)


class LongPurgeTest(PorterTest):
    """A prefix PURGE whose target is too long for a cache key is refused:
    it never becomes a purge of everything."""
    workers = 1
    porter_extra = "max_header_size = 128k\nmax_uri_length = 65536\n"

    def config_body(self):
        return "[cache]\nsize = 4M\n\n" + super().config_body()

    def test_overlong_prefix_refused(self):
        paths = ["/counter?cc=max-age%3D60&k=1", "/bytes/10?cc=max-age%3D60"]
        for p in paths:
            self.get(p)
            self.assertEqual(self.get(p).header("cache-status"),
                             "porter; hit")
        c = Client(self.port)
        r = c.request("PURGE", "/" + "a" * 50000 + "*")
        c.close()
        self.assertEqual(r.status, 414)
        for p in paths:
            self.assertEqual(self.get(p).header("cache-status"),
                             "porter; hit", p)


class TlsCutOrigin:
    """An HTTPS origin on 127.0.0.1 that answers every request with a
    close-delimited 200, storable, then closes: after its close_notify
    for /clean, without one (an unclean EOF) for anything else."""

    def __init__(self, cert, key):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.lsock = socket.create_server(("127.0.0.1", 0))
        self.lsock.settimeout(0.2)
        self.port = self.lsock.getsockname()[1]
        self.fetches = {}
        self.running = True
        self.t = threading.Thread(target=self.serve, daemon=True)
        self.t.start()

    def serve(self):
        while self.running:
            try:
                raw, _ = self.lsock.accept()
            except OSError:
                continue
            raw.settimeout(5)
            try:
                s = self.ctx.wrap_socket(raw, server_side=True)
                head = b""
                while b"\r\n\r\n" not in head:
                    d = s.recv(4096)
                    if not d:
                        raise OSError("closed")
                    head += d
                path = head.split(b" ")[1].decode()
                self.fetches[path] = self.fetches.get(path, 0) + 1
                s.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                          b"Cache-Control: max-age=60\r\n"
                          b"Connection: close\r\n\r\nbody of " +
                          path.encode() + b"\n")
                if path.startswith("/clean"):
                    s = s.unwrap()      # close_notify
                s.close()               # Python's close sends none
            except (OSError, ssl.SSLError):
                raw.close()

    def stop(self):
        self.running = False
        self.t.join(10)
        self.lsock.close()


def raw_get(port, path, version="1.0"):
    """The whole answer to one request, read until porter closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(("GET %s HTTP/%s\r\nHost: t\r\nConnection: close\r\n"
                   "\r\n" % (path, version)).encode())
        out = b""
        while True:
            d = s.recv(65536)
            if not d:
                return out
            out += d


class TlsCutTest(PorterTest):
    """A close-delimited body from a TLS backend is stored only when the
    backend ended it with close_notify: an unclean EOF may be a cut."""
    origins = ()
    workers = 1

    @classmethod
    def setUpClass(cls):
        cls.certs = tempfile.mkdtemp(prefix="porter-cut.")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-keyout",
                        os.path.join(cls.certs, "o.key"), "-out",
                        os.path.join(cls.certs, "o.pem"), "-days", "2",
                        "-subj", "/CN=origin.test"], check=True,
                       capture_output=True, timeout=60)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.certs, ignore_errors=True)

    def setUp(self):
        self.be = TlsCutOrigin(os.path.join(self.certs, "o.pem"),
                               os.path.join(self.certs, "o.key"))
        # cleanups run after tearDown, and also when setUp fails
        self.addCleanup(self.be.stop)
        super().setUp()

    def config_body(self):
        return ("[cache]\nsize = 4M\n\n[pool app]\n"
                "server = 127.0.0.1:%d\ntls = on\ntls_verify = off\n"
                "retries = 0\n" % self.be.port)

    def test_clean_end_stored(self):
        a = raw_get(self.port, "/clean")
        self.assertIn(b"\r\n\r\nbody of /clean\n", a)
        b = raw_get(self.port, "/clean")
        self.assertIn(b"Cache-Status: porter; hit", b)
        self.assertEqual(self.be.fetches["/clean"], 1)

    def test_unclean_end_not_stored(self):
        a = raw_get(self.port, "/cut")
        self.assertIn(b"body of /cut\n", a)
        b = raw_get(self.port, "/cut")
        self.assertNotIn(b"porter; hit", b)
        self.assertEqual(self.be.fetches["/cut"], 2)
        # an HTTP/1.1 client gets no last chunk: the cut shows
        c = raw_get(self.port, "/cut", "1.1")
        self.assertIn(b"body of /cut\n", c)
        self.assertFalse(c.endswith(b"0\r\n\r\n"))


class PassMarksTest(PorterTest):
    """Hit-for-pass marks that live long cannot crowd objects out of a
    small store."""
    workers = 1

    def config_body(self):
        return ("[cache]\nsize = 64k\npass_ttl = 1h\n\n" +
                super().config_body())

    def test_marks_give_way(self):
        for i in range(40):
            self.get("/bytes/10?cookie=1&cc=max-age%%3D60&u=%d" % i)
        p = "/bytes/100?cc=max-age%3D60&after=1"
        self.get(p)
        self.assertEqual(self.get(p).header("cache-status"), "porter; hit")


class StaleIfErrorDefaultTest(PorterTest):
    """[cache] stale_if_error: stale objects stand in for a failed server
    even when their responses did not say stale-if-error."""

    def config_body(self):
        return ("[cache]\nsize = 8M\nstale_if_error = 1h\n\n" +
                super().config_body())

    def test_origin_stopped(self):
        p = "/counter?cc=max-age%3D1"
        a = self.get(p)
        q = "/counter?cc=max-age%3D1,must-revalidate"
        self.get(q)
        self.o["o1"].proc.kill()
        self.o["o1"].proc.wait()
        wait_for(lambda: self.get(p).header("cache-status") ==
                 "porter; hit; detail=stale-if-error", 10, "stale served")
        r = self.get(p)
        self.assertEqual((r.status, r.body), (200, a.body))
        # must-revalidate still means never stale
        self.assertEqual(self.get(q).status, 502)


class CacheIdentityTest(PorterTest):
    """Answers from the cache look like forwarded ones: Server, hidden
    fields and the route's response edits, and the access log says so."""
    porter_extra = ("hide_headers = X-Origin\n"
                    "access_log_format = $status $cache\n")

    def config_body(self):
        return ("[cache]\nsize = 8M\n\n" + super().config_body() +
                "[route r]\npool = app\ncache = on\n"
                "add_response_header = X-Served-By: edge\n"
                "remove_response_header = X-Req\n")

    def test_hit_like_miss(self):
        p = "/counter?cc=max-age%3D60"
        for want in ("porter; fwd=miss; stored", "porter; hit"):
            r = self.get(p)
            self.assertEqual(r.header("cache-status"), want)
            self.assertEqual(r.header("server"), "porter")
            self.assertEqual(len(r.headers_named("server")), 1)
            self.assertIsNone(r.header("x-origin"))
            self.assertIsNone(r.header("x-req"))
            self.assertEqual(r.header("x-served-by"), "edge")
        # a 304 made from the stored object gets them too
        r = self.get(p, headers={"If-None-Match": "*"})
        self.assertEqual(r.status, 304)
        self.assertEqual(r.header("x-served-by"), "edge")
        self.assertIsNone(r.header("x-origin"))
        wait_for(lambda: len(self.porter.access()) >= 3, what="access log")
        lines = self.porter.access()
        # two workers write these: in any order
        self.assertEqual(sorted(lines),
                         ["200 fwd=miss; stored", "200 hit", "304 hit"])


if __name__ == "__main__":
    harness.main()
