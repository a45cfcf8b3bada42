"""The gate and TLS listeners: a handshake whose ClientHello trickles in
waits in the gate, not in a worker; idle TLS keep-alive connections,
which cannot move, are closed when clients wait for a worker.  One
worker in all, so that whatever the worker held would keep every other
client waiting."""
import os
import re
import shutil
import socket
import ssl
import tempfile
import time

import harness
from harness import PorterTest, wait_for
import test_gate

CERTS = tempfile.mkdtemp(prefix="porter-gatetls.")


def setUpModule():
    import test_tls
    test_tls.CERTS = CERTS
    test_tls.make_ca("ca")
    test_tls.make_cert("a", "ca", ["a.test"])


def tearDownModule():
    shutil.rmtree(CERTS, ignore_errors=True)


def c(name):
    return os.path.join(CERTS, name)


class TlsClient:
    """A TLS client over a memory BIO, so a test decides when each byte
    of the handshake goes out."""

    def __init__(self, port, timeout=10):
        ctx = ssl.create_default_context(cafile=c("ca.pem"))
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.inc, self.out, server_hostname="a.test")
        self.sock = socket.create_connection(("127.0.0.1", port), timeout)

    def hello(self):
        """The ClientHello record(s), not sent."""
        try:
            self.obj.do_handshake()
        except ssl.SSLWantReadError:
            pass
        return self.out.read()

    def _flush(self):
        data = self.out.read()
        if data:
            self.sock.sendall(data)

    def _feed(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("closed by porter")
        self.inc.write(data)

    def handshake(self):
        while True:
            try:
                self.obj.do_handshake()
                self._flush()
                return
            except ssl.SSLWantReadError:
                self._flush()
                self._feed()

    def request(self, path):
        self.obj.write(b"GET %s HTTP/1.1\r\nHost: a.test\r\n\r\n" %
                       path.encode())
        self._flush()
        buf = b""
        while b"\r\n\r\n" not in buf:
            buf += self._read()
        head, body = buf.split(b"\r\n\r\n", 1)
        n = int([l.split(b":")[1] for l in head.split(b"\r\n")
                 if l.lower().startswith(b"content-length:")][0])
        while len(body) < n:
            body += self._read()
        return int(head.split()[1]), body

    def _read(self):
        while True:
            try:
                return self.obj.read(65536)
            except ssl.SSLWantReadError:
                self._feed()

    def closed(self, timeout):
        """True when porter closes the connection within timeout."""
        end = time.monotonic() + timeout
        try:
            # a close_notify alert may come first
            while time.monotonic() < end:
                self.sock.settimeout(max(end - time.monotonic(), 0.01))
                if self.sock.recv(65536) == b"":
                    return True
            return False
        except socket.timeout:
            return False
        except OSError:
            return True

    def close(self):
        self.sock.close()


class GateTlsBase(test_gate.GateBase):
    porter_extra = "client_header_timeout = 8s\n"

    def setUp(self):
        self.listen_extra = "tls_certificate = %s\ntls_key = %s\n" % (
            c("a.pem"), c("a.key"))
        super().setUp()

    def quick_tls(self, path="/bytes/4", limit=2):
        t0 = time.monotonic()
        t = TlsClient(self.port)
        t.handshake()
        status, body = t.request(path)
        t.close()
        self.assertEqual(status, 200)
        self.assertLess(time.monotonic() - t0, limit)
        return body


class GateTlsTest(GateTlsBase):
    def test_slow_client_hello_does_not_block(self):
        before = self.gate("parked")
        slow = TlsClient(self.port)
        hello = slow.hello()
        self.assertGreater(len(hello), 20)
        # the record header and a little: not whole, so it waits
        slow.sock.sendall(hello[:12])
        self.parked(before + 1)
        for _ in range(3):
            self.assertEqual(self.quick_tls(), harness.pattern(4))
        # the rest: the gate hands it on, and the handshake reads it all
        slow.sock.sendall(hello[12:])
        slow.handshake()
        self.assertEqual(slow.request("/bytes/7"), (200, harness.pattern(7)))
        slow.close()
        wait_for(lambda: self.gate("handed_back") >= 1, timeout=10,
                 what="the hand-back counted")

    def test_silent_tls_client_waits_in_the_gate(self):
        before = self.gate("parked")
        # connected, one byte of a record header, then nothing
        silent = socket.create_connection(("127.0.0.1", self.port), 10)
        silent.sendall(b"\x16")
        self.parked(before + 1)
        self.assertEqual(self.quick_tls(), harness.pattern(4))
        silent.close()

    def test_garbage_closed_by_the_gate(self):
        before = self.gate("parked")
        s = socket.create_connection(("127.0.0.1", self.port), 10)
        s.sendall(b"\x16")
        self.parked(before + 1)
        # not a TLS record after all: closed, no worker involved
        s.sendall(b"GET / HTTP/1.1\r\n\r\n")
        s.settimeout(5)
        try:
            self.assertEqual(s.recv(100), b"")
        except ConnectionResetError:
            pass        # closed with those bytes unread
        s.close()
        wait_for(lambda: "no TLS handshake" in self.porter.log(),
                 what="the gate's log line")
        self.assertEqual(self.quick_tls(), harness.pattern(4))



class TlsIdleShedTest(GateTlsBase):
    porter_extra = "client_header_timeout = 8s\nkeepalive_timeout = 25s\n"

    def test_idle_tls_closed_when_clients_wait(self):
        # the one worker holds an idle TLS keep-alive connection: it
        # cannot go to the gate
        idle = TlsClient(self.port)
        idle.handshake()
        self.assertEqual(idle.request("/bytes/3"), (200, harness.pattern(3)))
        # a new client waits in the listen queue, the pool cannot grow:
        # the idle one is closed for it, long before keepalive_timeout
        t0 = time.monotonic()
        self.assertEqual(self.quick_tls(limit=8), harness.pattern(4))
        self.assertLess(time.monotonic() - t0, 8)
        self.assertTrue(idle.closed(5))
        idle.close()
        m = re.search(r"^porter_tls_idle_closed_total (\d+)$",
                      self.admin_get("/metrics").body.decode(), re.M)
        self.assertEqual(int(m.group(1)), 1)
        self.assertIn("idle TLS connection closed", self.porter.log())

    def test_idle_tls_kept_without_pressure(self):
        idle = TlsClient(self.port)
        idle.handshake()
        self.assertEqual(idle.request("/bytes/3"), (200, harness.pattern(3)))
        # nobody waits: it stays open across many looks
        self.assertFalse(idle.closed(1.0))
        self.assertEqual(idle.request("/bytes/5"), (200, harness.pattern(5)))
        idle.close()


if __name__ == "__main__":
    harness.main()
