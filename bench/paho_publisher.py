#!/usr/bin/python3
"""Baseline publisher on Python paho-mqtt (Debian python3-paho-mqtt), as users would write it.

It holds back while 20 or more messages are unacknowledged: a plain loop of 1,000,000
publish() calls stalls for good at about 66,000 acknowledgements in paho 1.6.1.
Prints one JSON line with its figures.
"""
import json
import sys
import threading
import time

import paho.mqtt.client as mqtt

host, port, count, qos = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
WINDOW = 20

lock = threading.Condition()
state = {"unacked": 0, "confirmed": 0, "connected": False}


def on_connect(client, userdata, flags, rc):
    with lock:
        state["connected"] = rc == 0
        lock.notify_all()


def on_publish(client, userdata, mid):
    with lock:
        state["unacked"] -= 1
        state["confirmed"] += 1
        lock.notify_all()


client = mqtt.Client(client_id="paho-bench-pub", protocol=mqtt.MQTTv311)
client.on_connect = on_connect
client.on_publish = on_publish
client.max_inflight_messages_set(WINDOW)
client.max_queued_messages_set(0)
client.connect(host, port, keepalive=30)
client.loop_start()
with lock:
    lock.wait_for(lambda: state["connected"], timeout=10)

start = time.monotonic()
for seq in range(1, count + 1):
    payload = ('{"v":1,"run":"paho","dev":"paho-0001","seq":%d,"ts":%d,"temp":21.50,"hum":45.00,'
               '"pres":1013.25,"batt":99.00}' % (seq, int(time.time() * 1e6)))
    with lock:
        lock.wait_for(lambda: state["unacked"] < WINDOW)
        state["unacked"] += 1
    client.publish("sensors/paho-0001/telemetry", payload, qos=qos)
with lock:
    lock.wait_for(lambda: state["unacked"] == 0, timeout=60)
elapsed = time.monotonic() - start
client.disconnect()
client.loop_stop()
print(json.dumps({"published": count, "confirmed": state["confirmed"], "elapsed_s": elapsed,
                  "msgs_per_sec": state["confirmed"] / elapsed if elapsed > 0 else 0}))
