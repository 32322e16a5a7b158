#!/usr/bin/python3
"""Installs tests/interop's Node modules (aedes and what it needs) from the npm registry, exactly
the versions package-lock.json names, each tarball checked against the lock's sha512 integrity.

Why not `npm ci`: Debian 12's npm package brings some 400 packages (about 190 MB) for what is a
download and an unpack of some 50 tarballs; Node.js alone runs aedes. No module here has an install
script, so nothing beyond unpacking is needed (a module with one is refused, never half-installed).

Usage: fetch_modules.py DIR   (DIR holds package-lock.json; modules go to DIR/node_modules)
The registry is $NPM_CONFIG_REGISTRY or https://registry.npmjs.org.
"""
import base64
import hashlib
import io
import json
import os
import pathlib
import shutil
import sys
import tarfile
import urllib.request


def tarball_url(registry, name, version):
    base = name.split("/")[-1]  # @scope/name -> name
    return f"{registry}/{name}/-/{base}-{version}.tgz"


def fetch(url, integrity):
    algorithm, _, expected = integrity.partition("-")
    if algorithm != "sha512":
        sys.exit(f"fetch_modules: {url}: integrity {algorithm} is not sha512")
    with urllib.request.urlopen(url, timeout=60) as response:
        data = response.read()
    if base64.b64encode(hashlib.sha512(data).digest()).decode() != expected:
        sys.exit(f"fetch_modules: {url}: the download does not match package-lock.json")
    return data


def unpack(data, target):
    """Unpacks a package tarball into target, without its top folder (usually package/)."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            parts = pathlib.PurePosixPath(member.name).parts[1:]
            if not parts or ".." in parts or not (member.isfile() or member.isdir()):
                continue
            path = target.joinpath(*parts)
            if member.isdir():
                path.mkdir(parents=True, exist_ok=True)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(tar.extractfile(member).read())
            path.chmod(0o755 if member.mode & 0o111 else 0o644)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = pathlib.Path(sys.argv[1])
    lock = json.loads((root / "package-lock.json").read_text())
    registry = os.environ.get("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org").rstrip("/")
    modules = {path: entry for path, entry in lock["packages"].items() if path}
    if not modules:
        sys.exit("fetch_modules: package-lock.json names no module")
    staging = root / "node_modules.partial"
    shutil.rmtree(staging, ignore_errors=True)
    for path, entry in sorted(modules.items()):
        if entry.get("hasInstallScript"):
            sys.exit(f"fetch_modules: {path} has an install script; use npm ci")
        name = path.rsplit("node_modules/", 1)[1]
        data = fetch(tarball_url(registry, name, entry["version"]), entry["integrity"])
        unpack(data, staging / path.removeprefix("node_modules/"))
    # Whole or not at all: a failed run leaves no node_modules that looks installed.
    shutil.rmtree(root / "node_modules", ignore_errors=True)
    staging.rename(root / "node_modules")
    print(f"fetch_modules: {len(modules)} modules from {registry}", file=sys.stderr)


if __name__ == "__main__":
    main()
