#!/usr/bin/env bash
# Concurrent microbatch batches on a postgres target (#19), as on DuckDB
# (t2063): with more than one thread the batches between the first and the
# last run at once (concurrent_batches true, or unset and no `this`), each
# on a connection of its own and in a transaction of its own: their rows
# are computed at once (four batches wait on one gate together), then
# merged on the unique_key in batch order, so that the table is the one a
# serial run builds, even for a key several batches have. A failing batch
# (at run time or at compile time) fails alone, the others are merged.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_start || { echo "not ok - PostgreSQL could not start"; exit 1; }
psql_do "CREATE DATABASE wh"
PGDB=wh psql_do "CREATE TABLE public.gate (x int)"
whv() { psql -X -A -t -h "$PGROOT" -p "$PGPORT" -U dango -d wh -v ON_ERROR_STOP=1 -c "$1"; }
whq() { psql -X -A -F '|' -h "$PGROOT" -p "$PGPORT" -U dango -d wh -v ON_ERROR_STOP=1 -c "$1"; }

mkdir -p p/models p/seeds
printf 'name: p\nprofile: p\n' >p/dbt_project.yml
pg_dbt_profile
# key d on day d; key 100 on days 2 to 5, the batches that run at once
{
    echo "k,ts,v"
    for d in 1 2 3 4 5 6; do echo "$d,2024-01-0$d 06:00:00,a$d"; done
    for d in 2 3 4 5; do echo "100,2024-01-0$d 18:00:00,z$d"; done
} >p/seeds/events.csv
printf 'seeds:\n  - name: events\n    config: {event_time: ts}\n' >p/seeds/s.yml
model() {
    cat <<-EOF
	{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='ts',
	          batch_size='day', begin='2024-01-01', unique_key='k'${1:-}) }}
	{% if model.batch.id in env_var('COMPILE_FAIL', '').split(',') %}{{ exceptions.raise_compiler_error('no batch ' ~ model.batch.id) }}{% endif %}
	select k, ts, v, '{{ model.batch.id }}' as batch_id from {{ ref('events') }}
	{% if model.batch.id in env_var('FAIL_BATCHES', '').split(',') %} cross join no_such_table {% endif %}
	{% if env_var('GATE', '') and model.batch.id in ['20240102', '20240103', '20240104', '20240105'] %}
	where (select count(*) from public.gate) >= 0 {% endif %}
	EOF
}
model "" >p/models/conc.sql
model ", concurrent_batches=false" >p/models/inorder.sql
export DANGO_NOW=2024-01-06T10:00:00Z
run() { dango run --project-dir p --profiles-dir . "$@"; }
rows() { whq "SELECT k, ts, v, batch_id FROM analytics.$1 ORDER BY k"; }
wait_for() { for i in $(seq 1 300); do [ "$($1)" = "$2" ] && return 0; sleep 0.1; done; echo "never $2 from $1: $($1)"; return 1; }
gate_waiters() { whv "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'gate' AND NOT l.granted"; }
gate_holders() { whv "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'gate' AND l.granted AND l.mode = 'AccessExclusiveLock'"; }
close_gate() {
    { psql -X -q -h "$PGROOT" -p "$PGPORT" -U dango -d wh -c "BEGIN; LOCK TABLE public.gate; SELECT pg_sleep(120)" >/dev/null 2>&1 & } &&
    wait_for gate_holders 1
}
open_gate() { PGDB=wh psql_do "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'BEGIN; LOCK TABLE public.gate%'" >/dev/null; }
cat >expect.rows <<\EOF
k|ts|v|batch_id
1|2024-01-01 06:00:00|a1|20240101
2|2024-01-02 06:00:00|a2|20240102
3|2024-01-03 06:00:00|a3|20240103
4|2024-01-04 06:00:00|a4|20240104
5|2024-01-05 06:00:00|a5|20240105
6|2024-01-06 06:00:00|a6|20240106
100|2024-01-05 18:00:00|z5|20240105
(7 rows)
EOF

test_expect_success 'batches 2 to 5 at once, on 4 connections; the table as a serial run builds it' '
    dango seed --project-dir p --profiles-dir . >out 2>err &&
    run --threads 4 >out 2>err &&
    test_grep "Batches 2 to 5 of 6 of analytics.conc run concurrently, on 4 connections" out &&
    ! grep -q "of analytics.inorder run concurrently" out &&
    for i in 1 2 3 4 5 6; do test_grep "Batch $i of 6 OK created batch 2024-01-0$i of analytics.conc" out || return 1; done &&
    test_grep "OK created sql incremental model analytics.conc " out &&
    rows conc >got && test_cmp expect.rows got &&
    rows inorder >got && test_cmp expect.rows got
'

test_expect_success 'their rows are computed at once: the four wait on one gate together' '
    close_gate &&
    { GATE=1 run -s conc --full-refresh --threads 4 >out 2>err & } && r=$! &&
    wait_for gate_waiters 4 &&
    open_gate && wait $r &&
    test_grep "Batches 2 to 5 of 6 of analytics.conc run concurrently, on 4 connections" out &&
    rows conc >got && test_cmp expect.rows got
'

test_expect_success 'an incremental run merges the batches again, in order; one thread runs them in order' '
    PGDB=wh psql_do "UPDATE analytics.conc SET v = '"'"'old'"'"'" &&
    run -s conc --threads 3 --event-time-start 2024-01-01 --event-time-end 2024-01-07 >out 2>err &&
    test_grep "Batches 2 to 5 of 6 of analytics.conc run concurrently, on 3 connections" out &&
    rows conc >got && test_cmp expect.rows got &&
    run -s conc --full-refresh --threads 1 >out 2>err && ! grep -q "run concurrently" out &&
    rows conc >got && test_cmp expect.rows got
'

test_expect_success 'a batch that fails, at run or compile time, fails alone; the others are merged in order' '
    PGDB=wh psql_do "UPDATE analytics.conc SET v = '"'"'old'"'"'" &&
    FAIL_BATCHES=20240103 COMPILE_FAIL=20240105 test_expect_code 1 run -s conc --threads 4 \
        --event-time-start 2024-01-01 --event-time-end 2024-01-07 >out 2>err &&
    test_grep "PARTIAL SUCCESS (4/6)" out &&
    test_grep "Batch 3 of 6 ERROR creating batch 2024-01-03 of analytics.conc" out &&
    test_grep "Batch 5 of 6 ERROR creating batch 2024-01-05 of analytics.conc" out &&
    test_grep "no batch 20240105" out &&
    whq "SELECT k, v FROM analytics.conc ORDER BY k" >got &&
    printf "k|v\n1|a1\n2|a2\n3|old\n4|a4\n5|old\n6|a6\n100|z4\n(7 rows)\n" >expect && test_cmp expect got &&
    whv "SELECT count(*) FROM pg_stat_activity WHERE datname = '"'"'wh'"'"' AND pid <> pg_backend_pid()" >got &&
    echo 0 >expect && test_cmp expect got
'

test_done
