#!/usr/bin/env python3
"""The markdown report of scale-conn.sh from its raw results (medians over rounds)."""

import argparse
import json
import platform
import statistics as st


def load_jsonl(path):
    try:
        return [json.loads(line) for line in open(path) if line.strip()]
    except FileNotFoundError:
        return []


def med(values):
    values = [v for v in values if v is not None]
    return st.median(values) if values else float("nan")


def main():
    ap = argparse.ArgumentParser()
    for name in ("idle", "logins", "user", "date", "conns", "first", "hold", "idle-timeout", "rate", "seconds",
                 "user-knobs", "hash-concurrency", "server-cpu", "client-cpu", "rev"):
        ap.add_argument(f"--{name}", required=True)
    a = ap.parse_args()
    conns, first = int(a.conns), int(a.first)
    model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    ncpu = sum(1 for l in open("/proc/cpuinfo") if l.startswith("processor"))
    print(f"# Scale run {a.date}: idle connections and the hashing pool\n")
    print(f"Machine: {model}, {ncpu} CPUs, Linux {platform.release()}; gateway at {a.rev}. "
          f"Method: `make bench-scale-conn` (benches/load/scale-conn.sh). Servers pinned to core {a.server_cpu}, "
          f"clients to core {a.client_cpu}; release binaries; the gateway with `threads: 1`, SQLite, seeded with "
          f"`load_seed`; a shared machine, so CPU and latency figures are noisy: medians over rounds.\n")

    idle = load_jsonl(a.idle)
    if idle:
        print(f"## Idle keep-alive connections\n")
        print(f"Each connection sends one authorised GET of a 1 KiB file (ordinary host, the seeded session with "
              f"2FA done) through the proxy to an nginx origin, reads the 200, then stays open and idle. Memory "
              f"read 2 s after {first:,} and after {conns:,} connections are open, and again after they idled "
              f"{a.hold} s more. Gateway settings raised so that they fit: `connections.max_per_address: "
              f"{conns + 100}` (default 256; the clients all come from one untrusted address, 127.0.1.N) and "
              f"`connections.idle_timeout: {a.idle_timeout}` (default 60 s). Each system freshly started per "
              f"round, rounds alternate. KiB per connection is the growth divided by the connections added.\n")
        systems = {}
        for r in idle:
            systems.setdefault(r["label"].split(" round")[0], []).append(r)
        print("| system | rounds | VmRSS before | at " + f"{first:,}" + " | at " + f"{conns:,}" +
              " | after idling | VmRSS KiB/conn, 0 → " + f"{conns:,}" + " | VmRSS KiB/conn, " + f"{first:,} → {conns:,}" +
              " | Pss KiB/conn | Private KiB/conn | per round (VmRSS, 0 → N) | ESTABLISHED at end | idle ones answering again | open time |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|")
        pretty = {"gateway": "gateway (ordinary host, session checked)", "bare": "bare Pingora pass-through (the floor)",
                  "nginx": "nginx plain reverse proxy (its worker)"}
        for name, rs in systems.items():
            def kib(r, key, a_, b_):
                return (r["checkpoints"][str(b_)][key] - r["checkpoints"][str(a_)][key]) / (b_ - a_)
            full = [kib(r, "vmrss", 0, conns) for r in rs]
            marg = [kib(r, "vmrss", first, conns) for r in rs]
            pss = [kib(r, "pss", 0, conns) for r in rs]
            priv = [kib(r, "private", 0, conns) for r in rs]
            mib = lambda key, cp: med([r["checkpoints"][cp][key] for r in rs]) / 1024
            held = med([r["after_hold"]["vmrss"] for r in rs]) / 1024
            est = " / ".join(str(r["established"]) for r in rs)
            probes = " / ".join(f"{r['probes_ok']}/{r['probes']}" for r in rs)
            opened = med([r["open_total_seconds"] for r in rs])
            per = " / ".join(f"{v:.1f}" for v in full)
            print(f"| {pretty.get(name, name)} | {len(rs)} | {mib('vmrss', '0'):.1f} MiB | {mib('vmrss', str(first)):.1f} MiB | "
                  f"{mib('vmrss', str(conns)):.1f} MiB | {held:.1f} MiB | {med(full):.1f} | {med(marg):.1f} | "
                  f"{med(pss):.1f} | {med(priv):.1f} | {per} | {est} | {probes} | {opened:.1f} s |")
        if "gateway" in systems and "bare" in systems:
            g = med([(r["checkpoints"][str(conns)]["vmrss"] - r["checkpoints"]["0"]["vmrss"]) / conns for r in systems["gateway"]])
            b = med([(r["checkpoints"][str(conns)]["vmrss"] - r["checkpoints"]["0"]["vmrss"]) / conns for r in systems["bare"]])
            print(f"\nGateway ÷ bare Pingora, VmRSS KiB per connection (0 → {conns:,}): {g / b:.2f} "
                  f"({g:.1f} against {b:.1f}); the gateway's own share: {g - b:.1f} KiB per connection.")
        print("\n\"ESTABLISHED at end\": connections in that state on the proxy's port (`ss`), per round; "
              "\"answering again\": idle connections (the oldest, the newest, others spread between) that "
              "answered one more request with 200. Socket buffers are kernel memory and not in these figures.\n")

    logins = load_jsonl(a.logins)
    user = [l.rstrip("\n").split("\t") for l in open(a.user) if l.strip()] if a.user else []
    if logins or user:
        ucon, udelay = a.user_knobs.split()
        print(f"## The hashing pool under {a.rate} logins a second\n")
        print(f"An open-loop client offers {a.rate} `POST /auth/login` a second for {a.seconds} s (each on a new "
              f"connection, each from a new address in `X-Forwarded-For` behind a trusted proxy, so the "
              f"per-address throttle never answers): wrong passwords for one real account (locked after its first "
              f"ten, as the gateway does; a locked account's attempts are still hashed), and in another run "
              f"unknown accounts. `login.hash_concurrency`: {a.hash_concurrency}. Meanwhile a signed-in user "
              f"fetches the file over {ucon} connections, {udelay} ms apart (wrk `delay()`), and once a second a "
              f"person signs in with the right password (303 on to the second step when answered). Quiet: the "
              f"user alone. Latencies count from the connection's opening to the answer's head.\n")
        modes = {}
        for r in logins:
            modes.setdefault(r["label"].split(" round")[0], []).append(r)
        titles = {"wrong": "wrong passwords, real account", "unknown": "unknown accounts"}
        if modes:
            print("| flood | offered/s | answered, of offered | argon2 runs/s | answers by status | "
                  "p50 / p99 ms, 401 | p50 / p99 ms, 503 | Retry-After | hash queue max (median) | "
                  "CPU: hashing threads / rest | RSS max | right-password sign-ins: answered 303 / offered, p50 ms |")
            print("|---|---:|---:|---:|---|---|---|---|---|---|---:|---|")
            for mode, rs in modes.items():
                statuses = {}
                for r in rs:
                    for s, n in r["by_status"].items():
                        statuses.setdefault(s, []).append(n)
                total = med([r["answered"] + r["client_errors"] for r in rs])
                by = ", ".join(f"{s}: {med(v):.0f} ({med(v) / total * 100:.0f} %)" for s, v in sorted(statuses.items()))
                errs = med([r["client_errors"] for r in rs])
                if errs:
                    by += f", no answer: {errs:.0f}"

                def lat(status):
                    p50 = med([r["latency_by_status"].get(status, {}).get("p50_ms") for r in rs])
                    p99 = med([r["latency_by_status"].get(status, {}).get("p99_ms") for r in rs])
                    return "-" if p50 != p50 else f"{p50:,.0f} / {p99:,.0f}"
                runs = med([(r["hashes"]["verify"] + r["hashes"]["hash"]) / r["drained_s"] for r in rs])
                retry = ", ".join(sorted({x for r in rs for x in r["retry_after"]}))
                retry = f"{retry} s" if retry else "-"
                probes = [p for r in rs for p in r["probes"]]
                ok = [t for s, t in probes if s == 303]
                probe_txt = f"{len(ok)} / {len(probes)}" + (f", {med(ok):,.0f}" if ok else "")
                print(f"| {titles.get(mode, mode)} | {med([r['offered_per_s'] for r in rs]):.0f} | "
                      f"{med([r['answered'] for r in rs]):.0f} ({med([r['answered'] / r['offered'] for r in rs]) * 100:.0f} %) | {runs:.1f} | {by} | {lat('401')} | "
                      f"{lat('503')} | {retry} | {med([r['queue_depth_max'] for r in rs]):.0f} "
                      f"({med([r['queue_depth_median'] for r in rs]):.0f}) | "
                      f"{med([r['cpu_hash_pct'] for r in rs]):.0f} % / {med([r['cpu_other_pct'] for r in rs]):.0f} % | "
                      f"{med([r['rss_max_kib'] for r in rs]) / 1024:.0f} MiB | {probe_txt} |")
            print("\nargon2 runs/s: `gateway_password_hashes_total` growth over the flood and its drain. Queue: "
                  "`gateway_password_hash_queue_depth` sampled every 0.5 s. CPU over the flood window, from "
                  "/proc/PID/task (threads named gateway-hash-N against all others), in % of one core.\n")
        if user:
            print("| user's requests | rounds | req/s | p50 ms | p99 ms | p99 per round | failed | gateway CPU |")
            print("|---|---:|---:|---:|---:|---|---:|---:|")
            by_mode = {}
            for row in user:
                by_mode.setdefault(row[1], []).append(row)
            names = {"quiet": "quiet", "wrong": "during the flood (wrong passwords)",
                     "unknown": "during the flood (unknown accounts)"}
            for mode, rs in by_mode.items():
                per = " / ".join(f"{float(r[4]):.2f}" for r in rs)
                print(f"| {names.get(mode, mode)} | {len(rs)} | {med([float(r[2]) for r in rs]):,.0f} | "
                      f"{med([float(r[3]) for r in rs]):.2f} | {med([float(r[4]) for r in rs]):.2f} | {per} | "
                      f"{sum(int(r[5]) for r in rs)} | {med([float(r[6]) for r in rs]):.0f}% |")
            quiet = {r[0]: float(r[4]) for r in by_mode.get("quiet", [])}
            for mode in ("wrong", "unknown"):
                rr = [float(r[4]) / quiet[r[0]] for r in by_mode.get(mode, []) if r[0] in quiet]
                if rr:
                    print(f"\nUser p99 during the flood ({titles[mode]}) ÷ quiet p99, median of rounds: "
                          f"{med(rr):.2f} (per round {' / '.join(f'{v:.2f}' for v in rr)}).")


if __name__ == "__main__":
    main()
