#!/usr/bin/env bash
# The app's cost in a real window under Xvfb (software GL):
#  - CPU while following a live 1x demo for 60 s (after 20 s to settle),
#  - resident memory with a 6 h x 10 Hz recording loaded, and on the start screen,
#  - time from launch to the first frame drawn.
# Usage: scripts/bench-idle.sh   (builds the release binary and the bench recording first)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
cargo bench --bench load >/dev/null 2>&1   # makes target/bench-data/session-6h-10hz.csv
bin=target/release/apheresis-monitor
data=$(mktemp -d)
display=:$(( 80 + RANDOM % 9 ))
Xvfb "$display" -screen 0 1366x768x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
app=
cleanup() { [[ -n "$app" ]] && kill "$app" 2>/dev/null; kill "$xvfb" 2>/dev/null; rm -rf "$data"; }
trap cleanup EXIT
sleep 1
run() {
  DISPLAY=$display WAYLAND_DISPLAY= XDG_DATA_HOME=$data XDG_CONFIG_HOME=$data \
    RUST_LOG=startup=info,frame=info,warn APH_FRAME_STATS=1 "$bin" gui "$@" >"$data/app.log" 2>&1 &
  app=$!
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
hz=$(getconf CLK_TCK)

run --demo --speed 1
sleep 20
t0=$(ticks "$app"); sleep 60; t1=$(ticks "$app")
cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" 'BEGIN {printf "%.2f", (b - a) / hz / 60 * 100}')
frames=$(grep -c "ui frame time" "$data/app.log" || true)
first=$(sed 's/\x1b\[[0-9;]*m//g' "$data/app.log" | grep -m1 "first frame drawn" | grep -o 'ms=[0-9.]*' | cut -d= -f2)
fps=$(sed 's/\x1b\[[0-9;]*m//g' "$data/app.log" | grep "ui frame time" | tail -6 | grep -o 'frames=[0-9]*' | cut -d= -f2 | awk '{s+=$1} END {if (NR) printf "%.1f", s / (NR * 10)}')
echo "live 1x demo, 60 s: CPU ${cpu} % of one core, ${fps:-?} frames/s"
echo "launch to first frame: ${first:-?} ms"
kill "$app"; wait "$app" 2>/dev/null || true

run
sleep 8
echo "start screen: RSS $(rss_mb "$app") MB"
kill "$app"; wait "$app" 2>/dev/null || true

run --replay target/bench-data/session-6h-10hz.csv
sleep 15
echo "6 h x 10 Hz recording (216,000 samples) loaded: RSS $(rss_mb "$app") MB"
