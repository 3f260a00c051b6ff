# Sourced by the script tests that read files with h5py (scripts/interop.sh,
# scripts/kill-resume-test.sh, scripts/mpi-runs-test.sh), from the repository root:
# `interop_python NAME` makes sure the virtual environment $INTEROP_VENV (default .venv-interop)
# exists with h5py and numpy from PyPI, and prints its python's absolute path; on failure it
# prints one line naming NAME (the calling test) and returns 1.
interop_python() {
    local name="$1" venv="${INTEROP_VENV:-.venv-interop}"
    if [ ! -x "$venv/bin/python" ]; then
        python3 -m venv "$venv" || { echo "$name: cannot create $venv (Debian: apt-get install python3-venv)" >&2; return 1; }
    fi
    if ! "$venv/bin/python" -c "import h5py, numpy" 2>/dev/null; then
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check h5py numpy \
            || { echo "$name: pip could not install h5py and numpy into $venv" >&2; return 1; }
    fi
    echo "$(cd "$venv" && pwd)/bin/python"
}
