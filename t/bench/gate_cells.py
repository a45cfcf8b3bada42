#!/usr/bin/env python3
"""The clients of t/bench/run's gate cells (waiting connections).

  gate_cells.py slow HOST PORT TLS NSLOW NQUICK WHAT PATH
      NSLOW slow clients from as many loopback addresses (127.0.1.1 on)
      that send a request head one line every 2 s (WHAT=head; on TLS
      after a whole handshake) or a ClientHello one byte every 2 s
      (WHAT=hello, TLS only), and meanwhile NQUICK ordinary requests one
      after the other, each on a new connection.
  gate_cells.py idle HOST PORT TLS NIDLE NQUICK PATH GATEPID
      NIDLE keep-alive clients that each make one request and stay idle,
      then NQUICK new clients one after the other, then every idle
      client's next request.  GATEPID (0: none): the VmRSS of that
      process before and while it holds the idle clients.

Prints one line of key=value pairs; latencies in ms.
"""
import asyncio
import resource
import ssl
import sys
import time

QUICK_TIMEOUT = 10
BATCH = 500


def ctx():
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


def src(i):
    return ("127.0.%d.%d" % (1 + i // 250, 1 + i % 250), 0)


async def read_response(r):
    """Read one response with a Content-Length body; True if 2xx."""
    head = await r.readuntil(b"\r\n\r\n")
    n = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            n = int(line.split(b":")[1])
    await r.readexactly(n)
    return head.startswith(b"HTTP/1.1 2")


def req(path, close=False):
    return (b"GET %s HTTP/1.1\r\nHost: bench\r\n%s\r\n" %
            (path.encode(), b"Connection: close\r\n" if close else b""))


async def quick(host, port, tls, path):
    t0 = time.monotonic()
    try:
        r, w = await asyncio.wait_for(asyncio.open_connection(
            host, port, ssl=ctx() if tls else None), QUICK_TIMEOUT)
        w.write(req(path, close=True))
        ok = await asyncio.wait_for(read_response(r), QUICK_TIMEOUT)
        w.close()
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError,
            ssl.SSLError):
        ok = False
    return ok, (time.monotonic() - t0) * 1000


async def quicks(host, port, tls, path, n, pre=""):
    lat, failed = [], 0
    for _ in range(n):
        ok, ms = await quick(host, port, tls, path)
        if ok:
            lat.append(ms)
        else:
            failed += 1
    lat.sort()

    def pct(p):
        return "%.2f" % lat[max(0, int(-(-len(lat) * p // 1)) - 1)] \
            if lat else "n/a"
    return ("{0}answered=%d {0}failed=%d {0}p50=%s {0}p99=%s {0}max=%s"
            .format(pre) %
            (len(lat), failed, pct(0.50), pct(0.99), pct(1.0)))


async def slow_one(host, port, tls, what, i, path, stop):
    try:
        if what == "hello":
            bio_in, bio_out = ssl.MemoryBIO(), ssl.MemoryBIO()
            obj = ctx().wrap_bio(bio_in, bio_out)
            try:
                obj.do_handshake()
            except ssl.SSLWantReadError:
                pass
            data = bio_out.read()
            r, w = await asyncio.open_connection(host, port,
                                                 local_addr=src(i))
            chunks = [data[k:k + 1] for k in range(len(data))]
        else:
            r, w = await asyncio.open_connection(
                host, port, ssl=ctx() if tls else None, local_addr=src(i))
            chunks = [b"GET %s HTTP/1.1\r\nHost: bench\r\n" % path.encode()]
            chunks += [b"X-Slow-%d: 1\r\n" % k for k in range(1000)]
        for c in chunks:
            w.write(c)
            await w.drain()
            try:
                await asyncio.wait_for(stop.wait(), 2)
                break
            except asyncio.TimeoutError:
                pass
        w.close()
    except (OSError, ssl.SSLError):
        pass


async def slow(host, port, tls, nslow, nquick, what, path):
    stop = asyncio.Event()
    tasks = [asyncio.ensure_future(slow_one(host, port, tls, what, i, path,
                                            stop)) for i in range(nslow)]
    await asyncio.sleep(1)
    out = await quicks(host, port, tls, path, nquick)
    stop.set()
    if tasks:
        await asyncio.wait(tasks, timeout=10)
    return "slow=%d %s" % (nslow, out)


def rss(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


async def idle_open(host, port, tls, path, i):
    try:
        r, w = await asyncio.wait_for(asyncio.open_connection(
            host, port, ssl=ctx() if tls else None, local_addr=src(i % 5000)),
            30)
        w.write(req(path))
        if await asyncio.wait_for(read_response(r), 30):
            return r, w
        w.close()
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError,
            ssl.SSLError):
        pass
    return None


async def idle_next(conn, path):
    r, w = conn
    try:
        w.write(req(path, close=True))
        ok = await asyncio.wait_for(read_response(r), 30)
        w.close()
        return "answered" if ok else "failed"
    except asyncio.IncompleteReadError as e:
        # closed while idle: a client opens a new connection then
        return "closed" if not e.partial else "failed"
    except (ConnectionError, ssl.SSLError):
        return "closed"
    except (OSError, asyncio.TimeoutError):
        return "failed"


async def idle(host, port, tls, nidle, nquick, path, gate):
    before = rss(gate) if gate else 0
    conns = []
    for b in range(0, nidle, BATCH):
        got = await asyncio.gather(*[idle_open(host, port, tls, path, i)
                                     for i in range(b, min(b + BATCH, nidle))])
        conns += [c for c in got if c is not None]
    await asyncio.sleep(1)      # idle past park_after
    held = rss(gate) if gate else 0
    out = await quicks(host, port, tls, path, nquick, "new_")
    res = {"answered": 0, "closed": 0, "failed": 0}
    for b in range(0, len(conns), BATCH):
        for v in await asyncio.gather(*[idle_next(c, path)
                                        for c in conns[b:b + BATCH]]):
            res[v] += 1
    per = "%.2f" % ((held - before) / len(conns)) if gate and conns \
        else "n/a"
    return ("idle=%d opened=%d next_answered=%d next_closed=%d "
            "next_failed=%d gate_kib_per_conn=%s %s" %
            (nidle, len(conns), res["answered"], res["closed"],
             res["failed"], per, out))


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    a = sys.argv[1:]
    if len(a) == 8 and a[0] == "slow":
        out = asyncio.run(slow(a[1], int(a[2]), a[3] == "1", int(a[4]),
                               int(a[5]), a[6], a[7]))
    elif len(a) == 8 and a[0] == "idle":
        out = asyncio.run(idle(a[1], int(a[2]), a[3] == "1", int(a[4]),
                               int(a[5]), a[6], int(a[7])))
    else:
        sys.exit(__doc__)
    print(out)


if __name__ == "__main__":
    main()
