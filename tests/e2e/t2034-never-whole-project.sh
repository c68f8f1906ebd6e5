#!/usr/bin/env bash
# What Dango does not support fails only its own node (ERROR with the
# reason, dependents SKIP), never the project: a materialization nobody
# defines, a Python model in a package, a microbatch model lacking what it
# needs; an
# error inside a macro names the calling node, then the macro's file:line;
# undefined names print empty as in dbt
. "$(dirname "$0")/lib.sh"

mkdir -p p/models p/macros p/dbt_packages/pk/models
printf 'name: p\nprofile: p\n' >p/dbt_project.yml
printf 'p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: x.duckdb\n' >profiles.yml
printf 'name: pk\nversion: "1.0.0"\n' >p/dbt_packages/pk/dbt_project.yml
printf 'def model(dbt, session):\n    return None\n' >p/dbt_packages/pk/models/pk_py.py
echo "select * from {{ ref('pk_py') }}" >p/models/after_py.sql
cat >p/macros/h.sql <<\EOF
{% macro helper(x) %}
  {{ x.foo.bar() }}
{% endmacro %}
EOF
echo "select {{ helper(none) }} as y" >p/models/calls_macro.sql
printf "{{ config(materialized='nosuch') }}\nselect 1 as z\n" >p/models/custom.sql
echo "select * from {{ ref('custom') }}" >p/models/after_custom.sql
printf "{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='t') }}\nselect 1 as t\n" >p/models/batchy.sql
printf "select '{{ undefined_name }}' as u, '{{ this.no_such_attr }}' as a, 1 as ok\n" >p/models/lenient.sql
echo "select 1 as ok" >p/models/fine.sql
norm() { sed -E 's/^[0-9]{2}:[0-9]{2}:[0-9]{2}  //'; }

test_expect_success 'each unsupported node fails alone; the rest of the project runs' '
    test_expect_code 1 dango run --project-dir p --profiles-dir . >out 2>err && norm <out >actual &&
    test_grep "ERROR creating sql table model main.pk_py " actual &&
    test_grep "Python models are not supported by Dango; write the model in SQL" actual &&
    test_grep "SKIP relation main.after_py " actual &&
    test_grep "ERROR creating sql table model main.custom " actual &&
    test_grep "materialization .nosuch. is not supported by Dango" actual &&
    test_grep "SKIP relation main.after_custom " actual &&
    test_grep "ERROR creating sql microbatch model main.batchy " actual &&
    test_grep "Microbatch model .batchy. does not have a .batch_size. config" actual &&
    test_grep "OK created sql view model main.fine " actual &&
    test_grep "OK created sql view model main.lenient " actual &&
    test_grep "^Done. PASS=2 WARN=0 ERROR=4 SKIP=2 TOTAL=8$" actual
'

test_expect_success 'an error in a macro names the node that called it, then the macro file:line' '
    grep -A1 "^Compilation Error in model calls_macro (models/calls_macro.sql)$" actual >got &&
    test_grep "^  macros/h.sql:2:6: .None. has no attribute .foo.$" got
'

test_expect_success 'undefined names and missing attributes print empty, as in dbt' '
    dango init peek >/dev/null && cp x.duckdb peek/data/warehouse.duckdb &&
    (cd peek && dango query --csv "select * from main.lenient") >got &&
    printf "u,a,ok\n,,1\n" >expect && test_cmp expect got
'

test_done
