# Sourced by the MPI scripts (scripts/mpi-runs-test.sh, scripts/mpi-bench.sh): the mpirun flags
# this kind of machine needs, in the array MPI_FLAGS. --allow-run-as-root: Open MPI refuses root
# otherwise (containers, CI). --oversubscribe: more ranks than cores (4 ranks on 2 cores). Open
# MPI 4.1 on Debian needed nothing else here (shared memory through vader); MPIRUN_FLAGS adds
# more for a machine that does.
# shellcheck disable=SC2206
MPI_FLAGS=(--allow-run-as-root --oversubscribe ${MPIRUN_FLAGS:-})
