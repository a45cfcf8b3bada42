#!/usr/bin/env python3
"""slowload.py - hold many slow or idle clients on a proxy and time
ordinary requests meanwhile (t/bench/run's capacity cells).

  slowload.py --port P [--tls] --kind KIND [--clients N] [--ordinary M]
              [--interval S] [--pids "PID ..."]

KIND is what each of the N held clients does, each from its own loopback
address (127.1.0.0/16, so that per-address limits do not help):
  head    sends "GET / HTTP/1.1" and Host, then one more header line every
          interval, never the empty line (slowloris)
  upload  sends a PUT head with Content-Length: 1048576, then 16 bytes of
          the body every interval
  reader  asks for /16m.bin with a 4 KiB receive buffer and reads 4 KiB
          every interval
  hello   (a TLS port) sends the first bytes of a TLS handshake record
          (its header says 512 bytes), then one more byte every interval
  idle    makes one request (4k.bin), reads the whole answer, then stays
          connected and silent (keep-alive); at the end each one asks
          again, and every one of them must be answered

Once all are held, M ordinary requests (GET /4k.bin, a new connection each,
from 127.0.0.1, at most 8 at a time, 5 s each at most) are timed.  One line
of key=value pairs goes to stdout: held clients, ordinary requests answered
and their p50, p99 and max latency in ms, and, with --pids, how much the
RSS of those processes grew per held client (KiB).
"""

import argparse
import os
import resource
import socket
import ssl
import sys
import threading
import time

HOST = "127.0.0.1"


def rss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def source(i):
    # 127.1.0.1 ... : one address per held client
    i += 1
    return "127.1.%d.%d" % ((i >> 8) & 255, i & 255)


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def connect(port, src, tls, rcvbuf=0, timeout=10.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if src:
        s.bind((src, 0))
    s.settimeout(timeout)
    s.connect((HOST, port))
    if tls:
        s = tls_context().wrap_socket(s, server_hostname="localhost")
    return s


def read_response(s, deadline):
    """Read one whole response (Content-Length or chunked); its status."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        if time.monotonic() > deadline:
            raise TimeoutError("head")
        d = s.recv(65536)
        if not d:
            raise ConnectionError("closed before the head")
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = None
    chunked = False
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        k = k.strip().lower()
        if k == b"content-length":
            length = int(v.strip())
        elif k == b"transfer-encoding" and b"chunked" in v.lower():
            chunked = True
    if chunked:
        while not rest.endswith(b"0\r\n\r\n"):
            if time.monotonic() > deadline:
                raise TimeoutError("body")
            d = s.recv(65536)
            if not d:
                raise ConnectionError("closed in the body")
            rest += d
    elif length is not None:
        while len(rest) < length:
            if time.monotonic() > deadline:
                raise TimeoutError("body")
            d = s.recv(65536)
            if not d:
                raise ConnectionError("closed in the body")
            rest += d
    return status


def ordinary(port, tls, count, results):
    """Time count requests, at most 8 at once; latencies (s) or None."""
    lock = threading.Lock()
    todo = list(range(count))

    def one():
        while True:
            with lock:
                if not todo:
                    return
                todo.pop()
            t0 = time.monotonic()
            try:
                s = connect(port, None, tls, timeout=5.0)
                s.sendall(b"GET /4k.bin HTTP/1.1\r\nHost: localhost\r\n"
                          b"Connection: close\r\n\r\n")
                st = read_response(s, t0 + 5.0)
                s.close()
                ok = 200 <= st < 300
            except (OSError, ValueError, IndexError, TimeoutError):
                ok = False
            with lock:
                results.append(time.monotonic() - t0 if ok else None)

    ts = [threading.Thread(target=one) for _ in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(count * 5 + 10)


def pct(v, p):
    if not v:
        return float("nan")
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--tls", action="store_true")
    ap.add_argument("--kind", required=True,
                    choices=["head", "upload", "reader", "idle", "hello"])
    ap.add_argument("--clients", type=int, default=300)
    ap.add_argument("--ordinary", type=int, default=100)
    ap.add_argument("--interval", type=float, default=2.0)
    ap.add_argument("--pids", default="")
    ap.add_argument("--open-timeout", type=float, default=120.0,
                    help="stop opening held clients after this long")
    a = ap.parse_args()

    want = a.clients * 2 + 1000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE,
                               (want, max(hard, want)))
        except (ValueError, OSError):
            pass
    pids = [int(p) for p in a.pids.split()]
    rss0 = rss_kib(pids)

    held = []
    failed = 0
    t_open = time.monotonic()
    for i in range(a.clients):
        if time.monotonic() - t_open > a.open_timeout:
            failed += a.clients - i
            break
        try:
            s = connect(a.port, source(i), a.tls and a.kind != "hello",
                        rcvbuf=4096 if a.kind == "reader" else 0,
                        timeout=5.0)
            if a.kind == "hello":
                # handshake, TLS 1.0 record version, 512 bytes; ClientHello
                s.sendall(b"\x16\x03\x01\x02\x00\x01")
            elif a.kind == "head":
                s.sendall(b"GET /4k.bin HTTP/1.1\r\nHost: localhost\r\n")
            elif a.kind == "upload":
                s.sendall(b"PUT /upload HTTP/1.1\r\nHost: localhost\r\n"
                          b"Content-Length: 1048576\r\n\r\n")
            elif a.kind == "reader":
                s.sendall(b"GET /16m.bin HTTP/1.1\r\nHost: localhost\r\n\r\n")
            else:
                s.sendall(b"GET /4k.bin HTTP/1.1\r\nHost: localhost\r\n\r\n")
                if read_response(s, time.monotonic() + 5) != 200:
                    raise ConnectionError("not 200")
            held.append(s)
        except (OSError, ValueError, IndexError, TimeoutError):
            failed += 1
    t_open = time.monotonic() - t_open

    # keep them slow for one interval before measuring, and go on while
    # the ordinary requests run
    stop = threading.Event()

    def trickle():
        n = 0
        while not stop.wait(a.interval):
            n += 1
            for s in list(held):
                try:
                    if a.kind == "hello":
                        s.send(b"\x00")
                    elif a.kind == "head":
                        s.send(b"X-Slow-%d: %d\r\n" % (n, n))
                    elif a.kind == "upload":
                        s.send(b"0123456789abcdef")
                    elif a.kind == "reader":
                        s.setblocking(False)
                        try:
                            s.recv(4096)
                        except (BlockingIOError, ssl.SSLWantReadError):
                            pass
                        s.setblocking(True)
                except OSError:
                    pass

    tr = None
    if a.kind != "idle":
        tr = threading.Thread(target=trickle, daemon=True)
        tr.start()
        time.sleep(a.interval)
    rss1 = rss_kib(pids)

    results = []
    ordinary(a.port, a.tls, a.ordinary, results)
    stop.set()
    if tr is not None:
        tr.join(a.interval + 5)

    # idle clients: each asks again and must be answered
    again = ""
    if a.kind == "idle":
        ok = 0
        deadline = time.monotonic() + 60
        for s in held:
            try:
                s.sendall(b"GET /4k.bin HTTP/1.1\r\nHost: localhost\r\n"
                          b"Connection: close\r\n\r\n")
                s.settimeout(max(0.1, deadline - time.monotonic()))
                if read_response(s, deadline) == 200:
                    ok += 1
            except (OSError, ValueError, IndexError, TimeoutError):
                pass
        again = " again_answered=%d/%d" % (ok, len(held))

    for s in held:
        try:
            s.close()
        except OSError:
            pass
    lat = [r * 1000 for r in results if r is not None]
    per = ""
    if pids and held:
        per = " rss_growth_kib=%d per_client_kib=%.1f" % (
            rss1 - rss0, (rss1 - rss0) / len(held))
    print("kind=%s tls=%d held=%d refused=%d open_s=%.1f answered=%d/%d "
          "p50_ms=%.2f p99_ms=%.2f max_ms=%.2f%s%s" % (
              a.kind, 1 if a.tls else 0, len(held), failed, t_open,
              len(lat), a.ordinary, pct(lat, 50), pct(lat, 99),
              max(lat) if lat else float("nan"), again, per))
    return 0


if __name__ == "__main__":
    sys.exit(main())
