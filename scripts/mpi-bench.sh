#!/usr/bin/env bash
# Data-parallel training on this machine: steps/s and examples/s on 1 and 2 processes, the bytes
# each process sends and receives per step, and the time it spends in the collectives
# (docs/scaling.md#measured). A benchmark, not a test: run it on an idle machine.
#
#   scripts/mpi-bench.sh [--steps-vae 300] [--steps-ddpm 12] [--out FILE.md]
#                        [--latency-us 20] [--bandwidths "1.25 12.5"]   # GB/s: 10 and 100 Gbit/s
#
# Workloads, on 8-bit Fashion-MNIST (imported into a temporary folder):
#   vae784     the MLP VAE of `compare bench`'s vae784 (784 → 512 → 512 → 2·32, and back), batch 128
#   ddpm-conv  the U-Net DDPM of Reports/fashion-mnist.md (base 16 channels, one residual block per
#              resolution, T = 1000, learned-range variance, hybrid loss), batch 64
# Each runs `compare train … --shards 2` three ways: one process with 1 thread, one process with
# 2 threads (the engine's own parallelism, for comparison), and `mpirun -np 2` with 1 thread per
# process. The rate is steps ÷ the run's training seconds (the optimizer steps only; no test-ELBO
# evaluations, checkpoints written only at the end). The communication figures are rank 0's, from
# the note `compare train` prints under mpirun: the wait at a barrier before each step's tree sum
# (for the other process to finish its shard) and the time in the collectives after it.
#
# Then, for the projection to more machines (docs/scaling.md#expected-speed-up), the step time of
# ONE process with one thread at the batch each of N processes would compute, B/N (one shard, so
# the optimizer's and the checks' per-step work, which every process repeats, is in it), alone on
# the machine. A step on N machines is modelled as that time plus log₂ N exchanges of the P-float
# gradient (the tree sum's recursive doubling), each costing latency + 4P / bandwidth, for the
# network bandwidths given (default 10 and 100 Gbit/s, 20 µs); P comes from the bytes counted in
# the 2-process run. Neither the network nor more than one machine is measured here: the model's
# inputs are, and the table says which is which.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
steps_vae=300
steps_ddpm=12
out=""
latency_us=20
bandwidths="1.25 12.5"
while [ $# -gt 0 ]; do
    case "$1" in
        --steps-vae) steps_vae="$2"; shift 2 ;;
        --steps-ddpm) steps_ddpm="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        --latency-us) latency_us="$2"; shift 2 ;;
        --bandwidths) bandwidths="$2"; shift 2 ;;
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

vae=(--model vae --architecture mlp --hidden 512,512 --latent 32)
ddpm=(--model ddpm --architecture conv --base-channels 16 --residual-blocks 1 --timesteps 1000 --variance learned-range
      --loss hybrid)

# measure NAME STEPS BATCH SHARDS COMMAND…: prints "steps/s|examples/s|waiting|collectives|KiB per
# step" of one training run.
measure() {
    local name="$1" steps="$2" batch="$3" shards="$4"; shift 4
    local log="$work/$name.txt"
    "$@" --dataset "$work/fm.h5" --steps "$steps" --batch-size "$batch" --shards "$shards" --evaluate-every 0 --evaluation-examples 2 --checkpoint-every 0 --log-every "$steps" \
        --out "$work/$name.h5" --overwrite >"$log" 2>&1 || { cat "$log" >&2; echo "mpi-bench: $name failed" >&2; exit 1; }
    local seconds
    seconds=$(sed -n 's/^wrote .* steps, test ELBO .* examples, \([0-9.]*\) s.*/\1/p' "$log")
    [ -n "$seconds" ] || { cat "$log" >&2; echo "mpi-bench: $name: no training time in its output" >&2; exit 1; }
    local waiting communication kib
    waiting=$(sed -n 's/^note: .* rank 0 waited \([0-9.]*\) s for the others.*/\1/p' "$log")
    communication=$(sed -n 's/^note: .* spent \([0-9.]*\) s in collectives.*/\1/p' "$log")
    kib=$(sed -n 's/^note: .* sent and received \([0-9.]*\) KiB per step.*/\1/p' "$log")
    awk -v n="$steps" -v s="$seconds" -v b="$batch" -v w="${waiting:-0}" -v c="${communication:-0}" -v k="${kib:-0}" \
        'BEGIN { printf "%.2f|%.1f|%.1f ms (%.1f %%)|%.1f ms (%.1f %%)|%s\n", n / s, n * b / s, 1000 * w / n, 100 * w / s, 1000 * c / n, 100 * c / s, (k == 0 ? "–" : k) }'
}

table="| workload | processes × threads | steps/s | examples/s | rank 0 waiting for the other, per step | rank 0 in collectives, per step | KiB sent + received per step |
|---|---|---:|---:|---:|---:|---:|"
for workload in vae784 ddpm-conv; do
    if [ "$workload" = vae784 ]; then args=("${vae[@]}"); steps=$steps_vae; batch=128; else args=("${ddpm[@]}"); steps=$steps_ddpm; batch=64; fi
    one=$(measure "$workload-1x1" "$steps" "$batch" 2 "$binary" train "${args[@]}" --threads 1)
    two=$(measure "$workload-1x2" "$steps" "$batch" 2 "$binary" train "${args[@]}" --threads 2)
    mpi=$(measure "$workload-2x1" "$steps" "$batch" 2 mpirun "${MPI_FLAGS[@]}" -np 2 "$binary" train "${args[@]}" --threads 1)
    table+=$'\n'"| $workload | 1 × 1 | ${one%%|*} | $(echo "$one" | cut -d'|' -f2) | – | – | – |"
    table+=$'\n'"| $workload | 1 × 2 | ${two%%|*} | $(echo "$two" | cut -d'|' -f2) | – | – | – |"
    table+=$'\n'"| $workload | 2 × 1 (mpirun) | ${mpi%%|*} | $(echo "$mpi" | cut -d'|' -f2-5 | sed 's/|/ | /g') |"
done
# Projection: step time of one process at the batch of each of N processes.
projection="| workload | N machines | examples per process | measured step at that batch (1 process, 1 thread) |"
for bandwidth in $bandwidths; do projection+=" speed-up at $bandwidth GB/s |"; done
projection+=$'\n'"|---|---:|---:|---:|"
for _ in $bandwidths; do projection+="---:|"; done
for workload in vae784 ddpm-conv; do
    if [ "$workload" = vae784 ]; then args=("${vae[@]}"); batch=128; steps=$((steps_vae / 3)); else args=("${ddpm[@]}"); batch=64; steps=$steps_ddpm; fi
    kib=$(sed -n 's/^note: .* sent and received \([0-9.]*\) KiB per step.*/\1/p' "$work/$workload-2x1.txt")
    # Two processes: one exchange of P floats each way, plus 2 + 1 losses.
    parameters=$(awk -v k="$kib" 'BEGIN { printf "%d", (k * 1024 / 4 - 3) / 2 }')
    base=""
    for processes in 1 2 8 64; do
        per=$((batch / processes))
        [ "$per" -ge 1 ] || continue
        row=$(measure "$workload-b$per" "$steps" "$per" 1 "$binary" train "${args[@]}" --threads 1)
        seconds_per_step=$(awk -v r="${row%%|*}" 'BEGIN { printf "%.6f", 1 / r }')
        [ -n "$base" ] || base=$seconds_per_step
        line="| $workload | $processes | $per | $(awk -v s="$seconds_per_step" 'BEGIN { printf "%.1f ms", 1000 * s }') |"
        for bandwidth in $bandwidths; do
            line+=$(awk -v s="$seconds_per_step" -v b="$base" -v n="$processes" -v p="$parameters" -v l="$latency_us" -v bw="$bandwidth" \
                'BEGIN { levels = log(n) / log(2); t = s + levels * (l * 1e-6 + 4 * p / (bw * 1e9)); printf " %.2f × |", b / t }')
        done
        projection+=$'\n'"$line"
    done
    projection+=$'\n'"| $workload | (P = $parameters parameters, $(awk -v p="$parameters" 'BEGIN { printf "%.1f MB", 4 * p / 1e6 }') per exchange) | | | |"
done

header="Command: \`scripts/mpi-bench.sh --steps-vae $steps_vae --steps-ddpm $steps_ddpm\` ($(date -u +%Y-%m-%d), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; $(mpirun --version 2>/dev/null | head -1))"
result="$header"$'\n\n'"$table"$'\n\n'"Projection (latency $latency_us µs per exchange; the step times measured, the network assumed):"$'\n\n'"$projection"
echo "$result"
[ -z "$out" ] || echo "$result" >"$out"
