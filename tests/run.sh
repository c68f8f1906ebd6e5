#!/usr/bin/env bash
# Runs every test: the C unit tests (cmocka) and the end-to-end shell tests,
# two at a time, and ends with the line "N passed, N failed".
#   tests/run.sh                 everything
#   tests/run.sh t0004           only scripts/binaries whose name contains t0004
#   tests/run.sh t0004 t0173     those whose name contains either
set -u
cd "$(dirname "$0")/.."
root=$(pwd)
build=${BUILD:-build}
export BUILD=$build
export DANGO=${DANGO:-$root/dango}
filters=("$@")
# no filter: everything; else a name must contain one of them
wanted() {
    [ ${#filters[@]} -eq 0 ] && return 0
    local f
    for f in "${filters[@]}"; do [[ "$1" == *"$f"* ]] && return 0; done
    return 1
}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

jobs=()
for b in "$build"/tests/test_*; do
    [ -x "$b" ] || continue
    wanted "$b" || continue
    jobs+=("unit:$b")
done
for s in tests/e2e/t[0-9]*.sh; do
    wanted "$s" || continue
    jobs+=("e2e:$s")
done

run_one() {
    local kind=${1%%:*} path=${1#*:} name log
    name=$(basename "$path" .sh)
    log="$out/$name.log"
    if [ "$kind" = unit ]; then
        timeout -k 10 "${TEST_TIMEOUT:-900}" "$path" >"$log" 2>&1
        local rc=$?
        local ran ok
        ran=$(sed -n 's/^\[==========\] \([0-9]*\) test(s) run\./\1/p' "$log" | tail -1)
        ok=$(grep -c '^\[       OK \]' "$log")
        [ -n "$ran" ] || ran=$((ok + 1))   # crashed before its summary
        [ $rc -ne 0 ] && [ "$ran" -eq "$ok" ] && ran=$((ok + 1))
        echo "$ok $((ran - ok))" >"$log.count"
    else
        # a hung script must not hang the run: it fails after TEST_TIMEOUT
        timeout -k 10 "${TEST_TIMEOUT:-900}" bash "$path" >"$log" 2>&1
        local rc=$? ok bad
        [ $rc -eq 124 ] && echo "not ok - timed out after ${TEST_TIMEOUT:-900}s" >>"$log"
        ok=$(grep -c '^ok ' "$log")
        bad=$(grep -c '^not ok ' "$log")
        [ $rc -ne 0 ] && [ "$bad" -eq 0 ] && bad=1   # died outside a test
        echo "$ok $bad" >"$log.count"
    fi
}
export -f run_one
export out

printf '%s\n' "${jobs[@]}" | xargs -P "${TEST_JOBS:-2}" -I{} bash -c 'run_one "$@"' _ {}

passed=0 failed=0
for j in "${jobs[@]}"; do
    path=${j#*:}
    name=$(basename "$path" .sh)
    read -r p f <"$out/$name.log.count"
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$f" -gt 0 ]; then
        echo "FAIL $name ($p passed, $f failed)"
        sed 's/^/    /' "$out/$name.log" | tail -60
    else
        echo "ok   $name ($p passed)"
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
