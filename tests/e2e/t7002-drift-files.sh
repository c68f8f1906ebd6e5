#!/usr/bin/env bash
# Schema drift of a file source: a refused schema change records nothing
# (the sync failed); --allow-schema-changes loads it and still records the
# drift (the user allowed the load, not the downstream breakage); a new
# column is additive: recorded, never blocking. Both records agree: the
# loader's raw_<source>._dango_schema_changes (what a load was allowed to
# do) and the governance events (what downstream models may rely on).
. "$(dirname "$0")/lib.sh"

export DANGO_CLOCK_SPEED=0
T1=2026-03-28T10:00:00Z T2=2026-03-28T12:00:00Z

dango init p >/dev/null </dev/null
cd p
mkdir data/orders
printf "id,amount,currency\n1,10,EUR\n2,20,USD\n" >data/orders/a.csv
dango source add local_files --name shop_files --directory data/orders --set "file_pattern=*.csv" >/dev/null
last_load() { q "SELECT load_id FROM raw_shop_files._dlt_loads ORDER BY inserted_at DESC LIMIT 1"; }

test_expect_success 'first sync: baseline, no drift; a model over it runs' '
    DANGO_NOW=$T1 dango sync >out 2>err && test_grep ! -i drift err &&
    echo "select id, amount from {{ ref('"'stg_shop_files'"') }}" >dbt/models/marts/amounts.sql &&
    dango run >out 2>&1 && test_grep "Done. PASS=2 WARN=0 ERROR=0 SKIP=0 TOTAL=2" out
'

test_expect_success 'a refused schema change fails the sync and records no drift' '
    printf "id,amount\n3,10.5 EUR\n" >data/orders/b.csv &&
    test_must_fail dango sync >out 2>err &&
    test_grep "columns differ from raw_shop_files.shop_files; missing: currency" err &&
    dango governance drift-report >out && test_grep "No open schema drift" out
'

test_expect_success '--allow-schema-changes loads it and still records the drift' '
    DANGO_NOW=$T2 dango sync --allow-schema-changes >out 2>err &&
    test_grep "schema change of raw_shop_files.shop_files accepted (--allow-schema-changes): currency missing (NULL); amount BIGINT -> VARCHAR" out &&
    test_grep "breaking schema drift in raw_shop_files: shop_files.amount BIGINT -> VARCHAR, shop_files.currency removed" err &&
    LOAD=$(last_load) &&
    test_expect_code 1 dango governance drift-report shop_files >out &&
    cat >expect <<-EOF &&
	shop_files: 2 breaking changes open
	  breaking  shop_files.amount    type changed BIGINT -> VARCHAR  since $T2 (load $LOAD)
	  breaking  shop_files.currency  removed (was VARCHAR)           since $T2 (load $LOAD)
	  dbt models depending on it (2, skipped by dango run until accepted): amounts, stg_shop_files
	  To resolve: update the models for the new schema, then accept it and rebuild:
	    dango governance accept shop_files
	    dango run --select source:shop_files+
	EOF
    test_cmp expect out &&
    # the loader recorded the same changes, in the same load
    q "SELECT column_name, change, load_id FROM raw_shop_files._dango_schema_changes ORDER BY 1" >got &&
    printf "amount,type,%s\ncurrency,missing,%s\n" "$LOAD" "$LOAD" >expect && test_cmp expect got &&
    dango run >out 2>&1 &&
    test_grep "skipping 2 models downstream of shop_files: breaking schema drift (shop_files.amount BIGINT -> VARCHAR, shop_files.currency removed)" out &&
    test_grep "Done. PASS=0 WARN=0 ERROR=0 SKIP=2 TOTAL=2" out
'

test_expect_success 'after accept, later files without the column load without --allow-schema-changes' '
    dango governance accept shop_files >out &&
    printf "id,amount\n4,7\n" >data/orders/c.csv &&
    dango sync >out 2>err && test_grep ! -i drift err &&
    dango governance drift-report >out && test_grep "No open schema drift" out
'

test_expect_success 'a new column is additive: recorded, never blocking' '
    printf "id,amount,note\n5,8,hello\n" >data/orders/d.csv &&
    DANGO_NOW=$T2 dango sync --allow-schema-changes >out 2>err &&
    echo "⚠ new column in raw_shop_files: shop_files.note (VARCHAR) (recorded; nothing is blocked)" >expect &&
    test_cmp expect err &&
    dango governance drift-report >out &&
    LOAD=$(last_load) &&
    cat >expect <<-EOF &&
	shop_files: 0 breaking changes open
	  additive  shop_files.note  added (VARCHAR)  since $T2 (load $LOAD)
	EOF
    test_cmp expect out &&
    dango run >out 2>&1 && test_grep ! skipping out &&
    test_grep "Done. PASS=2 WARN=0 ERROR=0 SKIP=0 TOTAL=2" out &&
    dango governance accept shop_files >out &&
    test_grep "Accepted 1 schema change of shop_files" out &&
    dango governance baseline shop_files --json | jq -c "[.tables[0].columns[].name]" >got &&
    echo "[\"id\",\"amount\",\"note\"]" >expect && test_cmp expect got
'

test_done
