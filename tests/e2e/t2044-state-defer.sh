#!/usr/bin/env bash
# --state DIR, as dbt documents it: state:new, state:modified and its parts
# (body, configs, relation, macros, contract), result: (the other run's
# run_results.json), source_status:fresher (sources.json here and there);
# --defer: refs to unselected nodes not built in this target read the other
# manifest's relations; --favor-state: even when they are built here.
. "$(dirname "$0")/lib.sh"

mkdir -p p/models p/macros p/seeds
cat >p/dbt_project.yml <<\EOF
name: p
profile: p
models:
  p:
    mart:
      +materialized: table
EOF
cat >profiles.yml <<\EOF
p:
  target: dev
  outputs:
    dev: {type: duckdb, path: w.duckdb, schema: dev}
    prod: {type: duckdb, path: w.duckdb, schema: prod}
EOF
printf 'id,loaded_at\n1,2024-01-01 00:00:00\n' >p/seeds/raw_events.csv
echo "{% macro my_cast(x) %}cast({{ x }} as integer){% endmacro %}" >p/macros/my_cast.sql
echo "select {{ my_cast('id') }} as id from {{ source('raw', 'raw_events') }}" >p/models/stg.sql
echo "select id, 'prod' as built_in from {{ ref('stg') }}" >p/models/mart.sql
echo "select * from {{ ref('mart') }}" >p/models/other.sql
echo "{{ config(materialized='table') }} select 1 as id" >p/models/c.sql
cat >p/models/schema.yml <<\EOF
sources:
  - name: raw
    schema: prod
    loaded_at_field: loaded_at
    freshness: {warn_after: {count: 1, period: day}}
    tables: [{name: raw_events}]
models:
  - name: c
    config:
      contract: {enforced: true}
    columns:
      - {name: id, data_type: integer}
  - name: other
EOF
ls_state() { dango ls --project-dir p --profiles-dir . --state prod_state --output name "$@" | sort; }

test_expect_success 'the production run, its artifacts kept as the state' '
    dango seed --project-dir p --profiles-dir . --target prod >/dev/null &&
    dango run --project-dir p --profiles-dir . --target prod >out &&
    test_grep "Done. PASS=4 WARN=0 ERROR=0 SKIP=0 TOTAL=4" out &&
    DANGO_NOW=2024-01-01T12:00:00Z dango freshness --project-dir p --profiles-dir . --target prod >/dev/null &&
    cp -r p/target prod_state &&
    ls_state -s state:modified >actual && test ! -s actual
'

test_expect_success 'nothing changed: state:modified is empty, even from another target' '
    dango ls --project-dir p --profiles-dir . --target dev --state prod_state -s state:modified >actual &&
    test ! -s actual &&
    ls_state -s state:unmodified --resource-type model >actual &&
    printf "c\nmart\nother\nstg\n" >expect && test_cmp expect actual
'

test_expect_success 'each kind of change is its part of state:modified; a new model is state:new' '
    echo "select {{ my_cast(\"id\") }} as id, 1 as extra from {{ source(\"raw\", \"raw_events\") }}" >p/models/stg.sql &&
    sed -i "s/+materialized: table/+materialized: view/" p/dbt_project.yml &&
    sed -i "s/  - name: other/  - name: other\n    config: {alias: other_alias}/" p/models/schema.yml &&
    sed -i "s/data_type: integer/data_type: bigint/" p/models/schema.yml &&
    echo "select 1 as n" >p/models/brand_new.sql &&
    ls_state -s state:modified.body >actual && printf "brand_new\nstg\n" >expect && test_cmp expect actual &&
    ls_state -s state:modified.configs >actual && printf "brand_new\nmart\nother\n" >expect && test_cmp expect actual &&
    ls_state -s state:modified.relation >actual && printf "brand_new\nother\n" >expect && test_cmp expect actual &&
    ls_state -s state:modified.contract >actual && printf "brand_new\nc\n" >expect && test_cmp expect actual &&
    ls_state -s state:new >actual && echo brand_new >expect && test_cmp expect actual &&
    ls_state -s state:modified >actual && printf "brand_new\nc\nmart\nother\nstg\n" >expect && test_cmp expect actual
'

test_expect_success 'state:modified.macros: a node whose macro changed' '
    cp -r p p_saved &&
    rm -rf p && cp -r p_saved p &&
    echo "{% macro my_cast(x) %}cast({{ x }} as bigint){% endmacro %}" >p/macros/my_cast.sql &&
    ls_state -s state:modified.macros >actual && printf "brand_new\nstg\n" >expect && test_cmp expect actual &&
    ls_state -s state:modified.macros+ --resource-type model >actual &&
    printf "brand_new\nmart\nother\nstg\n" >expect && test_cmp expect actual
'

test_expect_success 'result: selects by the state run_results.json status' '
    jq ".results |= map(if .unique_id == \"model.p.mart\" then .status = \"error\" else . end)" prod_state/run_results.json >rr &&
    mv rr prod_state/run_results.json &&
    ls_state -s result:error >actual && echo mart >expect && test_cmp expect actual &&
    ls_state -s result:error+ --resource-type model >actual && printf "mart\nother\n" >expect && test_cmp expect actual &&
    ls_state -s result:success --resource-type model >actual && printf "c\nother\nstg\n" >expect && test_cmp expect actual
'

test_expect_success 'source_status:fresher: sources newer here than in the state' '
    rm -f p/target/sources.json &&
    test_expect_code 2 dango ls --project-dir p --profiles-dir . --state prod_state -s source_status:fresher 2>err &&
    test_grep "needs sources.json in both" err &&
    DANGO_NOW=2024-01-01T12:00:00Z dango freshness --project-dir p --profiles-dir . --target prod >/dev/null &&
    dango ls --project-dir p --profiles-dir . --state prod_state -s source_status:fresher >actual &&
    test ! -s actual &&
    printf "id,loaded_at\n1,2024-01-01 00:00:00\n2,2024-01-02 00:00:00\n" >p/seeds/raw_events.csv &&
    dango seed --project-dir p --profiles-dir . --target prod >/dev/null &&
    DANGO_NOW=2024-01-02T12:00:00Z dango freshness --project-dir p --profiles-dir . --target prod >/dev/null &&
    dango ls --project-dir p --profiles-dir . --state prod_state -s source_status:fresher+ --resource-type source --resource-type model | sort >actual &&
    printf "p.mart\np.other\np.stg\nsource:p.raw.raw_events\n" >expect && test_cmp expect actual
'

test_expect_success 'the state methods without --state are an error' '
    test_expect_code 2 dango ls --project-dir p --profiles-dir . -s state:modified 2>err &&
    test_grep "the .state. method needs --state DIR" err &&
    test_expect_code 2 dango run --project-dir p --profiles-dir . --defer 2>err &&
    test_grep "defer needs --state DIR" err
'

test_expect_success '--defer: a ref to a node not built here reads the state relation' '
    rm -rf p && cp -r p_saved p && rm p/models/brand_new.sql &&
    test_expect_code 1 dango run --project-dir p --profiles-dir . -s other >out 2>err &&
    dango run --project-dir p --profiles-dir . -s other --defer --state prod_state >out 2>err &&
    test_grep "Deferring 4 unselected nodes" out &&
    test_grep "\"prod\".\"mart\"" p/target/run/p/models/other.sql &&
    dango show --project-dir p --profiles-dir . --inline "select built_in from dev.other_alias" >out &&
    test_grep "| prod  " out &&
    jq -r ".nodes[\"model.p.mart\"].schema" p/target/manifest.json >actual && echo dev >expect && test_cmp expect actual
'

test_expect_success '--defer uses what this target has built; --favor-state prefers the state' '
    sed -i "s/.prod. as built_in/'"'"'dev'"'"' as built_in/" p/models/mart.sql &&
    dango run --project-dir p --profiles-dir . -s stg mart >/dev/null &&
    dango run --project-dir p --profiles-dir . -s other --defer --state prod_state >/dev/null &&
    dango show --project-dir p --profiles-dir . --inline "select built_in from dev.other_alias" >out &&
    test_grep "| dev  " out &&
    dango run --project-dir p --profiles-dir . -s other --defer --favor-state --state prod_state >/dev/null &&
    dango show --project-dir p --profiles-dir . --inline "select built_in from dev.other_alias" >out &&
    test_grep "| prod  " out
'

test_done
