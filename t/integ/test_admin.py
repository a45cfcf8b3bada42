"""The [admin] listener: /status, /metrics in the Prometheus text format,
the allow list."""
import re
import signal
import socket
import time
import unittest

import harness
from harness import PorterTest, Client, dead_port, wait_for

METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)'
                    r'(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})?'
                    r' (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$')


def parse_prometheus(text):
    """Check the text exposition format strictly enough to catch what
    Prometheus rejects: TYPE before samples, one group per family, valid
    names, labels and values.  Returns {(name, labels): value}."""
    samples = {}
    types = {}
    done = set()
    current = None
    assert text.endswith("\n"), "must end with a newline"
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            assert METRIC_NAME.match(name), line
            assert kind in ("counter", "gauge", "histogram", "summary",
                            "untyped"), line
            assert name not in types, "second TYPE for " + name
            types[name] = kind
            if current is not None:
                done.add(current)
            current = name
            continue
        assert line and not line.startswith("#"), repr(line)
        m = SAMPLE.match(line)
        assert m, "bad sample line: " + line
        name = m.group(1)
        family = name
        if types.get(current) == "histogram":
            family = re.sub(r"_(bucket|sum|count)$", "", name)
        assert family == current, "%s outside its group (%s)" % (name,
                                                                 current)
        assert name not in done, name + " split in two groups"
        key = (name, m.group(2) or "")
        assert key not in samples, "duplicate sample " + line
        samples[key] = float(m.group(3))
    return samples


class AdminTest(PorterTest):
    porter_extra = ""

    def config_body(self):
        return super().config_body() + \
            "[admin]\naddress = 127.0.0.1:0\n"

    def test_metrics(self):
        for _ in range(3):
            self.assertEqual(self.get("/bytes/10").status, 200)
        self.assertEqual(self.get("/status/404").status, 404)
        r = self.admin_get("/metrics")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("content-type").startswith("text/plain"))
        # a worker counts a request after answering it: wait for the 4th
        m = wait_for(lambda: (lambda m: m if m[("porter_requests_total",
                     '{class="4xx"}')] == 1 and m[("porter_requests_total",
                     '{class="2xx"}')] >= 3 else None)(parse_prometheus(
                         self.admin_get("/metrics").body.decode())),
                     what="counters")
        self.assertGreaterEqual(m[("porter_requests_total", '{class="2xx"}')], 3)
        self.assertEqual(m[("porter_requests_total", '{class="4xx"}')], 1)
        self.assertGreaterEqual(m[("porter_sent_bytes_total", "")], 30)
        label = '{pool="app",server="%s"}' % self.o["o1"].hostport
        self.assertEqual(m[("porter_backend_requests_total", label)], 4)
        self.assertEqual(m[("porter_backend_up", label)], 1)
        self.assertEqual(m[("porter_backend_errors_total", label)], 0)
        self.assertEqual(m[("porter_generation", "")], 0)
        self.assertGreaterEqual(m[("porter_workers", '{state="idle"}')] +
                                m[("porter_workers", '{state="reading"}')],
                                1)

    def hist(self, m, name, labels):
        """The buckets of a histogram, checked: cumulative counts that
        never fall, +Inf last and equal to _count."""
        comma = labels + "," if labels else ""
        buckets = []
        for (n, l), v in m.items():
            mm = re.match(r'^\{%sle="([^"]+)"\}$' % re.escape(comma), l)
            if n == name + "_bucket" and mm:
                buckets.append((float(mm.group(1)), v))
        buckets.sort()
        self.assertEqual(buckets[-1][0], float("inf"))
        self.assertGreaterEqual(len(buckets), 10)
        for (_, a), (_, b) in zip(buckets, buckets[1:]):
            self.assertLessEqual(a, b, buckets)
        braced = "{%s}" % labels if labels else ""
        self.assertEqual(m[(name + "_count", braced)], buckets[-1][1])
        return dict(buckets), m[(name + "_sum", braced)]

    def test_histograms_and_build_info(self):
        for _ in range(5):
            self.assertEqual(self.get("/bytes/10").status, 200)
        for _ in range(2):
            self.assertEqual(self.get("/bytes/10?delay=60").status, 200)
        label = 'pool="app",server="%s"' % self.o["o1"].hostport

        def scraped():
            m = parse_prometheus(self.admin_get("/metrics").body.decode())
            if m.get(("porter_backend_response_seconds_count",
                      "{%s}" % label)) == 7 and \
                    m[("porter_request_duration_seconds_count", "")] >= 7:
                return m
            return None
        m = wait_for(scraped, what="7 requests in the histograms")
        b, total = self.hist(m, "porter_backend_response_seconds", label)
        self.assertEqual(b[float("inf")], 7)
        self.assertEqual(b[10.0], 7)
        # the two slow ones took more than 50 ms
        self.assertLessEqual(b[0.05], 5)
        self.assertGreaterEqual(total, 0.12)
        r, rtotal = self.hist(m, "porter_request_duration_seconds", "")
        self.assertGreaterEqual(r[float("inf")], 7)
        self.assertLessEqual(r[0.05], r[float("inf")] - 2)
        self.assertGreaterEqual(rtotal, 0.12)
        self.assertEqual(m[("porter_build_info", '{version="%s"}' %
                            self.version())], 1)
        start = m[("process_start_time_seconds", "")]
        self.assertLess(abs(start - time.time()), 3600)

    def version(self):
        import subprocess
        out = subprocess.run([harness.PORTER, "-v"], capture_output=True,
                             text=True).stdout
        return out.split()[1]

    def test_status_pages(self):
        self.get("/bytes/1")
        r = self.admin_get("/status")
        self.assertEqual(r.status, 200)
        self.assertIn(b"<h1>porter status</h1>", r.body)
        self.assertIn(self.o["o1"].hostport.encode(), r.body)
        # Every request so far is 2xx: the proxied one, the HTML page and
        # each text page polled before this one.  A worker counts a
        # request once it has answered, so a poll may see fewer than
        # that, never more; wait until one sees them all.
        polls = []

        def counted():
            t = self.admin_get("/status?format=text").body.decode()
            n = int(re.search(r"(?m)^requests 2xx ([0-9]+)$", t).group(1))
            polls.append(n)
            self.assertLessEqual(n, 1 + len(polls), polls)
            return t if n == 1 + len(polls) else None
        text = wait_for(counted, what="2xx count")
        self.assertRegex(text, r"(?m)^generation 0$")
        self.assertEqual(self.admin_get("/nope").status, 404)

    def test_reload_counts_and_survives(self):
        self.get("/bytes/1")
        self.porter.kill(signal.SIGHUP)
        wait_for(lambda: "generation 1" in self.porter.log(), what="reload")
        m = parse_prometheus(self.admin_get("/metrics").body.decode())
        self.assertEqual(m[("porter_reloads_total", "")], 1)
        self.assertEqual(m[("porter_generation", "")], 1)
        # counters and the backend table survive the reload
        self.assertGreaterEqual(m[("porter_requests_total",
                                   '{class="2xx"}')], 1)
        label = '{pool="app",server="%s"}' % self.o["o1"].hostport
        self.assertGreaterEqual(m[("porter_backend_requests_total", label)],
                                1)

    def test_proxy_port_does_not_serve_admin(self):
        r = self.get("/metrics")
        self.assertEqual(r.header("x-origin"), "o1")

    def test_backend_errors_counted(self):
        dead = dead_port(self)
        self.porter.rewrite("[pool app]\nserver = 127.0.0.1:%d\n"
                            "retries = 0\n[admin]\naddress = 127.0.0.1:0\n"
                            % dead)
        self.porter.kill(signal.SIGHUP)
        wait_for(lambda: "generation 1" in self.porter.log(), what="reload")
        wait_for(lambda: self.get("/").status == 502, what="502")
        m = parse_prometheus(self.admin_get("/metrics").body.decode())
        label = '{pool="app",server="127.0.0.1:%d"}' % dead
        self.assertGreaterEqual(m[("porter_backend_errors_total", label)], 1)
        self.assertNotIn(("porter_backend_requests_total",
                          '{pool="app",server="%s"}' %
                          self.o["o1"].hostport), m)


class FailedReloadBackendTest(PorterTest):
    """A reload that drops a server and then fails (a listening port in
    use) leaves the backend table as it was."""
    origins = ("o1", "o2")
    expect_errors = r"reload failed"

    def config_body(self):
        return super().config_body() + \
            "[admin]\naddress = 127.0.0.1:0\n"

    def test_failed_reload_keeps_backend_table(self):
        for _ in range(8):
            self.assertEqual(self.get("/bytes/1").status, 200)
        label = '{pool="app",server="%s"}' % self.o["o2"].hostport
        m = wait_for(lambda: (lambda m: m if m.get(
            ("porter_backend_requests_total", label), 0) >= 4 else None)(
                parse_prometheus(self.admin_get("/metrics").body.decode())),
            what="o2 counted")
        before = m[("porter_backend_requests_total", label)]
        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        try:
            self.porter.rewrite(
                "[pool app]\nserver = %s\n[admin]\naddress = 127.0.0.1:0"
                "\n[listen busy]\naddress = 127.0.0.1:%d\n" %
                (self.o["o1"].hostport, busy.getsockname()[1]))
            self.porter.kill(signal.SIGHUP)
            wait_for(lambda: "reload failed" in self.porter.log(),
                     what="reload failure")
        finally:
            busy.close()
        m = parse_prometheus(self.admin_get("/metrics").body.decode())
        self.assertGreaterEqual(m[("porter_backend_requests_total", label)],
                                before)
        # the old generation goes on with both servers, counted where
        # its workers count them
        seen = set()
        for _ in range(8):
            r = self.get("/bytes/1")
            self.assertEqual(r.status, 200)
            seen.add(r.header("x-origin"))
        self.assertEqual(seen, {"o1", "o2"})
        m = wait_for(lambda: (lambda m: m if m[(
            "porter_backend_requests_total", label)] >= before + 4 else
            None)(parse_prometheus(self.admin_get("/metrics").body.decode())),
            what="o2 counted on")
        self.assertEqual(m[("porter_backend_active", label)], 0)


class AdminDeniedTest(PorterTest):
    def config_body(self):
        return super().config_body() + \
            "[admin]\naddress = 127.0.0.1:0\nallow = 10.0.0.0/8 ::1\n"

    def test_403(self):
        r = self.admin_get("/metrics")
        self.assertEqual(r.status, 403)


class PrometheusCheckTest(unittest.TestCase):
    """The checker itself must reject what Prometheus rejects."""

    def test_rejects(self):
        bad = ["x 1",                                   # no TYPE
               "# TYPE a counter\na 1\n# TYPE b gauge\nb 1\na 2",
               "# TYPE a counter\na{x=\"1\"} one",
               "# TYPE a counter\n# TYPE a counter\na 1",
               "# TYPE a-b counter\na-b 1"]
        for text in bad:
            with self.assertRaises(AssertionError, msg=text):
                parse_prometheus(text + "\n")
        parse_prometheus("# HELP a x\n# TYPE a counter\na{l=\"v\"} 1\n"
                         "a{l=\"w\"} 2.5\n")


if __name__ == "__main__":
    harness.main()
