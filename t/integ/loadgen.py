"""A small closed-loop HTTP load for tests: N threads, each on its own
keep-alive connection, reconnecting when the server says close.  Every
failure (refused, reset, bad status, short body) is recorded."""
import socket
import threading
import time

from harness import Client, pattern


class Load:
    def __init__(self, port, threads=8, path="/bytes/%d", size=100):
        self.port = port
        self.path = path % size if "%d" in path else path
        self.size = size
        self.stop_flag = threading.Event()
        self.lock = threading.Lock()
        self.ok = 0
        self.failures = []
        self.threads = [threading.Thread(target=self._run, daemon=True)
                        for _ in range(threads)]
        for t in self.threads:
            t.start()

    def _fail(self, what):
        with self.lock:
            self.failures.append(what)

    def _run(self):
        c = None
        while not self.stop_flag.is_set():
            try:
                if c is None:
                    c = Client(self.port, timeout=30)
                r = c.request(path=self.path)
                if r.status != 200 or (self.size is not None and
                                       r.body != pattern(self.size)):
                    self._fail("status %d, %d bytes" % (r.status,
                                                       len(r.body)))
                else:
                    with self.lock:
                        self.ok += 1
                if r.header("connection") == "close":
                    c.close()
                    c = None
            except (OSError, EOFError, ValueError, AssertionError) as e:
                self._fail(repr(e))
                if c is not None:
                    c.close()
                c = None
        if c is not None:
            c.close()

    def count(self):
        with self.lock:
            return self.ok

    def stop(self):
        self.stop_flag.set()
        for t in self.threads:
            t.join(60)
        return self.ok, self.failures
