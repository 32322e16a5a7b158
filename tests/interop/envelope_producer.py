#!/usr/bin/python3
"""A third-party producer written from docs/reference.md alone ("The binary envelope",
"Protobuf, CBOR and MessagePack bodies" and the run summary) and the shipped reading.proto,
sharing no code with the project: it builds binary envelopes with Python's struct and zlib,
CBOR (RFC 8949) and MessagePack by hand, protobuf with protoc --encode, and publishes them with
mosquitto_pub, then the run summary.

  envelope_producer.py PORT RUN DEVICES PER_DEVICE [properties]

Device i (from 1) is "dev-i"; its readings cycle through a packed sensor reading (body kind 1),
an opaque body of i*7 bytes (kind 0), and the reading as protobuf (3), CBOR (4) and MessagePack
(5). With "properties", the same bodies travel bare beside MQTT 5 user properties ("The
envelope as user properties")."""
import json
import os
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


def cbor_head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for extra, fmt in ((24, ">B"), (25, ">H"), (26, ">I"), (27, ">Q")):
        if n < 1 << (8 * struct.calcsize(fmt)):
            return bytes([major << 5 | extra]) + struct.pack(fmt, n)
    raise ValueError(n)


def cbor(value):
    if isinstance(value, bool):
        return b"\xf5" if value else b"\xf4"
    if isinstance(value, int):
        return cbor_head(0, value)
    if isinstance(value, float):
        return b"\xfb" + struct.pack(">d", value)
    if isinstance(value, str):
        return cbor_head(3, len(value.encode())) + value.encode()
    return cbor_head(5, len(value)) + b"".join(cbor(k) + cbor(v) for k, v in value.items())


def msgpack(value):
    if isinstance(value, bool):
        return b"\xc3" if value else b"\xc2"
    if isinstance(value, int):
        return bytes([value]) if value < 128 else b"\xcf" + struct.pack(">Q", value)
    if isinstance(value, float):
        return b"\xcb" + struct.pack(">d", value)
    if isinstance(value, str):
        return bytes([0xA0 | len(value)]) + value.encode()
    return bytes([0x80 | len(value)]) + b"".join(msgpack(k) + msgpack(v) for k, v in value.items())


def protobuf(fields):
    proto = os.path.join(os.path.dirname(__file__), "..", "..", "src", "telemetry")
    text = "".join(f"{k}: {json.dumps(v) if isinstance(v, str) else str(v).lower()}\n"
                   for k, v in fields.items())
    return subprocess.run(["protoc", f"-I{proto}", "--encode=mqtt_telemetry.v1.Reading",
                           os.path.join(proto, "reading.proto")],
                          input=text.encode(), capture_output=True, check=True).stdout


def structured(kind, dev, seq, ts_us, i):
    reading = {"dev": dev, "seq": seq, "ts": ts_us, "temp": -5.25 + i, "hum": 40.5,
               "pres": 1001.25, "batt": 18.5, "batt_low": True}
    if kind == 3:
        return protobuf(reading)
    reading["fault"] = "stuck"
    return cbor(reading) if kind == 4 else msgpack(reading)


KIND_NAMES = ["opaque", "reading", "varying", "protobuf", "cbor", "msgpack"]


def user_properties(kind, run, dev, seq, ts_us, body):
    props = {"mt-v": "1", "mt-run": run, "mt-dev": dev, "mt-seq": str(seq), "mt-ts": str(ts_us),
             "mt-body": KIND_NAMES[kind],
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
            kind = [1, 0, 3, 4, 5][(seq + i) % 5]
            if kind == 1:
                body = packed_reading(-5.25 + i, 40.5, 1001.25, 88.0, 0, seq == 3)
            elif kind == 0:
                body = bytes((i * 31 + k) % 256 for k in range(i * 7))
            else:
                body = structured(kind, dev, seq, now_us, i)
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
