#!/usr/bin/python3
"""Baseline subscriber on Python paho-mqtt: counts messages until COUNT arrived or 10 s pass
without one. Prints "ready" on stderr after its SUBACK, then one JSON line with its figures."""
import json
import sys
import time

import paho.mqtt.client as mqtt

host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
state = {"received": 0, "first": None, "last": None}


def on_connect(client, userdata, flags, rc):
    client.subscribe("sensors/+/telemetry", qos=1)


def on_subscribe(client, userdata, mid, granted):
    print("ready", file=sys.stderr, flush=True)


def on_message(client, userdata, msg):
    now = time.monotonic()
    if state["first"] is None:
        state["first"] = now
    state["last"] = now
    state["received"] += 1


client = mqtt.Client(client_id="paho-bench-sub", protocol=mqtt.MQTTv311)
client.on_connect = on_connect
client.on_subscribe = on_subscribe
client.on_message = on_message
client.connect(host, port, keepalive=30)
idle_since = time.monotonic()
seen = 0
while state["received"] < count:
    client.loop(timeout=0.1)
    if state["received"] != seen:
        seen, idle_since = state["received"], time.monotonic()
    elif time.monotonic() - idle_since > 10:
        break
client.disconnect()
elapsed = (state["last"] - state["first"]) if state["first"] is not None else 0.0
print(json.dumps({"received": state["received"], "elapsed_s": elapsed,
                  "msgs_per_sec": state["received"] / elapsed if elapsed > 0 else 0}))
