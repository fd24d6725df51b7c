#!/usr/bin/env bash
# Fails when a source file under src/ has more than 600 lines of code before its test module
# (comments and blank lines not counted): a file that long holds more than one thing.
set -euo pipefail
cd "$(dirname "$0")/.."
limit=600
status=0
while IFS= read -r file; do
  lines=$(awk '/^#\[cfg\(test\)\]/ { exit } { print }' "$file" \
    | grep -vE '^[[:space:]]*(//|$)' | wc -l)
  if (( lines > limit )); then
    echo "$file: $lines lines of code before its tests (at most $limit)" >&2
    status=1
  fi
done < <(find src -name '*.rs' | sort)
if (( status == 0 )); then
  echo "every file under src/ is within $limit lines of code"
fi
exit $status
