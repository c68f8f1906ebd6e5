# Helpers shared by the bench/ scripts (sourced, not run).
#   measure LABEL CMD...     -> "LABEL seconds maxrss_kb" (exits on failure)
#   median                   the median line of "label seconds kb" lines (by seconds)
#   best                     the fastest of such lines
#   dango_settings           the SQL settings Dango loads with, for the
#                            references run "with Dango's settings"
#                            (bench/duckdb_ctas.c adds its malloc settings)
#   loadavg                  the 1-minute load average now
#   build_ctas OUT           bench/duckdb_ctas.c, the loads' reference, built
#                            with Dango's __dango_row_id() linked in
#   bench_record WHAT DANGO REF RATIO GOAL
#                            a line for the table `make bench` prints at the end
#                            (bench/out/ratios.tsv; BENCH_RATIOS overrides)
# The machine may be shared: each figure is a median of alternating runs,
# and every line carries the load average it was taken under.
bench_ratios=${BENCH_RATIOS:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/out/ratios.tsv}
mkdir -p "$(dirname "$bench_ratios")"

measure() {
    local label=$1; shift
    /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" >"$work/$label.log" 2>&1 || {
        echo "bench: $label failed:" >&2; cat "$work/$label.log" >&2; exit 1; }
    read -r secs kb <"$work/time.txt"
    echo "$label $secs $kb"
}

median() {
    sort -n -k2 | awk '{ l[NR] = $0 } END { print l[int((NR + 1) / 2)] }'
}

best() {
    sort -n -k2 | head -1
}

dango_settings="SET preserve_insertion_order = false"

loadavg() {
    cut -d' ' -f1 /proc/loadavg
}

bench_record() {
    printf "%s\t%s\t%s\t%s\t%s\t%s\n" "$1" "$2" "$3" "$4" "$5" "$(loadavg)" >>"$bench_ratios"
}

build_ctas() {
    local top
    top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    cc -O2 -D_GNU_SOURCE -I "$top/src" -I "$top/third_party/duckdb/include" -o "$1" "$top/bench/duckdb_ctas.c" \
       "$top/src/warehouse/row_id.c" "$top/src/core/util.c" "$top/src/core/xalloc.c" \
       -L "$top/third_party/duckdb/lib" -lduckdb -Wl,-rpath,"$top/third_party/duckdb/lib"
}
