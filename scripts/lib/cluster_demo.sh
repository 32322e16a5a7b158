#!/usr/bin/env bash
# scripts/demo --cluster: one run spread over a cluster, verified as one run.
#   Mosquitto A and Mosquitto B, bridged (sensors/# and telemetry/# both ways, QoS 1);
#   two consumers in share group "demo" on B, each verifying its share;
#   publisher shard 1 on A (its messages cross the bridge) and shard 2 on B;
#   mqtt_report merges the four reports into one verdict and one HTML page.
# Usage: scripts/demo --cluster [--count N] (default 200000); expects the release build.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
count=200000
while [ $# -gt 0 ]; do
    case "$1" in
        --count) count=$2; shift 2 ;;
        *) echo "demo --cluster: unknown argument $1 (takes --count N)" >&2; exit 2 ;;
    esac
done

source scripts/lib/broker.sh
run_dir="$root/run/cluster-$(date +%Y%m%d-%H%M%S)"
run_id="cluster-$(date +%H%M%S)"
mkdir -p "$run_dir"
bin=build/release/src
pids=()
broker_a=''
broker_b=''

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
    for BROKER_PID in $broker_b $broker_a; do stop_broker; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_a=$(free_port)
start_broker "$run_dir/broker-a" "$port_a"
broker_a=$BROKER_PID
port_b=$(free_port)
start_broker "$run_dir/broker-b" "$port_b" "connection cluster-bridge" \
    "address 127.0.0.1:$port_a" "topic sensors/# both 1" "topic telemetry/# both 1" \
    "cleansession false"
broker_b=$BROKER_PID
echo "demo: Mosquitto A (pid $broker_a) on 127.0.0.1:$port_a and B (pid $broker_b) on" \
    "127.0.0.1:$port_b, bridged; run folder $run_dir"

# Every member must have subscribed before the first message is published.
for member in 1 2; do
    "$bin/mqtt_subscriber" -p "$port_b" --share-group demo -i "demo-member-$member" \
        --state-dir "$run_dir/member-$member" --progress-every 50000 \
        --report "$run_dir/member-$member.json" \
        >"$run_dir/member-$member.out" 2>"$run_dir/member-$member.err" &
    pids+=($!)
    for _ in $(seq 1 200); do
        grep -q "(ready)" "$run_dir/member-$member.err" 2>/dev/null && break
        sleep 0.05
    done
    grep -q "(ready)" "$run_dir/member-$member.err" || {
        cat "$run_dir/member-$member.err" >&2
        echo "demo: FAILED: consumer $member never became ready" >&2
        exit 1
    }
done
echo "demo: consumers demo-member-1 and demo-member-2 share group 'demo' on B"

status=0
"$bin/mqtt_publisher" -p "$port_a" --run-id "$run_id" -n "$count" -d 100 --shard 1/2 \
    --progress-every 50000 --report "$run_dir/shard-1.json" 2>"$run_dir/shard-1.err" &
shard1=$!
"$bin/mqtt_publisher" -p "$port_b" --run-id "$run_id" -n "$count" -d 100 --shard 2/2 \
    --progress-every 50000 --report "$run_dir/shard-2.json" 2>"$run_dir/shard-2.err" || status=1
wait "$shard1" || status=1
echo "demo: publisher shard 1 (on A) and shard 2 (on B) done"
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
pids=()
cat "$run_dir/member-1.out" "$run_dir/member-2.out"
echo "demo: the publishers run unpaced, faster than B delivers to the consumers, so messages" \
    "queue (shard 1's also for the bridge): the latency is those queues (docs/guide.md)"
echo
"$bin/mqtt_report" --publisher "$run_dir/shard-1.json" --publisher "$run_dir/shard-2.json" \
    --subscriber "$run_dir/member-1.json" --subscriber "$run_dir/member-2.json" \
    --json "$run_dir/merged.json" -o "$run_dir/report.html" || status=1
echo "demo: merged HTML report: $run_dir/report.html"
if [ "$status" -eq 0 ]; then
    echo "demo: VERIFIED $count / $count over 2 bridged brokers, 2 publisher shards and 2 consumers"
    exit 0
fi
echo "demo: FAILED (reports in $run_dir)" >&2
exit 1
