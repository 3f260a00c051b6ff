# Sourced by the script tests: `compare_binary` prints the compare binary they drive, as an
# absolute path — $COMPARE_BIN when set, else the newer of .build/release/compare and
# .build/debug/compare — or nothing when neither exists (run from the repository root). The
# callers check that it is executable.
compare_binary() {
    local binary="${COMPARE_BIN:-}" candidate
    if [ -z "$binary" ]; then
        for candidate in .build/release/compare .build/debug/compare; do
            if [ -x "$candidate" ] && { [ -z "$binary" ] || [ "$candidate" -nt "$binary" ]; }; then binary="$candidate"; fi
        done
    fi
    [ -n "$binary" ] || return 0
    # A path that does not exist is printed as given, for the caller's own refusal.
    if [ -d "$(dirname "$binary")" ]; then echo "$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"; else echo "$binary"; fi
}
