#!/usr/bin/env bash
# Mutation testing of the clinical arithmetic, the alarm engine and the protocol decoder with
# cargo-mutants: each mutant (a small deliberate bug) must make a test fail. Too slow for CI on
# 2 cores (each mutant is a rebuild and a test run), so it runs by hand, one file at a time.
#
# Usage: scripts/mutants.sh [FILE...]     default: every file listed below
#   scripts/mutants.sh src/analysis/progress.rs
# Needs cargo-mutants (`cargo install cargo-mutants --locked`). Results go to
# target/mutants/<file>/mutants.out/ (caught.txt, missed.txt, timeout.txt, unviable.txt);
# the last line per file is its caught/missed count.
set -euo pipefail
cd "$(dirname "$0")/.."

files=("$@")
if [[ ${#files[@]} -eq 0 ]]; then
  files=(
    src/analysis/patient.rs src/analysis/progress.rs src/analysis/timeline.rs
    src/analysis/summary.rs src/analysis/summary/rates.rs src/analysis/summary/lab.rs
    src/analysis/decimate.rs src/analysis/counters.rs src/analysis/changes.rs
    src/alarms/engine.rs src/alarms/engine/status.rs src/alarms/stale.rs
    src/protocol/decoder.rs src/protocol/mod.rs
  )
fi
command -v cargo-mutants >/dev/null || {
  echo "cargo-mutants is not installed: cargo install cargo-mutants --locked" >&2
  exit 1
}
# Without debug info, the window or the command line: the library's own tests cover these
# files, and the headless library build is about half the work per mutant.
export CARGO_PROFILE_DEV_DEBUG=0
for file in "${files[@]}"; do
  name=$(echo "$file" | tr '/.' '__')
  out=target/mutants/$name
  mkdir -p "$out"
  # cargo-mutants exits 2 when mutants are missed: that is a result here, not a failure.
  cargo mutants --file "$file" --output "$out" --no-shuffle --jobs 1 \
    --no-default-features --cargo-arg=--lib >"$out/log.txt" 2>&1 || true
  dir=$out/mutants.out
  count() { [[ -s "$dir/$1.txt" ]] && grep -c . "$dir/$1.txt" || echo 0; }
  echo "$file: caught $(count caught), missed $(count missed), timeout $(count timeout), unviable $(count unviable)"
done
