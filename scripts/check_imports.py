#!/usr/bin/env python3
"""Every module a target imports is a dependency it declares in Package.swift.

`swift build --explicit-target-dependency-import-check error` refuses an import of a package
target that is not among a target's dependencies at all, but lets through one that is reachable
only through another dependency. This check is stricter: each `import X` of a package target (or
of ArgumentParser) in Sources/T or Tests/T must name X in T's own `dependencies:` list. Exit status
0 when that holds, otherwise one line per undeclared import and status 1.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
package = open(os.path.join(ROOT, "Package.swift"), encoding="utf-8").read()

targets = {}
for match in re.finditer(r'\.(?:target|executableTarget|testTarget|systemLibrary)\(\s*name:\s*"([^"]+)"(.*?)\)\s*,\s*\n', package, re.S):
    name, rest = match.group(1), match.group(2)
    declared = set(re.findall(r'"([^"]+)"', rest.split("exclude:")[0]))
    if "ArgumentParser" in rest:
        declared.add("ArgumentParser")
    targets[name] = declared

known = set(targets) | {"ArgumentParser"}
problems = []
for name, declared in targets.items():
    for base in ("Sources", "Tests"):
        folder = os.path.join(ROOT, base, name)
        if not os.path.isdir(folder):
            continue
        for directory, _, files in os.walk(folder):
            for file in files:
                if not file.endswith(".swift"):
                    continue
                path = os.path.join(directory, file)
                for line_number, line in enumerate(open(path, encoding="utf-8"), 1):
                    imported = re.match(r"\s*(?:@\w+\s+)?import\s+(\w+)", line)
                    if imported and imported.group(1) in known and imported.group(1) not in declared and imported.group(1) != name:
                        problems.append(f"{os.path.relpath(path, ROOT)}:{line_number}: imports {imported.group(1)}, "
                                        f"which target {name} does not declare")
for problem in problems:
    print(problem)
print(f"check-imports: {len(targets)} targets, {len(problems)} undeclared import(s)")
sys.exit(1 if problems else 0)
