"""Request bodies spooled by the gate: a body that has not arrived within
park_after is read by the gate, not by a worker, and the backend gets it
whole with a Content-Length, or not at all.  One worker in all, so that
an upload the worker read itself would keep every other client waiting."""
import hashlib
import http.server
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

import harness
from harness import PorterTest, Client, pattern, wait_for


def metric(text, name):
    m = re.search(r"^%s (\d+)$" % re.escape(name), text, re.M)
    return int(m.group(1)) if m else None


def sha(b):
    return hashlib.sha256(b).hexdigest()


def chunked(body, pieces=3, trailer=b"X-Sum: 1\r\n"):
    """body in chunked coding, with a chunk extension and a trailer."""
    out, step = b"", max(1, len(body) // pieces)
    for i in range(0, len(body), step):
        part = body[i:i + step]
        out += b"%x;e=1\r\n" % len(part) + part + b"\r\n"
    return out + b"0\r\n" + trailer + b"\r\n"


class SpoolBase(PorterTest):
    workers = 1
    spool_extra = ""
    body_timeout = "10s"

    def setUp(self):
        # the spool directory exists before porter starts, as make
        # install makes it
        self.spool = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                                  "porter-spool.%d.%d" % (os.getpid(),
                                                           id(self)))
        os.mkdir(self.spool, 0o700)
        self.addCleanup(os.rmdir, self.spool)
        self.porter_extra = ("spool_dir = %s\nclient_body_timeout = %s\n"
                             % (getattr(self, "spool_fs", self.spool),
                                self.body_timeout) +
                             self.spool_extra)
        self.polls = 0
        super().setUp()

    def config_body(self):
        return super().config_body() + "[admin]\naddress = 127.0.0.1:0\n"

    def m(self, name):
        # the admin address is served by the same single worker
        return metric(self.admin_get("/metrics").body.decode(), name)

    def spooled(self):
        return metric(self.admin_get("/metrics").body.decode(),
                      'porter_spool_total{event="spooled"}')

    def refused(self):
        return metric(self.admin_get("/metrics").body.decode(),
                      'porter_spool_total{event="refused"}')

    def uploading(self, n):
        wait_for(lambda: self.m("porter_spool_uploads") == n, timeout=10,
                 what="%d uploads spooling" % n)

    def hits(self):
        """Requests the origin had, besides these polls."""
        self.polls += 1
        return int(harness.get(self.o["o1"].port, "/hits").body) - \
            self.polls

    def quick_get(self):
        t0 = time.monotonic()
        c = Client(self.port, timeout=5)
        r = c.request(path="/bytes/4")
        c.close()
        self.assertEqual(r.status, 200)
        self.assertLess(time.monotonic() - t0, 2)

    def client_from(self, addr):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(20)
        s.bind((addr, 0))
        s.connect(("127.0.0.1", self.port))
        c = Client.__new__(Client)
        c.sock, c.buf = s, b""
        return c

    def slow_put(self, body, head_extra=b"", framed=None, addr=None):
        """Send the head and a first part, wait until the gate spools it,
        then the rest: the response."""
        c = self.client_from(addr) if addr else Client(self.port)
        wire = framed if framed is not None else body
        te = b"Transfer-Encoding: chunked\r\n" if framed is not None else \
            b"Content-Length: %d\r\n" % len(body)
        before = self.spooled()
        others = self.m("porter_spool_uploads")
        c.send(b"PUT /echo HTTP/1.1\r\nHost: t\r\n" + te + head_extra +
               b"\r\n" + wire[:7])
        self.uploading(others + 1)
        self.quick_get()
        c.send(wire[7:])
        r = c.read_response()
        c.close()
        self.assertEqual(self.spooled(), before + 1)
        return r


class SpoolTest(SpoolBase):
    spool_extra = "client_max_body_size = 200k\n"

    def check(self, r, body):
        self.assertEqual(r.status, 200)
        self.assertEqual(sha(r.body), sha(body))
        # the backend heard a Content-Length, however the client framed it
        self.assertEqual(r.header("x-echo-framing"), "length")
        self.assertEqual(int(r.header("x-echo-length")), len(body))

    def test_length_bodies_byte_exact(self):
        # around the memory bound (16k), the inline bound (48k) and
        # client_max_body_size (200k)
        for n in (8, 16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1, 48 * 1024,
                  300000 // 2, 200 * 1024):
            body = os.urandom(n)
            self.check(self.slow_put(body), body)
        self.assertEqual(self.m("porter_spool_bytes"), 0)

    def test_chunked_bodies_byte_exact(self):
        for n in (5, 16 * 1024, 16 * 1024 + 1, 100000, 200 * 1024):
            body = os.urandom(n)
            self.check(self.slow_put(body, framed=chunked(body, 5)), body)

    def test_fast_bodies_unchanged(self):
        # whole within park_after: read by the worker as before
        before = self.spooled()
        c = Client(self.port)
        for n in (10, 40000):
            body = os.urandom(n)
            r = c.request("PUT", "/echo", body=body)
            self.assertEqual(sha(r.body), sha(body))
            r = c.request("PUT", "/echo", body=chunked(body),
                          headers={"Transfer-Encoding": "chunked"})
            self.assertEqual(sha(r.body), sha(body))
        c.close()
        self.assertEqual(self.spooled(), before)

    def test_fast_big_body_spooled(self):
        # more than the worker's buffer: spooled at once, whole
        body = os.urandom(1024 * 190)
        c = Client(self.port)
        r = c.request("PUT", "/echo", body=body)
        self.check(r, body)
        # the connection stays, and the next request on it is served
        self.assertEqual(c.request(path="/bytes/5").body, pattern(5))
        c.close()

    def test_pipelined_after_spooled_body(self):
        body = os.urandom(30000)
        c = Client(self.port)
        c.send(b"PUT /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n"
               b"\r\n" % len(body) + body[:100])
        self.uploading(1)
        c.send(body[100:] + b"GET /bytes/6 HTTP/1.1\r\nHost: t\r\n\r\n")
        self.check(c.read_response(), body)
        self.assertEqual(c.read_response().body, pattern(6))
        c.close()

    def test_100_continue(self):
        body = os.urandom(50000)
        c = Client(self.port)
        c.send(b"PUT /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
               b"Content-Length: %d\r\n\r\n" % len(body))
        r = c.read_response(interim=True)
        self.assertEqual(r.status, 100)
        c.send(body[:10])
        self.uploading(1)
        self.quick_get()
        c.send(body[10:])
        r = c.read_response()
        self.check(r, body)
        c.close()

    def test_too_big_chunked_413(self):
        # 300k in two chunks: the second goes past 200k
        wire = chunked(os.urandom(300 * 1024), 2)
        c = Client(self.port)
        c.send(b"PUT /echo HTTP/1.1\r\nHost: t\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n" + wire[:100])
        self.uploading(1)
        try:
            c.send(wire[100:])
        except OSError:
            pass        # answered and closed before the rest went
        self.assertEqual(c.read_response().status, 413)
        c.close()
        self.uploading(0)
        self.assertEqual(self.hits(), 0)

    def test_trailer_split_across_reads(self):
        # the gate keeps the start of a trailer line until its end comes
        c = Client(self.port)
        c.send(b"PUT /echo HTTP/1.1\r\nHost: t\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        self.uploading(1)
        c.send(b"0\r\nX-Sum: " + b"a" * 2000)
        time.sleep(0.2)     # read apart, most likely; right either way
        c.send(b"b" * 1000 + b"\r\nX-Two: 2\r\n\r\n")
        self.check(c.read_response(), b"hello")
        # a trailer line longer than the decoder takes: 400
        c = Client(self.port)
        c.send(b"PUT /echo HTTP/1.1\r\nHost: t\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        self.uploading(1)
        try:
            c.send(b"0\r\nX-Sum: " + b"a" * 9000)
        except OSError:
            pass
        self.assertEqual(c.read_response().status, 400)
        c.close()
        self.assertEqual(self.hits(), 1)

    def test_malformed_chunked_400(self):
        c = Client(self.port)
        c.send(b"PUT /echo HTTP/1.1\r\nHost: t\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n5\r\nab")
        self.uploading(1)
        c.send(b"cde\r\nzz\r\n")
        self.assertEqual(c.read_response().status, 400)
        c.close()
        self.assertEqual(self.hits(), 0)

    def test_client_abort_reaches_no_backend(self):
        for te in (b"Content-Length: 100000\r\n",
                   b"Transfer-Encoding: chunked\r\n"):
            c = Client(self.port)
            c.send(b"PUT /echo HTTP/1.1\r\nHost: t\r\n" + te + b"\r\n" +
                   (b"8000\r\n" if b"chunked" in te else b"") +
                   b"x" * 20000)
            self.uploading(1)
            c.close()
            self.uploading(0)
        self.assertEqual(self.m("porter_spool_bytes"), 0)
        self.assertEqual(self.hits(), 0)
        self.assertIn("closed while sending the request body",
                      self.porter.log())

    def test_spool_file_has_no_name(self):
        body = os.urandom(100000)
        c = Client(self.port)
        c.send(b"PUT /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n"
               b"\r\n" % len(body) + body[:60000])
        self.uploading(1)
        gate = int(re.findall(r"gate (\d+) started", self.porter.log())[-1])

        def spool_fds():
            out = []
            for fd in os.listdir("/proc/%d/fd" % gate):
                try:
                    t = os.readlink("/proc/%d/fd/%s" % (gate, fd))
                except OSError:
                    continue
                if t.startswith(self.spool + "/"):
                    out.append(t)
            return out
        # past the memory bound: a file in spool_dir, with no name there
        wait_for(spool_fds, what="the gate's spool file")
        self.assertEqual(os.listdir(self.spool), [])
        self.assertTrue(all(t.endswith("(deleted)") for t in spool_fds()))
        c.send(body[60000:])
        self.check(c.read_response(), body)
        c.close()

    def test_reload_mid_spool_loses_nothing(self):
        body = os.urandom(120000)
        c = Client(self.port)
        c.send(b"PUT /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n"
               b"\r\n" % len(body) + body[:50000])
        self.uploading(1)
        self.porter.kill(signal.SIGHUP)
        wait_for(lambda: "configuration reloaded: generation 1" in
                 self.porter.log(), what="reload")
        c.send(body[50000:])
        self.check(c.read_response(), body)
        c.close()


class SpoolTimeoutTest(SpoolBase):
    body_timeout = "1s"

    def test_body_timeout_408(self):
        c = Client(self.port)
        c.send(b"PUT /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n"
               b"\r\nabc")
        self.uploading(1)
        r = c.read_response()
        self.assertEqual(r.status, 408)
        c.close()
        self.assertEqual(self.hits(), 0)
        self.assertIn("timed out sending the request body",
                      self.porter.log())


class SpoolMinRateTest(SpoolBase):
    spool_extra = "client_min_rate = 1000\n"

    def test_too_slow_408(self):
        c = Client(self.port)
        c.send(b"PUT /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n"
               b"\r\nabc")
        self.uploading(1)
        # a byte every half second: far under 1000 bytes/s, and judged
        # after the grace of 5 s, on a read
        t0 = time.monotonic()
        r = None
        while r is None and time.monotonic() - t0 < 15:
            try:
                c.send(b"x")
            except OSError:
                break
            c.sock.settimeout(0.5)
            try:
                r = c.read_response()
            except socket.timeout:
                pass
        if r is None:
            c.sock.settimeout(10)
            r = c.read_response()
        self.assertEqual(r.status, 408)
        self.assertGreater(time.monotonic() - t0, 4)
        c.close()
        self.assertEqual(self.hits(), 0)
        self.assertIn("slower than client_min_rate", self.porter.log())


class SpoolDiskFullTest(SpoolBase):
    """spool_dir on a 64k tmpfs: a body that fills it is a clean 503,
    said in the log once, and nothing reaches the backend."""

    def setUp(self):
        self.mnt = tempfile.mkdtemp(prefix="porter-spool-fs.")
        self.addCleanup(os.rmdir, self.mnt)
        if subprocess.call(["mount", "-t", "tmpfs", "-o",
                            "size=64k,mode=0700", "tmpfs", self.mnt],
                           stderr=subprocess.DEVNULL) != 0:
            self.skipTest("cannot mount a tmpfs here")
        self.addCleanup(subprocess.call, ["umount", self.mnt])
        self.spool_fs = self.mnt
        super().setUp()

    def test_disk_full_503_logged_once(self):
        for i in range(2):
            c = Client(self.port)
            c.send(b"PUT /echo HTTP/1.1\r\nHost: t\r\n"
                   b"Content-Length: 200000\r\n\r\n" + b"x" * 10)
            self.uploading(1)
            try:
                c.send(b"x" * 199990)
            except OSError:
                pass
            self.assertEqual(c.read_response().status, 503)
            c.close()
            self.uploading(0)
        self.assertEqual(self.porter.log().count(
            "writing a request body to spool_dir"), 1)
        self.assertEqual(self.hits(), 0)
        # and a body that fits still goes
        body = os.urandom(30000)
        self.assertEqual(sha(self.slow_put(body).body), sha(body))


class SpoolCountTest(SpoolBase):
    """A spooled request counts once toward max_requests_per_worker, in
    the worker that answers it, not also in the one that handed it on."""
    spool_extra = "max_requests_per_worker = 2\n"

    def worker_pids(self):
        from test_backend import worker_fds
        return set(worker_fds(self.porter))

    def test_counted_once(self):
        first = self.worker_pids()
        self.assertEqual(len(first), 1)
        body = os.urandom(3000)
        c = Client(self.port)
        c.send(b"PUT /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
               b"Content-Length: %d\r\n\r\n" % len(body) + body[:10])
        time.sleep(0.5)     # past park_after: the gate has it
        c.send(body[10:])
        self.assertEqual(sha(c.read_response().body), sha(body))
        self.assertTrue(c.closed())
        c.close()
        # one request served: the worker stays (counted twice, it would
        # retire now, at its second)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 1:
            self.assertEqual(self.worker_pids(), first)
            time.sleep(0.05)
        self.assertEqual(self.spooled(), 1)


class SpoolGateKillTest(SpoolBase):
    expect_errors = r"gate \d+ exited"

    def test_gate_killed_mid_spool(self):
        c = Client(self.port)
        c.send(b"PUT /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n"
               b"\r\n" + b"x" * 60000)
        self.uploading(1)
        pid = int(re.findall(r"gate (\d+) started", self.porter.log())[-1])
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: len(re.findall(r"gate \d+ started",
                                        self.porter.log())) >= 2,
                 what="gate restarted")
        self.assertIn("holding 1 connection, now lost", self.porter.log())
        # the client is told nothing more; the backend saw nothing of it
        self.assertTrue(c.closed())
        c.close()
        self.assertEqual(self.m("porter_spool_bytes"), 0)
        self.assertEqual(os.listdir(self.spool), [])
        self.assertEqual(self.hits(), 0)
        # and porter spools again
        body = os.urandom(30000)
        r = self.slow_put(body)
        self.assertEqual(sha(r.body), sha(body))


class SpoolSeccompTest(SpoolBase):
    """The allow-list lets the gate spool to a file and the worker send
    it (sendfile): a call it lacks would kill them with SIGSYS."""
    spool_extra = "seccomp = on\n"

    def test_spooled_under_seccomp(self):
        if "seccomp is off" in self.porter.log():
            self.skipTest(harness.SECCOMP_ASAN)
        for n in (1000, 100000):
            body = os.urandom(n)
            r = self.slow_put(body)
            self.assertEqual(sha(r.body), sha(body))
        self.assertNotIn("killed by signal", self.porter.log())
        self.assertEqual(len(re.findall(r"gate \d+ started",
                                        self.porter.log())), 1)


class SpoolUpgradeTest(SpoolBase):
    def test_upgrade_passes_bodies_on(self):
        big = os.urandom(120000)        # past memory: in a file
        small = os.urandom(5000)        # in memory, chunked
        wire = chunked(small, 3, trailer=b"X-Sum: " + b"s" * 300 + b"\r\n")
        a = Client(self.port)
        a.send(b"PUT /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n"
               b"\r\n" % len(big) + big[:70000])
        self.uploading(1)
        b = Client(self.port)
        # the trailer line comes in two parts: one is kept unframed
        cut = len(wire) - 200
        b.send(b"PUT /echo HTTP/1.1\r\nHost: t\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n" + wire[:cut])
        self.uploading(2)
        old = self.porter.proc.pid
        self.porter.kill(signal.SIGUSR2)
        new = self.porter.new_master(old)
        try:
            os.kill(old, signal.SIGQUIT)
            self.assertEqual(self.porter.proc.wait(30), 0)
            self.assertIn("gate: passed 2 of 2 bodies being spooled on",
                          self.porter.log())
            a.send(big[70000:])
            b.send(wire[cut:])
            for c, body in ((a, big), (b, small)):
                r = c.read_response()
                self.assertEqual(r.status, 200)
                self.assertEqual(sha(r.body), sha(body))
                self.assertEqual(r.header("x-echo-framing"), "length")
        finally:
            a.close()
            b.close()
            os.kill(new, signal.SIGQUIT)
            wait_for(lambda: not os.path.exists(self.porter.pidfile),
                     what="new master stopped")


class EchoTlsBackend:
    """An HTTPS origin (Python's ssl) that echoes PUT bodies."""

    def __init__(self, tmp):
        cert, key = os.path.join(tmp, "be.pem"), os.path.join(tmp, "be.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", key, "-out", cert, "-days", "2",
                        "-subj", "/CN=127.0.0.1"], check=True,
                       capture_output=True)

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def reply(self, body, framing):
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("X-Echo-Framing", framing)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                self.reply(b"ok\n", "none")

            def do_PUT(self):
                n = self.headers.get("Content-Length")
                self.reply(self.rfile.read(int(n)) if n else b"",
                           "length" if n else "other")

            def log_message(self, *a):
                pass
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket,
                                            server_side=True)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever,
                         daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class SpoolTlsBackendTest(SpoolBase):
    """A spooled body to a TLS backend: read from the file and written
    through OpenSSL, not by sendfile."""
    origins = ()

    def setUp(self):
        self.be_tmp = tempfile.mkdtemp(prefix="porter-spool-tls.")
        self.addCleanup(shutil.rmtree, self.be_tmp, True)
        self.be = EchoTlsBackend(self.be_tmp)
        self.addCleanup(self.be.stop)
        super().setUp()

    def config_body(self):
        return ("[pool app]\nserver = 127.0.0.1:%d\ntls = on\n"
                "tls_verify = off\n[admin]\naddress = 127.0.0.1:0\n" %
                self.be.port)

    def test_spooled_to_tls_backend(self):
        for n in (20000, 150000):
            body = os.urandom(n)
            r = self.slow_put(body)
            self.assertEqual(r.status, 200)
            self.assertEqual(sha(r.body), sha(body))
            self.assertEqual(r.header("x-echo-framing"), "length")


class SpoolOffTest(SpoolBase):
    """request_buffering = off: the worker reads the body itself, as
    before (this is what the spool spares the other clients)."""
    spool_extra = "request_buffering = off\n"

    def test_off_holds_the_worker(self):
        body = os.urandom(1000)
        c = Client(self.port)
        c.send(b"PUT /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n"
               b"\r\n" % len(body) + body[:10])
        other = Client(self.port, timeout=5)
        other.send(b"GET /bytes/4 HTTP/1.1\r\nHost: t\r\n\r\n")
        # the only worker reads the upload: the other waits for it
        with self.assertRaises(socket.timeout):
            other.sock.settimeout(1)
            other.read_response()
        c.send(body[10:])
        self.assertEqual(sha(c.read_response().body), sha(body))
        other.sock.settimeout(10)
        self.assertEqual(other.read_response().body, pattern(4))
        other.close()
        c.close()
        self.assertEqual(self.spooled(), 0)


class SpoolRouteTest(SpoolBase):
    """Per route: request_buffering = off on one route only."""

    def config_body(self):
        return super().config_body() + (
            "[route direct]\npath = /echo\npool = app\n"
            "request_buffering = off\n"
            "[route rest]\npath = /\npool = app\n")

    def test_route_off(self):
        body = os.urandom(5000)
        c = Client(self.port)
        c.send(b"PUT /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n"
               b"\r\n" % len(body) + body[:10])
        time.sleep(0.3)     # past park_after: it would have gone by now
        c.send(body[10:])
        self.assertEqual(sha(c.read_response().body), sha(body))
        c.close()
        self.assertEqual(self.spooled(), 0)


class SpoolFullTest(SpoolBase):
    # a quarter of it per client address: 16k
    spool_extra = "spool_max_size = 64k\n"

    def test_full_spool_503(self):
        held = []
        # four addresses fill it (15k each: under the per-address bound)
        for i in range(4):
            c = self.client_from("127.0.0.%d" % (i + 2))
            c.send(b"PUT /echo HTTP/1.1\r\nHost: t\r\nContent-Length: "
                   b"15000\r\n\r\n" + b"a" * 10)
            held.append(c)
            self.uploading(i + 1)
        # a fifth does not fit: 503 at once, before 100 Continue
        c = self.client_from("127.0.0.9")
        c.send(b"PUT /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10000\r\n"
               b"Expect: 100-continue\r\n\r\n")
        r = c.read_response(interim=True)
        self.assertEqual(r.status, 503)
        self.assertIsNotNone(r.header("retry-after"))
        c.close()
        # a chunked one grows past it while it comes: 503, nothing sent
        c = self.client_from("127.0.0.10")
        c.send(b"PUT /echo HTTP/1.1\r\nHost: t\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef")
        self.uploading(5)
        try:
            c.send(b"\r\n2000\r\n" + b"b" * 0x2000 + b"\r\n")
        except OSError:
            pass
        r = c.read_response()
        self.assertEqual(r.status, 503)
        self.assertIsNotNone(r.header("retry-after"))
        c.close()
        self.assertEqual(self.hits(), 0)
        self.assertEqual(self.refused(), 2)
        for c in held:
            c.send(b"a" * 14990)
            r = c.read_response()
            self.assertEqual(r.status, 200)
            self.assertEqual(r.body, b"a" * 15000)
            c.close()
        self.assertEqual(self.m("porter_spool_bytes"), 0)

    def test_per_address_bound(self):
        a = Client(self.port)
        a.send(b"PUT /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10000\r\n"
               b"\r\nxx")
        self.uploading(1)
        # the same address again: over its 16k
        b = Client(self.port)
        b.send(b"PUT /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10000\r\n"
               b"\r\nyy")
        self.assertEqual(b.read_response().status, 503)
        b.close()
        # another address is served
        r = self.slow_put(b"z" * 10000, addr="127.0.0.2")
        self.assertEqual(r.body, b"z" * 10000)
        a.send(b"x" * 9998)
        self.assertEqual(a.read_response().body, b"x" * 10000)
        a.close()


if __name__ == "__main__":
    harness.main()
