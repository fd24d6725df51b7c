#!/usr/bin/env bash
# The ward demo: a local MQTT broker (mosquitto, with a password file and per-bed ACLs, on a free
# loopback port), three simulated bedsides (`simulate --pty` machines recorded by
# `record --publish`) and the ward window. Everything runs from a temporary folder and stops
# when the ward window is closed (or on Ctrl-C).
#   scripts/ward-demo.sh [--speed X]
# Needs mosquitto (`apt install mosquitto`) and a built program (`cargo build --release`;
# APP_BIN overrides the path).
set -euo pipefail
cd "$(dirname "$0")/.."
speed=30
[[ "${1:-}" == "--speed" ]] && speed=${2:?--speed needs a number}
bin=${APP_BIN:-target/release/apheresis-monitor}
[[ -x "$bin" ]] || { echo "build the program first: cargo build --release (or set APP_BIN)" >&2; exit 1; }
command -v mosquitto >/dev/null || { echo "needs mosquitto: sudo apt install mosquitto" >&2; exit 1; }

dir=$(mktemp -d)
chmod 700 "$dir"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

# A free loopback port.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
beds=(bay1 bay2 bay3)
: > "$dir/passwords"
for user in "${beds[@]}" ward; do
  mosquitto_passwd -b "$dir/passwords" "$user" "demo-$user" 2>/dev/null
done
printf 'user ward\ntopic read apheresis/#\n\npattern readwrite apheresis/%%u/#\n' > "$dir/acl"
{
  echo "per_listener_settings false"
  echo "allow_anonymous false"
  echo "persistence false"
  echo "password_file $dir/passwords"
  echo "acl_file $dir/acl"
  echo "listener $port 127.0.0.1"
  [[ $(id -u) -eq 0 ]] && echo "user root"
} > "$dir/mosquitto.conf"
mosquitto -c "$dir/mosquitto.conf" > "$dir/mosquitto.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done
echo "broker: mqtt://127.0.0.1:$port (users ${beds[*]} and ward)"

# Three patients: weight kg, height cm, sex, target TBV.
patients=("80 178 male 2.5" "62 165 female 2" "95 185 male 3")
seed=1
for bed in "${beds[@]}"; do
  read -r kg cm sex tbv <<< "${patients[$((seed - 1))]}"
  # Each bedside: a simulated machine on a pseudo-terminal, recorded and published.
  "$bin" simulate --pty --speed "$speed" --seed "$seed" > "$dir/$bed.pty" 2>/dev/null &
  pids+=($!)
  for _ in $(seq 100); do [[ -s "$dir/$bed.pty" ]] && break; sleep 0.05; done
  pty=$(head -n 1 "$dir/$bed.pty")
  APHERESIS_MQTT_PASSWORD="demo-$bed" "$bin" record --port "$pty" --out "$dir/$bed.csv" \
    --weight-kg "$kg" --height-cm "$cm" --sex "$sex" --target-tbv "$tbv" \
    --publish "mqtt://$bed@127.0.0.1:$port" --bed "$bed" > "$dir/$bed.log" 2>&1 &
  pids+=($!)
  echo "bedside $bed: simulated machine on $pty, recording to $dir/$bed.csv"
  seed=$((seed + 1))
done

echo "ward window: close it to stop the demo"
APHERESIS_MQTT_PASSWORD=demo-ward "$bin" ward --broker "mqtt://ward@127.0.0.1:$port"
