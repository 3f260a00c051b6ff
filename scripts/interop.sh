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

venv="${INTEROP_VENV:-.venv-interop}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" || { echo "interop: cannot create $venv (Debian: apt-get install python3-venv)" >&2; exit 1; }
fi
if ! "$venv/bin/python" -c "import h5py, numpy" 2>/dev/null; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check h5py numpy \
        || { echo "interop: pip could not install h5py and numpy into $venv" >&2; exit 1; }
fi

source scripts/compare-binary.sh
binary="$(compare_binary)"
if [ -z "$binary" ]; then
    swift build --product compare
    binary=.build/debug/compare
fi
[ -x "$binary" ] || { echo "interop: $binary is not an executable" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$venv/bin/python" scripts/interop_check.py --compare "$binary" --work "$work"
