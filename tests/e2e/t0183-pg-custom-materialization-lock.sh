#!/usr/bin/env bash
# A custom materialization on a postgres target (#19) builds its relation
# under the advisory lock the built-in ones take (one build of a relation
# at a time): a second dango build of the model waits for the first, even
# though the macro commits itself midway (adapter.commit()), then reads
# what the first wrote. The macro here reads the table's row count, waits
# on a gate the test holds, and appends count + 1: two builds at once
# append 2 and 3, never 2 twice. A failing materialization releases the
# lock (the next build goes on).
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_start || { echo "not ok - PostgreSQL could not start"; exit 1; }
psql_do "CREATE DATABASE wh"
PGDB=wh psql_do "CREATE TABLE public.gate (x int)"
whv() { psql -X -A -t -h "$PGROOT" -p "$PGPORT" -U dango -d wh -v ON_ERROR_STOP=1 -c "$1"; }

mkdir -p p/models p/macros
printf 'name: p\nprofile: p\n' >p/dbt_project.yml
pg_dbt_profile
cat >p/macros/counted.sql <<\EOF
{% materialization counted, adapter='postgres' %}
  {%- set target_relation = this.incorporate(type='table') -%}
  {% call statement('create') %}create table if not exists {{ target_relation }} (run int){% endcall %}
  {% do adapter.commit() %}
  {% set n = run_query("select count(*) from " ~ target_relation).columns[0].values()[0] %}
  {% do run_query("select count(*) from public.gate") %}
  {% if config.get('fail') %}
    {{ exceptions.raise_compiler_error("failing on purpose") }}
  {% endif %}
  {% call statement('main') %}insert into {{ target_relation }} values ({{ n + 1 }}){% endcall %}
  {% do adapter.commit() %}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
EOF
echo "{{ config(materialized='counted') }} select 1 as x" >p/models/runs.sql
build() { dango build --project-dir p --profiles-dir . "$@"; }
# the advisory locks of the server: how many are held, how many waited for
advisory() { whv "SELECT count(*) FILTER (WHERE granted) || '/' || count(*) FILTER (WHERE NOT granted) FROM pg_locks WHERE locktype = 'advisory'"; }
wait_for() { for i in $(seq 1 200); do [ "$($1)" = "$2" ] && return 0; sleep 0.1; done; echo "never $2 from $1: $($1)"; return 1; }
gate_waiters() { whv "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'gate' AND NOT l.granted"; }
close_gate() {
    { psql -X -q -h "$PGROOT" -p "$PGPORT" -U dango -d wh -c "BEGIN; LOCK TABLE public.gate; SELECT pg_sleep(120)" >/dev/null 2>&1 & } &&
    wait_for gate_holders 1
}
gate_holders() { whv "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'gate' AND l.granted AND l.mode = 'AccessExclusiveLock'"; }
open_gate() { PGDB=wh psql_do "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'BEGIN; LOCK TABLE public.gate%'" >/dev/null; }

test_expect_success 'a build alone appends 1, holding no lock after' '
    build >out 2>err && test_grep "OK created sql counted model analytics.runs " out &&
    whv "SELECT run FROM analytics.runs" >got && echo 1 >expect && test_cmp expect got &&
    advisory >got && echo "0/0" >expect && test_cmp expect got
'

test_expect_success 'a second build waits for the first on the lock, then appends after it' '
    close_gate &&
    { build >out1 2>err1 & } && b1=$! &&
    wait_for gate_waiters 1 && wait_for advisory "1/0" &&
    { build >out2 2>err2 & } && b2=$! &&
    wait_for advisory "1/1" && gate_waiters >got && echo 1 >expect && test_cmp expect got &&
    open_gate && wait $b1 && wait $b2 &&
    test_grep "OK created sql counted model analytics.runs " out1 &&
    test_grep "OK created sql counted model analytics.runs " out2 &&
    whv "SELECT run FROM analytics.runs ORDER BY run" >got && printf "1\n2\n3\n" >expect && test_cmp expect got &&
    advisory >got && echo "0/0" >expect && test_cmp expect got
'

test_expect_success 'a failing build releases the lock: the next one goes on' '
    echo "{{ config(materialized='"'"'counted'"'"', fail=true) }} select 1 as x" >p/models/runs.sql &&
    test_expect_code 1 build >out 2>err && test_grep "failing on purpose" out &&
    advisory >got && echo "0/0" >expect && test_cmp expect got &&
    echo "{{ config(materialized='"'"'counted'"'"') }} select 1 as x" >p/models/runs.sql &&
    build >out 2>err && test_grep "OK created sql counted model analytics.runs " out &&
    whv "SELECT run FROM analytics.runs ORDER BY run" >got && printf "1\n2\n3\n4\n" >expect && test_cmp expect got
'

test_done
