#!/usr/bin/env bash
# The engine's kernel families against each other on this machine, with one binary: `compare
# bench` under COMPARE_KERNELS=avx2 and =avx512 (docs/performance.md, "AVX-512 against AVX2"),
# run back to back, the order swapped every round so that neither side always runs first.
#
#   scripts/bench-kernels.sh [--rounds 2] [--kernels "avx2 avx512"] [--workloads gemm,vae784,ddpm784,iwae] [--threads 2]
#
# Prints each run's `compare bench` table, then the ratio of the second kernel to the first per
# workload and round. Needs a CPU that runs both (avx512 needs AVX-512F: see /proc/cpuinfo).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/compare-binary.sh
binary="$(compare_binary)"
[ -n "$binary" ] && [ -x "$binary" ] || { echo "bench-kernels: no compare binary (build it or set COMPARE_BIN)" >&2; exit 1; }
rounds=2
kernels="avx2 avx512"
workloads="gemm,vae784,ddpm784,iwae"
threads=2
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds="$2"; shift 2 ;;
        --kernels) kernels="$2"; shift 2 ;;
        --workloads) workloads="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        *) echo "bench-kernels: unknown option $1" >&2; exit 2 ;;
    esac
done
read -r first second <<<"$kernels"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
for round in $(seq 1 "$rounds"); do
    if [ $((round % 2)) -eq 1 ]; then order="$first $second"; else order="$second $first"; fi
    for kernel in $order; do
        echo "== round $round $kernel" | tee -a "$log"
        COMPARE_KERNELS=$kernel "$binary" bench --workload "$workloads" --threads "$threads" --reps 5 --idle-threshold 0.3 \
            --idle-timeout 10 --max-attempts 3 2>&1 | tee -a "$log"
    done
done
python3 - "$log" "$first" "$second" <<'PY'
import re, sys
log, first, second = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3]
parts = re.split(r"== round (\d+) (\w+)\n", log)[1:]
rates = {}
for i in range(0, len(parts), 3):
    round_, kernel, body = parts[i], parts[i + 1], parts[i + 2]
    for m in re.finditer(r"\[compare \d+T\] (\S+): ([\d.]+) (?:steps|points)/s", body):
        rates[(round_, kernel, m.group(1))] = float(m.group(2))
    for m in re.finditer(r"\[compare \d+T\] gemm (\S+) Tensor\.matmul: ([\d.]+)", body):
        rates[(round_, kernel, "gemm " + m.group(1))] = float(m.group(2))
names = sorted({k[2] for k in rates}, key=lambda n: (n.startswith("gemm"), n))
rounds = sorted({k[0] for k in rates}, key=int)
print(f"\n| workload | {first} (per round) | {second} (per round) | {second} ÷ {first} (per round) |")
print("|---|---:|---:|---:|")
for name in names:
    a = [rates.get((r, first, name)) for r in rounds]
    b = [rates.get((r, second, name)) for r in rounds]
    ratio = [f"{y / x:.2f}" if x and y else "–" for x, y in zip(a, b)]
    show = lambda v: " / ".join("–" if x is None else f"{x:g}" for x in v)
    print(f"| {name} | {show(a)} | {show(b)} | {' / '.join(ratio)} |")
PY
