#!/usr/bin/python3
"""Checks the links between the project's Markdown pages: every relative link names a file
that exists and, with #anchor, a heading in it (GitHub's anchors), so a moved section cannot
leave a dangling link. Fails when it finds no link at all (a check of nothing is no check).

Usage: doc_links.py FILE.md...
"""
import pathlib
import re
import sys


def anchors(path):
    found, fence = set(), False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fence = not fence
        elif not fence and re.match(r"#{1,6} ", line):
            title = re.sub(r"^#+ ", "", line).strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return found


def main():
    pages = [pathlib.Path(p) for p in sys.argv[1:]]
    checked, bad = 0, []
    for page in pages:
        text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue  # http:, https:, mailto:
            file_part, _, anchor = target.partition("#")
            dest = (page.parent / file_part).resolve() if file_part else page.resolve()
            checked += 1
            if not dest.exists():
                bad.append(f"{page}: link to {target}: no such file")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                bad.append(f"{page}: link to {target}: no such heading")
    for line in bad:
        print(line, file=sys.stderr)
    if checked == 0:
        sys.exit("no links found: nothing was checked")
    sys.exit(1 if bad else 0)


main()
