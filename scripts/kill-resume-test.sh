#!/usr/bin/env bash
# Promise 3 of docs/guarantees.md: kill -9 at any moment loses at most one checkpoint interval.
#
#   scripts/kill-resume-test.sh          # uses $COMPARE_BIN, else the newest .build/{release,debug}/compare
#   KILLS=20 KILL_SEED=3 scripts/kill-resume-test.sh
#
# Trains a small VAE straight through once. Then runs the same command line again and kills
# it with SIGKILL at random moments (at least $KILLS times, default 12), each time checking
# that the checkpoint under its real name is whole (it reads back) and that its step is a
# multiple of the checkpoint interval, then resuming (`--resume` once a checkpoint exists,
# a fresh start before). Finally the interrupted run's checkpoint must equal the straight
# run's in every group, dataset and attribute (h5py, scripts/compare_checkpoints.py) except
# the timing attributes (training_seconds, training_cpu_seconds, ...), and no *.tmp may be left.
# Uses the h5py virtual environment of scripts/interop.sh (.venv-interop), creating it if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

source scripts/interop-venv.sh
python="$(interop_python kill-resume)" || exit 1

source scripts/compare-binary.sh
binary="$(compare_binary)"
[ -n "$binary" ] && [ -x "$binary" ] || { echo "kill-resume: no compare binary (build it or set COMPARE_BIN)" >&2; exit 1; }
fixtures="$(dirname "$binary")/compare-fixtures"

kills="${KILLS:-12}"
RANDOM="${KILL_SEED:-7}"
interval=10
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/straight" "$work/killed"
started=$(date +%s.%N)

fail() { echo "kill-resume: FAIL: $*" >&2; exit 1; }
seconds_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }

cd "$work/straight"
"$binary" datasets make gmm2d --train 512 --test 64 --out data.h5 >/dev/null
cp data.h5 "$work/killed/"
args=(train --model vae --dataset data.h5 --steps 1500 --batch-size 32 --hidden 16
      --checkpoint-every "$interval" --evaluate-every 100 --log-every 7 --out run.h5)
t0=$(date +%s.%N)
"$binary" train --model vae --dataset data.h5 --steps 1 --batch-size 32 --hidden 16 --out probe.h5 >/dev/null 2>&1 \
    || fail "a one-step run failed"
startup=$(seconds_since "$t0")
rm -f probe.h5
t0=$(date +%s.%N)
"$binary" "${args[@]}" >/dev/null 2>&1 || fail "the straight run failed"
straight=$(seconds_since "$t0")

# Kill delays are uniform in [20 ms, start-up + 1.6 × (straight − start-up) / kills]: about
# $kills kills spread over all stages (start-up, training steps, checkpoint writes) before the
# run can finish; a run that finishes anyway is started over (counted as a restart).
max_ms=$(awk -v s="$straight" -v u="$startup" -v k="$kills" 'BEGIN { m = int(1000 * (u + 1.6 * (s - u) / k)); print (m < 60 ? 60 : m) }')
cd "$work/killed"
killed=0; during_write=0; fresh_starts=0; restarts=0; attempts=0; steps_seen=""
while :; do
    attempts=$((attempts + 1))
    [ "$attempts" -le $((kills * 20)) ] || fail "no progress after $attempts attempts"
    extra=()
    if [ -f run.h5 ]; then extra=(--resume); else fresh_starts=$((fresh_starts + 1)); fi
    "$binary" "${args[@]}" "${extra[@]}" >>log 2>&1 &
    pid=$!
    if [ "$killed" -lt "$kills" ]; then
        delay_ms=$((20 + (RANDOM * 32768 + RANDOM) % (max_ms - 19)))
        sleep "$(awk -v m="$delay_ms" 'BEGIN { printf "%.3f", m / 1000 }')"
        if kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null; then
            wait "$pid" 2>/dev/null || true
            killed=$((killed + 1))
            if ls run.h5.*tmp >/dev/null 2>&1; then during_write=$((during_write + 1)); fi
            if [ -f run.h5 ]; then
                step=$("$fixtures" read-checkpoint run.h5 2>&1 | sed -n 's/^step: //p') \
                    || true
                [ -n "$step" ] || fail "after kill $killed (at ${delay_ms} ms) run.h5 does not read back: $("$fixtures" read-checkpoint run.h5 2>&1 | tail -1)"
                [ $((step % interval)) -eq 0 ] || fail "after kill $killed the checkpoint holds step $step, not a multiple of $interval"
                steps_seen="$steps_seen $step"
            else
                steps_seen="$steps_seen -"
            fi
            continue
        fi
    fi
    status=0
    wait "$pid" || status=$?
    [ "$status" -eq 0 ] || fail "compare ${args[*]} ${extra[*]} exited with $status: $(tail -3 log)"
    if [ "$killed" -lt "$kills" ]; then
        # Finished before enough kills: start the run over and keep killing.
        restarts=$((restarts + 1))
        rm -f run.h5
        continue
    fi
    break
done

[ -z "$(ls ./*.tmp 2>/dev/null)" ] || fail "temporary files left: $(ls ./*.tmp)"
echo "kill-resume: straight run ${straight} s (start-up ${startup} s); $killed SIGKILLs at random moments in $attempts runs" \
     "($during_write during a checkpoint write, $fresh_starts fresh starts, $restarts restarts);" \
     "checkpoint step after each kill:$steps_seen"
"$python" "$root/scripts/compare_checkpoints.py" "$work/straight/run.h5" "$work/killed/run.h5" \
    || fail "the killed-and-resumed run differs from the straight run"
"$fixtures" read-checkpoint "$work/killed/run.h5" >/dev/null || fail "the final checkpoint does not read back"
echo "kill-resume: passed in $(seconds_since "$started") s"
