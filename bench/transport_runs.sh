#!/usr/bin/env bash
# MQTT over TCP, TLS-less WebSocket and WebSocket over TLS against the same broker: aedes
# (tests/interop; Debian's Mosquitto 2.0.11 has no WebSocket listener), which serves all of
# them from one process. Each run: a fresh aedes on free loopback ports, our subscriber and
# publisher (release build) over the transport, COUNT messages at QoS 1; REPS runs per
# transport, interleaved. One line per run: transport, both exit statuses, the subscriber's
# rate, and the publisher's CPU seconds. Not part of scripts/test.
# Usage: bench/transport_runs.sh [COUNT] [REPS]   (defaults 200000 and 3)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/build/release/src
count=${1:-200000}
reps=${2:-3}
[ -x "$bin/mqtt_publisher" ] || { echo "transport_runs: build the release preset first" >&2; exit 2; }
[ -d "$root/tests/interop/node_modules/ws" ] || { echo "transport_runs: run scripts/deps --test" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" -days 2 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1

run() {  # run TRANSPORT
    local tcp ws wss broker url sub pub_status sub_status
    tcp=$(free_port) ws=$(free_port) wss=$(free_port)
    node "$root/tests/interop/aedes_broker.js" "$tcp" --ws "$ws" --wss "$wss" "$work/cert.pem" \
        "$work/key.pem" >"$work/a.log" 2>&1 &
    broker=$!
    sleep 1.5
    case $1 in
        tcp) url=(-h "mqtt://127.0.0.1:$tcp") ;;
        ws) url=(-h "ws://127.0.0.1:$ws/mqtt") ;;
        wss) url=(-h "wss://127.0.0.1:$wss/mqtt" --cafile "$work/cert.pem") ;;
    esac
    "$bin/mqtt_subscriber" "${url[@]}" --quiet --idle-timeout 60 >"$work/s.out" 2>&1 &
    sub=$!
    sleep 0.5
    pub_status=0
    /usr/bin/time -f '%U %S' -o "$work/p.time" "$bin/mqtt_publisher" "${url[@]}" --quiet \
        -n "$count" >"$work/p.out" 2>&1 || pub_status=$?
    sub_status=0
    wait "$sub" || sub_status=$?
    kill "$broker"
    wait "$broker" || true
    printf '%s | pub %s sub %s | %s | publisher CPU %s s\n' "$1" "$pub_status" "$sub_status" \
        "$(grep -oE '(NOT )?VERIFIED: received [0-9]+.* [0-9]+ msg/s' "$work/s.out" | grep -oE '^(NOT )?VERIFIED|[0-9]+ msg/s$' | paste -sd' ')" \
        "$(awk '{print $1 + $2}' "$work/p.time")"
}

for _ in $(seq "$reps"); do
    for transport in tcp ws wss; do run "$transport"; done
done
