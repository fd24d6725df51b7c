#!/usr/bin/env bash
# Builds the Debian package (`cargo deb --strip`: release build, debug info dropped), installs it, runs the
# program from the PATH, validates its desktop entry, and removes it again.
set -euo pipefail
cd "$(dirname "$0")/.."
sudo=""
[[ $(id -u) -ne 0 ]] && sudo=sudo
command -v cargo-deb >/dev/null || cargo install cargo-deb --locked --quiet
cargo deb --quiet --strip
deb=$(ls -t target/debian/apheresis-monitor_*.deb | head -1)
echo "package: $deb ($(du -h "$deb" | cut -f1))"
# The output is read whole before grep looks at it: `grep -q` stops at its first match, and under
# pipefail the writer's SIGPIPE would fail the pipeline at random.
description=$(dpkg-deb --field "$deb" Description)
if ! grep -q dialout <<<"$description"; then
  echo "the package's description does not tell the user about the dialout group" >&2
  exit 1
fi
$sudo apt-get install -y -qq "./$deb" >/dev/null
trap '$sudo dpkg -r apheresis-monitor >/dev/null 2>&1 || true' EXIT
installed=$(command -v apheresis-monitor || true)
if [[ $installed != /usr/bin/apheresis-monitor ]]; then
  echo "the package's program is not the one on the PATH: ${installed:-none}" >&2
  exit 1
fi
apheresis-monitor --version
desktop-file-validate /usr/share/applications/apheresis-monitor.desktop
sections=$(readelf -S /usr/bin/apheresis-monitor)
if grep -q '\.debug_info' <<<"$sections"; then
  echo "the installed program still carries its debug info" >&2
  exit 1
fi
echo "installed program: $(du -h /usr/bin/apheresis-monitor | cut -f1)"
$sudo dpkg -r apheresis-monitor >/dev/null
trap - EXIT
if [[ -e /usr/bin/apheresis-monitor ]]; then
  echo "the program is still there after the package was removed" >&2
  exit 1
fi
echo "the package builds, installs, runs, validates and removes cleanly"
