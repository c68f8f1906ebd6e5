#!/usr/bin/env bash
# on-run-start / on-run-end (results, schemas, database_schemas in the
# context) and dango run-operation MACRO --args
. "$(dirname "$0")/lib.sh"

mkdir -p p/models p/macros
cat >p/dbt_project.yml <<\EOF
name: p
profile: p
on-run-start:
  - "create table if not exists main.audit (kind varchar, what varchar, status varchar)"
  - "insert into main.audit values ('start', '{{ target.name }}', null)"
on-run-end:
  - "{% for r in results %}insert into main.audit values ('end', '{{ r.node.name }}', '{{ r.status }}');{% endfor %}"
  - "insert into main.audit values ('schemas', '{{ schemas | sort | join(',') }}', '{{ database_schemas | length }}')"
EOF
printf 'p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: h.duckdb\n' >profiles.yml
echo "select 1 as id" >p/models/a.sql
echo "{{ config(schema='x') }} select id from {{ ref('a') }} where nosuch" >p/models/b.sql
cat >p/macros/ops.sql <<\EOF
{% macro make_op(days, who='me') %}
  {% do run_query("create or replace table main.op as select " ~ days ~ " as days, '" ~ who ~ "' as who") %}
  {{ log("made op for " ~ who, info=True) }}
{% endmacro %}
EOF
dango init peek >/dev/null
sq() { cp h.duckdb peek/data/warehouse.duckdb && (cd peek && dango query --csv "$1"); }

test_expect_success 'on-run-start runs before the nodes, on-run-end after, with results and schemas' '
    test_expect_code 1 dango run --project-dir p --profiles-dir . >out 2>err &&
    test_grep "Running 2 on-run-start hooks" out &&
    test_grep "1 of 2 OK hook: p.on-run-start.0 .* \[OK\]" out &&
    test_grep "Running 2 on-run-end hooks" out &&
    test_grep "2 of 2 OK hook: p.on-run-end.1 " out &&
    sq "select * from main.audit order by kind, what" >actual &&
    cat >expect <<-\EOF &&
	kind,what,status
	end,a,success
	end,b,error
	schemas,"main,main_x",2
	start,dev,
	EOF
    test_cmp expect actual
'

test_expect_success 'a failing on-run-start hook stops the run before any node' '
    cp p/dbt_project.yml keep.yml &&
    printf "name: p\nprofile: p\non-run-start: \"select * from nosuch_table\"\n" >p/dbt_project.yml &&
    rm p/models/b.sql &&
    test_expect_code 1 dango run --project-dir p --profiles-dir . >out 2>err &&
    test_grep "ERROR hook: p.on-run-start.0" out &&
    test_grep "on-run-start hook p.on-run-start.0 failed: .*nosuch_table" err &&
    ! grep -q "START sql view model" out &&
    cp keep.yml p/dbt_project.yml
'

test_expect_success 'dango run-operation calls a macro with --args' '
    dango run-operation make_op --args "{days: 7, who: ann}" --project-dir p --profiles-dir . >out &&
    test_grep "made op for ann" out &&
    sq "select * from main.op" >actual && printf "days,who\n7,ann\n" >expect && test_cmp expect actual &&
    dango run-operation make_op --args "{days: 1}" --project-dir p --profiles-dir . >out &&
    sq "select * from main.op" >actual && printf "days,who\n1,me\n" >expect && test_cmp expect actual &&
    test_expect_code 1 dango run-operation nosuch --project-dir p --profiles-dir . 2>err &&
    test_grep "no macro named .nosuch." err &&
    test_expect_code 2 dango run-operation --project-dir p --profiles-dir . 2>err &&
    test_grep "run-operation takes one macro name" err
'

test_done
