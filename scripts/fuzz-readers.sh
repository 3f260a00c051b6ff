#!/usr/bin/env bash
# Promise 5 of docs/guarantees.md: a bounded fuzz run of compare's file readers.
#
#   scripts/fuzz-readers.sh                    # uses $COMPARE_BIN, else the newest .build/{release,debug}/compare
#   FUZZ_MUTANTS=2000 FUZZ_SEED=5 scripts/fuzz-readers.sh
#
# Mutates valid dataset files and checkpoints with a fixed seed (bit flips, byte overwrites,
# truncations, splices, zeroed and duplicated runs) and reads each mutant with
# `compare datasets info`, `compare-fixtures read-checkpoint` and `compare eval`; every run
# must exit 0, or 1 with exactly one `Error: …` line, and none may die from a signal or hang.
# See scripts/fuzz_readers.py. Needs only python3 (standard library).
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/compare-binary.sh
binary="$(compare_binary)"
[ -n "$binary" ] && [ -x "$binary" ] || { echo "fuzz: no compare binary (build it or set COMPARE_BIN)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 scripts/fuzz_readers.py --compare "$binary" --work "$work" \
    --mutants "${FUZZ_MUTANTS:-400}" --seed "${FUZZ_SEED:-20240607}" --jobs "${FUZZ_JOBS:-2}" ${FUZZ_KEEP:+--keep "$FUZZ_KEEP"}
