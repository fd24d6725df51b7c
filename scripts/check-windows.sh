#!/usr/bin/env bash
# Windows (x86_64-pc-windows-gnu): lints the crate for Windows (clippy, every target, so the
# Windows-only code is checked), cross-builds the full app (default features: window and
# command line) with mingw, and runs the Windows binary's headless commands under wine64:
# `--version`, and `summary` (text and `--json`) on every recording in sample-data/. Each must
# print exactly what the Linux binary built from the same tree prints, byte for byte (both
# print LF line ends: nothing is normalised), and exit with the same code; any difference
# fails with a diff.
#
# Needs the rustup target (added here if missing) and Debian's gcc-mingw-w64-x86-64 and wine64
# (.ci/run installs them). Wine 8.0 lacks bcryptprimitives.dll, which Rust's std imports: a
# test-only shim (scripts/wine/processprng.c) is built and put beside a link to the .exe in a
# scratch folder, never beside the build's own .exe. Nothing here is shipped.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
target=x86_64-pc-windows-gnu
wine=${WINE64:-/usr/lib/wine/wine64}
wineserver=${WINESERVER64:-/usr/lib/wine/wineserver64}

if command -v rustup >/dev/null && ! grep -qx "$target" <<<"$(rustup target list --installed)"; then
  rustup target add "$target"
fi
for tool in x86_64-w64-mingw32-gcc "$wine"; do
  if ! command -v "$tool" >/dev/null; then
    echo "missing $tool: apt-get install gcc-mingw-w64-x86-64 wine64" >&2
    exit 1
  fi
done

# The debug profile without debug info. Measured 2026-12-01 on 2 cores, one build job: cold,
# 10.7 min against 12.0 min for --release (the dev profile already optimises dependencies);
# after a change to the crate, 5 s against 49 s. Both print the same.
win_env=(env CARGO_PROFILE_DEV_DEBUG=0)

t=$SECONDS
"${win_env[@]}" cargo clippy --quiet --target "$target" --all-targets -- -D warnings
echo "clippy for $target: $((SECONDS - t)) s"

t=$SECONDS
"${win_env[@]}" cargo build --quiet --target "$target"
echo "cross-build for $target: $((SECONDS - t)) s"
# The reference: the Linux binary from the same tree.
cargo build --quiet --bin apheresis-monitor
linux=target/debug/apheresis-monitor

scratch=target/wine-check
rm -rf "$scratch"
mkdir -p "$scratch"
# A hard link (no copy of 60 MB): the shim sits beside this name only.
ln -f "target/$target/debug/apheresis-monitor.exe" "$scratch/apheresis-monitor.exe" \
  || cp "target/$target/debug/apheresis-monitor.exe" "$scratch/apheresis-monitor.exe"
x86_64-w64-mingw32-gcc -shared -O2 -o "$scratch/bcryptprimitives.dll" \
  scripts/wine/processprng.c -ladvapi32
exe=$scratch/apheresis-monitor.exe

prefix=$(mktemp -d)
out=$(mktemp -d)
export WINEPREFIX=$prefix WINEDEBUG=-all
cleanup() {
  WINEPREFIX=$prefix "$wineserver" -k >/dev/null 2>&1 || true
  rm -rf "$prefix" "$out" "$scratch"
}
trap cleanup EXIT

t=$SECONDS
# The first run in a fresh prefix only creates the prefix.
"$wine" "$exe" --version >/dev/null 2>&1 || true

failures=0
checks=0
# compare NAME ARGS...: runs both binaries with ARGS and compares stdout and exit code.
compare() {
  local name=$1
  shift
  local want=0 got=0
  "$linux" "$@" >"$out/linux" 2>"$out/linux.err" || want=$?
  "$wine" "$exe" "$@" >"$out/windows" 2>"$out/windows.err" || got=$?
  checks=$((checks + 1))
  if [[ $want -ne $got ]]; then
    echo "FAIL $name: exit code $got on Windows, $want on Linux" >&2
    sed 's/^/  windows stderr: /' "$out/windows.err" | head -20 >&2
    failures=$((failures + 1))
  elif ! cmp -s "$out/linux" "$out/windows"; then
    echo "FAIL $name: the Windows output differs from Linux's (--- Linux, +++ Windows):" >&2
    diff -u "$out/linux" "$out/windows" | head -60 >&2 || true
    failures=$((failures + 1))
  else
    echo "ok   $name ($(wc -c <"$out/linux") bytes)"
  fi
}

compare "--version" --version
shopt -s nullglob
samples=(sample-data/*.csv)
if [[ ${#samples[@]} -eq 0 ]]; then
  echo "no sample recordings in sample-data/" >&2
  exit 1
fi
for csv in "${samples[@]}"; do
  compare "summary $csv" summary "$csv"
  compare "summary --json $csv" summary --json "$csv"
done
echo "wine runs: $((SECONDS - t)) s"

if [[ $failures -gt 0 ]]; then
  echo "$failures of $checks Windows checks failed" >&2
  exit 1
fi
echo "Windows: builds, lints clean, and prints what Linux prints ($checks checks) in $((SECONDS - start)) s"
