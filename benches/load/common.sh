# Helpers shared by the load harness (run.sh) and the instruction counts
# (instructions.sh). Sourced; expects `set -euo pipefail` and $WORK for wait_port.

say() { printf '%s\n' "== $*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

free_ports() {  # N free TCP ports on 127.0.0.1, bound at once so they differ
    python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

wait_port() {  # port [tenths of a second]: wait until something answers HTTP on the port
    for _ in $(seq 1 "${2:-100}"); do
        curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/" && return 0
        sleep 0.1
    done
    die "nothing answers on port $1 (see $WORK/*.log)"
}

gateway_yaml() {  # listen-port origin-port dir: the gateway's settings for measuring
    cat <<YAML
listen: "127.0.0.1:$1"
origin: "127.0.0.1:$2"
database: "sqlite://$3/gateway.db"
carrier:
  trusted_networks: ["127.0.0.1/32"]
  consent_regions: []
session:
  secure_cookies: false
mail:
  transport: file
  dir: mail
sms:
  transport: file
  dir: sms
metrics:
  listen: off
policy_file: null
threads: 1
YAML
}
