#!/usr/bin/env bash
# The microbatch incremental strategy on a postgres target (#19), against
# a real server, as dbt-postgres runs it: batches of batch_size by
# event_time, each rendered with the batch's refs filtered; the first
# batch builds the table, the others merge their rows on the unique_key
# (dbt-postgres' microbatch needs one), each in its own transaction;
# --event-time-start/--event-time-end choose the batches.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_start || { echo "not ok - PostgreSQL could not start"; exit 1; }
psql_do "CREATE DATABASE wh"

mkdir -p p/models p/seeds
printf 'name: p\nprofile: p\n' >p/dbt_project.yml
pg_dbt_profile
printf 'id,ts,v\n1,2024-01-01 10:00:00,a\n2,2024-01-02 11:00:00,b\n3,2024-01-03 12:00:00,c\n4,2024-01-05 09:00:00,d\n' >p/seeds/events.csv
printf 'seeds:\n  - name: events\n    config: {event_time: ts}\n' >p/seeds/s.yml
cat >p/models/mb.sql <<\EOF
{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='ts',
          batch_size='day', begin='2024-01-01', unique_key='id') }}
select id, ts, v, '{{ model.batch.id }}' as batch from {{ ref('events') }}
EOF
cat >p/models/nokey.sql <<\EOF
{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='ts',
          batch_size='day', begin='2024-01-01') }}
select id, ts from {{ ref('events') }}
EOF
pgcsv() { PGDB=wh psql_do "COPY ($1) TO STDOUT WITH CSV"; }

test_expect_success 'the first run: one batch a day of the range, only its rows' '
    dango seed --project-dir p --profiles-dir . >out 2>err &&
    dango run -s mb --event-time-start 2024-01-01 --event-time-end 2024-01-04 \
        --project-dir p --profiles-dir . >out 2>err &&
    test_grep "Batch 1 of 3 OK created batch 2024-01-01 of analytics.mb " out &&
    test_grep "Batch 3 of 3 OK created batch 2024-01-03 of" out &&
    test_grep "OK created sql incremental model analytics.mb " out &&
    pgcsv "SELECT id, ts, v, batch FROM analytics.mb ORDER BY id" >actual &&
    printf "1,2024-01-01 10:00:00,a,20240101\n2,2024-01-02 11:00:00,b,20240102\n3,2024-01-03 12:00:00,c,20240103\n" >expect &&
    test_cmp expect actual &&
    jq -r ".results[] | select(.unique_id == \"model.p.mb\") | [.status, (.batch_results.successful | length)] | @tsv" \
        p/target/run_results.json >actual &&
    printf "success\t3\n" >expect && test_cmp expect actual
'

test_expect_success 'a later batch merges its rows on the unique_key, the others stay' '
    printf "id,ts,v\n1,2024-01-01 10:00:00,a\n2,2024-01-02 11:00:00,B\n3,2024-01-03 12:00:00,C\n5,2024-01-02 20:00:00,e\n" >p/seeds/events.csv &&
    dango seed --project-dir p --profiles-dir . >out 2>err &&
    dango run -s mb --event-time-start 2024-01-02 --event-time-end 2024-01-03 \
        --project-dir p --profiles-dir . >out 2>err &&
    test_grep "Batch 1 of 1 OK created batch 2024-01-02 of" out &&
    pgcsv "SELECT id, v, batch FROM analytics.mb ORDER BY id" >actual &&
    printf "1,a,20240101\n2,B,20240102\n3,c,20240103\n5,e,20240102\n" >expect &&
    test_cmp expect actual &&
    grep -q "merge into \"analytics\".\"mb\"" p/target/run/p/models/mb.sql
'

test_expect_success 'without a unique_key it fails as dbt-postgres does, the others go on' '
    test_expect_code 1 dango run --event-time-start 2024-01-01 --event-time-end 2024-01-02 \
        --project-dir p --profiles-dir . >out 2>err &&
    test_grep "ERROR creating sql incremental model analytics.nokey " out &&
    test_grep "dbt-postgres .microbatch. requires a .unique_key. config" out &&
    test_grep "OK created sql incremental model analytics.mb " out &&
    pgcsv "SELECT count(*) FROM pg_class WHERE relname = '"'"'nokey'"'"'" >actual &&
    echo 0 >expect && test_cmp expect actual
'

test_done
