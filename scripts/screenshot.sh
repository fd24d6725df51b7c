#!/usr/bin/env bash
# Starts the app under a virtual X display, lets the demo run, and takes a screenshot.
#   scripts/screenshot.sh [OUT.png] [WIDTHxHEIGHT] [SECONDS] [-- extra gui args]
# Fails if the window does not appear or the picture is blank.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/screenshot.png}
size=${2:-1366x768}
secs=${3:-12}
shift $(( $# < 3 ? $# : 3 ))
[[ "${1:-}" == "--" ]] && shift
extra=("$@")
[[ ${#extra[@]} -eq 0 ]] && extra=(--demo --speed 300)
bin=${APP_BIN:-target/debug/apheresis-monitor}
[[ -x "$bin" ]] || cargo build
display=:$(( 90 + RANDOM % 9 ))
Xvfb "$display" -screen 0 "${size}x24" -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
data=$(mktemp -d)
cleanup() { kill "$app" 2>/dev/null || true; kill "$xvfb" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
sleep 1
# A private data folder: the screenshot run never touches real sessions or settings.
DISPLAY=$display WAYLAND_DISPLAY= XDG_DATA_HOME=$data XDG_CONFIG_HOME=$data \
  "$bin" gui --window-size "$size" "${extra[@]}" >"$data/app.log" 2>&1 &
app=$!
sleep "$secs"
if ! kill -0 "$app" 2>/dev/null; then
  echo "the app exited early:" >&2; cat "$data/app.log" >&2; exit 1
fi
windows=$(DISPLAY=$display xwininfo -root -tree)
grep -q "Apheresis Monitor" <<<"$windows" \
  || { echo "no 'Apheresis Monitor' window on $display" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
DISPLAY=$display /usr/bin/import -window root "$out"
colors=$(/usr/bin/convert "$out" -format %k info:)
if (( colors < 50 )); then
  echo "the screenshot looks blank ($colors colours): $out" >&2; exit 1
fi
echo "screenshot: $out ($size, $colors colours)"
