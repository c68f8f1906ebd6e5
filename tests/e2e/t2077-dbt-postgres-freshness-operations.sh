#!/usr/bin/env bash
# On a postgres target (#19), against a real server: `dango freshness`
# reads the sources' newest loaded_at_field on the server (timestamp and
# timestamptz columns, a filter) and writes target/sources.json; `dango
# run-operation` runs a macro on the target's connection in one
# transaction: committed when it returns, nothing kept when it fails.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

export DANGO_CLOCK_SPEED=0
pg_start || { echo "not ok - PostgreSQL could not start"; exit 1; }
psql_do "CREATE DATABASE wh"
PGDB=wh psql_do "CREATE TABLE public.events (id int, loaded_at timestamp, kind text);
  INSERT INTO public.events VALUES (1, '2024-01-01 00:00:00', 'a'), (2, '2024-01-01 10:00:00', 'b');
  CREATE TABLE public.orders (id int, synced_at timestamptz);
  INSERT INTO public.orders VALUES (1, '2024-01-01 13:00:00+02')"

mkdir -p p/models p/macros
printf 'name: p\nprofile: p\n' >p/dbt_project.yml
pg_dbt_profile
cat >p/models/src.yml <<\EOF
sources:
  - name: raw
    schema: public
    freshness:
      warn_after: {count: 6, period: hour}
      error_after: {count: 1, period: day}
    tables:
      - name: events
        loaded_at_field: loaded_at
      - name: a_events
        identifier: events
        loaded_at_field: loaded_at
        freshness:
          warn_after: {count: 1, period: hour}
          filter: "kind = 'a'"
      - name: orders
        loaded_at_field: synced_at
EOF
cat >p/macros/ops.sql <<\EOF
{% macro log_run(note) %}
  {% do run_query("create table if not exists public.op_log (note text)") %}
  {% do run_query("insert into public.op_log values ('" ~ note ~ "')") %}
  {% set n = run_query("select count(*) from public.op_log").columns[0].values()[0] %}
  {{ log("op_log has " ~ n ~ " rows", info=True) }}
{% endmacro %}
{% macro half_done() %}
  {% do run_query("insert into public.op_log values ('half')") %}
  {% do run_query("select 1 / 0") %}
{% endmacro %}
EOF

test_expect_success 'freshness on PostgreSQL: pass, warn, a filter and a timestamptz column' '
    DANGO_NOW=2024-01-01T12:00:00Z dango freshness --project-dir p --profiles-dir . >out 2>err &&
    test_grep "PASS freshness of raw.events " out &&
    test_grep "WARN freshness of raw.a_events .*\[WARN in" out &&
    test_grep "PASS freshness of raw.orders " out &&
    test_grep "Done. PASS=2 WARN=1 ERROR=0 SKIP=0 TOTAL=3" out &&
    jq -c ".results[] | [.unique_id, .status, .max_loaded_at_time_ago_in_s]" p/target/sources.json | sort >actual &&
    cat >expect <<-\EOF &&
	["source.p.raw.a_events","warn",43200]
	["source.p.raw.events","pass",7200]
	["source.p.raw.orders","pass",3600]
	EOF
    test_cmp expect actual
'

test_expect_success 'freshness past error_after on PostgreSQL: ERROR STALE, exit 1' '
    DANGO_NOW=2024-01-03T00:00:00Z test_expect_code 1 dango freshness --project-dir p --profiles-dir . --select source:raw.events >out 2>err &&
    test_grep "ERROR STALE freshness of raw.events " out
'

test_expect_success 'run-operation on PostgreSQL: the macro runs on the server and is committed' '
    dango run-operation --project-dir p --profiles-dir . log_run --args "{note: first}" >out 2>err &&
    test_grep "op_log has 1 rows" out &&
    PGDB=wh psql_do "COPY (SELECT * FROM public.op_log) TO STDOUT" >actual &&
    echo first >expect && test_cmp expect actual
'

test_expect_success 'a run-operation that fails keeps nothing of what it did' '
    test_expect_code 1 dango run-operation --project-dir p --profiles-dir . half_done >out 2>err &&
    test_grep "Encountered an error while running operation" err &&
    test_grep "division by zero" err &&
    PGDB=wh psql_do "COPY (SELECT * FROM public.op_log) TO STDOUT" >actual &&
    echo first >expect && test_cmp expect actual
'

test_done
