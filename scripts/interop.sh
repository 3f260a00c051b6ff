#!/usr/bin/env bash
# Interoperability check between compare's HDF5 files and h5py (see scripts/interop_check.py).
#
#   scripts/interop.sh                 # uses $COMPARE_BIN, else the newest .build/{release,debug}/compare, else builds
#   COMPARE_BIN=path/to/compare scripts/interop.sh
#
# Creates (or reuses) the virtual environment .venv-interop with h5py and numpy from pip.
# Prints one line per check and `interop: P passed, F failed`; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/interop-venv.sh
python="$(interop_python interop)" || exit 1

source scripts/compare-binary.sh
binary="$(compare_binary)"
if [ -z "$binary" ]; then
    swift build --product compare
    binary=.build/debug/compare
fi
[ -x "$binary" ] || { echo "interop: $binary is not an executable" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$python" scripts/interop_check.py --compare "$binary" --work "$work"
