#!/usr/bin/env bash
# Peak resident memory of each workload, compare vs. its peers (PyTorch, JAX), measured alike.
#
#   scripts/memory-vs-peers.sh [--threads 2] [--workloads "ddpm2d vae784 ddpm784 iwae"] [--frameworks "torch jax"]
#                              [--elbo-timesteps 1000]
#
# For every workload, each side runs in a process of its own — `compare bench --workload W` and
# `scripts/peers.py --frameworks F --workloads W` (whose worker is a child process) — for one short timed
# repetition, and the peak resident set of that process tree is read from getrusage
# (RUSAGE_CHILDREN: the largest of the finished descendants). Framework imports, compiled
# functions, data pools and the model are all included, on both sides. Prints a Markdown table.
# Workloads: any of `compare bench`'s and peers.py's model workloads, or the groups all (the four
# above) and conv (unet28 convvae28 ddpm-elbo-mlp ddpm-elbo-unet). PyTorch's unet28 process times
# both memory formats (its peak covers both); the cell names the one its figure is (the faster).
# --elbo-timesteps N (both sides) shortens the ddpm-elbo runs (at T = 1000 a ddpm-elbo-unet run
# takes many minutes). The peers' memory does not depend on T (one pass of 16 rows per t); compare
# batches the passes of several timesteps, up to DDPM.evaluationRowsPerCall rows per call, so its
# memory grows with T up to that bound.
# Needs the peers' virtual environment of scripts/bench-vs-peers.sh (with torch installed for
# PyTorch: `.venv-peers/bin/pip install torch`) and a release build of compare.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

THREADS=2
WORKLOADS="ddpm2d vae784 ddpm784 iwae"
FRAMEWORKS="torch jax"
ELBO_TIMESTEPS=1000
PEERS=${PEERS:-$ROOT/scripts/peers.py}
VENV=${VENV:-$ROOT/.venv-peers}
COMPARE_BIN=${COMPARE_BIN:-$ROOT/.build/release/compare}

while [ $# -gt 0 ]; do
  case "$1" in
    --threads) THREADS=$2; shift 2 ;;
    --workloads) WORKLOADS=$2; shift 2 ;;
    --frameworks) FRAMEWORKS=$2; shift 2 ;;
    --elbo-timesteps) ELBO_TIMESTEPS=$2; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "memory-vs-peers.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -x "$COMPARE_BIN" ] || { echo "memory-vs-peers.sh: $COMPARE_BIN not found (swift build -c release, or set COMPARE_BIN)" >&2; exit 1; }
[ -x "$VENV/bin/python" ] || { echo "memory-vs-peers.sh: $VENV not found (run scripts/bench-vs-peers.sh once, or set VENV)" >&2; exit 1; }
[ -f "$PEERS" ] || { echo "memory-vs-peers.sh: $PEERS not found (set PEERS=path/to/peers.py)" >&2; exit 1; }

# The groups, expanded (each workload once, in the order given).
EXPANDED=""
for w in $WORKLOADS; do
  case "$w" in
    all) members="ddpm2d vae784 ddpm784 iwae" ;;
    conv) members="unet28 convvae28 ddpm-elbo-mlp ddpm-elbo-unet" ;;
    ddpm2d|vae784|ddpm784|iwae|unet28|convvae28|ddpm-elbo-mlp|ddpm-elbo-unet) members=$w ;;
    *) echo "memory-vs-peers.sh: unknown workload $w (see --help)" >&2; exit 2 ;;
  esac
  for m in $members; do
    case " $EXPANDED " in *" $m "*) ;; *) EXPANDED="${EXPANDED:+$EXPANDED }$m" ;; esac
  done
done
WORKLOADS=$EXPANDED

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/memory-vs-peers.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT

# Peak RSS (MB) of the process tree of the command given as arguments.
peak() {
  "$VENV/bin/python" - "$@" <<'PY'
import resource, subprocess, sys
result = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if result.returncode != 0:
    print("failed")
else:
    print(f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f}")
PY
}

SHORT=(--reps 1 --target-s 0.5 --warmup-s 0.5 --idle-timeout 1 --elbo-timesteps "$ELBO_TIMESTEPS")

# The memory format of PyTorch's unet28 / ddpm-elbo-unet figure, from the peers' --out file.
memory_format() {  # out-prefix workload
  "$VENV/bin/python" - "$1.json" "$2" <<'PY'
import json, sys
try:
    runs = json.load(open(sys.argv[1]))["runs"]
    formats = {r["workloads"][sys.argv[2]].get("memory_format") for r in runs if sys.argv[2] in r.get("workloads", {})}
    formats.discard(None)
    print(", ".join(sorted(formats)))
except Exception:
    print("")
PY
}
header="| workload | threads | compare (MB)"
rule="|---|---:|---:"
for f in $FRAMEWORKS; do header="$header | $f (MB)"; rule="$rule|---:"; done
echo "$header |"
echo "$rule|"
for w in $WORKLOADS; do
  line="| $w | $THREADS | $(peak "$COMPARE_BIN" bench --workload "$w" --threads "$THREADS" "${SHORT[@]}")"
  for f in $FRAMEWORKS; do
    # shellcheck disable=SC2086
    line="$line | $(peak "$VENV/bin/python" "$PEERS" --frameworks $f --threads "$THREADS" --workloads "$w" --rounds 1 "${SHORT[@]}" --out "$SCRATCH/$f-$w")"
    if [ "$f" = torch ] || [ "$f" = torch-compile ]; then
      case "$w" in
        unet28|ddpm-elbo-unet)
          format=$(memory_format "$SCRATCH/$f-$w" "$w")
          [ -n "$format" ] && line="$line ($format)" ;;
      esac
    fi
  done
  echo "$line |"
done
