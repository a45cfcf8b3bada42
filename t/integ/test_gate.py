"""The gate: connections that wait for their head (slow heads, idle
keep-alive) hold no worker.  One worker in all, so that a connection the
worker held would keep every other client waiting."""
import os
import re
import signal
import socket
import time

import harness
from harness import PorterTest, Client, pattern, wait_for


def metric(text, event):
    m = re.search(r'^porter_gate_total\{event="%s"\} (\d+)$' % event, text,
                  re.M)
    return int(m.group(1)) if m else None


class GateBase(PorterTest):
    workers = 1
    porter_extra = "client_header_timeout = 2s\nmax_header_size = 1k\n"

    def config_body(self):
        return super().config_body() + "[admin]\naddress = 127.0.0.1:0\n"

    def gate(self, event):
        # the admin address is served by the same single worker
        return metric(self.admin_get("/metrics").body.decode(), event)

    def parked(self, n):
        wait_for(lambda: self.gate("parked") >= n, timeout=10,
                 what="%d connections parked" % n)

    def quick_get(self, path="/bytes/4"):
        """A request another client makes meanwhile: answered at once,
        not after the slow client's timeouts."""
        t0 = time.monotonic()
        c = Client(self.port, timeout=5)
        r = c.request(path=path)
        c.close()
        self.assertEqual(r.status, 200)
        self.assertLess(time.monotonic() - t0, 2)
        return r


class GateTest(GateBase):
    def test_slow_head_does_not_block(self):
        slow = Client(self.port)
        slow.send(b"GET /bytes/9 HTTP/1.1\r\nHost: t\r\n")
        self.parked(1)
        for _ in range(3):
            self.assertEqual(self.quick_get().body, pattern(4))
        slow.send(b"X-Late: 1\r\n\r\n")
        r = slow.read_response()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, pattern(9))
        slow.close()
        # the gate counts a hand-back once the record is sent, and the
        # worker may answer before the gate is scheduled again
        wait_for(lambda: self.gate("handed_back") >= 1, timeout=10,
                 what="the hand-back counted")

    def test_idle_keepalive_parked_and_answered(self):
        # counted before the connection exists: reading the counter after
        # its first answer may already see it parked (the admin page is
        # served by the same worker, slowly in a sanitizer build)
        before = self.gate("parked")
        idle = Client(self.port)
        self.assertEqual(idle.request(path="/bytes/3").body, pattern(3))
        self.parked(before + 1)
        for _ in range(3):
            self.quick_get()
        # the same connection, answered by the worker that served others
        r = idle.request(path="/bytes/5")
        self.assertEqual(r.body, pattern(5))
        self.assertFalse(idle.closed(0.2))
        idle.close()

    def test_pipelined_rest_kept(self):
        c = Client(self.port)
        c.send(b"GET /bytes/2 HTTP/1.1\r\nHo")
        self.parked(1)
        # the end of the head and a second request in one segment
        c.send(b"st: t\r\n\r\nGET /bytes/6 HTTP/1.1\r\nHost: t\r\n\r\n")
        self.assertEqual(c.read_response().body, pattern(2))
        self.assertEqual(c.read_response().body, pattern(6))
        c.close()

    def test_reload_keeps_parked(self):
        idle = Client(self.port)
        idle.request(path="/bytes/1")
        slow = Client(self.port)
        slow.send(b"GET /bytes/7 HTTP/1.1\r\n")
        self.parked(2)
        self.porter.kill(signal.SIGHUP)
        wait_for(lambda: "configuration reloaded: generation 1" in
                 self.porter.log(), what="reload")
        slow.send(b"Host: t\r\n\r\n")
        self.assertEqual(slow.read_response().body, pattern(7))
        self.assertEqual(idle.request(path="/bytes/8").body, pattern(8))
        idle.close()
        slow.close()

    def test_head_too_large_431(self):
        c = Client(self.port)
        c.send(b"GET / HTTP/1.1\r\nHost: t\r\n")
        self.parked(1)
        # 27 bytes, then 99 a line: the eleventh goes past 1k
        for _ in range(11):
            c.send(b"X-Pad: " + b"a" * 90 + b"\r\n")
            time.sleep(0.01)
        r = c.read_response()
        self.assertEqual(r.status, 431)
        c.close()
        self.assertEqual(self.gate("expired"), 1)
        self.quick_get()

    def test_expired_head_408(self):
        c = Client(self.port)
        c.send(b"GET / HTTP/1.1\r\nHost: t\r\n")
        self.parked(1)
        r = c.read_response()
        self.assertEqual(r.status, 408)
        self.assertTrue(c.closed())
        c.close()
        self.assertEqual(self.gate("expired"), 1)
        self.assertIn("timed out sending the request head",
                      self.porter.log())

    def test_no_first_byte_plain_close(self):
        c = Client(self.port)
        self.parked(1)
        t0 = time.monotonic()
        self.assertTrue(c.closed(10))
        self.assertGreater(time.monotonic() - t0, 0.3)
        c.close()


class GatePerIpTest(GateBase):
    porter_extra = "max_conns_per_ip = 2\n"

    def test_max_conns_per_ip_at_the_gate(self):
        idle = []
        for i in range(2):
            c = Client(self.port)
            c.request(path="/bytes/1")
            idle.append(c)
            self.parked(i + 1)
        # one count for the address, the gate's included: the worker
        # does not let it in
        third = Client(self.port)
        third.send(b"GET /bytes/2 HTTP/1.1\r\nHost: t\r\n\r\n")
        self.assertTrue(third.closed())
        third.close()
        self.assertIn("over max_conns_per_ip", self.porter.log())
        for c in idle:
            self.assertEqual(c.request(path="/bytes/3").body, pattern(3))
            c.close()


def client_from(port, src, timeout=20):
    """A Client from loopback address src: an address of the test's own,
    which the harness's probes (from 127.0.0.1) do not count against."""
    c = Client.__new__(Client)
    c.sock = socket.create_connection(("127.0.0.1", port), timeout,
                                      source_address=(src, 0))
    c.buf = b""
    return c


class GatePerIpSharedTest(GateBase):
    workers = 2
    porter_extra = "max_conns_per_ip = 2\n"

    def test_one_count_in_gate_and_workers(self):
        # one connection of the address in a worker, one in the gate
        busy = client_from(self.port, "127.0.0.7", timeout=10)
        busy.send(b"GET /bytes/1?delay=6000 HTTP/1.1\r\nHost: t\r\n"
                  b"Connection: close\r\n\r\n")
        idle = client_from(self.port, "127.0.0.7")
        idle.send(b"GET /bytes/2 HTTP/1.1\r\n")
        # held by the gate (counted parked before it counts the address)
        wait_for(lambda: re.search(r"^porter_gate_connections 1$",
                                   self.admin_get("/metrics").body.decode(),
                                   re.M), what="the gate holding it")
        # a third is over the limit: counted apart, each side saw one
        # (busy is answered after 6 s: well after this)
        third = client_from(self.port, "127.0.0.7")
        third.send(b"GET /bytes/3 HTTP/1.1\r\n")
        self.assertTrue(third.closed(3))
        third.close()
        self.assertEqual(busy.read_response().body, pattern(1))
        idle.send(b"Host: t\r\n\r\n")
        self.assertEqual(idle.read_response().body, pattern(2))
        for c in (busy, idle):
            c.close()


class GateUpgradeTest(GateBase):
    def test_upgrade_passes_parked_on(self):
        idle = Client(self.port)
        idle.request(path="/bytes/1")
        slow = Client(self.port)
        slow.send(b"GET /bytes/7 HTTP/1.1\r\n")
        self.parked(2)
        old = self.porter.proc.pid
        self.porter.kill(signal.SIGUSR2)
        new = self.porter.new_master(old)
        try:
            os.kill(old, signal.SIGQUIT)
            self.assertEqual(self.porter.proc.wait(30), 0)
            self.assertIn("gate: passed 2 of 2 connections on",
                          self.porter.log())
            slow.send(b"Host: t\r\n\r\n")
            self.assertEqual(slow.read_response().body, pattern(7))
            self.assertEqual(idle.request(path="/bytes/8").body,
                             pattern(8))
        finally:
            idle.close()
            slow.close()
            os.kill(new, signal.SIGQUIT)
            wait_for(lambda: not os.path.exists(self.porter.pidfile),
                     what="new master stopped")


class GateKillTest(GateBase):
    expect_errors = r"gate \d+ exited"

    def test_gate_killed(self):
        idle = Client(self.port)
        idle.request(path="/bytes/1")
        self.parked(1)
        # counted parked as it comes in, held once it is in the set
        wait_for(lambda: re.search(r"^porter_gate_connections 1$",
                                   self.admin_get("/metrics").body.decode(),
                                   re.M), what="the gate holding it")
        pid = int(wait_for(lambda: re.findall(r"gate (\d+) started",
                                              self.porter.log()),
                           what="gate pid")[-1])
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: len(re.findall(r"gate \d+ started",
                                        self.porter.log())) >= 2,
                 what="gate restarted")
        self.assertIn("holding 1 connection, now lost", self.porter.log())
        self.assertTrue(idle.closed())
        idle.close()
        self.assertEqual(self.gate("lost"), 1)
        # served, and the new gate parks as the old one did
        self.quick_get()
        slow = Client(self.port)
        slow.send(b"GET /bytes/3 HTTP/1.1\r\n")
        self.parked(2)
        self.quick_get()
        slow.send(b"Host: t\r\n\r\n")
        self.assertEqual(slow.read_response().body, pattern(3))
        slow.close()



class GateGrowTest(GateBase):
    """Connections made ready by the gate wait for a worker as those in
    a listen queue do: the pool grows for them at once, not by the
    once-a-second spare worker rule (1, 2, 4 more a second)."""
    porter_extra = ("client_header_timeout = 20s\nmin_spare_workers = 1\n"
                    "max_spare_workers = 2\nmax_workers = 9\n")

    def test_pool_grows_for_ready_connections(self):
        n, delay = 8, 4000
        slow = []
        for _ in range(n):
            c = Client(self.port, timeout=30)
            c.send(b"GET /bytes/2?delay=%d HTTP/1.1\r\nHost: t\r\n" % delay)
            slow.append(c)
        self.parked(n)
        # the pool back to its size at rest (parking grew it)
        from test_reload import children
        wait_for(lambda: len(children(self.porter.proc.pid)) <= 3,
                 timeout=30, what="three workers")
        # all heads whole at once: n ready connections, each a request
        # of `delay` ms, and one or two workers
        t0 = time.monotonic()
        for c in slow:
            c.send(b"\r\n")
        for c in slow:
            self.assertEqual(c.read_response().body, pattern(2))
            c.close()
        took = time.monotonic() - t0
        # grown at once: all in about one delay; by the spare rule the
        # last would start two seconds or more later
        self.assertLess(took, delay / 1000 + 1.5)



class GatePressedTest(GateBase):
    """A slow new connection goes to the gate at once, without the
    park_after grace, when other clients wait for a worker."""
    porter_extra = GateBase.porter_extra + "park_after = 3s\n"

    def test_slow_head_parked_at_once_when_clients_wait(self):
        busy = Client(self.port)
        busy.send(b"GET /bytes/1?delay=1000 HTTP/1.1\r\nHost: t\r\n"
                  b"Connection: close\r\n\r\n")
        # while the one worker is busy: a slow head, then a whole one,
        # both in the listen queue in that order
        slow = Client(self.port)
        slow.send(b"GET /bytes/3 HTTP/1.1\r\n")
        time.sleep(0.1)
        quick = Client(self.port, timeout=10)
        quick.send(b"GET /bytes/4 HTTP/1.1\r\nHost: t\r\n\r\n")
        self.assertEqual(busy.read_response().body, pattern(1))
        t0 = time.monotonic()
        # not after the slow head's 3 s grace
        self.assertEqual(quick.read_response().body, pattern(4))
        self.assertLess(time.monotonic() - t0, 2)
        slow.send(b"Host: t\r\n\r\n")
        self.assertEqual(slow.read_response().body, pattern(3))
        for c in (busy, slow, quick):
            c.close()


if __name__ == "__main__":
    harness.main()
