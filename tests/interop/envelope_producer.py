#!/usr/bin/python3
"""A third-party producer written from docs/reference.md alone ("The binary envelope" and the
run summary), sharing no code with the project: it builds binary envelopes with Python's
struct and zlib and publishes them with mosquitto_pub, then the run summary.

  envelope_producer.py PORT RUN DEVICES PER_DEVICE [properties]

Device i (from 1) is "dev-i"; its readings alternate between a packed sensor reading (body
kind 1) and an opaque body of i*7 bytes (kind 0). With "properties", the same bodies travel
bare beside MQTT 5 user properties ("The envelope as user properties")."""
import json
import struct
import subprocess
import sys
import tempfile
import time
import zlib


def envelope(kind, run, dev, seq, ts_us, body):
    run, dev = run.encode(), dev.encode()
    length = 30 + len(run) + len(dev) + len(body)
    head = b"MT" + bytes([1, kind]) + struct.pack(">I", length)
    head += bytes([len(run)]) + run + bytes([len(dev)]) + dev
    head += struct.pack(">Q", seq) + struct.pack(">q", ts_us) + body
    return head + struct.pack(">I", zlib.crc32(head))


def packed_reading(temp_c, hum, pres, batt, fault=0, battery_low=False):
    return struct.pack(">iHIHBB", round(temp_c * 100), round(hum * 100), round(pres * 100),
                       round(batt * 100), fault, 1 if battery_low else 0)


def user_properties(kind, run, dev, seq, ts_us, body):
    props = {"mt-v": "1", "mt-run": run, "mt-dev": dev, "mt-seq": str(seq), "mt-ts": str(ts_us),
             "mt-body": "reading" if kind == 1 else "opaque",
             "mt-crc": f"{zlib.crc32(body):08x}"}
    args = ["-V", "5"]
    for key, value in props.items():
        args += ["-D", "publish", "user-property", key, value]
    return args


def publish(port, topic, payload, extra=()):
    with tempfile.NamedTemporaryFile() as f:
        f.write(payload)
        f.flush()
        subprocess.run(["mosquitto_pub", "-p", port, "-q", "1", "-t", topic, "-f", f.name,
                        *extra], check=True)


def main():
    port, run, devices, per_device = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    beside = sys.argv[5:] == ["properties"]
    for seq in range(1, per_device + 1):
        for i in range(1, devices + 1):
            dev = f"dev-{i}"
            now_us = time.time_ns() // 1000
            if seq % 2:
                body, kind = packed_reading(-5.25 + i, 40.5, 1001.25, 88.0, 0, seq == 3), 1
            else:
                body, kind = bytes((i * 31 + k) % 256 for k in range(i * 7)), 0
            topic = f"sensors/{dev}/telemetry"
            if beside:
                publish(port, topic, body, user_properties(kind, run, dev, seq, now_us, body))
            else:
                publish(port, topic, envelope(kind, run, dev, seq, now_us, body))
    summary = {"type": "run_summary", "v": 1, "run": run, "qos": 1,
               "published": devices * per_device, "confirmed": devices * per_device,
               "interrupted": False,
               "devices": [{"dev": f"dev-{i}", "count": per_device, "last_seq": per_device}
                           for i in range(1, devices + 1)]}
    publish(port, "telemetry/run-summary", json.dumps(summary).encode())


main()
