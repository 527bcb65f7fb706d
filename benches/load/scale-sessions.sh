#!/usr/bin/env bash
# Scale figure 2: the proxied request with 1 000 000 live sessions in the store,
# where 10 % of requests miss the gateway's session cache and so read their
# session from the database, once on SQLite and once on PostgreSQL, beside the
# same gateways answering only cache hits (the cost of the misses as a ratio).
# `make bench-scale-sessions` runs it; see benches/load/README.md.
#
# Why: the load harness (run.sh) measures one session, always cached. A real
# deployment holds far more sessions than its cache, and every session the
# cache does not hold (first request on this instance, after the cache TTL,
# after an eviction) is a query on a table of that size.
#
# What: the store is seeded by `load_seed` (tenant, owner, a session as a
# finished login leaves it), then SCALE_SESSIONS more sessions (copies of that
# session row: host, factor, line, client address; SCALE_USERS users, copies of
# the owner row as role `user`) are written in bulk: SQLite with Python's
# executemany in one transaction, PostgreSQL with COPY and INSERT ... SELECT.
# The rows are compared with the one load_seed wrote, and a seeded cookie must
# get 200 through each gateway before anything is measured. The first
# SCALE_HOT sessions are the hot set; each cache is filled to capacity (cold
# sessions, then the hot set spread over a minute) before measuring; wrk's Lua
# script sends every SCALE_MISS_EVERY-th request with a cold session never
# used before (read in order from a fixed-width file, so each is a real miss;
# it signed in SCALE_SEEN_AGO seconds ago, so its activity is written behind too),
# the others with a random hot one. The gateway's own counter
# gateway_session_cache_lookups_total{result} is read before and after each
# run and the measured miss share printed. Four systems in interleaved rounds:
# SQLite hits only, SQLite 10 % misses, PostgreSQL hits only, PostgreSQL 10 %
# misses. Gateway on core $BENCH_SERVER_CPU, wrk on $BENCH_CLIENT_CPU, as in
# run.sh; PostgreSQL is the machine's server (not pinned): its backends' CPU
# is counted apart, from /proc/PID/stat of the gateway database's backends.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DURATION=${BENCH_DURATION:-10}
ROUNDS=${BENCH_ROUNDS:-5}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
CLIENT_CPU=${BENCH_CLIENT_CPU:-1}
WARMUP=${BENCH_WARMUP:-3}
SESSIONS=${SCALE_SESSIONS:-1000000}
USERS=${SCALE_USERS:-100000}
HOT=${SCALE_HOT:-10000}
MISS_EVERY=${SCALE_MISS_EVERY:-10}
CACHE_CAPACITY=${SCALE_CACHE_CAPACITY:-100000}
CACHE_TTL=${SCALE_CACHE_TTL:-1h}
SEEN_AGO=${SCALE_SEEN_AGO:-600}
PG_URL=${SCALE_PG_URL:-postgres://postgres@127.0.0.1:5432}
LINE=CAF0000000042
RESULTS=${BENCH_RESULTS:-$ROOT/benches/results}
CARGO=${CARGO:-cargo}

. "$ROOT/benches/load/common.sh"

apt_install() {  # packages...
    [ $# -gt 0 ] || return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing $* (apt-get)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
    else
        die "missing $*: install them (e.g. 'sudo apt-get install $*')"
    fi
}
need_apt=()
command -v wrk >/dev/null 2>&1 || need_apt+=(wrk)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || need_apt+=(nginx-light)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v psql >/dev/null 2>&1 || need_apt+=(postgresql-client)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
apt_install "${need_apt[@]}"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ "$SESSIONS" -gt "$HOT" ] || die "SCALE_SESSIONS ($SESSIONS) must exceed SCALE_HOT ($HOT)"
[ "$HOT" -le "$CACHE_CAPACITY" ] || die "the hot set ($HOT) must fit the cache ($CACHE_CAPACITY)"

# BIN=/dir uses binaries built elsewhere; otherwise they are built here, as run.sh does.
if [ -n "${BIN:-}" ]; then
    say "using the binaries in $BIN"
else
    command -v cmake >/dev/null 2>&1 || apt_install cmake
    say "building release binaries (gateway, load_seed): fat LTO, about 7 minutes on 2 cores from an empty cache"
    (cd "$ROOT" && exec $CARGO build --release -p gateway -p benches --bins) >&2 || die "the release build failed"
    BIN=$ROOT/target/release
fi
for b in gateway load_seed; do [ -x "$BIN/$b" ] || die "$BIN/$b is missing"; done
psql "$PG_URL/postgres" -Atqc 'SELECT 1' >/dev/null || die "PostgreSQL does not answer at $PG_URL"

# ---------------------------------------------------------------- work folder, processes
WORK=$(mktemp -d /tmp/bench-scale-sessions.XXXXXX)
PGDB=scale_sess_$$
PG_CREATED=
PIDS=()
cleanup() {
    local rc=$?
    if [ "$rc" != 0 ]; then
        for d in sqlite pg; do [ -f "$WORK/$d/gateway.log" ] && { echo "-- $d/gateway.log:"; tail -5 "$WORK/$d/gateway.log"; } >&2; done
    fi
    [ -z "${BENCH_KEEP:-}" ] || say "kept $WORK (the PostgreSQL database $PGDB is dropped)"
    exec 2>/dev/null
    for p in "${PIDS[@]}"; do kill -INT "$p" || true; done
    sleep 0.3
    for p in "${PIDS[@]}"; do kill -KILL "$p" || true; done
    wait || true
    [ -z "$PG_CREATED" ] || psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)" || true
    [ -n "${BENCH_KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
read -r P_ORIGIN P_GWS P_GWP P_MS P_MP <<<"$(free_ports 5)"

mkdir -p "$WORK/www/files"
python3 -c 'import sys; sys.stdout.write(("0123456789abcdef" * 64)[:1024])' >"$WORK/www/files/report.bin"
URL_PATH=/files/report.bin
chmod a+rx "$WORK" "$WORK/www" "$WORK/www/files"
chmod a+r "$WORK/www/files/report.bin"
mkdir -p "$WORK/origin"
cat >"$WORK/origin/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $WORK/origin/nginx.pid;
error_log $WORK/origin/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $WORK/origin/tmp-body;
    proxy_temp_path $WORK/origin/tmp-proxy;
    fastcgi_temp_path $WORK/origin/tmp-fcgi;
    uwsgi_temp_path $WORK/origin/tmp-uwsgi;
    scgi_temp_path $WORK/origin/tmp-scgi;
    keepalive_requests 10000000;
    keepalive_timeout 300s;
    server { listen 127.0.0.1:$P_ORIGIN backlog=4096; location / { root $WORK/www; } }
}
CONF
# The origin runs on the client core: it is not what is measured here, and on the
# server core it would take CPU from the gateway (the gateway's CPU is read per process).
taskset -c "$CLIENT_CPU" "$NGINX" -e "$WORK/origin/error.log" -p "$WORK/origin" -c "$WORK/origin/nginx.conf" \
    >"$WORK/origin/stdout.log" 2>&1 &
PIDS+=("$!")

# ---------------------------------------------------------------- session tokens
# Deterministic from a per-run salt: token i is base64url(sha256(salt:i)), stored as
# hex sha256 of its 32 bytes (tokens.rs). hot.txt: the first HOT cookies; cold.txt: the
# rest, 44 bytes a line (wrk's script seeks to its next unused one); hashes.txt: the
# stored hashes, hot then cold; session i belongs to user i % USERS.
say "generating $SESSIONS session tokens"
t0=$(date +%s.%N)
python3 - "$WORK" "$SESSIONS" "$HOT" <<'PY'
import base64, hashlib, os, sys
work, n, hot = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
salt = os.urandom(16).hex().encode()
with open(f"{work}/hot.txt", "w") as h, open(f"{work}/cold.txt", "w") as c, open(f"{work}/hashes.txt", "w") as s:
    for i in range(n):
        b = hashlib.sha256(salt + b":%d" % i).digest()
        tok = base64.urlsafe_b64encode(b).rstrip(b"=").decode()
        (h if i < hot else c).write(tok + "\n")
        s.write(hashlib.sha256(b).hexdigest() + "\n")
PY
say "tokens written in $(python3 -c "import time; print(round(time.time() - $t0, 1))") s"

# ---------------------------------------------------------------- SQLite: seed and bulk
mkdir -p "$WORK/sqlite"
SQLITE_DB=$WORK/sqlite/gateway.db
eval "$("$BIN/load_seed" "sqlite://$SQLITE_DB" "$LINE" | sed 's/^/SQ_/')"
say "SQLite: writing $SESSIONS sessions for $USERS users in one transaction (executemany)"
t0=$(date +%s.%N)
python3 - "$SQLITE_DB" "$WORK/hashes.txt" "$USERS" "$SQ_ORDINARY_SESSION" "$SEEN_AGO" >"$WORK/sqlite/seed.txt" <<'PY'
import base64, hashlib, sqlite3, sys, time
db, hashes, nusers, tmpl_tok = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
con = sqlite3.connect(db, isolation_level=None)
tmpl_hash = hashlib.sha256(base64.urlsafe_b64decode(tmpl_tok + "=")).hexdigest()
owner = con.execute("SELECT user_id FROM sessions WHERE id_hash = ?", (tmpl_hash,)).fetchone()[0]
ucols = [r[1] for r in con.execute("PRAGMA table_info(users)") if r[1] not in ("id", "email", "role")]
scols = [r[1] for r in con.execute("PRAGMA table_info(sessions)")
         if r[1] not in ("id_hash", "user_id", "created_at", "last_seen_at", "expires_at")]
tmpl = con.execute(f"SELECT {', '.join(scols)} FROM sessions WHERE id_hash = ?", (tmpl_hash,)).fetchone()
life = con.execute("SELECT expires_at - created_at FROM sessions WHERE id_hash = ?", (tmpl_hash,)).fetchone()[0]
now = int(time.time()) - int(sys.argv[5])  # signed in SEEN_AGO seconds ago, not seen since
con.execute("BEGIN")
con.executemany(
    f"INSERT INTO users (email, role, {', '.join(ucols)}) SELECT ?, 'user', {', '.join(ucols)} FROM users WHERE id = ?",
    ((f"scale-{k}@bench.example", owner) for k in range(nusers)))
ids = dict(con.execute("SELECT email, id FROM users WHERE email LIKE 'scale-%@bench.example'"))
uid = [ids[f"scale-{k}@bench.example"] for k in range(nusers)]
ph = ", ".join("?" * (5 + len(scols)))
ins = f"INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at, {', '.join(scols)}) VALUES ({ph})"
hs = open(hashes).read().split()
for at in range(0, len(hs), 200000):
    con.executemany(ins, ((hs[i], uid[i % nusers], now, now, now + life, *tmpl) for i in range(at, min(at + 200000, len(hs)))))
    print(f"   {min(at + 200000, len(hs)):,} sessions", file=sys.stderr)
con.execute("COMMIT")
con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
con.execute("ANALYZE")
print(", ".join(scols))
PY
SQ_SEED_S=$(python3 -c "import time; print(round(time.time() - $t0, 1))")
SQ_SIZE=$(du -cb "$SQLITE_DB"* | tail -1 | cut -f1)
say "SQLite: seeded in $SQ_SEED_S s, $((SQ_SIZE / 1048576)) MiB"

# ---------------------------------------------------------------- PostgreSQL: seed and bulk
psql "$PG_URL/postgres" -qc "CREATE DATABASE $PGDB" || die "CREATE DATABASE $PGDB failed"
PG_CREATED=1
PGDB_URL=$PG_URL/$PGDB
eval "$("$BIN/load_seed" "$PGDB_URL" "$LINE" | sed 's/^/PG_/')"
cols() {  # table excluded-column...: the table's other columns, comma separated, each prefixed with $PFX
    local t=$1; shift
    psql "$PGDB_URL" -Atqc "SELECT string_agg('${PFX:-}' || column_name, ', ' ORDER BY ordinal_position)
        FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '$t'
        AND column_name NOT IN ($(printf "'%s'," "$@" | sed 's/,$//'))"
}
UCOLS=$(cols users id email role)
SCOLS=$(cols sessions id_hash user_id created_at last_seen_at expires_at)
TSCOLS=$(PFX=t. cols sessions id_hash user_id created_at last_seen_at expires_at)
PG_TMPL=$(python3 -c 'import base64, hashlib, sys; print(hashlib.sha256(base64.urlsafe_b64decode(sys.argv[1] + "=")).hexdigest())' "$PG_ORDINARY_SESSION")
say "PostgreSQL: writing $SESSIONS sessions for $USERS users (COPY, INSERT ... SELECT) into database $PGDB"
t0=$(date +%s.%N)
psql "$PGDB_URL" -q -v ON_ERROR_STOP=1 >&2 <<SQL
BEGIN;
INSERT INTO users (email, role, $UCOLS)
    SELECT 'scale-' || g || '@bench.example', 'user', $UCOLS FROM users, generate_series(0, $USERS - 1) g
    WHERE id = (SELECT user_id FROM sessions WHERE id_hash = '$PG_TMPL');
CREATE TEMP TABLE scale_tok (n BIGSERIAL, id_hash TEXT NOT NULL);
\copy scale_tok (id_hash) FROM '$WORK/hashes.txt'
CREATE TEMP TABLE scale_uid AS
    SELECT (regexp_match(email, '^scale-(\d+)@'))[1]::bigint AS k, id FROM users WHERE email LIKE 'scale-%@bench.example';
INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at, $SCOLS)
    SELECT k.id_hash, u.id, extract(epoch FROM now())::bigint - $SEEN_AGO, extract(epoch FROM now())::bigint - $SEEN_AGO,
           extract(epoch FROM now())::bigint - $SEEN_AGO + (t.expires_at - t.created_at), $TSCOLS
    FROM scale_tok k JOIN scale_uid u ON u.k = (k.n - 1) % $USERS
    CROSS JOIN (SELECT * FROM sessions WHERE id_hash = '$PG_TMPL') t;
COMMIT;
ANALYZE users;
ANALYZE sessions;
SQL
PG_SEED_S=$(python3 -c "import time; print(round(time.time() - $t0, 1))")
PG_SIZE=$(psql "$PGDB_URL" -Atqc "SELECT pg_database_size(current_database())")
PG_SESS_SIZE=$(psql "$PGDB_URL" -Atqc "SELECT pg_total_relation_size('sessions')")
say "PostgreSQL: seeded in $PG_SEED_S s, database $((PG_SIZE / 1048576)) MiB (sessions with indexes $((PG_SESS_SIZE / 1048576)) MiB)"

# ---------------------------------------------------------------- the rows are a finished login's
HOT0=$(head -1 "$WORK/hot.txt")
LASTCOLD=$(tail -1 "$WORK/cold.txt")
hash_of() { python3 -c 'import base64, hashlib, sys; print(hashlib.sha256(base64.urlsafe_b64decode(sys.argv[1] + "=")).hexdigest())' "$1"; }
H0=$(hash_of "$HOT0")
python3 - "$SQLITE_DB" "$H0" "$(hash_of "$SQ_ORDINARY_SESSION")" "$SESSIONS" <<'PY' || die "SQLite: a seeded row differs from load_seed's"
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
skip = ("id_hash", "user_id", "created_at", "last_seen_at", "expires_at")
cols = [r[1] for r in con.execute("PRAGMA table_info(sessions)") if r[1] not in skip]
q = f"SELECT {', '.join(cols)} FROM sessions WHERE id_hash = ?"
a, b = con.execute(q, (sys.argv[2],)).fetchone(), con.execute(q, (sys.argv[3],)).fetchone()
assert a == b, (cols, a, b)
ucols = [r[1] for r in con.execute("PRAGMA table_info(users)") if r[1] not in ("id", "email", "role")]
uq = f"SELECT {', '.join(ucols)} FROM users WHERE id = (SELECT user_id FROM sessions WHERE id_hash = ?)"
assert con.execute(uq, (sys.argv[2],)).fetchone() == con.execute(uq, (sys.argv[3],)).fetchone()
n = con.execute("SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email LIKE 'scale-%'").fetchone()[0]
assert n == int(sys.argv[4]), n
PY
same=$(psql "$PGDB_URL" -Atqc "SELECT count(*) FROM sessions s, sessions t, users su, users tu
    WHERE s.id_hash = '$H0' AND t.id_hash = '$PG_TMPL' AND su.id = s.user_id AND tu.id = t.user_id
    AND ROW($(PFX=s. cols sessions id_hash user_id created_at last_seen_at expires_at)) IS NOT DISTINCT FROM ROW($TSCOLS)
    AND ROW($(PFX=su. cols users id email role)) IS NOT DISTINCT FROM ROW($(PFX=tu. cols users id email role))")
[ "$same" = 1 ] || die "PostgreSQL: a seeded row differs from load_seed's"
n=$(psql "$PGDB_URL" -Atqc "SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email LIKE 'scale-%'")
[ "$n" = "$SESSIONS" ] || die "PostgreSQL: $n seeded sessions, expected $SESSIONS"
say "seeded rows match load_seed's session and user rows (all columns but id, email, role, times); $n seeded sessions in each store"

# ---------------------------------------------------------------- gateways
gw_yaml() {  # listen-port metrics-port database-url
    cat <<YAML
listen: "127.0.0.1:$1"
origin: "127.0.0.1:$P_ORIGIN"
database: "$3"
carrier:
  trusted_networks: ["127.0.0.1/32"]
  consent_regions: []
session:
  secure_cookies: false
  cache_capacity: $CACHE_CAPACITY
  cache_ttl: $CACHE_TTL
mail:
  transport: file
  dir: mail
sms:
  transport: file
  dir: sms
metrics:
  listen: "127.0.0.1:$2"
secrets:
  totp_key: { file: "$WORK/totp.key" }
policy_file: null
threads: 1
YAML
}
# PostgreSQL needs the TOTP key set (every instance must share it); both get one.
(umask 077 && python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())' >"$WORK/totp.key")
gw_yaml "$P_GWS" "$P_MS" "sqlite://$SQLITE_DB" >"$WORK/sqlite/gateway.yaml"
mkdir -p "$WORK/pg"
gw_yaml "$P_GWP" "$P_MP" "$PGDB_URL" >"$WORK/pg/gateway.yaml"
for d in sqlite pg; do
    "$BIN/gateway" --config "$WORK/$d/gateway.yaml" check-config >&2 || die "the $d gateway's config is refused"
    (cd "$WORK/$d" && GATEWAY_LOG=warn exec taskset -c "$SERVER_CPU" "$BIN/gateway" --config "$WORK/$d/gateway.yaml" serve \
        >"$WORK/$d/gateway.log" 2>&1) &
    PIDS+=("$!")
done
PID_GWS=${PIDS[1]}
PID_GWP=${PIDS[2]}
# Up to a minute each: on the shared machine a start has taken more than the usual 10 s.
# On failure the cleanup shows the gateways' log tails.
for p in "$P_ORIGIN" "$P_GWS" "$P_GWP" "$P_MS" "$P_MP"; do wait_port "$p" 600; done
# The subshells exec'd the gateway, so these are the gateways' own pids.
for p in "$PID_GWS" "$PID_GWP"; do [ "$(cat "/proc/$p/comm")" = gateway ] || die "pid $p is not a gateway"; done

for port in "$P_GWS" "$P_GWP"; do
    for c in "$HOT0" "$LASTCOLD"; do
        got=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' -H 'Host: storage.localhost' \
            -H "Cookie: gw_lang=en; gw_session=$c" "http://127.0.0.1:$port$URL_PATH")
        [ "$got" = "200 1024" ] || die "a seeded cookie on port $port: expected '200 1024', got '$got'"
    done
done
say "a hot and a cold seeded cookie each get 200 with the file from both gateways"

cpu_ticks() {  # utime+stime of the given pids, in clock ticks
    local t=0 p f
    for p in $1; do
        if [ -r "/proc/$p/stat" ]; then
            f=$(sed 's/^.*) //' "/proc/$p/stat")
            # shellcheck disable=SC2086
            set -- $f
            t=$((t + ${12} + ${13}))
        fi
    done
    echo "$t"
}
lookups() {  # metrics-port: hit miss negative
    curl -s "http://127.0.0.1:$1/metrics" | awk '
        /^gateway_session_cache_lookups_total\{result="hit"\}/ { h = $2 }
        /^gateway_session_cache_lookups_total\{result="miss"\}/ { m = $2 }
        /^gateway_session_cache_lookups_total\{result="negative"\}/ { n = $2 }
        END { printf "%d %d %d\n", h, m, n }'
}
# Both caches filled as in a gateway that has run a while: first to capacity with cold
# sessions (FILL of them, never used again; a full cache is the steady state with far more
# sessions than it holds), then every hot session once, paced over SCALE_WARM_SPREAD
# seconds: a hot session's activity is written behind at most once a minute, and warmed
# all at once they would all be written in the same 15-second batch, every minute, in
# whichever run is going on then. Both gateways at once, 4 keep-alive connections each.
FILL=$((CACHE_CAPACITY - HOT))
WARM_SPREAD=${SCALE_WARM_SPREAD:-60}
say "filling both caches: $FILL cold sessions at full speed, then the $HOT hot ones over $WARM_SPREAD s"
warm_pids=()
for pair in "sqlite $P_GWS" "pg $P_GWP"; do
    read -r name port <<<"$pair"
    python3 - "$port" "$WORK/hot.txt" "$WORK/cold.txt" "$FILL" "$WARM_SPREAD" "$URL_PATH" >"$WORK/warm-$name.txt" 2>&1 <<'PY' &
import http.client, sys, threading, time
port, hot, cold_f, fill, spread, path = int(sys.argv[1]), open(sys.argv[2]).read().split(), sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
with open(cold_f) as f:
    cold = [next(f).strip() for _ in range(fill)]
bad = []
def worker(part, pace):
    c = http.client.HTTPConnection("127.0.0.1", port)
    t0 = time.monotonic()
    for k, tok in enumerate(part):
        if pace:
            time.sleep(max(0.0, t0 + k * pace - time.monotonic()))
        c.request("GET", path, headers={"Host": "storage.localhost", "Cookie": f"gw_lang=en; gw_session={tok}"})
        r = c.getresponse(); r.read()
        if r.status != 200:
            bad.append(r.status)
for sessions, pace in ((cold, 0.0), (hot, spread * 4 / max(len(hot), 1))):
    ts = [threading.Thread(target=worker, args=(sessions[i::4], pace)) for i in range(4)]
    for t in ts: t.start()
    for t in ts: t.join()
sys.exit(f"{len(bad)} sessions refused: {bad[:5]}" if bad else 0)
PY
    warm_pids+=("$!")
done
for p in "${warm_pids[@]}"; do wait "$p" || die "filling a cache failed: $(cat "$WORK"/warm-*.txt)"; done
COLD_SQ=$FILL  # next unused cold line per store
COLD_PG=$FILL
# The fill's activity (FILL sessions) is written behind in the next batch: let it finish.
for _ in $(seq 1 120); do
    before=$(cpu_ticks "$PID_GWS $PID_GWP"); sleep 0.5; after=$(cpu_ticks "$PID_GWS $PID_GWP")
    [ $((after - before)) -gt 2 ] || break
done
for pair in "sqlite $P_MS" "pg $P_MP"; do
    read -r name mport <<<"$pair"
    read -r h1 m1 n1 <<<"$(lookups "$mport")"
    say "$name: lookups so far: $h1 hits, $m1 misses, $n1 negative; $(curl -s "http://127.0.0.1:$mport/metrics" |
        awk '/^gateway_session_cache_entries / { print $2 }') sessions in the cache"
done

# ---------------------------------------------------------------- the request stream
# args: hot file, cold file, every (0: hot only), first cold line, random seed.
# done() writes how many cold cookies the run used to $SCALE_COLD_OUT.
cat >"$WORK/sessions.lua" <<'LUA'
local hot, cold, every, n = {}, nil, 0, 0
cold_used = 0 -- a global: done() reads it with thread:get
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  for l in io.lines(args[1]) do hot[#hot + 1] = l end
  every = tonumber(args[3])
  if every > 0 then
    cold = assert(io.open(args[2]))
    cold:seek("set", tonumber(args[4]) * 44)
  end
  math.randomseed(tonumber(args[5]))
end
function request()
  n = n + 1
  local c
  if every > 0 and n % every == 0 then
    c = cold:read("*l")
    cold_used = cold_used + 1
  else
    c = hot[math.random(#hot)]
  end
  return wrk.format("GET", nil, { ["Host"] = "storage.localhost", ["Cookie"] = "gw_lang=en; gw_session=" .. c })
end
function done(summary, latency, requests)
  local used = 0
  for _, t in ipairs(threads) do used = used + t:get("cold_used") end
  local f = assert(io.open(os.getenv("SCALE_COLD_OUT"), "w"))
  f:write(used, "\n")
  f:close()
end
LUA

SYS_KEYS=(sqlite_hit sqlite_miss pg_hit pg_miss)
SYS_NAMES=("SQLite, 100 % cache hits" "SQLite, 1 in $MISS_EVERY a cache miss" "PostgreSQL, 100 % cache hits" "PostgreSQL, 1 in $MISS_EVERY a cache miss")
SYS_PORTS=("$P_GWS" "$P_GWS" "$P_GWP" "$P_GWP")
SYS_MPORTS=("$P_MS" "$P_MS" "$P_MP" "$P_MP")
SYS_PIDS=("$PID_GWS" "$PID_GWS" "$PID_GWP" "$PID_GWP")
SYS_EVERY=(0 "$MISS_EVERY" 0 "$MISS_EVERY")
COLD_MAX=$((SESSIONS - HOT - 1))  # the last cold cookie was used by the check above
CLK_TCK=$(getconf CLK_TCK)
pg_backends() { psql "$PGDB_URL" -Atqc "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()" | tr '\n' ' '; }
core_busy() { awk -v c="cpu$SERVER_CPU" '$1 == c { print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9 }' /proc/stat; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
RAW=$WORK/raw.tsv
: >"$RAW"

run_one() {  # index round duration record?
    local i=$1 round=$2 dur=$3 record=$4 key=${SYS_KEYS[$1]} pid=${SYS_PIDS[$1]} off used out pgp=""
    case $key in sqlite*) off=$COLD_SQ ;; *) off=$COLD_PG; pgp=$(pg_backends) ;; esac
    # At most 40 000 req/s on one gateway thread here (about 20 000 measured): room for a run.
    if [ "${SYS_EVERY[$i]}" != 0 ] && [ $((off + dur * 40000 / SYS_EVERY[i])) -gt "$COLD_MAX" ]; then
        die "$key: cold sessions would run out (at $off of $COLD_MAX): raise SCALE_SESSIONS or lower BENCH_DURATION"
    fi
    read -r h0 m0 n0 <<<"$(lookups "${SYS_MPORTS[$i]}")"
    local before pbefore b0 t0 gbefore
    before=$(cpu_ticks "$pid"); pbefore=$(cpu_ticks "$pgp"); gbefore=$(cpu_ticks "$PID_GWS $PID_GWP $pgp")
    read -r b0 t0 <<<"$(core_busy)"
    out=$(SCALE_COLD_OUT=$WORK/cold-used taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" -d"${dur}s" --latency \
        -s "$WORK/sessions.lua" "http://127.0.0.1:${SYS_PORTS[$i]}$URL_PATH" \
        -- "$WORK/hot.txt" "$WORK/cold.txt" "${SYS_EVERY[$i]}" "$off" "$((round * 100 + i))" 2>&1) || die "wrk failed: $out"
    local after pafter b1 t1 gafter
    after=$(cpu_ticks "$pid"); pafter=$(cpu_ticks "$pgp"); gafter=$(cpu_ticks "$PID_GWS $PID_GWP $pgp")
    read -r b1 t1 <<<"$(core_busy)"
    read -r h1 m1 n1 <<<"$(lookups "${SYS_MPORTS[$i]}")"
    used=$(cat "$WORK/cold-used")
    case $key in sqlite*) COLD_SQ=$((COLD_SQ + used)) ;; *) COLD_PG=$((COLD_PG + used)) ;; esac
    [ $((n1 - n0)) = 0 ] || die "$key: $((n1 - n0)) lookups found no session (negative): the seeding is wrong"
    [ "$record" = 1 ] || return 0
    echo "$out" >"$WORK/wrk-$key-$round.txt"
    python3 - "$i" "$round" "$((after - before))" "$((pafter - pbefore))" "$CLK_TCK" "$((b1 - b0))" "$((t1 - t0))" \
        "$((gafter - gbefore))" "$((h1 - h0))" "$((m1 - m0))" "$(rss_kib "$pid")" "$WORK/wrk-$key-$round.txt" >>"$RAW" <<'PY'
import re, sys
i, rnd, ticks, pticks, hz, busy, total, srv, hits, misses, rss = sys.argv[1:12]
text = open(sys.argv[12]).read()
def ms(v, unit):
    return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]
reqs = int(re.search(r"(\d+) requests in", text).group(1))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
lat = {p: ms(v, u) for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)}
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
cpu_us = int(ticks) * 1e6 / int(hz) / max(reqs, 1)
pg_us = int(pticks) * 1e6 / int(hz) / max(reqs, 1)
other = max(0.0, (int(busy) - int(srv)) / max(int(total), 1) * 100)
share = int(misses) / max(int(hits) + int(misses), 1) * 100
print("\t".join(map(str, [i, rnd, reqs, rps, lat.get("50", float("nan")), lat.get("99", float("nan")),
                          f"{cpu_us:.2f}", f"{pg_us:.2f}", int(bad.group(1)) if bad else 0,
                          sum(map(int, errs.groups())) if errs else 0, f"{other:.1f}", hits, misses,
                          f"{share:.2f}", int(rss) // 1024])))
PY
    tail -1 "$RAW" | awk -F'\t' -v n="${SYS_NAMES[$i]}" '{ printf "   round %s  %-36s %7.0f req/s  p50 %6.2f ms  p99 %6.2f ms  %6.1f us/req gateway  %5.1f us/req postgres  misses %5.2f%%  RSS %d MiB\n", $2, n, $4, $5, $6, $7, $8, $14, $15 }' >&2
}

say "warm-up: ${WARMUP} s per system (not recorded)"
for i in "${!SYS_KEYS[@]}"; do run_one "$i" 0 "$WARMUP" 0; done
say "measuring: $ROUNDS interleaved rounds x ${#SYS_KEYS[@]} systems x ${DURATION} s (wrk -t1 -c$CONNECTIONS on core $CLIENT_CPU, gateways on core $SERVER_CPU)"
for r in $(seq 1 "$ROUNDS"); do
    for i in "${!SYS_KEYS[@]}"; do run_one "$i" "$r" "$DURATION" 1; done
done
RSS_END_SQ=$(($(rss_kib "$PID_GWS") / 1024))
RSS_END_PG=$(($(rss_kib "$PID_GWP") / 1024))
ENTRIES_SQ=$(curl -s "http://127.0.0.1:$P_MS/metrics" | awk '/^gateway_session_cache_entries / { print $2 }')
ENTRIES_PG=$(curl -s "http://127.0.0.1:$P_MP/metrics" | awk '/^gateway_session_cache_entries / { print $2 }')

# ---------------------------------------------------------------- report
DATE=$(date -u +%Y-%m-%dT%H%MZ)
mkdir -p "$RESULTS"
OUT=$RESULTS/scale-sessions-$DATE.md
printf '%s\n' "${SYS_NAMES[@]}" >"$WORK/names.txt"
python3 - "$RAW" "$WORK/names.txt" "$DATE" "$DURATION" "$ROUNDS" "$CONNECTIONS" "$SERVER_CPU" "$CLIENT_CPU" \
    "$(wrk --version 2>&1 | head -1 | awk '{print $2}')" "$(psql "$PG_URL/postgres" -Atqc 'SHOW server_version')" \
    "$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')" \
    "$SESSIONS $USERS $HOT $MISS_EVERY $CACHE_CAPACITY $CACHE_TTL $SEEN_AGO $FILL $WARM_SPREAD" \
    "$SQ_SEED_S $SQ_SIZE $PG_SEED_S $PG_SIZE $PG_SESS_SIZE" \
    "$RSS_END_SQ $RSS_END_PG $ENTRIES_SQ $ENTRIES_PG $COLD_SQ $COLD_PG" >"$OUT" <<'PY'
import statistics as st, sys, platform
raw, names_f, date, dur, rounds, conns, scpu, ccpu, wrk_v, pg_v, rev = sys.argv[1:12]
sessions, users, hot, every, cap, ttl, seen_ago, fill, spread = sys.argv[12].split()
sq_s, sq_size, pg_s, pg_size, pg_sess = sys.argv[13].split()
rss_sq, rss_pg, ent_sq, ent_pg, cold_sq, cold_pg = sys.argv[14].split()
names = open(names_f).read().splitlines()
rows, empty = {}, {}
for line in open(raw):
    f = line.rstrip("\n").split("\t")
    rows.setdefault(int(f[0]), [])
    empty.setdefault(int(f[0]), 0)
    # A run in which wrk completed no request (the machine stalled) measures nothing.
    if int(f[2]) > 0:
        rows[int(f[0])].append(f)
    else:
        empty[int(f[0])] += 1
def med(i, col):
    return st.median(float(r[col]) for r in rows[i]) if rows[i] else float("nan")
MiB = 1048576
model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
ncpu = sum(1 for l in open("/proc/cpuinfo") if l.startswith("processor"))
print(f"# Scale: {int(sessions):,} live sessions, cache misses ({date})\n")
print(f"Machine: {model}, {ncpu} CPUs, Linux {platform.release()}; wrk {wrk_v}, PostgreSQL {pg_v}; gateway at {rev}.\n")
print(f"Method: `make bench-scale-sessions` (benches/load/scale-sessions.sh). Each store holds {int(sessions):,} seeded "
      f"sessions (plus load_seed's two) of {int(users):,} users, copies of the session and user rows a finished login "
      f"leaves (ordinary host, TOTP done, tenant with 2FA on). Gateway `threads: 1` pinned to core {scpu}, "
      f"`session.cache_capacity: {cap}`, `session.cache_ttl: {ttl}` (so that hot sessions do not expire during the "
      f"run: the only misses are the cold sessions), SQLite in WAL mode or PostgreSQL on 127.0.0.1:5432 "
      f"(the machine's server, not pinned). `wrk -t1 -c{conns} -d{dur}s --latency` on core {ccpu}, GET of a 1 KiB "
      f"file from an nginx origin. Each cache was first filled to capacity, as in a gateway that has run a while: "
      f"{int(fill):,} cold sessions, then the hot set ({int(hot):,} sessions), spread over {spread} s (so that their "
      f"activity, written behind at most once a minute, is not written all in one batch); in the miss "
      f"runs every {every}th request carries a session never used before (a real miss: a query on the "
      f"{int(sessions):,}-row table), the others a random hot one. Every seeded session signed in {seen_ago} s before the run and was not seen "
      f"since, so a miss also costs the write-behind of its activity (UPDATE of the session and its user, batched). Miss share: "
      f"`gateway_session_cache_lookups_total{{result}}` read before and after each run. {rounds} interleaved rounds, "
      f"medians shown. CPU per request: utime+stime of the gateway process from /proc/PID/stat; PostgreSQL: of the "
      f"backends connected to the gateway's database. The machine is shared (2 cores, other builds running): "
      f"absolute figures are noisy, the ratios within a round steadier.\n")
print("| store, requests | req/s | p50 ms | p99 ms | gateway CPU us/req | PostgreSQL CPU us/req | cache misses (measured) | "
      "gateway RSS MiB | p99 per round | non-2xx / errors / empty runs | other load on server core |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|")
for i in sorted(rows):
    per = " / ".join(f"{float(r[5]):.2f}" for r in rows[i])
    bad = sum(int(r[8]) for r in rows[i]); errs = sum(int(r[9]) for r in rows[i])
    miss = sum(int(r[12]) for r in rows[i]); tot = miss + sum(int(r[11]) for r in rows[i])
    pgc = f"{med(i, 7):.1f}" if i >= 2 else "-"
    print(f"| {names[i]} | {med(i, 3):,.0f} | {med(i, 4):.2f} | {med(i, 5):.2f} | {med(i, 6):.1f} | {pgc} | "
          f"{miss / max(tot, 1) * 100:.2f} % ({miss:,} of {tot:,}) | {max((int(r[14]) for r in rows[i]), default=0)} | {per} | "
          f"{bad} / {errs} / {empty[i]} | {med(i, 10):.0f}% |")
def pairs(a, b):  # the same round's runs of both systems, where both completed requests
    ra, rb = {r[1]: r for r in rows[a]}, {r[1]: r for r in rows[b]}
    return [(ra[k], rb[k]) for k in sorted(ra, key=int) if k in rb]
def ratio(label, a, b, col):
    rr = [float(x[col]) / float(y[col]) for x, y in pairs(a, b) if float(y[col]) > 0]
    if not rr:
        print(f"| {label} | n/a | n/a | |")
        return
    print(f"| {label} | {med(a, col) / med(b, col):.2f} | {st.median(rr):.2f} | {' / '.join(f'{v:.2f}' for v in rr)} |")
print(f"\nThe cost of 1 in {every} requests missing the cache, as ratios to the same gateway answering only hits: "
      "of the medians, then the median of the per-round ratios (steadier), then each round's:\n")
print("| ratio | of medians | median of rounds | per round |")
print("|---|---:|---:|---|")
for store, hit, miss in (("SQLite", 0, 1), ("PostgreSQL", 2, 3)):
    ratio(f"{store}: p50 with misses ÷ hits only", miss, hit, 4)
    ratio(f"{store}: p99 with misses ÷ hits only", miss, hit, 5)
    ratio(f"{store}: gateway CPU/req with misses ÷ hits only", miss, hit, 6)
    ratio(f"{store}: req/s with misses ÷ hits only", miss, hit, 3)
    if store == "PostgreSQL":
        rr = [(float(x[6]) + float(x[7])) / (float(y[6]) + float(y[7])) for x, y in pairs(miss, hit)]
        of = (med(miss, 6) + med(miss, 7)) / (med(hit, 6) + med(hit, 7))
        print(f"| PostgreSQL: gateway + PostgreSQL CPU/req with misses ÷ hits only | {of:.2f} | {st.median(rr):.2f} | "
              f"{' / '.join(f'{v:.2f}' for v in rr)} |")
print("\n| store | bulk seeding | size |")
print("|---|---:|---:|")
print(f"| SQLite (executemany, one transaction, then ANALYZE) | {float(sq_s):.0f} s | {int(sq_size) / MiB:,.0f} MiB (file) |")
print(f"| PostgreSQL (COPY + INSERT ... SELECT, then ANALYZE) | {float(pg_s):.0f} s | "
      f"{int(pg_size) / MiB:,.0f} MiB (database; sessions with indexes {int(pg_sess) / MiB:,.0f} MiB) |")
print(f"\nAt the end: gateway RSS {rss_sq} MiB (SQLite) and {rss_pg} MiB (PostgreSQL); cache entries "
      f"{ent_sq} and {ent_pg} (`gateway_session_cache_entries`, capacity {cap}); cold sessions used "
      f"{int(cold_sq):,} and {int(cold_pg):,} (warm-up runs included).")
PY
echo
cat "$OUT"
echo
echo "written: $OUT"
