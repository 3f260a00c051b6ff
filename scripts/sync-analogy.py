#!/usr/bin/env python3
"""Copies the tables, verdict and timing of each Reports/lesson-N.md into docs/analogy.md.

    python3 scripts/sync-analogy.py [--check]

docs/analogy.md quotes every lesson report between `<!-- BEGIN lesson-N -->` and
`<!-- END lesson-N -->`: the tables (and their italic dataset captions) that come before the
report's "What the numbers say", the verdict, and the report's time line. After a new
`compare lesson all`, this script rewrites those blocks from the reports, so the guide never
quotes a number no report holds. The prose around the blocks is the author's and must be read
again against the new numbers. With --check it only reports blocks that are out of date
(exit status 1), changing nothing.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "analogy.md"
# How many of a report's tables the guide quotes.
TABLES = {1: 1, 2: 2, 3: 2, 4: 2, 5: 2}


def block(lesson: int) -> str:
    report = (ROOT / "Reports" / f"lesson-{lesson}.md").read_text().splitlines()
    verdict = next(line for line in report if line.startswith("**Verdict"))
    # The report addresses its own reader ("below", "see "Checks""); the guide points to it.
    verdict = verdict.replace("checks below hold", "checks in the report hold")
    verdict = verdict.replace('see "Checks"', 'see the report\'s "Checks"')
    time = next(line for line in report if line.startswith("*Time:"))
    # The first TABLES[lesson] tables before "What the numbers say", each with the caption that
    # names its dataset ("**gmm2d** (D = 2, …):", quoted as "*gmm2d* (D = 2, …):").
    quoted, tables, caption, in_table = [], 0, None, False
    for line in report:
        if line.startswith("## What the numbers say") or (tables == TABLES[lesson] and not in_table):
            break
        if re.match(r"^\*\*[\w-]+\*\* \(.*:$", line):
            caption = re.sub(r"^\*\*([\w-]+)\*\* ", r"*\1* ", line)
        if line.startswith("|"):
            if not in_table:
                if quoted:
                    quoted.append("")
                if caption:
                    quoted += [caption, ""]
                    caption = None
            quoted.append(line)
        elif in_table:
            tables += 1
        in_table = line.startswith("|")
    lines = [f"<!-- BEGIN lesson-{lesson} -->",
             f"From [Reports/lesson-{lesson}.md](../Reports/lesson-{lesson}.md) (tables copied from the generated report):",
             "", *quoted, "", verdict, "", time, f"<!-- END lesson-{lesson} -->"]
    return "\n".join(lines)


def main() -> int:
    check = "--check" in sys.argv[1:]
    text = GUIDE.read_text()
    stale = []
    for lesson in range(1, 6):
        pattern = re.compile(rf"<!-- BEGIN lesson-{lesson} -->.*?<!-- END lesson-{lesson} -->", re.S)
        if not pattern.search(text):
            print(f"sync-analogy: {GUIDE}: no block for lesson {lesson}", file=sys.stderr)
            return 2
        new = block(lesson)
        if pattern.search(text).group(0) != new:
            stale.append(lesson)
            text = pattern.sub(lambda _: new, text)
    if check:
        if stale:
            print(f"sync-analogy: lessons {stale} are out of date in {GUIDE}", file=sys.stderr)
            return 1
        return 0
    GUIDE.write_text(text)
    print(f"sync-analogy: rewrote the blocks of lessons {stale}" if stale else "sync-analogy: every block is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
