#!/usr/bin/env bash
# Machine-independent figures for `summary --json` of the 6 h x 10 Hz bench session:
#  - instructions executed (valgrind --tool=callgrind; the same count on any load),
#  - the whole process's peak resident memory (GNU time), the "headless, session loaded" figure.
# Usage: scripts/bench-instructions.sh   (needs valgrind and /usr/bin/time: apt install valgrind time)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
cargo bench --bench load >/dev/null 2>&1   # makes target/bench-data/session-6h-10hz.csv
bin=target/release/apheresis-monitor
session=target/bench-data/session-6h-10hz.csv
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out" \
  "$bin" summary "$session" --json >/dev/null 2>"$out/valgrind.log"
instructions=$(grep -o 'Collected : [0-9]*' "$out/valgrind.log" | grep -o '[0-9]*$')
printf 'summary --json, 6 h x 10 Hz (216,000 samples): %s instructions (%.2f G)\n' \
  "$instructions" "$(awk -v n="$instructions" 'BEGIN {print n / 1e9}')"
/usr/bin/time -f '%M' -o "$out/rss" "$bin" summary "$session" --json >/dev/null
echo "summary --json, 6 h x 10 Hz: peak RSS $(( $(cat "$out/rss") / 1024 )) MB (whole process, headless)"
