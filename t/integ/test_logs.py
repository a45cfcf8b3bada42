"""Access log formats and log reopening with workers that dropped
privileges."""
import json
import os
import signal
import unittest

import harness
from harness import PorterTest, wait_for


def lines_with(porter, text):
    return [l for l in porter.access() if text in l]


class JsonLogTest(PorterTest):
    porter_extra = "access_log_format = json\n"

    def test_json_lines(self):
        self.get("/bytes/42", headers={"User-Agent": 'a "quoted" agent',
                                       "Host": "json.test"})
        line = wait_for(lambda: lines_with(self.porter, "/bytes/42"),
                        what="log line")[0]
        obj = json.loads(line)
        self.assertEqual(obj["status"], 200)
        self.assertEqual(obj["bytes"], 42)
        self.assertEqual(obj["method"], "GET")
        self.assertEqual(obj["uri"], "/bytes/42")
        self.assertEqual(obj["host"], "json.test")
        self.assertEqual(obj["user_agent"], 'a "quoted" agent')
        self.assertEqual(obj["upstream"], self.o["o1"].hostport)
        self.assertIsInstance(obj["request_time"], float)
        self.assertEqual(obj["cache"], "-")


class CustomLogTest(PorterTest):
    porter_extra = ("access_log_format = $status $method $uri $host "
                    "up=$upstream t=$request_time\n")

    def test_custom_line(self):
        self.get("/bytes/7", headers={"Host": "c.test"})
        line = wait_for(lambda: lines_with(self.porter, "/bytes/7"),
                        what="log line")[0]
        self.assertRegex(line, r"^200 GET /bytes/7 c\.test up=%s "
                         r"t=\d+\.\d{3}$" % self.o["o1"].hostport)

    def test_bad_format_rejected(self):
        import subprocess
        bad = os.path.join(self.tmp, "bad.ini")
        with open(bad, "w") as f:
            f.write(self.porter.config_text(
                "[pool app]\nserver = 127.0.0.1:9\n",
                porter_extra="access_log_format = $status $nope\n"))
        r = subprocess.run([harness.PORTER, "-t", "-c", bad],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"bad\.ini:\d+: access_log_format: "
                         r"unknown variable \"\$nope\"")


@unittest.skipUnless(os.geteuid() == 0, "needs root")
class ReopenAsNobodyTest(PorterTest):
    porter_extra = "user = nobody\n"

    def setUp(self):
        super().setUp()
        # workers (nobody) must reach the log directory to reopen
        os.chmod(self.tmp, 0o755)

    def test_usr1_after_rename(self):
        self.get("/bytes/1")
        wait_for(lambda: self.porter.access(), what="first line")
        os.rename(self.porter.accesslog, self.porter.accesslog + ".1")
        self.porter.kill(signal.SIGUSR1)

        def fresh():
            self.get("/bytes/2")
            return lines_with(self.porter, "/bytes/2")
        wait_for(fresh, what="line in the new file")
        st = os.stat(self.porter.accesslog)
        import pwd
        self.assertEqual(st.st_uid, pwd.getpwnam("nobody").pw_uid)
        self.assertNotIn("reopen", "\n".join(
            l for l in self.porter.log().splitlines() if "[warn]" in l))


if __name__ == "__main__":
    harness.main()
