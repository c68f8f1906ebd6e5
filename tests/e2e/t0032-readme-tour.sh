#!/usr/bin/env bash
# The README's short tour, run verbatim: its commands are read from
# README.md, so the tour and the product cannot drift apart.
. "$(dirname "$0")/lib.sh"

sed -n '/^## A short tour/,/^A project looks like this:/p' "$SRC_DIR/README.md" |
    sed -n 's/^    //p' >tour.sh

test_expect_success 'the tour has its commands' '
    test_grep "^dango init shop" tour.sh &&
    test_grep "^dango source add csv --name sales --path data/sales.csv" tour.sh &&
    test $(wc -l <tour.sh) -ge 15
'

test_expect_success 'every command of the tour succeeds, in order, on a new project' '
    L=$TRASH/tour.log && : >"$L" &&
    while IFS= read -r line; do
        echo "\$ $line" >>"$L"
        eval "$line" >>"$L" 2>&1 </dev/null || { echo "tour failed at: $line"; cat "$L"; exit 1; }
    done <tour.sh &&
    cd "$TRASH"
'

test_expect_success 'and did what it says: the source added, loaded, modelled, tested' '
    test_grep "✓ Source added to .dango/sources.yml" tour.log &&
    test_grep ! "✗" tour.log &&
    test_grep "Source '"'"'sales'"'"' is ready to sync" tour.log &&
    test_grep "All checks passed" tour.log &&
    test_grep "Loaded 2 rows into raw_sales.sales" tour.log &&
    test_grep "Completed successfully" tour.log &&
    cd shop && q "SELECT id, day, amount FROM staging.stg_sales ORDER BY id" >actual &&
    printf "1,2024-01-01,9.5\n2,2024-01-02,12.0\n" >expect && test_cmp expect actual
'

test_done
