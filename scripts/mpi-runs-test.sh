#!/usr/bin/env bash
# The promises of docs/scaling.md for `compare train` and `compare eval` under mpirun:
#
#   scripts/mpi-runs-test.sh        # uses $COMPARE_BIN, else the newest .build/{release,debug}/compare
#
# 1. Training with --shards 4 on 2 and 4 processes (4 oversubscribed on this 2-core machine)
#    writes the checkpoint of one process without mpirun, bit for bit, for the DDPM, the VAE and
#    the HVAE (scripts/compare_checkpoints.py: every group, dataset and attribute but the timings).
# 2. Resuming from 2 processes to 1 and back to 2 equals the straight run.
# 3. `compare eval --streams per-batch` on 2, 3 and 4 processes writes the /evaluation of one
#    process (only its wall-clock seconds and its process count may differ).
# 4. Failures end the job in bounded time with one line naming the rank: a bad input on rank 1
#    alone (mpirun's MPMD form gives rank 1 another --dataset), a bad option on every rank, a
#    sequential evaluation on 2 processes, and a rank killed with SIGKILL mid-run. The checkpoint
#    left behind is whole or absent, never half-written.
#
# Skips (exit 0, one line) when Open MPI's mpirun is not installed: `make deps` installs it.
# Uses the h5py virtual environment of scripts/interop.sh (.venv-interop), creating it if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

if ! command -v mpirun >/dev/null 2>&1; then
    echo "mpi-runs-test: SKIPPED: no mpirun (apt-get install openmpi-bin libopenmpi-dev, or make deps)"
    exit 0
fi

source scripts/interop-venv.sh
python="$(interop_python mpi-runs-test)" || exit 1

source scripts/compare-binary.sh
binary="$(compare_binary)"
[ -n "$binary" ] && [ -x "$binary" ] || { echo "mpi-runs-test: no compare binary (build it or set COMPARE_BIN)" >&2; exit 1; }

# As root, Open MPI wants --allow-run-as-root; more ranks than cores want --oversubscribe.
# scripts/mpi-flags.sh holds the flags this container needs (shared with scripts/mpi-test.sh).
source scripts/mpi-flags.sh
mpi=(mpirun "${MPI_FLAGS[@]}")

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
started=$(date +%s)
fail() { echo "mpi-runs-test: FAIL: $*" >&2; exit 1; }
same() { "$python" "$root/scripts/compare_checkpoints.py" "$@" >"$work/diff.txt" || { cat "$work/diff.txt" >&2; return 1; }; }

"$binary" datasets make gmm2d --train 512 --test 64 --out data.h5 >/dev/null
# Each way of running works in a folder of its own under the same file names: the command line
# is stored in the checkpoint and must be the same for the files to be equal.
for folder in one np2 np4 resumed eval1 eval2 eval3 eval4; do mkdir "$folder"; cp data.h5 "$folder/"; done

# --- 1. the same bits on 1, 2 and 4 processes ---
# Everything but --steps and --shards, which the cases below vary.
base=(--dataset data.h5 --batch-size 32 --hidden 16 --checkpoint-every 8 --evaluate-every 8 --evaluation-examples 32
      --log-every 4 --seed 5 --threads 1)
common=("${base[@]}" --steps 24 --shards 4)
for model in ddpm vae hvae; do
    extra=()
    [ "$model" = ddpm ] && extra=(--timesteps 20)
    (cd one && "$binary" train --model "$model" "${common[@]}" "${extra[@]}" --out "$model.h5" >/dev/null 2>&1) \
        || fail "$model: compare train --shards 4 failed"
    for processes in 2 4; do
        (cd "np$processes" && timeout 300 "${mpi[@]}" -np "$processes" "$binary" train --model "$model" "${common[@]}" "${extra[@]}" \
            --out "$model.h5" >"out-$model.txt" 2>&1) \
            || { cat "np$processes/out-$model.txt" >&2; fail "$model: mpirun -np $processes compare train failed"; }
        same "one/$model.h5" "np$processes/$model.h5" || fail "$model: -np $processes differs from one process"
    done
    echo "mpi-runs-test: $model: -np 2 and -np 4 (--shards 4) equal one process bit for bit"
done

# --- 2. resume on another process count: 2 → 1 → 2 ---
# The straight run to compare with is one/ddpm.h5; the stored command line is the last leg's. The
# legs end at steps 8 and 16, where the straight run also evaluates (--evaluate-every 8): a run
# evaluates at its last step, so legs ending elsewhere would add points to the test-ELBO log.
cd resumed
"${mpi[@]}" -np 2 "$binary" train --model ddpm "${base[@]}" --timesteps 20 --steps 8 --shards 4 --out ddpm.h5 >/dev/null 2>&1 \
    || fail "resume: the first leg on 2 processes failed"
"$binary" train --model ddpm "${base[@]}" --timesteps 20 --steps 16 --shards 4 --resume --out ddpm.h5 >/dev/null 2>&1 \
    || fail "resume: the second leg on 1 process failed"
"${mpi[@]}" -np 2 "$binary" train --model ddpm "${base[@]}" --timesteps 20 --steps 24 --shards 4 --resume --out ddpm.h5 >/dev/null 2>&1 \
    || fail "resume: the third leg on 2 processes failed"
cd ..
same one/ddpm.h5 resumed/ddpm.h5 --ignore /:command || fail "resume 2 → 1 → 2 processes differs from the straight run"
echo "mpi-runs-test: ddpm: resumed 2 → 1 → 2 processes equals the straight run"

# --- 3. sharded evaluation ---
eval_args=(--streams per-batch --samples 1,4,16 --examples 64 --batch-size 16 --seed 3 --threads 1 --sandwich 8)
cp one/vae.h5 eval1/run.h5
(cd eval1 && "$binary" eval run.h5 "${eval_args[@]}" >summary.txt 2>/dev/null) || fail "compare eval --streams per-batch failed"
for processes in 2 3 4; do
    cp one/vae.h5 "eval$processes/run.h5"
    (cd "eval$processes" && timeout 300 "${mpi[@]}" -np "$processes" "$binary" eval run.h5 "${eval_args[@]}" >summary.txt 2>err.txt) \
        || { cat "eval$processes/err.txt" >&2; fail "mpirun -np $processes compare eval failed"; }
    same eval1/run.h5 "eval$processes/run.h5" --ignore /evaluation:seconds --ignore /evaluation:processes \
        || fail "the /evaluation of -np $processes differs from one process's"
    # The summary is printed once, by rank 0, and says what one process says.
    diff eval1/summary.txt "eval$processes/summary.txt" >/dev/null \
        || { diff eval1/summary.txt "eval$processes/summary.txt" >&2; fail "-np $processes printed another summary than one process"; }
done
echo "mpi-runs-test: eval --streams per-batch: -np 2, 3 and 4 write one process's /evaluation and print its summary"

# --- 4. failures: one line naming the rank, in bounded time, nothing half-written ---
# Runs a failing job under `timeout`; sets $status and $elapsed, and the job's stderr in $1.
run_failing() {
    local log="$1"; shift
    local t0; t0=$(date +%s)
    set +e
    timeout 60 "$@" >/dev/null 2>"$log"
    status=$?
    set -e
    elapsed=$(( $(date +%s) - t0 ))
    [ "$status" -ne 124 ] || fail "$(head -c 300 "$log"): the job hung (killed by timeout after 60 s)"
    [ "$status" -ne 0 ] || fail "a failing job exited 0"
}
errors_of() { grep -c "^Error: " "$1" || true; }

# 4a. Bad input on rank 1 only: MPMD, rank 1's dataset does not exist.
run_failing bad-rank.txt "${mpi[@]}" -np 1 "$binary" train --model vae "${common[@]}" --out bad.h5 \
    : -np 1 "$binary" train --model vae "${common[@]/data.h5/missing.h5}" --out bad.h5
grep -q "^Error: rank 1 of 2: .*missing.h5" bad-rank.txt || { cat bad-rank.txt >&2; fail "bad input on rank 1: no line naming rank 1 and missing.h5"; }
[ "$(errors_of bad-rank.txt)" -eq 1 ] || { cat bad-rank.txt >&2; fail "bad input on rank 1: more than one Error line"; }
[ ! -e bad.h5 ] || "$binary" eval bad.h5 --examples 1 --samples 1 >/dev/null 2>&1 || fail "bad input on rank 1 left a broken bad.h5"
echo "mpi-runs-test: bad input on rank 1 ended the job in ${elapsed} s (exit $status): $(grep '^Error:' bad-rank.txt)"

# 4b. A bad option on every rank: told once.
run_failing bad-option.txt "${mpi[@]}" -np 2 "$binary" train --model vae "${base[@]}" --steps 24 --shards 1 --out option.h5
grep -q "^Error: rank 0 of 2: .*--shards 1" bad-option.txt || { cat bad-option.txt >&2; fail "a bad option on every rank: no line from rank 0 naming --shards"; }
[ "$(errors_of bad-option.txt)" -eq 1 ] || { cat bad-option.txt >&2; fail "a bad option on every rank was told more than once"; }
[ ! -e option.h5 ] || fail "a refused run left option.h5"
echo "mpi-runs-test: a bad option on every rank ended the job in ${elapsed} s (exit $status): $(grep '^Error:' bad-option.txt)"

# 4c. A sequential evaluation cannot be shared.
cp one/vae.h5 sequential.h5
run_failing sequential.txt "${mpi[@]}" -np 2 "$binary" eval sequential.h5 --examples 16 --samples 1
grep -q "^Error: rank 0 of 2: .*--streams per-batch" sequential.txt || { cat sequential.txt >&2; fail "a sequential eval on 2 processes: no line naming --streams per-batch"; }
same one/vae.h5 sequential.h5 || fail "a refused evaluation changed the checkpoint"
echo "mpi-runs-test: a sequential eval on 2 processes was refused in ${elapsed} s"

# 4c'. A non-finite loss (a learning rate of 1e30): every rank sees it in the gathered losses,
# so it is told once, by rank 0, naming the step; the last good checkpoint stays whole.
run_failing nonfinite.txt "${mpi[@]}" -np 2 "$binary" train --model vae --dataset data.h5 --steps 50 --batch-size 16 --hidden 8 \
    --shards 2 --lr 1e30 --clip 0 --checkpoint-every 1 --evaluate-every 0 --threads 1 --out diverged.h5
grep -q "^Error: rank 0 of 2: .*not finite" nonfinite.txt || { cat nonfinite.txt >&2; fail "a non-finite loss: no line from rank 0 saying 'not finite'"; }
[ "$(errors_of nonfinite.txt)" -eq 1 ] || { cat nonfinite.txt >&2; fail "a non-finite loss was told more than once"; }
[ -e diverged.h5 ] && { "$python" -c "import h5py, sys; h5py.File(sys.argv[1], 'r')['parameters']" diverged.h5 \
    || fail "the diverged job's last checkpoint does not read"; }
echo "mpi-runs-test: a non-finite loss on 2 processes ended the job in ${elapsed} s: $(grep '^Error:' nonfinite.txt)"

# 4c''. A command line that does not parse, and a command that does not run as a job: told once.
run_failing parse.txt "${mpi[@]}" -np 2 "$binary" train --model vae --dataset data.h5 --steps many --out parse.h5
grep -q "^Error: rank 0 of 2: .*--steps" parse.txt || { cat parse.txt >&2; fail "a parse error on 2 processes: no line from rank 0 naming --steps"; }
[ "$(errors_of parse.txt)" -eq 1 ] || { cat parse.txt >&2; fail "a parse error on 2 processes was told more than once"; }
run_failing sample.txt "${mpi[@]}" -np 2 "$binary" sample one/vae.h5 --count 4 --out samples.h5
grep -q "^Error: rank 0 of 2: compare sample runs on one process" sample.txt || { cat sample.txt >&2; fail "compare sample under mpirun -np 2 was not refused"; }
[ "$(errors_of sample.txt)" -eq 1 ] || { cat sample.txt >&2; fail "the refusal of compare sample was told more than once"; }
[ ! -e samples.h5 ] || fail "a refused compare sample wrote samples.h5"
echo "mpi-runs-test: a parse error and a command that does not share its work (sample) were refused once on 2 processes"

# 4d. A rank killed mid-run: the job ends, the checkpoint stays whole.
long=(--model vae --dataset data.h5 --steps 200000 --batch-size 32 --shards 2 --hidden 16 --checkpoint-every 50
      --evaluate-every 0 --log-every 50 --seed 5 --threads 1 --out killed.h5)
t0=$(date +%s)
set +e
timeout 120 "${mpi[@]}" -np 2 "$binary" train "${long[@]}" >/dev/null 2>killed.txt &
job=$!
set -e
for _ in $(seq 1 100); do [ -e killed.h5 ] && break; sleep 0.2; done
[ -e killed.h5 ] || fail "the long run wrote no checkpoint within 20 s"
sleep 1
# Anchored at the binary: the unanchored pattern would match timeout's and mpirun's command lines too.
ranks=$(pgrep -f "^$binary train --model vae --dataset data.h5 --steps 200000" | sort -n)
victim=$(echo "$ranks" | tail -1)
[ -n "$victim" ] || fail "no rank process found to kill"
kill -9 "$victim"
set +e
wait "$job"
status=$?
set -e
elapsed=$(( $(date +%s) - t0 ))
[ "$status" -ne 124 ] || fail "a killed rank left the job hanging (timeout after 120 s)"
[ "$status" -ne 0 ] || fail "a job with a killed rank exited 0"
# The killed rank cannot speak for itself: mpirun names it and the signal.
grep -q "process rank [01] .* exited on signal 9" killed.txt || { cat killed.txt >&2; fail "a killed rank: mpirun's line naming the rank and signal 9 is missing"; }
"$binary" eval killed.h5 --examples 8 --samples 1 >/dev/null 2>&1 || fail "the checkpoint of the killed job is not whole"
ls ./*.tmp* >/dev/null 2>&1 && fail "a temporary file was left behind"
echo "mpi-runs-test: a rank killed mid-run ended the job (exit $status, ${elapsed} s from start; $(grep -o "process rank [01] .* exited on signal 9" killed.txt)); its checkpoint is whole"

# 5. SIGTERM to mpirun (which forwards it to every rank): every rank stops after the same step,
# rank 0 writes the checkpoint and says how to resume, and the job exits non-zero.
set +e
"${mpi[@]}" -np 2 "$binary" train "${long[@]/killed.h5/stopped.h5}" >/dev/null 2>stopped.txt &
job=$!
set -e
for _ in $(seq 1 100); do [ -e stopped.h5 ] && break; sleep 0.2; done
[ -e stopped.h5 ] || fail "the run to stop wrote no checkpoint within 20 s"
sleep 1
kill -TERM "$job"
set +e
timeout 60 tail --pid="$job" -f /dev/null
wait "$job"
status=$?
set -e
[ "$status" -ne 0 ] || fail "a job stopped by SIGTERM exited 0"
grep -q "^interrupted at step [0-9]*: checkpoint written to stopped.h5" stopped.txt || { cat stopped.txt >&2; fail "SIGTERM: no line from rank 0 saying where the checkpoint is"; }
[ "$(grep -c "^interrupted at step" stopped.txt)" -eq 1 ] || { cat stopped.txt >&2; fail "SIGTERM: told more than once"; }
step=$(sed -n 's/^interrupted at step \([0-9]*\):.*/\1/p' stopped.txt)
"$python" -c "import h5py, sys; f = h5py.File(sys.argv[1], 'r'); assert int(f.attrs['step']) == int(sys.argv[2]), (f.attrs['step'], sys.argv[2])" stopped.h5 "$step" \
    || fail "SIGTERM: the checkpoint is not the step rank 0 named"
echo "mpi-runs-test: SIGTERM stopped both ranks after step $step (exit $status); rank 0 wrote that checkpoint"

echo "mpi-runs-test: passed in $(( $(date +%s) - started )) s"
