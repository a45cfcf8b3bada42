"""The master and its workers: respawn, graceful and fast stop, log
reopening, daemon mode."""
import os
import signal
import subprocess
import threading
import time
import unittest

import harness
from harness import PORTER, PorterTest, Client, pattern, wait_for
from test_backend import worker_fds


def workers(porter):
    return sorted(int(p) for p in worker_fds(porter))


class ProcessTest(PorterTest):
    workers = 3
    # the test kills a worker on purpose: the master logs it as an error
    expect_errors = r"killed by signal 9"

    def test_worker_count_and_respawn(self):
        pids = wait_for(lambda: (lambda w: w if len(w) == 3 else None)(
            workers(self.porter)), what="3 workers")
        os.kill(pids[0], signal.SIGKILL)
        new = wait_for(lambda: (lambda w: w if len(w) == 3 and
                                pids[0] not in w else None)(
            workers(self.porter)), what="respawned worker")
        self.assertNotIn(pids[0], new)
        self.assertEqual(self.get("/bytes/8").body, pattern(8))
        self.assertIn("killed by signal 9", self.porter.log())

    def test_reopen_logs(self):
        self.get("/bytes/1")
        wait_for(lambda: self.porter.access(), what="access log")
        os.rename(self.porter.accesslog, self.porter.accesslog + ".1")
        self.porter.kill(signal.SIGUSR1)
        wait_for(lambda: "reopening log files" in self.porter.log(),
                 what="master reopened")

        def fresh_line():
            self.get("/bytes/2")
            return any("/bytes/2" in l for l in self.porter.access())
        # workers reopen between connections: poll until each has
        wait_for(fresh_line, what="line in the new access log")


class GracefulStopTest(PorterTest):
    workers = 1

    def test_quit_finishes_inflight_request(self):
        c = Client(self.port)
        c.send(b"GET /bytes/5000?delay=700 HTTP/1.1\r\nHost: t\r\n\r\n")
        # the origin has the request (it counts it on arrival)
        self.o["o1"].wait_requests(1)
        self.porter.kill(signal.SIGQUIT)
        r = c.read_response()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, pattern(5000))
        self.assertEqual(r.header("connection"), "close")
        self.assertEqual(self.porter.proc.wait(30), 0)
        self.assertFalse(os.path.exists(self.porter.pidfile))
        c.close()

    def test_quit_closes_idle_keepalive(self):
        c = Client(self.port)
        c.request(path="/bytes/1")
        self.porter.kill(signal.SIGQUIT)
        self.assertTrue(c.closed(20))
        self.assertEqual(self.porter.proc.wait(30), 0)
        c.close()


class FastStopTest(PorterTest):
    def test_term(self):
        c = Client(self.port)
        c.send(b"GET /hang HTTP/1.1\r\nHost: t\r\n\r\n")
        self.o["o1"].wait_requests(1)
        self.porter.kill(signal.SIGTERM)
        self.assertEqual(self.porter.proc.wait(20), 0)
        self.assertTrue(c.closed(10))
        self.assertFalse(os.path.exists(self.porter.pidfile))
        c.close()


class DaemonTest(unittest.TestCase):
    def test_daemonizes_and_stops_by_pid_file(self):
        import tempfile
        import shutil
        tmp = tempfile.mkdtemp(prefix="porter-test.")
        o = harness.Origin("d")
        try:
            conf = os.path.join(tmp, "p.ini")
            pidf = os.path.join(tmp, "p.pid")
            log = os.path.join(tmp, "error.log")
            with open(conf, "w") as f:
                f.write("[porter]\nworkers = 1\npid_file = %s\n"
                        "user = root\n"
                        "error_log = %s\n[listen a]\n"
                        "address = 127.0.0.1:0\n[pool p]\nserver = %s\n"
                        % (pidf, log, o.hostport))
            r = subprocess.run([PORTER, "-c", conf], timeout=30,
                               stdin=subprocess.DEVNULL,
                               capture_output=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            def read(p):
                with open(p) as f:
                    return f.read()
            pid = int(wait_for(lambda: os.path.exists(pidf) and
                               read(pidf).strip(), what="pid"))
            # whatever fails below, the daemon does not outlive the test
            self.addCleanup(harness.stop_pid, pid)
            text = wait_for(lambda: "porter started" in read(log) and
                            read(log), what="log")
            import re
            port = int(re.search(r"listening on [0-9.]+:(\d+)",
                                 text).group(1))
            self.assertEqual(harness.get(port, "/bytes/6").body, pattern(6))
            os.kill(pid, signal.SIGQUIT)
            wait_for(lambda: not os.path.exists(pidf), what="daemon exit")
            self.assertNotRegex(read(log), harness.BAD_LOG)
        finally:
            o.stop()
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    harness.main()
