"""The worker pool: growth and shrink on the scoreboard, privilege drop,
max_requests_per_worker, refusing root workers."""
import os
import subprocess
import tempfile
import shutil
import unittest

import harness
from harness import PORTER, PorterTest, wait_for
from loadgen import Load
from test_backend import worker_fds


def nworkers(porter):
    return len(worker_fds(porter))


class DynamicPoolTest(PorterTest):
    workers = 2
    porter_extra = ("min_spare_workers = 1\nmax_spare_workers = 4\n"
                    "max_workers = 100\n")

    @harness.serial
    def test_grows_past_64_then_shrinks(self):
        # 64 clients on a slow backend keep every worker busy
        load = Load(self.port, threads=64, path="/bytes/10?delay=300",
                    size=10)
        try:
            wait_for(lambda: nworkers(self.porter) > 64, 60,
                     "pool to grow past 64 workers")
        finally:
            ok, failures = load.stop()
        self.assertEqual(failures, [])
        self.assertLessEqual(nworkers(self.porter), 100)
        # idle again: retired down to within the spare bounds
        wait_for(lambda: nworkers(self.porter) <= 4, 90,
                 "pool to shrink back")
        self.assertGreaterEqual(nworkers(self.porter), 2)
        self.assertEqual(self.get("/bytes/1").status, 200)


class QueueGrowthTest(PorterTest):
    """Clients waiting in the accept queue get workers in one step."""
    workers = 2
    porter_extra = ("min_spare_workers = 1\nmax_spare_workers = 4\n"
                    "max_workers = 60\nlog_level = debug\n")

    def test_crowd_of_keepalive_clients(self):
        import re
        clients = []
        try:
            # 30 keep-alive clients arrive at once and stay connected
            for _ in range(30):
                c = harness.Client(self.port)
                c.send(b"GET /bytes/1 HTTP/1.1\r\nHost: t\r\n\r\n")
                clients.append(c)
            for c in clients:
                self.assertEqual(c.read_response().status, 200)
            # spare-driven growth forks 1, 2, 4 ... a second; growth by
            # the accept queue forks what waits, so one of the first steps
            # is large
            # (the master logs a step once it has forked all of it)
            def steps():
                return [int(n) for n in re.findall(
                    r"idle workers: started (\d+)", self.porter.log())]
            wait_for(lambda: steps() and max(steps()[:3]) >= 8, 10,
                     "a large step among the first three")
            self.assertLessEqual(nworkers(self.porter), 60)
        finally:
            for c in clients:
                c.close()


class MaxWorkersTest(PorterTest):
    workers = 1
    porter_extra = ("min_spare_workers = 2\nmax_spare_workers = 3\n"
                    "max_workers = 3\n")

    def test_ceiling_logged_once(self):
        load = Load(self.port, threads=6, path="/bytes/10?delay=200",
                    size=10)
        try:
            wait_for(lambda: "max_workers (3) reached" in self.porter.log(),
                     30, "ceiling message")
            self.assertLessEqual(nworkers(self.porter), 3)
        finally:
            ok, failures = load.stop()
        self.assertEqual(failures, [])
        self.assertEqual(self.porter.log().count("max_workers (3) reached"),
                         1)


class MaxRequestsTest(PorterTest):
    workers = 1
    porter_extra = "max_requests_per_worker = 5\n"

    def test_worker_replaced(self):
        first = set(worker_fds(self.porter))
        for _ in range(12):
            self.assertEqual(self.get("/bytes/1").status, 200)
        wait_for(lambda: not (set(worker_fds(self.porter)) & first) and
                 nworkers(self.porter) == 1, what="worker replaced")


@unittest.skipUnless(os.geteuid() == 0, "needs root")
class PrivilegeTest(PorterTest):
    porter_extra = "user = nobody\ngroup = nogroup\n"

    def test_workers_run_as_nobody(self):
        import pwd
        import grp
        uid = pwd.getpwnam("nobody").pw_uid
        gid = grp.getgrnam("nogroup").gr_gid
        self.assertEqual(self.get("/bytes/1").status, 200)
        pids = list(worker_fds(self.porter))
        self.assertEqual(len(pids), 2)
        for pid in pids:
            with open("/proc/%s/status" % pid) as f:
                st = f.read()
            uids = [l.split()[1:] for l in st.splitlines()
                    if l.startswith("Uid:")][0]
            gids = [l.split()[1:] for l in st.splitlines()
                    if l.startswith("Gid:")][0]
            groups = [l.split()[1:] for l in st.splitlines()
                      if l.startswith("Groups:")][0]
            self.assertEqual(uids, [str(uid)] * 4)
            self.assertEqual(gids, [str(gid)] * 4)
            self.assertEqual(groups, [str(gid)])
        with open("/proc/%d/status" % self.porter.proc.pid) as f:
            self.assertIn("Uid:\t0\t", f.read())


@unittest.skipUnless(os.geteuid() == 0, "needs root")
class RootRefusedTest(unittest.TestCase):
    def test_no_user_as_root(self):
        tmp = tempfile.mkdtemp(prefix="porter-test.")
        try:
            conf = os.path.join(tmp, "p.ini")
            with open(conf, "w") as f:
                f.write("[porter]\npid_file = %s/p.pid\n[listen a]\n"
                        "address = 127.0.0.1:0\n[pool p]\n"
                        "server = 127.0.0.1:9\n" % tmp)
            r = subprocess.run([PORTER, "-d", "-c", conf], timeout=30,
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 1)
            self.assertIn("no user is set for the workers", r.stderr)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    harness.main()
