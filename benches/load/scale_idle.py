#!/usr/bin/env python3
"""Idle keep-alive connections and the proxy's memory (scale-conn.sh, part 1).

Opens connections to a proxy, each sending one authorised GET and reading the
200 with its 1 KiB body, then leaving the connection open and idle. The proxy's
memory (VmRSS from /proc/PID/status; Rss, Pss and Private from smaps_rollup) is
read before the first connection and at each checkpoint, after a short settle.
At the end, after the connections have idled for --hold seconds: the memory
again, the ESTABLISHED connections on the proxy's port counted with `ss`, and
one more request on some idle connections (the oldest, the newest, and others
spread between them) that must answer 200. One JSON object on stdout.

Usage: scale_idle.py --port P --pid PID --source 127.0.1.2 --checkpoints 1000,10000
       [--header 'Host: x'] [--path /files/report.bin] [--parallel 64] [--hold 20]
"""

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time


def memory(pid):
    """KiB: VmRSS, and Rss, Pss, Private (clean + dirty), Anonymous from smaps_rollup."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                out["vmrss"] = int(line.split()[1])
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[0].endswith(":"):
                fields[parts[0][:-1]] = int(parts[1])
    out["rss"] = fields.get("Rss", 0)
    out["pss"] = fields.get("Pss", 0)
    out["private"] = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
    out["anon"] = fields.get("Anonymous", 0)
    return out


def established(host, port):
    """ESTABLISHED TCP connections on the proxy's side: local address and port
    the proxy's (a client socket on 127.0.1.N may get the same port number)."""
    out = subprocess.run(
        ["ss", "-Htn", "state", "established", f"( src {host}:{port} )"],
        check=True, capture_output=True, text=True,
    ).stdout
    return sum(1 for line in out.splitlines() if line.strip())


async def exchange(reader, writer, request):
    """Sends one request, reads the answer; returns (status, body length)."""
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
        if name.strip().lower() == "transfer-encoding":
            raise RuntimeError("chunked answer: the harness expects Content-Length")
    body = await reader.readexactly(length)
    return status, len(body)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--source", default="127.0.0.1")
    ap.add_argument("--checkpoints", default="1000,10000")
    ap.add_argument("--header", action="append", default=[])
    ap.add_argument("--path", default="/files/report.bin")
    ap.add_argument("--parallel", type=int, default=64)
    ap.add_argument("--settle", type=float, default=2.0)
    ap.add_argument("--hold", type=float, default=20.0)
    ap.add_argument("--probes", type=int, default=20)
    ap.add_argument("--label", default="")
    a = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    checkpoints = [int(x) for x in a.checkpoints.split(",")]
    need = checkpoints[-1] + 100
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(need, soft)), hard))
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft < need:
        sys.exit(f"open files limit {soft} < {need}: raise ulimit -n")

    request = (f"GET {a.path} HTTP/1.1\r\n" + "".join(h + "\r\n" for h in a.header) + "\r\n").encode()
    conns = []
    bad = []
    sem = asyncio.Semaphore(a.parallel)

    async def open_one():
        async with sem:
            reader, writer = await asyncio.open_connection(a.host, a.port, local_addr=(a.source, 0))
            status, n = await exchange(reader, writer, request)
            if status != 200 or n != 1024:
                bad.append((status, n))
            conns.append((reader, writer))

    def log(msg):
        print(f"   {a.label}: {msg}", file=sys.stderr, flush=True)

    await asyncio.sleep(a.settle)
    result = {"label": a.label, "checkpoints": {}, "open_seconds": {}}
    result["checkpoints"]["0"] = memory(a.pid)
    log(f"before: VmRSS {result['checkpoints']['0']['vmrss']} KiB")
    t0 = time.monotonic()
    for cp in checkpoints:
        todo = cp - len(conns)
        step = time.monotonic()
        await asyncio.gather(*(open_one() for _ in range(todo)))
        result["open_seconds"][str(cp)] = round(time.monotonic() - step, 2)
        if bad:
            sys.exit(f"{a.label}: {len(bad)} answers were not 200 with 1024 bytes, e.g. {bad[:3]}")
        await asyncio.sleep(a.settle)
        result["checkpoints"][str(cp)] = memory(a.pid)
        log(f"{cp} connections open ({result['open_seconds'][str(cp)]} s): "
            f"VmRSS {result['checkpoints'][str(cp)]['vmrss']} KiB")
    result["open_total_seconds"] = round(time.monotonic() - t0, 2)

    log(f"holding {len(conns)} idle connections for {a.hold:.0f} s")
    await asyncio.sleep(a.hold)
    result["after_hold"] = memory(a.pid)
    result["established"] = established(a.host, a.port)
    # The idle connections still work: the oldest, the newest and others spread between.
    n = len(conns)
    picks = sorted({0, n - 1, *(i * n // max(a.probes - 1, 1) for i in range(a.probes - 1))})
    ok = 0
    for i in picks:
        reader, writer = conns[i]
        try:
            status, size = await asyncio.wait_for(exchange(reader, writer, request), 10)
            ok += status == 200 and size == 1024
        except Exception as e:  # a closed connection: counted as failed
            log(f"connection {i}: {type(e).__name__} {e}")
    result["probes"] = len(picks)
    result["probes_ok"] = ok
    result["idle_seconds_oldest"] = round(time.monotonic() - t0, 1)
    log(f"after {result['idle_seconds_oldest']} s: {result['established']} ESTABLISHED on the proxy's port, "
        f"{ok}/{len(picks)} idle connections answered a new request with 200")
    for _, writer in conns:
        writer.close()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
