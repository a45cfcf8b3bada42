"""Proxying through the real binary: bodies byte for byte, forwarding
headers, routing, interim responses, upgrades, the access log."""
import hashlib
import socket
import subprocess
import unittest

import harness
from harness import PorterTest, Client, pattern, wait_for


class BodiesTest(PorterTest):
    def curl(self, path, *args):
        r = subprocess.run(["curl", "-sS", "--max-time", "30",
                            "http://127.0.0.1:%d%s" % (self.port, path)] +
                           list(args), capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_curl_identical_bodies(self):
        for n in (0, 1, 4096, 65536, 1048576):
            self.assertEqual(self.curl("/bytes/%d" % n), pattern(n),
                             "size %d" % n)
        self.assertEqual(self.curl("/chunked/100000"), pattern(100000))
        self.assertEqual(self.curl("/close/70000"), pattern(70000))

    def test_raw_client_bodies(self):
        c = Client(self.port)
        for n in (0, 4096, 1048576):
            r = c.request(path="/bytes/%d" % n)
            self.assertEqual(r.status, 200)
            self.assertEqual(r.header("content-length"), str(n))
            self.assertEqual(r.body, pattern(n))
        r = c.request(path="/chunked/50000?size=333")
        self.assertEqual(r.header("transfer-encoding"), "chunked")
        self.assertEqual(r.body, pattern(50000))
        # close-delimited from the backend is re-framed as chunked for a
        # 1.1 client, so the client connection survives
        r = c.request(path="/close/3000")
        self.assertEqual(r.header("transfer-encoding"), "chunked")
        self.assertEqual(r.body, pattern(3000))
        r = c.request(path="/bytes/10")
        self.assertEqual(r.body, pattern(10))
        c.close()

    def test_close_delimited_to_http10(self):
        c = Client(self.port)
        r = c.request(path="/close/5000", version="1.0")
        self.assertIsNone(r.header("transfer-encoding"))
        self.assertEqual(r.body, pattern(5000))
        c.close()

    def test_trailers_pass(self):
        c = Client(self.port)
        r = c.request(path="/chunked/1000?trailer=1")
        self.assertEqual(r.body, pattern(1000))
        self.assertIn(b"X-Trailer: done", r.trailers)
        # framing, routing and cookies never come as trailers
        r = c.request(path="/chunked/1000?trailer=2")
        self.assertEqual(r.body, pattern(1000))
        self.assertIn(b"X-Trailer: done", r.trailers)
        self.assertEqual([l.split(b":")[0] for l in r.trailers],
                         [b"X-Trailer"])
        c.close()

    def test_request_bodies(self):
        c = Client(self.port)
        data = bytes(range(256)) * 1000
        r = c.request("POST", "/echo", body=data)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, data)
        # chunked request body, re-serialised toward the backend
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(data[i:i + 7000]),
                                              data[i:i + 7000])
                          for i in range(0, len(data), 7000))
        r = c.request("PUT", "/echo", body=chunks + b"0\r\n\r\n",
                      headers={"Transfer-Encoding": "chunked"})
        self.assertEqual(r.body, data)
        self.assertEqual(r.header("x-echo-method"), "PUT")
        r = c.request("POST", "/echo", body=b"")
        self.assertEqual(r.body, b"")
        c.close()

    def test_head_and_no_body_statuses(self):
        c = Client(self.port)
        r = c.request("HEAD", "/bytes/4096")
        self.assertEqual(r.header("content-length"), "4096")
        self.assertEqual(r.body, b"")
        for code in (204, 304):
            r = c.request(path="/status/%d" % code)
            self.assertEqual(r.status, code)
            self.assertEqual(r.body, b"")
        r = c.request(path="/bytes/5")
        self.assertEqual(r.body, pattern(5))
        c.close()

    def test_interim_response(self):
        c = Client(self.port)
        c.send(b"GET /continue HTTP/1.1\r\nHost: t\r\n\r\n")
        r = c.read_response(interim=True)
        self.assertEqual(r.status, 103)
        self.assertEqual(r.header("link"), "</x>")
        r = c.read_response()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"final\n")
        c.close()

    def test_expect_continue(self):
        c = Client(self.port)
        c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
               b"Expect: 100-continue\r\n\r\n")
        r = c.read_response(interim=True)
        self.assertEqual(r.status, 100)
        c.send(b"hello")
        r = c.read_response()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"hello")
        c.close()


class HeadersTest(PorterTest):
    def head_seen(self, **kw):
        r = self.get("/headers", **kw)
        self.assertEqual(r.status, 200)
        lines = r.body.decode().split("\r\n")
        return lines[0], [l for l in lines[1:] if l]

    def test_forwarding_fields(self):
        first, fields = self.head_seen(headers={
            "X-Forwarded-For": "10.1.1.1", "Connection": "close, X-Secret",
            "X-Secret": "drop me", "Keep-Alive": "timeout=5",
            "Proxy-Connection": "keep-alive", "TE": "trailers",
            "X-Keep": "yes", "Host": "example.test"})
        self.assertEqual(first, "GET /headers HTTP/1.1")
        names = [f.split(":")[0].lower() for f in fields]
        self.assertIn("X-Forwarded-For: 10.1.1.1, 127.0.0.1", fields)
        self.assertIn("X-Forwarded-Proto: http", fields)
        self.assertIn("X-Forwarded-Host: example.test", fields)
        self.assertIn("Host: example.test", fields)
        self.assertIn("Via: 1.1 porter", fields)
        self.assertIn("X-Keep: yes", fields)
        for hop in ("x-secret", "keep-alive", "proxy-connection", "te",
                    "connection"):
            self.assertNotIn(hop, names)

    def test_several_forwarded_for_fields_merged(self):
        c = Client(self.port)
        c.send(b"GET /headers HTTP/1.1\r\nHost: t\r\n"
               b"X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-For: 10.0.0.2, "
               b"10.0.0.3\r\n\r\n")
        lines = c.read_response().body.decode().split("\r\n")
        xff = [l for l in lines if l.lower().startswith("x-forwarded-for")]
        self.assertEqual(xff, ["X-Forwarded-For: 10.0.0.1, 10.0.0.2, "
                               "10.0.0.3, 127.0.0.1"])
        c.close()

    def test_absolute_form_authority_wins(self):
        c = Client(self.port)
        c.send(b"GET http://real.test/headers?q=1 HTTP/1.1\r\n"
               b"Host: other.test\r\n\r\n")
        r = c.read_response()
        lines = r.body.decode().split("\r\n")
        self.assertEqual(lines[0], "GET /headers?q=1 HTTP/1.1")
        self.assertIn("Host: real.test", lines)
        self.assertNotIn("Host: other.test", lines)
        c.close()

    def test_lookalike_names_not_forwarded(self):
        # "_" for "-": CGI-style servers would read these as the real
        # fields (a forged client certificate verdict, a second framing)
        first, fields = self.head_seen(headers={
            "X_Client_Verify": "SUCCESS", "Transfer_Encoding": "chunked",
            "Content_Length": "5", "X_Forwarded_For": "6.6.6.6",
            "X_Custom": "kept"})
        names = [f.split(":")[0].lower() for f in fields]
        for bad in ("x_client_verify", "transfer_encoding",
                    "content_length", "x_forwarded_for"):
            self.assertNotIn(bad, names)
        self.assertIn("X_Custom: kept", fields)

    def test_client_certificate_fields_not_forgeable(self):
        # a plain listener asks for no certificate: only porter may
        # speak of one, so the client's own claims never pass
        first, fields = self.head_seen(headers={
            "X-Client-Verify": "SUCCESS", "X-Client-Subject": "/CN=admin",
            "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.test"})
        names = [f.split(":")[0].lower() for f in fields]
        self.assertNotIn("x-client-verify", names)
        self.assertNotIn("x-client-subject", names)
        self.assertIn("X-Forwarded-Proto: http", fields)
        self.assertNotIn("X-Forwarded-Proto: https", fields)
        self.assertEqual(names.count("x-forwarded-proto"), 1)
        self.assertEqual(names.count("x-forwarded-host"), 1)

    def test_http10_without_host_gets_one(self):
        c = Client(self.port)
        c.send(b"GET /headers HTTP/1.0\r\n\r\n")
        lines = c.read_response().body.decode().split("\r\n")
        self.assertEqual(lines[0], "GET /headers HTTP/1.1")
        self.assertIn("Host: " + self.o["o1"].hostport, lines)
        c.close()

    def test_http10_upgrade_ignored(self):
        c = Client(self.port)
        c.send(b"GET /ws HTTP/1.0\r\nUpgrade: websocket\r\n"
               b"Connection: Upgrade\r\n\r\n")
        r = c.read_response()
        self.assertNotEqual(r.status, 101)
        c.close()

    def test_fragment_refused(self):
        c = Client(self.port)
        c.send(b"GET /headers#frag HTTP/1.1\r\nHost: t\r\n\r\n")
        self.assertEqual(c.read_response().status, 400)
        c.close()

    def test_response_hop_by_hop_removed(self):
        r = self.get("/bytes/1")
        self.assertIsNone(r.header("keep-alive"))
        self.assertEqual(r.header("x-origin"), "o1")
        self.assertEqual(r.header("via"), "1.1 porter")

    def test_access_log(self):
        self.get("/bytes/123", headers={"User-Agent": "tester/1",
                                        "Referer": "http://r/"})
        line = wait_for(lambda: [l for l in self.porter.access()
                                 if "/bytes/123" in l], what="log line")[0]
        self.assertRegex(line, r'^127\.0\.0\.1 - - \[[^]]+\] '
                         r'"GET /bytes/123 HTTP/1\.1" 200 123 '
                         r'"http://r/" "tester/1" 127\.0\.0\.1:\d+ '
                         r'\d+\.\d{3} \d+\.\d{3}$')


class RoutingTest(PorterTest):
    origins = ("default", "images", "api", "wild")

    def config_body(self):
        o = self.o
        return ("[pool default]\nserver = %s\n[pool images]\nserver = %s\n"
                "[pool api]\nserver = %s\n[pool wild]\nserver = %s\n"
                "[route img]\npath = /img/\npool = images\n"
                "[route api]\nhost = api.test\npool = api\n"
                "[route apiimg]\nhost = api.test\npath = /img/\n"
                "pool = images\n"
                "[route wild]\nhost = *.wild.test\npool = wild\n"
                "[route rest]\npath = /\npool = default\n" %
                (o["default"].hostport, o["images"].hostport,
                 o["api"].hostport, o["wild"].hostport))

    def origin_of(self, host, path):
        return self.get(path, headers={"Host": host}).header("x-origin")

    def test_routes(self):
        self.assertEqual(self.origin_of("x.test", "/a"), "default")
        self.assertEqual(self.origin_of("x.test", "/img/a.png"), "images")
        self.assertEqual(self.origin_of("api.test", "/v1"), "api")
        self.assertEqual(self.origin_of("API.TEST:8080", "/v1"), "api")
        self.assertEqual(self.origin_of("api.test", "/img/1"), "images")
        self.assertEqual(self.origin_of("a.wild.test", "/"), "wild")
        self.assertEqual(self.origin_of("wild.test", "/"), "default")


class NoRouteTest(PorterTest):
    def config_body(self):
        return ("[pool app]\nserver = %s\n[route only]\nhost = only.test\n"
                "pool = app\n" % self.o["o1"].hostport)

    def test_404_and_keepalive(self):
        c = Client(self.port)
        r = c.request(path="/", headers={"Host": "else.test"})
        self.assertEqual(r.status, 404)
        r = c.request(path="/", headers={"Host": "only.test"})
        self.assertEqual(r.status, 200)
        c.close()


class UpgradeTest(PorterTest):
    def test_websocket_tunnel(self):
        c = Client(self.port)
        c.send(b"GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n"
               b"Connection: Upgrade\r\n\r\n")
        r = c.read_response()
        self.assertEqual(r.status, 101)
        self.assertEqual(r.header("upgrade"), "websocket")
        for msg in (b"ping", b"x" * 100000):
            c.send(msg)
            got = c.buf
            c.buf = b""
            while len(got) < len(msg):
                d = c.sock.recv(65536)
                self.assertTrue(d)
                got += d
            self.assertEqual(got, msg)
        c.close()

    def test_h2c_upgrade_not_forwarded(self):
        r = self.get("/headers", headers={"Upgrade": "h2c",
                                          "Connection": "Upgrade"})
        self.assertEqual(r.status, 200)
        self.assertNotIn(b"h2c", r.body)


if __name__ == "__main__":
    harness.main()
