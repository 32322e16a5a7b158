#!/usr/bin/python3
"""Checks the "What the tests pin" table of docs/testing.md: every test it names must exist.

Usage: doc_claims.py docs/testing.md TEST_BINARY... -- EXTRA_TEST_NAME...
Test names are gtest's Suite.Name (with a Prefix/ for parameterised ones); a trailing * matches
any suffix. EXTRA_TEST_NAME are CTest tests that are not GoogleTest ones.
"""
import fnmatch
import re
import subprocess
import sys


def listed_tests(binary):
    out = subprocess.run([binary, "--gtest_list_tests"], check=True, capture_output=True,
                         text=True).stdout
    suite, names = None, []
    for line in out.splitlines():
        if not line.startswith(" "):
            suite = line.split()[0]
        else:
            names.append(suite + line.split()[0])
    return names


def claimed_tests(page):
    text = open(page, encoding="utf-8").read()
    section = text.split("## What the tests pin", 1)[1].split("\n## ", 1)[0]
    rows = [r for r in section.splitlines() if r.startswith("| ") and not r.startswith("| claim")]
    if not rows:
        sys.exit(f"{page} has no claims table")
    claims = []
    for row in rows:
        claim, tests = row.strip("| ").split(" | ", 1)
        names = re.findall(r"`([A-Za-z0-9_/]+\.[A-Za-z0-9_*/]+)`", tests)
        if not names:
            sys.exit(f"claim without a test: {claim}")
        claims += [(claim, n) for n in names]
    return claims


def main():
    args = sys.argv[1:]
    extra = args[args.index("--") + 1:] if "--" in args else []
    binaries = args[1:args.index("--")] if "--" in args else args[1:]
    known = extra + [n for b in binaries for n in listed_tests(b)]
    missing = [(c, n) for c, n in claimed_tests(args[0]) if not fnmatch.filter(known, n)]
    for claim, name in missing:
        print(f"{args[0]} claims '{claim}', but no test {name} exists", file=sys.stderr)
    sys.exit(1 if missing else 0)


main()
