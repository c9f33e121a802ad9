#!/bin/sh
# Runs every test program, adds up their "N passed, M failed" lines, and prints the total last.
# A program that crashes or prints no summary counts as one failure.
build=$1; shift
passed=0; failed=0
for t in "$@"; do
    case "$t" in
    *.sh) out=$(sh "$t" "$build" 2>&1); rc=$? ;;   # a script: it is given the build folder
    *) out=$($TEST_RUNNER "$t" 2>&1); rc=$? ;;     # TEST_RUNNER: a prefix such as an emulator (make test-baseline)
    esac
    line=$(printf '%s\n' "$out" | grep -E '^[A-Za-z0-9_]+: [0-9]+ passed, [0-9]+ failed$' | tail -n 1)
    if [ -z "$line" ]; then
        printf '%s\n' "$out" | tail -n 20
        echo "$(basename "$t"): crashed or printed no summary (exit $rc)"
        failed=$((failed + 1)); continue
    fi
    p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
    f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed$/\1/')
    [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
    [ "$f" -ne 0 ] && printf '%s\n' "$out" | grep -E '^FAIL' | head -n 20
    echo "$line"
    passed=$((passed + p)); failed=$((failed + f))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
