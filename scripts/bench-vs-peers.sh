#!/usr/bin/env bash
# compare vs. its peers (JAX, numpy; PyTorch with --with-torch), side by side, in one go.
#
#   scripts/bench-vs-peers.sh [--threads "1 2"] [--rounds 3] [--workloads "ddpm2d vae784 ddpm784 iwae gemm"]
#                             [--reps 5] [--target-s 1] [--warmup-s 1] [--idle-threshold 0.1]
#                             [--idle-timeout 120] [--with-torch] [--memory-steps 10000] [--out peer-results]
#
# For every round, thread count and workload it runs `compare bench --json` and
# scripts/peers.py back to back (which goes first alternates between workloads and rounds,
# so drift of the machine cancels), with the same repetitions, warm-up and idle rules, and prints
# one table: the median over rounds of each side's steps/s (points/s, GFLOP/s), and the median
# (min–max) over rounds of the paired ratios compare ÷ JAX (training, iwae) and compare ÷ numpy
# (gemm), each from two runs a minute or two apart. Both sides pin themselves to the first N
# cores and size their BLAS / XLA pools to N threads.
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
WITH_TORCH=0
MEMORY_STEPS=""
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
    --with-torch) WITH_TORCH=1; shift ;;
    --memory-steps) MEMORY_STEPS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "bench-vs-peers.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

[ -f "$PEERS" ] || { echo "bench-vs-peers.sh: $PEERS not found (set PEERS=path/to/peers.py)" >&2; exit 1; }

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
COMMON=(--reps "$REPS" --target-s "$TARGET_S" --warmup-s "$WARMUP_S" --idle-threshold "$IDLE_THRESHOLD" --idle-timeout "$IDLE_TIMEOUT")

run_compare() {  # round threads workload
  echo "== round $1: compare, $2 thread(s), $3" >&2
  "${CLEAN_ENV[@]}" "$COMPARE_BIN" bench --json --threads "$2" --workload "$3" "${COMMON[@]}" \
    > "$RAW/compare-$1-$2-$3.json"
}
run_peers() {  # round threads workload
  echo "== round $1: $FRAMEWORKS, $2 thread(s), $3" >&2
  # shellcheck disable=SC2086
  "${CLEAN_ENV[@]}" "$VENV/bin/python" "$PEERS" --frameworks $FRAMEWORKS --threads "$2" --workloads "$3" \
    --rounds 1 "${COMMON[@]}" --out "$RAW/peers-$1-$2-$3" > /dev/null
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
  echo "== memory: $MEMORY_STEPS training steps per workload" >&2
  MEMORY_JSON=$RAW/memory.json
  "${CLEAN_ENV[@]}" "$COMPARE_BIN" bench --json --threads "$(echo "$THREADS" | awk '{print $NF}')" \
    --workload ddpm2d,vae784,ddpm784 --steps-memory-check "$MEMORY_STEPS" > "$MEMORY_JSON"
fi

COMMAND="scripts/bench-vs-peers.sh --threads \"$THREADS\" --rounds $ROUNDS --workloads \"$WORKLOADS\" --reps $REPS --target-s $TARGET_S --warmup-s $WARMUP_S --idle-threshold $IDLE_THRESHOLD --idle-timeout $IDLE_TIMEOUT"
if [ "$WITH_TORCH" = 1 ]; then COMMAND="$COMMAND --with-torch"; fi
if [ -n "$MEMORY_STEPS" ]; then COMMAND="$COMMAND --memory-steps $MEMORY_STEPS"; fi
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
head = "| workload | unit | threads | compare | " + " | ".join(frameworks) + " | compare ÷ JAX | compare ÷ numpy |"
lines += [head, "|" + "---|" * (5 + len(frameworks) + 1)]

def cell(m, star):
    if m is None:
        return "–"
    med, lo, hi, n = m
    return f"{med:.1f}{'*' if star else ''} ({lo:.0f}–{hi:.0f})" if n > 1 else f"{med:.1f}{'*' if star else ''}"

summary = {}
for t in threads:
    for w in ["ddpm2d", "vae784", "ddpm784", "iwae"]:
        c = median_of("compare", t, "workloads", w)
        if c is None:
            continue
        peers = {fw: median_of(fw, t, "workloads", w) for fw in frameworks}
        ratio = paired_ratio(t, "workloads", w, "jax")
        summary[f"{w} {t}T"] = summary_entry(ratio)
        lines.append(f"| {w} | {'points/s' if w == 'iwae' else 'steps/s'} | {t} | {cell(c, dirty('compare', t, 'workloads', w))} | "
                     + " | ".join(cell(peers[fw], dirty(fw, t, 'workloads', w)) for fw in frameworks)
                     + f" | {ratio_cell(ratio)} | – |")
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
                     + f" | – | {ratio_cell(ratio)} |")
        if direct:
            lines.append(f"| (gemm {size}, direct cblas_sgemm in compare's process) | GFLOP/s | {t} | {cell(direct, False)} | "
                         + " | ".join("" for _ in frameworks) + f" | – | Tensor.matmul ÷ direct: {c[0] / direct[0]:.2f} |")

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
