#!/usr/bin/env bash
# Fuzzes each target in fuzz/ for a while, starting from the committed seed corpus
# (fuzz/seeds/<target>/), and fails if a target does not build or finds a crash.
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#   scripts/fuzz.sh 20            what CI runs: 20 s of each target, seed 1
#   scripts/fuzz.sh 600           the long runs behind RELIABILITY.md's fuzzing table
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`); the stable toolchain is used with
# RUSTC_BOOTSTRAP=1 for the sanitizer flags. The corpus grown during a run stays in
# target/fuzz-corpus/ (not committed); a crash is kept in fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds=${1:-20}
shift || true
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(decoder loader meta)

command -v cargo-fuzz >/dev/null || {
  echo "cargo-fuzz is not installed: cargo install cargo-fuzz --locked" >&2
  exit 1
}
export RUSTC_BOOTSTRAP=1

# Build first, so a target that does not compile fails here and loudly.
cargo fuzz build -O

status=0
for target in "${targets[@]}"; do
  corpus=../target/fuzz-corpus/$target
  mkdir -p "$corpus" "artifacts/$target"
  log=$(mktemp)
  # libFuzzer writes new inputs to the first folder and reads the seeds from the second.
  if ! cargo fuzz run -O "$target" "$corpus" "seeds/$target" -- \
      -max_total_time="$seconds" -seed=1 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
    echo "fuzz target $target FAILED:" >&2
    grep -E "ERROR|panicked|SUMMARY|error" "$log" | head -20 >&2 || tail -20 "$log" >&2
    status=1
  fi
  runs=$(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo "?")
  seeds=$(find "seeds/$target" -type f | wc -l)
  echo "$target: ${seconds} s, ${runs} runs, coverage ${cov} edges, ${seeds} seeds"
  if [[ -n "$(ls -A "artifacts/$target" 2>/dev/null)" ]]; then
    echo "fuzz target $target crashed: see fuzz/artifacts/$target" >&2
    status=1
  fi
  rm -f "$log"
done
exit $status
