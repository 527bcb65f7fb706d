#!/usr/bin/env bash
# The Debian package, end to end: build it, install it with dpkg, check what it
# put where (user, folders, modes, unit, man pages, completions), verify the
# unit with systemd-analyze, start the installed binary as the gateway user
# (setpriv, as systemd's User= would)
# from the installed configuration with the state in /var/lib/gateway, ask
# /healthz, /readyz and /metrics, reload with SIGHUP, stop with SIGTERM, then
# purge the package and check it left only the state it promises to keep.
#
# Needs root and dpkg; without them it says why and skips, except under
# CI=true, where it fails. `make test-package` runs it (and `make test`).
# It refuses to run where a gateway package is already installed, unless that
# package is the leftover of an earlier run of this check that was killed
# before its cleanup (the marker file below says so, and what to restore).
#
# Not a cargo test: it runs cargo itself (cargo deb), which would wait for the
# build lock a running `cargo test` holds.
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$(date +%s)

in_ci() { case "${CI:-}" in ""|0|false|FALSE|False) return 1 ;; *) return 0 ;; esac; }
skip() {
  if in_ci; then echo "package check: FAILED: $* (required under CI=true)" >&2; exit 1; fi
  echo "package check: SKIPPED: $*"; exit 0
}
fail() { echo "package check: FAILED: $*" >&2; exit 1; }
step() { echo "package check: $*"; }

[ "$(id -u)" = 0 ] || skip "not root (dpkg -i needs it)"
command -v dpkg >/dev/null 2>&1 || skip "no dpkg (not a Debian-like system)"
command -v cargo-deb >/dev/null 2>&1 || skip "cargo-deb is missing (make package-deps installs it)"
command -v curl >/dev/null 2>&1 || skip "curl is missing"
command -v setpriv >/dev/null 2>&1 || skip "setpriv is missing (util-linux)"
# Written before the install and removed after the cleanup: it survives only a
# run that was killed (SIGKILL, a lost machine), and holds what was here before.
marker=/var/lib/gateway-package-check.leftover
leftover=no
installed_binary() { md5sum /usr/bin/gateway 2>/dev/null | cut -d' ' -f1; }
if [ -f "$marker" ]; then
  grep -Eq '^user_existed=(yes|no)$' "$marker" && grep -Eq '^state_existed=(yes|no)$' "$marker" \
    || fail "$marker is not this check's marker; look at it and remove it"
  # Only a package whose binary is the one this check installed is its own: a
  # gateway installed since then (another build) is never touched.
  if dpkg-query -W -f='${Status}' gateway 2>/dev/null | grep -q "installed"; then
    [ -n "$(installed_binary)" ] && [ "$(sed -n 's/^binary_md5=//p' "$marker")" = "$(installed_binary)" ] \
      || fail "a gateway package is installed that this check did not install, and $marker is left from an interrupted check: look at both and remove the marker"
  fi
  leftover=yes
  user_existed=$(sed -n 's/^user_existed=//p' "$marker")
  state_existed=$(sed -n 's/^state_existed=//p' "$marker")
elif dpkg-query -W -f='${Status}' gateway 2>/dev/null | grep -q "installed"; then
  skip "a gateway package is already installed here; not touching it"
else
  user_existed=no; getent passwd gateway >/dev/null && user_existed=yes
  state_existed=no; [ -e /var/lib/gateway ] && state_existed=yes
fi

# --- build ---------------------------------------------------------------
build_started=$(date +%s)
packaging/build-deb.sh --fast > target/package-check-build.log 2>&1 || {
  tail -n 40 target/package-check-build.log >&2; fail "the package did not build (target/package-check-build.log)"; }
deb=$(grep -o '/[^ ]*/debian/gateway_[^ ]*\.deb' target/package-check-build.log | tail -n1)
[ -f "$deb" ] || fail "no .deb named in target/package-check-build.log"
build_seconds=$(( $(date +%s) - build_started ))
step "built $deb in ${build_seconds}s"

pid=""
cleanup() {
  set +e
  if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi
  if dpkg-query -W -f='${Status}' gateway 2>/dev/null | grep -q "installed\|config-files"; then
    dpkg --purge gateway >/dev/null 2>&1
  fi
  # What the package keeps on purge (by design), removed when this check made it.
  [ "$state_existed" = no ] && rm -rf /var/lib/gateway
  if [ "$user_existed" = no ] && getent passwd gateway >/dev/null; then
    for _ in 1 2 3 4 5; do userdel gateway 2>/dev/null && break; sleep 1; done
    getent passwd gateway >/dev/null && echo "package check: warning: could not remove the gateway user: $(userdel gateway 2>&1)" >&2
  fi
  if [ "$user_existed" = no ] && getent group gateway >/dev/null; then groupdel gateway 2>/dev/null; fi
  rm -f "$marker"
}
if [ "$leftover" = yes ]; then
  step "removing what an interrupted earlier run left installed ($marker)"
  # Its gateway, started as the gateway user, may have outlived it.
  pkill -KILL -u gateway -x gateway 2>/dev/null || true
  cleanup
  set -e
  ! dpkg-query -W -f='${Status}' gateway 2>/dev/null | grep -q "installed" \
    || fail "the leftover gateway package could not be purged"
fi
trap cleanup EXIT
printf 'user_existed=%s\nstate_existed=%s\n' "$user_existed" "$state_existed" > "$marker"

# --- install ---------------------------------------------------------------
dpkg -i "$deb" > target/package-check-dpkg.log 2>&1 || { cat target/package-check-dpkg.log >&2; fail "dpkg -i"; }
printf 'binary_md5=%s\n' "$(installed_binary)" >> "$marker"
step "installed"

expect_stat() { # path owner:group mode
  local got; got=$(stat -c '%U:%G %a' "$1" 2>/dev/null) || fail "$1 is missing"
  [ "$got" = "$2 $3" ] || fail "$1 is $got, expected $2 $3"
}
[ -x /usr/bin/gateway ] || fail "/usr/bin/gateway is missing"
passwd=$(getent passwd gateway) || fail "no gateway user"
case "$passwd" in *:/var/lib/gateway:/usr/sbin/nologin) ;; *) fail "gateway user: $passwd";; esac
uid=$(id -u gateway); [ "$uid" -lt 1000 ] || fail "gateway is not a system user (uid $uid)"
expect_stat /var/lib/gateway gateway:gateway 750
expect_stat /etc/gateway/gateway.yaml root:gateway 640
expect_stat /etc/gateway/policy.yaml root:root 644
expect_stat /usr/bin/gateway root:root 755
unit=$(dpkg -L gateway | grep -m1 '/gateway\.service$')
[ -n "$unit" ] && [ -f "$unit" ] || fail "no gateway.service installed"
for f in /usr/share/man/man1/gateway.1.gz /usr/share/man/man1/gateway-serve.1.gz \
         /usr/share/bash-completion/completions/gateway /usr/share/zsh/vendor-completions/_gateway \
         /usr/share/fish/vendor_completions.d/gateway.fish /usr/share/doc/gateway/examples/gateway.yaml; do
  [ -s "$f" ] || fail "$f is missing or empty"
done
# Captured first: with pipefail, `grep -q` leaving early fails the writer.
page=$(zcat /usr/share/man/man1/gateway.1.gz)
grep -q 'check\\-config' <<<"$page" || fail "the man page names no check-config"
grep -q 'check-config' /usr/share/bash-completion/completions/gateway || fail "bash completion lacks check-config"
conffiles=$(dpkg-query -W -f='${Conffiles}' gateway)
for f in /etc/gateway/gateway.yaml /etc/gateway/policy.yaml; do
  grep -q " $f " <<<"$conffiles" || fail "$f is not a conffile"
done
version=$(/usr/bin/gateway --version)
grep -q "(commit .*, built 20" <<<"$version" || fail "--version: $version"
step "files, user, modes and conffiles as expected"

# --- the unit ------------------------------------------------------------
if command -v systemd-analyze >/dev/null 2>&1; then
  systemd-analyze verify "$unit" > target/package-check-verify.log 2>&1 || {
    cat target/package-check-verify.log >&2; fail "systemd-analyze verify $unit"; }
  # Anything verify says about our unit is a finding, even with exit 0.
  if grep -q 'gateway' target/package-check-verify.log; then
    cat target/package-check-verify.log >&2; fail "systemd-analyze verify complained"
  fi
  exposure=$(systemd-analyze security --offline=yes "$unit" 2>/dev/null | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
  step "unit verified; systemd-analyze security exposure ${exposure:-?} (0 best, 10 worst)"
else
  in_ci && fail "systemd-analyze is missing (make package-deps installs Debian's systemd)"
  step "systemd-analyze missing: unit not verified"
fi
for key in "ExecReload=/bin/kill -HUP \$MAINPID" "User=gateway" "StateDirectory=gateway" "KillSignal=SIGTERM" \
           "ExecStart=/usr/bin/gateway serve --config /etc/gateway/gateway.yaml" "MemoryDenyWriteExecute=yes"; do
  grep -qxF "$key" "$unit" || fail "the unit lacks $key"
done

# --- start the installed gateway --------------------------------------------
free_port() {
  local p
  for p in $(shuf -i 20000-29999 -n 200); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  fail "no free port"
}
port=$(free_port); metrics_port=$(free_port)
# As an operator would: the listener moved, a metrics block added (the example
# leaves both to defaults another process here may hold).
sed -i "s/^listen: \"127.0.0.1:8080\"$/listen: \"127.0.0.1:$port\"/" /etc/gateway/gateway.yaml
grep -q "^listen: \"127.0.0.1:$port\"$" /etc/gateway/gateway.yaml || fail "could not set the port in the installed config"
printf '\nmetrics:\n  listen: "127.0.0.1:%s"\n' "$metrics_port" >> /etc/gateway/gateway.yaml

# As systemd would run it: the gateway user and group, a clean environment with
# STATE_DIRECTORY set. setpriv execs (runuser would fork and stand between the
# signals below and the gateway).
as_gateway() {
  setpriv --reuid=gateway --regid=gateway --init-groups -- \
    env -i PATH=/usr/bin:/bin STATE_DIRECTORY=/var/lib/gateway "$@"
}
as_gateway /usr/bin/gateway --config /etc/gateway/gateway.yaml check-config > target/package-check-config.log 2>&1 || {
  cat target/package-check-config.log >&2; fail "check-config on the installed configuration"; }
log=target/package-check-serve.log
# Written out, not through the function: a function in the background is a
# subshell, and $! would be its pid rather than the gateway's.
setpriv --reuid=gateway --regid=gateway --init-groups -- \
  env -i PATH=/usr/bin:/bin STATE_DIRECTORY=/var/lib/gateway /usr/bin/gateway serve --config /etc/gateway/gateway.yaml \
  > "$log" 2>&1 &
pid=$!
up=no
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then up=yes; break; fi
  kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; fail "the installed gateway exited at start"; }
  sleep 0.1
done
[ "$up" = yes ] || { cat "$log" >&2; fail "/readyz never answered 200"; }
[ "$(curl -sS "http://127.0.0.1:$port/healthz")" = "ok" ] || fail "/healthz"
metrics=$(curl -fsS "http://127.0.0.1:$metrics_port/metrics") || fail "/metrics did not answer"
grep -q '^gateway_' <<<"$metrics" || fail "/metrics has no gateway_ metric"
# Its state went to /var/lib/gateway, owned by it, and nothing into /etc/gateway.
expect_stat /var/lib/gateway/gateway.db gateway:gateway 600
expect_stat /var/lib/gateway/data/totp.key gateway:gateway 600
[ -z "$(find /etc/gateway -newer "$deb" -not -name gateway.yaml -not -path /etc/gateway)" ] || fail "the gateway wrote into /etc/gateway"
# A request through the proxy gets the sign-in page's redirect, not an error.
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: storage.example.net' "http://127.0.0.1:$port/files")
case "$code" in 302|303|401) ;; *) cat "$log" >&2; fail "GET /files answered $code";; esac
step "the installed gateway serves as the gateway user (HTTP $code for a request without a session)"

# systemctl reload = SIGHUP: the process stays up and keeps answering.
kill -HUP "$pid"; sleep 0.5
kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; fail "SIGHUP stopped the gateway"; }
curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null || fail "no answer after SIGHUP"
# systemctl stop = SIGTERM: it exits on its own, well within TimeoutStopSec.
stop_timeout=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)$/\1/p' "$unit")
kill -TERM "$pid"
stopped_at=$(date +%s); status=0
for _ in $(seq 1 $(( ${stop_timeout:-90} * 10 ))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then fail "still running ${stop_timeout}s after SIGTERM"; fi
wait "$pid" || status=$?
pid=""
[ "$status" = 0 ] || { cat "$log" >&2; fail "exit status $status after SIGTERM"; }
step "SIGHUP kept it serving; SIGTERM stopped it in $(( $(date +%s) - stopped_at ))s with status 0"

# --- reinstall: the edited configuration and its mode survive -----------------
dpkg -i "$deb" > target/package-check-dpkg.log 2>&1 || { cat target/package-check-dpkg.log >&2; fail "dpkg -i again"; }
grep -q "^listen: \"127.0.0.1:$port\"$" /etc/gateway/gateway.yaml || fail "reinstalling replaced the edited gateway.yaml"
expect_stat /etc/gateway/gateway.yaml root:gateway 640
step "reinstalled over itself: the edited gateway.yaml and its mode kept"

# --- purge ----------------------------------------------------------------
dpkg --purge gateway > target/package-check-dpkg.log 2>&1 || { cat target/package-check-dpkg.log >&2; fail "dpkg --purge"; }
[ ! -e /usr/bin/gateway ] || fail "/usr/bin/gateway left after purge"
[ ! -e /etc/gateway ] || fail "/etc/gateway left after purge: $(ls -la /etc/gateway)"
[ ! -e "$unit" ] || fail "$unit left after purge"
! dpkg-statoverride --list /etc/gateway/gateway.yaml >/dev/null 2>&1 || fail "the stat override outlived the purge"
[ -f /var/lib/gateway/gateway.db ] || fail "purge removed the database (it promises to keep it)"
step "purged; /var/lib/gateway and the user kept as promised (removed now by this check)"

step "PASSED in $(( $(date +%s) - started ))s (of which the build ${build_seconds}s)"
