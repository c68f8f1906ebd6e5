#!/usr/bin/env bash
# --empty: refs and sources become limit-0 subqueries, so that models build
# with their columns and no rows (a schema-only dry run), as dbt's flag
. "$(dirname "$0")/lib.sh"

mkdir -p p/models p/seeds
printf 'name: p\nprofile: p\n' >p/dbt_project.yml
printf 'p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: e.duckdb\n' >profiles.yml
printf 'id,name\n1,a\n2,b\n' >p/seeds/people.csv
printf 'sources:\n  - name: raw\n    schema: main\n    tables: [{name: people}]\n' >p/models/src.yml
echo "{{ config(materialized='table') }} select id, upper(name) as name from {{ ref('people') }}" >p/models/t.sql
echo "{{ config(materialized='table') }} select count(*) as n from {{ source('raw', 'people') }}" >p/models/s.sql
dango init peek >/dev/null
sq() { cp e.duckdb peek/data/warehouse.duckdb && (cd peek && dango query --csv "$1"); }

test_expect_success 'dango build --empty builds the models with their columns and no rows' '
    dango seed --project-dir p --profiles-dir . >/dev/null &&
    dango run --project-dir p --profiles-dir . --empty >out &&
    sq "select (select count(*) from main.t) as t_rows, (select n from main.s) as s_count" >actual &&
    printf "t_rows,s_count\n0,0\n" >expect && test_cmp expect actual &&
    sq "select column_name, data_type from information_schema.columns where table_name = '"'"'t'"'"' order by ordinal_position" >actual &&
    printf "column_name,data_type\nid,INTEGER\nname,VARCHAR\n" >expect && test_cmp expect actual &&
    grep -q "where false limit 0) _dbt_limit_subq_people" p/target/compiled/p/models/t.sql &&
    dango run --project-dir p --profiles-dir . >out &&
    sq "select count(*) as n from main.t" >actual && printf "n\n2\n" >expect && test_cmp expect actual
'

test_expect_success '--empty is refused where dbt does not take it' '
    test_expect_code 2 dango seed --project-dir p --profiles-dir . --empty 2>err
'

test_done
