#!/usr/bin/env python3
"""Retrains and re-evaluates rows of a committed comparison report, then says, cell by cell,
whether the new numbers are the committed ones.

    scripts/reproduce_rows.py Reports/fashion-mnist-binary.md                 # every model row
    scripts/reproduce_rows.py Reports/fashion-mnist-binary.md --row "DDPM (conv)" --row "DDPM (MLP)"
    scripts/reproduce_rows.py Reports/digits.md --row "VAE (20.0 s)" --dir /tmp/repro
    scripts/reproduce_rows.py Reports/fashion-mnist.md --print                 # only print the commands
    scripts/reproduce_rows.py Reports/fashion-mnist-binary.md --row "DDPM (conv)" --skip-training --threads 2

A report trained to a time budget stopped where that budget ran out on the machine that made it,
so the reproduction trains each run to the same number of steps instead (`--steps N`, N from the
report's "steps" column): training is deterministic given its seed, options and step count, so
the reproduced checkpoint is the committed one and its evaluation, with the report's own
`compare eval` command, must give the committed table to every printed digit. The baselines are
refitted too (seconds), since the report's checks compare every model with them.

Everything is read from the report itself: the "Runs" and "Baselines" tables name the checkpoints,
the "Reproduce" section holds the exact commands. New checkpoints go to DIR (default
Runs/reproduce; an existing checkpoint there is trained again from nothing), and DIR/report.md is the
report of the reproduced runs. Cells that measure wall-clock time (training time, evaluation time,
cores used, the budget), checkpoint paths and the differences from the best row (which depend on
the rows a report holds) are not compared. Rows run one after another, each
with the threads its command names (--threads N overrides them: the engine's numbers do not depend
on the thread count); to use more cores, start one invocation per row, each with a --dir of its
own. --skip-training evaluates and compares the checkpoints an earlier invocation trained in DIR
(an interrupted evaluation is simply run again). Exit status: 0 when every compared
cell is equal, 1 when one differs, 2 on bad input (a missing report, row or dataset).

Environment: COMPARE_BIN (default: the newer of .build/release/compare and .build/debug/compare).
"""

import argparse
import os
import re
import shlex
import signal
import subprocess
import sys

# Column headers (lower case) whose cells depend on the machine's speed or on where files live.
UNCOMPARED = re.compile(r"time|cores used|budget|checkpoint")


def fail(message, status=2):
    print(f"reproduce_rows: {message}", file=sys.stderr)
    sys.exit(status)


def compare_binary():
    if os.environ.get("COMPARE_BIN"):
        return os.environ["COMPARE_BIN"]
    candidates = [p for p in (".build/release/compare", ".build/debug/compare") if os.access(p, os.X_OK)]
    if not candidates:
        fail("no compare binary (run 'make build' or set COMPARE_BIN)")
    return max(candidates, key=os.path.getmtime)


def split_row(line):
    """The cells of one Markdown table line; escaped bars (\\|) stay inside their cell."""
    cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
    return [cell.strip() for cell in cells]


def tables(lines):
    """Every table of a report as (header cells, list of row cells), in order."""
    found, index = [], 0
    while index < len(lines):
        if lines[index].startswith("|") and index + 1 < len(lines) and re.match(r"^\|[-:| ]+\|$", lines[index + 1].strip()):
            header = split_row(lines[index])
            rows, index = [], index + 2
            while index < len(lines) and lines[index].startswith("|"):
                rows.append(split_row(lines[index]))
                index += 1
            found.append((header, rows))
        else:
            index += 1
    return found


def reproduce_commands(lines):
    """The shell commands of the report's "Reproduce" section, each as a word list."""
    try:
        start = lines.index("## Reproduce")
    except ValueError:
        return []
    commands, inside = [], False
    for line in lines[start + 1:]:
        if line.startswith("```"):
            if inside:
                break
            inside = True
            continue
        if inside and line.startswith("compare "):
            commands.append(shlex.split(line))
    return commands


def checkpoints_by_label(report_tables):
    """Row label → checkpoint path, from the "Runs" and "Baselines" tables."""
    result = {}
    for header, rows in report_tables:
        if len(header) > 1 and header[0] == "model" and header[1] == "checkpoint" or header[:2] == ["baseline", "checkpoint"]:
            for row in rows:
                result[row[0]] = row[1].strip("`")
    return result


def option_value(words, option):
    return words[words.index(option) + 1] if option in words[:-1] else None


def without_options(words, options_with_value, flags=()):
    result, index = [], 0
    while index < len(words):
        if words[index] in options_with_value:
            index += 2
        elif words[index] in flags:
            index += 1
        else:
            result.append(words[index])
            index += 1
    return result


def run(binary, words):
    print("+ compare " + " ".join(shlex.quote(word) for word in words), flush=True)
    if binary is None:
        return
    if subprocess.call([binary] + words) != 0:
        fail(f"'compare {words[0]}' failed (see its message above)", status=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", help="a committed report, e.g. Reports/digits.md")
    parser.add_argument("--row", action="append", default=[], help="a model row's label as the report prints it (repeatable; default: every model row)")
    parser.add_argument("--dir", default="Runs/reproduce", help="where the reproduced checkpoints and report go")
    parser.add_argument("--print", action="store_true", help="only print the commands it would run")
    parser.add_argument("--threads", type=int, help="threads for every training and evaluation (default: each command's own)")
    parser.add_argument("--skip-training", action="store_true", help="use the checkpoints already trained in DIR")
    arguments = parser.parse_args()

    try:
        with open(arguments.report, encoding="utf-8") as file:
            lines = file.read().split("\n")
    except OSError as error:
        fail(f"{arguments.report}: cannot read ({error.strerror})")
    report_tables = tables(lines)
    commands = reproduce_commands(lines)
    if not report_tables or not commands:
        fail(f"{arguments.report}: not a comparison report (no tables or no 'Reproduce' section)")
    checkpoints = checkpoints_by_label(report_tables)
    main_header, main_rows = next(((h, r) for h, r in report_tables if h and h[0] == "model" and "steps" in h), (None, None))
    if main_header is None:
        fail(f"{arguments.report}: no table with a 'steps' column")
    steps = {row[0]: row[main_header.index("steps")].replace(",", "") for row in main_rows}

    trains = {option_value(words, "--out"): words for words in commands if words[1] == "train"}
    evaluations = {words[2]: words for words in commands if words[1] == "eval"}
    baselines = [words for words in commands if words[1] == "baseline"]
    report_command = next((words for words in commands if words[1] == "report"), None)

    labels = arguments.row or [label for label in steps if label in checkpoints and checkpoints[label] in trains]
    for label in labels:
        if label not in steps or label not in checkpoints or checkpoints[label] not in trains:
            known = ", ".join(f"'{name}'" for name in steps if name in checkpoints and checkpoints[name] in trains)
            fail(f"{arguments.report}: no model row '{label}' with a training command (rows: {known})")
        if not steps[label].isdigit():
            fail(f"{arguments.report}: row '{label}' has no step count ('{steps[label]}')")
    for words in list(trains.values()) + baselines:
        dataset = option_value(words, "--dataset")
        if dataset and not os.path.exists(dataset) and not arguments.print:
            fail(f"{dataset}: the dataset is missing (import it with 'compare datasets import', see 'compare datasets list')")

    if arguments.threads is not None and arguments.threads < 1:
        fail(f"--threads must be at least 1, got {arguments.threads}")
    threads = ["--threads", str(arguments.threads)] if arguments.threads else []
    binary = None if arguments.print else compare_binary()
    if binary is not None:
        os.makedirs(arguments.dir, exist_ok=True)
    moved = lambda path: os.path.join(arguments.dir, os.path.basename(path))
    reproduced = []
    for label in labels:
        original = checkpoints[label]
        evaluation = evaluations.get(original)
        if evaluation is None:
            fail(f"{arguments.report}: no 'compare eval' command for {original}")
        if arguments.skip_training:
            if binary is not None and not os.path.exists(moved(original)):
                fail(f"{moved(original)}: no checkpoint to evaluate (--skip-training uses the ones an earlier run trained in {arguments.dir})")
        else:
            train = without_options(trains[original][1:], {"--time-budget", "--budget-clock", "--steps", "--out"} | ({"--threads"} if threads else set()),
                                    {"--overwrite", "--resume"})
            run(binary, train + ["--steps", steps[label], "--out", moved(original), "--overwrite"] + threads)
        run(binary, ["eval", moved(original)] + without_options(evaluation[3:], {"--threads"} if threads else set()) + threads)
        reproduced.append(moved(original))
    baseline_paths = []
    for words in baselines:
        out = option_value(words, "--out")
        run(binary, without_options(words[1:], {"--out"}, {"--overwrite"}) + ["--out", moved(out), "--overwrite"])
        baseline_paths.append(moved(out))
    title = option_value(report_command, "--title") if report_command else None
    new_report = os.path.join(arguments.dir, "report.md")
    run(binary, ["report"] + baseline_paths + reproduced + ["--out", new_report] + (["--title", title] if title else []))
    if binary is None:
        return

    # Compare the tables row by row, rows matched through their checkpoint's file name (a label can
    # change with the set of rows: "VAE (conv)" is "VAE" when it is the only VAE).
    with open(new_report, encoding="utf-8") as file:
        new_lines = file.read().split("\n")
    new_tables = tables(new_lines)
    new_checkpoints = checkpoints_by_label(new_tables)
    new_label = {os.path.basename(path): label for label, path in new_checkpoints.items()}
    compared, differences = 0, []
    for label in labels:
        twin = new_label.get(os.path.basename(checkpoints[label]))
        for header, rows in report_tables:
            if "n paired" in header:
                continue  # differences from the best row: they depend on which rows a report holds
            match = next((h_r for h_r in new_tables if h_r[0] == header), None)
            old_row = next((row for row in rows if row[0] == label), None)
            if match is None or old_row is None:
                continue
            new_row = next((row for row in match[1] if row[0] == twin), None)
            if new_row is None:
                differences.append((label, header[0], None, None))
                continue
            for column, name in enumerate(header[1:], start=1):
                if UNCOMPARED.search(name.lower()) or column >= len(old_row) or column >= len(new_row):
                    continue
                compared += 1
                if old_row[column] != new_row[column]:
                    differences.append((label, name, old_row[column], new_row[column]))
    for difference in differences:
        label, column, old, new = difference
        print(f"DIFFERS  {label}: missing from the reproduced report's table on '{column}'" if old is None
              else f"DIFFERS  {label} | {column}: committed {old!r}, reproduced {new!r}")
    print(f"{compared} cells compared in {len(labels)} row(s); {len(differences)} differ; the reproduced report is {new_report}")
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `… --print | head` ends quietly
    main()
