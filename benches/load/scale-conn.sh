#!/usr/bin/env bash
# Scale figures for one gateway instance: what idle keep-alive connections cost
# in memory, and what the password-hashing pool does under 200 logins a second.
# `make bench-scale-conn` runs it; see benches/load/README.md ("Scale: idle
# connections and the hashing pool").
#
# 1. Idle connections (scale_idle.py): $SCALE_CONNS (10 000) keep-alive
#    connections, each sending one authorised GET of the 1 KiB file through the
#    proxy to an nginx origin, reading the 200, then idling. The proxy's memory
#    (VmRSS; Rss, Pss, Private from /proc/PID/smaps_rollup) before, after
#    $SCALE_FIRST (1 000) and after all of them: KiB per connection. The release
#    gateway (SQLite, seeded with load_seed like run.sh) and the bare Pingora
#    proxy (the floor) side by side, each freshly started, in alternating rounds.
#    Then, after the connections have idled: ESTABLISHED counted with ss, and one
#    more request on some of them. The clients come from 127.0.1.N, an ordinary
#    (untrusted) address, so the per-address cap applies: the test config raises
#    connections.max_per_address (256 by default) and connections.idle_timeout
#    (60 s by default, which would close them mid-test).
# 2. Hashing pool (scale_logins.py): an open-loop client offers $SCALE_LOGIN_RATE
#    (200) POST /auth/login a second for $SCALE_LOGIN_SECONDS (20) s, each from a
#    new X-Forwarded-For address behind a trusted proxy (as run.sh's login flood),
#    wrong passwords for a real account and, in another run, for unknown accounts,
#    while a signed-in user's requests run at a steady pace (wrk with delay(),
#    like run.sh) and, once a second, a real person signs in with the right
#    password. Against a quiet baseline of the user alone, in alternating rounds.
#
# Servers are pinned to core $BENCH_SERVER_CPU (0), clients to $BENCH_CLIENT_CPU (1).
# BIN=/dir uses prebuilt release binaries (gateway, bare_proxy, load_seed) instead
# of building them. Results: benches/results/scale-conn-<UTC date>.md and
# scale-conn-latest.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CONNS=${SCALE_CONNS:-10000}
FIRST=${SCALE_FIRST:-1000}
CONN_ROUNDS=${SCALE_CONN_ROUNDS:-2}
HOLD=${SCALE_HOLD:-20}
IDLE_TIMEOUT=${SCALE_IDLE_TIMEOUT:-600s}
LOGIN_RATE=${SCALE_LOGIN_RATE:-200}
LOGIN_SECONDS=${SCALE_LOGIN_SECONDS:-20}
LOGIN_ROUNDS=${SCALE_LOGIN_ROUNDS:-3}
HASH_CONCURRENCY=${SCALE_HASH_CONCURRENCY:-}
PARTS=${SCALE_PARTS:-conn,login}
USER_CONNECTIONS=${BENCH_USER_CONNECTIONS:-16}
USER_DELAY_MS=${BENCH_USER_DELAY_MS:-4}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
CLIENT_CPU=${BENCH_CLIENT_CPU:-1}
LINE=CAF0000000042
RESULTS=${BENCH_RESULTS:-$ROOT/benches/results}
CARGO=${CARGO:-cargo}
HERE=$ROOT/benches/load

. "$ROOT/benches/load/common.sh"

# ---------------------------------------------------------------- tools, binaries, limits
need_apt=()
command -v wrk >/dev/null 2>&1 || need_apt+=(wrk)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || need_apt+=(nginx-light)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v taskset >/dev/null 2>&1 || need_apt+=(util-linux)
command -v ss >/dev/null 2>&1 || need_apt+=(iproute2)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
# The build needs cmake (Pingora's zlib-ng); prebuilt binaries (BIN=) do not.
[ -n "${BIN:-}" ] || command -v cmake >/dev/null 2>&1 || need_apt+=(cmake)
if [ ${#need_apt[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing ${need_apt[*]} (apt-get)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
    else
        die "missing ${need_apt[*]}: install them (e.g. 'sudo apt-get install ${need_apt[*]}')"
    fi
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

if [ -z "${BIN:-}" ]; then
    say "building release binaries (gateway, bare_proxy, load_seed): fat LTO, about 7 minutes from an empty cache on 2 cores"
    (cd "$ROOT" && exec $CARGO build --release -p gateway -p benches --bins) >&2 || die "the release build failed"
    BIN=$ROOT/target/release
fi
for b in gateway bare_proxy load_seed; do [ -x "$BIN/$b" ] || die "$BIN/$b is missing"; done

# Every connection is a file descriptor in the proxy and one in the client (both
# inherit this shell's limit); the proxy also holds its upstream connections.
want=$((CONNS + 3000))
[ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge "$want" ] ||
    die "the hard open-files limit ($(ulimit -Hn)) is below $want: raise it (ulimit -Hn as root, or limits.conf)"
[ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$want" ] && ulimit -n "$want"
say "open files limit: $(ulimit -n)"

# ---------------------------------------------------------------- work folder, origin
WORK=$(mktemp -d /tmp/bench-scale.XXXXXX)
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
read -r P_ORIGIN P_GW P_BARE P_GWL P_MET P_NGX <<<"$(free_ports 6)"

mkdir -p "$WORK/www/files" "$WORK/origin"
python3 -c 'import sys; sys.stdout.write(("0123456789abcdef" * 64)[:1024])' >"$WORK/www/files/report.bin"
URL_PATH=/files/report.bin
chmod a+rx "$WORK" "$WORK/www" "$WORK/www/files"
chmod a+r "$WORK/www/files/report.bin"
cat >"$WORK/origin/nginx.conf" <<CONF
worker_processes 1;
worker_rlimit_nofile $((CONNS + 3000));
daemon off;
pid $WORK/origin/nginx.pid;
error_log $WORK/origin/error.log warn;
# Above the connections held: nginx closes idle keep-alive connections early
# when it runs short of worker_connections.
events { worker_connections $((CONNS + 2048)); }
http {
    access_log off;
    client_body_temp_path $WORK/origin/tmp-body;
    proxy_temp_path $WORK/origin/tmp-proxy;
    fastcgi_temp_path $WORK/origin/tmp-fcgi;
    uwsgi_temp_path $WORK/origin/tmp-uwsgi;
    scgi_temp_path $WORK/origin/tmp-scgi;
    keepalive_requests 10000000;
    keepalive_timeout 900s;
    server {
        listen 127.0.0.1:$P_ORIGIN backlog=4096;
        location / { root $WORK/www; }
    }
}
CONF
# nginx as a plain reverse proxy (upstream keep-alive, as in run.sh): a reference
# for part 1 beside bare Pingora. Started per round, its one worker measured.
mkdir -p "$WORK/nginx-proxy"
sed -e "s|$WORK/origin|$WORK/nginx-proxy|g" -e "s|listen 127.0.0.1:$P_ORIGIN|listen 127.0.0.1:$P_NGX|" \
    -e "s|location / { root $WORK/www; }|location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection \"\"; }|" \
    -e "s|^    server {|    upstream origin { server 127.0.0.1:$P_ORIGIN; keepalive 256; keepalive_timeout 900s; }\n    server {|" \
    "$WORK/origin/nginx.conf" >"$WORK/nginx-proxy/nginx.conf"
for d in origin nginx-proxy; do
    "$NGINX" -t -q -e "$WORK/$d/error.log" -p "$WORK/$d" -c "$WORK/$d/nginx.conf" || die "bad nginx config $WORK/$d"
done
taskset -c "$SERVER_CPU" "$NGINX" -e "$WORK/origin/error.log" -p "$WORK/origin" -c "$WORK/origin/nginx.conf" \
    >"$WORK/origin/stdout.log" 2>&1 &
PIDS+=("$!")
wait_port "$P_ORIGIN"

CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() {  # utime+stime of one pid, in clock ticks
    local f
    f=$(sed 's/^.*) //' "/proc/$1/stat")
    # shellcheck disable=SC2086  # split the fields on purpose
    set -- $f
    echo $((${12} + ${13}))
}
stop() {  # pid: INT (Pingora's fast shutdown), then KILL after 3 s
    kill -INT "$1" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# ---------------------------------------------------------------- part 1: idle connections
IDLE_RAW=$WORK/idle.jsonl
: >"$IDLE_RAW"
if [[ ,$PARTS, == *,conn,* ]]; then
    mkdir -p "$WORK/gw"
    gateway_yaml "$P_GW" "$P_ORIGIN" "$WORK/gw" >"$WORK/gw/gateway.yaml"
    # 10 000 connections from one client address, idle for the length of the test:
    # max_per_address (default 256) and idle_timeout (default 60 s) raised.
    cat >>"$WORK/gw/gateway.yaml" <<YAML
connections:
  idle_timeout: $IDLE_TIMEOUT
  max_per_address: $((CONNS + 100))
YAML
    "$BIN/gateway" --config "$WORK/gw/gateway.yaml" check-config >&2 || die "the generated gateway.yaml is refused"
    eval "$("$BIN/load_seed" "sqlite://$WORK/gw/gateway.db" "$LINE")"
    HDRS=(--header "Host: storage.localhost" --header "Cookie: gw_lang=en; gw_session=$ORDINARY_SESSION")
    start_system() {  # gateway|bare; sets SYS_PID and SYS_PORT
        case $1 in
            gateway)
                GATEWAY_LOG=warn taskset -c "$SERVER_CPU" "$BIN/gateway" --config "$WORK/gw/gateway.yaml" serve \
                    >>"$WORK/gw/gateway.log" 2>&1 &
                SYS_PID=$!; SYS_PORT=$P_GW ;;
            nginx)
                taskset -c "$SERVER_CPU" "$NGINX" -e "$WORK/nginx-proxy/error.log" -p "$WORK/nginx-proxy" \
                    -c "$WORK/nginx-proxy/nginx.conf" >>"$WORK/nginx-proxy/stdout.log" 2>&1 &
                SYS_PID=$!; SYS_PORT=$P_NGX ;;
            bare)
                taskset -c "$SERVER_CPU" "$BIN/bare_proxy" --listen "127.0.0.1:$P_BARE" --origin "127.0.0.1:$P_ORIGIN" \
                    --threads 1 >>"$WORK/bare.log" 2>&1 &
                SYS_PID=$!; SYS_PORT=$P_BARE ;;
        esac
        PIDS+=("$SYS_PID")
        wait_port "$SYS_PORT"
        MEM_PID=$SYS_PID
        [ "$1" != nginx ] || MEM_PID=$(pgrep -P "$SYS_PID" | head -1)  # the worker
        local got
        got=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' -H 'Host: storage.localhost' \
            -H "Cookie: gw_lang=en; gw_session=$ORDINARY_SESSION" "http://127.0.0.1:$SYS_PORT$URL_PATH")
        [ "$got" = "200 1024" ] || die "$1: expected '200 1024', got '$got'"
    }
    CONN_SYSTEMS=(gateway bare)
    [ "${SCALE_NGINX:-1}" = 0 ] || CONN_SYSTEMS+=(nginx)
    say "idle connections: $CONN_ROUNDS rounds x (${CONN_SYSTEMS[*]}), $FIRST then $CONNS connections each, held ${HOLD} s"
    n=0
    for r in $(seq 1 "$CONN_ROUNDS"); do
        for sys in "${CONN_SYSTEMS[@]}"; do
            n=$((n + 1))
            start_system "$sys"
            # A source address per run: the previous run's closed connections
            # (TIME_WAIT) do not take this run's ports.
            taskset -c "$CLIENT_CPU" python3 "$HERE/scale_idle.py" --port "$SYS_PORT" --pid "$MEM_PID" \
                --source "127.0.1.$((n + 1))" --checkpoints "$FIRST,$CONNS" --hold "$HOLD" "${HDRS[@]}" \
                --path "$URL_PATH" --label "$sys round $r" >>"$IDLE_RAW" || die "the idle-connection client failed ($sys)"
            stop "$SYS_PID"
            sleep 1
        done
    done
fi

# ---------------------------------------------------------------- part 2: the hashing pool
LOGIN_RAW=$WORK/logins.jsonl
USER_RAW=$WORK/user.tsv
: >"$LOGIN_RAW"
: >"$USER_RAW"
if [[ ,$PARTS, == *,login,* ]]; then
    mkdir -p "$WORK/gwl"
    gateway_yaml "$P_GWL" "$P_ORIGIN" "$WORK/gwl" | sed "s|^  listen: off|  listen: \"127.0.0.1:$P_MET\"|" \
        >"$WORK/gwl/gateway.yaml"
    echo 'trusted_proxies: ["127.0.0.1/32"]' >>"$WORK/gwl/gateway.yaml"
    [ -z "$HASH_CONCURRENCY" ] || printf 'login:\n  hash_concurrency: %s\n' "$HASH_CONCURRENCY" >>"$WORK/gwl/gateway.yaml"
    grep -q "127.0.0.1:$P_MET" "$WORK/gwl/gateway.yaml" || die "could not turn the metrics listener on"
    "$BIN/gateway" --config "$WORK/gwl/gateway.yaml" check-config >&2 || die "the login gateway's config is refused"
    eval "$("$BIN/load_seed" "sqlite://$WORK/gwl/gateway.db" "$LINE" | sed 's/^/L_/')"
    # The account under attack: a real user of the same tenant, not the signed-in
    # one (ten wrong passwords lock an account and end its sessions).
    VICTIM=victim@bench.example
    printf '%s\n' 'Victim-pass-123' | "$BIN/gateway" --config "$WORK/gwl/gateway.yaml" \
        user add "$VICTIM" --tenant bench --role user --password-stdin >"$WORK/gwl/user-add.log" 2>&1 ||
        die "gateway user add failed: $(cat "$WORK/gwl/user-add.log")"
    GATEWAY_LOG=warn taskset -c "$SERVER_CPU" "$BIN/gateway" --config "$WORK/gwl/gateway.yaml" serve \
        >"$WORK/gwl/gateway.log" 2>&1 &
    PID_GWL=$!
    PIDS+=("$PID_GWL")
    wait_port "$P_GWL"
    curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$P_MET/metrics" || die "no /metrics on $P_MET"

    csrf=$(curl -s -c "$WORK/jar" -H 'Host: storage.localhost' -H 'X-Forwarded-For: 192.0.2.1' \
        "http://127.0.0.1:$P_GWL/auth/login" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1)
    [ -n "$csrf" ] || die "the login form has no CSRF token"
    cookie=$(awk '$6 == "gw_csrf" { print $7 }' "$WORK/jar")
    [ -n "$cookie" ] || die "the login form set no gw_csrf cookie"
    login_status() {  # email password address
        curl -s -o /dev/null -w '%{http_code}' -H 'Host: storage.localhost' -H "X-Forwarded-For: $3" \
            -H 'Origin: http://storage.localhost' -b "gw_csrf=$cookie" --data-urlencode "email=$1" \
            --data-urlencode "password=$2" --data "csrf=$csrf&rd=%2F" "http://127.0.0.1:$P_GWL/auth/login"
    }
    # Each kind of attempt must reach the password check (401, not 429 or 403),
    # and the right password must pass (303 on to the second step).
    got=$(login_status "$VICTIM" Wrong-pass-1 10.251.0.1); [ "$got" = 401 ] || die "wrong password: $got, expected 401"
    got=$(login_status nobody@flood.example Wrong-pass-1 10.251.0.2); [ "$got" = 401 ] || die "unknown account: $got, expected 401"
    got=$(login_status "$L_EMAIL" "$L_PASSWORD" 10.251.0.3); [ "$got" = 303 ] || die "right password: $got, expected 303"
    UHDR=(-H "Host: storage.localhost" -H "X-Forwarded-For: 203.0.113.10" -H "Cookie: gw_lang=en; gw_session=$L_ORDINARY_SESSION")
    got=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "${UHDR[@]}" "http://127.0.0.1:$P_GWL$URL_PATH")
    [ "$got" = "200 1024" ] || die "the signed-in user: expected '200 1024', got '$got'"
    printf 'function delay() return %s end\n' "$USER_DELAY_MS" >"$WORK/user.lua"
    USER_SECONDS=$((LOGIN_SECONDS - 2))

    login_run() {  # round mode(quiet|wrong|unknown)
        local round=$1 mode=$2 fpid="" before after email=()
        if [ "$mode" != quiet ]; then
            [ "$mode" = unknown ] || email=(--email "$VICTIM")
            taskset -c "$CLIENT_CPU" python3 "$HERE/scale_logins.py" --port "$P_GWL" --pid "$PID_GWL" \
                --metrics-port "$P_MET" --rate "$LOGIN_RATE" --seconds "$LOGIN_SECONDS" "${email[@]}" \
                --csrf "$csrf" --cookie "$cookie" --probe-email "$L_EMAIL" --probe-password "$L_PASSWORD" \
                --ip-offset $((round * 20000 + (${#email[@]} > 0 ? 10000 : 0))) --label "$mode round $round" \
                >"$WORK/logins-$mode-$round.json" &
            fpid=$!
            sleep 1
        fi
        before=$(cpu_ticks "$PID_GWL")
        taskset -c "$CLIENT_CPU" wrk -t1 -c"$USER_CONNECTIONS" -d"${USER_SECONDS}s" --latency -s "$WORK/user.lua" \
            "${UHDR[@]}" "http://127.0.0.1:$P_GWL$URL_PATH" >"$WORK/user-$mode-$round.txt" 2>&1 || die "wrk (user) failed"
        after=$(cpu_ticks "$PID_GWL")
        if [ -n "$fpid" ]; then
            wait "$fpid" || die "the login client failed ($mode round $round)"
            cat "$WORK/logins-$mode-$round.json" >>"$LOGIN_RAW"
        fi
        python3 - "$round" "$mode" "$((after - before))" "$CLK_TCK" "$USER_SECONDS" "$WORK/user-$mode-$round.txt" \
            >>"$USER_RAW" <<'PY'
import re, sys
rnd, mode, ticks, hz, dur, path = sys.argv[1:7]
u = open(path).read()
def ms(v, unit):
    return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", u).group(1))
lat = {p: ms(v, un) for p, v, un in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", u, re.M)}
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", u)
errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", u)
failed = (int(bad.group(1)) if bad else 0) + (sum(map(int, errs.groups())) if errs else 0)
cpu = int(ticks) / int(hz) / float(dur) * 100
print("\t".join(map(str, [rnd, mode, rps, lat["50"], lat["99"], failed, f"{cpu:.0f}"])))
PY
        tail -1 "$USER_RAW" | awk -F'\t' '{ printf "   round %s %-8s user %6.0f req/s  p50 %6.2f ms  p99 %7.2f ms  failed %s  gateway CPU %s%%\n", $1, $2, $3, $4, $5, $6, $7 }' >&2
    }
    say "hashing pool: $LOGIN_ROUNDS rounds x (quiet, wrong passwords for $VICTIM, unknown accounts); ${LOGIN_RATE} logins/s offered for ${LOGIN_SECONDS} s; user: ${USER_CONNECTIONS} connections pacing ${USER_DELAY_MS} ms"
    for r in $(seq 1 "$LOGIN_ROUNDS"); do
        login_run "$r" quiet
        login_run "$r" wrong
        login_run "$r" unknown
    done
fi

# ---------------------------------------------------------------- report
DATE=$(date -u +%Y-%m-%dT%H%MZ)
mkdir -p "$RESULTS"
OUT=$RESULTS/scale-conn-$DATE.md
python3 "$HERE/scale_report.py" --idle "$IDLE_RAW" --logins "$LOGIN_RAW" --user "$USER_RAW" --date "$DATE" \
    --conns "$CONNS" --first "$FIRST" --hold "$HOLD" --idle-timeout "$IDLE_TIMEOUT" --rate "$LOGIN_RATE" \
    --seconds "$LOGIN_SECONDS" --user-knobs "$USER_CONNECTIONS $USER_DELAY_MS" \
    --hash-concurrency "${HASH_CONCURRENCY:-2 (default)}" --server-cpu "$SERVER_CPU" --client-cpu "$CLIENT_CPU" \
    --rev "$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')" >"$OUT"
cp "$OUT" "$RESULTS/scale-conn-latest.md"
echo
cat "$OUT"
echo
echo "written: $OUT and $RESULTS/scale-conn-latest.md"
