#!/usr/bin/env bash
# Rewrites the golden help texts of Tests/CLITests/Golden/ from the built binary (at 100 columns,
# as HelpGoldenTests compares them). Review the diff before committing it.
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${COMPARE_BIN:-.build/release/compare}
for command in "" demo datasets "datasets list" "datasets info" "datasets make" "datasets import" \
               train eval baseline sample report lesson bench; do
    name=$(echo "help $command" | tr ' ' '-' | sed 's/-$//')
    # shellcheck disable=SC2086
    COLUMNS=100 "$binary" $command --help > "Tests/CLITests/Golden/$name.txt" 2>&1
done
echo "wrote Tests/CLITests/Golden/help*.txt"
