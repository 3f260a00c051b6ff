#!/usr/bin/env python3
"""Interoperability checks between `compare` (Swift, HDF5 1.10) and h5py.

1. Files written by `compare` read correctly with h5py: dataset files of every maker, a
   digits import when its source is installed, and the example checkpoint. Shapes, dtypes,
   attributes and the checkpoint schema are checked, and log q(x0) of gmm2d, checkerboard and
   gaussian is recomputed here from the stored parameters (/density/*) and compared with the
   stored /train_log_density and /test_log_density to 1e-6 nats.
2. Files written by h5py with its default settings read correctly with `compare datasets info`;
   broken h5py files are rejected with one stderr line and a non-zero exit.
3. Exact baselines (`compare baseline`) on synthetic discrete, binary and float32-scaled data
   (and digits and Fashion-MNIST, 8-bit and binarized, when installed) agree with an independent numpy computation: the counts of /train
   exactly, the log-likelihood of every test example to 1e-6 nats (the largest difference is
   printed); their checkpoints follow the checkpoint schema; `compare eval` reproduces them.

Usage: interop_check.py --compare PATH_TO_COMPARE --work EMPTY_FOLDER
Prints one line per check and finally `interop: P passed, F failed`; exits 1 if F > 0.
"""
import argparse
import hashlib
import json
import math
import os
import shlex
import shutil
import subprocess
import sys

import h5py
import numpy as np

TOLERANCE = 1e-6
results = {"passed": 0, "failed": 0}


def check(name, condition, detail=""):
    if condition:
        results["passed"] += 1
        print(f"ok    {name}")
    else:
        results["failed"] += 1
        print(f"FAIL  {name} {detail}".rstrip())
    return condition


def run(compare, args, work):
    return subprocess.run(command(compare, args), cwd=work, capture_output=True, text=True)


def command(compare, args):
    """`compare ARGS`, or the test-fixture executable built beside it for `compare-fixtures ARGS`."""
    if args and args[0] == "compare-fixtures":
        return [os.path.join(os.path.dirname(compare), "compare-fixtures")] + args[1:]
    return [compare] + args


def text(value):
    """h5py returns variable-length strings as str and fixed-length ones as bytes."""
    return value.decode() if isinstance(value, bytes) else str(value)


# --- log q(x0) recomputed from the stored parameters -------------------------------------

def log_density_mixture(x, density):
    means = density["means"][()]                      # [K, 2]
    scales = density["standard_deviations"][()]       # [K]
    weights = density["weights"][()]                  # [K]
    squared = ((x[:, None, :] - means[None, :, :]) ** 2).sum(-1)          # [N, K]
    terms = np.log(weights) - np.log(2 * np.pi * scales ** 2) - squared / (2 * scales ** 2)
    top = terms.max(axis=1, keepdims=True)
    return (top + np.log(np.exp(terms - top).sum(axis=1, keepdims=True)))[:, 0]


def log_density_squares(x, density):
    squares = density["squares"][()]                  # [S, 4]: x_min, x_max, y_min, y_max
    area = float(density["total_area"][()])
    inside = np.zeros(len(x), dtype=bool)
    for x_min, x_max, y_min, y_max in squares:
        inside |= (x[:, 0] >= x_min) & (x[:, 0] <= x_max) & (x[:, 1] >= y_min) & (x[:, 1] <= y_max)
    return np.where(inside, -math.log(area), -np.inf)


def log_density_gaussian(x, density):
    mean = density["mean"][()]
    covariance = density["covariance"][()]
    dimension = len(mean)
    difference = x - mean
    solved = np.linalg.solve(covariance, difference.T).T
    sign, log_determinant = np.linalg.slogdet(covariance)
    quadratic = (difference * solved).sum(axis=1)
    return -0.5 * (dimension * math.log(2 * math.pi) + log_determinant + quadratic)


RECOMPUTE = {
    "gaussian-mixture": log_density_mixture,
    "uniform-on-squares": log_density_squares,
    "gaussian": log_density_gaussian,
}


# --- files written by compare --------------------------------------------------------------

def check_dataset_file(path, name, known_density, dimension, train, test, dtype="float32"):
    with h5py.File(path, "r") as f:
        attrs = f.attrs
        check(f"{name}: /train shape and dtype", f["train"].shape == (train, dimension) and f["train"].dtype == dtype,
              f"{f['train'].shape} {f['train'].dtype}")
        check(f"{name}: /test shape and dtype", f["test"].shape == (test, dimension) and f["test"].dtype == dtype,
              f"{f['test'].shape} {f['test'].dtype}")
        required = ["name", "likelihood", "shape", "source", "license", "format", "format_version"]
        check(f"{name}: root attributes {', '.join(required)}", all(key in attrs for key in required),
              str(sorted(attrs.keys())))
        check(f"{name}: name attribute", text(attrs["name"]) == name, text(attrs["name"]))
        check(f"{name}: shape attribute is per-example shape with product D",
              int(np.prod(attrs["shape"])) == dimension, str(attrs["shape"]))
        check(f"{name}: log-density stored exactly when known",
              ("train_log_density" in f and "test_log_density" in f) == known_density)
        if not known_density:
            return
        density = f["density"]
        family = text(density.attrs["family"])
        for split in ["train", "test"]:
            x = f[split][()].astype(np.float64)
            stored = f[f"{split}_log_density"][()]
            check(f"{name}: /{split}_log_density is float64 [N]", stored.dtype == np.float64 and stored.shape == (len(x),))
            recomputed = RECOMPUTE[family](x, density)
            difference = float(np.max(np.abs(recomputed - stored)))
            check(f"{name}: {split} log q(x0) recomputed from /density ({family}) within {TOLERANCE}",
                  np.all(np.isfinite(recomputed)) and difference <= TOLERANCE, f"max |difference| = {difference}")


def check_checkpoint(path, dataset_path):
    with h5py.File(path, "r") as f:
        attrs = f.attrs
        check("checkpoint: format attribute", text(attrs.get("format", "")) == "compare-checkpoint")
        check("checkpoint: format_version is the integer 1", int(attrs.get("format_version", -1)) == 1
              and np.issubdtype(np.asarray(attrs["format_version"]).dtype, np.integer))
        check("checkpoint: model, seed, step", text(attrs["model"]) == "example" and int(attrs["seed"]) == 7
              and int(attrs["step"]) == 3)
        try:
            config = json.loads(text(attrs["config"]))
            check("checkpoint: config is JSON", config == {"hidden": [3], "latent": 2}, str(config))
        except (ValueError, KeyError) as error:
            check("checkpoint: config is JSON", False, str(error))
        with open(dataset_path, "rb") as dataset:
            digest = hashlib.sha256(dataset.read()).hexdigest()
        check("checkpoint: dataset_hash is the SHA-256 of the dataset file", text(attrs["dataset_hash"]) == digest)
        check("checkpoint: dataset path", text(attrs["dataset"]) == os.path.basename(dataset_path), text(attrs["dataset"]))
        weight = f["parameters/encoder/layers/0/weight"]
        check("checkpoint: dotted key encoder.layers.0.weight is /parameters/encoder/layers/0/weight float32 [3, 2]",
              weight.shape == (3, 2) and weight.dtype == np.float32
              and np.array_equal(weight[()], np.arange(6, dtype=np.float32).reshape(3, 2) * 0.5))
        check("checkpoint: scalar parameter /parameters/decoder/scale", f["parameters/decoder/scale"].shape == ()
              and float(f["parameters/decoder/scale"][()]) == 2.5)
        first = f["optimizer/first_moment/encoder/layers/0/bias"][()]
        second = f["optimizer/second_moment/encoder/layers/0/bias"][()]
        check("checkpoint: Adam moments under the same keys", np.allclose(first, [-0.1, 0, 0.1])
              and np.allclose(second, [0.01, 0, 0.01]))
        check("checkpoint: /optimizer step attribute", int(f["optimizer"].attrs["step"]) == 7)
        generator = f["generator"]
        check("checkpoint: /generator is uint64 [4]", generator.dtype == np.uint64 and list(generator[()]) == [1, 2, 3, 4])
        history = f["history"]
        check("checkpoint: /history columns are float64 1-D of equal length",
              sorted(history.keys()) == ["loss", "step", "test_elbo"]
              and all(history[key].dtype == np.float64 and history[key].shape == (3,) for key in history))
        check("checkpoint: /evaluation arrays and attributes", list(f["evaluation/elbo"][()]) == [-1, -2, -3, -4]
              and int(f["evaluation"].attrs["samples"]) == 10)


# --- files written by h5py, read by compare -------------------------------------------------

def one_line_failure(result):
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    return result.returncode != 0 and result.returncode > 0 and len(lines) == 1


def check_h5py_files(compare, work):
    rng = np.random.default_rng(0)
    default_path = os.path.join(work, "from-h5py.h5")
    with h5py.File(default_path, "w") as f:
        f["train"] = rng.standard_normal((50, 3)).astype(np.float32)
        f["test"] = rng.standard_normal((20, 3)).astype(np.float32)
        f["train_log_density"] = rng.standard_normal(50)
        f["test_log_density"] = rng.standard_normal(20)
        f.attrs["name"] = "from-h5py"
        f.attrs["likelihood"] = "continuous"
        f.attrs["shape"] = [3]
        f.attrs["source"] = "scripts/interop_check.py"
        f.attrs["license"] = "CC0-1.0"
    result = run(compare, ["datasets", "info", default_path], work)
    check("h5py default file: compare datasets info succeeds", result.returncode == 0, result.stderr.strip())
    check("h5py default file: info shows splits, likelihood, known density",
          "50 × 3" in result.stdout and "20 × 3" in result.stdout and "continuous" in result.stdout
          and "yes" in result.stdout, result.stdout)

    images_path = os.path.join(work, "images-from-h5py.h5")
    with h5py.File(images_path, "w") as f:
        f.create_dataset("train", data=rng.integers(0, 17, (30, 64), dtype=np.uint8), compression="gzip", chunks=(10, 64))
        f["test"] = rng.integers(0, 17, (10, 64), dtype=np.uint8)
        f["train_labels"] = rng.integers(0, 10, 30)
        f["test_labels"] = rng.integers(0, 10, 10)
        f.attrs["name"] = np.bytes_("images")          # fixed-length string
        f.attrs["likelihood"] = np.bytes_("discrete")
        f.attrs["levels"] = np.int32(17)
        f.attrs["shape"] = np.array([8, 8], dtype=np.int32)
    result = run(compare, ["datasets", "info", images_path], work)
    check("h5py gzip uint8 file with fixed-length strings: info succeeds", result.returncode == 0
          and "30 × 64" in result.stdout and "17" in result.stdout and "uint8" in result.stdout,
          result.stderr.strip() or result.stdout)

    nan_path = os.path.join(work, "nan-from-h5py.h5")
    with h5py.File(nan_path, "w") as f:
        train = np.zeros((5, 2), dtype=np.float32)
        train[3, 1] = np.nan
        f["train"] = train
        f["test"] = np.zeros((2, 2), dtype=np.float32)
        f.attrs["likelihood"] = "continuous"
    result = run(compare, ["datasets", "info", nan_path], work)
    check("h5py file with NaN: one stderr line naming file and /train", one_line_failure(result)
          and "nan-from-h5py.h5" in result.stderr and "/train" in result.stderr and "NaN" in result.stderr,
          repr(result.stderr))

    latest_path = os.path.join(work, "latest-from-h5py.h5")
    with h5py.File(latest_path, "w", libver="latest") as f:
        f["train"] = np.zeros((5, 2), dtype=np.float32)
        f["test"] = np.zeros((2, 2), dtype=np.float32)
        f.attrs["likelihood"] = "continuous"
    result = run(compare, ["datasets", "info", latest_path], work)
    readable = result.returncode == 0
    check("h5py libver='latest' file: read, or refused with one line (HDF5 1.10 cannot read newer formats)",
          readable or one_line_failure(result), repr(result.stderr))
    print(f"      (libver='latest' from h5py {h5py.__version__} / HDF5 {h5py.version.hdf5_version}: "
          f"{'readable' if readable else 'refused: ' + result.stderr.strip()})")


def check_stored_commands(compare, work):
    """The command a checkpoint stores reruns the run: options given in any order and spelling
    (defaults repeated) are stored in canonical form, and that line, run again in a fresh folder,
    writes the same parameters bit for bit; so does the stored `compare eval` line."""
    first = os.path.join(work, "commands-first")
    os.makedirs(first, exist_ok=True)
    shutil.copy(os.path.join(work, "gmm2d-2d.h5"), os.path.join(first, "data.h5"))
    typed = ["train", "--out", "run.h5", "--hidden", "8,8", "--seed", "3", "--model", "ddpm", "--steps", "30",
             "--variance", "learned-range", "--batch-size", "32", "--dataset", "data.h5", "--loss", "hybrid",
             "--timesteps", "8", "--lr", "0.001", "--checkpoint-every", "0"]
    result = run(compare, typed, first)
    if not check("stored command: compare train with options in any order", result.returncode == 0, result.stderr.strip()):
        return
    with h5py.File(os.path.join(first, "run.h5"), "r") as f:
        stored = text(f.attrs["command"])
    words = shlex.split(stored)
    check("stored command: canonical (model first, defaults left out)",
          words[:5] == ["compare", "train", "--model", "ddpm", "--dataset"] and "--lr" not in words
          and words.index("--hidden") < words.index("--timesteps") < words.index("--out"), stored)
    result = run(compare, ["eval", "run.h5", "--samples", "1,4", "--examples", "20", "--elbo-draws", "2"], first)
    check("stored command: compare eval", result.returncode == 0, result.stderr.strip())
    with h5py.File(os.path.join(first, "run.h5"), "r") as f:
        evaluation_command = text(f["evaluation"].attrs["command"])
        parameters = {key: f["parameters"][key][()] for key in collect_datasets(f["parameters"])}
        elbo = f["evaluation/elbo"][()]
    second = os.path.join(work, "commands-second")
    os.makedirs(second, exist_ok=True)
    shutil.copy(os.path.join(work, "gmm2d-2d.h5"), os.path.join(second, "data.h5"))
    replay = [subprocess.run([compare] + shlex.split(line)[1:], cwd=second, capture_output=True, text=True)
              for line in (stored, evaluation_command)]
    if not check("stored command: the stored lines run again", all(r.returncode == 0 for r in replay),
                 "; ".join(r.stderr.strip() for r in replay)):
        return
    with h5py.File(os.path.join(second, "run.h5"), "r") as f:
        same_parameters = all(np.array_equal(f["parameters"][key][()], value) for key, value in parameters.items())
        same_elbo = np.array_equal(f["evaluation/elbo"][()], elbo)
    check("stored command: the replay writes the same parameters and evaluation bit for bit", same_parameters and same_elbo)


def baseline_levels(f):
    """The levels 0..L-1 of /train and /test of an h5py dataset file, as numpy would read them:
    uint8 as stored; float32 binary as 0/1; float32 discrete from the model's scale -1 + 2l/(L-1)."""
    likelihood = text(f.attrs["likelihood"])
    levels = 2 if likelihood == "binary" else int(f.attrs["levels"])
    result = []
    for split in ["train", "test"]:
        values = f[split][()]
        if values.dtype == np.uint8:
            result.append(values)                            # already levels (kept uint8: Fashion-MNIST is 47 M values)
        elif likelihood == "binary":
            result.append(values.astype(np.int64))
        else:
            result.append(np.rint((values.astype(np.float64) + 1) * (levels - 1) / 2).astype(np.int64))
    return levels, result[0], result[1]


def check_baselines(compare, work, extra_datasets):
    """`compare baseline` against an independent numpy computation: the counts of /train, the
    exact per-example log-likelihood of /test, to 1e-6 nats per example (the largest difference
    is printed); the checkpoint's schema; `compare eval` of a baseline reproduces its evaluation."""
    rng = np.random.default_rng(17)
    discrete_path = os.path.join(work, "levels5.h5")
    with h5py.File(discrete_path, "w") as f:
        # Skewed levels, so that some pixel never shows some level in training (smoothing matters).
        probabilities = np.array([0.55, 0.25, 0.12, 0.06, 0.02])
        f["train"] = rng.choice(5, size=(200, 12), p=probabilities).astype(np.uint8)
        f["test"] = rng.choice(5, size=(60, 12)).astype(np.uint8)
        f.attrs["name"] = "levels5"
        f.attrs["likelihood"] = "discrete"
        f.attrs["levels"] = 5
        f.attrs["shape"] = [3, 4]
    binary_path = os.path.join(work, "bits.h5")
    with h5py.File(binary_path, "w") as f:
        means = rng.uniform(0.02, 0.98, size=16)
        f["train"] = (rng.uniform(size=(300, 16)) < means).astype(np.float32)   # float32 0/1: another stored form
        f["test"] = (rng.uniform(size=(80, 16)) < means).astype(np.float32)
        f.attrs["name"] = "bits"
        f.attrs["likelihood"] = "binary"
        f.attrs["shape"] = [4, 4]
    scaled_path = os.path.join(work, "scaled.h5")
    with h5py.File(scaled_path, "w") as f:
        # float32 discrete data on the model's scale -1 + 2l/(L-1), L = 7.
        f["train"] = (rng.integers(0, 7, size=(120, 6)) / 6 * 2 - 1).astype(np.float32)
        f["test"] = (rng.integers(0, 7, size=(30, 6)) / 6 * 2 - 1).astype(np.float32)
        f.attrs["name"] = "scaled"
        f.attrs["likelihood"] = "discrete"
        f.attrs["levels"] = 7
        f.attrs["shape"] = [6]

    largest = 0.0
    cases = [(discrete_path, "pixel", None), (discrete_path, "pixel", 0.5), (discrete_path, "uniform", None),
             (binary_path, "pixel", None), (binary_path, "uniform", None), (scaled_path, "pixel", 2.0)]
    cases += [(path, "pixel", None) for path in extra_datasets]
    for index, (dataset, kind, alpha) in enumerate(cases):
        name = f"{os.path.basename(dataset)} --kind {kind}" + (f" --smoothing {alpha}" if alpha is not None else "")
        out = os.path.join(work, f"baseline-{index}.h5")
        args = ["baseline", "--dataset", dataset, "--kind", kind, "--out", out]
        if alpha is not None:
            args += ["--smoothing", str(alpha)]
        result = run(compare, args, work)
        if not check(f"baseline: compare baseline {name}", result.returncode == 0, result.stderr.strip()):
            continue
        with h5py.File(dataset, "r") as f:
            levels, train, test = baseline_levels(f)
        n, dimension = train.shape
        a = 1.0 if alpha is None else alpha
        with h5py.File(out, "r") as f:
            attrs = f.attrs
            config = json.loads(text(attrs["config"]))
            with open(dataset, "rb") as source:
                digest = hashlib.sha256(source.read()).hexdigest()
            check(f"baseline {name}: root attributes of a checkpoint (model baseline, seed 0, step 0, dataset_hash, command)",
                  text(attrs["format"]) == "compare-checkpoint" and int(attrs["format_version"]) == 1
                  and text(attrs["model"]) == "baseline" and int(attrs["seed"]) == 0 and int(attrs["step"]) == 0
                  and text(attrs["dataset_hash"]) == digest and text(attrs["command"]).startswith("compare baseline"),
                  str(dict(attrs)))
            check(f"baseline {name}: config", config == {"kind": kind, "levels": levels, "dimension": dimension,
                                                          "smoothing": a if kind == "pixel" else 0, "training_examples": n},
                  str(config))
            if kind == "pixel":
                counts = np.stack([np.bincount(train[:, d], minlength=levels) for d in range(dimension)])
                stored = f["parameters/counts"]
                check(f"baseline {name}: /parameters/counts float32 [D, L] equal the counts of /train",
                      stored.dtype == np.float32 and stored.shape == (dimension, levels)
                      and np.array_equal(stored[()].astype(np.int64), counts))
                log_p = np.log(counts + a) - np.log(n + a * levels)                   # [D, L]
                expected = log_p[np.arange(dimension)[None, :], test].sum(axis=1)       # [n_test]
            else:
                check(f"baseline {name}: no parameters", len(f["parameters"]) == 0)
                expected = np.full(len(test), -dimension * math.log(levels))
            evaluation = f["evaluation"]
            elbo = evaluation["elbo"][()]
            difference = float(np.max(np.abs(elbo - expected))) if elbo.shape == expected.shape else math.inf
            largest = max(largest, difference)
            check(f"baseline {name}: /evaluation/elbo = numpy's exact log p(x) per test example within {TOLERANCE}",
                  difference <= TOLERANCE, f"max |difference| = {difference}")
            check(f"baseline {name}: /evaluation is exact (iwae [1, n] = reconstruction = elbo, K = 1, layer_kl [0, n])",
                  np.array_equal(evaluation["iwae"][()], elbo[None, :]) and np.array_equal(evaluation["reconstruction"][()], elbo)
                  and list(evaluation["sample_counts"][()]) == [1] and evaluation["layer_kl"].shape == (0, len(elbo))
                  and int(evaluation.attrs["exact"]) == 1 and json.loads(text(evaluation.attrs["layer_names"])) == [])
        result = run(compare, ["eval", out, "--examples", "7"], work)
        if check(f"baseline {name}: compare eval --examples 7", result.returncode == 0, result.stderr.strip()):
            with h5py.File(out, "r") as f:
                check(f"baseline {name}: eval reproduces the first 7 values bit for bit",
                      np.array_equal(f["evaluation/elbo"][()], elbo[:7]), str(f["evaluation/elbo"][()]))
    print(f"      baselines: largest |numpy - compare| = {largest:.3g} nats per example")


def collect_datasets(group, prefix=""):
    """Paths of every dataset under an h5py group, relative to it."""
    paths = []
    for name, item in group.items():
        if isinstance(item, h5py.Dataset):
            paths.append(prefix + name)
        else:
            paths += collect_datasets(item, prefix + name + "/")
    return paths


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", required=True, help="path to the built compare executable")
    parser.add_argument("--work", required=True, help="an empty folder for the files")
    args = parser.parse_args()
    compare = os.path.abspath(args.compare)
    work = os.path.abspath(args.work)
    os.makedirs(work, exist_ok=True)
    print(f"h5py {h5py.__version__}, HDF5 {h5py.version.hdf5_version}, numpy {np.__version__}; compare: {compare}")

    makers = [
        ("gmm2d", True, 2, []),
        ("checkerboard", True, 2, []),
        ("gaussian", True, 2, []),
        ("gaussian", True, 4, ["--dimension", "4"]),
        ("two-moons", False, 2, []),
        ("swiss-roll", False, 2, []),
    ]
    for name, known, dimension, extra in makers:
        out = f"{name}-{dimension}d.h5"
        result = run(compare, ["datasets", "make", name, "--train", "2000", "--test", "500", "--seed", "4",
                               "--out", out] + extra, work)
        if check(f"compare datasets make {name} {' '.join(extra)}".rstrip(), result.returncode == 0, result.stderr.strip()):
            check_dataset_file(os.path.join(work, out), name, known, dimension, 2000, 500)

    digits_source = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"
    if os.path.exists(digits_source):
        result = run(compare, ["datasets", "import", "digits", "--out", "digits.h5"], work)
        if check("compare datasets import digits", result.returncode == 0, result.stderr.strip()):
            check_dataset_file(os.path.join(work, "digits.h5"), "digits", False, 64, 1497, 300, dtype="uint8")
            with h5py.File(os.path.join(work, "digits.h5"), "r") as f:
                rows = np.concatenate([f["train_source_rows"][()], f["test_source_rows"][()]])
                check("digits: levels 17, labels, split is a partition of the 1797 rows",
                      int(f.attrs["levels"]) == 17 and f["train_labels"].shape == (1497,)
                      and np.array_equal(np.sort(rows), np.arange(1797)))
    else:
        print("skip  digits import (apt-get install python3-sklearn)")

    dataset = os.path.join(work, "gmm2d-2d.h5")
    result = run(compare, ["compare-fixtures", "example-checkpoint", "--out", "run.h5", "--dataset", "gmm2d-2d.h5"], work)
    if check("compare-fixtures example-checkpoint", result.returncode == 0, result.stderr.strip()):
        check_checkpoint(os.path.join(work, "run.h5"), dataset)

    check_h5py_files(compare, work)
    check_stored_commands(compare, work)
    real = [os.path.join(work, "digits.h5")] if os.path.exists(os.path.join(work, "digits.h5")) else []
    if os.path.isdir("/usr/share/datasets/fashion-mnist"):
        for extra in [[], ["--binarize"]]:
            out = "fashion-mnist" + ("-binary" if extra else "") + ".h5"
            result = run(compare, ["datasets", "import", "fashion-mnist"] + extra + ["--out", out], work)
            if check(f"compare datasets import fashion-mnist {' '.join(extra)}".rstrip(), result.returncode == 0, result.stderr.strip()):
                real.append(os.path.join(work, out))
    else:
        print("skip  fashion-mnist baselines (apt-get install dataset-fashion-mnist)")
    check_baselines(compare, work, real)

    print(f"interop: {results['passed']} passed, {results['failed']} failed")
    sys.exit(1 if results["failed"] else 0)


if __name__ == "__main__":
    main()
