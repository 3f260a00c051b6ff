#!/usr/bin/env python3
"""Checks that the repository's documentation points at things that exist.

1. The table "Where each formula lives" of docs/math.md: every file exists and every symbol in
   the row (the name before the first '(' or '.', after a leading type) occurs in that file.
2. Every `docs/NAME.md#anchor` link in Sources/, Tests/, docs/ and the README names a heading of
   that document.
3. Every path `Sources/…`, `Tests/…`, `scripts/…` or `docs/…` quoted in README.md or docs/*.md exists.
4. Nothing in README.md, docs, scripts, Sources or Tests points outside the repository (to the
   `shared` folder beside a developer's checkout, which a user's clone does not have).

Exit status 0 when all hold; otherwise one line per problem and status 1.
"""
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
problems = []


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as handle:
        return handle.read()


def anchor(heading):
    """GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to '-'."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


math = read("docs/math.md")
anchors = {anchor(h) for h in re.findall(r"^#+\s+(.*)$", math, flags=re.M)}

# 1. The formula -> file -> symbol table.
table = math.split("## Where each formula lives", 1)
if len(table) != 2:
    problems.append("docs/math.md: no section 'Where each formula lives'")
else:
    for line in table[1].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[1].startswith(("Sources/", "Tests/")):
            continue
        formula, path, symbols = cells
        if not os.path.isfile(os.path.join(ROOT, path)):
            problems.append(f"docs/math.md: '{formula}' points to {path}, which does not exist")
            continue
        source = read(path)
        for symbol in re.findall(r"`([^`]+)`", symbols):
            name = symbol.lstrip(".").split("(")[0]
            parts = [p for p in name.split(".") if p]
            if not parts:
                continue
            last = parts[-1]
            if not re.search(r"\b" + re.escape(last) + r"\b", source):
                problems.append(f"docs/math.md: '{formula}': `{symbol}` not found in {path}")

# 2. Links into docs/NAME.md#anchor from code, tests and docs: the file exists and has that heading.
doc_anchors = {}
for doc in glob.glob(os.path.join(ROOT, "docs/*.md")):
    doc_anchors[os.path.basename(doc)] = {anchor(h) for h in re.findall(r"^#+\s+(.*)$", read(os.path.relpath(doc, ROOT)), flags=re.M)}
for path in glob.glob(os.path.join(ROOT, "Sources/**/*.swift"), recursive=True) + glob.glob(os.path.join(ROOT, "Tests/**/*.swift"), recursive=True) \
        + glob.glob(os.path.join(ROOT, "docs/*.md")) + [os.path.join(ROOT, "README.md")]:
    text = open(path, encoding="utf-8").read()
    for prefix, name, target in re.findall(r"(docs/)?\b([a-z][\w\-]*\.md)#([\w\-]+)", text):
        if name not in doc_anchors:
            if prefix:
                problems.append(f"{os.path.relpath(path, ROOT)}: link to docs/{name}#{target}, but docs/{name} does not exist")
            continue  # a link into another repository's document, or a report
        if target not in doc_anchors[name]:
            problems.append(f"{os.path.relpath(path, ROOT)}: link to docs/{name}#{target}, which is no heading")

# 3. Paths quoted in the README and the docs.
for path in [os.path.join(ROOT, "README.md")] + glob.glob(os.path.join(ROOT, "docs/*.md")):
    text = open(path, encoding="utf-8").read()
    for quoted in re.findall(r"`((?:Sources|Tests|scripts|docs)/[^`\s:]+)`", text):
        if "*" in quoted or "…" in quoted:
            continue
        if not os.path.exists(os.path.join(ROOT, quoted.rstrip("/"))):
            problems.append(f"{os.path.relpath(path, ROOT)}: `{quoted}` does not exist")

# 4. Nothing outside the repository. (The pattern is built so that this file does not match it.)
OUTSIDE = "../" + "shared"
for folder in ["README.md", "docs", "scripts", "Sources", "Tests"]:
    for path in [os.path.join(ROOT, folder)] if folder.endswith(".md") else glob.glob(os.path.join(ROOT, folder, "**/*"), recursive=True):
        if os.path.isfile(path) and not path.endswith((".png", ".h5")):
            try:
                text = open(path, encoding="utf-8").read()
            except UnicodeDecodeError:
                continue
            if OUTSIDE in text:
                problems.append(f"{os.path.relpath(path, ROOT)}: points outside the repository ({OUTSIDE})")

for problem in problems:
    print(problem)
print(f"check-docs: {len(problems)} problem(s)")
sys.exit(1 if problems else 0)
