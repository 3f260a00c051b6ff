#!/usr/bin/env python3
"""Compares two compare checkpoints object by object with h5py (scripts/kill-resume-test.sh).

Every group, dataset (path, dtype, shape, exact bytes) and attribute (exact value) must match,
except the root attributes that measure time (`training_seconds`, `training_cpu_seconds`,
`monitoring_seconds`, `time_budget_seconds`: an interrupted and resumed run cannot reproduce
them) and `dataset_absolute` (where the dataset lay: the two runs train in two
folders). Prints each difference; exits 1 if there is any.

Usage: compare_checkpoints.py A.h5 B.h5 [--ignore OBJECT:ATTRIBUTE ...]

--ignore skips one more attribute, e.g. `/evaluation:seconds` when an evaluation made by several
processes (scripts/mpi-runs-test.sh) is compared with one process's: its wall-clock time and
process count are the only attributes allowed to differ.
"""
import sys

import h5py
import numpy as np

TIMINGS = ["training_seconds", "training_cpu_seconds", "monitoring_seconds", "time_budget_seconds"]
ALLOWED = {("/", name) for name in TIMINGS} | {("/", "dataset_absolute")}


def describe(path):
    """{object path: ("group"|dtype, shape, bytes)} and {(object path, attribute): value}."""
    objects, attributes = {}, {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            key = "/" + name if name else "/"
            if isinstance(obj, h5py.Dataset):
                data = obj[()]
                objects[key] = (str(obj.dtype), obj.shape, np.asarray(data).tobytes())
            else:
                objects[key] = ("group", None, None)
            for attribute, value in obj.attrs.items():
                if isinstance(value, bytes):
                    value = value.decode()
                if isinstance(value, np.ndarray):
                    value = (str(value.dtype), value.shape, value.tobytes())
                elif isinstance(value, np.generic):
                    value = (str(value.dtype), value.tobytes())
                attributes[(key, attribute)] = value
        visit("", f)
        f.visititems(visit)
    return objects, attributes


def main():
    arguments = sys.argv[1:]
    ignored = set(ALLOWED)
    while "--ignore" in arguments:
        index = arguments.index("--ignore")
        if index + 1 >= len(arguments) or ":" not in arguments[index + 1]:
            sys.exit("compare_checkpoints.py: --ignore needs OBJECT:ATTRIBUTE, e.g. /evaluation:seconds")
        obj, attribute = arguments[index + 1].rsplit(":", 1)
        ignored.add((obj, attribute))
        del arguments[index:index + 2]
    if len(arguments) != 2:
        sys.exit("usage: compare_checkpoints.py A.h5 B.h5 [--ignore OBJECT:ATTRIBUTE ...]")
    a, b = arguments
    objects_a, attributes_a = describe(a)
    objects_b, attributes_b = describe(b)
    differences = []
    for key in sorted(set(objects_a) | set(objects_b)):
        if key not in objects_a or key not in objects_b:
            differences.append(f"{key}: only in {a if key in objects_a else b}")
        elif objects_a[key] != objects_b[key]:
            kind_a, shape_a, _ = objects_a[key]
            kind_b, shape_b, _ = objects_b[key]
            differences.append(f"{key}: {kind_a} {shape_a} vs {kind_b} {shape_b}" +
                               (" (same type and shape, different values)" if (kind_a, shape_a) == (kind_b, shape_b) else ""))
    for key in sorted(set(attributes_a) | set(attributes_b)):
        if key in ignored:
            continue
        if key not in attributes_a or key not in attributes_b:
            differences.append(f"attribute {key[1]} of {key[0]}: only in {a if key in attributes_a else b}")
        elif attributes_a[key] != attributes_b[key]:
            differences.append(f"attribute {key[1]} of {key[0]}: {attributes_a[key]!r} vs {attributes_b[key]!r}")
    for line in differences:
        print(f"differs: {line}")
    compared = len(objects_a) + len(attributes_a)
    if differences:
        print(f"checkpoints differ in {len(differences)} places")
        sys.exit(1)
    print(f"checkpoints equal: {len(objects_a)} objects and {len(attributes_a)} attributes compared "
          f"(timings{' and ' + str(len(ignored) - len(ALLOWED)) + ' named attributes' if len(ignored) > len(ALLOWED) else ''} excepted)")


if __name__ == "__main__":
    main()
