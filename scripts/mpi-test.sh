#!/usr/bin/env bash
# The MPI transport under a real mpirun (docs/scaling.md): every collective of
# `compare-fixtures communicator-self-test` with 1, 2 and 4 processes, and a rank that aborts or
# is killed ends the whole job with a non-zero status instead of hanging the others.
#
#   COMPARE_BIN=.build/release/compare scripts/mpi-test.sh
#   MPIRUN_FLAGS="--mca btl self,tcp" scripts/mpi-test.sh   # extra mpirun flags, if a machine needs them
#
# Skips (exit 0) when mpirun is not installed: the build and every other test need no MPI.
# compare-fixtures must lie beside $COMPARE_BIN (default .build/release/compare).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v mpirun >/dev/null 2>&1; then
    echo "mpi-test: skipped: mpirun is not installed (Debian: apt-get install openmpi-bin libopenmpi-dev)"
    exit 0
fi
BIN="${COMPARE_BIN:-.build/release/compare}"
fixtures="$(dirname "$BIN")/compare-fixtures"
[ -x "$fixtures" ] || { echo "mpi-test: no $fixtures (build the compare-fixtures product)" >&2; exit 1; }

# --allow-run-as-root: Open MPI refuses root otherwise (containers, CI). --oversubscribe: more
# ranks than cores. Nothing else was needed in a Debian/Ubuntu container with Open MPI 4.1
# (shared memory through vader); set MPIRUN_FLAGS for a machine that needs more.
# shellcheck disable=SC2206
mpirun=(mpirun --allow-run-as-root ${MPIRUN_FLAGS:-})
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "mpi-test: FAIL: $*" >&2; failures=$((failures + 1)); }

# run NAME SECONDS ARGS...: runs mpirun ARGS under `timeout SECONDS`, leaving the status in
# $status, the output in $work/NAME.{out,err}, and printing how long it took.
run() {
    local name="$1" seconds="$2"
    shift 2
    local started ended
    started=$(date +%s%N)
    status=0
    timeout "$seconds" "${mpirun[@]}" "$@" >"$work/$name.out" 2>"$work/$name.err" || status=$?
    ended=$(date +%s%N)
    local milliseconds=$(((ended - started) / 1000000))
    printf 'mpi-test: %-10s exit %3d after %d.%03d s\n' "$name" "$status" $((milliseconds / 1000)) $((milliseconds % 1000))
}

success_line() { echo "communicator self-test: $1 process$([ "$1" = 1 ] || echo es), all collectives agree"; }

for np in 1 2 4; do
    run "np$np" 120 -np "$np" --oversubscribe "$fixtures" communicator-self-test
    if [ "$status" -ne 0 ]; then
        fail "-np $np exited $status"; cat "$work/np$np.err" >&2
    elif ! grep -qxF "$(success_line "$np")" "$work/np$np.out"; then
        fail "-np $np did not print '$(success_line "$np")'"; cat "$work/np$np.out" "$work/np$np.err" >&2
    fi
done

# A rank that aborts (bad input) before the first collective, while the other waits in it.
run fail-rank 60 -np 2 --oversubscribe "$fixtures" communicator-self-test --fail-rank 1
if [ "$status" -eq 0 ]; then fail "--fail-rank 1 exited 0"
elif [ "$status" -eq 124 ]; then fail "--fail-rank 1 hung (timed out after 60 s)"
fi
if ! grep -q '^Error: rank 1 of 2: bad input: ' "$work/fail-rank.err"; then
    fail "--fail-rank 1: no line 'Error: rank 1 of 2: bad input: …' on stderr"; cat "$work/fail-rank.err" >&2
fi

# A rank that dies (SIGKILL) while the others wait in a collective.
run kill-rank 60 -np 4 --oversubscribe "$fixtures" communicator-self-test --kill-rank 1
if [ "$status" -eq 0 ]; then fail "--kill-rank 1 exited 0"
elif [ "$status" -eq 124 ]; then fail "--kill-rank 1 hung (timed out after 60 s)"
fi

if [ "$failures" -ne 0 ]; then
    echo "mpi-test: $failures failure(s)" >&2
    exit 1
fi
echo "mpi-test: collectives agree with 1, 2 and 4 processes; a failed or killed rank ends the job"

# Training and evaluation under mpirun (the same bits as one process, resume on another process
# count, failures of compare itself) are scripts/mpi-runs-test.sh's.
