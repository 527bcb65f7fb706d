# Entry points: `make demo`, `make test`. Everything a fresh machine lacks is
# installed here, in two sets: build-deps (cmake for Pingora's zlib-ng: all that
# `make demo`, `build` and `release` need) and test-deps (Chromium and
# chromedriver for the browser tests, the PostgreSQL server binaries for the
# TLS database tests, aiosmtpd, the test OpenID provider, nightly and
# cargo-fuzz; package-deps adds cargo-deb and systemd-analyze for the package
# check). CI and newcomers need nothing else; a demo installs no test tools.

CARGO ?= cargo
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build-deps test-deps package-deps build release test test-vendor test-package deb demo bench bench-load bench-tls bench-instances bench-import bench-instructions bench-scale-sessions bench-scale-conn lint fmt clean fuzz fuzz-smoke

all: build

deps: build-deps test-deps

build-deps:
	@command -v cmake >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing cmake (needed to build Pingora's zlib-ng)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cmake >/dev/null; \
	  else \
	    echo "cmake is missing: install it (e.g. 'sudo apt-get install cmake'), it is needed to build Pingora" >&2; exit 1; \
	  fi; }

# aiosmtpd comes from Debian (python3-aiosmtpd), not pip: pip refuses to install
# into Debian's externally managed Python. The mail tests use /usr/bin/python3
# when it has aiosmtpd, so a pyenv `python3` first in PATH does not hide it.
test-deps:
	@{ [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; } || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium and chromium-driver (needed by the browser tests)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else \
	    echo "chromium or chromedriver is missing: install them (e.g. 'sudo apt-get install chromium chromium-driver'); without them the browser tests are skipped, and fail under CI=true" >&2; \
	  fi; }
	@dpkg -s fonts-ipafont-gothic >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing fonts-ipafont-gothic (Japanese text in the browser tests' screenshots)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-ipafont-gothic >/dev/null; \
	  else \
	    echo "fonts-ipafont-gothic is missing: Japanese pages in screenshots will show boxes (sudo apt-get install fonts-ipafont-gothic)" >&2; \
	  fi; }
	@{ /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || python3 -c 'import aiosmtpd' 2>/dev/null; } || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing python3-aiosmtpd (the SMTP server of the mail tests)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-aiosmtpd >/dev/null; \
	  else \
	    echo "aiosmtpd is missing: install it (e.g. 'sudo apt-get install python3-aiosmtpd'); without it the SMTP tests are skipped, and fail under CI=true" >&2; \
	  fi; }
	@{ command -v initdb >/dev/null 2>&1 || [ -x /usr/local/bin/initdb ] || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing postgresql (initdb and pg_ctl: the TLS database tests start a cluster of their own)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	  else \
	    echo "initdb is missing: install the PostgreSQL server (e.g. 'sudo apt-get install postgresql'); without it the TLS database tests are skipped, and fail under CI=true" >&2; \
	  fi; }
	@[ -d tests/oidc/node_modules/oidc-provider ] || { \
	  if command -v npm >/dev/null 2>&1; then \
	    echo "installing the test OpenID provider (npm ci in tests/oidc)"; npm ci --prefix tests/oidc --no-audit --no-fund --loglevel=error; \
	  else \
	    echo "npm is missing: the federated sign-in tests are skipped (and fail under CI=true); install Node.js 20 or later" >&2; \
	  fi; }
	@rustup toolchain list 2>/dev/null | grep -q '^nightly' || { \
	  echo "installing the nightly toolchain (cargo fuzz needs it)"; rustup toolchain install nightly --profile minimal; }
	@command -v cargo-fuzz >/dev/null 2>&1 || { echo "installing cargo-fuzz"; $(CARGO) install cargo-fuzz --locked; }

# cargo-deb builds the Debian package; systemd-analyze (Debian's systemd
# package; no running systemd needed) checks its unit.
package-deps:
	@command -v cargo-deb >/dev/null 2>&1 || { echo "installing cargo-deb"; $(CARGO) install cargo-deb --locked; }
	@command -v systemd-analyze >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing systemd (for systemd-analyze verify; no service is started)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd >/dev/null; \
	  else \
	    echo "systemd-analyze is missing: install Debian's systemd package; without it the package check skips the unit check, and fails under CI=true" >&2; \
	  fi; }

build: build-deps
	$(CARGO) build --workspace

release: build-deps
	$(CARGO) build --release -p gateway

# Unit, property, store (SQLite and PostgreSQL) and end-to-end tests, then the
# Debian package built, installed, started and purged (tests/package/check.sh).
# The check packages the debug build the tests just made (DEB_PROFILE=dev): the
# packaging steps are the same as `make deb`'s, without a second, 10-20 minute
# release build in every CI run.
test: deps
	$(CARGO) test --workspace
	$(MAKE) test-vendor
	$(MAKE) test-package DEB_PROFILE=dev

# The vendored Pingora crates' own tests, ours among them (vendor/PATCHES.md): each
# patched crate built against the others, in a workspace of their own. Skipped:
# pingora-core's connector, listener and TLS tests, which need the internet (1.1.1.1),
# unroutable addresses that time out, and key files and servers from Pingora's
# repository that the published crate does not ship; and the two receive-timestamp
# tests of l4::stream, whose first sleeps 100 us for the kernel to apply
# SO_TIMESTAMPING and fails when the suite runs on a loaded machine (seen here
# once in a parallel run; it passes alone). None of our patches is there.
VENDOR_TEST_SKIP ?= --skip connectors:: --skip listeners:: --skip protocols::tls:: \
  --skip protocols::l4::stream::tests::test_rx_timestamp
test-vendor: build-deps
	CARGO_TARGET_DIR=target/vendor $(CARGO) test --no-fail-fast --manifest-path vendor/Cargo.toml \
	  --features pingora-core/rustls -p pingora-http -p pingora-core -p pingora-proxy \
	  -- $(VENDOR_TEST_SKIP)

# The Debian package in target/debian/: the release binary, the man pages and
# completions it generates, the unit and /etc/gateway examples (packaging/).
# DEB_PROFILE=<cargo profile> packages another profile's build (the check's
# own quicker one, say); the default is the release build.
DEB_PROFILE ?= release
deb: build-deps package-deps
	DEB_PROFILE=$(DEB_PROFILE) CARGO=$(CARGO) packaging/build-deb.sh

# Builds the package, installs it with dpkg, starts the installed binary as the
# gateway user from /etc/gateway, checks it answers, stops it and purges the
# package. Needs root and dpkg: skipped otherwise, except under CI=true.
test-package: build-deps package-deps
	DEB_PROFILE=$(DEB_PROFILE) CARGO=$(CARGO) tests/package/check.sh

# With Node.js, the tests' OpenID provider runs beside the demo on 127.0.0.1:9400
# and the login page gets a "Sign in with the demo provider" button.
DEMO_OIDC_PORT ?= 9400
demo: release
	@if command -v node >/dev/null 2>&1 && [ -d tests/oidc/node_modules/oidc-provider ]; then \
	  node tests/oidc/provider.js --port $(DEMO_OIDC_PORT) \
	    --client gateway-demo:demo-secret:http://storage.localhost:8080/auth/oidc/callback,http://line.storage.localhost:8080/auth/oidc/callback \
	    > /dev/null 2>&1 & pid=$$!; trap "kill $$pid 2>/dev/null" EXIT INT TERM; \
	  target/release/gateway demo --oidc-issuer http://127.0.0.1:$(DEMO_OIDC_PORT); \
	else \
	  echo "(Node.js or tests/oidc/node_modules missing: the demo runs without the OpenID provider)"; \
	  target/release/gateway demo; \
	fi

bench: build-deps
	$(CARGO) bench -p benches

# Side-by-side load run (origin, bare Pingora, gateway, nginx, nginx + auth_request):
# builds in release, installs wrk and nginx-light when missing, writes benches/results/.
bench-load:
	CARGO=$(CARGO) benches/load/run.sh

# TLS termination: the gateway terminating TLS against nginx terminating TLS in front
# of the same origin (requests over keep-alive TLS; full and resumed handshakes).
# Needs what bench-load installs (wrk, nginx-light).
bench-tls:
	CARGO=$(CARGO) benches/load/tls.sh

# Two release gateways on the local PostgreSQL: a session ended on one refused on
# the other after how long (with and without notifications), and 1 000 000 lines
# with sessions ending on one while the other serves (its whole reloads, cache hits).
bench-instances: build-deps
	$(CARGO) build --release -p gateway --bin gateway -p benches --bin instances
	target/release/instances --gateway target/release/gateway

# 100 000 lines imported on SQLite and PostgreSQL, and the hot path beside it.
bench-import: build-deps
	$(CARGO) build --release -p gateway --bin gateway -p benches --bin import
	target/release/import --gateway target/release/gateway

# 1 000 000 live sessions in the store, 1 request in 10 with a session the cache
# has never seen (a real database lookup), on SQLite and on the local PostgreSQL
# (127.0.0.1:5432, a throwaway database), beside the same gateways answering only
# cache hits: p50, p99, req/s, gateway and PostgreSQL CPU per request, RSS, the
# measured miss share, seeding time and size. BIN=<dir> uses release binaries
# built elsewhere; without it they are built here. Writes benches/results/.
bench-scale-sessions:
	CARGO=$(CARGO) BIN=$(BIN) benches/load/scale-sessions.sh

# User-space instructions per proxied request under callgrind (exact, unlike CPU time
# on a shared machine): nginx, bare Pingora with both allocators, the gateway.
bench-instructions: build-deps
	CARGO=$(CARGO) benches/load/instructions.sh

# One instance at scale: memory per idle keep-alive connection (10 000 of them,
# each after one authorised GET through to an nginx origin) for the release
# gateway beside bare Pingora, read from /proc/PID/smaps_rollup, with the
# connections checked still open and answering; then 200 logins a second offered
# open-loop for 20 s (wrong passwords for a real account, unknown accounts),
# while a signed-in user's requests run at a steady pace: what the hashing pool
# answers, how fast, and what it does to the user's latency. Installs wrk and
# nginx-light when missing; BIN=/dir uses prebuilt release binaries instead of
# building them. Writes benches/results/scale-conn-*.md.
bench-scale-conn:
	CARGO=$(CARGO) BIN=$(BIN) benches/load/scale-conn.sh

# Fuzzing (cargo fuzz, nightly): every target in fuzz/fuzz_targets for FUZZ_SECONDS
# each, from the committed seeds (fuzz/seeds) into fuzz/corpus; a finding fails
# and names its input under fuzz/artifacts. fuzz-smoke is CI's short run.
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 7

fuzz: build-deps test-deps
	fuzz/run.sh $(FUZZ_SECONDS)

# CI's smoke uses a fixed seed, so a red CI means a regression on the committed
# seeds' neighbourhood, not a lucky new find (`make fuzz` explores at random).
fuzz-smoke: build-deps test-deps
	FUZZ_SEED=1 fuzz/run.sh $(FUZZ_SMOKE_SECONDS)

lint: build-deps
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) fmt --all -- --check

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
