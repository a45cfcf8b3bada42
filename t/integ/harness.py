"""Integration test harness: runs the real porter binary against real
loopback origins (t/origin) in a temporary directory.

Nothing here sleeps for readiness: origins print their port, porter
writes its pid file once its workers run and logs the address it bound
(listeners use port 0, so there are no port races), and every wait is a
bounded poll for a condition.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

PORTER = os.environ.get("PORTER", os.path.abspath("porter"))
ORIGIN = os.environ.get("ORIGIN", os.path.abspath("t/origin"))

# Lines in porter's log that fail a test unless the test expects them.
BAD_LOG = re.compile(r"\[error\]|AddressSanitizer|LeakSanitizer|"
                     r"runtime error:|Sanitizer")


def wait_for(cond, timeout=20.0, what="condition"):
    """Poll cond() until it returns a true value; fail after timeout."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


# Why the seccomp checks skip in an AddressSanitizer build (.ci/skips
# lists it): porter leaves the filter off there, since the sanitizer's
# runtime makes system calls the workers' allow-list does not have.
SECCOMP_ASAN = ("sanitizer build: the ASan runtime makes system calls "
                "outside the seccomp allow-list, so porter leaves it off "
                "(the plain build checks the filter)")


# make -j2 runs two test files at once.  A test that loads the machine
# (dozens of clients, workers killed in a loop) or that bounds a latency
# or a share of requests taken over time is marked @serial: the serial
# tests take one lock (a file beside the binary under test) for their
# whole run, so no two of them overlap, whatever else runs.
SERIAL_LOCK = PORTER + ".serial-tests.lock"


def serial(test):
    """Mark a test method (or class) to run alone among serial tests."""
    test.serial = True
    return test


def serial_lock(test, timeout=900):
    """Hold the serial tests' lock until test's cleanups run."""
    import fcntl
    f = open(SERIAL_LOCK, "a")
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                f.close()
                raise AssertionError("timed out waiting for " +
                                     SERIAL_LOCK)
            time.sleep(0.1)
    test.addCleanup(f.close)


def sanitized():
    """True when the porter under test was built with AddressSanitizer
    (its runtime is linked in), as make check --enable-sanitizers does."""
    with open(PORTER, "rb") as f:
        return b"__asan_init" in f.read()


def dead_port(test):
    """A loopback port where a connect is refused for as long as test
    runs: bound and never listening, so no other process (nor an
    ephemeral port of a connect) can take it meanwhile."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    test.addCleanup(s.close)
    return s.getsockname()[1]


def alive(pid):
    """pid runs (a zombie does not count)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def stop_pid(pid, timeout=30):
    """SIGQUIT to a porter master that is not our child (a daemon, the
    new master of an upgrade), SIGKILL if it is still there after
    timeout: for cleanups, so that a failed test leaves nothing
    running."""
    try:
        os.kill(pid, signal.SIGQUIT)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if alive(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def pattern(n):
    """The body /bytes/N of t/origin returns."""
    alphabet = b"0123456789abcdefghijklmnopqrstuvwxyz"
    out = bytearray(n)
    for i in range(n):
        out[i] = 10 if i % 64 == 63 else alphabet[i % 36]
    return bytes(out)


class Origin:
    """A t/origin process on 127.0.0.1 (or ::1), port chosen by the kernel."""

    def __init__(self, name="origin", addr="127.0.0.1", args=(), port=0):
        self.name = name
        self.addr = addr
        self.args = tuple(args)
        self.proc = subprocess.Popen([ORIGIN, "-a", addr, "-n", name,
                                      "-p", str(port)] + list(args),
                                     stdout=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL)
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError("origin did not start")
        self.port = int(line)

    @property
    def hostport(self):
        if ":" in self.addr:
            return "[%s]:%d" % (self.addr, self.port)
        return "%s:%d" % (self.addr, self.port)

    def wait_requests(self, n, timeout=20.0):
        """Wait until the origin has received n requests besides the
        /hits polls made here to find out."""
        polls = [0]

        def enough():
            polls[0] += 1
            return int(get(self.port, "/hits").body) - polls[0] >= n
        wait_for(enough, timeout, "%d requests at origin %s" % (n,
                                                                 self.name))

    def restart(self, args=None):
        """Stop, then start again on the same port."""
        self.stop()
        port = self.port
        self.__init__(self.name, self.addr, self.args if args is None
                      else args, port)
        assert self.port == port

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()


class Porter:
    """porter -d with a generated configuration."""

    def __init__(self, tmp, body, workers=2, listen="127.0.0.1:0",
                 porter_extra="", expect_errors=None, listen_extra="",
                 env=None):
        self.tmp = tmp
        self.conf = os.path.join(tmp, "porter.ini")
        self.pidfile = os.path.join(tmp, "porter.pid")
        self.errlog = os.path.join(tmp, "error.log")
        self.accesslog = os.path.join(tmp, "access.log")
        self.expect_errors = expect_errors
        with open(self.conf, "w") as f:
            f.write(self.config_text(body, workers, listen, porter_extra,
                                     listen_extra))
        self.errf = open(self.errlog, "ab")
        self.masters = []       # masters of upgrades, stopped by stop()
        self.proc = subprocess.Popen([PORTER, "-d", "-c", self.conf],
                                     stdin=subprocess.DEVNULL,
                                     stdout=self.errf, stderr=self.errf,
                                     env=env)
        self.port = wait_for(self._bound_port, what="porter to listen")
        wait_for(lambda: os.path.exists(self.pidfile) or
                 self.proc.poll() is not None, what="porter pid file")
        if self.proc.poll() is not None:
            raise AssertionError("porter exited: " + self.log())
        wait_for(self._connects, what="porter to accept")

    def config_text(self, body, workers=2, listen="127.0.0.1:0",
                    porter_extra="", listen_extra=""):
        # as root, workers stay root only when the config says so
        user = "user = root\n" if os.geteuid() == 0 and \
            "user =" not in porter_extra else ""
        # a fixed pool of exactly `workers` unless a test says otherwise:
        # no spares, and no growth for clients waiting in the accept queue
        if "spare_workers" not in porter_extra:
            user += "min_spare_workers = 0\n"
            if "max_workers" not in porter_extra:
                user += "max_workers = %d\n" % workers
        if "log_level" not in porter_extra:
            user += "log_level = info\n"
        # an access log unless the test sets its own (or "off")
        if not re.search(r"^access_log\s*=", porter_extra, re.M):
            user += "access_log = %s\n" % self.accesslog
        return ("[porter]\nworkers = %d\npid_file = %s\n%s%s\n"
                "[listen main]\naddress = %s\n%s\n%s\n" %
                (workers, self.pidfile, user, porter_extra,
                 listen, listen_extra, body))

    def rewrite(self, body, **kw):
        """Write a new configuration (for a reload)."""
        with open(self.conf, "w") as f:
            f.write(self.config_text(body, **kw))

    def new_master(self, old):
        """After USR2: the pid of the new master, once the pid file names
        one other than old."""
        def pid():
            try:
                with open(self.pidfile) as f:
                    t = f.read().strip()
                return int(t) if t and int(t) != old else None
            except (OSError, ValueError):
                return None
        new = wait_for(pid, what="new master's pid file")
        self.masters.append(new)
        return new

    def _bound_port(self):
        if self.proc.poll() is not None:
            raise AssertionError("porter exited early: " + self.log())
        m = re.search(r"listening on (?:\[[0-9a-f:]+\]|[0-9.]+):(\d+)",
                      self.log())
        return int(m.group(1)) if m else None

    def _connects(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), 1).close()
            return True
        except OSError:
            return False

    def log(self):
        with open(self.errlog, "r", errors="replace") as f:
            return f.read()

    def access(self):
        try:
            with open(self.accesslog, "r", errors="replace") as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def kill(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGQUIT, timeout=30):
        """Stop porter and return its exit code (it must exit in time).
        The masters started by upgrades (new_master) are stopped too,
        whatever the test left running: none outlives the test."""
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(sig)
                try:
                    self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
                    raise AssertionError("porter did not stop on signal %d"
                                         % sig)
        finally:
            for pid in self.masters:
                stop_pid(pid, timeout)
            self.errf.close()
        return self.proc.returncode

    def bad_log_lines(self):
        bad = []
        for line in self.log().splitlines():
            if BAD_LOG.search(line):
                if self.expect_errors and re.search(self.expect_errors,
                                                    line):
                    continue
                bad.append(line)
        return bad


class Response:
    def __init__(self, status, reason, headers, body, raw_head):
        self.status = status
        self.reason = reason
        self.headers = headers      # list of (lower name, value)
        self.body = body
        self.raw_head = raw_head

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k == name:
                return v
        return default

    def headers_named(self, name):
        return [v for k, v in self.headers if k == name.lower()]


class Client:
    """A raw HTTP/1.1 client on one connection, strict about framing."""

    def __init__(self, port, host="127.0.0.1", timeout=20):
        self.sock = socket.create_connection((host, port), timeout)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        d = self.sock.recv(65536)
        if not d:
            raise EOFError("connection closed")
        self.buf += d

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n:
            self._fill()
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

    def read_response(self, head_request=False, interim=False):
        """Read one response; interim (1xx) ones are returned only when
        interim is true, else skipped."""
        while True:
            while b"\r\n\r\n" not in self.buf:
                self._fill()
            raw, self.buf = self.buf.split(b"\r\n\r\n", 1)
            lines = raw.split(b"\r\n")
            ver, status, reason = (lines[0].decode() + "  ").split(" ", 2)
            status = int(status)
            headers = []
            for l in lines[1:]:
                k, v = l.decode("latin-1").split(":", 1)
                headers.append((k.strip().lower(), v.strip()))
            r = Response(status, reason.strip(), headers, b"", raw)
            if 100 <= status < 200 and status != 101:
                if interim:
                    return r
                continue
            break
        if head_request or status in (101, 204, 304):
            return r
        te = r.header("transfer-encoding")
        cl = r.header("content-length")
        if te is not None:
            assert te.lower() == "chunked", te
            body = b""
            while True:
                size = int(self._line().split(b";")[0], 16)
                if size == 0:
                    trailers = []
                    while True:
                        l = self._line()
                        if l == b"":
                            break
                        trailers.append(l)
                    r.trailers = trailers
                    break
                body += self._exact(size)
                assert self._exact(2) == b"\r\n"
            r.body = body
        elif cl is not None:
            r.body = self._exact(int(cl))
        else:
            while True:
                try:
                    self._fill()
                except EOFError:
                    break
            r.body, self.buf = self.buf, b""
        return r

    def request(self, method="GET", path="/", headers=None, body=None,
                version="1.1"):
        h = {"Host": "test"} if version == "1.1" else {}
        h.update(headers or {})
        data = "%s %s HTTP/%s\r\n" % (method, path, version)
        for k, v in h.items():
            if v is not None:
                data += "%s: %s\r\n" % (k, v)
        if body is not None and "Content-Length" not in h and \
                "Transfer-Encoding" not in h:
            data += "Content-Length: %d\r\n" % len(body)
        data = data.encode() + b"\r\n" + (body or b"")
        self.send(data)
        return self.read_response(head_request=(method == "HEAD"))

    def closed(self, timeout=10):
        """True when the peer closes the connection (EOF or reset)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                d = self.sock.recv(65536)
                if not d:
                    return True
                self.buf += d
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


def get(port, path, **kw):
    c = Client(port)
    try:
        return c.request(path=path, **kw)
    finally:
        c.close()


class PorterTest(unittest.TestCase):
    """Base class: one temp dir, origins and porter per test; fails on
    error or sanitizer lines in porter's log."""

    origins = ("o1",)
    workers = 2
    porter_extra = ""
    pool_extra = ""
    listen_extra = ""
    expect_errors = None
    porter_env = None           # porter's environment, None: ours

    def config_body(self):
        servers = "".join("server = %s\n" % o.hostport
                          for o in self.o.values())
        return "[pool app]\n%s%s\n" % (servers, self.pool_extra)

    def setUp(self):
        if getattr(self, "serial", False) or getattr(
                getattr(self, self._testMethodName), "serial", False):
            serial_lock(self)
        self.tmp = tempfile.mkdtemp(prefix="porter-test.")
        self.o = {}
        self.porter = None
        try:
            for name in self.origins:
                self.o[name] = Origin(name)
            self.porter = Porter(self.tmp, self.config_body(),
                                 workers=self.workers,
                                 porter_extra=self.porter_extra,
                                 expect_errors=self.expect_errors,
                                 listen_extra=self.listen_extra,
                                 env=self.porter_env)
        except Exception:
            self._cleanup()
            raise
        self.port = self.porter.port

    def _cleanup(self):
        rc = None
        try:
            if self.porter is not None:
                rc = self.porter.stop()
        finally:
            for o in self.o.values():
                o.stop()
        return rc

    def tearDown(self):
        res = getattr(getattr(self, "_outcome", None), "result", None)
        failed = res is not None and any(
            t is self for t, _ in res.failures + res.errors)
        rc = self._cleanup()
        bad = self.porter.bad_log_lines() if self.porter else []
        if failed and self.porter:
            # the porter log tells what happened on its side
            print("--- porter log (%s) ---\n%s--- end ---" %
                  (self.tmp, self.porter.log()[-6000:]))
        if bad or failed or os.environ.get("PORTER_KEEP_TMP"):
            print("porter test files kept in", self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        self.assertEqual(bad, [], "error lines in porter's log")
        self.assertEqual(rc, 0, "porter exit code")

    def get(self, path, **kw):
        return get(self.port, path, **kw)

    def admin_port(self):
        """The port of an [admin] address = 127.0.0.1:0."""
        return int(re.search(r"listening on [0-9.]+:(\d+) \(admin\)",
                             self.porter.log()).group(1))

    def admin_get(self, path):
        return get(self.admin_port(), path)

    def client(self):
        return Client(self.port)


def main():
    unittest.main(verbosity=2)
