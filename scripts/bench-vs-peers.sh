#!/usr/bin/env bash
# compare vs. its peers (JAX, numpy; PyTorch with --with-torch), side by side, in one go.
#
#   scripts/bench-vs-peers.sh [--threads "1 2"] [--rounds 3] [--workloads "ddpm2d vae784 ddpm784 iwae gemm"]
#                             [--reps 5] [--target-s 1] [--warmup-s 1] [--idle-threshold 0.1]
#                             [--idle-timeout 120] [--max-attempts 4] [--with-torch] [--elbo-timesteps 1000]
#                             [--memory-steps 10000] [--memory-workloads "ddpm2d vae784 ddpm784"]
#                             [--out peer-results]
#
# For every round, thread count and workload it runs `compare bench --json` and
# scripts/peers.py back to back (which goes first alternates between workloads and rounds,
# so drift of the machine cancels), with the same repetitions, warm-up and idle rules, and prints
# one table: the median over rounds of each side's steps/s (points/s, examples/s, GFLOP/s), and
# the median (min–max) over rounds of the paired ratios compare ÷ JAX and, with --with-torch,
# compare ÷ PyTorch (training, iwae, the conv workloads) and compare ÷ numpy (gemm), each from two
# runs a minute or two apart. Both sides pin themselves to the first N cores and size their
# BLAS / XLA pools to N threads.
#
# Workloads: the names of `compare bench` and peers.py, or the groups all (ddpm2d vae784 ddpm784
# iwae gemm, the default) and conv (unet28 convvae28 ddpm-elbo-mlp ddpm-elbo-unet). For unet28
# PyTorch times both memory formats and its figure is the faster one's (the table names it); for
# ddpm-elbo-* the target peer is PyTorch's port of improved-diffusion's calc_bpd_loop (marked
# "target"), and --elbo-timesteps N (both sides; default 1000, where one ddpm-elbo-unet call is
# 16,000 U-Net passes) makes quick runs possible: the rates are examples/s at that T.
# --memory-steps N runs `compare bench --steps-memory-check N` on --memory-workloads (default: the
# MLP training workloads, plus unet28-small / convvae28-small when unet28 / convvae28 are chosen:
# the conv steps at base 8 channels and batch 8, so that 10,000 steps take minutes).
#
# Fairness: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, which some machines set so that older
# OpenBLAS builds pick a safe kernel, slow a current numpy and make OpenBLAS pick a different
# kernel for compare too. This script unsets BOTH for BOTH sides, for the benchmark commands
# only (`env -u`); tests and CI keep the machine's settings.
#
# Outputs: <out>.md (the table, machine, command) and <out>.json (every raw run), plus the
# resident-memory check (`compare bench --steps-memory-check N`) when --memory-steps is given.
# Needs: python3 with venv, network access to PyPI the first time (.venv-peers/ is created and
# reused; it is git-ignored), and a release build of compare (built here unless COMPARE_BIN
# points at one).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

THREADS="1 2"
ROUNDS=3
WORKLOADS="ddpm2d vae784 ddpm784 iwae gemm"
REPS=5
TARGET_S=1
WARMUP_S=1
IDLE_THRESHOLD=0.1
IDLE_TIMEOUT=120
MAX_ATTEMPTS=4
WITH_TORCH=0
MEMORY_STEPS=""
MEMORY_WORKLOADS=""
ELBO_TIMESTEPS=1000
OUT=peer-results
PEERS=${PEERS:-$ROOT/scripts/peers.py}
VENV=${VENV:-$ROOT/.venv-peers}

while [ $# -gt 0 ]; do
  case "$1" in
    --threads) THREADS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --workloads) WORKLOADS=$2; shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --target-s) TARGET_S=$2; shift 2 ;;
    --warmup-s) WARMUP_S=$2; shift 2 ;;
    --idle-threshold) IDLE_THRESHOLD=$2; shift 2 ;;
    --idle-timeout) IDLE_TIMEOUT=$2; shift 2 ;;
    --max-attempts) MAX_ATTEMPTS=$2; shift 2 ;;
    --with-torch) WITH_TORCH=1; shift ;;
    --memory-steps) MEMORY_STEPS=$2; shift 2 ;;
    --memory-workloads) MEMORY_WORKLOADS=$2; shift 2 ;;
    --elbo-timesteps) ELBO_TIMESTEPS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,40p' "$0"; exit 0 ;;
    *) echo "bench-vs-peers.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

[ -f "$PEERS" ] || { echo "bench-vs-peers.sh: $PEERS not found (set PEERS=path/to/peers.py)" >&2; exit 1; }

# The groups, expanded (each workload once, in the order given).
EXPANDED=""
for w in $WORKLOADS; do
  case "$w" in
    all) members="ddpm2d vae784 ddpm784 iwae gemm" ;;
    conv) members="unet28 convvae28 ddpm-elbo-mlp ddpm-elbo-unet" ;;
    ddpm2d|vae784|ddpm784|iwae|gemm|unet28|convvae28|ddpm-elbo-mlp|ddpm-elbo-unet) members=$w ;;
    *) echo "bench-vs-peers.sh: unknown workload $w (see --help)" >&2; exit 2 ;;
  esac
  for m in $members; do
    case " $EXPANDED " in *" $m "*) ;; *) EXPANDED="${EXPANDED:+$EXPANDED }$m" ;; esac
  done
done
WORKLOADS=$EXPANDED
if [ -z "$MEMORY_WORKLOADS" ]; then
  MEMORY_WORKLOADS="ddpm2d vae784 ddpm784"
  case " $WORKLOADS " in *" unet28 "*) MEMORY_WORKLOADS="$MEMORY_WORKLOADS unet28-small" ;; esac
  case " $WORKLOADS " in *" convvae28 "*) MEMORY_WORKLOADS="$MEMORY_WORKLOADS convvae28-small" ;; esac
fi

# The peers' environment: created once, reused.
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
PACKAGES="numpy jax optax threadpoolctl"
IMPORTS="numpy, jax, optax, threadpoolctl"
FRAMEWORKS="jax numpy"
if [ "$WITH_TORCH" = 1 ]; then
  PACKAGES="$PACKAGES torch"; IMPORTS="$IMPORTS, torch"; FRAMEWORKS="jax numpy torch"
fi
if ! "$VENV/bin/python" -c "import $IMPORTS" 2>/dev/null; then
  # shellcheck disable=SC2086
  "$VENV/bin/pip" install -q $PACKAGES
fi

if [ -z "${COMPARE_BIN:-}" ]; then
  swift build -c release >/dev/null
  COMPARE_BIN=$ROOT/.build/release/compare
fi

RAW=$(mktemp -d "${TMPDIR:-/tmp}/bench-vs-peers.XXXXXX")
trap 'rm -rf "$RAW"' EXIT
# Both sides without the OpenBLAS kernel overrides (see the header).
CLEAN_ENV=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)
COMMON=(--reps "$REPS" --target-s "$TARGET_S" --warmup-s "$WARMUP_S" --idle-threshold "$IDLE_THRESHOLD" --idle-timeout "$IDLE_TIMEOUT"
        --max-attempts "$MAX_ATTEMPTS")

run_compare() {  # round threads workload
  echo "== round $1: compare, $2 thread(s), $3" >&2
  "${CLEAN_ENV[@]}" "$COMPARE_BIN" bench --json --threads "$2" --workload "$3" "${COMMON[@]}" \
    --elbo-timesteps "$ELBO_TIMESTEPS" > "$RAW/compare-$1-$2-$3.json"
}
run_peers() {  # round threads workload
  echo "== round $1: $FRAMEWORKS, $2 thread(s), $3" >&2
  # shellcheck disable=SC2086
  "${CLEAN_ENV[@]}" "$VENV/bin/python" "$PEERS" --frameworks $FRAMEWORKS --threads "$2" --workloads "$3" \
    --rounds 1 "${COMMON[@]}" --elbo-timesteps "$ELBO_TIMESTEPS" --out "$RAW/peers-$1-$2-$3" > /dev/null
}

# One workload at a time, compare and the peers back to back, the order alternating between
# workloads and rounds: the machine's speed drifts over minutes, so the two sides of a ratio are
# measured within a minute or two of each other, and each round gives one paired ratio.
for round in $(seq 1 "$ROUNDS"); do
  for t in $THREADS; do
    j=0
    for w in $WORKLOADS; do
      if [ $(((round + j) % 2)) = 1 ]; then run_compare "$round" "$t" "$w"; run_peers "$round" "$t" "$w"
      else run_peers "$round" "$t" "$w"; run_compare "$round" "$t" "$w"; fi
      j=$((j + 1))
    done
  done
done

MEMORY_JSON=""
if [ -n "$MEMORY_STEPS" ]; then
  echo "== memory: $MEMORY_STEPS training steps per workload ($MEMORY_WORKLOADS)" >&2
  MEMORY_JSON=$RAW/memory.json
  "${CLEAN_ENV[@]}" "$COMPARE_BIN" bench --json --threads "$(echo "$THREADS" | awk '{print $NF}')" \
    --workload "$(echo $MEMORY_WORKLOADS | tr ' ' ',')" --steps-memory-check "$MEMORY_STEPS" > "$MEMORY_JSON"
fi

COMMAND="scripts/bench-vs-peers.sh --threads \"$THREADS\" --rounds $ROUNDS --workloads \"$WORKLOADS\" --reps $REPS --target-s $TARGET_S --warmup-s $WARMUP_S --idle-threshold $IDLE_THRESHOLD --idle-timeout $IDLE_TIMEOUT"
if [ "$MAX_ATTEMPTS" != 4 ]; then COMMAND="$COMMAND --max-attempts $MAX_ATTEMPTS"; fi
if [ "$WITH_TORCH" = 1 ]; then COMMAND="$COMMAND --with-torch"; fi
case " $WORKLOADS " in *" ddpm-elbo-"*) COMMAND="$COMMAND --elbo-timesteps $ELBO_TIMESTEPS" ;; esac
if [ -n "$MEMORY_STEPS" ]; then COMMAND="$COMMAND --memory-steps $MEMORY_STEPS --memory-workloads \"$MEMORY_WORKLOADS\""; fi
"$VENV/bin/python" - "$RAW" "$OUT" "$COMMAND" "$MEMORY_JSON" <<'PY'
import glob, json, os, statistics, sys
raw, out, command, memory_path = sys.argv[1:5]
runs, machine = [], None
for path in sorted(glob.glob(os.path.join(raw, "*.json"))):
    if path.endswith("memory.json"):
        continue
    with open(path) as f:
        doc = json.load(f)
    machine = machine or doc.get("machine")
    for r in doc["runs"]:
        r["source"] = os.path.basename(path)
        runs.append(r)

def median_of(framework, threads, section, key):
    values = [r[section][key]["median"] for r in runs
              if r["framework"] == framework and r["threads"] == threads
              and key in r.get(section, {}) and "median" in r[section][key]]
    return (statistics.median(values), min(values), max(values), len(values)) if values else None

def round_of(r):
    # compare-<round>-<threads>-<workload>.json / peers-<round>-<threads>-<workload>.json
    return int(r["source"].split("-")[1])

def paired_ratio(threads, section, key, peer):
    """Median, min, max and count over rounds of compare ÷ peer, each from one round's two runs."""
    by_round = {}
    for r in runs:
        if r["threads"] == threads and key in r.get(section, {}) and "median" in r[section][key]:
            by_round.setdefault(round_of(r), {})[r["framework"]] = r[section][key]["median"]
    ratios = [v["compare"] / v[peer] for v in by_round.values() if "compare" in v and v.get(peer)]
    return (statistics.median(ratios), min(ratios), max(ratios), len(ratios)) if ratios else None

def summary_entry(m):
    return m and {"median": m[0], "min": m[1], "max": m[2], "rounds": m[3]}

def ratio_cell(m):
    if m is None:
        return "–"
    med, lo, hi, n = m
    return f"**{med:.2f}** ({lo:.2f}–{hi:.2f})" if n > 1 else f"**{med:.2f}**"

def dirty(framework, threads, section, key):
    return any(not r[section][key].get("clean", True) for r in runs
               if r["framework"] == framework and r["threads"] == threads and key in r.get(section, {}))

threads = sorted({r["threads"] for r in runs})
frameworks = sorted({r["framework"] for r in runs} - {"compare"})
lines = ["# compare vs. peers, measured side by side", "",
         f"Command: `{command}`", ""]
if machine:
    lines.append(f"Machine: {machine.get('model')}, {machine.get('cores')} cores; "
                 "OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for both sides.")
versions = {}
for r in runs:
    versions.setdefault(r["framework"], r.get("version", "?"))
lines += [f"- {fw}: {v}" for fw, v in sorted(versions.items())]
lines += ["", "Each figure: median over rounds of each run's median of repetitions "
          "(min–max over rounds in brackets); `*` = some repetition ran while other processes "
          "used the machine. Ratios are compare ÷ peer (> 1: compare faster): the median (min–max) over "
          "rounds of each round's ratio, its two runs made back to back.", ""]
with_torch = "torch" in frameworks
head = ("| workload | unit | threads | compare | " + " | ".join(frameworks) + " | compare ÷ JAX | "
        + ("compare ÷ torch | " if with_torch else "") + "compare ÷ numpy |")
lines += [head, "|" + "---|" * (5 + len(frameworks) + (2 if with_torch else 1))]
MODEL_WORKLOADS = ["ddpm2d", "vae784", "ddpm784", "iwae", "unet28", "convvae28", "ddpm-elbo-mlp", "ddpm-elbo-unet"]
TARGET_TORCH = ("ddpm-elbo-mlp", "ddpm-elbo-unet")  # the target peer: PyTorch's calc_bpd_loop port

def unit(w):
    return "points/s" if w == "iwae" else "examples/s" if w.startswith("ddpm-elbo") else "steps/s"

def field_of(framework, threads, w, field):
    values = {r["workloads"][w][field] for r in runs if r["framework"] == framework and r["threads"] == threads
              and field in r.get("workloads", {}).get(w, {})}
    return "/".join(sorted(str(v) for v in values)) or None

notes = []

def cell(m, star):
    if m is None:
        return "–"
    med, lo, hi, n = m
    # Slow workloads (the conv training steps) need two decimals to tell rates apart.
    def fmt(v, digits):
        return f"{v:.2f}" if med < 10 else f"{v:.{digits}f}"
    return (f"{fmt(med, 1)}{'*' if star else ''} ({fmt(lo, 0)}–{fmt(hi, 0)})" if n > 1
            else f"{fmt(med, 1)}{'*' if star else ''}")

summary = {}
for t in threads:
    for w in MODEL_WORKLOADS:
        c = median_of("compare", t, "workloads", w)
        if c is None:
            continue
        peers = {fw: median_of(fw, t, "workloads", w) for fw in frameworks}
        ratio = paired_ratio(t, "workloads", w, "jax")
        summary[f"{w} {t}T"] = summary_entry(ratio)
        torch_cell = ""
        if with_torch:
            torch_ratio = paired_ratio(t, "workloads", w, "torch")
            summary[f"{w} {t}T vs torch"] = summary_entry(torch_ratio)
            torch_cell = f" {ratio_cell(torch_ratio)}{' (target)' if w in TARGET_TORCH and torch_ratio else ''} |"
        name = w
        fmt = field_of("torch", t, w, "memory_format")
        if fmt:
            name = f"{w} (torch: {fmt})"
            both = ""
            if w == "unet28":
                each = {k: median_of("torch", t, "workloads", k) for k in ("unet28_nchw", "unet28_channels_last")}
                both = " (" + ", ".join(f"{k.split('_', 1)[1]} {v[0]:.2f}" for k, v in each.items() if v) + f" {unit(w)})"
            notes.append(f"- {w}, {t} thread(s): PyTorch's figure is its {fmt} memory format, "
                         + ("the faster of the two it timed" + both + "." if w == "unet28"
                            else "the faster in its short probe of forward passes."))
        steps = field_of("compare", t, w, "timesteps")
        if steps:
            notes.append(f"- {w}, {t} thread(s): T = {steps} network passes per call, 16 examples per call "
                         + "(compare: DDPM.elbo, the passes of several timesteps batched per network call as compare eval runs them; JAX: lax.fori_loop in one jit; PyTorch: a Python loop under no_grad).")
        lines.append(f"| {name} | {unit(w)} | {t} | {cell(c, dirty('compare', t, 'workloads', w))} | "
                     + " | ".join(cell(peers[fw], dirty(fw, t, 'workloads', w)) for fw in frameworks)
                     + f" | {ratio_cell(ratio)} |{torch_cell} – |")
    for size in ["256", "512", "1024", "512x128x128"]:
        c = median_of("compare", t, "gemm", size)
        if c is None:
            continue
        peers = {fw: median_of(fw, t, "gemm", size) for fw in frameworks}
        direct = median_of("compare", t, "gemm_cblas", size)
        ratio = paired_ratio(t, "gemm", size, "numpy")
        summary[f"gemm {size} {t}T"] = summary_entry(ratio)
        lines.append(f"| gemm {size} | GFLOP/s | {t} | {cell(c, dirty('compare', t, 'gemm', size))} | "
                     + " | ".join(cell(peers[fw], False) for fw in frameworks)
                     + f" | – |{' – |' if with_torch else ''} {ratio_cell(ratio)} |")
        if direct:
            lines.append(f"| (gemm {size}, direct cblas_sgemm in compare's process) | GFLOP/s | {t} | {cell(direct, False)} | "
                         + " | ".join("" for _ in frameworks) + f" | – |{' – |' if with_torch else ''} Tensor.matmul ÷ direct: {c[0] / direct[0]:.2f} |")

if notes:
    lines += [""] + list(dict.fromkeys(notes))
if any(w in TARGET_TORCH for w in {k for r in runs for k in r.get("workloads", {})}):
    lines.append("- ddpm-elbo: the target peer is PyTorch (improved-diffusion's calc_bpd_loop, ported); JAX's is one jit.")
errors = sorted({f"- error: {r['framework']} {r['threads']}T {w}: `{v['error']}`" for r in runs
                 for w, v in r.get("workloads", {}).items() if "error" in v})
lines += errors

peaks = {}
for r in runs:
    if r["framework"] == "compare":
        peaks.setdefault(r["threads"], []).append(r.get("peak_rss_mb", 0))
if peaks:
    lines += ["", "Peak resident memory of the compare bench processes (one per workload and round; the "
              "largest): " + ", ".join(f"{t} thread(s) {max(v):.0f} MB" for t, v in sorted(peaks.items())) + "."]
if memory_path:
    with open(memory_path) as f:
        memory = json.load(f)["memory"]
    lines += ["", "Resident memory over a long training run (`compare bench --steps-memory-check`):", "",
              "| workload | steps | RSS at step N/10 (MB) | RSS at step N (MB) | growth (MB) | peak (MB) |",
              "|---|---:|---:|---:|---:|---:|"]
    for w, m in memory.items():
        lines.append(f"| {w} | {m['steps']} | {m['rss_mb_early']:.1f} | {m['rss_mb_end']:.1f} | {m['growth_mb']:+.1f} | {m['peak_rss_mb']:.1f} |")
text = "\n".join(lines) + "\n"
with open(out + ".md", "w") as f:
    f.write(text)
with open(out + ".json", "w") as f:
    json.dump({"command": command, "machine": machine, "runs": runs, "ratios": summary,
               "memory": json.load(open(memory_path)) if memory_path else None}, f, indent=1)
print(text)
PY
