#!/usr/bin/env bash
# The payload issue's acceptance runs: a 1,000,000-message QoS 1 run at 16 B, 1 KB and 4 KB and
# a 10,000-message run at 256 KB, in each format that reaches the size, each on its own
# throwaway Mosquitto (the project's limits) on a free loopback port, with the release build.
# One line per run: the arguments, both exit statuses, the subscriber's verdict and its rate.
# Takes about 15 minutes on 2 cores; not part of scripts/test.
# Usage: bench/format_runs.sh [COUNT] [BIG_COUNT]   (defaults 1000000 and 10000)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/build/release/src
count=${1:-1000000}
big=${2:-10000}
[ -x "$bin/mqtt_publisher" ] || { echo "format_runs: build the release preset first" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

run() {
    local port broker sub pub_status sub_status
    port=$(free_port)
    { cat "$root/config/mosquitto.conf"; echo "listener $port 127.0.0.1"; } >"$work/m.conf"
    mosquitto -c "$work/m.conf" >"$work/m.log" 2>&1 &
    broker=$!
    sleep 0.3
    "$bin/mqtt_subscriber" -p "$port" --quiet --idle-timeout 60 >"$work/s.out" 2>&1 &
    sub=$!
    sleep 0.5
    pub_status=0
    "$bin/mqtt_publisher" -p "$port" --quiet "$@" >"$work/p.out" 2>&1 || pub_status=$?
    sub_status=0
    wait "$sub" || sub_status=$?
    kill "$broker"
    wait "$broker" || true
    printf '%s | pub %s sub %s | %s\n' "$*" "$pub_status" "$sub_status" \
        "$(grep -oE '(NOT )?VERIFIED: received [0-9]+, unique [0-9]+ of [0-9]+.*corrupt [0-9]+ in [0-9.]+ s, [0-9]+ msg/s' "$work/s.out" | head -1)"
}

files() {  # a directory with one file of $1 bytes
    mkdir -p "$work/files-$1"
    head -c "$1" /dev/urandom >"$work/files-$1/body"
    echo "$work/files-$1"
}

# 16 B: the bodies that fit beside user properties (a reading in JSON, protobuf, CBOR or
# MessagePack does not fit in 16 bytes).
for f in random binary; do run -n "$count" --payload-format "$f" --payload-size 16 --envelope properties; done
# shellcheck disable=SC2016  # the template's fields, for the publisher to fill
run -n "$count" --payload-template '${rand_hex:16}' --envelope properties
run -n "$count" --payload-file "$(files 16)" --envelope properties
for size in 1k 4k; do
    for f in json binary random protobuf cbor msgpack; do
        run -n "$count" --payload-format "$f" --payload-size "$size"
    done
    bytes=$((${size%k} * 1024))
    run -n "$count" --payload-template "{\"device\":\"\${device}\",\"t\":\${temp},\"blob\":\"\${rand_hex:$((bytes - 60))}\"}"
    run -n "$count" --payload-file "$(files $bytes)"
done
for f in json binary random protobuf cbor msgpack; do
    run -n "$big" --payload-format "$f" --payload-size 256k
done
# shellcheck disable=SC2016
{ head -c 258000 /dev/zero | tr '\0' x; echo '${device} ${seq} ${rand_hex:4096}'; } >"$work/big.template"
run -n "$big" --payload-template "@$work/big.template"
run -n "$big" --payload-file "$(files 262144)"
