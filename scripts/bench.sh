#!/usr/bin/env bash
# Runs every benchmark in BENCHMARKS.md. Needs: hyperfine, python3 with pandas
# (`pip install pandas`), Xvfb and imagemagick (see .ci/run for the packages).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo
cargo bench --bench throughput 2>/dev/null
echo
cargo bench --bench load 2>/dev/null
echo
cargo bench --bench frame 2>/dev/null
echo
cargo bench --bench latency 2>/dev/null
echo
echo "whole process, load + summary of 6 h x 10 Hz (216,000 samples), against pandas:"
hyperfine --warmup 1 --runs 7 -N \
  "target/release/apheresis-monitor summary target/bench-data/session-6h-10hz.csv --json" \
  "python3 scripts/pandas_summary.py target/bench-data/session-6h-10hz.csv" 2>&1 \
  | grep -E "Benchmark|Time|faster"
echo
scripts/bench-instructions.sh
echo
scripts/bench-idle.sh
