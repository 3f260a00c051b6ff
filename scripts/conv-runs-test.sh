#!/usr/bin/env bash
# The convolutional models from the command line, as the README runs them, at CI sizes.
#
#   scripts/conv-runs-test.sh      # uses $COMPARE_BIN, else the newest .build/{release,debug}/compare
#
# Imports binarized Fashion-MNIST from the Debian package, then for each model trains a tiny conv
# network (4 base channels at 28×28 and 14×14, one residual block each) without --architecture —
# 28×28 images must get the conv networks by default — with progress and a checkpoint every 3
# steps; resumes it to a longer run; evaluates it with `compare eval`; and checks that options of
# the other architecture are refused with one line naming them.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/compare-binary.sh
binary="$(compare_binary)"
[ -n "$binary" ] && [ -x "$binary" ] || { echo "conv-runs: no compare binary (build it or set COMPARE_BIN)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "conv-runs: FAIL: $*" >&2; exit 1; }
started=$(date +%s)

"$binary" datasets import fashion-mnist --binarize --out "$work/fm.h5" > /dev/null
tiny=(--base-channels 4 --channel-multipliers 1,2 --residual-blocks 1 --batch-size 8 --log-every 3 --evaluate-every 0 --threads 2)
for model in vae hvae ddpm; do
    extra=()
    case "$model" in
        hvae) extra=(--latent-sizes 2,2) ;;
        ddpm) extra=(--timesteps 10) ;;
    esac
    "$binary" train --model "$model" --dataset "$work/fm.h5" "${tiny[@]}" "${extra[@]}" --steps 6 --checkpoint-every 3 \
        --out "$work/$model.h5" > "$work/$model.out" 2> "$work/$model.err" || { cat "$work/$model.err" >&2; fail "$model: train exited non-zero"; }
    grep -q "train $model" "$work/$model.err" || fail "$model: no progress line on stderr"
    grep -q "wrote $work/$model.h5: $model, 6 steps" "$work/$model.out" || { cat "$work/$model.out" >&2; fail "$model: no checkpoint line"; }
    "$binary" train --model "$model" --dataset "$work/fm.h5" "${tiny[@]}" "${extra[@]}" --steps 9 --checkpoint-every 3 \
        --out "$work/$model.h5" --resume > "$work/$model.resume" 2>&1 || { cat "$work/$model.resume" >&2; fail "$model: resume failed"; }
    grep -q "$model, 9 steps" "$work/$model.resume" || { cat "$work/$model.resume" >&2; fail "$model: resume did not reach step 9"; }
    "$binary" eval "$work/$model.h5" --examples 8 --samples 1,4 --elbo-draws 2 --threads 2 > "$work/$model.eval" 2>&1 \
        || { cat "$work/$model.eval" >&2; fail "$model: eval failed"; }
    for row in ELBO IWAE_1 IWAE_4; do
        grep -Eq "^  $row +-[0-9]+\.[0-9]+ ± [0-9]+\.[0-9]+" "$work/$model.eval" || { cat "$work/$model.eval" >&2; fail "$model: no finite $row"; }
    done
    echo "conv-runs: $model trained, resumed and evaluated"
done

# Options of the other architecture are refused, naming the option, and nothing is written.
if "$binary" train --model vae --dataset "$work/fm.h5" --architecture conv --hidden 8 --out "$work/x.h5" 2> "$work/refused.err"; then
    fail "--hidden with --architecture conv was accepted"
fi
grep -q -- "--hidden is an option of --architecture mlp, not of --architecture conv" "$work/refused.err" || { cat "$work/refused.err" >&2; fail "unclear refusal"; }
[ "$(wc -l < "$work/refused.err")" -eq 1 ] || fail "the refusal is more than one line"
[ ! -e "$work/x.h5" ] || fail "a refused run wrote its checkpoint"
echo "conv-runs: PASS in $(( $(date +%s) - started )) s"
