#!/usr/bin/env bash
# On a postgres target (#19): dbt runs need no file lock, so two runs may
# go on at once. Each model's build takes an advisory lock on its relation,
# so two runs building the same models (into a schema neither has created
# yet) both succeed, one after the other for each model, and the tables
# hold one build's rows, never a mix or a half-built table.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_start || { echo "not ok - PostgreSQL could not start"; exit 1; }
psql_do "CREATE DATABASE wh"

mkdir -p p/models
cat >p/dbt_project.yml <<\EOF
name: p
profile: p
models:
  p:
    +schema: fresh
EOF
pg_dbt_profile
# pg_sleep makes the two runs' builds of each model overlap
cat >p/models/slow_a.sql <<\EOF
{{ config(materialized='table') }}
select n, '{{ var("who") }}' as who from generate_series(1, 1000) as n, (select pg_sleep(1)) as s
EOF
cat >p/models/slow_b.sql <<\EOF
{{ config(materialized='table') }}
select n, who from {{ ref('slow_a') }}, (select pg_sleep(1)) as s
EOF
cat >p/models/slow_v.sql <<\EOF
{{ config(materialized='view') }}
select count(*) as rows from {{ ref('slow_b') }}, (select pg_sleep(0.5)) as s
EOF

pgcsv() { PGDB=wh psql_do "COPY ($1) TO STDOUT WITH CSV"; }

test_expect_success 'two runs at once both succeed, and each table holds one whole build' '
    { dango run --project-dir p --profiles-dir . --vars "{who: one}" >out1 2>err1; echo $? >rc1; } &
    { dango run --project-dir p --profiles-dir . --vars "{who: two}" >out2 2>err2; echo $? >rc2; } &
    wait &&
    echo 0 >expect && test_cmp expect rc1 && test_cmp expect rc2 &&
    test_grep "Done. PASS=3 WARN=0 ERROR=0 SKIP=0 TOTAL=3" out1 &&
    test_grep "Done. PASS=3 WARN=0 ERROR=0 SKIP=0 TOTAL=3" out2 &&
    pgcsv "SELECT count(*), count(DISTINCT who) FROM analytics_fresh.slow_a" >actual &&
    echo 1000,1 >expect && test_cmp expect actual &&
    pgcsv "SELECT count(*), count(DISTINCT who) FROM analytics_fresh.slow_b" >actual &&
    echo 1000,1 >expect && test_cmp expect actual &&
    pgcsv "SELECT * FROM analytics_fresh.slow_v" >actual &&
    echo 1000 >expect && test_cmp expect actual &&
    pgcsv "SELECT count(*) FROM pg_tables WHERE schemaname = '"'"'analytics_fresh'"'"' AND tablename LIKE '"'"'%__dbt_%'"'"'" >actual &&
    echo 0 >expect && test_cmp expect actual
'

test_done
