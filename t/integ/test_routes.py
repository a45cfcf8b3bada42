"""Routing table: each matcher, the specificity rule, and each route
action, through the real binary."""
import re
import socket
import unittest

import harness
from harness import PorterTest, Client, wait_for


class MatchersTest(PorterTest):
    origins = ("default", "api", "admin", "regex", "post", "beta", "v6")

    def setUp(self):
        super().setUp()
        ports = [int(p) for p in re.findall(r"listening on [0-9.]+:(\d+)",
                                            self.porter.log())]
        self.second = [p for p in ports if p != self.port][0]

    def config_body(self):
        o = self.o
        pools = "".join("[pool %s]\nserver = %s\n" % (n, o[n].hostport)
                        for n in o)
        return pools + """
[listen second]
address = 127.0.0.1:0

[route default]
pool = default

[route api]
path = /api/
pool = api

[route other-listener]
listen = second
pool = admin

[route images]
path_regex = ^/img/[0-9]+\\.png$
pool = regex

[route writes]
path = /api/
methods = POST PUT
pool = post

[route beta]
path = /api/
header = X-Beta: yes
pool = beta
"""

    def via(self, path, port=None, method="GET", headers=None):
        c = Client(port or self.port)
        try:
            return c.request(method, path, headers=headers,
                             body=b"" if method in ("POST", "PUT")
                             else None).header("x-origin")
        finally:
            c.close()

    def test_each_matcher(self):
        self.assertEqual(self.via("/"), "default")
        self.assertEqual(self.via("/api/x"), "api")
        self.assertEqual(self.via("/apix"), "default")
        self.assertEqual(self.via("/", port=self.second), "admin")
        self.assertEqual(self.via("/img/12.png"), "regex")
        self.assertEqual(self.via("/img/12.png?x=1"), "regex")
        self.assertEqual(self.via("/img/a.png"), "default")
        self.assertEqual(self.via("/api/x", method="POST"), "post")
        self.assertEqual(self.via("/api/x", method="PUT"), "post")
        self.assertEqual(self.via("/api/x", method="DELETE"), "api")
        self.assertEqual(self.via("/api/x", headers={"X-Beta": "yes"}),
                         "beta")
        self.assertEqual(self.via("/api/x", headers={"X-Beta": "no"}),
                         "api")


class ActionsTest(PorterTest):
    origins = ("app",)

    def config_body(self):
        a = self.o["app"].hostport
        return """[pool app]
server = %s

[route strip]
path = /svc/
strip_prefix = /svc
set_host = on
add_request_header = X-From: porter
add_request_header = X-Two: 2
remove_request_header = X-Secret
add_response_header = X-Served-By: edge
remove_response_header = X-Conn
read_timeout = 300ms
pool = app

[route old]
host = old.test
return = 301 https://new.test$request_uri

[route gone]
path = /gone
return = 410

[route rest]
pool = app
""" % a

    def test_strip_prefix_and_header_edits(self):
        r = self.get("/svc/headers?q=1", headers={"X-Secret": "s",
                                                  "Host": "client.test"})
        lines = r.body.decode().split("\r\n")
        self.assertEqual(lines[0], "GET /headers?q=1 HTTP/1.1")
        self.assertIn("Host: %s" % self.o["app"].hostport, lines)
        self.assertIn("X-Forwarded-Host: client.test", lines)
        self.assertIn("X-From: porter", lines)
        self.assertIn("X-Two: 2", lines)
        self.assertNotIn("X-Secret: s", lines)
        self.assertEqual(r.header("x-served-by"), "edge")
        self.assertIsNone(r.header("x-conn"))
        # the rest keeps everything
        r = self.get("/headers", headers={"X-Secret": "s"})
        self.assertIn(b"X-Secret: s", r.body)
        self.assertIsNotNone(r.header("x-conn"))

    def test_strip_on_the_normalized_path(self):
        # routed as /svc/ and stripped as such, re-encoded for the origin
        r = self.get("/%73vc/./headers?q=%20")
        lines = r.body.decode().split("\r\n")
        self.assertEqual(lines[0], "GET /headers?q=%20 HTTP/1.1")
        r = self.get("/svc/a%20b/../headers")
        self.assertEqual(r.body.decode().split("\r\n")[0],
                         "GET /headers HTTP/1.1")
        r = self.get("/svc/x%20y")
        self.assertEqual(r.status, 404)      # the origin saw /x%20y

    def test_strip_to_root(self):
        r = self.get("/svc/")
        self.assertEqual(r.status, 200)       # "/" on the origin
        self.assertIn(b"porter demo", r.body)

    def test_route_read_timeout(self):
        self.assertEqual(self.get("/svc/hang").status, 504)

    def test_return_redirect_and_status(self):
        r = self.get("/a/b?c=d", headers={"Host": "old.test"})
        self.assertEqual(r.status, 301)
        self.assertEqual(r.header("location"), "https://new.test/a/b?c=d")
        r = self.get("/gone")
        self.assertEqual(r.status, 410)
        c = Client(self.port)      # keep-alive goes on after a return
        self.assertEqual(c.request(path="/gone").status, 410)
        self.assertEqual(c.request(path="/bytes/2").status, 200)
        c.close()


class ReturnVariablesTest(PorterTest):
    """return's variables come from the request, with or without an
    access log (none is the default)."""
    porter_extra = "access_log = off\n"

    def config_body(self):
        return super().config_body() + """
[route https]
path = /go/
return = 301 https://$host$request_uri

[route rest]
pool = app
"""

    def test_host_and_uri_without_access_log(self):
        r = self.get("/go/x?y=1", headers={"Host": "site.test"})
        self.assertEqual(r.status, 301)
        self.assertEqual(r.header("location"), "https://site.test/go/x?y=1")
        c = Client(self.port)
        c.send(b"GET http://abs.test:8080/go/z HTTP/1.1\r\n"
               b"Host: other.test\r\n\r\n")
        r = c.read_response()
        self.assertEqual(r.header("location"), "https://abs.test:8080/go/z")
        c.close()
        self.assertEqual(self.porter.access(), [])


class RouteConfigErrorsTest(unittest.TestCase):
    def test_errors(self):
        import subprocess
        import tempfile
        import os
        cases = [
            ("[route r]\npath_regex = ([a-z\npool = app\n", 6,
             "path_regex:"),
            ("[route r]\npath_regex = (a{1,300}){1,300}\npool = app\n", 6,
             "path_regex: too complex"),
            ("[route r]\npath_regex = a++++++++++++++++++++++\npool = app\n",
             6, "path_regex: too complex"),
            ("[route r]\npath_regex = a{9223372036854775807,}\n"
             "pool = app\n", 6, "path_regex: too complex"),
            ("[route r]\nlisten = nope\npool = app\n", 5,
             "[route r]: no [listen nope]"),
            ("[route r]\nheader = NoColon\npool = app\n", 6,
             "header: expected NAME: value"),
            ("[route r]\nreturn = 301\n", 6, "return: a redirect needs"),
            ("[route r]\nreturn = 99 x\n", 6, "return: expected CODE"),
            ("[route r]\nmethods = G@T\npool = app\n", 6,
             "methods: invalid method"),
        ]
        for text, line, want in cases:
            with tempfile.NamedTemporaryFile("w", suffix=".ini",
                                             delete=False) as f:
                f.write("[listen main]\naddress = 127.0.0.1:0\n"
                        "[pool app]\nserver = 127.0.0.1:9\n" + text)
            r = subprocess.run([harness.PORTER, "-t", "-c", f.name],
                               capture_output=True, text=True, timeout=30)
            os.unlink(f.name)
            self.assertEqual(r.returncode, 1, text)
            self.assertIn("%s:%d: %s" % (f.name, line, want), r.stderr)


if __name__ == "__main__":
    harness.main()
