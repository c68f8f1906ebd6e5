#!/usr/bin/env bash
# Run every fuzz target (build-fuzz/fuzz/fuzz_*, from `make fuzz`) for
# FUZZ_SECONDS (default 30) on its seed corpus tests/fuzz/corpus/<target>/.
# New inputs go to a scratch folder, never into the tree; a crash leaves its
# input in build-fuzz/artifacts/ and fails the run. Ends "N/N targets clean".
#   FUZZ_SECONDS=300 tests/fuzz/smoke.sh jinja    only targets matching "jinja"
set -u
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-30}
filter=${1:-}
arts=build-fuzz/artifacts
mkdir -p "$arts"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
total=0 clean=0
for bin in build-fuzz/fuzz/fuzz_*; do
    [ -x "$bin" ] || continue
    name=${bin##*/fuzz_}
    [ -z "$filter" ] || [[ "$name" == *"$filter"* ]] || continue
    total=$((total + 1))
    mkdir -p "$scratch/$name"
    log="$scratch/$name.log"
    dict=()
    [ -f "tests/fuzz/$name.dict" ] && dict=(-dict="tests/fuzz/$name.dict")
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ASAN_OPTIONS=detect_leaks=1 \
        "$bin" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2560 -malloc_limit_mb=1024 \
        -print_final_stats=1 -artifact_prefix="$arts/$name-" "${dict[@]}" \
        "$scratch/$name" "tests/fuzz/corpus/$name" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    if [ $rc -eq 0 ]; then
        clean=$((clean + 1))
        echo "ok   $name: ${execs:-?} executions, ${cov:-cov: ?}"
    else
        echo "FAIL $name (exit $rc):"
        grep -E 'ERROR|SUMMARY|runtime error|Test unit written|==[0-9]+==' "$log" | head -20 | sed 's/^/    /'
    fi
done
echo "$clean/$total targets clean"
[ "$clean" -eq "$total" ]
