#!/usr/bin/env bash
# On a postgres target (#19), against a real server: snapshots (timestamp
# and check strategies, the versions closed and opened over two runs, a
# failure leaving the snapshot as it was), the merge incremental strategy
# (merge_update_columns, new rows inserted), unit tests (pass, and a
# failure with dbt's diff) and on-run-end's results.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

# the snapshot time is Dango's clock: DANGO_NOW, frozen for the run
export DANGO_CLOCK_SPEED=0

pg_start || { echo "not ok - PostgreSQL could not start"; exit 1; }
psql_do "CREATE DATABASE wh"
PGDB=wh psql_do "CREATE TABLE public.orders (id int, status text, amount int, note text, updated_at timestamp);
  INSERT INTO public.orders VALUES (1, 'placed', 10, 'a', '2024-01-01'), (2, 'placed', 20, 'b', '2024-01-01');
  CREATE TABLE public.run_log (n int, statuses text)"

mkdir -p p/models p/snapshots
cat >p/dbt_project.yml <<\EOF
name: p
profile: p
snapshots:
  p:
    +target_schema: snaps
on-run-end: "insert into public.run_log values ({{ results | length }}, '{{ results | map(attribute='status') | join(',') }}')"
EOF
pg_dbt_profile
cat >p/models/sources.yml <<\EOF
sources:
  - name: raw
    schema: public
    tables:
      - name: orders
unit_tests:
  - name: doubles_amount
    model: doubled
    given:
      - input: source('raw', 'orders')
        rows: [{id: 1, amount: 2}, {id: 2, amount: null}]
    expect:
      rows: [{id: 1, twice: 4}, {id: 2, twice: null}]
  - name: wrong_expectation
    model: doubled
    given:
      - input: source('raw', 'orders')
        rows: [{id: 1, amount: 2}]
    expect:
      rows: [{id: 1, twice: 5}]
EOF
echo "select id, amount * 2 as twice from {{ source('raw', 'orders') }}" >p/models/doubled.sql
cat >p/models/merged.sql <<\EOF
{{ config(materialized='incremental', incremental_strategy='merge', unique_key='id', merge_update_columns=['amount']) }}
select id, amount, note from {{ source('raw', 'orders') }}
EOF
cat >p/snapshots/snaps.sql <<\EOF
{% snapshot orders_ts %}
{{ config(unique_key='id', strategy='timestamp', updated_at='updated_at') }}
select id, status, updated_at from {{ source('raw', 'orders') }}
{% endsnapshot %}
{% snapshot orders_check %}
{{ config(unique_key='id', strategy='check', check_cols=['status']) }}
select id, status from {{ source('raw', 'orders') }}
{% endsnapshot %}
EOF

pgcsv() { PGDB=wh psql_do "COPY ($1) TO STDOUT WITH CSV"; }

test_expect_success 'dango snapshot: the first run takes every row as the current version' '
    DANGO_NOW=2024-01-05T00:00:00Z dango snapshot --project-dir p --profiles-dir . >out 2>err &&
    test_grep "OK snapshotted snaps.orders_ts .* \[INSERT 0 2 in" out &&
    test_grep "OK snapshotted snaps.orders_check " out &&
    pgcsv "SELECT id, status, dbt_valid_from, dbt_valid_to, dbt_scd_id = md5(id::text || '"'"'|'"'"' || updated_at::text)
           FROM snaps.orders_ts ORDER BY id" >actual &&
    cat >expect <<-\EOF &&
	1,placed,2024-01-01 00:00:00,,t
	2,placed,2024-01-01 00:00:00,,t
	EOF
    test_cmp expect actual
'

test_expect_success 'a second run closes the changed rows and adds their new versions' '
    PGDB=wh psql_do "UPDATE public.orders SET status = '"'"'shipped'"'"', updated_at = '"'"'2024-01-06'"'"' WHERE id = 1;
      INSERT INTO public.orders VALUES (3, '"'"'placed'"'"', 30, '"'"'c'"'"', '"'"'2024-01-06'"'"')" &&
    DANGO_NOW=2024-01-07T00:00:00Z dango snapshot --project-dir p --profiles-dir . >out 2>err &&
    test_grep "OK snapshotted snaps.orders_ts .* \[INSERT 0 2 in" out &&
    pgcsv "SELECT id, status, dbt_valid_from, dbt_valid_to FROM snaps.orders_ts ORDER BY id, dbt_valid_from" >actual &&
    cat >expect <<-\EOF &&
	1,placed,2024-01-01 00:00:00,2024-01-06 00:00:00
	1,shipped,2024-01-06 00:00:00,
	2,placed,2024-01-01 00:00:00,
	3,placed,2024-01-06 00:00:00,
	EOF
    test_cmp expect actual &&
    pgcsv "SELECT id, status, dbt_valid_from, dbt_valid_to FROM snaps.orders_check ORDER BY id, dbt_valid_from" >actual &&
    cat >expect <<-\EOF &&
	1,placed,2024-01-05 00:00:00,2024-01-07 00:00:00
	1,shipped,2024-01-07 00:00:00,
	2,placed,2024-01-05 00:00:00,
	3,placed,2024-01-07 00:00:00,
	EOF
    test_cmp expect actual
'

test_expect_success 'a snapshot that fails leaves the snapshot table as it was' '
    cp p/snapshots/snaps.sql snaps.sql.orig &&
    sed -i "s/select id, status, updated_at from/select id, status, updated_at, 1\/(id - 2) as boom from/" p/snapshots/snaps.sql &&
    test_expect_code 1 dango snapshot --project-dir p --profiles-dir . -s orders_ts >out 2>err &&
    test_grep "ERROR creating snapshot snaps.orders_ts " out &&
    test_grep "division by zero" out &&
    pgcsv "SELECT count(*) FROM snaps.orders_ts" >actual &&
    echo 4 >expect && test_cmp expect actual &&
    pgcsv "SELECT count(*) FROM information_schema.columns WHERE table_name = '"'"'orders_ts'"'"' AND column_name = '"'"'boom'"'"'" >actual &&
    echo 0 >expect && test_cmp expect actual &&
    cp snaps.sql.orig p/snapshots/snaps.sql
'

test_expect_success 'merge: matched rows update the merge_update_columns, new rows are inserted' '
    dango run --project-dir p --profiles-dir . -s merged >out &&
    PGDB=wh psql_do "UPDATE public.orders SET amount = 11, note = '"'"'changed'"'"' WHERE id = 1;
      INSERT INTO public.orders VALUES (4, '"'"'placed'"'"', 40, '"'"'d'"'"', '"'"'2024-01-08'"'"')" &&
    dango run --project-dir p --profiles-dir . -s merged >out &&
    test_grep "OK created sql incremental model analytics.merged " out &&
    pgcsv "SELECT id, amount, note FROM analytics.merged ORDER BY id" >actual &&
    cat >expect <<-\EOF &&
	1,11,a
	2,20,b
	3,30,c
	4,40,d
	EOF
    test_cmp expect actual
'

test_expect_success 'unit tests run on PostgreSQL: a pass, and a failure with the diff' '
    dango run --project-dir p --profiles-dir . -s doubled >out &&
    test_expect_code 1 dango test --project-dir p --profiles-dir . >out &&
    test_grep "PASS doubled::doubles_amount " out &&
    test_grep "FAIL 2 doubled::wrong_expectation " out &&
    test_grep "@@,id,twice$" out &&
    test_grep "  +++,1,4$" out &&
    test_grep "  ---,1,5$" out
'

test_expect_success 'on-run-end sees the results of the nodes that ran' '
    pgcsv "SELECT n, statuses FROM public.run_log ORDER BY ctid DESC LIMIT 1" >actual &&
    echo "2,\"pass,fail\"" >expect && test_cmp expect actual
'

test_done
