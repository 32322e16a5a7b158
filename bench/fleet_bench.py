#!/usr/bin/python3
"""Fleet scale: one mqtt_publisher whose every device is its own MQTT connection
(--connections per-device), against one Mosquitto with config/mosquitto-fleet.conf, and one
mqtt_subscriber verifying every message. Prints, per scenario: whether every message was
verified, the ramp-up (connections per second), the publisher's peak RSS and its memory per
connection (over the same devices on one connection), CPU of each process, and the broker's
peak RSS.

Scenarios: 10,000 devices x 1 message/s for 60 s; 19,000 devices x 1 message/10 s for 60 s
(this machine's hard limit of 20,000 open files caps one process near 19,900 connections).
--devices/--interval-ms/--duration run one scenario of your own; --churn SHARE makes that share
of the devices vanish once without DISCONNECT and come back after 5 s (duplicates are then
legal: a message whose PUBACK the drop lost is sent again).

--cluster N: the fleet past one process: N Mosquittos bridged to the first (sensors/# and
telemetry/# both ways), N publisher shards (--shard I/N, one run id), shard I connected to node
I, and one subscriber on the first node verifying the whole run from every shard's summary.
  scripts/fleet-bench --cluster 3 --devices 50000 --interval-ms 10000 --duration 60

--subscribers LIST: fan-out, one publisher and N subscribers in one mqtt_subscriber
(--connections N) on the same topics, against Mosquitto as installed (max_inflight_messages 20,
max_queued_messages 1000), for each N in LIST; --messages M per run (default 20,000, and
2,000,000 deliveries at most). Deliveries per second, every subscriber verified, p99, the
fleet's RSS and CPU, and the broker's CPU and RSS.
  scripts/fleet-bench --subscribers 1,10,100,1000

--connect-storm LIST: the connections as the workload, for each N in LIST: one
mqtt_subscriber --connect-only opens N connections at --connect-rate (0: all at once), each
subscribes to its own topic, holds them --duration s, and drops them all at once a third of the
way in (--reconnect-storm); the connect rate achieved, TCP / CONNACK / SUBACK p50 and p99,
how the storm came back (outage p50, p99, max), the process's RSS per connection and the
broker's CPU and RSS.
  scripts/fleet-bench --connect-storm 1000,10000 --connect-rate 0 --duration 30

--commands: devices that take commands beside their telemetry. The fleet as above (--devices,
--interval-ms, --duration; default 10,000 x 1/s for 60 s) with --commands, each device's 10 ms
of work, and one mqtt_commander sending each device one command every --command-every s
(default 10) for the same time: the telemetry ledger and the command ledger, each exact or not,
and the command round trip p50 and p99, lost and executed twice.
  scripts/fleet-bench --commands --devices 10000
"""
import argparse
import json
import pathlib
import resource
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from e2e_bench import (BIN, broker_config, cpu_seconds, free_port, read_time,  # noqa: E402
                       start_broker, stop_all, timed, wait_text)

SCENARIOS = [(10_000, 1_000, 60), (19_000, 10_000, 60)]  # devices, interval ms, seconds


def raise_file_limit():
    """Children inherit it: Mosquitto and the publisher each hold one descriptor per device."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def status_kb(pid, key):
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def one_connection_rss_mb(port, devices, d):
    """The publisher's peak RSS for the same devices over one connection: the baseline."""
    cmd = [str(BIN / "mqtt_publisher"), "-p", str(port), "-d", str(devices), "-n", str(devices),
           "-Q", "--control-topic", "bench/ignored"]
    subprocess.run(timed(cmd, d / "base.time"), check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=120)
    return read_time(d / "base.time")[1]


def start_ready_subscriber(sub_cmd, d, procs, ready_s):
    """Starts the subscriber timed (d/sub.time, stderr in d/sub.err) and waits for "(ready)"."""
    with open(d / "sub.err", "w") as se:
        sub = subprocess.Popen(timed(sub_cmd, d / "sub.time"), stdout=subprocess.DEVNULL,
                               stderr=se)
    procs.append(sub)
    if not wait_text(d / "sub.err", "(ready)", ready_s):
        raise RuntimeError(f"subscriber not ready: {(d / 'sub.err').read_text()}")
    return sub


def run_scenario(devices, interval_ms, seconds, connect_rate, churn=0.0):
    d = pathlib.Path(tempfile.mkdtemp(prefix="mqtt-fleet-bench-"))
    count = round(devices * 1000 / interval_ms * seconds)
    procs = []  # stopped in `finally`: nothing reaps orphans here
    try:
        port = free_port()
        broker = start_broker(d, port, config="mosquitto-fleet.conf")
        procs.append(broker)
        baseline_mb = one_connection_rss_mb(port, devices, d)
        sub_cmd = [str(BIN / "mqtt_subscriber"), "-p", str(port), "--progress-every", "0", "-C",
                   str(count), "--idle-timeout", "30", "--report", str(d / "sub.json")]
        sub = start_ready_subscriber(sub_cmd, d, procs, ready_s=20)
        pub_cmd = [str(BIN / "mqtt_publisher"), "-p", str(port), "-d", str(devices),
                   "--connections", "per-device", "--connect-rate", str(connect_rate),
                   "--interval", str(interval_ms), "--duration", str(seconds),
                   "--progress-every", "0", "--report", str(d / "pub.json")]
        if churn > 0:
            pub_cmd += ["--churn", str(churn), "--churn-downtime", "5"]
        broker_cpu0 = cpu_seconds(broker.pid)
        t0 = time.time()
        with open(d / "pub.err", "w") as pe:
            pub = subprocess.Popen(timed(pub_cmd, d / "pub.time"), stdout=subprocess.DEVNULL,
                                   stderr=pe)
        procs.append(pub)
        pub_status = pub.wait(timeout=seconds * 3 + 300)
        sub_status = sub.wait(timeout=120)
        wall = time.time() - t0
        broker_cpu = cpu_seconds(broker.pid) - broker_cpu0
        broker_rss_mb = status_kb(broker.pid, "VmHWM") / 1024
        pub_err = (d / "pub.err").read_text()
        if pub_status != 0 or sub_status != 0:
            raise RuntimeError(f"run failed: publisher exit {pub_status}, subscriber exit "
                               f"{sub_status}\n{pub_err[-2000:]}\n{(d / 'sub.err').read_text()[-2000:]}")
        ramp_s = float(pub_err.split(") in ", 1)[1].split(" s,", 1)[0])
        pub_cpu, pub_rss_mb = read_time(d / "pub.time")
        sub_cpu, sub_rss_mb = read_time(d / "sub.time")
        report = json.loads((d / "sub.json").read_text())
        return {
            "devices": devices, "interval_ms": interval_ms, "seconds": seconds, "count": count,
            "verified": report["unique"] == count and report["missing"] == 0 and
                        (churn > 0 or report["duplicates"] == 0) and report["verified"],
            "unique": report["unique"], "duplicates": report["duplicates"],
            "churned": json.loads((d / "pub.json").read_text())["churn"]["returned"], "ramp_s": ramp_s, "conn_per_s": devices / ramp_s,
            "pub_rss_mb": pub_rss_mb, "baseline_mb": baseline_mb,
            "kb_per_conn": (pub_rss_mb - baseline_mb) * 1024 / devices,
            "pub_cpu": pub_cpu, "sub_cpu": sub_cpu, "sub_rss_mb": sub_rss_mb,
            "broker_cpu_pct": 100 * broker_cpu / wall, "broker_rss_mb": broker_rss_mb,
            "p99_ms": report["latency_us"]["p99"] / 1000,
        }
    finally:
        stop_all(procs, kill=True)


def run_subscribers(subscribers, messages):
    """One publisher, `subscribers` verifying subscribers in one process; a failed run is a
    result (a stock broker may drop for a slow subscriber), reported as not verified."""
    d = pathlib.Path(tempfile.mkdtemp(prefix="mqtt-fan-out-bench-"))
    procs = []
    try:
        port = free_port()
        broker = start_broker(d, port, base=broker_config(20))
        procs.append(broker)
        sub_cmd = [str(BIN / "mqtt_subscriber"), "-p", str(port), "--connections",
                   str(subscribers), "--progress-every", "0", "--idle-timeout", "30",
                   "--report", str(d / "sub.json")]
        sub = start_ready_subscriber(sub_cmd, d, procs, ready_s=120)
        broker_cpu0 = cpu_seconds(broker.pid)
        t0 = time.time()
        pub = subprocess.Popen([str(BIN / "mqtt_publisher"), "-p", str(port), "-n",
                                str(messages), "--progress-every", "0",
                                "--max-schedule-lag-ms", "600000"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(pub)
        pub.wait(timeout=1800)
        sub.wait(timeout=600)
        wall = time.time() - t0
        report = json.loads((d / "sub.json").read_text())
        sub_cpu, sub_rss_mb = read_time(d / "sub.time")
        complete = sum(1 for c in report["consumers"] if c["verified"]) if report["consumers"] \
            else int(report["verified"])
        return {"deliveries": report["unique"], "expected": report["expected"],
                "complete": complete, "verified": report["verified"],
                "per_s": report["unique"] / report["elapsed_s"] if report["elapsed_s"] else 0,
                "p99_ms": report["latency_us"]["p99"] / 1000, "sub_cpu": sub_cpu,
                "sub_rss_mb": sub_rss_mb,
                "broker_cpu_pct": 100 * (cpu_seconds(broker.pid) - broker_cpu0) / wall,
                "broker_rss_mb": status_kb(broker.pid, "VmHWM") / 1024}
    finally:
        stop_all(procs, kill=True)


def subscribers_main(args):
    print("One publisher (QoS 1, 10 devices), N subscribers in one mqtt_subscriber "
          "(--connections N), Mosquitto as installed (max_inflight_messages 20, "
          "max_queued_messages 1000)\n")
    print("| subscribers | messages | deliveries | complete | deliveries/s | e2e p99 | "
          "subscriber RSS | subscriber CPU s | broker CPU | broker peak RSS |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n in (int(x) for x in args.subscribers.split(",")):
        messages = min(args.messages, max(1, 2_000_000 // n))
        r = run_subscribers(n, messages)
        print(f"| {n:,} | {messages:,} | {r['deliveries']:,} of {r['expected']:,} | "
              f"{r['complete']:,} of {n:,}{'' if r['verified'] else ' (NOT VERIFIED)'} | "
              f"{r['per_s']:,.0f} | {r['p99_ms']:.1f} ms | {r['sub_rss_mb']:.1f} MB | "
              f"{r['sub_cpu']:.1f} | {r['broker_cpu_pct']:.0f}% | {r['broker_rss_mb']:.0f} MB |",
              flush=True)


def run_connect_storm(connections, connect_rate, seconds, connect_timeout=None):
    d = pathlib.Path(tempfile.mkdtemp(prefix="mqtt-connect-storm-"))
    procs = []
    try:
        port = free_port()
        broker = start_broker(d, port, config="mosquitto-fleet.conf")
        procs.append(broker)
        cmd = [str(BIN / "mqtt_subscriber"), "-p", str(port), "--connect-only", "--connections",
               str(connections), "--connect-rate", str(connect_rate), "--hold", str(seconds),
               "--reconnect-storm", str(seconds / 3), "-t", "bench/{n}/#", "-i", "storm",
               "--report", str(d / "r.json")]
        if connect_timeout:
            cmd += ["--connect-timeout", f"{connect_timeout:g}"]
        broker_cpu0 = cpu_seconds(broker.pid)
        t0 = time.time()
        with open(d / "out", "w") as out, open(d / "err", "w") as err:
            status = subprocess.run(timed(cmd, d / "sub.time"), stdout=out, stderr=err,
                                    timeout=seconds * 3 + 600).returncode
        wall = time.time() - t0
        report = json.loads((d / "r.json").read_text())
        c = report["connections"]
        _, rss_mb = read_time(d / "sub.time")
        return {"status": status, "c": c, "rss_mb": rss_mb,
                "failed_checks": report["failed_checks"],
                "broker_cpu_pct": 100 * (cpu_seconds(broker.pid) - broker_cpu0) / wall,
                "broker_rss_mb": status_kb(broker.pid, "VmHWM") / 1024}
    finally:
        stop_all(procs, kill=True)


def connect_storm_main(args):
    print(f"mqtt_subscriber --connect-only, --connect-rate {args.connect_rate:g} (0: all at once), "
          f"held {args.duration:g} s, every connection dropped at once after {args.duration / 3:g} s "
          "(--reconnect-storm); Mosquitto with config/mosquitto-fleet.conf\n")
    print("| connections | up / subscribed | connect rate | TCP p50 / p99 | CONNACK p50 / p99 | "
          "SUBACK p50 / p99 | storm: back | outage p50 / p99 / max | RSS (KB per connection) | "
          "broker CPU | broker peak RSS | verdict |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")

    def ms(step, c, key):
        s = c["steps_us"].get(step)
        return f"{s[key] / 1000:.2f}" if s else "-"

    for n in (int(x) for x in args.connect_storm.split(",")):
        r = run_connect_storm(n, args.connect_rate, args.duration, args.connect_timeout)
        c = r["c"]
        pair = lambda step: f"{ms(step, c, 'p50')} / {ms(step, c, 'p99')} ms"  # noqa: E731
        verdict = "passed" if r["status"] == 0 else "FAILED: " + "; ".join(r["failed_checks"])
        print(f"| {n:,} | {c['connected'] - c['reconnected']:,} / {c['subscribed']:,} | "
              f"{c['connect_rate']:,.0f}/s | {pair('tcp')} | {pair('connack')} | "
              f"{pair('suback')} | {c['reconnected']:,} of {n:,} | "
              f"{ms('outage', c, 'p50')} / {ms('outage', c, 'p99')} / {ms('outage', c, 'max')} ms | "
              f"{r['rss_mb']:.1f} MB ({r['rss_mb'] * 1024 / n:.1f}) | {r['broker_cpu_pct']:.0f}% | "
              f"{r['broker_rss_mb']:.0f} MB | {verdict} |", flush=True)


BRIDGE = ("connection fleet-bridge\naddress 127.0.0.1:{port}\ntopic sensors/# both 1\n"
          "topic telemetry/# both 1\ncleansession false\n")


def run_cluster(devices, interval_ms, seconds, connect_rate, nodes):
    d = pathlib.Path(tempfile.mkdtemp(prefix="mqtt-fleet-cluster-"))
    count = round(devices * 1000 / interval_ms * seconds)
    procs = []
    try:
        ports, brokers = [], []
        for i in range(nodes):
            (d / f"node{i}").mkdir()
            ports.append(free_port())
            extra = BRIDGE.format(port=ports[0]) if i > 0 else ""
            brokers.append(start_broker(d / f"node{i}", ports[i], config="mosquitto-fleet.conf",
                                        extra=extra))
            procs.append(brokers[-1])
        time.sleep(1)  # the bridges connect
        sub_cmd = [str(BIN / "mqtt_subscriber"), "-p", str(ports[0]), "--progress-every", "0",
                   "--idle-timeout", "30", "--report", str(d / "sub.json")]
        sub = start_ready_subscriber(sub_cmd, d, procs, ready_s=20)
        cpu0 = [cpu_seconds(b.pid) for b in brokers]
        t0 = time.time()
        pubs = []
        for i in range(nodes):
            cmd = [str(BIN / "mqtt_publisher"), "-p", str(ports[i]), "-d", str(devices),
                   "--connections", "per-device", "--connect-rate", str(connect_rate),
                   "--interval", str(interval_ms), "--duration", str(seconds), "--run-id",
                   "fleet-cluster", "--shard", f"{i + 1}/{nodes}", "--progress-every", "0",
                   "--report", str(d / f"pub{i}.json")]
            with open(d / f"pub{i}.err", "w") as pe:
                pubs.append(subprocess.Popen(timed(cmd, d / f"pub{i}.time"),
                                             stdout=subprocess.DEVNULL, stderr=pe))
            procs.append(pubs[-1])
        statuses = [p.wait(timeout=seconds * 3 + 300) for p in pubs]
        sub_status = sub.wait(timeout=180)
        wall = time.time() - t0
        if any(statuses) or sub_status != 0:
            raise RuntimeError(f"run failed: publishers {statuses}, subscriber {sub_status}\n"
                               f"{(d / 'sub.err').read_text()[-2000:]}")
        report = json.loads((d / "sub.json").read_text())
        return {
            "count": count, "unique": report["unique"], "missing": report["missing"],
            "duplicates": report["duplicates"], "verified": report["verified"] and
            report["unique"] == count, "summaries": len(report["summaries"]),
            "pub_rss_mb": [read_time(d / f"pub{i}.time")[1] for i in range(nodes)],
            "pub_cpu": [read_time(d / f"pub{i}.time")[0] for i in range(nodes)],
            "sub_cpu": read_time(d / "sub.time")[0],
            "broker_cpu_pct": [100 * (cpu_seconds(b.pid) - c0) / wall for b, c0 in zip(brokers, cpu0)],
            "broker_rss_mb": [status_kb(b.pid, "VmHWM") / 1024 for b in brokers],
            "p99_ms": report["latency_us"]["p99"] / 1000,
        }
    finally:
        stop_all(procs, kill=True)


def cluster_main(args):
    devices = args.devices or 50_000
    r = run_cluster(devices, args.interval_ms, args.duration, args.connect_rate, args.cluster)
    mb = lambda xs: " / ".join(f"{x:.0f}" for x in xs)
    print(f"{devices:,} devices, one connection each, every {args.interval_ms / 1000:g} s for "
          f"{args.duration:g} s, over {args.cluster} publisher shards and {args.cluster} bridged "
          f"Mosquittos (config/mosquitto-fleet.conf)\n")
    print("| messages | verified | duplicates | p99 | publisher peak RSS MB | publisher CPU s | "
          "subscriber CPU s | broker CPU % | broker peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(f"| {r['count']:,} | {'yes' if r['verified'] else 'NO'} ({r['unique']:,} unique, "
          f"{r['missing']:,} missing, {r['summaries']} summaries) | {r['duplicates']:,} | "
          f"{r['p99_ms']:.1f} ms | {mb(r['pub_rss_mb'])} | {mb(r['pub_cpu'])} | {r['sub_cpu']:.1f} | "
          f"{mb(r['broker_cpu_pct'])} | {mb(r['broker_rss_mb'])} |", flush=True)


def run_commands(devices, interval_ms, seconds, connect_rate, command_every_s):
    """The fleet with --commands and a commander beside it; both ledgers and the round trip."""
    d = pathlib.Path(tempfile.mkdtemp(prefix="mqtt-fleet-bench-commands-"))
    count = round(devices * 1000 / interval_ms * seconds)
    commands = max(1, round(devices * seconds / command_every_s))
    procs = []
    try:
        port = free_port()
        broker = start_broker(d, port, config="mosquitto-fleet.conf")
        procs.append(broker)
        sub = start_ready_subscriber(
            [str(BIN / "mqtt_subscriber"), "-p", str(port), "--progress-every", "0", "-C",
             str(count), "--idle-timeout", "60", "--report", str(d / "sub.json")], d, procs, 20)
        pub_cmd = [str(BIN / "mqtt_publisher"), "-p", str(port), "-d", str(devices),
                   "--connections", "per-device", "--connect-rate", str(connect_rate),
                   "--interval", str(interval_ms), "--duration", str(seconds), "--commands",
                   "--command-service-ms", "10", "--command-linger", "20", "--progress-every",
                   "0", "--report", str(d / "pub.json")]
        with open(d / "pub.err", "w") as pe:
            pub = subprocess.Popen(timed(pub_cmd, d / "pub.time"), stdout=subprocess.DEVNULL,
                                   stderr=pe)
        procs.append(pub)
        if not wait_text(d / "pub.err", "commands: each of", 120):
            raise RuntimeError("the fleet did not come up:\n" + (d / "pub.err").read_text()[-2000:])
        cmd_cmd = [str(BIN / "mqtt_commander"), "-p", str(port), "-d", str(devices), "-n",
                   str(commands), "-r", str(devices / command_every_s), "--progress-every", "0",
                   "--report", str(d / "cmd.json")]
        with open(d / "cmd.out", "w") as co, open(d / "cmd.err", "w") as ce:
            commander = subprocess.Popen(timed(cmd_cmd, d / "cmd.time"), stdout=co, stderr=ce)
        procs.append(commander)
        cmd_status = commander.wait(timeout=seconds * 3 + 300)
        pub_status = pub.wait(timeout=seconds * 3 + 300)
        sub_status = sub.wait(timeout=120)
        c = json.loads((d / "cmd.json").read_text())
        s = json.loads((d / "sub.json").read_text())
        k = json.loads((d / "pub.json").read_text())["commands"]
        return {
            "devices": devices, "count": count, "commands": commands,
            "telemetry_verified": sub_status == 0 and s["verified"] and s["unique"] == count,
            "unique": s["unique"], "telemetry_p99_ms": s["latency_us"]["p99"] / 1000,
            "commands_verified": cmd_status == 0 and c["verified"], "c": c, "k": k,
            "pub_status": pub_status, "pub_cpu": read_time(d / "pub.time")[0],
            "cmd_cpu": read_time(d / "cmd.time")[0],
            "verdict": (d / "cmd.out").read_text().strip(),
        }
    finally:
        stop_all(procs, kill=True)


def commands_main(args):
    devices = args.devices or 10_000
    print(f"Mosquitto with config/mosquitto-fleet.conf; {devices:,} devices, one connection each, "
          f"telemetry every {args.interval_ms / 1000:g} s and a command every "
          f"{args.command_every:g} s per device for {args.duration:g} s; 10 ms of work each\n")
    r = run_commands(devices, args.interval_ms, args.duration, args.connect_rate,
                     args.command_every)
    c, k = r["c"], r["k"]
    print("| telemetry messages | verified: telemetry / commands | telemetry p99 | commands | "
          "answered | lost | executed twice | late | "
          "round trip p50 / p99 | to device p99 | back p99 | CPU s devices / commander |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    print(f"| {r['count']:,} | {'yes' if r['telemetry_verified'] else 'NO'} ({r['unique']:,}) / "
          f"{'yes' if r['commands_verified'] else 'NO'} | {r['telemetry_p99_ms']:.1f} ms | "
          f"{c['sent']:,} | {c['answered']:,} | {c['lost']} | {c['executed_twice']} | "
          f"{c['answered_late']} | {c['round_trip_us']['p50'] / 1000:.1f} / "
          f"{c['round_trip_us']['p99'] / 1000:.1f} ms | {c['to_device_us']['p99'] / 1000:.1f} ms "
          f"| {c['from_device_us']['p99'] / 1000:.1f} ms | {r['pub_cpu']:.1f} / "
          f"{r['cmd_cpu']:.1f} |")
    print(f"\ndevices: received {k['received']:,}, executed {k['executed']:,}, answers "
          f"{k['answers_sent']:,}; {r['verdict']}")
    return 0 if r["telemetry_verified"] and r["commands_verified"] else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--devices", type=int)
    ap.add_argument("--interval-ms", type=float, default=1000)
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--connect-rate", type=float, default=4000)
    ap.add_argument("--churn", type=float, default=0.0)
    ap.add_argument("--cluster", type=int, default=0, metavar="N",
                    help="N bridged brokers and N publisher shards (see above)")
    ap.add_argument("--subscribers", metavar="LIST",
                    help="fan-out: N subscribers in one process for each N (see above)")
    ap.add_argument("--messages", type=int, default=20_000,
                    help="--subscribers: messages per run")
    ap.add_argument("--connect-timeout", type=float,
                    help="--connect-storm: each connection's --connect-timeout (default 10 s)")
    ap.add_argument("--connect-storm", metavar="LIST",
                    help="connections as the workload: N held connections for each N (see above)")
    ap.add_argument("--commands", action="store_true",
                    help="devices take commands beside their telemetry (see above)")
    ap.add_argument("--command-every", type=float, default=10,
                    help="--commands: seconds between one device's commands")
    args = ap.parse_args()
    limit = raise_file_limit()
    if args.commands:
        return commands_main(args)
    if args.connect_storm:
        return connect_storm_main(args)
    if args.subscribers:
        return subscribers_main(args)
    if args.cluster:
        return cluster_main(args)
    scenarios = [(args.devices, args.interval_ms, args.duration)] if args.devices else SCENARIOS
    print(f"open-file limit {limit}; Mosquitto with config/mosquitto-fleet.conf; "
          f"--connect-rate {args.connect_rate:g}\n")
    print("| devices | every | for | messages | verified | ramp-up | publisher peak RSS | "
          "publisher KB per connection | CPU s pub / sub | broker CPU | broker peak RSS | p99 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for devices, interval_ms, seconds in scenarios:
        r = run_scenario(devices, interval_ms, seconds, args.connect_rate, args.churn)
        churned = (f", {r['churned']:,} churned, {r['duplicates']:,} duplicates"
                   if args.churn else "")
        print(f"| {devices:,} | {interval_ms / 1000:g} s | {seconds:g} s | {r['count']:,} | "
              f"{'yes' if r['verified'] else 'NO'} ({r['unique']:,}{churned}) | {r['ramp_s']:.2f} s "
              f"({r['conn_per_s']:,.0f}/s) | {r['pub_rss_mb']:.1f} MB | "
              f"{r['kb_per_conn']:.1f} (over {r['baseline_mb']:.1f} MB on one connection) | "
              f"{r['pub_cpu']:.1f} / {r['sub_cpu']:.1f} | {r['broker_cpu_pct']:.0f}% | "
              f"{r['broker_rss_mb']:.0f} MB | {r['p99_ms']:.1f} ms |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
