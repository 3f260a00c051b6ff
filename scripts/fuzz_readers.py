#!/usr/bin/env python3
"""Bounded mutation fuzzing of compare's file readers (promise 5 of docs/guarantees.md).

Valid seed files (dataset files, checkpoints with and without /evaluation, and the checkpoints
of the two exact baselines of `compare baseline`) are mutated with a fixed seed — bit flips, byte overwrites, truncations, splices of byte runs from elsewhere in
the file or from another seed file, zeroed runs, duplicated runs — and each mutant is read by

  * `compare datasets info FILE`            (dataset mutants),
  * `compare-fixtures read-checkpoint FILE` (checkpoint mutants: every schema check, the model
                                             rebuilt from `config`, the stored evaluation parsed),
  * `compare eval FILE --samples 1,2 …`      (every 4th checkpoint mutant: the whole eval path).

Pass: no run dies from a signal or hangs, every run exits 0 or 1, and a failing run writes
exactly one line `Error: …` to stderr (progress lines of a run that got going are allowed
before it). Uses only the Python standard library.

Usage: fuzz_readers.py --compare BIN --work EMPTY_FOLDER [--mutants N] [--seed S] [--jobs J]
Prints a summary and `fuzz: N runs, C crashes` ; exits 1 on any crash or broken convention.
"""
import argparse
import gzip
import os
import random
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

PROGRESS = re.compile(r"^(train|eval) \S+: \d+/\d+ ")


def command(compare, args):
    """`compare ARGS`, or the test-fixture executable built beside it for `compare-fixtures ARGS`."""
    if args and args[0] == "compare-fixtures":
        return [os.path.join(os.path.dirname(compare), "compare-fixtures")] + args[1:]
    return [compare] + args


def run(compare, args, cwd, timeout=30):
    try:
        p = subprocess.run(command(compare, args), cwd=cwd, capture_output=True, text=True, timeout=timeout,
                           errors="replace")
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return "timeout", "", ""


def must(compare, args, cwd):
    code, out, err = run(compare, args, cwd)
    if code != 0:
        sys.exit(f"fuzz: setup failed: compare {' '.join(args)}: {err.strip()}")


def mutate(data, rng, donors):
    """One to four random mutations of `data` (bytes) → bytes."""
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice(["flip", "flip", "byte", "truncate", "splice", "zero", "duplicate", "flipmany"])
        n = len(b)
        if n == 0:
            break
        if kind == "flip":
            i = rng.randrange(n)
            b[i] ^= 1 << rng.randrange(8)
        elif kind == "flipmany":
            for _ in range(rng.randint(2, 32)):
                i = rng.randrange(n)
                b[i] ^= 1 << rng.randrange(8)
        elif kind == "byte":
            i = rng.randrange(n)
            b[i] = rng.choice([0x00, 0xFF, 0x7F, 0x80, rng.randrange(256)])
        elif kind == "truncate":
            del b[rng.randrange(n):]
        elif kind == "splice":
            donor = rng.choice(donors + [bytes(b)])
            length = rng.randint(1, 64)
            start = rng.randrange(max(1, len(donor) - length))
            chunk = donor[start:start + length]
            at = rng.randrange(n)
            b[at:at + len(chunk)] = chunk
        elif kind == "zero":
            at = rng.randrange(n)
            length = rng.randint(1, 256)
            b[at:at + length] = bytes(min(length, n - at))
        elif kind == "duplicate":
            at = rng.randrange(n)
            length = rng.randint(1, 64)
            b[at:at] = b[at:at + length]
    return bytes(b)


def verdict(code, err):
    """None if the run kept the convention, else what went wrong."""
    if code == "timeout":
        return "hung (timeout)"
    if code < 0:
        return f"died from signal {-code}"
    if code == 0:
        return None
    if code != 1:
        return f"exit status {code}"
    lines = [line for line in err.split("\n") if line.strip()]
    errors = [line for line in lines if line.startswith("Error: ")]
    others = [line for line in lines if not line.startswith("Error: ") and not PROGRESS.match(line)]
    if len(errors) != 1 or others or not lines or not lines[-1].startswith("Error: "):
        return f"stderr is not one error line: {err!r}"
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--compare", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--mutants", type=int, default=600)
    parser.add_argument("--seed", type=int, default=20240607)
    parser.add_argument("--jobs", type=int, default=max(1, min(4, os.cpu_count() or 1)))
    parser.add_argument("--keep", help="copy failing mutants into this folder")
    args = parser.parse_args()
    compare = os.path.abspath(args.compare)
    work = os.path.abspath(args.work)
    seeds = os.path.join(work, "seeds")
    os.makedirs(seeds, exist_ok=True)

    # Valid seed files.
    must(compare, ["datasets", "make", "gmm2d", "--train", "64", "--test", "16", "--out", "gmm2d.h5"], seeds)
    must(compare, ["datasets", "make", "gaussian", "--dimension", "3", "--train", "40", "--test", "8", "--out", "gaussian.h5"], seeds)
    must(compare, ["datasets", "make", "two-moons", "--train", "40", "--test", "8", "--out", "moons.h5"], seeds)
    common = ["--dataset", "gmm2d.h5", "--steps", "3", "--batch-size", "16", "--hidden", "8", "--log-every", "1"]
    must(compare, ["train", "--model", "vae"] + common + ["--out", "vae.h5"], seeds)
    must(compare, ["train", "--model", "hvae", "--latent-sizes", "2,2"] + common + ["--out", "hvae.h5"], seeds)
    must(compare, ["train", "--model", "ddpm", "--timesteps", "20"] + common + ["--out", "ddpm.h5"], seeds)
    must(compare, ["eval", "vae.h5", "--samples", "1,2", "--examples", "4", "--elbo-draws", "1"], seeds)
    # Exact baselines need discrete data: a digits-format CSV (1797 rows of 64 pixels 0..16 and a
    # label), imported as digits.h5.
    rows = [",".join([str((i * 3 + j * 5 + (i * j) % 7) % 17) for j in range(64)] + [str(i % 10)]) for i in range(1797)]
    with gzip.open(os.path.join(seeds, "digits.csv.gz"), "wt") as f:
        f.write("\n".join(rows))
    must(compare, ["datasets", "import", "digits", "--source", "digits.csv.gz", "--out", "digits.h5"], seeds)
    must(compare, ["baseline", "--dataset", "digits.h5", "--examples", "20", "--out", "baseline.h5"], seeds)
    must(compare, ["baseline", "--dataset", "digits.h5", "--kind", "uniform", "--examples", "20", "--out", "uniform.h5"], seeds)
    datasets = ["gmm2d.h5", "gaussian.h5", "moons.h5"]
    checkpoints = ["vae.h5", "hvae.h5", "ddpm.h5", "baseline.h5", "uniform.h5"]
    # The dataset each checkpoint's eval reads (copied beside the mutant).
    dataset_of = {"vae.h5": "gmm2d.h5", "hvae.h5": "gmm2d.h5", "ddpm.h5": "gmm2d.h5",
                  "baseline.h5": "digits.h5", "uniform.h5": "digits.h5"}
    contents = {name: open(os.path.join(seeds, name), "rb").read() for name in datasets + checkpoints}
    donors = list(contents.values())

    rng = random.Random(args.seed)
    cases = []
    for i in range(args.mutants):
        is_dataset = i % 2 == 0
        source = rng.choice(datasets if is_dataset else checkpoints)
        mutant = mutate(contents[source], rng, donors)
        folder = os.path.join(work, f"m{i:04d}")
        os.makedirs(folder)
        name = "mutant.h5"
        with open(os.path.join(folder, name), "wb") as f:
            f.write(mutant)
        if is_dataset:
            argv = ["datasets", "info", name]
        elif i % 8 == 1:
            shutil.copy(os.path.join(seeds, dataset_of[source]), os.path.join(folder, dataset_of[source]))
            argv = ["eval", name, "--samples", "1,2", "--examples", "4", "--elbo-draws", "1"]
        else:
            argv = ["compare-fixtures", "read-checkpoint", name]
        cases.append((i, source, folder, argv))

    started = time.time()

    def one(case):
        i, source, folder, argv = case
        began = time.time()
        code, out, err = run(compare, argv, folder)
        durations.append((time.time() - began, i, argv[1] if argv[0] == "datasets" else argv[0], err.strip()[:120]))
        return case, code, err

    durations = []

    failures = []
    counts = {"ok": 0, "refused": 0}
    by_command = {}
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for (i, source, folder, argv), code, err in pool.map(one, cases):
            command = " ".join(argv[:2]) if argv[0] == "datasets" else argv[0]
            by_command[command] = by_command.get(command, 0) + 1
            problem = verdict(code, err)
            if problem:
                failures.append((i, source, argv, problem))
                if args.keep:
                    os.makedirs(args.keep, exist_ok=True)
                    shutil.copy(os.path.join(folder, "mutant.h5"), os.path.join(args.keep, f"m{i:04d}-{source}"))
            else:
                counts["ok" if code == 0 else "refused"] += 1
            if not problem:
                shutil.rmtree(folder, ignore_errors=True)
    elapsed = time.time() - started
    if os.environ.get("FUZZ_SLOWEST"):
        for d in sorted(durations, reverse=True)[:int(os.environ["FUZZ_SLOWEST"])]:
            print(f"slow  {d[0]:.2f} s  mutant {d[1]} {d[2]}: {d[3]}")
    for i, source, argv, problem in failures:
        print(f"FAIL  mutant {i} of {source}: compare {' '.join(argv)}: {problem}")
    summary = ", ".join(f"{n} × {c}" for c, n in sorted(by_command.items()))
    print(f"fuzz: {len(cases)} runs ({summary}) in {elapsed:.1f} s: {counts['ok']} read fine, "
          f"{counts['refused']} refused with one line, {len(failures)} broke the convention")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
