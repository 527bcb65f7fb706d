#!/usr/bin/env python3
"""An open-loop login flood against one gateway (scale-conn.sh, part 2).

Offers --rate POST /auth/login a second for --seconds, on a fixed schedule that
does not wait for answers (open loop: a slow gateway does not slow the attack,
as it would a closed-loop client like wrk). Each attempt is a new connection
and names a new client in X-Forwarded-For (the gateway trusts 127.0.0.1 as its
load balancer), so the per-address throttle never triggers and each attempt
reaches the password check. --email EMAIL: wrong passwords for that account;
without it, unknown accounts (nobodyN@flood.example).

Alongside, once a second, a legitimate sign-in (--probe-email/--probe-password,
right password, its own new address): what a real person trying to sign in
meets during the flood. Every --sample seconds the gateway's /metrics
(gateway_password_hash_queue_depth) and RSS are sampled. The gateway's CPU is
split between its hashing threads (gateway-hash-N) and the rest, read from
/proc/PID/task over the flood window.

One JSON object on stdout: offered and answered rates, statuses, latencies,
Retry-After values, queue depth, CPU, metrics counters before and after.
"""

import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import time

HZ = os.sysconf("SC_CLK_TCK")


def thread_ticks(pid):
    """utime+stime in ticks: (hashing threads, all other threads)."""
    hashing = other = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                comm = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        t = int(fields[11]) + int(fields[12])
        if comm.startswith("gateway-hash"):
            hashing += t
        else:
            other += t
    return hashing, other


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def http(host, port, raw, timeout):
    """One request on a new connection: (status, headers dict, seconds)."""
    t0 = time.monotonic()
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        writer.write(raw)
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout - (time.monotonic() - t0))
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return status, headers, time.monotonic() - t0
    finally:
        writer.close()


def metrics_text(host, port):
    import urllib.request
    with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=5) as r:
        return r.read().decode()


def metric(text, name, labels=""):
    m = re.search(rf"^{re.escape(name)}{re.escape(labels)}\s+([0-9.e+-]+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


def pct(values, p):
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--metrics-port", type=int, required=True)
    ap.add_argument("--rate", type=float, default=200)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--email", default="")
    ap.add_argument("--csrf", required=True)
    ap.add_argument("--cookie", required=True)
    ap.add_argument("--probe-email", required=True)
    ap.add_argument("--probe-password", required=True)
    ap.add_argument("--ip-offset", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=40)
    ap.add_argument("--sample", type=float, default=0.5)
    ap.add_argument("--label", default="")
    a = ap.parse_args()

    def ip(n):
        n += a.ip_offset
        return f"10.{(n // 62500) % 250}.{(n // 250) % 250}.{n % 250 + 1}"

    def post(email, password, client_ip):
        from urllib.parse import quote
        body = f"email={quote(email)}&password={quote(password)}&csrf={a.csrf}&rd=%2F".encode()
        return (
            "POST /auth/login HTTP/1.1\r\nHost: storage.localhost\r\n"
            f"X-Forwarded-For: {client_ip}\r\nOrigin: http://storage.localhost\r\n"
            f"Cookie: gw_csrf={a.cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode() + body

    results = []   # (status, seconds, retry-after)
    probes = []
    errors = []

    async def attempt(n):
        email = a.email or f"nobody{n + a.ip_offset}@flood.example"
        try:
            status, headers, secs = await http(a.host, a.port, post(email, f"Wrong-{n}-pass", ip(n)), a.timeout)
            results.append((status, secs, headers.get("retry-after")))
        except Exception as e:
            errors.append(type(e).__name__)

    async def probe(k):
        try:
            status, _, secs = await http(a.host, a.port, post(a.probe_email, a.probe_password, ip(900000 + k)),
                                         a.timeout)
            probes.append((status, secs))
        except Exception as e:
            probes.append((type(e).__name__, None))

    samples = []
    stop = asyncio.Event()

    async def sampler():
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            try:
                text = await loop.run_in_executor(None, metrics_text, a.host, a.metrics_port)
                samples.append((metric(text, "gateway_password_hash_queue_depth"), rss_kib(a.pid)))
            except Exception as e:
                print(f"   metrics: {e}", file=sys.stderr)
            try:
                await asyncio.wait_for(stop.wait(), a.sample)
            except asyncio.TimeoutError:
                pass

    m0 = metrics_text(a.host, a.metrics_port)
    rss0 = rss_kib(a.pid)
    h0, o0 = thread_ticks(a.pid)
    sampling = asyncio.create_task(sampler())
    tasks = []
    total = int(a.rate * a.seconds)
    start = time.monotonic()
    next_log = 5
    for n in range(total):
        due = start + n / a.rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(attempt(n)))
        if n % int(a.rate) == 0:
            tasks.append(asyncio.create_task(probe(n // int(a.rate))))
        el = time.monotonic() - start
        if el >= next_log:
            depth = samples[-1][0] if samples else float("nan")
            print(f"   {a.label}: {el:4.0f} s, {n + 1} offered, {len(results)} answered, hash queue {depth:.0f}",
                  file=sys.stderr, flush=True)
            next_log += 5
    launched = time.monotonic() - start
    # The flood window ends when the last attempt is offered; CPU is read over it.
    await asyncio.sleep(max(0.0, a.seconds - launched))
    h1, o1 = thread_ticks(a.pid)
    window = time.monotonic() - start
    answered_in_window = len(results)
    print(f"   {a.label}: offered {total} in {launched:.1f} s; waiting for the answers still due", file=sys.stderr,
          flush=True)
    await asyncio.gather(*tasks)
    drained = time.monotonic() - start
    stop.set()
    await sampling
    m1 = metrics_text(a.host, a.metrics_port)

    by_status = {}
    for s, _, _ in results:
        by_status[str(s)] = by_status.get(str(s), 0) + 1
    lat = {}
    for s in set(s for s, _, _ in results):
        v = [t * 1000 for st, t, _ in results if st == s]
        lat[str(s)] = {"p50_ms": pct(v, 50), "p99_ms": pct(v, 99), "max_ms": max(v)}
    all_ms = [t * 1000 for _, t, _ in results]
    retry = sorted(set(r for s, _, r in results if r is not None))
    hashes = {k: metric(m1, "gateway_password_hashes_total", f'{{kind="{k}"}}') -
              metric(m0, "gateway_password_hashes_total", f'{{kind="{k}"}}') for k in ("verify", "hash")}
    logins = {}
    for m in re.finditer(r'^gateway_logins_total\{result="([^"]+)"\}\s+([0-9.e+-]+)$', m1, re.M):
        logins[m.group(1)] = float(m.group(2)) - metric(m0, "gateway_logins_total", f'{{result="{m.group(1)}"}}')
    depths = [d for d, _ in samples]
    out = {
        "label": a.label,
        "offered": total,
        "offered_per_s": total / launched if launched else 0,
        "window_s": window,
        "answered_in_window_per_s": answered_in_window / window,
        "answered": len(results),
        "drained_s": drained,
        "client_errors": len(errors),
        "client_error_kinds": sorted(set(errors)),
        "by_status": by_status,
        "latency_all": {"p50_ms": pct(all_ms, 50), "p99_ms": pct(all_ms, 99)},
        "latency_by_status": lat,
        "retry_after": retry,
        "cpu_hash_pct": (h1 - h0) / HZ / window * 100,
        "cpu_other_pct": (o1 - o0) / HZ / window * 100,
        "queue_depth_max": max(depths) if depths else None,
        "queue_depth_median": statistics.median(depths) if depths else None,
        "rss_start_kib": rss0,
        "rss_max_kib": max((r for _, r in samples), default=rss0),
        "hashes": hashes,
        "logins_metric": logins,
        "probes": [[s, None if t is None else round(t * 1000, 1)] for s, t in probes],
    }
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
