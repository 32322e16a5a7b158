#!/usr/bin/env bash
# scripts/check_layers passes on src/ and fails on a copy with one include against the table
# (telemetry/ including app/), naming the file; and fails on an empty folder (nothing checked).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT
"$root/scripts/check_layers" "$root/src" 2>/dev/null
cp -r "$root/src" "$copy/src"
echo '#include "app/console.hpp"' >> "$copy/src/telemetry/verdict.cpp"
if out=$("$root/scripts/check_layers" "$copy/src" 2>&1); then
    echo "a telemetry -> app include passed: $out" >&2
    exit 1
fi
grep -q "telemetry/verdict.cpp includes app/" <<<"$out" || { echo "unnamed: $out" >&2; exit 1; }
mkdir "$copy/empty"
if "$root/scripts/check_layers" "$copy/empty" 2>/dev/null; then
    echo "an empty folder passed" >&2
    exit 1
fi
echo "layer table: enforced" >&2
