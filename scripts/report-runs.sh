#!/usr/bin/env bash
# Regenerates one of the comparison reports trained at a matched time budget, from nothing:
# imports the dataset if missing, trains every model to the same budget, evaluates each on the
# same test examples, fits the exact baselines, and writes the report.
#
# Every model trains on one thread for each of BUDGETS of CPU time (`--threads 1 --budget-clock cpu`: the
# time it had a core to itself), LANES models at a time (default 2, one per core of this
# machine): all trainings first, then the evaluations, lane by lane. The logs go to
# RUNS/NAME-lane-K.log.
#
#   scripts/report-runs.sh fashion-mnist          # Reports/fashion-mnist.md (8-bit, 256 levels)
#   scripts/report-runs.sh fashion-mnist-binary   # Reports/fashion-mnist-binary.md (Bernoulli)
#   scripts/report-runs.sh fashion-mnist-ddpm     # Reports/fashion-mnist-ddpm.md (the U-Net DDPM at
#                                                 # T = 1000 and in continuous time, 8-bit)
#   scripts/report-runs.sh digits                 # Reports/digits.md (8×8, 17 levels, MLPs)
#   scripts/report-runs.sh fashion-mnist --print  # only print the commands
#
# Every step can be interrupted and the script run again: a checkpoint whose budget is spent
# trains no further ("nothing to do"), an interrupted one resumes from its last checkpoint, and
# a run is evaluated again only when its checkpoint is newer than its last evaluation.
# Environment: COMPARE_BIN (default: the newer of .build/release/compare and .build/debug/compare),
# BUDGETS (default "40m" for Fashion-MNIST — 20 minutes of both cores of this machine per model —
# and "20s 2m" for digits, whose 1,497 training images a VAE overfits long before the DDPM has
# converged: the report shows both), LANES (default 2), RUNS (default Runs). With several budgets,
# a run's checkpoint is RUNS/NAME-MODEL-BUDGET.h5.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/compare-binary.sh

name="${1:-}"
lanes="${LANES:-2}"
print_only=0
[ "${2:-}" = "--print" ] && print_only=1
runs="${RUNS:-Runs}"
binary="$(compare_binary)"
if [ "$print_only" = 0 ] && [ ! -x "$binary" ]; then
    echo "report-runs: no compare binary (run 'make build' or set COMPARE_BIN)" >&2
    exit 1
fi

# Models: "label|train options|evaluation options", one per line. The Fashion-MNIST reports share
# their batch, their networks and the U-Net DDPM of T = 1000 (options and evaluation).
fashion_common="--batch-size 64"
fashion_conv="--architecture conv --base-channels 16"
unet_ddpm="--model ddpm $fashion_conv --residual-blocks 1 --timesteps 1000 --variance learned-range --loss hybrid --checkpoint-every 200 --evaluate-every 500 --evaluation-examples 16|--samples 1,2,4 --elbo-draws 1"
case "$name" in
    fashion-mnist|fashion-mnist-binary)
        read -r -a budgets <<< "${BUDGETS:-40m}"
        if [ "$name" = fashion-mnist ]; then
            import=(datasets import fashion-mnist)
            title="Fashion-MNIST (28×28, 256 levels): VAE, hierarchical VAE and DDPM at one training budget"
        else
            import=(datasets import fashion-mnist --binarize)
            title="Binarized Fashion-MNIST (28×28, Bernoulli): VAE, hierarchical VAE and DDPM at one training budget"
        fi
        examples=256
        common="$fashion_common"
        conv="$fashion_conv"
        models=(
            "vae-conv|--model vae $conv --latent 32 --warmup 1000 --checkpoint-every 200 --evaluate-every 500|--samples 1,10,100,1000 --elbo-draws 10"
            "hvae-conv|--model hvae $conv --inference top-down --latent-sizes 4,4 --warmup 1000 --checkpoint-every 200 --evaluate-every 500|--samples 1,10,100,1000 --elbo-draws 10"
            "ddpm-conv|$unet_ddpm"
            "vae-mlp|--model vae --architecture mlp --hidden 512,512 --latent 32 --warmup 1000 --checkpoint-every 1000 --evaluate-every 2000|--samples 1,10,100,1000 --elbo-draws 10"
            "hvae-mlp|--model hvae --architecture mlp --inference top-down --hidden 512,512 --latent-sizes 32,16 --warmup 1000 --checkpoint-every 1000 --evaluate-every 2000|--samples 1,10,100,1000 --elbo-draws 10"
            "ddpm-mlp|--model ddpm --architecture mlp --hidden 1024,1024,1024 --timesteps 1000 --variance learned-range --loss hybrid --checkpoint-every 1000 --evaluate-every 2000 --evaluation-examples 16|--samples 1,10 --elbo-draws 1"
        )
        ;;
    fashion-mnist-ddpm)
        # The U-Net DDPM of the 8-bit report beside the same U-Net as T → ∞ (continuous-time ELBO,
        # learned log-SNR schedule, Fourier features of z_t at exponents 6 and 7 for 256 levels),
        # both at the flagship's budget. Its own report because the flagship's six trainings, this
        # one and two T = 1000 evaluations do not fit one 3-hour working session; this pair does
        # (1 h 42 min on both cores of an AMD EPYC). The continuous-time model is read at T = 1000, ELBO_∞ beside from
        # 100 draws of t per example (100 network passes, against its T = 1000 rows' 5,000).
        read -r -a budgets <<< "${BUDGETS:-40m}"
        dataset_name=fashion-mnist
        import=(datasets import fashion-mnist)
        title="Fashion-MNIST (28×28, 256 levels): the U-Net DDPM at T = 1000 and in continuous time, at one training budget"
        examples=256
        common="$fashion_common"
        conv="$fashion_conv"
        models=(
            "conv-t1000|$unet_ddpm"
            "conv-continuous|--model ddpm $conv --residual-blocks 1 --timesteps continuous --schedule learned --fourier-features auto --evaluation-timesteps 1000 --checkpoint-every 200 --evaluate-every 500 --evaluation-examples 16|--samples 1,2,4 --elbo-draws 1 --continuous-draws 100"
        )
        ;;
    digits)
        read -r -a budgets <<< "${BUDGETS:-20s 2m}"
        import=(datasets import digits)
        title="Digits (8×8, 17 levels): VAE, hierarchical VAE and DDPM at two matched training budgets"
        examples=300
        common="--batch-size 128"
        models=(
            "vae|--model vae --latent 16 --hidden 128,128 --warmup 1000|--samples 1,10,100,1000 --elbo-draws 10"
            "hvae|--model hvae --latent-sizes 16,8 --inference top-down --hidden 128,128 --warmup 1000|--samples 1,10,100,1000 --elbo-draws 10"
            "ddpm|--model ddpm --timesteps 100 --hidden 256,256,256 --variance learned-range --loss hybrid|--samples 1,10,100,1000 --elbo-draws 10"
            # The DDPM as T → ∞: continuous-time ELBO, learned log-SNR schedule, Fourier features
            # (exponents 2 and 3 for 17 levels); read at the DDPM's T = 100, ELBO_∞ beside.
            "ddpm-continuous|--model ddpm --timesteps continuous --schedule learned --fourier-features auto --evaluation-timesteps 100 --hidden 256,256,256|--samples 1,10,100,1000 --elbo-draws 10"
        )
        ;;
    *)
        echo "usage: scripts/report-runs.sh fashion-mnist|fashion-mnist-binary|fashion-mnist-ddpm|digits [--print]" >&2
        exit 2
        ;;
esac

# One run per model and budget: "label|train options|evaluation options|budget".
runs_list=()
for model in "${models[@]}"; do
    IFS='|' read -r label train evaluate <<< "$model"
    for budget in "${budgets[@]}"; do
        suffix=""
        [ "${#budgets[@]}" -gt 1 ] && suffix="-$budget"
        runs_list+=("$label$suffix|$train|$evaluate|$budget")
    done
done
models=("${runs_list[@]}")

dataset="Datasets/${dataset_name:-$name}.h5"
report="Reports/$name.md"
run() {
    echo "+ compare $*"
    [ "$print_only" = 1 ] || "$binary" "$@"
}

[ -f "$dataset" ] || run "${import[@]}"
mkdir -p "$runs"
checkpoints=()
for model in "${models[@]}"; do checkpoints+=("$runs/$name-${model%%|*}.h5"); done

# One lane: the trainings of models lane, lane + LANES, … then their evaluations. A run that
# fails (a diverged training, say) does not stop the lane's other runs; the lane fails at the end.
lane() {
    local first="$1" index label train evaluate budget out resume marker failures=0
    for pass in train eval; do
        for ((index = first; index < ${#models[@]}; index += lanes)); do
            IFS='|' read -r label train evaluate budget <<< "${models[$index]}"
            out="$runs/$name-$label.h5"
            if [ "$pass" = train ]; then
                resume=()
                [ -f "$out" ] && resume=(--resume)
                # shellcheck disable=SC2086  # the option strings split into words on purpose
                run train --dataset "$dataset" $train $common --time-budget "$budget" --budget-clock cpu --threads 1 \
                    --out "$out" "${resume[@]}" || { echo "report-runs: training $out failed" >&2; failures=$((failures + 1)); }
            else
                [ -f "$out" ] || continue  # its training failed before a first checkpoint
                marker="$out.evaluated"
                if [ ! -f "$marker" ] || [ "$out" -nt "$marker" ]; then
                    # shellcheck disable=SC2086
                    if run eval "$out" --examples "$examples" $evaluate; then
                        [ "$print_only" = 1 ] || touch "$marker"
                    else
                        echo "report-runs: evaluating $out failed" >&2
                        failures=$((failures + 1))
                    fi
                fi
            fi
        done
    done
    return $((failures > 0))
}

failed=0
if [ "$print_only" = 1 ]; then
    for ((k = 0; k < lanes; k++)); do echo "# lane $k"; lane "$k"; done
else
    pids=()
    for ((k = 0; k < lanes; k++)); do
        lane "$k" > "$runs/$name-lane-$k.log" 2>&1 &
        pids+=("$!")
    done
    for ((k = 0; k < lanes; k++)); do
        wait "${pids[$k]}" || { echo "report-runs: lane $k failed; see $runs/$name-lane-$k.log" >&2; failed=1; }
    done
fi

# The exact baselines (seconds), listed first in the report.
baselines=()
for kind in uniform pixel; do
    out="$runs/$name-baseline-$kind.h5"
    baselines+=("$out")
    [ -f "$out" ] || run baseline --dataset "$dataset" --kind "$kind" --examples "$examples" --out "$out"
done
notes=()
[ -f "Reports/$name.notes.md" ] && notes=(--notes "Reports/$name.notes.md")
# A run that failed (diverged, say) is still reported, from its last checkpoint: the report's
# "Training budget" section says it stopped short of its budget. The script then exits 1.
present=()
for checkpoint in "${checkpoints[@]}"; do { [ "$print_only" = 1 ] || [ -f "$checkpoint" ]; } && present+=("$checkpoint"); done
run report "${baselines[@]}" "${present[@]}" --out "$report" --title "$title" "${notes[@]}"
if [ "$failed" = 1 ]; then
    echo "report-runs: $report was written, but a run failed (see the lane logs in $runs)" >&2
    exit 1
fi
