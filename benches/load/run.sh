#!/usr/bin/env bash
# Side-by-side load harness: the gateway against a bare Pingora proxy and nginx,
# in one run, on one machine. `make bench-load` runs it; see benches/load/README.md.
#
# Layout: every server (origin, proxies, auth services) is pinned to core
# $BENCH_SERVER_CPU (default 0) with taskset, wrk to core $BENCH_CLIENT_CPU (default 1).
# The systems are measured in interleaved rounds (A B C ... repeated $BENCH_ROUNDS
# times, $BENCH_DURATION seconds each) so that drift on a shared machine hits all
# of them alike. CPU per request is utime+stime from /proc/PID/stat of the server
# processes (all threads; nginx master and workers; proxy plus auth service),
# read before and after each wrk run, divided by the requests wrk completed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DURATION=${BENCH_DURATION:-4}
ROUNDS=${BENCH_ROUNDS:-5}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
CLIENT_CPU=${BENCH_CLIENT_CPU:-1}
WARMUP=${BENCH_WARMUP:-2}
WITH_GO=${BENCH_GO:-1}
WITH_FLOOD=${BENCH_FLOOD:-1}
FLOOD_CONNECTIONS=${BENCH_FLOOD_CONNECTIONS:-64}
USER_CONNECTIONS=${BENCH_USER_CONNECTIONS:-16}
USER_DELAY_MS=${BENCH_USER_DELAY_MS:-4}
LINE=CAF0000000042
RESULTS=${BENCH_RESULTS:-$ROOT/benches/results}
CARGO=${CARGO:-cargo}

. "$ROOT/benches/load/common.sh"

# ---------------------------------------------------------------- tools and build
apt_install() {  # packages...
    [ $# -gt 0 ] || return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing $* (apt-get)"
        [ -n "${APT_UPDATED:-}" ] || { apt-get update -qq; APT_UPDATED=1; }
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
    else
        die "missing $*: install them (e.g. 'sudo apt-get install $*')"
    fi
}
# The build needs cmake (Pingora's zlib-ng); everything else is installed while it runs.
command -v cmake >/dev/null 2>&1 || apt_install cmake
say "building release binaries (gateway, bare_proxy, bare_proxy_glibc, load_seed): fat LTO, one codegen unit;"
say "from an empty cargo cache this takes about 7 minutes on 2 cores, later runs are quick"
t0=$(date +%s)
# BIN=dir measures release binaries built elsewhere (the same build, three runs).
if [ -n "${BIN:-}" ]; then
    true &
else
    (cd "$ROOT" && exec $CARGO build --release -p gateway -p benches --bins) >&2 &
fi
BUILD_PID=$!
trap 'kill "$BUILD_PID" 2>/dev/null' EXIT

need_apt=()
command -v wrk >/dev/null 2>&1 || need_apt+=(wrk)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || need_apt+=(nginx-light)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v taskset >/dev/null 2>&1 || need_apt+=(util-linux)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
[ "$WITH_GO" = 0 ] || command -v go >/dev/null 2>&1 || need_apt+=(golang-go)
apt_install "${need_apt[@]}"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
"$NGINX" -V 2>&1 | grep -q http_auth_request_module || die "this nginx lacks the auth_request module"
NCPU=$(nproc)
[ "$NCPU" -ge 2 ] || say "warning: only $NCPU CPU; servers and wrk share it"
[ "$SERVER_CPU" -lt "$NCPU" ] && [ "$CLIENT_CPU" -lt "$NCPU" ] || die "cores $SERVER_CPU/$CLIENT_CPU do not exist"

wait "$BUILD_PID" || die "the release build failed"
trap - EXIT
say "build done in $(( $(date +%s) - t0 )) s"
BIN=${BIN:-$ROOT/target/release}
for b in gateway bare_proxy bare_proxy_glibc load_seed; do [ -x "$BIN/$b" ] || die "$BIN/$b was not built"; done

# ---------------------------------------------------------------- work folder, ports
WORK=$(mktemp -d /tmp/bench-load.XXXXXX)
PIDS=()
cleanup() {
    if [ -z "${BENCH_KEEP:-}" ]; then rm -rf "$WORK"; else say "kept $WORK"; fi
    # Background jobs of a script ignore SIGINT unless they install a handler (Go does
    # not): INT for nginx and Pingora (fast shutdown), then TERM, then KILL.
    exec 2>/dev/null
    for p in "${PIDS[@]}"; do kill -INT "$p" || true; done
    sleep 0.3
    for p in "${PIDS[@]}"; do kill -TERM "$p" || true; done
    sleep 0.3
    for p in "${PIDS[@]}"; do kill -KILL "$p" || true; done
    wait || true
}
trap cleanup EXIT

# ---------------------------------------------------------------- ports
read -r P_ORIGIN P_BARE P_GW P_NGX P_NGXAUTH P_AUTHSVC P_NGXGO P_GO P_GWF P_BAREG P_GWA <<<"$(free_ports 11)"

# ---------------------------------------------------------------- origin: nginx, a 1 KiB file
mkdir -p "$WORK/www/files"
python3 -c 'import sys; sys.stdout.write(("0123456789abcdef" * 64)[:1024])' >"$WORK/www/files/report.bin"
URL_PATH=/files/report.bin
chmod a+rx "$WORK" "$WORK/www" "$WORK/www/files"  # nginx workers run as an unprivileged user
chmod a+r "$WORK/www/files/report.bin"

nginx_conf() {  # name port body
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
    server {
        listen 127.0.0.1:$2 backlog=4096;
$3
    }
$4
}
CONF
}
start_nginx() {  # name; sets STARTED (not in $(...): PIDS must grow in this shell)
    local dir=$WORK/$1
    "$NGINX" -t -q -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf" || die "bad nginx config $dir/nginx.conf"
    taskset -c "$SERVER_CPU" "$NGINX" -e "$dir/error.log" -p "$dir" -c "$dir/nginx.conf" >"$dir/stdout.log" 2>&1 &
    STARTED=$!
    PIDS+=("$STARTED")
}
UPSTREAM="upstream origin { server 127.0.0.1:$P_ORIGIN; keepalive 256; keepalive_requests 10000000; keepalive_timeout 300s; }
    upstream authsvc { server 127.0.0.1:$P_AUTHSVC; keepalive 256; keepalive_requests 10000000; keepalive_timeout 300s; }
    upstream gosvc { server 127.0.0.1:$P_GO; keepalive 256; keepalive_requests 10000000; keepalive_timeout 300s; }"
PROXY="proxy_http_version 1.1; proxy_set_header Connection \"\";"

nginx_conf origin "$P_ORIGIN" "        location / { root $WORK/www; }" ""
start_nginx origin; PID_ORIGIN=$STARTED
nginx_conf nginx-proxy "$P_NGX" "        location / { proxy_pass http://origin; $PROXY }" "    $UPSTREAM"
start_nginx nginx-proxy; PID_NGX=$STARTED
nginx_conf auth-nginx "$P_AUTHSVC" "        location / { return 200; }" ""
start_nginx auth-nginx; PID_AUTHSVC=$STARTED
nginx_conf nginx-auth "$P_NGXAUTH" "        location / { auth_request /_auth; proxy_pass http://origin; $PROXY }
        location = /_auth { internal; proxy_pass http://authsvc; $PROXY
            proxy_pass_request_body off; proxy_set_header Content-Length \"\"; }" "    $UPSTREAM"
start_nginx nginx-auth; PID_NGXAUTH=$STARTED

# ---------------------------------------------------------------- Go verify service (optional)
if [ "$WITH_GO" != 0 ]; then
    mkdir -p "$WORK/go"
    say "building the Go net/http verify service ($(go version | awk '{print $3}'))"
    (cd "$WORK/go" && GOCACHE=$WORK/go/cache GOPATH=$WORK/go/path GOFLAGS= GO111MODULE=off \
        go build -o "$WORK/go/verify" "$ROOT/benches/load/verify.go") >&2 || die "go build failed"
    # Like Authelia's nginx snippets: the identity comes back in response headers,
    # auth_request_set picks them up and they are sent to the origin.
    nginx_conf nginx-go "$P_NGXGO" "        location / { auth_request /_auth; proxy_pass http://origin; $PROXY
            auth_request_set \$user \$upstream_http_remote_user; auth_request_set \$groups \$upstream_http_remote_groups;
            proxy_set_header Remote-User \$user; proxy_set_header Remote-Groups \$groups; }
        location = /_auth { internal; proxy_pass http://gosvc; $PROXY
            proxy_pass_request_body off; proxy_set_header Content-Length \"\"; }" "    $UPSTREAM"
    start_nginx nginx-go; PID_NGXGO=$STARTED
fi

# ---------------------------------------------------------------- bare Pingora
taskset -c "$SERVER_CPU" "$BIN/bare_proxy" --listen "127.0.0.1:$P_BARE" --origin "127.0.0.1:$P_ORIGIN" --threads 1 \
    >"$WORK/bare.log" 2>&1 &
PID_BARE=$!
PIDS+=("$PID_BARE")
taskset -c "$SERVER_CPU" "$BIN/bare_proxy_glibc" --listen "127.0.0.1:$P_BAREG" --origin "127.0.0.1:$P_ORIGIN" --threads 1 \
    >"$WORK/bare-glibc.log" 2>&1 &
PID_BAREG=$!
PIDS+=("$PID_BAREG")

# ---------------------------------------------------------------- gateway
mkdir -p "$WORK/gw"
gateway_yaml "$P_GW" "$P_ORIGIN" "$WORK/gw" >"$WORK/gw/gateway.yaml"
GWCFG=$WORK/gw/gateway.yaml
"$BIN/gateway" --config "$GWCFG" check-config >&2 || die "the generated gateway.yaml is refused"
# Tenant `bench`: 2FA on, line-and-internet, line $LINE registered; an owner with two
# sessions as a finished login leaves them (ordinary host with TOTP done; line host
# with the line as second factor), written through the gateway's store API.
eval "$("$BIN/load_seed" "sqlite://$WORK/gw/gateway.db" "$LINE")"
if [ "$WITH_GO" != 0 ]; then
    taskset -c "$SERVER_CPU" "$WORK/go/verify" -listen "127.0.0.1:$P_GO" -session "$ORDINARY_SESSION" >"$WORK/go/verify.log" 2>&1 &
    PID_GO=$!
    PIDS+=("$PID_GO")
fi
# The same gateway with the access log on (a JSON line per request to a file),
# measured beside it: what the access log costs. A copy of the seeded database,
# so the same session cookies work.
mkdir -p "$WORK/gwa"
for f in "$WORK"/gw/gateway.db*; do cp "$f" "$WORK/gwa/"; done
sed -e "s|^listen: .*|listen: \"127.0.0.1:$P_GWA\"|" -e "s|$WORK/gw/gateway.db|$WORK/gwa/gateway.db|" \
    "$GWCFG" >"$WORK/gwa/gateway.yaml"
printf 'log:\n  access: "%s"\n' "$WORK/gwa/access.log" >>"$WORK/gwa/gateway.yaml"
"$BIN/gateway" --config "$WORK/gwa/gateway.yaml" check-config >&2 || die "the access-log gateway's config is refused"
GATEWAY_LOG=warn taskset -c "$SERVER_CPU" "$BIN/gateway" --config "$GWCFG" serve >"$WORK/gw/gateway.log" 2>&1 &
PID_GW=$!
PIDS+=("$PID_GW")
GATEWAY_LOG=warn taskset -c "$SERVER_CPU" "$BIN/gateway" --config "$WORK/gwa/gateway.yaml" serve >"$WORK/gwa/gateway.log" 2>&1 &
PID_GWA=$!
PIDS+=("$PID_GWA")

# A second gateway for the login-flood scenario, as it runs behind a load balancer:
# 127.0.0.1 is a trusted proxy, so every request names its client in X-Forwarded-For
# and the flood can come from many addresses (the per-address throttle cannot stop it;
# every attempt reaches the password check). Its own database, seeded the same way.
if [ "$WITH_FLOOD" != 0 ]; then
    mkdir -p "$WORK/gwf"
    sed -e "s|^listen: .*|listen: \"127.0.0.1:$P_GWF\"|" -e "s|$WORK/gw/gateway.db|$WORK/gwf/gateway.db|" \
        "$GWCFG" >"$WORK/gwf/gateway.yaml"
    echo 'trusted_proxies: ["127.0.0.1/32"]' >>"$WORK/gwf/gateway.yaml"
    "$BIN/gateway" --config "$WORK/gwf/gateway.yaml" check-config >&2 || die "the flood gateway's config is refused"
    eval "$("$BIN/load_seed" "sqlite://$WORK/gwf/gateway.db" "$LINE" | sed 's/^/FLOOD_/')"
    GATEWAY_LOG=warn taskset -c "$SERVER_CPU" "$BIN/gateway" --config "$WORK/gwf/gateway.yaml" serve \
        >"$WORK/gwf/gateway.log" 2>&1 &
    PID_GWF=$!
    PIDS+=("$PID_GWF")
fi

for p in "$P_ORIGIN" "$P_NGX" "$P_AUTHSVC" "$P_NGXAUTH" "$P_BARE" "$P_BAREG" "$P_GW" "$P_GWA"; do wait_port "$p"; done
[ "$WITH_FLOOD" = 0 ] || wait_port "$P_GWF"
[ "$WITH_GO" = 0 ] || { wait_port "$P_GO"; wait_port "$P_NGXGO"; }

# The login form also works for this user (a real login through the gateway);
# the measured sessions are the seeded ones, whose second factor is done.
csrf=$(curl -s -c "$WORK/jar" -H 'Host: storage.localhost' "http://127.0.0.1:$P_GW/auth/login" |
    sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1)
login_status=$(curl -s -o /dev/null -w '%{http_code}' -b "$WORK/jar" -c "$WORK/jar" -H 'Host: storage.localhost' \
    -H "Origin: http://storage.localhost" --data-urlencode "email=$EMAIL" --data-urlencode "password=$PASSWORD" \
    --data-urlencode "csrf=$csrf" "http://127.0.0.1:$P_GW/auth/login" || true)
say "login form check: POST /auth/login answered $login_status (a 2FA-on tenant goes on to /auth/2fa)"

# ---------------------------------------------------------------- the systems
# name | port | pids counted (space separated, nginx masters expanded to workers) | extra wrk args
SYS_NAMES=(
    "origin alone (nginx, static 1 KiB)"
    "bare Pingora pass-through"
    "bare Pingora pass-through, glibc malloc"
    "gateway, ordinary host, session with 2FA done"
    "gateway, line-auth host, registered line from carrier"
    "gateway, ordinary host, access log to a file"
    "nginx plain reverse proxy"
    "nginx + auth_request -> nginx 200"
)
SYS_KEYS=(origin bare bare_glibc gw_ordinary gw_line gw_access nginx nginx_auth)
SYS_PORTS=("$P_ORIGIN" "$P_BARE" "$P_BAREG" "$P_GW" "$P_GW" "$P_GWA" "$P_NGX" "$P_NGXAUTH")
SYS_PIDS=("$PID_ORIGIN" "$PID_BARE" "$PID_BAREG" "$PID_GW" "$PID_GW" "$PID_GWA" "$PID_NGX" "$PID_NGXAUTH $PID_AUTHSVC")
if [ "$WITH_GO" != 0 ]; then
    SYS_NAMES+=("nginx + auth_request -> Go net/http verify")
    SYS_KEYS+=(nginx_go)
    SYS_PORTS+=("$P_NGXGO")
    SYS_PIDS+=("$PID_NGXGO $PID_GO")
fi
H_ORD=(-H "Host: storage.localhost" -H "Cookie: gw_lang=en; gw_session=$ORDINARY_SESSION")
H_LINE=(-H "Host: line.storage.localhost" -H "X-Line-Id: $LINE" -H "Cookie: gw_lang=en; gw_session=$LINE_SESSION")
H_PLAIN=(-H "Host: storage.localhost" -H "Cookie: gw_lang=en; gw_session=$ORDINARY_SESSION")
sys_headers() {
    case $1 in
        gw_ordinary | gw_access) HDR=("${H_ORD[@]}") ;;
        gw_line) HDR=("${H_LINE[@]}") ;;
        *) HDR=("${H_PLAIN[@]}") ;;
    esac
}

# Every system must answer the request with the file (200, 1024 bytes) before anything is measured.
for i in "${!SYS_KEYS[@]}"; do
    sys_headers "${SYS_KEYS[$i]}"
    got=$(curl -s -o "$WORK/check.body" -w '%{http_code} %{size_download}' "${HDR[@]}" \
        "http://127.0.0.1:${SYS_PORTS[$i]}$URL_PATH")
    [ "$got" = "200 1024" ] || die "${SYS_NAMES[$i]}: expected '200 1024', got '$got'"
done
say "all systems answer 200 with the 1 KiB file"

all_pids() {  # the given pids and their direct children (nginx workers)
    local p
    for p in $1; do
        echo "$p"
        pgrep -P "$p" || true
    done
}
cpu_ticks() {  # utime+stime of the given pids, in clock ticks
    local t=0 p f
    for p in $1; do
        if [ -r "/proc/$p/stat" ]; then
            f=$(sed 's/^.*) //' "/proc/$p/stat")
            set -- $f
            t=$((t + ${12} + ${13}))
        fi
    done
    echo "$t"
}
core_busy() {  # busy and total ticks of the server core, from /proc/stat
    awk -v c="cpu$SERVER_CPU" '$1 == c { print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9 }' /proc/stat
}
CLK_TCK=$(getconf CLK_TCK)
RAW=$WORK/raw.tsv
: >"$RAW"

run_one() {  # index round duration record?
    local i=$1 round=$2 dur=$3 record=$4 pids before after b0 b1 out
    sys_headers "${SYS_KEYS[$i]}"
    pids=$(all_pids "${SYS_PIDS[$i]}")
    allsrv=$(all_pids "$PID_ORIGIN $PID_BARE $PID_BAREG $PID_GW $PID_GWA $PID_NGX $PID_NGXAUTH $PID_AUTHSVC ${PID_NGXGO:-} ${PID_GO:-} ${PID_GWF:-}")
    before=$(cpu_ticks "$pids"); sbefore=$(cpu_ticks "$allsrv"); read -r b0 t0 <<<"$(core_busy)"
    out=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" -d"${dur}s" --latency "${HDR[@]}" \
        "http://127.0.0.1:${SYS_PORTS[$i]}$URL_PATH" 2>&1) || die "wrk failed: $out"
    after=$(cpu_ticks "$pids"); safter=$(cpu_ticks "$allsrv"); read -r b1 t1 <<<"$(core_busy)"
    [ "$record" = 1 ] || return 0
    echo "$out" >"$WORK/wrk-${SYS_KEYS[$i]}-$round.txt"
    python3 - "$i" "$round" "$((after - before))" "$CLK_TCK" "$((b1 - b0))" "$((t1 - t0))" "$((safter - sbefore))" \
        "$WORK/wrk-${SYS_KEYS[$i]}-$round.txt" >>"$RAW" <<'PY'
import re, sys
i, rnd, ticks, hz, busy, total, srv = sys.argv[1:8]
text = open(sys.argv[8]).read()
def ms(v, unit):
    return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]
reqs = int(re.search(r"(\d+) requests in", text).group(1))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
lat = {p: ms(v, u) for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)}
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
cpu_us = int(ticks) * 1e6 / int(hz) / max(reqs, 1)
# busy share of the server core not used by the servers of this harness: other load
other = max(0.0, (int(busy) - int(srv)) / max(int(total), 1) * 100)
print("\t".join(map(str, [i, rnd, reqs, rps, lat.get("50", float("nan")), lat.get("99", float("nan")),
                          f"{cpu_us:.2f}", int(bad.group(1)) if bad else 0,
                          sum(map(int, errs.groups())) if errs else 0, f"{other:.1f}"])))
PY
    tail -1 "$RAW" | awk -F'\t' -v n="${SYS_NAMES[$i]}" '{ printf "   round %s  %-52s %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  %6.1f us/req\n", $2, n, $4, $5, $6, $7 }' >&2
}

say "warm-up: ${WARMUP} s per system (not recorded)"
for i in "${!SYS_KEYS[@]}"; do run_one "$i" 0 "$WARMUP" 0; done
say "measuring: $ROUNDS interleaved rounds x ${#SYS_KEYS[@]} systems x ${DURATION} s (wrk -t1 -c$CONNECTIONS on core $CLIENT_CPU, servers on core $SERVER_CPU)"
for r in $(seq 1 "$ROUNDS"); do
    for i in "${!SYS_KEYS[@]}"; do run_one "$i" "$r" "$DURATION" 1; done
done

# ---------------------------------------------------------------- login flood
# A logged-in user's requests at a steady pace (USER_CONNECTIONS connections, each
# waiting USER_DELAY_MS between requests: well below saturation), measured alone and
# then while FLOOD_CONNECTIONS connections post wrong passwords for unknown accounts,
# each from a new address: every attempt costs an argon2 verification. Quiet and flood
# runs alternate, ROUNDS times each. Both wrk processes run on the client core.
FLOOD_RAW=$WORK/flood.tsv
: >"$FLOOD_RAW"
if [ "$WITH_FLOOD" != 0 ]; then
    fcsrf=$(curl -s -c "$WORK/fjar" -H 'Host: storage.localhost' -H 'X-Forwarded-For: 192.0.2.1' \
        "http://127.0.0.1:$P_GWF/auth/login" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1)
    [ -n "$fcsrf" ] || die "the flood gateway's login form has no CSRF token"
    # The token is bound to the pre-session cookie the form set, so both are sent.
    fcookie=$(awk '$6 == "gw_csrf" { print $7 }' "$WORK/fjar")
    [ -n "$fcookie" ] || die "the flood gateway's login form set no gw_csrf cookie"
    cat >"$WORK/user.lua" <<LUA
function delay() return $USER_DELAY_MS end
LUA
    cat >"$WORK/flood.lua" <<LUA
local n = 0
local csrf = "$fcsrf"
local cookie = "$fcookie"
request = function()
  n = n + 1
  local ip = string.format("10.%d.%d.%d", math.floor(n / 62500) % 250, math.floor(n / 250) % 250, n % 250 + 1)
  local body = "email=nobody" .. n .. "%40flood.example&password=Wrong-" .. n .. "-pass&csrf=" .. csrf .. "&rd=%2F"
  return wrk.format("POST", "/auth/login", {
    ["Host"] = "storage.localhost", ["X-Forwarded-For"] = ip, ["Origin"] = "http://storage.localhost",
    ["Cookie"] = "gw_csrf=" .. cookie, ["Content-Type"] = "application/x-www-form-urlencoded" }, body)
end
LUA
    # The flood must really reach the password check: one attempt answers 401, not 429 or 403.
    got=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: storage.localhost' -H 'X-Forwarded-For: 10.250.0.1' \
        -H 'Origin: http://storage.localhost' -b "gw_csrf=$fcookie" \
        --data "email=nobody%40flood.example&password=Wrong-pass&csrf=$fcsrf&rd=%2F" "http://127.0.0.1:$P_GWF/auth/login")
    [ "$got" = 401 ] || die "a wrong-password login on the flood gateway answered $got, expected 401"
    UHDR=(-H "Host: storage.localhost" -H "X-Forwarded-For: 203.0.113.10" -H "Cookie: gw_lang=en; gw_session=$FLOOD_ORDINARY_SESSION")
    got=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "${UHDR[@]}" "http://127.0.0.1:$P_GWF$URL_PATH")
    [ "$got" = "200 1024" ] || die "the user on the flood gateway: expected '200 1024', got '$got'"
    say "login flood: ${ROUNDS} x (quiet, flood) runs of ${DURATION} s; user: ${USER_CONNECTIONS} connections pacing ${USER_DELAY_MS} ms; flood: ${FLOOD_CONNECTIONS} connections"
    flood_one() {  # round mode
        local round=$1 mode=$2 before after fpid=""
        before=$(cpu_ticks "$PID_GWF")
        if [ "$mode" = flood ]; then
            taskset -c "$CLIENT_CPU" wrk -t1 -c"$FLOOD_CONNECTIONS" -d"$((DURATION + 2))s" --timeout 30s -s "$WORK/flood.lua" \
                "http://127.0.0.1:$P_GWF/auth/login" >"$WORK/flood-wrk-$round.txt" 2>&1 &
            fpid=$!
            sleep 1
        fi
        taskset -c "$CLIENT_CPU" wrk -t1 -c"$USER_CONNECTIONS" -d"${DURATION}s" --latency -s "$WORK/user.lua" "${UHDR[@]}" \
            "http://127.0.0.1:$P_GWF$URL_PATH" >"$WORK/user-wrk-$mode-$round.txt" 2>&1 || die "wrk (user) failed"
        after=$(cpu_ticks "$PID_GWF")
        [ -z "$fpid" ] || wait "$fpid" || die "wrk (flood) failed: $(cat "$WORK/flood-wrk-$round.txt")"
        python3 - "$round" "$mode" "$((after - before))" "$CLK_TCK" "$WORK/user-wrk-$mode-$round.txt" \
            "$([ "$mode" = flood ] && echo "$WORK/flood-wrk-$round.txt" || echo -)" "$DURATION" >>"$FLOOD_RAW" <<'PY'
import re, sys
rnd, mode, ticks, hz, user_f, flood_f, dur = sys.argv[1:8]
def ms(v, unit):
    return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]
u = open(user_f).read()
reqs = int(re.search(r"(\d+) requests in", u).group(1))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", u).group(1))
lat = {p: ms(v, un) for p, v, un in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", u, re.M)}
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", u)
errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", u)
ubad = (int(bad.group(1)) if bad else 0) + (sum(map(int, errs.groups())) if errs else 0)
f_rps = 0.0
if flood_f != "-":
    f = open(flood_f).read()
    f_rps = float(re.search(r"Requests/sec:\s+([\d.]+)", f).group(1))
cpu_share = int(ticks) / int(hz) / float(dur) * 100
print("\t".join(map(str, [rnd, mode, reqs, rps, lat.get("50", float("nan")), lat.get("99", float("nan")), ubad,
                          f"{f_rps:.1f}", f"{cpu_share:.0f}"])))
PY
        # Logins still queued when the flood stops are still hashed (the queue cannot see
        # a client leave; the gateway bounds the wait at 10 s): let them drain so that
        # the next quiet run is quiet.
        if [ "$mode" = flood ]; then
            for _ in $(seq 1 60); do
                before=$(cpu_ticks "$PID_GWF"); sleep 0.5; after=$(cpu_ticks "$PID_GWF")
                [ $((after - before)) -gt 2 ] || break
            done
        fi
        tail -1 "$FLOOD_RAW" | awk -F'\t' '{ printf "   round %s  user, %-6s %7.0f req/s  p50 %6.2f ms  p99 %6.2f ms  flood %6.1f logins/s  gateway CPU %s%%\n", $1, $2, $4, $5, $6, $8, $9 }' >&2
    }
    for r in $(seq 1 "$ROUNDS"); do
        flood_one "$r" quiet
        flood_one "$r" flood
    done
fi

# ---------------------------------------------------------------- report
DATE=$(date -u +%Y-%m-%dT%H%MZ)
mkdir -p "$RESULTS"
OUT=$RESULTS/load-$DATE.md
printf '%s\n' "${SYS_NAMES[@]}" >"$WORK/names.txt"
printf '%s\n' "${SYS_KEYS[@]}" >"$WORK/keys.txt"
python3 - "$RAW" "$WORK/names.txt" "$WORK/keys.txt" "$DATE" "$DURATION" "$ROUNDS" "$CONNECTIONS" "$SERVER_CPU" "$CLIENT_CPU" \
    "$("$NGINX" -v 2>&1 | sed 's/.*: //')" "$(wrk --version 2>&1 | head -1 | awk '{print $2}')" \
    "$(rustc --version 2>/dev/null || echo rustc)" "$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')" \
    "$(cd "$ROOT" && git status --porcelain 2>/dev/null | grep -q . && echo ' (work tree has changes)' || true)" \
    "$FLOOD_RAW" "$USER_CONNECTIONS $USER_DELAY_MS $FLOOD_CONNECTIONS" \
    >"$OUT" <<'PY'
import statistics as st, sys, platform
raw, names_f, keys_f, date, dur, rounds, conns, scpu, ccpu, nginx_v, wrk_v, rustc_v, rev, dirty, flood_raw, flood_knobs = sys.argv[1:17]
names = open(names_f).read().splitlines()
rows = {}
for line in open(raw):
    f = line.rstrip("\n").split("\t")
    rows.setdefault(int(f[0]), []).append(f)
def med(i, col):
    return st.median(float(r[col]) for r in rows[i])
cpu = {i: med(i, 6) for i in rows}
rps = {i: med(i, 3) for i in rows}
model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
ncpu = sum(1 for l in open("/proc/cpuinfo") if l.startswith("processor"))
print(f"# Load run {date}\n")
print(f"Machine: {model}, {ncpu} CPUs, Linux {platform.release()}; nginx {nginx_v}, wrk {wrk_v}, {rustc_v}; "
      f"gateway at {rev}{dirty}.\n")
print(f"Method: `make bench-load` (benches/load/run.sh). Servers pinned to core {scpu}, "
      f"`wrk -t1 -c{conns} -d{dur}s --latency` pinned to core {ccpu}; GET of a 1 KiB static file "
      f"from an nginx origin (one worker). {rounds} interleaved rounds, medians shown. CPU per request: "
      f"utime+stime of the server processes from /proc/PID/stat before and after each run "
      f"(gateway and Pingora: the whole process, all threads; nginx: master and worker; "
      f"auth_request: the proxy nginx plus the auth nginx; the origin is not counted for proxies). "
      f"Gateway: `threads: 1`, metrics off, SQLite, GATEWAY_LOG=warn; bare Pingora: the same ServerConf, "
      f"1 thread, same release profile (fat LTO, codegen-units 1, panic abort), same allocator as the gateway "
      f"(jemalloc), and once more with glibc malloc (Pingora as shipped).\n")
print("| system | req/s | p50 ms | p99 ms | CPU us/req | CPU us/req per round | non-2xx | other load on server core |")
print("|---|---:|---:|---:|---:|---|---:|---:|")
for i in sorted(rows):
    per = " / ".join(f"{float(r[6]):.1f}" for r in rows[i])
    bad = sum(int(r[7]) + int(r[8]) for r in rows[i])
    print(f"| {names[i]} | {rps[i]:,.0f} | {med(i,4):.2f} | {med(i,5):.2f} | {cpu[i]:.1f} | {per} | {bad} | {med(i,9):.0f}% |")
key = {k: i for i, k in enumerate(open(keys_f).read().split())}
ORIGIN, BARE, BAREG, GWO, GWL, NGX, NGXA = (key[k] for k in ("origin", "bare", "bare_glibc", "gw_ordinary", "gw_line", "nginx", "nginx_auth"))
NGXGO = key.get("nginx_go", -1)
def per_round(a, b, col):
    return [float(x[col]) / float(y[col]) for x, y in zip(rows[a], rows[b])]
def line(label, value, goal, a=None, b=None, col=6):
    rr = per_round(a, b, col)
    rounds_txt = " / ".join(f"{v:.2f}" for v in rr)
    print(f"| {label} | {value:.2f} | {st.median(rr):.2f} | {rounds_txt} | {goal} |")
print("\nRatios: of the medians above, then the median of the same ratio taken within each round (which cancels "
      "drift between rounds; the steadier of the two on a shared machine), then each round's:\n")
print("| ratio | of medians | median of rounds | per round | goal (issue 6) |")
print("|---|---:|---:|---|---|")
line("gateway ordinary CPU/req ÷ bare Pingora", cpu[GWO] / cpu[BARE], "<= 1.1", GWO, BARE)
line("gateway line-auth CPU/req ÷ bare Pingora", cpu[GWL] / cpu[BARE], "<= 1.1", GWL, BARE)
if NGXGO in rows:
    line("gateway ordinary CPU/req ÷ nginx + auth_request (Go)", cpu[GWO] / cpu[NGXGO], "<= 0.5", GWO, NGXGO)
    line("gateway line-auth CPU/req ÷ nginx + auth_request (Go)", cpu[GWL] / cpu[NGXGO], "<= 0.5", GWL, NGXGO)
    line("gateway ordinary req/s ÷ nginx + auth_request (Go)", rps[GWO] / rps[NGXGO], ">= 2", GWO, NGXGO, 3)
    line("gateway line-auth req/s ÷ nginx + auth_request (Go)", rps[GWL] / rps[NGXGO], ">= 2", GWL, NGXGO, 3)
line("gateway ordinary CPU/req ÷ nginx + auth_request (nginx)", cpu[GWO] / cpu[NGXA], "(no goal; cheapest possible peer)", GWO, NGXA)
line("gateway ordinary req/s ÷ nginx + auth_request (nginx)", rps[GWO] / rps[NGXA], "(no goal)", GWO, NGXA, 3)
line("gateway ordinary CPU/req ÷ nginx plain proxy", cpu[GWO] / cpu[NGX], "as close to 1 as possible", GWO, NGX)
if "gw_access" in key:
    GWA = key["gw_access"]
    line("gateway ordinary with access log CPU/req ÷ without", cpu[GWA] / cpu[GWO], "(what the access log costs; issue 14)", GWA, GWO)
    line("gateway ordinary with access log req/s ÷ without", rps[GWA] / rps[GWO], "(issue 14)", GWA, GWO, 3)
line("bare Pingora CPU/req ÷ nginx plain proxy", cpu[BARE] / cpu[NGX], "(the floor: why is Pingora dearer?)", BARE, NGX)
line("bare Pingora glibc malloc CPU/req ÷ bare Pingora jemalloc", cpu[BAREG] / cpu[BARE], "(what the allocator is worth)", BAREG, BARE)
line("gateway ordinary CPU/req ÷ bare Pingora glibc malloc", cpu[GWO] / cpu[BAREG], "(against Pingora as shipped)", GWO, BAREG)
if NGXGO not in rows:
    print("\nThe Go auth-service peer was left out (BENCH_GO=0).")
flood = [l.rstrip("\n").split("\t") for l in open(flood_raw) if l.strip()]
if flood:
    ucon, udelay, fcon = flood_knobs.split()
    q = [r for r in flood if r[1] == "quiet"]
    f = [r for r in flood if r[1] == "flood"]
    def fmed(rs, col):
        return st.median(float(r[col]) for r in rs)
    print(f"\n## Login flood\n")
    print(f"A logged-in user (ordinary host, 2FA done) downloads the file over {ucon} connections, each waiting "
          f"{udelay} ms between requests (`wrk -s` with `delay()`), alone and then while `wrk -c{fcon}` posts "
          f"wrong passwords for unknown accounts, each from a new address in `X-Forwarded-For` (the gateway "
          f"trusts 127.0.0.1 as its load balancer here): the per-address throttle never triggers and every "
          f"attempt costs a real argon2id verification. A separate gateway instance (same build, same settings, "
          f"`login.hash_concurrency` 2), pinned to the server core like the others. Quiet and flood runs alternate, "
          f"{rounds} of each, medians shown.\n")
    print("| user's requests | req/s | p50 ms | p99 ms | p99 per round | failed | flood logins/s | gateway CPU |")
    print("|---|---:|---:|---:|---|---:|---:|---:|")
    for label, rs in (("quiet", q), ("during the flood", f)):
        per = " / ".join(f"{float(r[5]):.2f}" for r in rs)
        print(f"| {label} | {fmed(rs,3):,.0f} | {fmed(rs,4):.2f} | {fmed(rs,5):.2f} | {per} | "
              f"{sum(int(r[6]) for r in rs)} | {fmed(rs,7):.1f} | {fmed(rs,8):.0f}% |")
    ratio = fmed(f, 5) / fmed(q, 5)
    rr = [float(b[5]) / float(a[5]) for a, b in zip(q, f)]
    rounds_txt = " / ".join(f"{v:.2f}" for v in rr)
    print("\n| ratio | of medians | median of rounds | per round | goal (issue 6) |")
    print("|---|---:|---:|---|---|")
    print(f"| user p99 during the flood ÷ quiet p99 | {ratio:.2f} | {st.median(rr):.2f} | {rounds_txt} | <= 2 |")
else:
    print("\nThe login-flood scenario was left out (BENCH_FLOOD=0).")
PY
cp "$OUT" "$RESULTS/latest.md"
echo
cat "$OUT"
echo
echo "written: $OUT and $RESULTS/latest.md"
