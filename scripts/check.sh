#!/usr/bin/env bash
# What CI runs, minus installing packages: a green run here means a green CI.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/check-core-has-no-egui.sh
scripts/check-library-without-cli.sh
scripts/check-file-lengths.sh
scripts/check-layers.sh
scripts/check-colours.sh
cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo clippy --no-default-features --features cli --lib --bins -- -D warnings
cargo test
scripts/screenshot.sh target/ci-screenshot.png 1366x768 10
scripts/check-windows.sh
