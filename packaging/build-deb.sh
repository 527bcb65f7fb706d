#!/usr/bin/env bash
# Builds the Debian package (target/debian/gateway_*.deb): the gateway in the
# DEB_PROFILE build (release by default), the man pages and shell completions
# it generates from its own CLI definition, and what packaging/ holds.
# `make deb` runs it; tests/package/check.sh too.
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO="${CARGO:-cargo}"
PROFILE="${DEB_PROFILE:-release}"

# The build date in --version and the man pages: the commit's, so that the
# same commit packages the same way (reproducible builds honour it too). Not
# for the dev profile: the package check reuses the debug build `cargo test`
# made, which a changed SOURCE_DATE_EPOCH would rebuild.
if [ "$PROFILE" != dev ] && [ -z "${SOURCE_DATE_EPOCH:-}" ] && git rev-parse HEAD >/dev/null 2>&1; then
  SOURCE_DATE_EPOCH="$(git log -1 --format=%ct)"
  export SOURCE_DATE_EPOCH
fi

"$CARGO" build --locked --profile "$PROFILE" -p gateway --bin gateway

target_dir="$("$CARGO" metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
# Cargo's folder for a profile: `dev` builds into debug/, the others by name.
case "$PROFILE" in dev|test) profile_dir=debug ;; bench) profile_dir=release ;; *) profile_dir="$PROFILE" ;; esac
out="$target_dir/$profile_dir/package"
bin="$target_dir/$profile_dir/gateway"
[ -x "$bin" ] || { echo "build-deb: $bin is missing after the build" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out/man" "$out/completions"
"$bin" man --out-dir "$out/man" 2>/dev/null
gzip -9n "$out"/man/*.1
"$bin" completions bash > "$out/completions/gateway.bash"
"$bin" completions zsh > "$out/completions/_gateway"
"$bin" completions fish > "$out/completions/gateway.fish"

# --no-build: built above, and a second cargo run from inside cargo-deb would
# only repeat it. cargo-deb maps target/release/ in the asset list to $PROFILE.
"$CARGO" deb -p gateway --no-build --profile "$PROFILE" "$@"
