#!/usr/bin/env bash
# Data-parallel training on this machine: steps/s and examples/s on 1 and 2 processes, the bytes
# each process sends and receives per step, and the time it spends in the collectives
# (docs/scaling.md#measured). A benchmark, not a test: run it on an idle machine.
#
#   scripts/mpi-bench.sh [--steps-vae 300] [--steps-ddpm 12] [--out FILE.md]
#
# Workloads, on 8-bit Fashion-MNIST (imported into a temporary folder):
#   vae784     the MLP VAE of `compare bench`'s vae784 (784 → 512 → 512 → 2·32, and back), batch 128
#   ddpm-conv  the U-Net DDPM of Reports/fashion-mnist.md (base 16 channels, one residual block per
#              resolution, T = 1000, learned-range variance, hybrid loss), batch 64
# Each runs `compare train … --shards 2` three ways: one process with 1 thread, one process with
# 2 threads (the engine's own parallelism, for comparison), and `mpirun -np 2` with 1 thread per
# process. The rate is steps ÷ the run's training seconds (the optimizer steps only; no test-ELBO
# evaluations, checkpoints written only at the end). The communication figures are rank 0's, from
# the note `compare train` prints under mpirun.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
steps_vae=300
steps_ddpm=12
out=""
while [ $# -gt 0 ]; do
    case "$1" in
        --steps-vae) steps_vae="$2"; shift 2 ;;
        --steps-ddpm) steps_ddpm="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        *) echo "mpi-bench: unknown option $1" >&2; exit 2 ;;
    esac
done
command -v mpirun >/dev/null 2>&1 || { echo "mpi-bench: no mpirun (apt-get install openmpi-bin libopenmpi-dev)" >&2; exit 1; }
source scripts/compare-binary.sh
binary="$(compare_binary)"
[ -n "$binary" ] && [ -x "$binary" ] || { echo "mpi-bench: no compare binary (build it or set COMPARE_BIN)" >&2; exit 1; }
source scripts/mpi-flags.sh

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$binary" datasets import fashion-mnist --out "$work/fm.h5" >/dev/null

vae=(--model vae --architecture mlp --hidden 512,512 --latent 32 --batch-size 128)
ddpm=(--model ddpm --architecture conv --base-channels 16 --residual-blocks 1 --timesteps 1000 --variance learned-range
      --loss hybrid --batch-size 64)

# Prints "steps/s|examples/s|communication s|KiB per step" of one training run.
measure() {
    local name="$1" steps="$2" batch="$3"; shift 3
    local log="$work/$name.txt"
    "$@" --dataset "$work/fm.h5" --steps "$steps" --shards 2 --evaluate-every 0 --evaluation-examples 2 --checkpoint-every 0 --log-every "$steps" \
        --out "$work/$name.h5" --overwrite >"$log" 2>&1 || { cat "$log" >&2; echo "mpi-bench: $name failed" >&2; exit 1; }
    local seconds
    seconds=$(sed -n 's/^wrote .* steps, test ELBO .* examples, \([0-9.]*\) s.*/\1/p' "$log")
    [ -n "$seconds" ] || { cat "$log" >&2; echo "mpi-bench: $name: no training time in its output" >&2; exit 1; }
    local communication kib
    communication=$(sed -n 's/^note: .* rank 0 spent \([0-9.]*\) s in collectives.*/\1/p' "$log")
    kib=$(sed -n 's/^note: .* sent and received \([0-9.]*\) KiB per step.*/\1/p' "$log")
    awk -v n="$steps" -v s="$seconds" -v b="$batch" -v c="${communication:-0}" -v k="${kib:-0}" \
        'BEGIN { printf "%.2f|%.1f|%.2f s (%.1f %%)|%s\n", n / s, n * b / s, c, 100 * c / s, (k == 0 ? "–" : k) }'
}

table="| workload | processes × threads | steps/s | examples/s | rank 0 in collectives | KiB sent + received per step |
|---|---|---:|---:|---:|---:|"
for workload in vae784 ddpm-conv; do
    if [ "$workload" = vae784 ]; then args=("${vae[@]}"); steps=$steps_vae; batch=128; else args=("${ddpm[@]}"); steps=$steps_ddpm; batch=64; fi
    one=$(measure "$workload-1x1" "$steps" "$batch" "$binary" train "${args[@]}" --threads 1)
    two=$(measure "$workload-1x2" "$steps" "$batch" "$binary" train "${args[@]}" --threads 2)
    mpi=$(measure "$workload-2x1" "$steps" "$batch" mpirun "${MPI_FLAGS[@]}" -np 2 "$binary" train "${args[@]}" --threads 1)
    table+=$'\n'"| $workload | 1 × 1 | ${one%%|*} | $(echo "$one" | cut -d'|' -f2) | – | – |"
    table+=$'\n'"| $workload | 1 × 2 | ${two%%|*} | $(echo "$two" | cut -d'|' -f2) | – | – |"
    table+=$'\n'"| $workload | 2 × 1 (mpirun) | ${mpi%%|*} | $(echo "$mpi" | cut -d'|' -f2) | $(echo "$mpi" | cut -d'|' -f3) | $(echo "$mpi" | cut -d'|' -f4) |"
done
header="Command: \`scripts/mpi-bench.sh --steps-vae $steps_vae --steps-ddpm $steps_ddpm\` ($(date -u +%Y-%m-%d), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; $(mpirun --version 2>/dev/null | head -1))"
result="$header"$'\n\n'"$table"
echo "$result"
[ -z "$out" ] || echo "$result" >"$out"
