"""Protecting the servers: identity hiding, error pages, route filters on
normalized paths, rate limits and per-address connection limits shared
by all workers, slow clients, the PROXY protocol."""
import os
import socket
import tempfile
import threading
import time
import unittest

import harness
from harness import PorterTest, Client, wait_for
from test_backend import worker_fds


class ErrorPageBase(PorterTest):
    """An error_page file for 404 (page_text), and a route that answers
    only Host known.test, so that other hosts get the 404."""
    page_text = "<p>we are sorry</p>\n"
    page_extra = ""

    def setUp(self):
        self.page = tempfile.NamedTemporaryFile("w", suffix=".html",
                                                delete=False)
        self.page.write(self.page_text)
        self.page.close()
        self.porter_extra = ("error_page = 404 %s\n%s" %
                             (self.page.name, self.page_extra))
        super().setUp()

    def tearDown(self):
        os.unlink(self.page.name)
        super().tearDown()

    def config_body(self):
        return super().config_body() + \
            "[route r]\nhost = known.test\npool = app\n"


class IdentityTest(ErrorPageBase):
    page_extra = "hide_headers = X-Powered-By X-Origin\n"

    def test_server_hidden(self):
        r = self.get("/headers", headers={"Host": "known.test"})
        self.assertEqual(r.header("server"), "porter")
        self.assertIsNone(r.header("x-origin"))
        r = self.get("/", headers={"Host": "unknown.test"})
        self.assertEqual(r.status, 404)
        self.assertEqual(r.body, b"<p>we are sorry</p>\n")

    def test_interim_response_hides_too(self):
        c = Client(self.port)
        c.send(b"GET /continue HTTP/1.1\r\nHost: known.test\r\n\r\n")
        r = c.read_response(interim=True)
        self.assertEqual(r.status, 103)
        self.assertEqual(r.header("link"), "</x>")
        self.assertIsNone(r.header("server"))
        self.assertIsNone(r.header("x-origin"))
        r = c.read_response()
        self.assertEqual((r.status, r.header("server")), (200, "porter"))
        self.assertIsNone(r.header("x-origin"))
        c.close()


class BigErrorPageTest(ErrorPageBase):
    """An error_page as large as the key allows is sent whole, with the
    smallest buffers."""
    page_text = "<p>" + "s" * (65536 - 8) + "</p>\n"
    page_extra = "max_header_size = 1k\n"

    def test_whole_page_and_keepalive(self):
        self.text = self.page_text
        self.assertEqual(len(self.text), 65536)
        c = Client(self.port)
        for _ in range(2):
            r = c.request(path="/", headers={"Host": "unknown.test"})
            self.assertEqual(r.status, 404)
            self.assertEqual(r.body, self.text.encode())
        r = c.request("HEAD", "/", headers={"Host": "unknown.test"})
        self.assertEqual(r.header("content-length"), str(len(self.text)))
        c.close()


class NoTokensTest(PorterTest):
    porter_extra = "server_tokens = off\n"

    def test_no_server(self):
        self.assertIsNone(self.get("/bytes/1").header("server"))
        self.assertIsNone(self.get("/bytes/1").header("x-powered-by"))


class FilterTest(PorterTest):
    origins = ("app", "adm")

    def config_body(self):
        return ("[pool app]\nserver = %s\n[pool adm]\nserver = %s\n"
                "[route admin]\npath = /admin\npool = adm\n"
                "allow = 10.0.0.0/8\n"
                "[route ro]\npath = /ro/\npool = app\n"
                "allow_methods = GET HEAD\n"
                "[route secret]\npath = /files/\npool = app\n"
                "deny_path_regex = \\.(git|env)(/|$)\n"
                "deny_header = X-Evil\n"
                "[route denied]\npath = /lan/\npool = app\n"
                "deny = 127.0.0.0/8\n"
                "[route all]\npool = app\n" %
                (self.o["app"].hostport, self.o["adm"].hostport))

    def test_allow_deny(self):
        self.assertEqual(self.get("/admin/x").status, 403)
        self.assertEqual(self.get("/lan/x").status, 403)
        self.assertEqual(self.get("/other").status, 404)   # at the origin

    def test_normalized_paths_cannot_sneak_in(self):
        for p in ("/./admin/x", "/%61dmin/x", "//admin/x", "/a/../admin/x",
                  "/%2e/admin/x", "/ro/../admin/x"):
            r = self.get(p)
            self.assertEqual(r.status, 403, p)
        for p in ("/%2561dmin/x", "/../admin", "/a/../../admin", "/x%00",
                  "/x%zz"):
            r = self.get(p)
            self.assertEqual(r.status, 400, p)

    def test_methods(self):
        self.assertEqual(self.get("/ro/bytes").status, 404)
        c = Client(self.port)
        r = c.request("POST", "/ro/x", body=b"a")
        self.assertEqual(r.status, 405)
        self.assertEqual(r.header("allow"), "GET, HEAD")
        r = c.request("GET", "/ro/x")
        self.assertEqual(r.status, 404)
        c.close()

    def test_deny_path_and_header(self):
        self.assertEqual(self.get("/files/.git/config").status, 403)
        self.assertEqual(self.get("/files/%2egit/config").status, 403)
        self.assertEqual(self.get("/files/x.env").status, 403)
        self.assertEqual(self.get("/files/ok").status, 404)
        self.assertEqual(self.get("/files/ok", headers={"X-Evil": "1"})
                         .status, 403)


class EarlyAnswerTest(PorterTest):
    """An answer given before the request's body was read reaches a
    client still uploading it: porter reads and drops the rest before it
    closes (lingering close), so no reset destroys the answer."""
    porter_extra = "client_max_body_size = 1M\n"

    def config_body(self):
        return super().config_body() + (
            "[route denied]\npath = /lan/\npool = app\n"
            "deny = 127.0.0.0/8\n"
            "[route ro]\npath = /ro/\npool = app\n"
            "allow_methods = GET HEAD\n"
            "[route all]\npool = app\n")

    def upload(self, path, n=8 << 20, chunked=False):
        """POST n bytes from one thread while reading the answer in
        another, as an uploading client does."""
        c = Client(self.port)
        if chunked:
            head = ("POST %s HTTP/1.1\r\nHost: t\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n" % path)
            piece = b"10000\r\n" + b"x" * 0x10000 + b"\r\n"
            data = head.encode() + piece * (n // 0x10000) + b"0\r\n\r\n"
        else:
            head = ("POST %s HTTP/1.1\r\nHost: t\r\n"
                    "Content-Length: %d\r\n\r\n" % (path, n))
            data = head.encode() + b"x" * n
        errors = []

        def send():
            try:
                c.send(data)
            except OSError as e:
                errors.append(e)
        t = threading.Thread(target=send)
        t.start()
        try:
            r = c.read_response()
        finally:
            t.join(60)
            c.close()
        return r, errors

    def test_answers_survive_the_upload(self):
        for path, n, chunked, want in (("/lan/x", 1 << 20, False, 403),
                                       ("/ro/x", 1 << 20, False, 405),
                                       ("/echo", 8 << 20, False, 413),
                                       ("/echo", 8 << 20, True, 413)):
            r, errors = self.upload(path, n, chunked)
            self.assertEqual(r.status, want, path)
            self.assertEqual(r.header("connection"), "close", path)
            self.assertIn(b"%d" % want, r.body, path)
            self.assertEqual(errors, [], path)
        self.assertEqual(self.get("/bytes/3").status, 200)


class RateLimitTest(PorterTest):
    workers = 4

    def config_body(self):
        return super().config_body() + (
            "[route limited]\npath = /bytes/\npool = app\n"
            "rate_limit = 5r/s burst=5\n"
            "[route keyed]\npath = /status/\npool = app\n"
            "rate_limit = 2r/s burst=2\nrate_limit_key = header:X-Key\n"
            "[route rest]\npool = app\n")

    def test_token_bucket_limits_and_refills(self):
        rs = [self.get("/bytes/1") for _ in range(12)]
        codes = [r.status for r in rs]
        self.assertEqual(codes[:5], [200] * 5)
        self.assertIn(429, codes)
        for r in rs:
            if r.status == 429:
                self.assertRegex(r.header("retry-after"), r"^[1-9]\d*$")
        # tokens come back with time
        wait_for(lambda: self.get("/bytes/1").status == 200, 10, "refill")
        # other routes are not limited
        self.assertEqual(self.get("/headers").status, 200)

    def test_token_bucket_shared_by_workers(self):
        # A worker serves one connection at a time, so four connections
        # open at once are served by four workers.  Twelve requests
        # spread over them are three per worker: within any one
        # worker's burst of 5, so a 429 shows the bucket is one for all.
        cs = []
        for _ in range(4):
            cs.append(Client(self.port))
            self.assertEqual(cs[-1].request(path="/headers").status, 200)
        codes = [cs[i % 4].request(path="/bytes/1").status
                 for i in range(12)]
        for c in cs:
            c.close()
        self.assertEqual(codes[:5], [200] * 5)
        self.assertIn(429, codes)

    def test_keyed_by_header(self):
        a = [self.get("/status/200", headers={"X-Key": "a"}).status
             for _ in range(4)]
        b = [self.get("/status/200", headers={"X-Key": "b"}).status
             for _ in range(2)]
        self.assertIn(429, a)
        self.assertEqual(b, [200, 200])


class ConnsPerIpTest(PorterTest):
    workers = 8
    porter_extra = ("max_conns_per_ip = 3\nmin_spare_workers = 0\n"
                    "client_header_timeout = 20s\n")

    def test_excess_closed_at_once(self):
        socks = [socket.create_connection(("127.0.0.1", self.port), 10)
                 for _ in range(4)]

        def closed(s):
            s.settimeout(0.05)
            try:
                return s.recv(100) == b""
            except socket.timeout:
                return False
            except OSError:
                return True
        # whichever came last of the four is closed by porter, at once
        shut = wait_for(lambda: (lambda n: n if n else None)(
            [s for s in socks if closed(s)]), 10, "one closed")
        self.assertEqual(len(shut), 1)
        for s in socks:
            s.close()

        def served():
            # until the workers notice the closes, porter may still
            # count them and close this one too
            try:
                return self.get("/bytes/1").status == 200
            except (OSError, EOFError):
                return False
        wait_for(served, 20, "free")


class SlowlorisTest(PorterTest):
    workers = 4
    porter_extra = ("max_conns_per_ip = 8\nmin_spare_workers = 2\n"
                    "max_spare_workers = 4\nmax_workers = 32\n"
                    "client_header_timeout = 30s\n")

    @harness.serial
    def test_dribbling_clients_do_not_starve_others(self):
        socks = []
        for _ in range(300):
            try:
                s = socket.create_connection(("127.0.0.1", self.port), 5)
                s.sendall(b"GET / HTTP/1.1\r\n")
                socks.append(s)
            except OSError:
                pass
        # a normal client from another loopback address is served
        worst = 0
        for _ in range(50):
            t0 = time.monotonic()
            s = socket.socket()
            s.bind(("127.0.0.2", 0))
            s.settimeout(10)
            s.connect(("127.0.0.1", self.port))
            s.sendall(b"GET /bytes/10 HTTP/1.1\r\nHost: t\r\n"
                      b"Connection: close\r\n\r\n")
            data = b""
            while True:
                d = s.recv(4096)
                if not d:
                    break
                data += d
            s.close()
            self.assertIn(b"200 OK", data)
            worst = max(worst, time.monotonic() - t0)
        # the attacker holds at most max_conns_per_ip connections: porter
        # closed every other one it accepted
        def still_open():
            n = 0
            for s in socks:
                try:
                    if s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT):
                        n += 1      # an answer (408): closing soon
                except BlockingIOError:
                    n += 1
                except OSError:
                    pass
            return n
        wait_for(lambda: still_open() <= 8, 30, "attacker cut to 8")
        self.assertLessEqual(len(worker_fds(self.porter)), 32 + 1)
        for s in socks:
            s.close()
        # No worker is freed by a timeout here (client_header_timeout is
        # 30 s): a normal request is either answered by a free worker at
        # once or not at all.  3 s is far above a loaded machine's once.
        self.assertLess(worst, 3.0)


class MinRateTest(PorterTest):
    porter_extra = "client_min_rate = 1000\n"

    def test_trickling_body_gets_408(self):
        c = Client(self.port)
        c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\n"
               b"Content-Length: 100000\r\n\r\n")
        t0 = time.monotonic()
        answer = None
        # 20 bytes a second, far under the floor; porter gives up after
        # its five second grace (bounded here at 30 s)
        while time.monotonic() - t0 < 30:
            try:
                c.send(b"x" * 10)
            except OSError:
                break
            c.sock.settimeout(0.5)
            try:
                d = c.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                break
            answer = d
            break
        c.close()
        self.assertIsNotNone(answer)
        self.assertTrue(answer.startswith(b"HTTP/1.1 408"), answer[:40])
        self.assertGreaterEqual(time.monotonic() - t0, 4.5)


class SeccompTest(PorterTest):
    """Every worker path under the allow-list: a call outside it would
    kill the worker (SIGSYS), which the master logs as an error."""
    workers = 2
    porter_extra = "seccomp = on\n"

    def config_body(self):
        return "[cache]\nsize = 1M\n\n" + super().config_body()

    def test_workers_live_through_everything(self):
        import signal as sig
        c = Client(self.port)
        for p in ("/bytes/100000", "/bytes/1000000",
                  "/chunked/50000?trailer=1", "/close/3000",
                  "/counter?cc=max-age%3D60", "/counter?cc=max-age%3D60",
                  "/headers", "/status/204"):
            self.assertLess(c.request(path=p).status, 300, p)
        self.assertEqual(c.request("POST", "/echo", body=b"x" * 70000)
                         .body, b"x" * 70000)
        c.close()
        self.porter.kill(sig.SIGUSR1)
        wait_for(lambda: "reopening" in self.porter.log(), what="reopen")
        for _ in range(5):
            self.assertEqual(self.get("/bytes/10").status, 200)
        self.assertNotIn("killed by signal", self.porter.log())
        # the plain build must have the filter on in every worker; a
        # sanitizer build says it is off (and is, then the check skips)
        sanitized = harness.sanitized()
        self.assertEqual("seccomp is off in a sanitizer build" in
                         self.porter.log(), sanitized)
        for pid in worker_fds(self.porter):
            with open("/proc/%s/status" % pid) as f:
                self.assertIn("Seccomp:\t%d" % (0 if sanitized else 2),
                              f.read())
        if sanitized:
            self.skipTest(harness.SECCOMP_ASAN)


class TrustedProxiesTest(PorterTest):
    porter_extra = "trusted_proxies = 127.0.0.0/8 10.0.0.0/8\n"

    def config_body(self):
        return super().config_body() + (
            "[route lan]\npath = /lan/\npool = app\ndeny = 192.0.2.0/24\n"
            "[route rest]\npool = app\n")

    def test_real_client_from_forwarded_for(self):
        r = self.get("/lan/x", headers={
            "X-Forwarded-For": "192.0.2.9, 10.1.1.1"})
        self.assertEqual(r.status, 403)      # the real client is denied
        r = self.get("/lan/x", headers={
            "X-Forwarded-For": "198.51.100.1, 192.0.2.9"})
        self.assertEqual(r.status, 403)
        r = self.get("/lan/x", headers={"X-Forwarded-For": "203.0.113.5"})
        self.assertEqual(r.status, 404)      # allowed: at the origin
        wait_for(lambda: any(l.startswith("203.0.113.5 ") for l in
                             self.porter.access()), what="log")


class ProxyProtocolTest(PorterTest):
    listen_extra = "proxy_protocol = on\n"

    def raw(self, prefix):
        s = socket.create_connection(("127.0.0.1", self.port), 10)
        s.sendall(prefix + b"GET /headers HTTP/1.1\r\nHost: t\r\n"
                  b"Connection: close\r\n\r\n")
        s.settimeout(10)
        data = b""
        try:
            while True:
                d = s.recv(65536)
                if not d:
                    break
                data += d
        except OSError:
            pass
        s.close()
        return data

    def test_v1_and_v2(self):
        d = self.raw(b"PROXY TCP4 10.1.2.3 10.9.9.9 5555 80\r\n")
        self.assertIn(b"X-Forwarded-For: 10.1.2.3", d)
        v2 = (b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x11, 0, 12]) +
              bytes([192, 0, 2, 7, 10, 0, 0, 1]) + (4242).to_bytes(2, "big")
              + (80).to_bytes(2, "big"))
        d = self.raw(v2)
        self.assertIn(b"X-Forwarded-For: 192.0.2.7", d)
        d = self.raw(b"PROXY UNKNOWN\r\n")
        self.assertIn(b"X-Forwarded-For: 127.0.0.1", d)
        # no header: closed without an answer
        self.assertEqual(self.raw(b""), b"")
        wait_for(lambda: any("10.1.2.3" in l for l in
                             self.porter.access()), what="log")


if __name__ == "__main__":
    harness.main()
