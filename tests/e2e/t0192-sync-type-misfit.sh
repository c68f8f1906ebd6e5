#!/usr/bin/env bash
# A file whose column types change names each column that no longer fits,
# with a value, and only those (#19): a DOUBLE column that now needs
# UHUGEINT (a value past DOUBLE's exact range, whose check used to fail the
# query and, with it, the checks of the next columns: a SMALLINT column now
# UTINYINT, whose values fit, was reported "of another kind"). The same on
# a DuckDB and a postgres warehouse; --allow-schema-changes then keeps
# every digit.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_warehouse_start

for P in d p; do dango init $P --skip-wizard >/dev/null </dev/null; done
(cd p && pg_warehouse_use)

test_expect_success 'setup: a CSV read as DOUBLE and SMALLINT, synced on both warehouses' '
    for P in d p; do
        (cd $P && printf "id,h,u1\n1,5,5\n" >data/a.csv &&
         dango source add csv --name a --path data/a.csv --set write_disposition=merge --set "primary_key=[id]" \
            --set "column_types={h: DOUBLE, u1: SMALLINT}" >/dev/null &&
         dango sync a >out 2>err && test_grep "Loaded 1 row into raw_a.a" out) || return 1
    done
'

test_expect_success 'now UHUGEINT and UTINYINT: only the column that does not fit is refused, with its value' '
    for P in d p; do
        (cd $P && sed -i "s/h: DOUBLE, u1: SMALLINT/h: UHUGEINT, u1: UTINYINT/" .dango/sources.yml &&
         printf "id,h,u1\n2,340282366920938463463374607431768211455,6\n" >data/a.csv &&
         test_must_fail dango sync a >out 2>err &&
         test_grep "column .h. no longer fits its type in raw_a.a: it was DOUBLE, the file now needs UHUGEINT (a value .340282366920938463463374607431768211455.)" err &&
         test_grep ! "u1" err && test_grep ! "of another kind" err) || return 1
    done
'

test_expect_success '--allow-schema-changes loads it, every digit kept, on both' '
    for P in d p; do
        (cd $P && dango sync a --allow-schema-changes >out 2>err &&
         test_grep "accepted (--allow-schema-changes): h DOUBLE -> UHUGEINT" out &&
         dango query --csv "SELECT id, h, u1 FROM raw_a.a ORDER BY id" >../$P.rows) || return 1
    done &&
    printf "id,h,u1\n2,340282366920938463463374607431768211455,6\n" >expect &&
    test_cmp expect d.rows && test_cmp expect p.rows
'

test_done
