#!/usr/bin/env bash
# TLS termination, side by side: the gateway terminating TLS itself against nginx
# terminating TLS in front of the same origin. `make bench-tls` runs it; see
# benches/load/README.md ("TLS").
#
# Two measurements, each in interleaved rounds like run.sh (servers pinned to
# core $BENCH_SERVER_CPU, clients to $BENCH_CLIENT_CPU; CPU from /proc/PID/stat):
# 1. requests over keep-alive TLS connections (HTTP/1.1, wrk): req/s, p50/p99,
#    CPU per request; the gateway checks a session (2FA done), nginx only proxies;
# 2. handshakes, no request (a small Python client, as `openssl s_time` sends no
#    SNI, which the gateway refuses): full TLS 1.3 handshakes, and resumed TLS 1.2
#    sessions (TLS 1.3 tickets arrive after the handshake and would need a read),
#    per second and server CPU per handshake.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DURATION=${BENCH_DURATION:-4}
ROUNDS=${BENCH_ROUNDS:-5}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
CLIENT_CPU=${BENCH_CLIENT_CPU:-1}
LINE=CAF0000000042
RESULTS=${BENCH_RESULTS:-$ROOT/benches/results}
CARGO=${CARGO:-cargo}

. "$ROOT/benches/load/common.sh"

for tool in wrk openssl curl taskset python3; do
    command -v "$tool" >/dev/null 2>&1 || die "missing $tool (make bench-load installs wrk, nginx-light, curl)"
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || die "missing nginx (apt-get install nginx-light)"
"$NGINX" -V 2>&1 | grep -q http_ssl_module || die "this nginx lacks the ssl module"

say "building release binaries (gateway, load_seed)"
(cd "$ROOT" && $CARGO build --release -p gateway -p benches --bin gateway --bin load_seed) >&2 || die "build failed"
BIN=$ROOT/target/release

WORK=$(mktemp -d /tmp/bench-tls.XXXXXX)
PIDS=()
cleanup() {
    if [ -z "${BENCH_KEEP:-}" ]; then rm -rf "$WORK"; else say "kept $WORK"; fi
    exec 2>/dev/null
    for p in "${PIDS[@]}"; do kill -INT "$p" || true; done
    sleep 0.3
    for p in "${PIDS[@]}"; do kill -KILL "$p" || true; done
    wait || true
}
trap cleanup EXIT
read -r P_ORIGIN P_NGX P_GW P_GWTLS <<<"$(free_ports 4)"

# ---------------------------------------------------------------- certificates
# A throwaway CA and one ECDSA P-256 leaf for the name both servers present.
# `localhost` is the ordinary hostname: wrk and s_time send it as SNI.
NAME=localhost
(
    cd "$WORK"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=bench CA" \
        -keyout ca.key -out ca.pem 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$NAME" \
        -keyout leaf.key -out leaf.csr 2>/dev/null
    printf 'subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\n' "$NAME" >leaf.ext
    openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile leaf.ext \
        -out leaf.pem 2>/dev/null
    chmod a+r leaf.pem leaf.key
)
chmod a+rx "$WORK"

# ---------------------------------------------------------------- origin and nginx
mkdir -p "$WORK/www/files"
python3 -c 'import sys; sys.stdout.write(("0123456789abcdef" * 64)[:1024])' >"$WORK/www/files/report.bin"
chmod a+rx "$WORK/www" "$WORK/www/files"
chmod a+r "$WORK/www/files/report.bin"
URL_PATH=/files/report.bin
nginx_conf() {  # name listen-line location
    local dir=$WORK/$1
    mkdir -p "$dir"
    cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $dir/tmp-body;
    proxy_temp_path $dir/tmp-proxy;
    fastcgi_temp_path $dir/tmp-fcgi;
    uwsgi_temp_path $dir/tmp-uwsgi;
    scgi_temp_path $dir/tmp-scgi;
    keepalive_requests 10000000;
    keepalive_timeout 300s;
    upstream origin { server 127.0.0.1:$P_ORIGIN; keepalive 256; }
    server {
        $2
        $3
    }
}
CONF
    "$NGINX" -t -q -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf" || die "bad nginx config $dir/nginx.conf"
    taskset -c "$SERVER_CPU" "$NGINX" -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf" >"$dir/stdout.log" 2>&1 &
    STARTED=$!
    PIDS+=("$STARTED")
}
nginx_conf origin "listen 127.0.0.1:$P_ORIGIN backlog=4096;" "location / { root $WORK/www; }"
PID_ORIGIN=$STARTED
# The usual TLS settings of an nginx front: TLS 1.2 and 1.3, a session cache and
# tickets for resumption, the same certificate as the gateway's.
nginx_conf nginx-tls "listen 127.0.0.1:$P_NGX ssl backlog=4096;
        ssl_certificate $WORK/leaf.pem; ssl_certificate_key $WORK/leaf.key;
        ssl_protocols TLSv1.2 TLSv1.3; ssl_session_cache shared:TLS:10m; ssl_session_tickets on;" \
    "location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection \"\"; }"
PID_NGX=$STARTED

# ---------------------------------------------------------------- gateway with TLS
mkdir -p "$WORK/gw"
gateway_yaml "$P_GW" "$P_ORIGIN" "$WORK/gw" | sed -e '/^session:/d' -e '/^  secure_cookies: false/d' >"$WORK/gw/gateway.yaml"
cat >>"$WORK/gw/gateway.yaml" <<YAML
hosts:
  ordinary: "$NAME"
  line_auth: "line.$NAME"
tls:
  listen: "127.0.0.1:$P_GWTLS"
  certificates:
    - hosts: ["$NAME"]
      cert: "$WORK/leaf.pem"
      key: "$WORK/leaf.key"
    - hosts: ["line.$NAME"]
      cert: "$WORK/line.pem"
      key: "$WORK/line.key"
YAML
# The line-auth hostname needs a certificate of its own (it is not measured).
(
    cd "$WORK"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=line.$NAME" \
        -keyout line.key -out line.csr 2>/dev/null
    printf 'subjectAltName=DNS:line.%s\n' "$NAME" >line.ext
    openssl x509 -req -in line.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile line.ext \
        -out line.pem 2>/dev/null
)
"$BIN/gateway" --config "$WORK/gw/gateway.yaml" check-config >&2 || die "the generated gateway.yaml is refused"
eval "$("$BIN/load_seed" "sqlite://$WORK/gw/gateway.db" "$LINE")"
GATEWAY_LOG=warn taskset -c "$SERVER_CPU" "$BIN/gateway" --config "$WORK/gw/gateway.yaml" serve >"$WORK/gw/gateway.log" 2>&1 &
PID_GW=$!
PIDS+=("$PID_GW")
wait_port "$P_ORIGIN"
wait_port "$P_GW"

# wrk sends the URL's host as SNI and drops the addresses it cannot connect to
# (`localhost` may resolve to ::1 first, where nothing listens).
KEYS=(gw_tls nginx_tls)
NAMES=("gateway terminating TLS (session check, ordinary host)" "nginx terminating TLS, plain proxy")
PORTS=("$P_GWTLS" "$P_NGX")
SPIDS=("$PID_GW" "$PID_NGX")
COOKIE="Cookie: __Host-gw_lang=en; __Host-gw_session=$ORDINARY_SESSION"
for i in 0 1; do
    got=$(curl -sk --resolve "$NAME:${PORTS[$i]}:127.0.0.1" -o /dev/null -w '%{http_code} %{size_download}' \
        -H "$COOKIE" "https://$NAME:${PORTS[$i]}$URL_PATH")
    [ "$got" = "200 1024" ] || die "${NAMES[$i]}: expected '200 1024', got '$got' (see $WORK)"
done
say "both systems answer 200 with the 1 KiB file over TLS"

all_pids() { local p; for p in $1; do echo "$p"; pgrep -P "$p" || true; done; }
cpu_ticks() {
    local t=0 p f
    for p in $1; do
        if [ -r "/proc/$p/stat" ]; then
            f=$(sed 's/^.*) //' "/proc/$p/stat"); set -- $f; t=$((t + ${12} + ${13}))
        fi
    done
    echo "$t"
}
CLK_TCK=$(getconf CLK_TCK)
RAW=$WORK/raw.tsv
HS=$WORK/handshakes.tsv
: >"$RAW"
: >"$HS"
cat >"$WORK/handshakes.py" <<'PY'
# handshakes.py PORT SNI MODE SECONDS: completed handshakes in that time.
import socket, ssl, sys, time
port, sni, mode, seconds = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
if mode == "reuse":
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
else:
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
session, n, resumed = None, 0, 0
end = time.monotonic() + seconds
while time.monotonic() < end:
    with socket.create_connection(("127.0.0.1", port)) as raw:
        with ctx.wrap_socket(raw, server_hostname=sni, session=session) as s:
            n += 1
            resumed += s.session_reused
            if mode == "reuse":
                session = s.session
print(n, resumed)
PY

requests_one() {  # index round
    local i=$1 r=$2 pids before after out
    pids=$(all_pids "${SPIDS[$i]}")
    before=$(cpu_ticks "$pids")
    out=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency \
        -H "$COOKIE" "https://$NAME:${PORTS[$i]}$URL_PATH" 2>&1) || die "wrk failed: $out"
    after=$(cpu_ticks "$pids")
    echo "$out" >"$WORK/wrk-${KEYS[$i]}-$r.txt"
    python3 - "$i" "$r" "$((after - before))" "$CLK_TCK" "$WORK/wrk-${KEYS[$i]}-$r.txt" >>"$RAW" <<'PY'
import re, sys
i, rnd, ticks, hz, f = sys.argv[1:6]
t = open(f).read()
def ms(v, u): return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[u]
reqs = int(re.search(r"(\d+) requests in", t).group(1))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
lat = {p: ms(v, u) for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", t, re.M)}
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
nbad = (int(bad.group(1)) if bad else 0) + (sum(map(int, errs.groups())) if errs else 0)
print("\t".join(map(str, [i, rnd, reqs, rps, lat.get("50"), lat.get("99"), int(ticks) * 1e6 / int(hz) / max(reqs, 1), nbad])))
PY
    tail -1 "$RAW" | awk -F'\t' -v n="${NAMES[$i]}" '{ printf "   round %s  %-56s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  %6.1f us/req\n", $2, n, $4, $5, $6, $7 }' >&2
}

handshakes_one() {  # index round mode(new|reuse)
    local i=$1 r=$2 mode=$3 pids before after out
    pids=$(all_pids "${SPIDS[$i]}")
    before=$(cpu_ticks "$pids")
    out=$(taskset -c "$CLIENT_CPU" python3 "$WORK/handshakes.py" "${PORTS[$i]}" "$NAME" "$mode" "$DURATION") ||
        die "the handshake client failed: $out"
    after=$(cpu_ticks "$pids")
    read -r n resumed <<<"$out"
    [ "$mode" = new ] || [ "$resumed" -ge $((n - 1)) ] || die "${NAMES[$i]}: only $resumed of $n sessions resumed"
    python3 -c 'import sys; i, r, m, n, t, hz, d = sys.argv[1:8]; n = int(n)
print("\t".join(map(str, [i, r, m, n, n / float(d), int(t) * 1e6 / int(hz) / max(n, 1)])))' \
        "$i" "$r" "$mode" "$n" "$((after - before))" "$CLK_TCK" "$DURATION" >>"$HS"
    tail -1 "$HS" | awk -F'\t' -v n="${NAMES[$i]}" '{ printf "   round %s  %-56s %-5s %7.0f handshakes/s  %7.1f us/handshake\n", $2, n, $3, $5, $6 }' >&2
}

say "measuring: $ROUNDS interleaved rounds of ${DURATION} s (wrk -t1 -c$CONNECTIONS; full and resumed handshakes)"
for r in $(seq 1 "$ROUNDS"); do
    for i in 0 1; do requests_one "$i" "$r"; done
    for mode in new reuse; do
        for i in 0 1; do handshakes_one "$i" "$r" "$mode"; done
    done
done

DATE=$(date -u +%Y-%m-%dT%H%MZ)
mkdir -p "$RESULTS"
OUT=$RESULTS/tls-$DATE.md
printf '%s\n' "${NAMES[@]}" >"$WORK/names.txt"
python3 - "$RAW" "$HS" "$WORK/names.txt" "$DATE" "$DURATION" "$ROUNDS" "$CONNECTIONS" "$SERVER_CPU" "$CLIENT_CPU" \
    "$("$NGINX" -v 2>&1 | sed 's/.*: //')" "$(python3 -c 'import ssl; print(ssl.OPENSSL_VERSION)')" \
    "$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')" >"$OUT" <<'PY'
import statistics as st, sys
raw, hs, names_f, date, dur, rounds, conns, scpu, ccpu, nginx_v, ossl, rev = sys.argv[1:13]
names = open(names_f).read().splitlines()
rows = {}
for l in open(raw):
    f = l.rstrip("\n").split("\t"); rows.setdefault(int(f[0]), []).append(f)
hrows = {}
for l in open(hs):
    f = l.rstrip("\n").split("\t"); hrows.setdefault((int(f[0]), f[2]), []).append(f)
def med(rs, c): return st.median(float(r[c]) for r in rs)
model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"# TLS run {date}\n")
print(f"Machine: {model}; nginx {nginx_v}; {ossl} (client); gateway at {rev}.\n")
print(f"Method: `make bench-tls` (benches/load/tls.sh). Servers pinned to core {scpu}, clients to core {ccpu}; "
      f"{rounds} interleaved rounds of {dur} s, medians shown. Both servers present the same ECDSA P-256 "
      f"certificate for `localhost` (SNI). Requests: `wrk -t1 -c{conns}` over keep-alive HTTP/1.1 TLS "
      f"connections, GET of a 1 KiB file from an nginx origin; the gateway also checks the session "
      f"(ordinary host, 2FA done), nginx only proxies. Handshakes, no request, one connection at a time "
      f"from a Python `ssl` client: full TLS 1.3 handshakes, and resumed TLS 1.2 sessions (session id "
      f"cache on both; TLS 1.3 tickets would need a read after the handshake). CPU: utime+stime of the server "
      f"process(es) from /proc/PID/stat (gateway: the whole process; nginx: master and worker).\n")
print("| system | req/s | p50 ms | p99 ms | CPU us/req | errors |")
print("|---|---:|---:|---:|---:|---:|")
for i in sorted(rows):
    rs = rows[i]
    print(f"| {names[i]} | {med(rs,3):,.0f} | {med(rs,4):.2f} | {med(rs,5):.2f} | {med(rs,6):.1f} | {sum(int(r[7]) for r in rs)} |")
print("\n| system | handshakes | per second | CPU us/handshake |")
print("|---|---|---:|---:|")
for (i, mode) in sorted(hrows):
    rs = hrows[(i, mode)]
    label = "full, TLS 1.3" if mode == "new" else "resumed, TLS 1.2"
    print(f"| {names[i]} | {label} | {med(rs,4):,.0f} | {med(rs,5):.0f} |")
if 0 in rows and 1 in rows:
    print(f"\nGateway ÷ nginx, CPU per request: {med(rows[0],6) / med(rows[1],6):.2f}; "
          f"per full handshake: {med(hrows[(0,'new')],5) / med(hrows[(1,'new')],5):.2f}; "
          f"per resumed handshake: {med(hrows[(0,'reuse')],5) / med(hrows[(1,'reuse')],5):.2f}.")
PY
cp "$OUT" "$RESULTS/tls-latest.md"
echo
cat "$OUT"
echo
echo "written: $OUT and $RESULTS/tls-latest.md"
