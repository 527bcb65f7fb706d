#!/usr/bin/env bash
# Runs the fuzz targets one after another, each for SECONDS, from the committed
# seeds (fuzz/seeds/<target>) into a scratch corpus (fuzz/corpus/<target>, not
# committed). A finding fails the run and names the input that shows it.
#
#   fuzz/run.sh SECONDS [target ...]      (default: every target)
#   FUZZ_SANITIZER=none fuzz/run.sh ...   (address by default)
#   FUZZ_SEED=1 fuzz/run.sh ...           (a fixed libFuzzer seed: the same inputs each run)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:?usage: fuzz/run.sh SECONDS [target ...]}"
shift
toolchain="${FUZZ_TOOLCHAIN:-+nightly}"
sanitizer="${FUZZ_SANITIZER:-address}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo "$toolchain" fuzz list)
fi

command -v cargo-fuzz >/dev/null 2>&1 || { echo "cargo-fuzz is missing: run 'make deps' (cargo install cargo-fuzz --locked)" >&2; exit 1; }

start=$(date +%s)
echo "fuzz: building ${#targets[@]} targets (sanitizer: $sanitizer)"
mkdir -p fuzz/target
cargo "$toolchain" fuzz build -O -s "$sanitizer" >fuzz/target/build.log 2>&1 || { tail -40 fuzz/target/build.log >&2; exit 1; }
echo "fuzz: built in $(( $(date +%s) - start ))s"

failed=()
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  log="fuzz/artifacts/$t/last-run.log"
  echo "fuzz: $t for ${seconds}s"
  if cargo "$toolchain" fuzz run -O -s "$sanitizer" "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
      ${FUZZ_SEED:+-seed="$FUZZ_SEED"} -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
      >"$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    echo "fuzz: $t ok, $runs runs, corpus $(ls "fuzz/corpus/$t" | wc -l) inputs"
  else
    artifact=$(grep -o 'Test unit written to [^ ]*' "$log" | tail -1 | sed 's/Test unit written to //')
    grep -m1 -A6 'panicked at\|ERROR: AddressSanitizer\|ERROR: libFuzzer' "$log" >&2 || tail -20 "$log" >&2
    echo "FUZZ FAILURE: target $t found an input that breaks its property: ${artifact:-see $log}" >&2
    echo "  reproduce: cargo $toolchain fuzz run -O -s $sanitizer $t ${artifact:-<artifact>}" >&2
    failed+=("$t")
  fi
done
echo "fuzz: done in $(( $(date +%s) - start ))s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "FUZZ FAILURE in: ${failed[*]} (artifacts under fuzz/artifacts/)" >&2
  exit 1
fi
