#!/usr/bin/python3
"""Checks deploy/kubernetes without a cluster: every overlay is rendered as kustomize would
(its resources, `replicas` and JSON 6902 `patches`; every patch must hit an existing target and
path), and then each rendered run must hold together:
  - every document has apiVersion, kind and metadata.name, and only kinds we mean to ship;
  - the shards are an Indexed Job with restartPolicy Never, backoffLimitPerIndex, and a
    podFailurePolicy that fails the index on exit 1 and 2 and ignores evictions;
  - SHARDS equals the Job's completions and parallelism, CONSUMERS the consumers' replicas;
  - every flag given to a program exists in that program's --help, and every $(VAR) in a
    command is defined for its container;
  - the dashboard ConfigMap holds dashboards/mqtt-telemetry.json exactly.
usage: deploy_manifests.py DEPLOY_DIR DASHBOARD_JSON PROGRAM_DIR
       deploy_manifests.py --pod DEPLOY_DIR KIND/NAME ROOT [VAR=VALUE...]   a pod's
           environment and shell command, for the simulated Job (IndexedJob.*)
"""
import copy
import json
import pathlib
import re
import subprocess
import sys

import yaml

KINDS = {"ConfigMap", "PersistentVolumeClaim", "StatefulSet", "Service", "Job", "PodMonitor"}
PROGRAMS = ("mqtt_publisher", "mqtt_subscriber", "mqtt_commander", "mqtt_report")
SET_BY_KUBERNETES = {"JOB_COMPLETION_INDEX"}
failures = []


def fail(where, what):
    failures.append(f"{where}: {what}")


def load_kustomization(folder):
    """The documents an overlay or base renders to, with replicas and patches applied."""
    k = yaml.safe_load((folder / "kustomization.yaml").read_text())
    docs = []
    for resource in k.get("resources", []):
        path = (folder / resource).resolve()
        if path.is_dir():
            docs += load_kustomization(path)
        elif path.is_file():
            docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
        else:
            fail(folder, f"resource {resource} does not exist")
    for r in k.get("replicas", []):
        hits = [d for d in docs if d["metadata"]["name"] == r["name"] and "replicas" in d["spec"]]
        if not hits:
            fail(folder, f"replicas names {r['name']}, which has no replicas")
        for d in hits:
            d["spec"]["replicas"] = r["count"]
    for p in k.get("patches", []):
        apply_patch(folder, docs, p)
    return docs


def apply_patch(folder, docs, patch):
    target = patch["target"]
    hits = [d for d in docs
            if re.fullmatch(target.get("kind", ".*"), d["kind"])
            and re.fullmatch(target.get("name", ".*"), d["metadata"]["name"])]
    if not hits:
        fail(folder, f"a patch targets {target}, which matches nothing")
    for d in hits:
        for op in yaml.safe_load(patch["patch"]):
            apply_op(folder, d, op)


def apply_op(folder, doc, op):
    *parents, last = op["path"].strip("/").split("/")
    node = doc
    try:
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if op["op"] == "replace":
            if isinstance(node, list):
                node[int(last)] = op["value"]
            elif last not in node:
                raise KeyError(last)
            else:
                node[last] = op["value"]
        elif op["op"] == "add" and last == "-":
            node.append(copy.deepcopy(op["value"]))
        elif op["op"] == "add":
            node[last] = op["value"]
        else:
            fail(folder, f"unsupported patch op {op['op']}")
    except (KeyError, IndexError, ValueError, TypeError):
        fail(folder, f"{doc['kind']}/{doc['metadata']['name']}: no path {op['path']}")


def named(docs, kind, name):
    hits = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return hits[0] if hits else None


def help_flags(program_dir, program, cache={}):
    if program not in cache:
        text = subprocess.run([str(program_dir / program), "--help"], capture_output=True,
                              text=True, check=True).stdout
        cache[program] = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", text))
    return cache[program]


def check_commands(where, container, env_names, program_dir):
    text = " ".join(container.get("command", []) + container.get("args", []))
    for var in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", text):
        if var not in env_names and var not in SET_BY_KUBERNETES:
            fail(where, f"$({var}) is not defined for container {container['name']}")
    invoked = 0
    for statement in re.split(r"[;&|]", text):
        words = statement.split()
        for i, word in enumerate(words):
            if word not in PROGRAMS:
                continue
            invoked += 1
            for flag in re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", " ".join(words[i + 1:])):
                if flag not in help_flags(program_dir, word):
                    fail(where, f"{word} has no {flag}")
    if invoked == 0:
        fail(where, f"container {container['name']} runs none of the programs")


def check_run(where, docs, dashboard, program_dir):
    for d in docs:
        for key in ("apiVersion", "kind"):
            if key not in d:
                fail(where, f"a document without {key}")
        if d.get("kind") not in KINDS:
            fail(where, f"unexpected kind {d.get('kind')}")
    config = named(docs, "ConfigMap", "telemetry-run")
    shards_job = named(docs, "Job", "telemetry-shards")
    consumers = named(docs, "StatefulSet", "telemetry-consumers")
    verdict = named(docs, "Job", "telemetry-verdict")
    if None in (config, shards_job, consumers, verdict):
        return fail(where, "telemetry-run, telemetry-shards, telemetry-consumers and "
                           "telemetry-verdict must all be there")
    values = config["data"]
    spec = shards_job["spec"]
    if spec.get("completionMode") != "Indexed":
        fail(where, "the shards are not an Indexed Job")
    if not (str(spec.get("completions")) == str(spec.get("parallelism")) == values["SHARDS"]):
        fail(where, f"SHARDS {values['SHARDS']}, completions {spec.get('completions')} and "
                    f"parallelism {spec.get('parallelism')} differ")
    if "backoffLimitPerIndex" not in spec:
        fail(where, "the shards have no backoffLimitPerIndex")
    if spec["template"]["spec"].get("restartPolicy") != "Never":
        fail(where, "the shards' restartPolicy is not Never (podFailurePolicy needs it)")
    rules = spec.get("podFailurePolicy", {}).get("rules", [])
    fail_codes = {c for r in rules if r["action"] == "FailIndex"
                  for c in r.get("onExitCodes", {}).get("values", [])}
    if fail_codes != {1, 2}:
        fail(where, f"exit statuses that fail an index are {sorted(fail_codes)}, not 1 and 2")
    if not any(r["action"] == "Ignore" and any(c["type"] == "DisruptionTarget"
                                               for c in r.get("onPodConditions", []))
               for r in rules):
        fail(where, "an eviction (DisruptionTarget) is not ignored")
    env = {e["name"]: e.get("value") for e in verdict["spec"]["template"]["spec"]["containers"][0]
           .get("env", [])}
    if str(env.get("CONSUMERS")) != str(consumers["spec"]["replicas"]):
        fail(where, f"CONSUMERS {env.get('CONSUMERS')} is not the consumers' replicas "
                    f"{consumers['spec']['replicas']}")
    for workload in (shards_job, consumers, verdict):
        for c in workload["spec"]["template"]["spec"]["containers"]:
            names = set(values) | {e["name"] for e in c.get("env", [])}
            check_commands(f"{where} {workload['metadata']['name']}", c, names, program_dir)
    for workload in (shards_job, consumers):
        for c in workload["spec"]["template"]["spec"]["containers"]:
            ports = {p["containerPort"] for p in c.get("ports", []) if p.get("name") == "metrics"}
            if ports != {int(values.get("METRICS_PORT", 0))}:
                fail(where, f"{workload['metadata']['name']}: port metrics {ports} is not "
                            f"METRICS_PORT {values.get('METRICS_PORT')}")
    board = named(docs, "ConfigMap", "telemetry-grafana-dashboard")
    if board is None or json.loads(board["data"]["mqtt-telemetry.json"]) != dashboard:
        fail(where, "the dashboard ConfigMap is not dashboards/mqtt-telemetry.json (regenerate "
                    "it: see deploy/kubernetes/README.md)")


def pod_command(deploy, workload, root, overrides):
    """What a pod of `workload` (KIND/NAME) in the base runs, as JSON: "env", its environment
    (its ConfigMap, its env, then `overrides`, VAR=VALUE: what Kubernetes would set, such as
    JOB_COMPLETION_INDEX or POD_NAME), and "command", its shell command with every $(VAR)
    replaced and its volumes' mount paths moved under `root`."""
    docs = load_kustomization(deploy / "base")
    kind, name = workload.split("/")
    doc = named(docs, kind, name)
    container = doc["spec"]["template"]["spec"]["containers"][0]
    values = dict(named(docs, "ConfigMap", "telemetry-run")["data"])
    values.update({e["name"]: e["value"] for e in container.get("env", []) if "value" in e})
    values.update(o.split("=", 1) for o in overrides)
    text = container["args"][-1]
    text = re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                  lambda m: values.get(m.group(1), m.group(0)), text)
    for mount in container.get("volumeMounts", []):
        text = text.replace(mount["mountPath"] + "/", f"{root}{mount['mountPath']}/")
        text = re.sub(re.escape(mount["mountPath"]) + r"(?=[;\s])", f"{root}{mount['mountPath']}", text)
    return json.dumps({"env": values, "command": text})


def main():
    if sys.argv[1] == "--pod":  # for the simulated Job (IndexedJob.*)
        print(pod_command(pathlib.Path(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5:]))
        return 0
    deploy, dashboard_file, program_dir = (pathlib.Path(a) for a in sys.argv[1:4])
    dashboard = json.loads(dashboard_file.read_text())
    folders = [deploy / "base"] + sorted(p for p in (deploy / "overlays").iterdir() if p.is_dir())
    for folder in folders:
        check_run(folder.name, load_kustomization(folder), dashboard, program_dir)
    if failures:
        print("\n".join(failures))
        return 1
    print(f"deploy: {len(folders)} renderings checked: {', '.join(f.name for f in folders)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
