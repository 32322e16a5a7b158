#!/usr/bin/python3
"""End-to-end throughput: our publisher/subscriber against baselines, each pair on a freshly
started Mosquitto with config/mosquitto.conf, in the same run. Prints msg/s (median, min-max),
CPU seconds per process, peak RSS, the broker's CPU, and the ratio of ours to each baseline.

Pairs: native (our engine), libmosquitto (our programs with --client libmosquitto -V 311: the
same application code on the broker project's client library), paho (Python paho-mqtt 1.6.1);
native+tls and libmosquitto+tls run the same pairs through a TLS listener (a CA and server
certificate made with openssl for the bench; `--tls` compares all four).
Throughput is the subscriber's: unique messages from its first to its last message.
"""
import argparse
import json
import os
import pathlib
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = ROOT / "build" / "release" / "src"
SUB_ARGS = []  # --sub-args
PUB_ARGS = []  # --pub-args
TICKS = os.sysconf("SC_CLK_TCK")
CERTS = pathlib.Path(tempfile.mkdtemp(prefix="mqtt-bench-certs-"))


def make_certificates():
    """A CA and a server certificate for 127.0.0.1, as a user of a private broker would make."""
    run = lambda *a: subprocess.run(["openssl", *a], cwd=CERTS, check=True, capture_output=True)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
        "-days", "2", "-subj", "/CN=bench CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=127.0.0.1")
    (CERTS / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.crt", "-days", "2", "-extfile", "san.ext")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Mosquitto as installed, but for its in-flight limit (the Receive Maximum it gives MQTT 5
# clients): max_queued_messages stays at its default of 1000, as users run it.
STOCK = "per_listener_settings false\nallow_anonymous true\nmax_inflight_messages {limit}\n"


def start_broker(run_dir, port, tls=False, config="mosquitto.conf", extra="", base=None, ns=None):
    """Mosquitto with config/<config> (or the text `base`) plus this run's listener, persistence
    and log (and `extra` lines, a bridge say); in the network namespace `ns` it listens on every
    address there."""
    conf = run_dir / "mosquitto.conf"
    tls_lines = (f"cafile {CERTS}/ca.crt\ncertfile {CERTS}/server.crt\nkeyfile {CERTS}/server.key\n"
                 if tls else "")
    conf.write_text((base if base is not None else (ROOT / "config" / config).read_text()) +
                    f"\nlistener {port}{'' if ns else ' 127.0.0.1'}\n{tls_lines}persistence_location {run_dir}/\n"
                    f"log_dest file {run_dir}/mosquitto.log\nuser {os.environ.get('USER') or 'root'}\n" + extra)
    proc = subprocess.Popen(in_ns(ns, ["mosquitto", "-c", str(conf)]), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    if ns:
        if wait_text(run_dir / "mosquitto.log", "running", 10):
            return proc
        proc.kill()
        proc.wait()
        raise RuntimeError("mosquitto did not start")
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    proc.wait()  # nothing reaps orphans here
    raise RuntimeError("mosquitto did not start")


def in_ns(ns, cmd):
    return ["ip", "netns", "exec", ns] + cmd if ns else cmd


class ImpairedPath:
    """Two network namespaces joined by tools/netem_link (loss, delay, jitter in each direction):
    the broker and subscriber in one, the publisher in the other, reaching the broker at
    10.77.0.2 over TCP through the impaired link. This kernel has no sch_netem, hence user space."""

    def __init__(self, loss, delay_ms, jitter_ms):
        tag = f"{os.getpid() % 10000}{int(time.time() * 1000) % 10000}"
        self.pub_ns, self.broker_ns = f"benchpub{tag}", f"benchbrk{tag}"
        self.broker_ip = "10.77.0.2"
        self.tuns = (f"bpt{tag}", f"bbt{tag}")
        self.link = None
        try:
            for ns in (self.pub_ns, self.broker_ns):
                subprocess.run(["ip", "netns", "add", ns], check=True)
            self.link = subprocess.Popen([str(ROOT / "build" / "release" / "tools" / "netem_link"), *self.tuns,
                                          str(loss), str(delay_ms), str(jitter_ms)],
                                         stdout=subprocess.PIPE, text=True)
            if self.link.stdout.readline().strip() != "netem_link: ready":
                raise RuntimeError("netem_link did not start")
            for ns, tun, me, peer in ((self.pub_ns, self.tuns[0], "10.77.0.1", self.broker_ip),
                                      (self.broker_ns, self.tuns[1], self.broker_ip, "10.77.0.1")):
                ip = lambda *a: subprocess.run(["ip", *a], check=True)
                ip("link", "set", tun, "netns", ns)
                ip("-n", ns, "addr", "add", me, "peer", peer, "dev", tun)
                ip("-n", ns, "link", "set", tun, "up")
                ip("-n", ns, "link", "set", "lo", "up")
        except Exception:
            self.close()
            raise

    def close(self):
        if self.link:
            self.link.terminate()
            self.link.wait()
        for ns in (self.pub_ns, self.broker_ns):
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)


def stop_all(procs, kill=False):
    """Stops and reaps every process of a run, also when it failed (nothing reaps orphans here):
    SIGTERM in start order, or with kill=True SIGKILL newest first."""
    for proc in (reversed(procs) if kill else procs):
        if proc.poll() is None:
            if kill:
                proc.kill()
            else:
                proc.terminate()
        proc.wait(timeout=None if kill else 30)


def cpu_seconds(pid):
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def timed(cmd, time_file):
    return ["/usr/bin/time", "-v", "-o", str(time_file)] + cmd


def read_time(path):
    text = path.read_text()
    get = lambda key: float(next(l.split(":")[-1] for l in text.splitlines() if key in l))
    return get("User time") + get("System time"), int(get("Maximum resident set size")) / 1024


def wait_text(path, needle, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if path.exists() and needle in path.read_text(errors="replace"):
            return True
        time.sleep(0.02)
    return False


def commands(pair, port, count, qos, d):
    if pair == "paho":
        py = "/usr/bin/python3"
        sub = [py, str(ROOT / "bench" / "paho_subscriber.py"), "127.0.0.1", str(port), str(count)]
        pub = [py, str(ROOT / "bench" / "paho_publisher.py"), "127.0.0.1", str(port), str(count), str(qos)]
        return sub, pub, "ready"
    engine = ["--client", "libmosquitto", "-V", "311"] if pair.startswith("libmosquitto") else ["--client", "native"]
    tls = ["--cafile", str(CERTS / "ca.crt")] if pair.endswith("+tls") else []
    common = ["-p", str(port), "--progress-every", "0"] + engine + tls
    sub = [str(BIN / "mqtt_subscriber"), *common, *SUB_ARGS, "-C", str(count), "--idle-timeout", "10",
           "--report", str(d / "sub.json")]
    pub = [str(BIN / "mqtt_publisher"), *common, *PUB_ARGS, "-n", str(count), "-q", str(qos), "--report",
           str(d / "pub.json")]
    return sub, pub, "(ready)"


def start_pair(d, procs, name, sub_cmd, pub_cmd, ready, time_sub=True):
    """Starts the subscriber, waits for its `ready` line, then starts the publisher (timed); both
    join `procs`, output in d/sub.* and d/pub.*. Returns (sub, pub)."""
    with open(d / "sub.out", "w") as so, open(d / "sub.err", "w") as se:
        sub = subprocess.Popen(timed(sub_cmd, d / "sub.time") if time_sub else sub_cmd, stdout=so, stderr=se)
    procs.append(sub)
    if not wait_text(d / "sub.err", ready, 20):
        raise RuntimeError(f"{name} subscriber not ready: {(d / 'sub.err').read_text()}")
    with open(d / "pub.out", "w") as po, open(d / "pub.err", "w") as pe:
        pub = subprocess.Popen(timed(pub_cmd, d / "pub.time"), stdout=po, stderr=pe)
    procs.append(pub)
    return sub, pub


def run_once(pair, count, qos):
    d = pathlib.Path(tempfile.mkdtemp(prefix="mqtt-bench-"))
    procs = []  # stopped in `finally`, also when a run fails: nothing reaps orphans here
    try:
        port = free_port()
        broker = start_broker(d, port, tls=pair.endswith("+tls"))
        procs.append(broker)
        sub_cmd, pub_cmd, ready = commands(pair, port, count, qos, d)
        sub, pub = start_pair(d, procs, pair, sub_cmd, pub_cmd, ready)
        pub_status = pub.wait(timeout=1800)
        sub_status = sub.wait(timeout=1800)
        # A run that failed measures nothing: stop with what each side said.
        if pub_status != 0 or sub_status != 0:
            raise RuntimeError(f"{pair} run failed: publisher exit {pub_status}, subscriber exit "
                               f"{sub_status}\n{(d / 'pub.err').read_text()[-2000:]}"
                               f"{(d / 'sub.out').read_text()[-2000:]}")
        broker_cpu = cpu_seconds(broker.pid)
        broker.terminate()
        broker.wait(timeout=30)
        if pair == "paho":
            result = json.loads((d / "sub.out").read_text().strip().splitlines()[-1])
            received = result["received"]
        else:
            result = json.loads((d / "sub.json").read_text())
            received = result["unique"]
        pub_cpu, pub_rss = read_time(d / "pub.time")
        sub_cpu, sub_rss = read_time(d / "sub.time")
        return {"rate": result["msgs_per_sec"], "received": received, "pub_cpu": pub_cpu, "sub_cpu": sub_cpu,
                "pub_rss": pub_rss, "sub_rss": sub_rss, "broker_cpu": broker_cpu, "elapsed": result["elapsed_s"]}
    finally:
        stop_all(procs)
        shutil.rmtree(d, ignore_errors=True)


BRIDGE = "connection bench-bridge\naddress 127.0.0.1:{port}\ntopic sensors/# both 1\n" \
         "topic telemetry/# both 1\ncleansession false\n"


def cluster_once(setup, count):
    """The reference run on one broker ("single"), from broker A to a subscriber on broker B
    bridged to A ("bridge"), or to a shared-subscription pair whose reports mqtt_report merges
    ("share"). Returns msg/s and the CPU seconds of every process, brokers included."""
    d = pathlib.Path(tempfile.mkdtemp(prefix="mqtt-cluster-"))
    procs = []
    try:
        port_a = free_port()
        (d / "a").mkdir()
        broker_a = start_broker(d / "a", port_a)
        procs.append(broker_a)
        brokers = {"broker A": broker_a}
        sub_port = port_a
        if setup == "bridge":
            port_b = free_port()
            (d / "b").mkdir()
            broker_b = start_broker(d / "b", port_b, extra=BRIDGE.format(port=port_a))
            procs.append(broker_b)
            brokers["broker B"] = broker_b
            sub_port = port_b
        members = ["m1", "m2"] if setup == "share" else ["sub"]
        subs = []
        for m in members:
            cmd = [str(BIN / "mqtt_subscriber"), "-p", str(sub_port), "--progress-every", "0",
                   "--report", str(d / f"{m}.json")]
            if setup == "share":
                cmd += ["--share-group", "bench", "-i", m]
            else:
                cmd += ["-C", str(count), "--idle-timeout", "10"]
            with open(d / f"{m}.err", "w") as se:
                sub = subprocess.Popen(timed(cmd, d / f"{m}.time"), stdout=subprocess.DEVNULL, stderr=se)
            procs.append(sub)
            subs.append(sub)
            if not wait_text(d / f"{m}.err", "(ready)", 20):
                raise RuntimeError(f"{setup} {m} not ready: {(d / f'{m}.err').read_text()}")
        pub_cmd = [str(BIN / "mqtt_publisher"), "-p", str(port_a), "--progress-every", "0", "-n", str(count),
                   "--report", str(d / "pub.json")]
        with open(d / "pub.err", "w") as pe:
            pub = subprocess.Popen(timed(pub_cmd, d / "pub.time"), stdout=subprocess.DEVNULL, stderr=pe)
        procs.append(pub)
        statuses = [pub.wait(timeout=1800)] + [s.wait(timeout=1800) for s in subs]
        if any(statuses):
            raise RuntimeError(f"{setup} run failed: exits {statuses}\n{(d / 'pub.err').read_text()[-2000:]}")
        cpu = {name: cpu_seconds(b.pid) for name, b in brokers.items()}
        if setup == "share":
            merged = subprocess.run([str(BIN / "mqtt_report"), "--publisher", str(d / "pub.json"),
                                     *[x for m in members for x in ("--subscriber", str(d / f"{m}.json"))],
                                     "--json", str(d / "merged.json")], capture_output=True, text=True)
            if merged.returncode != 0:
                raise RuntimeError(f"share: mqtt_report exit {merged.returncode}: {merged.stdout}{merged.stderr}")
            result = json.loads((d / "merged.json").read_text())["subscriber"]
        else:
            result = json.loads((d / "sub.json").read_text())
        cpu["publisher"] = read_time(d / "pub.time")[0]
        for m in members:
            cpu[m] = read_time(d / f"{m}.time")[0]
        return {"rate": result["msgs_per_sec"], "unique": result["unique"], "missing": result["missing"],
                "elapsed": result["elapsed_s"], "cpu": cpu}
    finally:
        stop_all(procs)
        shutil.rmtree(d, ignore_errors=True)


def cluster_mode(count, reps):
    rows = {}
    for rep in range(reps):
        for setup in ("single", "bridge", "share"):  # interleaved against drift
            r = cluster_once(setup, count)
            rows.setdefault(setup, []).append(r)
            cpu = ", ".join(f"{k} {v:.1f}s" for k, v in r["cpu"].items())
            print(f"rep {rep + 1} {setup:7s} {r['rate']:9.0f} msg/s unique {r['unique']} missing {r['missing']}"
                  f"  cpu {cpu}", file=sys.stderr, flush=True)
    single = statistics.median(r["rate"] for r in rows["single"])
    print(f"\n{count:,} messages at QoS 1 per run, {reps} runs each\n")
    print("| setup | msg/s median (min-max) | ÷ single broker | CPU % of the run's wall time (median) |")
    print("|---|---|---|---|")
    for setup, rs in rows.items():
        rate = statistics.median(r["rate"] for r in rs)
        shares = ", ".join(
            f"{k} {100 * statistics.median(r['cpu'][k] / max(r['elapsed'], 1e-9) for r in rs):.0f}%"
            for k in rs[0]["cpu"])
        print(f"| {setup} | {rate:,.0f} ({min(r['rate'] for r in rs):,.0f}-{max(r['rate'] for r in rs):,.0f}) | "
              f"{rate / single:.2f}× | {shares} |")


# The paths of --latency: a 20 ms TCP proxy, and two impaired IP links (loss, delay, jitter in
# each direction) through tools/netem_link.
IMPAIRED = {"5% loss": (5, 1, 0), "±20 ms jitter": (0, 20, 20)}


def run_latency(path, window, count):
    """One run of our pair with `-w window`; the publisher reaches the broker directly, through
    tools/fault_proxy adding 20 ms each way, or over an impaired link (the subscriber always
    directly)."""
    d = pathlib.Path(tempfile.mkdtemp(prefix="mqtt-latency-"))
    procs = []
    link = ImpairedPath(*IMPAIRED[path]) if path in IMPAIRED else None
    ns = link.broker_ns if link else None
    try:
        port = free_port()
        broker = start_broker(d, port, ns=ns)
        procs.append(broker)
        pub_port, pub_host = port, "127.0.0.1"
        if path == "proxy":
            pub_port = free_port()
            (d / "proxy.mode").write_text("delay 20")
            procs.append(subprocess.Popen([str(ROOT / "build" / "release" / "tools" / "fault_proxy"),
                                           str(pub_port), str(port), str(d / "proxy.mode")],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            time.sleep(0.3)
        if link:
            pub_host = link.broker_ip
        with open(d / "sub.out", "w") as so, open(d / "sub.err", "w") as se:
            sub = subprocess.Popen(in_ns(ns, [str(BIN / "mqtt_subscriber"), "-p", str(port), "--progress-every",
                                              "0", "-C", str(count), "--idle-timeout", "30", "--report",
                                              str(d / "sub.json")]),
                                   stdout=so, stderr=se)
        procs.append(sub)
        if not wait_text(d / "sub.err", "(ready)", 20):
            raise RuntimeError(f"subscriber not ready: {(d / 'sub.err').read_text()}")
        pub = subprocess.run(in_ns(link.pub_ns if link else None,
                                   [str(BIN / "mqtt_publisher"), "-h", pub_host, "-p", str(pub_port),
                                    "--progress-every", "0", "-n", str(count), "-w", window, "--report",
                                    str(d / "pub.json")]),
                             capture_output=True, text=True, timeout=1800)
        if pub.returncode != 0 or sub.wait(timeout=600) != 0:
            raise RuntimeError(f"{path} window {window} failed: {pub.stderr[-2000:]}"
                               f"{(d / 'sub.out').read_text()[-2000:]}")
        s = json.loads((d / "sub.json").read_text())
        p = json.loads((d / "pub.json").read_text())
        lat = s["latency_us"]
        return {"rate": s["msgs_per_sec"], "p50": lat["p50"] / 1000, "p99": lat["p99"] / 1000,
                "final_window": p.get("final_window", 0)}
    finally:
        stop_all(procs)
        if link:
            link.close()
        shutil.rmtree(d, ignore_errors=True)


def latency_mode(count, reps):
    windows = ["auto", "1000", "200", "50"]
    paths = [("loopback", count), ("proxy", min(count // 2, 150_000)),
             ("5% loss", min(count // 2, 200_000)), ("±20 ms jitter", min(count // 10, 40_000))]
    print(f"\n`--window` against throughput and end-to-end latency, QoS 1 (median of {reps}); the proxy "
          f"path adds 20 ms each way between publisher and broker; the loss and jitter paths are IP links "
          f"through tools/netem_link (5% loss and 1 ms each way; 20 ms ± 20 ms each way)\n")
    print("| path | messages | --window | msg/s | ÷ best fixed | e2e p50 ms | e2e p99 ms | final window |")
    print("|---|---|---|---|---|---|---|---|")
    for path, n in paths:
        rows = {}
        for rep in range(reps):
            for w in windows:  # interleaved
                r = run_latency(path, w, n)
                rows.setdefault(w, []).append(r)
                print(f"{path} rep {rep + 1} window {w:5s} {r['rate']:9.0f} msg/s p50 {r['p50']:.2f} ms "
                      f"p99 {r['p99']:.2f} ms final window {r['final_window']}", file=sys.stderr, flush=True)
        med = lambda w, k: statistics.median(r[k] for r in rows[w])
        best = max(med(w, "rate") for w in windows if w != "auto")
        for w in windows:
            print(f"| {path} | {n:,} | {w} | {med(w, 'rate'):,.0f} | {med(w, 'rate') / best:.2f}× | "
                  f"{med(w, 'p50'):.2f} | {med(w, 'p99'):.2f} | {med(w, 'final_window'):.0f} |", flush=True)


BROKER_LIMITS = [10, 20, 32, "project"]
# What each column runs: our programs' flags on both sides, or a baseline pair.
VARIANTS = {
    "default": [],
    "-w 1000": ["-w", "1000"],
    "-V 311": ["-V", "311"],
    "libmosquitto": ["--client", "libmosquitto", "-V", "311"],
    "paho": None,
    "--connections auto": ["--connections", "auto"],
}


def broker_config(limit):
    return None if limit == "project" else STOCK.format(limit=limit)


def pair_run(limit, variant, count, pub_extra=(), timeout=600):
    """One run on a fresh broker with the in-flight `limit`; never raises for a failed run: a
    stock broker may drop messages (max_queued_messages 1000), and that is a result too."""
    d = pathlib.Path(tempfile.mkdtemp(prefix="mqtt-brokers-"))
    procs = []
    try:
        port = free_port()
        procs.append(start_broker(d, port, base=broker_config(limit)))
        flags = VARIANTS[variant]
        if flags is None:
            sub_cmd, pub_cmd, ready = commands("paho", port, count, 1, d)
        else:
            engine = flags if variant in ("libmosquitto", "-V 311") else []
            common = ["-p", str(port), "--progress-every", "0"]
            sub_cmd = [str(BIN / "mqtt_subscriber"), *common, *engine, "-C", str(count), "--idle-timeout",
                       "10", "--report", str(d / "sub.json")]
            pub_cmd = [str(BIN / "mqtt_publisher"), *common, *flags, *pub_extra, "-n", str(count),
                       "--report", str(d / "pub.json")]
            ready = "(ready)"
        sub, pub = start_pair(d, procs, variant, sub_cmd, pub_cmd, ready, time_sub=False)
        pub_status = pub.wait(timeout=timeout)
        sub_status = sub.wait(timeout=timeout)
        pub_cpu, _ = read_time(d / "pub.time")
        if flags is None:
            lines = (d / "sub.out").read_text().strip().splitlines()
            s = json.loads(lines[-1]) if lines else {"msgs_per_sec": 0, "received": 0}
            return {"rate": s["msgs_per_sec"], "unique": s["received"], "pub_cpu_us": pub_cpu / count * 1e6,
                    "ok": pub_status == 0 and sub_status == 0 and s["received"] == count}
        s = json.loads((d / "sub.json").read_text()) if (d / "sub.json").exists() else {}
        p = json.loads((d / "pub.json").read_text()) if (d / "pub.json").exists() else {}
        lag = p.get("schedule_lag") or {}
        return {"rate": s.get("msgs_per_sec", 0), "unique": s.get("unique", 0),
                "pub_cpu_us": pub_cpu / count * 1e6, "ok": pub_status == 0 and sub_status == 0,
                "window": p.get("final_window"), "p50": s.get("latency_us", {}).get("p50", 0) / 1000,
                "p99": s.get("latency_us", {}).get("p99", 0) / 1000,
                "achieved": lag.get("achieved_rate", 0), "lag_max": lag.get("max_ms", 0),
                "lag_p99": lag.get("p99_ms", 0), "pub_exit": pub_status, "sub_exit": sub_status}
    finally:
        stop_all(procs)
        shutil.rmtree(d, ignore_errors=True)


def brokers_mode(count, reps):
    """The publisher against brokers as installed: in-flight limits 10 (HiveMQ), 20 (stock
    Mosquitto), 32 (EMQX) and the project's config, for each variant, the same run each time."""
    print(f"\n{count:,} QoS 1 messages per run, median of {reps}; msg/s (publisher CPU µs per "
          f"message); a run that lost messages is marked ✗\n")
    print("| broker in-flight limit | " + " | ".join(VARIANTS) + " | default ÷ best of -V 311, libmosquitto |")
    print("|---|" + "---|" * (len(VARIANTS) + 1))
    for limit in BROKER_LIMITS:
        rows = {}
        for rep in range(reps):
            for v in VARIANTS:  # interleaved against drift
                r = pair_run(limit, v, count)
                rows.setdefault(v, []).append(r)
                print(f"limit {limit} rep {rep + 1} {v:16s} {r['rate']:9.0f} msg/s unique {r['unique']} "
                      f"pub cpu {r['pub_cpu_us']:.1f} µs/msg window {r.get('window')} ok {r['ok']}",
                      file=sys.stderr, flush=True)
        med = {v: statistics.median(r["rate"] for r in rs) for v, rs in rows.items()}
        cells = []
        for v, rs in rows.items():
            mark = "" if all(r["ok"] for r in rs) else " ✗"
            cells.append(f"{med[v]:,.0f} ({statistics.median(r['pub_cpu_us'] for r in rs):.1f}){mark}")
        best = max(med["-V 311"], med["libmosquitto"])
        print(f"| {limit} | " + " | ".join(cells) + f" | {med['default'] / best if best else 0:.2f}× |", flush=True)


# --sizes: payload sizes and the messages per run at each (fewer for the large ones, whose runs
# the broker's byte rate bounds).
SIZES = [("16", 200_000), ("150", 200_000), ("1k", 200_000), ("4k", 100_000), ("64k", 10_000),
         ("256k", 3_000)]


def size_flags(pair, size):
    """Random bodies of `size` bytes: beside MQTT 5 user properties at 16 B (the binary envelope
    needs ~49), in the binary envelope otherwise (libmosquitto over MQTT 3.1.1 there, as in the
    other tables)."""
    engine = ["--client", "libmosquitto"] if pair == "libmosquitto" else ["--client", "native"]
    if size == "16":
        return engine, ["--payload-format", "random", "--payload-size", size, "--envelope", "properties"]
    version = ["-V", "311"] if pair == "libmosquitto" else []
    return engine + version, ["--payload-format", "random", "--payload-size", size]


def size_run(pair, size, count):
    d = pathlib.Path(tempfile.mkdtemp(prefix="mqtt-sizes-"))
    procs = []
    try:
        port = free_port()
        procs.append(start_broker(d, port))
        engine, payload = size_flags(pair, size)
        common = ["-p", str(port), "--progress-every", "0", *engine]
        sub_cmd = [str(BIN / "mqtt_subscriber"), *common, "-C", str(count), "--idle-timeout", "20",
                   "--report", str(d / "sub.json")]
        pub_cmd = [str(BIN / "mqtt_publisher"), *common, *payload, "-n", str(count), "--report",
                   str(d / "pub.json")]
        sub, pub = start_pair(d, procs, pair, sub_cmd, pub_cmd, "(ready)")
        pub_status, sub_status = pub.wait(timeout=1800), sub.wait(timeout=1800)
        s = json.loads((d / "sub.json").read_text()) if (d / "sub.json").exists() else {}
        pub_cpu, _ = read_time(d / "pub.time")
        sub_cpu, _ = read_time(d / "sub.time")
        return {"rate": s.get("msgs_per_sec", 0), "ok": pub_status == 0 and sub_status == 0
                and s.get("unique") == count and s.get("corrupt", 1) == 0 and s.get("malformed", 1) == 0,
                "p50": s.get("latency_us", {}).get("p50", 0) / 1000,
                "p99": s.get("latency_us", {}).get("p99", 0) / 1000,
                "cpu_us": (pub_cpu + sub_cpu) / count * 1e6}
    finally:
        stop_all(procs)
        shutil.rmtree(d, ignore_errors=True)


def sizes_mode(reps):
    """Throughput, latency and client CPU per message by payload size, our pair against the same
    programs on libmosquitto, random bodies verified message by message, config/mosquitto.conf."""
    print(f"\nQoS 1, random bodies, median of {reps}; MB/s counts payload bytes; client CPU is "
          f"publisher + subscriber; ✗ marks a run that was not verified exactly\n")
    print("| payload | messages | pair | msg/s | MB/s | e2e p50 / p99 ms | client CPU µs/msg | ours ÷ libmosquitto |")
    print("|---|---:|---|---:|---:|---|---:|---:|")
    factor = {"k": 1024}
    for size, count in SIZES:
        nbytes = int(size[:-1]) * factor[size[-1]] if size[-1] in factor else int(size)
        rows = {}
        for rep in range(reps):
            for pair in ("native", "libmosquitto"):  # interleaved against drift
                r = size_run(pair, size, count)
                rows.setdefault(pair, []).append(r)
                print(f"size {size} rep {rep + 1} {pair:12s} {r['rate']:9.0f} msg/s p99 {r['p99']:.1f} ms "
                      f"cpu {r['cpu_us']:.1f} µs/msg ok {r['ok']}", file=sys.stderr, flush=True)
        med = {p: {k: statistics.median(r[k] for r in rs) for k in ("rate", "p50", "p99", "cpu_us")}
               for p, rs in rows.items()}
        for pair, m in med.items():
            mark = "" if all(r["ok"] for r in rows[pair]) else " ✗"
            ratio = m["rate"] / med["libmosquitto"]["rate"] if med["libmosquitto"]["rate"] else 0
            print(f"| {size} B | {count:,} | {pair}{mark} | {m['rate']:,.0f} | {m['rate'] * nbytes / 1e6:,.1f} | "
                  f"{m['p50']:.1f} / {m['p99']:.1f} | {m['cpu_us']:.1f} | "
                  f"{ratio:.2f}× |" if pair == "native" else
                  f"| {size} B | {count:,} | {pair}{mark} | {m['rate']:,.0f} | {m['rate'] * nbytes / 1e6:,.1f} | "
                  f"{m['p50']:.1f} / {m['p99']:.1f} | {m['cpu_us']:.1f} | |", flush=True)


# --transports: aedes (tests/interop; Debian's Mosquitto 2.0.11 has no WebSocket listener) serves
# MQTT over TCP, TLS, WebSocket and secure WebSocket from one process, so every transport meets
# the same broker. libmosquitto 2.0 has no WebSocket client: it runs TCP and TLS only.
TRANSPORT_PAIRS = [("native", "tcp"), ("native", "tls"), ("native", "ws"), ("native", "wss"),
                   ("libmosquitto", "tcp"), ("libmosquitto", "tls")]


def start_aedes(d):
    """aedes on four free loopback ports; returns (process, {transport: URL})."""
    ports = {t: free_port() for t in ("tcp", "tls", "ws", "wss")}
    cert = [str(CERTS / "server.crt"), str(CERTS / "server.key")]
    with open(d / "aedes.out", "w") as out:
        proc = subprocess.Popen(["node", str(ROOT / "tests" / "interop" / "aedes_broker.js"),
                                 str(ports["tcp"]), "--ws", str(ports["ws"]), "--wss", str(ports["wss"]),
                                 *cert, "--tls", str(ports["tls"]), *cert],
                                stdout=out, stderr=subprocess.STDOUT)
    if not wait_text(d / "aedes.out", "listening", 20):
        proc.kill()
        proc.wait()
        raise RuntimeError(f"aedes did not start: {(d / 'aedes.out').read_text()}")
    return proc, {"tcp": f"mqtt://127.0.0.1:{ports['tcp']}", "tls": f"mqtts://127.0.0.1:{ports['tls']}",
                  "ws": f"ws://127.0.0.1:{ports['ws']}/mqtt", "wss": f"wss://127.0.0.1:{ports['wss']}/mqtt"}


def transport_flags(pair, transport, urls):
    engine = ["--client", "libmosquitto", "-V", "311"] if pair == "libmosquitto" else ["--client", "native"]
    tls = ["--cafile", str(CERTS / "ca.crt")] if transport in ("tls", "wss") else []
    return ["-h", urls[transport], "--progress-every", "0", *engine, *tls]


def transport_run(pair, transport, count):
    d = pathlib.Path(tempfile.mkdtemp(prefix="mqtt-transports-"))
    procs = []
    try:
        broker, urls = start_aedes(d)
        procs.append(broker)
        flags = transport_flags(pair, transport, urls)
        sub_cmd = [str(BIN / "mqtt_subscriber"), *flags, "-C", str(count), "--idle-timeout", "20",
                   "--report", str(d / "sub.json")]
        pub_cmd = [str(BIN / "mqtt_publisher"), *flags, "-n", str(count), "--report", str(d / "pub.json")]
        sub, pub = start_pair(d, procs, f"{pair} {transport}", sub_cmd, pub_cmd, "(ready)")
        pub_status, sub_status = pub.wait(timeout=1800), sub.wait(timeout=1800)
        broker_cpu = cpu_seconds(broker.pid)
        s = json.loads((d / "sub.json").read_text()) if (d / "sub.json").exists() else {}
        pub_cpu, _ = read_time(d / "pub.time")
        sub_cpu, _ = read_time(d / "sub.time")
        return {"rate": s.get("msgs_per_sec", 0), "ok": pub_status == 0 and sub_status == 0
                and s.get("unique") == count and s.get("verified", False),
                "p50": s.get("latency_us", {}).get("p50", 0) / 1000,
                "p99": s.get("latency_us", {}).get("p99", 0) / 1000,
                "cpu_us": (pub_cpu + sub_cpu) / count * 1e6,
                "broker_pct": 100 * broker_cpu / max(s.get("elapsed_s", 0), 1e-9)}
    finally:
        stop_all(procs)
        shutil.rmtree(d, ignore_errors=True)


def fleet_memory(transport, devices):
    """The publisher's peak RSS with `devices` connections of their own over `transport`, less
    the same devices on one connection: what a connection costs, per connection."""
    rss = {}
    for layout in ("one", "per-device"):
        d = pathlib.Path(tempfile.mkdtemp(prefix="mqtt-fleet-mem-"))
        procs = []
        try:
            broker, urls = start_aedes(d)
            procs.append(broker)
            # aedes (Node.js) takes a few hundred TLS handshakes a second
            ramp = "400" if transport in ("tls", "wss") else "1000"
            connections = ["--connections", "per-device", "--connect-rate", ramp] if layout == "per-device" else []
            cmd = [str(BIN / "mqtt_publisher"), *transport_flags("native", transport, urls), "-d", str(devices),
                   "-n", str(2 * devices), "--rate", str(devices), *connections]
            with open(d / "pub.err", "w") as err:
                pub = subprocess.Popen(timed(cmd, d / "pub.time"), stdout=subprocess.DEVNULL, stderr=err)
            procs.append(pub)
            status = pub.wait(timeout=600)
            if status != 0:
                raise RuntimeError(f"{transport} fleet of {devices} failed (exit {status}): "
                                   f"{(d / 'pub.err').read_text()[-1000:]}")
            rss[layout] = read_time(d / "pub.time")[1]
        finally:
            stop_all(procs)
            shutil.rmtree(d, ignore_errors=True)
    return rss["one"], rss["per-device"], (rss["per-device"] - rss["one"]) * 1024 / devices


def transports_mode(count, reps, fleet_devices=5_000):
    """Throughput, end-to-end latency and client CPU per message over TCP, TLS, WS and WSS to
    the same broker (aedes), native and libmosquitto; then a WebSocket fleet's memory per
    connection against a TCP fleet's."""
    make_certificates()
    print(f"\n{count:,} messages per run at QoS 1, median of {reps}, one aedes per run serving all four "
          f"transports; client CPU is publisher + subscriber; ✗ marks a run that was not verified exactly\n")
    print("| transport | pair | msg/s | ÷ TCP (same pair) | e2e p50 / p99 ms | client CPU µs/msg | broker CPU % |")
    print("|---|---|---:|---:|---|---:|---:|")
    rows = {}
    for rep in range(reps):
        for pair, transport in TRANSPORT_PAIRS:  # interleaved against drift
            r = transport_run(pair, transport, count)
            rows.setdefault((pair, transport), []).append(r)
            print(f"rep {rep + 1} {pair:12s} {transport:4s} {r['rate']:9.0f} msg/s p99 {r['p99']:.1f} ms "
                  f"cpu {r['cpu_us']:.1f} µs/msg broker {r['broker_pct']:.0f}% ok {r['ok']}",
                  file=sys.stderr, flush=True)
    med = {k: {f: statistics.median(r[f] for r in rs) for f in ("rate", "p50", "p99", "cpu_us", "broker_pct")}
           for k, rs in rows.items()}
    for (pair, transport), m in med.items():
        mark = "" if all(r["ok"] for r in rows[(pair, transport)]) else " ✗"
        tcp = med[(pair, "tcp")]["rate"]
        print(f"| {transport} | {pair}{mark} | {m['rate']:,.0f} | {m['rate'] / tcp if tcp else 0:.2f} | "
              f"{m['p50']:.1f} / {m['p99']:.1f} | {m['cpu_us']:.1f} | {m['broker_pct']:.0f} |", flush=True)
    print(f"\nThe publisher's peak RSS with {fleet_devices:,} devices, each its own connection, against the "
          f"same devices on one connection\n")
    print("| transport | one connection MB | a connection per device MB | KB per connection |")
    print("|---|---:|---:|---:|")
    for transport in ("tcp", "tls", "ws", "wss"):
        one, each, per = fleet_memory(transport, fleet_devices)
        print(f"| {transport} | {one:.1f} | {each:.1f} | {per:.1f} |", flush=True)


PACED_RATES = [1_000, 10_000, 20_000, 40_000, 80_000]


def paced_mode(reps, seconds=5):
    """--rate R against what was achieved, with end-to-end latency and the publisher's schedule
    lag, on a stock Mosquitto (limit 20) and the project's config; native and libmosquitto pairs."""
    print(f"\n`--rate` requested against achieved, {seconds} s per run, median of {reps}\n")
    print("| broker | rate | pair | achieved msg/s (÷ rate) | e2e p50 ms | e2e p99 ms | schedule lag max / p99 ms | "
          "p50 ÷ libmosquitto | verdict |")
    print("|---|---|---|---|---|---|---|---|---|")
    for limit in (20, "project"):
        for rate in PACED_RATES:
            count = max(5_000, min(400_000, rate * seconds))
            rows = {}
            for rep in range(reps):
                for v in ("default", "libmosquitto"):
                    r = pair_run(limit, v, count, pub_extra=["--rate", str(rate)])
                    rows.setdefault(v, []).append(r)
                    print(f"limit {limit} rate {rate} rep {rep + 1} {v:12s} {r['rate']:9.0f} msg/s p50 "
                          f"{r['p50']:.2f} ms lag max {r['lag_max']:.1f} ms exits {r['pub_exit']}/{r['sub_exit']}",
                          file=sys.stderr, flush=True)
            lib_p50 = statistics.median(r["p50"] for r in rows["libmosquitto"])
            for v, rs in rows.items():
                med = lambda k: statistics.median(r[k] for r in rs)
                achieved = med("achieved") or med("rate")
                verdict = "ok" if all(r["ok"] for r in rs) else \
                    f"exit {rs[0]['pub_exit']}/{rs[0]['sub_exit']}"
                print(f"| {limit} | {rate:,} | {'native' if v == 'default' else v} | {achieved:,.0f} "
                      f"({achieved / rate:.2f}) | {med('p50'):.2f} | {med('p99'):.2f} | "
                      f"{med('lag_max'):.1f} / {med('lag_p99'):.1f} | "
                      f"{med('p50') / lib_p50 if lib_p50 else 0:.2f}× | {verdict} |", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--qos", default="1,0", help="comma-separated QoS levels")
    ap.add_argument("--pairs", default="native,libmosquitto,paho")
    ap.add_argument("--sub-args", default="", help="extra mqtt_subscriber flags, e.g. '--session clean'")
    ap.add_argument("--pub-args", default="", help="extra mqtt_publisher flags, e.g. '--window 1000'")
    ap.add_argument("--tls", action="store_true",
                    help="the cost of TLS: native and libmosquitto, each over plain TCP and TLS")
    ap.add_argument("--latency", action="store_true",
                    help="compare --window auto, 1000, 200 and 50 on loopback and through a 20 ms proxy")
    ap.add_argument("--cluster", action="store_true",
                    help="the reference run on one broker, through two bridged brokers, and to a "
                         "shared-subscription pair (merged by mqtt_report)")
    ap.add_argument("--brokers", action="store_true",
                    help="brokers as installed: in-flight limits 10, 20, 32 and the project's config, "
                         "for the default publisher, -w 1000, -V 311, libmosquitto, paho and --connections auto "
                         "(--count defaults to 200,000 here)")
    ap.add_argument("--paced", action="store_true",
                    help="--rate 1k to 80k: requested against achieved, latency and schedule lag, on a "
                         "stock Mosquitto and the project's config")
    ap.add_argument("--sizes", action="store_true",
                    help="payload sizes 16 B to 256 KB: msg/s, MB/s, latency and client CPU per "
                         "message, ours against libmosquitto")
    ap.add_argument("--transports", action="store_true",
                    help="TCP, TLS, WebSocket and secure WebSocket to one broker (aedes): msg/s, latency and "
                         "client CPU per message, native and libmosquitto, and a 5,000-device WebSocket "
                         "fleet's memory per connection (--count defaults to 200,000 here)")
    args = ap.parse_args()
    if args.transports:
        return transports_mode(args.count if args.count != 1_000_000 else 200_000, args.reps)
    if args.sizes:
        return sizes_mode(args.reps)
    if args.brokers:
        return brokers_mode(args.count if args.count != 1_000_000 else 200_000, args.reps)
    if args.paced:
        return paced_mode(args.reps)
    if args.cluster:
        return cluster_mode(args.count, args.reps)
    if args.latency:
        return latency_mode(args.count, args.reps)
    SUB_ARGS[:] = args.sub_args.split()
    PUB_ARGS[:] = args.pub_args.split()
    pairs = args.pairs.split(",")
    if args.tls:
        pairs = ["native", "native+tls", "libmosquitto", "libmosquitto+tls"]
    if any(p.endswith("+tls") for p in pairs):
        make_certificates()
    rows = {}
    for qos in [int(q) for q in args.qos.split(",")]:
        for rep in range(args.reps):
            for pair in pairs:  # interleaved, so drift on a shared machine hits every pair alike
                r = run_once(pair, args.count, qos)
                rows.setdefault((qos, pair), []).append(r)
                print(f"qos {qos} rep {rep + 1} {pair:12s} {r['rate']:9.0f} msg/s  received {r['received']}"
                      f"  cpu pub {r['pub_cpu']:.2f}s sub {r['sub_cpu']:.2f}s broker {r['broker_cpu']:.2f}s",
                      file=sys.stderr, flush=True)

    print(f"\n{args.count:,} messages per run, {args.reps} runs each, Mosquitto with config/mosquitto.conf\n")
    print(f"| QoS | pair | msg/s median (min-max) | received | CPU s pub / sub (median) | client CPU µs/msg | "
          f"broker CPU s (% of wall) | peak RSS MB pub / sub | ours ÷ this |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (qos, pair), rs in rows.items():
        med = lambda k: statistics.median(r[k] for r in rs)
        # TLS pairs compare with our engine over TLS, the others with ours over plain TCP.
        mine = "native+tls" if pair.endswith("+tls") else "native"
        ours = statistics.median(r["rate"] for r in rows.get((qos, mine), rs))
        rate = med("rate")
        us = (med("pub_cpu") + med("sub_cpu")) / args.count * 1e6
        print(f"| {qos} | {pair} | {rate:,.0f} ({min(r['rate'] for r in rs):,.0f}-{max(r['rate'] for r in rs):,.0f}) | "
              f"{min(r['received'] for r in rs):,} | {med('pub_cpu'):.2f} / {med('sub_cpu'):.2f} | {us:.1f} | "
              f"{med('broker_cpu'):.1f} ({100 * med('broker_cpu') / max(med('elapsed'), 1e-9):.0f}%) | "
              f"{max(r['pub_rss'] for r in rs):.1f} / {max(r['sub_rss'] for r in rs):.1f} | "
              f"{ours / rate if rate else 0:.2f}× |")


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(CERTS, ignore_errors=True)
