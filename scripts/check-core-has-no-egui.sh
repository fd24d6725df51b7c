#!/usr/bin/env bash
# Fails when anything outside the UI layer (src/ui/, src/main.rs) uses egui or eframe:
# the core must build and test headless.
set -euo pipefail
cd "$(dirname "$0")/.."
offenders=$(grep -rlE '\b(egui|eframe|egui_plot|egui_kittest)\b' src --include='*.rs' \
  | grep -vE '^src/(ui/|main\.rs$|lib\.rs$)' || true)
if [[ -n "$offenders" ]]; then
  echo "The core must not use egui; found it in:" >&2
  echo "$offenders" >&2
  exit 1
fi
echo "core is egui-free"
