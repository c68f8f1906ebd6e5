#!/usr/bin/env bash
# persist_docs and store_failures on a postgres target (#19), against a
# real server: descriptions become the comments of the relation and of the
# columns it has; a test's failing rows are kept in
# <schema>_dbt_test__audit (a table, or a view with store_failures_as),
# replaced on the next run.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_start || { echo "not ok - PostgreSQL could not start"; exit 1; }
psql_do "CREATE DATABASE wh"

mkdir -p p/models p/seeds
cat >p/dbt_project.yml <<\EOF
name: p
profile: p
models:
  p:
    +persist_docs: {relation: true, columns: true}
seeds:
  p:
    +persist_docs: {relation: true}
EOF
pg_dbt_profile
printf 'id,kind\n1,a\n2,b\n2,c\n' >p/seeds/things.csv
echo "select id, kind from {{ ref('things') }}" >p/models/things_v.sql
echo "{{ config(materialized='table') }} select id from {{ ref('things') }}" >p/models/ids.sql
cat >p/models/schema.yml <<\EOF
seeds:
  - name: things
    description: "Raw things, it's a seed"
models:
  - name: things_v
    description: All the things
    columns:
      - name: kind
        description: What kind
      - name: not_there
        description: a column the view does not have
  - name: ids
    description: The ids
    columns:
      - name: id
        description: The id
        tests:
          - unique:
              config:
                store_failures: true
          - not_null:
              config:
                store_failures_as: view
EOF

pgcsv() { PGDB=wh psql_do "COPY ($1) TO STDOUT WITH CSV"; }

test_expect_success 'persist_docs: comments on the relations and the columns they have' '
    test_expect_code 1 dango build --project-dir p --profiles-dir . >out 2>err &&
    pgcsv "SELECT c.relname, obj_description(c.oid, '"'"'pg_class'"'"') FROM pg_class c
           WHERE c.relname IN ('"'"'things'"'"', '"'"'things_v'"'"', '"'"'ids'"'"') ORDER BY 1" >actual &&
    printf "ids,The ids\nthings,\"Raw things, it'"'"'s a seed\"\nthings_v,All the things\n" >expect &&
    test_cmp expect actual &&
    pgcsv "SELECT col_description('"'"'analytics.things_v'"'"'::regclass, 2), col_description('"'"'analytics.ids'"'"'::regclass, 1)" >actual &&
    echo "What kind,The id" >expect && test_cmp expect actual
'

test_expect_success 'store_failures: the failing rows in <schema>_dbt_test__audit, a table or a view' '
    test_grep "FAIL 1 unique_ids_id " out &&
    test_grep "PASS not_null_ids_id " out &&
    pgcsv "SELECT * FROM analytics_dbt_test__audit.unique_ids_id" >actual &&
    echo "2,2" >expect && test_cmp expect actual &&
    pgcsv "SELECT table_name, table_type FROM information_schema.tables
           WHERE table_schema = '"'"'analytics_dbt_test__audit'"'"' ORDER BY 1" >actual &&
    printf "not_null_ids_id,VIEW\nunique_ids_id,BASE TABLE\n" >expect && test_cmp expect actual
'

test_expect_success 'target/run_results.json and manifest.json are written, as after a DuckDB run' '
    jq -r ".metadata.adapter_type" p/target/run_results.json >actual &&
    echo postgres >expect && test_cmp expect actual &&
    jq -r ".results[] | [.unique_id, .status, .adapter_response.code] | @tsv" p/target/run_results.json | sort >actual &&
    printf "model.p.ids\tsuccess\tSELECT\nmodel.p.things_v\tsuccess\tCREATE VIEW\nseed.p.things\tsuccess\tINSERT\n" >expect.1 &&
    grep -c "^test.p.unique_ids_id.*	fail	" actual >n && echo 1 >one && test_cmp one n &&
    grep -v "^test" actual >models && test_cmp expect.1 models &&
    jq -r ".results[] | select(.unique_id == \"model.p.ids\") | .compiled_code" p/target/run_results.json >actual &&
    grep -q "from \"wh\".\"analytics\".\"things\"" actual &&
    jq -r ".nodes[\"model.p.ids\"].resource_type" p/target/manifest.json >actual &&
    echo model >expect && test_cmp expect actual
'

test_expect_success 'the next run replaces the stored failures' '
    printf "id,kind\n1,a\n2,b\n" >p/seeds/things.csv &&
    dango build --project-dir p --profiles-dir . >out 2>err &&
    pgcsv "SELECT count(*) FROM analytics_dbt_test__audit.unique_ids_id" >actual &&
    echo 0 >expect && test_cmp expect actual
'

test_done
