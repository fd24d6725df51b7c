#!/usr/bin/env bash
# Checks the layering invariants of ARCHITECTURE.md that a search can check:
# - the decoder (protocol/), the clinical arithmetic (analysis/) and the presentation module
#   (present/) do no I/O: no files, threads or ports;
# - the simulator reaches the monitor only through a serial line: outside simulator/ only the
#   session start (which runs the demo machine on a pseudo-terminal), the live session (which
#   holds it) and the command line name it.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
io=$(grep -rnE '\b(std::fs|std::thread|std::net|serialport|File::|TcpStream|UdpSocket)\b' \
  src/protocol src/analysis src/present --include='*.rs' | grep -vE '^[^:]+:[0-9]+:\s*//' || true)
if [[ -n "$io" ]]; then
  echo "protocol/, analysis/ and present/ must do no I/O; found:" >&2
  echo "$io" >&2
  status=1
fi
sim=$(grep -rlE '\bsimulator::' src --include='*.rs' \
  | grep -vE '^src/(simulator/|session/start\.rs$|session/live\.rs$|cli\.rs$)' || true)
if [[ -n "$sim" ]]; then
  echo "only the session start reaches the simulator (over a pseudo-terminal); found it in:" >&2
  echo "$sim" >&2
  status=1
fi
if (( status == 0 )); then
  echo "layers hold: no I/O in protocol/analysis/present, the simulator only behind a serial line"
fi
exit $status
