#!/usr/bin/env bash
# Fails when the library crate needs the command line's dependencies (clap, anyhow, ctrlc,
# tracing-subscriber). They are optional, behind the `cli` feature that only the binary
# (src/main.rs, src/cli.rs) requires: without that feature they must be out of the dependency
# graph, and the library must still build.
set -euo pipefail
cd "$(dirname "$0")/.."
cli_deps='clap|anyhow|ctrlc|tracing-subscriber'
# The headless library, and the library with the window (its `ui` module).
for features in "" gui; do
  build="the library (no default features${features:+, features $features})"
  found=$(cargo tree --quiet --no-default-features --features "$features" --edges normal \
    --prefix none | grep -E "^($cli_deps) v" | sort -u || true)
  if [[ -n "$found" ]]; then
    echo "Without the cli feature $build still depends on:" >&2
    echo "$found" >&2
    echo "make them optional dependencies of the cli feature (Cargo.toml)" >&2
    exit 1
  fi
  if ! cargo check --quiet --lib --no-default-features --features "$features"; then
    echo "$build must build without the cli feature: clap, anyhow, ctrlc and" >&2
    echo "tracing-subscriber belong to the binary (src/main.rs, src/cli.rs)" >&2
    exit 1
  fi
done
echo "library builds without clap and anyhow"
