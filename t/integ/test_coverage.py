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
    """balance = random_two never sends a request to the busier of the two
    servers it drew.  Server a answers after a second, the others at
    once, and two clients ask in turn: while a holds one client's
    request, the other's goes to whichever idle server was drawn with
    a, never to a, so a never has two at a time (its /maxconc), however
    fast or slow the machine.  With balance = round_robin (or random
    picks) the second client reaches a within three requests and this
    fails."""
    origins = ()
    workers = 4

    def setUp(self):
        self.slow = Origin("a", args=("-D", "1000"))
        self.addCleanup(self.slow.stop)
        super().setUp()

    def config_body(self):
        self.o["b"] = Origin("b")
        self.o["c"] = Origin("c")
        return ("[pool app]\nserver = %s\nserver = %s\nserver = %s\n"
                "balance = random_two\n" % (self.slow.hostport,
                                            self.o["b"].hostport,
                                            self.o["c"].hostport))

    @harness.serial
    def test_busy_server_passed_over(self):
        counts = collections.Counter()
        lock = threading.Lock()
        errors = []

        def run():
            c = Client(self.port)
            try:
                for _ in range(25):
                    r = c.request(path="/bytes/1")
                    with lock:
                        if r.status != 200:
                            errors.append(r.status)
                        counts[r.header("x-origin")] += 1
            finally:
                c.close()
        ts = [threading.Thread(target=run) for _ in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(120)
        self.assertEqual(errors, [])
        self.assertEqual(sum(counts.values()), 50)
        self.assertGreater(counts["a"], 0, counts)
        self.assertGreater(counts["b"], 0, counts)
        self.assertGreater(counts["c"], 0, counts)
        self.assertEqual(int(self.slow_get("/maxconc")), 1, counts)

    def slow_get(self, path):
        return harness.get(self.slow.port, path).body


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
                "fail_on_5xx = on\nfail_timeout = 4s\nretries = 0\n" %
                (self.o["a"].hostport, self.o["b"].hostport))

    def marks(self):
        return self.porter.log().count("server %s of pool app marked down"
                                       % self.o["b"].hostport)

    def test_marked_down_then_back(self):
        # round robin: within two requests one reaches b and gets its 500;
        # b is marked down after t0, so it cannot be back before t0 + 4 s
        t0 = time.monotonic()
        statuses = [self.get("/bytes/1").status for _ in range(2)]
        self.assertIn(500, statuses)
        wait_for(lambda: self.marks() == 1, 10, "b marked down")
        t_mark = time.monotonic()
        # down: everything goes to a while well inside fail_timeout (t_mark
        # is when the mark was seen, a little after it was made)
        n = 0
        while time.monotonic() - t_mark < 1.5:
            r = self.get("/bytes/1")
            self.assertEqual((r.status, r.header("x-origin")), (200, "a"))
            n += 1
        self.assertGreater(n, 3)
        # after fail_timeout b is tried again (and marked down again)
        wait_for(lambda: self.get("/bytes/1").status == 500, 15,
                 "b back after fail_timeout")
        self.assertGreaterEqual(time.monotonic() - t0, 4.0)
        wait_for(lambda: self.marks() == 2, 10, "b marked down again")


class HealthCheckKeysTest(PorterTest):
    """health_status, health_body and health_timeout: in each pair of
    pools the same server fails the check under one setting and passes
    under the other.  Fails if a key is ignored (the failing pool's
    server stays up) or misread (the passing pool's goes down)."""
    origins = ()
    workers = 1

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
        # origin, and so is each poll here, left out): the pools that
        # pass must still be up after them
        polls = collections.Counter()

        def checks(name):
            polls[name] += 1
            return int(harness.get(self.o[name].port, "/hits").body) - \
                polls[name]
        h0, p0 = checks("h204"), checks("plain")
        wait_for(lambda: checks("h204") > h0 + 6 and
                 checks("plain") > p0 + 12, 20, "more checks")
        got = pools_down()
        self.assertEqual(set(got), {"status_bad", "body_bad", "slow_bad"},
                         got)
        self.assertEqual(self.get("/bytes/2").status, 200)


class CacheKeysTest(PorterTest):
    """purge_allow, a route without cache = on, and lock_timeout."""
    workers = 3

    def config_body(self):
        o = self.o["o1"].hostport
        return ("[cache]\nsize = 4M\nlock_timeout = 300ms\n"
                "purge_allow = 10.0.0.0/8\n"
                "[pool app]\nserver = %s\n"
                "[route cached]\nhost = cached.test\npool = app\n"
                "cache = on\n"
                "[route plain]\npool = app\n" % o)

    def fetches(self):
        return int(harness.get(self.o["o1"].port, "/hits").body) - 1

    def test_purge_refused_outside_purge_allow(self):
        """Fails with purge_allow = 127.0.0.0/8 (the PURGE gets 200)."""
        h = {"Host": "cached.test"}
        p = "/counter?cc=max-age%3D60"
        a = self.get(p, headers=h)
        c = Client(self.port)
        r = c.request("PURGE", p, headers=h)
        self.assertEqual(r.status, 403)
        r = c.request("PURGE", "/counter*", headers=h)
        self.assertEqual(r.status, 403)
        c.close()
        wait_for(lambda: "client 127.0.0.1: PURGE not allowed" in
                 self.porter.log(), 10, "refusal logged")
        # still stored
        self.assertEqual(self.get(p, headers=h).body, a.body)

    def test_route_without_cache_on(self):
        """Fails with cache = on in the plain route (one fetch, one
        body)."""
        p = "/counter?cc=max-age%3D60"
        plain = [self.get(p, headers={"Host": "plain.test"}).body
                 for _ in range(3)]
        self.assertEqual(len(set(plain)), 3, plain)
        cached = [self.get(p + "&x=1", headers={"Host": "cached.test"})
                  .body for _ in range(3)]
        self.assertEqual(len(set(cached)), 1, cached)
        self.assertEqual(self.fetches(), 4)

    def test_lock_timeout(self):
        """A request waiting for another's fill goes to the origin on its
        own after lock_timeout (300 ms) instead of for the whole 3 s fill.
        Fails with lock_timeout = 5s (one fetch, one body for both)."""
        h = {"Host": "cached.test"}
        p = "/counter?cc=max-age%3D60&delay=3000"
        got = {}

        def first():
            got["first"] = self.get(p, headers=h).body
        t = threading.Thread(target=first)
        t.start()
        try:
            self.o["o1"].wait_requests(1, 10)
            base = self.fetches()
            t0 = time.monotonic()
            second = self.get(p, headers=h)
            took = time.monotonic() - t0
        finally:
            t.join(30)
        self.assertEqual(second.status, 200)
        self.assertIn(b"fetch", got["first"])
        # the second request's own fetch, and the poll of fetches() here
        # (coalesced: only that poll)
        self.assertEqual(self.fetches() - base, 2)
        # it waited (at least lock_timeout) and then fetched (3 s more)
        self.assertGreaterEqual(took, 3.2)


class ClientTimeoutsTest(PorterTest):
    """client_body_timeout, send_timeout, tunnel_timeout; connect_timeout
    of a pool.  Each fails when its value is raised to a minute (nothing
    happens within the test's bound)."""
    workers = 2
    porter_extra = ("client_body_timeout = 500ms\nsend_timeout = 500ms\n"
                    "tunnel_timeout = 1s\n")

    def config_body(self):
        # a listener whose accept queue is full: a SYN to it is dropped,
        # so connecting hangs until connect_timeout
        self.full = socket.socket()
        self.addCleanup(self.full.close)
        self.full.bind(("127.0.0.1", 0))
        self.full.listen(0)
        self.fillers = []
        for _ in range(3):
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect(self.full.getsockname())
            except BlockingIOError:
                pass
            self.fillers.append(s)
            self.addCleanup(s.close)
        return ("[pool app]\nserver = %s\n"
                "[pool hang]\nserver = 127.0.0.1:%d\nconnect_timeout = 300ms\n"
                "retries = 0\n"
                "[route hang]\npath = /hang-connect\npool = hang\n"
                "[route app]\npool = app\n" %
                (self.o["o1"].hostport, self.full.getsockname()[1]))

    def test_client_body_timeout(self):
        c = Client(self.port, timeout=10)
        t0 = time.monotonic()
        c.send(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
               b"\r\n0123456789")
        r = c.read_response()
        self.assertEqual(r.status, 408)
        self.assertTrue(c.closed(10))
        self.assertLess(time.monotonic() - t0, 8)
        c.close()

    def test_send_timeout(self):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", self.port))
        s.sendall(b"GET /bytes/100000000 HTTP/1.1\r\nHost: x\r\n\r\n")
        # never read: porter's writes block; after park_after the worker
        # hands the rest to the gate and logs the request with what it
        # sent, and after send_timeout the gate gives up on the client
        try:
            line = wait_for(lambda: [l for l in self.porter.access()
                                     if "/bytes/100000000" in l], 10,
                            "the stalled response handed on")
            wait_for(lambda: "response tail cut short: send_timeout" in
                     self.porter.log(), 10, "send_timeout in the gate")
        finally:
            s.close()
        sent = int(re.search(r'" 200 (\d+)', line[0]).group(1))
        self.assertLess(sent, 100000000)

    def test_tunnel_timeout(self):
        c = Client(self.port, timeout=10)
        c.send(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
               b"Connection: Upgrade\r\n\r\n")
        r = c.read_response()
        self.assertEqual(r.status, 101)
        c.send(b"ping")
        while len(c.buf) < 4:
            c._fill()
        self.assertEqual(c.buf, b"ping")
        t0 = time.monotonic()
        self.assertTrue(c.closed(10))
        self.assertGreaterEqual(time.monotonic() - t0, 0.8)
        c.close()

    def test_connect_timeout(self):
        t0 = time.monotonic()
        r = self.get("/hang-connect")
        self.assertIn(r.status, (502, 504))
        self.assertLess(time.monotonic() - t0, 5)
        self.assertEqual(self.get("/bytes/3").body, b"012")


class UnixHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = ("unix origin %s\n" % self.path).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def address_string(self):
        return "unix"

    def log_message(self, *a):
        pass


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def unix_origin(test, path):
    srv = UnixServer(path, UnixHandler)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()

    def stop():
        srv.shutdown()
        srv.server_close()
    test.addCleanup(stop)
    return srv


class UnixServerTest(PorterTest):
    """server = unix:PATH.  Fails when the path is not the one the origin
    listens on (502)."""
    origins = ()

    def config_body(self):
        self.sock = os.path.join(self.tmp, "origin.sock")
        unix_origin(self, self.sock)
        return "[pool app]\nserver = unix:%s\n" % self.sock

    def test_requests_over_unix_socket(self):
        c = self.client()
        for i in range(3):
            r = c.request(path="/u%d" % i)
            self.assertEqual((r.status, r.body),
                             (200, b"unix origin /u%d\n" % i))
        c.close()


class IPv6ListenerTest(PorterTest):
    """address = [::1]:0 next to the IPv4 one.  Fails without the IPv6
    address (no such listener in the log)."""
    listen_extra = "address = [::1]:0\n"

    def setUp(self):
        try:
            s = socket.socket(socket.AF_INET6)
            s.bind(("::1", 0))
            s.close()
        except OSError:
            self.skipTest("no IPv6 loopback")
        super().setUp()

    def test_served_on_ipv6(self):
        port = int(re.search(r"listening on \[::1\]:(\d+)",
                             self.porter.log()).group(1))
        c = Client(port, host="::1")
        r = c.request(path="/headers")
        self.assertEqual(r.status, 200)
        self.assertIn(b"X-Forwarded-For: ::1", r.body)
        c.close()


class HardeningTest(PorterTest):
    """Every child of the master (workers, the gate, the checker) runs
    with no_new_privs and no core dumps.  Fails when proc_harden() does
    not run in a child (checked by removing its call from
    worker_child_start)."""
    pool_extra = "health_check = tcp\nhealth_interval = 1s\n"

    def setUp(self):
        # porter starts with the core limit as high as it may go, so a
        # child's 0 is its own doing
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
        self.addCleanup(resource.setrlimit, resource.RLIMIT_CORE,
                        (soft, hard))
        resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))
        self.core_allowed = hard != 0
        super().setUp()

    def test_no_new_privs_no_core(self):
        self.assertEqual(self.get("/bytes/1").status, 200)
        pids = wait_for(lambda: len(children(self.porter)) >= 4 and
                        children(self.porter), 10,
                        "two workers, the gate and the checker")
        for pid in pids:
            self.assertEqual(status_field(pid, "NoNewPrivs"), "1", pid)
            with open("/proc/%s/limits" % pid) as f:
                core = [l for l in f if l.startswith("Max core file size")]
            self.assertEqual(core[0].split()[4:6], ["0", "0"], core)
        # the master itself is not confined: it keeps what it was given
        self.assertEqual(status_field(self.porter.proc.pid, "NoNewPrivs"),
                         status_field(os.getpid(), "NoNewPrivs"))
        if self.core_allowed:
            with open("/proc/%d/limits" % self.porter.proc.pid) as f:
                self.assertNotIn(" 0 ", [l for l in f if l.startswith(
                    "Max core file size")][0][26:40])


@unittest.skipUnless(os.geteuid() == 0, "needs root")
class ChrootTest(PorterTest):
    """chroot = DIR: a worker's root is DIR, and the Unix socket of a
    server is looked up inside it.  Fails without the chroot key (the
    path /origin.sock does not exist outside: 502)."""
    origins = ()
    # LeakSanitizer reads /proc/self/maps at exit, which a confined
    # worker cannot reach: it would fail with a fatal error of its own
    porter_env = dict(os.environ, ASAN_OPTIONS=(
        os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":"))

    def config_body(self):
        self.root = os.path.join(self.tmp, "root")
        os.mkdir(self.root)
        unix_origin(self, os.path.join(self.root, "origin.sock"))
        self.porter_extra = "chroot = %s\n" % self.root
        return "[pool app]\nserver = unix:/origin.sock\n"

    def test_workers_confined(self):
        r = self.get("/in-root")
        self.assertEqual((r.status, r.body), (200, b"unix origin /in-root\n"))
        for pid in worker_fds(self.porter):
            self.assertEqual(os.readlink("/proc/%s/root" % pid), self.root)
        self.assertEqual(os.readlink("/proc/%d/root" % self.porter.proc.pid),
                         "/")


@unittest.skipUnless(os.geteuid() == 0, "needs root")
class SyslogTest(unittest.TestCase):
    """error_log = syslog with syslog_facility: the messages reach the
    socket at /dev/log with the facility's priority.  porter runs in a
    mount namespace whose /dev/log is a datagram socket bound here.
    Fails with error_log = stderr (nothing arrives) or with the
    facility ignored (<29>, daemon.notice, instead of <157>)."""

    def test_messages_with_facility(self):
        tmp = tempfile.mkdtemp(prefix="porter-test.")
        self.addCleanup(shutil.rmtree, tmp, True)
        o = Origin("s")
        self.addCleanup(o.stop)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        sock.bind(os.path.join(tmp, "log.sock"))
        sock.settimeout(0.2)
        conf = os.path.join(tmp, "p.ini")
        pidf = os.path.join(tmp, "p.pid")
        with open(conf, "w") as f:
            f.write("[porter]\nworkers = 1\nuser = root\npid_file = %s\n"
                    "error_log = syslog\nsyslog_facility = local3\n"
                    "[listen a]\naddress = 127.0.0.1:0\n"
                    "[pool p]\nserver = %s\n" % (pidf, o.hostport))
        script = ('set -e; T=$1; mkdir "$T/dev"; mount --bind /dev "$T/dev";'
                  'mount -t tmpfs -o mode=0755 porter-test /dev;'
                  'for f in "$T"/dev/*; do ln -s "$f" /dev/; done;'
                  'ln -s "$T/log.sock" /dev/log; exec "$2" -c "$3"')
        r = subprocess.run(["unshare", "-m", "--propagation", "private",
                            "sh", "-c", script, "sh", tmp, harness.PORTER,
                            conf], capture_output=True, timeout=60,
                           stdin=subprocess.DEVNULL)
        if r.returncode != 0 and b"unshare" in r.stderr:
            self.skipTest("no mount namespace")
        self.assertEqual(r.returncode, 0, r.stderr)
        def read_pid():
            try:
                with open(pidf) as f:
                    return f.read().strip()
            except OSError:
                return None
        pid = int(wait_for(read_pid, what="pid file"))

        self.addCleanup(harness.stop_pid, pid)
        got = []

        def heard(what):
            try:
                while True:
                    got.append(sock.recv(4096).decode(errors="replace"))
            except socket.timeout:
                pass
            return any(what in m for m in got)
        wait_for(lambda: heard("porter started"), 15, "syslog message")
        port = int(re.search(r"listening on 127\.0\.0\.1:(\d+)",
                             "".join(got)).group(1))
        self.assertEqual(harness.get(port, "/bytes/2").body, b"01")
        os.kill(pid, 3)
        wait_for(lambda: heard("porter stopped"), 15, "stop message")
        started = [m for m in got if "porter started" in m][0]
        # local3 (19) * 8 + notice (5); the ident and pid of the master
        self.assertRegex(started, r"^<157>.*porter\[%d\]: " % pid)
        self.assertFalse([m for m in got if harness.BAD_LOG.search(m)],
                         got)


class TlsSeccompTest(PorterTest):
    """seccomp = on while the workers terminate TLS, relay a tunnel and
    answer the admin listener: a system call outside the allow-list
    kills the worker (SIGSYS), the master logs it as an error and the
    request fails.  Shown to fail by leaving a call the TLS handshake
    needs out of the allow-list in sandbox.c."""
    workers = 2
    porter_extra = "seccomp = on\n"

    def setUp(self):
        self.certdir = tempfile.mkdtemp(prefix="porter-certs.")
        self.addCleanup(shutil.rmtree, self.certdir, True)
        self.cert = os.path.join(self.certdir, "c.pem")
        self.key = os.path.join(self.certdir, "c.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", self.key, "-out", self.cert,
                        "-days", "2", "-subj", "/CN=seccomp.test"],
                       check=True, capture_output=True, timeout=60)
        super().setUp()

    def config_body(self):
        return ("[listen tls]\naddress = 127.0.0.1:0\n"
                "tls_certificate = %s\ntls_key = %s\n"
                "[admin]\naddress = 127.0.0.1:0\n" % (self.cert, self.key) +
                super().config_body())

    def tls_port(self):
        ports = re.findall(r"listening on 127\.0\.0\.1:(\d+)(?! \(admin\))$",
                           self.porter.log(), re.M)
        return [int(p) for p in ports if int(p) != self.port][0]

    def tls(self):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        raw = socket.create_connection(("127.0.0.1", self.tls_port()), 10)
        s = ctx.wrap_socket(raw, server_hostname="seccomp.test")
        s.settimeout(10)
        return s

    def test_tls_tunnel_admin(self):
        for _ in range(3):
            s = self.tls()
            s.sendall(b"GET /bytes/100000 HTTP/1.1\r\nHost: x\r\n"
                      b"Connection: close\r\n\r\n")
            data = b""
            while True:
                d = s.recv(65536)
                if not d:
                    break
                data += d
            s.close()
            self.assertTrue(data.startswith(b"HTTP/1.1 200"), data[:60])
            self.assertTrue(data.endswith(pattern(100000)))
        # a tunnel, plain and over TLS
        for s in (socket.create_connection(("127.0.0.1", self.port), 10),
                  self.tls()):
            s.settimeout(10)
            s.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket"
                      b"\r\nConnection: Upgrade\r\n\r\n")
            got = b""
            while b"\r\n\r\n" not in got:
                d = s.recv(4096)
                self.assertTrue(d)
                got += d
            self.assertTrue(got.startswith(b"HTTP/1.1 101"), got[:60])
            got = got.partition(b"\r\n\r\n")[2]
            s.sendall(b"x" * 5000)
            while len(got) < 5000:
                d = s.recv(65536)
                self.assertTrue(d)
                got += d
            s.close()
        for path in ("/status", "/metrics", "/status?format=text"):
            self.assertEqual(self.admin_get(path).status, 200, path)
        self.assertNotIn("killed by signal", self.porter.log())
        sanitized = harness.sanitized()
        self.assertEqual("seccomp is off in a sanitizer build" in
                         self.porter.log(), sanitized)
        for pid in worker_fds(self.porter):
            self.assertEqual(status_field(pid, "Seccomp"),
                             "0" if sanitized else "2", pid)
        if sanitized:
            self.skipTest(harness.SECCOMP_ASAN)


if __name__ == "__main__":
    harness.main()
