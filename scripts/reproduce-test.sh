#!/usr/bin/env bash
# scripts/reproduce_rows.py, end to end on a committed report's cheapest row: retraining digits.md's
# "VAE (20.0 s)" row to its step count and evaluating it with the report's own command must give
# the committed cells exactly (exit 0), and so must evaluating that checkpoint again on two
# threads (--skip-training --threads 2); the same report with one of that row's numbers changed
# must be caught (exit 1, the cell named); a row the report does not have is refused (exit 2, one
# line). About 40 seconds of one core. Runs in a scratch directory with its own Datasets/.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
source scripts/compare-binary.sh
binary="$(compare_binary)"
[ -n "$binary" ] && [ -x "$binary" ] || { echo "reproduce-test: no compare binary (build it or set COMPARE_BIN)" >&2; exit 1; }
fail() { echo "reproduce-test: FAIL: $*" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
"$binary" datasets import digits > /dev/null
row="VAE (20.0 s)"
export COMPARE_BIN="$binary"

python3 "$root/scripts/reproduce_rows.py" "$root/Reports/digits.md" --row "$row" --dir repro > out.txt 2>&1 \
    || { tail -5 out.txt >&2; fail "the committed row '$row' did not reproduce"; }
grep -q "; 0 differ;" out.txt || fail "no comparison summary: $(tail -1 out.txt)"
echo "reproduce-test: $(tail -1 out.txt)"

# The same checkpoint evaluated again on two threads (--skip-training --threads 2): the engine's
# numbers do not depend on the thread count, so every compared cell must come back again.
python3 "$root/scripts/reproduce_rows.py" "$root/Reports/digits.md" --row "$row" --dir repro --skip-training --threads 2 > out.txt 2>&1 \
    || { tail -5 out.txt >&2; fail "re-evaluating on two threads changed the row"; }
grep -q "; 0 differ;" out.txt || fail "no comparison summary after --skip-training: $(tail -1 out.txt)"
echo "reproduce-test: evaluated again on two threads, $(tail -1 out.txt | cut -d';' -f1-2)"

# One committed number changed: its ELBO (the fifth column), the last digit of the mean.
python3 - "$root/Reports/digits.md" edited.md "$row" <<'PY'
import sys
source, target, row = sys.argv[1:]
lines = open(source, encoding="utf-8").read().split("\n")
for index, line in enumerate(lines):
    cells = line.split("|")
    if len(cells) > 6 and cells[1].strip() == row and "±" in cells[5]:
        mean, rest = cells[5].strip().split(" ", 1)
        cells[5] = " " + mean[:-1] + str((int(mean[-1]) + 1) % 10) + " " + rest + " "
        lines[index] = "|".join(cells)
        break
else:
    sys.exit("no row to edit")
open(target, "w", encoding="utf-8").write("\n".join(lines))
PY
status=0
python3 "$root/scripts/reproduce_rows.py" edited.md --row "$row" --dir repro > out.txt 2>&1 || status=$?
[ "$status" = 1 ] || fail "an edited ELBO was not caught (exit $status)"
grep -q "DIFFERS  $row | ELBO: committed" out.txt || fail "the edited cell is not named: $(grep DIFFERS out.txt | head -2)"
echo "reproduce-test: an edited ELBO is caught ($(grep -c DIFFERS out.txt) cell)"

status=0
python3 "$root/scripts/reproduce_rows.py" "$root/Reports/digits.md" --row "VAE (3 h)" --dir repro > out.txt 2>&1 || status=$?
[ "$status" = 2 ] && [ "$(wc -l < out.txt)" = 1 ] && grep -q "no model row 'VAE (3 h)'" out.txt \
    || fail "an unknown row was not refused in one line (exit $status): $(cat out.txt)"
echo "reproduce-test: passed"
