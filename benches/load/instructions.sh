#!/usr/bin/env bash
# User-space instructions per proxied request, counted by valgrind's callgrind:
# exact and repeatable whatever else the machine is doing, unlike CPU time on a
# shared machine. `make bench-instructions` runs it; see benches/load/README.md.
#
# Every proxy gets the same request stream (GET of the 1 KiB file with the same
# Host and Cookie headers; the line-auth case adds the carrier's X-Line-Id) from
# `wrk -t1 -c4`; counters are zeroed after a warm-up and dumped after the timed run,
# then divided by the requests wrk completed. Kernel time is not counted (both
# Pingora and nginx make about 5 system calls per proxied request).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$ROOT/benches/load/common.sh"
DURATION=${BENCH_DURATION:-10}
LINE=CAF0000000042
RESULTS=${BENCH_RESULTS:-$ROOT/benches/results}
CARGO=${CARGO:-cargo}

missing=()
for t in valgrind wrk nginx curl python3; do command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] || missing+=("$t"); done
if [ ${#missing[@]} -gt 0 ]; then
    pkgs=$(printf '%s\n' "${missing[@]}" | sed 's/^nginx$/nginx-light/' | tr '\n' ' ')
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing $pkgs(apt-get)"
        apt-get update -qq
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >/dev/null
    else
        die "missing $pkgs: install them"
    fi
fi
command -v cmake >/dev/null 2>&1 || die "cmake is missing (make deps installs it)"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

# BIN=dir measures binaries built elsewhere (a patch's before and after, side by side).
if [ -z "${BIN:-}" ]; then
    say "building release binaries (same as make bench-load)"
    (cd "$ROOT" && $CARGO build --release -p gateway -p benches --bins) >&2
    BIN=$ROOT/target/release
fi

WORK=$(mktemp -d /tmp/bench-instr.XXXXXX)
PIDS=()
cleanup() {
    exec 2>/dev/null
    for p in "${PIDS[@]}"; do kill -INT "$p" || true; done
    sleep 0.5
    for p in "${PIDS[@]}"; do kill -KILL "$p" || true; done
    wait || true
    if [ -z "${BENCH_KEEP:-}" ]; then rm -rf "$WORK"; else say "kept $WORK"; fi
}
trap cleanup EXIT
read -r P_ORIGIN P_NGX P_BARE P_BAREG P_GW <<<"$(free_ports 5)"

mkdir -p "$WORK/www/files" "$WORK/gw"
python3 -c 'import sys; sys.stdout.write(("0123456789abcdef" * 64)[:1024])' >"$WORK/www/files/report.bin"
chmod -R a+rX "$WORK"
nginx_conf() {  # file port location-body [master_process]
    cat >"$1" <<CONF
worker_processes 1;
master_process ${4:-on};
daemon off;
pid $1.pid;
error_log $1.error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $WORK/t1; proxy_temp_path $WORK/t2; fastcgi_temp_path $WORK/t3;
    uwsgi_temp_path $WORK/t4; scgi_temp_path $WORK/t5;
    keepalive_requests 10000000;
    upstream origin { server 127.0.0.1:$P_ORIGIN; keepalive 64; }
    server { listen 127.0.0.1:$2; location / { $3 } }
}
CONF
}
nginx_conf "$WORK/origin.conf" "$P_ORIGIN" "root $WORK/www;"
"$NGINX" -p "$WORK" -c "$WORK/origin.conf" >/dev/null 2>&1 &
PIDS+=($!)
# The measured nginx runs as one process (no master) so that valgrind sees the worker.
nginx_conf "$WORK/proxy.conf" "$P_NGX" 'proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection "";' off

gateway_yaml "$P_GW" "$P_ORIGIN" "$WORK/gw" >"$WORK/gw/gateway.yaml"
eval "$("$BIN/load_seed" "sqlite://$WORK/gw/gateway.db" "$LINE")"
wait_port "$P_ORIGIN"

H_ORD=(-H "Host: storage.localhost" -H "Cookie: gw_lang=en; gw_session=$ORDINARY_SESSION")
H_LINE=(-H "Host: line.storage.localhost" -H "X-Line-Id: $LINE" -H "Cookie: gw_lang=en; gw_session=$LINE_SESSION")
RAW=$WORK/raw.tsv
: >"$RAW"

measure() {  # key "name" port headers-var command...
    local key=$1 name=$2 port=$3 hv=$4 pid reqs total out
    shift 4
    local -n hdr=$hv
    valgrind --tool=callgrind --dump-instr=no --callgrind-out-file="$WORK/$key.cg" "$@" >"$WORK/$key.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    wait_port "$port" 600
    out=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "${hdr[@]}" "http://127.0.0.1:$port/files/report.bin")
    [ "$out" = "200 1024" ] || die "$name: expected '200 1024', got '$out'"
    wrk -t1 -c4 -d2s "${hdr[@]}" "http://127.0.0.1:$port/files/report.bin" >/dev/null
    callgrind_control -z "$pid" >/dev/null
    out=$(wrk -t1 -c4 -d"${DURATION}s" "${hdr[@]}" "http://127.0.0.1:$port/files/report.bin")
    callgrind_control -d "$pid" >/dev/null
    ! grep -q "Non-2xx" <<<"$out" || die "$name: some answers were not 2xx: $out"
    reqs=$(grep -o '[0-9]* requests in' <<<"$out" | awk '{print $1}')
    total=$(grep -h '^summary:\|^totals:' "$(ls -t "$WORK/$key.cg".* | head -1)" | head -1 | awk '{print $2}')
    kill -INT "$pid" 2>/dev/null || true
    printf '%s\t%s\t%s\t%s\n' "$key" "$name" "$reqs" "$total" >>"$RAW"
    say "$(printf '%-55s %8d requests  %8d instructions/request' "$name" "$reqs" "$((total / reqs))")"
}

say "callgrind, ${DURATION} s of wrk -t1 -c4 per system (each runs about 50x slower under valgrind)"
measure nginx "nginx plain reverse proxy" "$P_NGX" H_ORD "$NGINX" -p "$WORK" -c "$WORK/proxy.conf"
measure bare "bare Pingora pass-through (jemalloc)" "$P_BARE" H_ORD \
    "$BIN/bare_proxy" --listen "127.0.0.1:$P_BARE" --origin "127.0.0.1:$P_ORIGIN"
measure bare_glibc "bare Pingora pass-through, glibc malloc" "$P_BAREG" H_ORD \
    "$BIN/bare_proxy_glibc" --listen "127.0.0.1:$P_BAREG" --origin "127.0.0.1:$P_ORIGIN"
GATEWAY_LOG=warn measure gw_ordinary "gateway, ordinary host, session with 2FA done" "$P_GW" H_ORD \
    "$BIN/gateway" --config "$WORK/gw/gateway.yaml" serve
sleep 1
GATEWAY_LOG=warn measure gw_line "gateway, line-auth host, registered line from carrier" "$P_GW" H_LINE \
    "$BIN/gateway" --config "$WORK/gw/gateway.yaml" serve

DATE=$(date -u +%Y-%m-%dT%H%MZ)
mkdir -p "$RESULTS"
OUT=$RESULTS/instructions-$DATE.md
python3 - "$RAW" "$DATE" "$DURATION" "$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')" \
    "$(valgrind --version)" >"$OUT" <<'PY'
import sys
raw, date, dur, rev, vg = sys.argv[1:6]
rows = {}
names = {}
for line in open(raw):
    k, n, reqs, total = line.rstrip("\n").split("\t")
    rows[k] = int(total) / int(reqs)
    names[k] = (n, int(reqs))
print(f"# Instructions per request, {date}\n")
print(f"`make bench-instructions` (benches/load/instructions.sh) at {rev}: {vg} callgrind, user-space "
      f"instructions of the proxy process over {dur} s of `wrk -t1 -c4` after a 2 s warm-up, divided by the "
      f"requests completed. Same request to every proxy (GET of a 1 KiB file, Host and Cookie headers; "
      f"the line-auth case adds X-Line-Id). Note: under valgrind the CPU reports no SHA extensions, so the "
      f"gateway's SHA-256 of the session id runs in software here (about 3 500 instructions per request) "
      f"where the real CPU uses SHA-NI.\n")
print("| system | requests | instructions/request | ÷ bare Pingora (jemalloc) |")
print("|---|---:|---:|---:|")
for k in ("nginx", "bare", "bare_glibc", "gw_ordinary", "gw_line"):
    if k in rows:
        print(f"| {names[k][0]} | {names[k][1]:,} | {rows[k]:,.0f} | {rows[k] / rows['bare']:.2f} |")
print("\n| ratio | value | goal (issue 6) |")
print("|---|---:|---|")
print(f"| gateway ordinary ÷ bare Pingora | {rows['gw_ordinary'] / rows['bare']:.2f} | <= 1.1 (CPU) |")
print(f"| gateway line-auth ÷ bare Pingora | {rows['gw_line'] / rows['bare']:.2f} | <= 1.1 (CPU) |")
print(f"| bare Pingora (jemalloc) ÷ nginx plain proxy | {rows['bare'] / rows['nginx']:.2f} | (the floor) |")
print(f"| bare Pingora (glibc) ÷ bare Pingora (jemalloc) | {rows['bare_glibc'] / rows['bare']:.2f} | (the allocator) |")
PY
cp "$OUT" "$RESULTS/instructions-latest.md"
echo
cat "$OUT"
echo
echo "written: $OUT and $RESULTS/instructions-latest.md"
