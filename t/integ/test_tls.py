"""TLS termination and TLS to backends, with certificates made here by
the openssl command."""
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
import unittest

import harness
from harness import PorterTest, wait_for

CERTS = tempfile.mkdtemp(prefix="porter-certs.")


def sh(*args):
    subprocess.run(args, check=True, capture_output=True, timeout=60)


def make_ca(name):
    sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
       "-keyout", os.path.join(CERTS, name + ".key"),
       "-out", os.path.join(CERTS, name + ".pem"), "-days", "2",
       "-subj", "/CN=" + name)


def make_cert(name, ca, sans, ec=False):
    key = os.path.join(CERTS, name + ".key")
    if ec:
        sh("openssl", "ecparam", "-name", "prime256v1", "-genkey",
           "-noout", "-out", key)
    else:
        sh("openssl", "genrsa", "-out", key, "2048")
    csr = os.path.join(CERTS, name + ".csr")
    sh("openssl", "req", "-new", "-key", key, "-out", csr, "-subj",
       "/CN=" + sans[0])
    ext = os.path.join(CERTS, name + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=" + ",".join(
            ("IP:" if re.match(r"^[0-9.]+$", s) else "DNS:") + s
            for s in sans) + "\n")
    sh("openssl", "x509", "-req", "-in", csr, "-CA",
       os.path.join(CERTS, ca + ".pem"), "-CAkey",
       os.path.join(CERTS, ca + ".key"), "-CAcreateserial", "-out",
       os.path.join(CERTS, name + ".pem"), "-days", "2", "-extfile", ext)


def make_ocsp(name, ca, status="V"):
    """A DER OCSP response about certificate name, signed by ca (the
    openssl ocsp command as a responder over an index of one line)."""
    serial = subprocess.run(
        ["openssl", "x509", "-in", c(name + ".pem"), "-noout", "-serial"],
        check=True, capture_output=True, text=True,
        timeout=60).stdout.strip().split("=")[1]
    index = c(name + ".index")
    with open(index, "w") as f:
        f.write("%s\t301231235959Z\t%s\t%s\tunknown\t/CN=%s\n" % (
            status, "261101000000Z" if status == "R" else "", serial, name))
    sh("openssl", "ocsp", "-index", index, "-rsigner", c(ca + ".pem"),
       "-rkey", c(ca + ".key"), "-CA", c(ca + ".pem"), "-issuer",
       c(ca + ".pem"), "-cert", c(name + ".pem"), "-respout",
       c(name + ".ocsp"), "-ndays", "1")
    # the chain a server sends: the certificate, then its issuer
    with open(c(name + "-chain.pem"), "w") as f:
        f.write(open(c(name + ".pem")).read() +
                open(c(ca + ".pem")).read())
    return serial


def setUpModule():
    make_ca("ca")
    make_ca("otherca")
    make_cert("a", "ca", ["a.test"])
    make_cert("b", "ca", ["b.test", "*.b.test"])
    make_cert("a-ec", "ca", ["a.test"], ec=True)
    make_cert("backend", "ca", ["127.0.0.1", "backend.test"])
    make_cert("client", "ca", ["client one"])
    make_cert("stranger", "otherca", ["stranger"])


def tearDownModule():
    shutil.rmtree(CERTS, ignore_errors=True)


def c(name):
    return os.path.join(CERTS, name)


def s_client(port, *args, stdin=b""):
    r = subprocess.run(["openssl", "s_client", "-connect",
                        "127.0.0.1:%d" % port] + list(args),
                       input=stdin, capture_output=True, timeout=30)
    return r.stdout.decode(errors="replace") + r.stderr.decode(
        errors="replace")


def tls_lines(first="a"):
    other = "b" if first == "a" else "a"
    return ("tls_certificate = %s\ntls_key = %s\n"
            "tls_certificate = %s\ntls_key = %s\n" %
            (c(first + ".pem"), c(first + ".key"), c(other + ".pem"),
             c(other + ".key")))


class HttpsTest(PorterTest):
    workers = 4

    def setUp(self):
        self.listen_extra = tls_lines()
        super().setUp()

    def curl(self, host, path, *extra):
        r = subprocess.run(["curl", "-sS", "--max-time", "20", "--cacert",
                            c("ca.pem"), "--resolve",
                            "%s:%d:127.0.0.1" % (host, self.port),
                            "https://%s:%d%s" % (host, self.port, path)] +
                           list(extra), capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_https_bodies_and_proto(self):
        self.assertEqual(self.curl("a.test", "/bytes/100000"),
                         harness.pattern(100000))
        self.assertEqual(self.curl("b.test", "/chunked/70000"),
                         harness.pattern(70000))
        self.assertIn(b"X-Forwarded-Proto: https",
                      self.curl("a.test", "/headers"))

    def test_sni_picks_certificate(self):
        self.assertIn("CN = a.test", s_client(self.port, "-servername",
                                               "a.test"))
        self.assertIn("CN = b.test", s_client(self.port, "-servername",
                                               "b.test"))
        self.assertIn("CN = b.test", s_client(self.port, "-servername",
                                               "x.b.test"))
        # no SNI, or an unknown name: the first certificate
        self.assertIn("CN = a.test", s_client(self.port))
        self.assertIn("CN = a.test", s_client(self.port, "-servername",
                                               "zzz.test"))

    def test_old_protocols_refused(self):
        # The client offers TLS 1.1 with the ciphers and security level
        # it needs (OpenSSL 3 refuses to offer it otherwise); a server
        # that allows TLS 1.1 completes this very handshake, so what
        # refuses it below is porter.
        old = ("-tls1_1", "-cipher", "ALL@SECLEVEL=0")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.set_ciphers("ALL:@SECLEVEL=0")
        ctx.minimum_version = ssl.TLSVersion.TLSv1_1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        ctx.load_cert_chain(c("a.pem"), c("a.key"))
        lsn = socket.socket()
        lsn.bind(("127.0.0.1", 0))
        lsn.listen(1)
        lsn.settimeout(20)

        def serve():
            try:
                conn, _ = lsn.accept()
                with ctx.wrap_socket(conn, server_side=True) as t:
                    t.settimeout(10)
                    t.recv(1)
            except (OSError, ssl.SSLError):
                pass
        th = threading.Thread(target=serve)
        th.start()
        try:
            control = s_client(lsn.getsockname()[1], *old)
        finally:
            th.join(30)
            lsn.close()
        self.assertIn("New, TLSv1.0, Cipher is", control)
        self.assertRegex(control, r"Protocol +: TLSv1\.1")

        out = s_client(self.port, *old)
        # the ClientHello went out, porter answered with an alert, and
        # no session was set up
        self.assertRegex(out, r"written [1-9][0-9]* bytes")
        self.assertRegex(out, r"alert protocol version")
        self.assertIn("Cipher is (NONE)", out)
        # and the worker that said no serves the next one
        self.assertEqual(self.curl("a.test", "/bytes/3"), b"012")

    def test_resumption_across_workers(self):
        sess = os.path.join(self.porter.tmp, "sess.pem")
        s_client(self.port, "-servername", "a.test", "-ign_eof",
                 "-sess_out", sess,
                 stdin=b"GET /bytes/1 HTTP/1.1\r\nHost: a.test\r\n"
                 b"Connection: close\r\n\r\n")
        reused = 0
        for _ in range(9):
            out = s_client(self.port, "-servername", "a.test", "-ign_eof",
                           "-sess_in", sess, stdin=b"GET /bytes/1 HTTP/1.1\r\nHost: "
                           b"a.test\r\nConnection: close\r\n\r\n")
            reused += "Reused, TLS" in out
        self.assertEqual(reused, 9)

    def test_websocket_tunnel_over_tls(self):
        # several records sent back to back arrive in one read (OpenSSL
        # read-ahead): the tunnel must relay all of them, not wait
        ctx = ssl.create_default_context(cafile=c("ca.pem"))
        raw = socket.create_connection(("127.0.0.1", self.port), 10)
        s = ctx.wrap_socket(raw, server_hostname="a.test")
        s.settimeout(10)
        s.sendall(b"GET /ws HTTP/1.1\r\nHost: a.test\r\n"
                  b"Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
        got = b""
        while b"\r\n\r\n" not in got:
            d = s.recv(4096)
            self.assertTrue(d)
            got += d
        head, _, got = got.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 101"), head)
        msgs = [b"one", b"two", b"three" * 1000, b"four"]
        for m in msgs:
            s.sendall(m)
        want = b"".join(msgs)
        while len(got) < len(want):
            d = s.recv(65536)
            self.assertTrue(d)
            got += d
        self.assertEqual(got, want)
        s.close()

    def test_garbage_handshake(self):
        s = socket.create_connection(("127.0.0.1", self.port), 10)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        s.settimeout(10)
        try:
            while s.recv(1000):
                pass
        except OSError:
            pass
        s.close()
        wait_for(lambda: "TLS handshake failed" in self.porter.log(),
                 what="logged")
        self.assertEqual(self.curl("a.test", "/bytes/3"), b"012")

    def test_reload_swaps_certificate(self):
        self.assertIn("CN = a.test", s_client(self.port))
        text = open(self.porter.conf).read()
        text = text.replace(c("a.pem"), "@A@").replace(c("a.key"), "@K@")
        text = text.replace(c("b.pem"), c("a.pem")).replace(c("b.key"),
                                                            c("a.key"))
        text = text.replace("@A@", c("b.pem")).replace("@K@", c("b.key"))
        with open(self.porter.conf, "w") as f:
            f.write(text)
        self.porter.kill(signal.SIGHUP)
        wait_for(lambda: "generation 1" in self.porter.log(), what="reload")
        wait_for(lambda: "CN = b.test" in s_client(self.port),
                 what="new default certificate")


class ListenerTlsKeysTest(PorterTest):
    """tls_protocols, tls_ciphers and tls_curves of a listener: the main
    one speaks TLS 1.2 only with two suites in porter's order, the other
    TLS 1.3 only with secp384r1 only.  Each check fails when its key is
    left out (the default accepts both versions, picks AES-GCM first and
    X25519)."""
    workers = 2

    def setUp(self):
        self.listen_extra = (
            "tls_certificate = %s\ntls_key = %s\n"
            "tls_protocols = TLSv1.2\n"
            "tls_ciphers = ECDHE-RSA-CHACHA20-POLY1305:"
            "ECDHE-RSA-AES256-GCM-SHA384\n" % (c("a.pem"), c("a.key")))
        super().setUp()

    def config_body(self):
        return ("[listen t13]\naddress = 127.0.0.1:0\n"
                "tls_certificate = %s\ntls_key = %s\n"
                "tls_protocols = TLSv1.3\ntls_curves = secp384r1\n" %
                (c("a.pem"), c("a.key")) + super().config_body())

    def t13_port(self):
        ports = [int(p) for p in re.findall(r"listening on 127\.0\.0\.1:"
                                            r"(\d+)$", self.porter.log(),
                                            re.M)]
        return [p for p in ports if p != self.port][0]

    def test_protocols(self):
        ok = s_client(self.port, "-tls1_2")
        self.assertIn("New, TLSv1.2, Cipher is ECDHE-", ok)
        out = s_client(self.port, "-tls1_3")
        self.assertIn("Cipher is (NONE)", out)
        ok = s_client(self.t13_port(), "-tls1_3")
        self.assertIn("New, TLSv1.3, Cipher is TLS_", ok)
        out = s_client(self.t13_port(), "-tls1_2")
        self.assertIn("Cipher is (NONE)", out)

    def test_ciphers_in_porters_order(self):
        out = s_client(self.port, "-tls1_2", "-cipher",
                       "ECDHE-RSA-AES256-GCM-SHA384:"
                       "ECDHE-RSA-CHACHA20-POLY1305")
        self.assertIn("Cipher is ECDHE-RSA-CHACHA20-POLY1305", out)
        out = s_client(self.port, "-tls1_2", "-cipher",
                       "ECDHE-RSA-AES128-GCM-SHA256")
        self.assertIn("Cipher is (NONE)", out)

    def test_curves(self):
        out = s_client(self.t13_port(), "-tls1_3", "-groups",
                       "X25519:secp384r1")
        self.assertRegex(out, r"Server Temp Key: ECDH, (secp384r1|P-384)")
        out = s_client(self.t13_port(), "-tls1_3", "-groups", "X25519")
        self.assertIn("Cipher is (NONE)", out)


class TicketRotationTest(PorterTest):
    """tls_ticket_rotation = 1m: a ticket is good for one to two periods
    from the key it was made under, then a full handshake again.  Fails
    when the keys do not rotate (the ticket resumes until the library's
    2 h lifetime) or when a ticket is refused at once after a rotation.
    Takes two minutes, in polls."""
    workers = 2
    porter_extra = "tls_ticket_rotation = 1m\n"

    def setUp(self):
        self.listen_extra = tls_lines()
        super().setUp()

    def resumes(self, sess):
        out = s_client(self.port, "-servername", "a.test", "-ign_eof",
                       "-sess_in", sess, stdin=b"GET /bytes/1 HTTP/1.1\r\n"
                       b"Host: a.test\r\nConnection: close\r\n\r\n")
        self.assertIn("Cipher is", out)
        return "Reused, TLS" in out

    def test_ticket_expires_after_two_rotations(self):
        sess = os.path.join(self.porter.tmp, "sess.pem")
        t0 = time.monotonic()
        s_client(self.port, "-servername", "a.test", "-ign_eof",
                 "-sess_out", sess,
                 stdin=b"GET /bytes/1 HTTP/1.1\r\nHost: a.test\r\n"
                 b"Connection: close\r\n\r\n")
        self.assertTrue(self.resumes(sess))
        # the key it was made under is the newest or the one before it
        # for at least one period; after two it is gone
        until = t0 + 150
        while time.monotonic() < until and self.resumes(sess):
            time.sleep(2)
        gone = time.monotonic() - t0
        self.assertLess(gone, 150, "the ticket still resumes")
        self.assertGreater(gone, 55)


class OcspStaplingTest(PorterTest):
    """tls_ocsp_response: a response from a file, stapled for clients
    that ask, per certificate of a context holding RSA and ECDSA."""
    workers = 2

    def setUp(self):
        self.serial = make_ocsp("a", "ca")
        self.ec_serial = make_ocsp("a-ec", "ca")
        make_ocsp("b", "ca", status="R")
        self.listen_extra = (
            "tls_certificate = %s\ntls_key = %s\ntls_ocsp_response = %s\n"
            "tls_certificate = %s\ntls_key = %s\ntls_ocsp_response = %s\n"
            "tls_certificate = %s\ntls_key = %s\n" % (
                c("a-chain.pem"), c("a.key"), c("a.ocsp"),
                c("a-ec-chain.pem"), c("a-ec.key"), c("a-ec.ocsp"),
                c("b-chain.pem"), c("b.key")))
        super().setUp()

    def status(self, *args):
        return s_client(self.port, "-status", *args)

    def test_stapled_per_certificate(self):
        out = self.status("-servername", "a.test", "-tls1_2", "-sigalgs",
                          "RSA+SHA256")
        self.assertIn("OCSP Response Status: successful", out)
        self.assertIn("Cert Status: good", out)
        self.assertIn("Serial Number: " + self.serial, out)
        out = self.status("-servername", "a.test", "-tls1_2", "-sigalgs",
                          "ECDSA+SHA256")
        self.assertIn("Serial Number: " + self.ec_serial, out)
        self.assertNotIn("Serial Number: " + self.serial, out)
        # TLS 1.3 carries it in the Certificate message
        out = self.status("-servername", "a.test", "-tls1_3")
        self.assertIn("OCSP Response Status: successful", out)
        # not asked for: not sent; no response configured: none
        self.assertNotIn("OCSP Response Status",
                         s_client(self.port, "-servername", "a.test"))
        out = self.status("-servername", "b.test")
        self.assertIn("CN = b.test", out)
        self.assertIn("OCSP response: no response sent", out)

    def test_reload_reads_new_response_and_refuses_wrong_one(self):
        text = open(self.porter.conf).read()
        # b's (revoked) response for a's certificate: refused, old kept
        self.porter.expect_errors = r"reload failed"
        with open(self.porter.conf, "w") as f:
            f.write(text.replace(c("a.ocsp"), c("b.ocsp")))
        self.porter.kill(signal.SIGHUP)
        wait_for(lambda: "not about the certificate" in self.porter.log(),
                 what="reload refused")
        self.assertIn("Serial Number: " + self.serial,
                      self.status("-servername", "a.test", "-tls1_2",
                                  "-sigalgs", "RSA+SHA256"))
        # a revoked status for a itself is stapled as it is
        make_ocsp("a", "ca", status="R")
        with open(self.porter.conf, "w") as f:
            f.write(text)
        self.porter.kill(signal.SIGHUP)
        wait_for(lambda: "Cert Status: revoked" in self.status(
            "-servername", "a.test", "-tls1_2", "-sigalgs", "RSA+SHA256"),
            what="new response after reload")


class ClientCertBase(PorterTest):
    """A TLS listener asking for client certificates (no tests here)."""

    def setUp(self):
        self.listen_extra = tls_lines() + (
            "tls_client_ca = %s\ntls_verify_client = %s\n" %
            (c("ca.pem"), self.mode))
        super().setUp()

    mode = "on"

    def curl(self, *extra):
        return subprocess.run(["curl", "-sS", "--max-time", "20", "--cacert",
                               c("ca.pem"), "--resolve",
                               "a.test:%d:127.0.0.1" % self.port,
                               "https://a.test:%d/headers" % self.port,
                               "-H", "X-Client-Subject: forged"] +
                              list(extra), capture_output=True, timeout=60)


class ClientCertTest(ClientCertBase):
    mode = "on"

    def test_required(self):
        r = self.curl("--cert", c("client.pem"), "--key", c("client.key"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"X-Client-Verify: SUCCESS", r.stdout)
        self.assertIn(b"X-Client-Subject: /CN=client one", r.stdout)
        self.assertNotIn(b"forged", r.stdout)
        self.assertNotEqual(self.curl().returncode, 0)
        r = self.curl("--cert", c("stranger.pem"), "--key",
                      c("stranger.key"))
        self.assertNotEqual(r.returncode, 0)


class OptionalClientCertTest(ClientCertBase):
    mode = "optional"

    def test_optional(self):
        r = self.curl()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"X-Client-Verify: NONE", r.stdout)
        self.assertNotIn(b"forged", r.stdout)
        r = self.curl("--cert", c("client.pem"), "--key", c("client.key"))
        self.assertIn(b"X-Client-Verify: SUCCESS", r.stdout)


class ConfigErrorsTest(unittest.TestCase):
    def test_bad_certificate_is_a_config_error(self):
        tmp = tempfile.mkdtemp()
        conf = os.path.join(tmp, "p.ini")
        with open(conf, "w") as f:
            f.write("[listen a]\naddress = 127.0.0.1:0\n"
                    "tls_certificate = /nonexistent.pem\n"
                    "[pool p]\nserver = 127.0.0.1:9\n")
        r = subprocess.run([harness.PORTER, "-t", "-c", conf],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn(conf + ":3: cannot load certificate /nonexistent.pem",
                      r.stderr)
        with open(conf, "w") as f:
            f.write("[listen a]\naddress = 127.0.0.1:0\n"
                    "tls_certificate = %s\ntls_key = %s\n"
                    "[pool p]\nserver = 127.0.0.1:9\n" %
                    (c("a.pem"), c("b.key")))
        r = subprocess.run([harness.PORTER, "-t", "-c", conf],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn(conf + ":3: ", r.stderr)
        # an OCSP response needs the issuer in the chain, and must be one
        make_ocsp("a", "ca")
        make_ocsp("b", "ca")
        for cert, resp, msg in (
                ("b.pem", "b.ocsp", "the issuer's certificate is not in"),
                ("b-chain.pem", "b.pem", "not a DER OCSP response"),
                ("b-chain.pem", "/nonexistent", "cannot open"),
                ("b-chain.pem", "a.ocsp", "not about the certificate")):
            with open(conf, "w") as f:
                f.write("[listen a]\naddress = 127.0.0.1:0\n"
                        "tls_certificate = %s\ntls_key = %s\n"
                        "tls_ocsp_response = %s\n"
                        "[pool p]\nserver = 127.0.0.1:9\n" %
                        (c(cert), c("b.key"), c(resp)))
            r = subprocess.run([harness.PORTER, "-t", "-c", conf],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 1, resp)
            self.assertIn(conf + ":5: tls_ocsp_response", r.stderr)
            self.assertIn(msg, r.stderr)
        with open(conf, "w") as f:
            f.write("[listen a]\naddress = 127.0.0.1:0\n"
                    "tls_ocsp_response = %s\n"
                    "[pool p]\nserver = 127.0.0.1:9\n" % c("b.ocsp"))
        r = subprocess.run([harness.PORTER, "-t", "-c", conf],
                           capture_output=True, text=True, timeout=30)
        self.assertIn(conf + ":3: tls_ocsp_response must follow its "
                      "tls_certificate", r.stderr)
        shutil.rmtree(tmp, ignore_errors=True)


class TlsBackend:
    """A tiny HTTPS origin (Python's ssl) on 127.0.0.1, port 0.  It asks
    for client certificates of ca.pem (optional), keeps whether each
    connection resumed a session (self.resumed, one entry a connection)
    and answers /cert... with the subject of the client's certificate."""

    def __init__(self, cert, key):
        outer = self
        self.resumed = []

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                outer.resumed.append(self.connection.session_reused)

            def do_GET(self):
                body = b"tls origin\n"
                if self.path.startswith("/cert"):
                    peer = self.connection.getpeercert() or {}
                    body = ("client %s\n" % dict(
                        x[0] for x in peer.get("subject", ())).get(
                            "commonName", "none")).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        ctx.load_verify_locations(c("ca.pem"))
        ctx.verify_mode = ssl.CERT_OPTIONAL
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket,
                                            server_side=True)
        self.port = self.httpd.server_address[1]
        self.t = threading.Thread(target=self.httpd.serve_forever,
                                  daemon=True)
        self.t.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class BackendTlsTest(PorterTest):
    origins = ()
    expect_errors = None

    def setUp(self):
        self.be = TlsBackend(c("backend.pem"), c("backend.key"))
        # cleanups run after tearDown, and also when setUp fails
        self.addCleanup(self.be.stop)
        super().setUp()

    def config_body(self):
        return ("[pool good]\nserver = 127.0.0.1:%d\ntls = on\n"
                "tls_ca_file = %s\n"
                "[pool wrongca]\nserver = 127.0.0.1:%d\ntls = on\n"
                "tls_ca_file = %s\nretries = 0\n"
                "[pool name]\nserver = 127.0.0.1:%d\ntls = on\n"
                "tls_ca_file = %s\ntls_server_name = backend.test\n"
                "[pool noverify]\nserver = 127.0.0.1:%d\ntls = on\n"
                "tls_ca_file = %s\ntls_verify = off\n"
                "[pool resume]\nserver = 127.0.0.1:%d\ntls = on\n"
                "tls_ca_file = %s\nkeepalive = 0\n"
                "[pool cert]\nserver = 127.0.0.1:%d\ntls = on\n"
                "tls_ca_file = %s\ntls_certificate = %s\ntls_key = %s\n"
                "[route good]\npath = /good\npool = good\n"
                "[route wrong]\npath = /wrong\npool = wrongca\n"
                "[route name]\npath = /name\npool = name\n"
                "[route noverify]\npath = /noverify\npool = noverify\n"
                "[route resume]\npath = /resume\npool = resume\n"
                "[route certnone]\npath = /certnone\npool = good\n"
                "[route cert]\npath = /cert\npool = cert\n" %
                (self.be.port, c("ca.pem"), self.be.port, c("otherca.pem"),
                 self.be.port, c("ca.pem"), self.be.port, c("otherca.pem"),
                 self.be.port, c("ca.pem"), self.be.port, c("ca.pem"),
                 c("client.pem"), c("client.key")))

    def test_verified_and_refused(self):
        r = self.get("/good")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"tls origin\n")
        self.assertEqual(self.get("/name").status, 200)
        r = self.get("/wrong")
        self.assertEqual(r.status, 502)
        self.assertIn("TLS handshake failed", self.porter.log())

    def test_keepalive_to_backend(self):
        # five requests on one client connection (one worker): one TLS
        # connection at the origin.  Fails with keepalive = 0 in the pool.
        cl = harness.Client(self.port)
        for _ in range(5):
            self.assertEqual(cl.request(path="/good").status, 200)
        cl.close()
        self.assertEqual(len(self.be.resumed), 1, self.be.resumed)

    def test_session_resumed(self):
        # a new connection for every request (keepalive = 0): after the
        # first of each worker, the saved session is resumed.  Fails when
        # porter does not keep (or offer) the session.
        for _ in range(8):
            self.assertEqual(self.get("/resume").status, 200)
        self.assertEqual(len(self.be.resumed), 8)
        self.assertGreaterEqual(sum(self.be.resumed), 8 - self.workers,
                                self.be.resumed)

    def test_verify_off(self):
        # a certificate of an authority porter does not know: refused by
        # default (/wrong), taken with tls_verify = off.  Fails without
        # the key (502).
        r = self.get("/noverify")
        self.assertEqual((r.status, r.body), (200, b"tls origin\n"))

    def test_client_certificate(self):
        # the pool's tls_certificate is presented; the origin reads its
        # subject.  Fails without the key ("client none").
        self.assertEqual(self.get("/cert").body, b"client client one\n")
        self.assertEqual(self.get("/certnone").body, b"client none\n")


if __name__ == "__main__":
    harness.main()
