#!/usr/bin/env bash
# dango docs generate and dango show on a postgres target (#19), against a
# real server: catalog.json from pg_catalog (relation type, owner and
# comment, columns with the server's types, index and comment, row counts
# of tables), and show's preview of a model or an inline query, run
# read-only.
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
EOF
pg_dbt_profile
printf 'id,name,price\n1,ann,1.5\n2,bob,2.25\n3,cy,4\n' >p/seeds/people.csv
echo "{{ config(materialized='table') }} select id, upper(name)::varchar(10) as name, price from {{ ref('people') }}" >p/models/m.sql
echo "select id, name from {{ ref('m') }} where id > 1" >p/models/v.sql
cat >p/models/schema.yml <<\EOF
models:
  - name: m
    description: The people
    columns:
      - name: name
        description: Upper-cased
EOF
norm() { sed -E 's/^[0-9]{2}:[0-9]{2}:[0-9]{2}  //'; }
pgcsv() { PGDB=wh psql_do "COPY ($1) TO STDOUT WITH CSV"; }

test_expect_success 'docs generate: catalog.json from pg_catalog, and manifest.json' '
    dango build --project-dir p --profiles-dir . >out 2>err &&
    dango docs generate --project-dir p --profiles-dir . >out 2>err &&
    test_grep "Catalog written to .*/p/target/catalog.json (3 relations)" out &&
    jq -r ".nodes | to_entries[] | [.key, .value.metadata.type, .value.metadata.database, .value.metadata.schema,
            .value.metadata.name, .value.metadata.owner, (.value.metadata.comment // \"-\"),
            (.value.stats.row_count.value // \"-\"), .value.stats.has_stats.value] | @tsv" \
        p/target/catalog.json | sort >actual &&
    printf "model.p.m\tBASE TABLE\twh\tanalytics\tm\tdango\tThe people\t3\ttrue\n" >expect &&
    printf "model.p.v\tVIEW\twh\tanalytics\tv\tdango\t-\t-\tfalse\n" >>expect &&
    printf "seed.p.people\tBASE TABLE\twh\tanalytics\tpeople\tdango\t-\t3\ttrue\n" >>expect &&
    test_cmp expect actual &&
    jq -r ".nodes[\"model.p.m\"].columns | to_entries[] | [.key, .value.type, .value.index, (.value.comment // \"-\")] | @tsv" \
        p/target/catalog.json >actual &&
    printf "id\tinteger\t1\t-\nname\tcharacter varying(10)\t2\tUpper-cased\nprice\tdouble precision\t3\t-\n" >expect &&
    test_cmp expect actual &&
    jq -r ".metadata.adapter_type, (.nodes | keys | length)" p/target/manifest.json >actual &&
    jq -r ".metadata.dbt_schema_version" p/target/catalog.json >>actual &&
    printf "postgres\n3\nhttps://schemas.getdbt.com/dbt/catalog/v1.json\n" >expect && test_cmp expect actual
'

test_expect_success 'docs generate: a relation not built is left out' '
    PGDB=wh psql_do "DROP VIEW analytics.v" &&
    dango docs generate --project-dir p --profiles-dir . >out 2>err &&
    test_grep "(2 relations)" out &&
    jq -r ".nodes | keys[]" p/target/catalog.json >actual &&
    printf "model.p.m\nseed.p.people\n" >expect && test_cmp expect actual
'

test_expect_success 'show --select: the model compiled and its first rows' '
    dango show --select m --limit 2 --project-dir p --profiles-dir . >out && norm <out | tail -n +2 >actual &&
    cat >expect <<-\EOF &&
	Previewing node '"'"'m'"'"':
	| id | name | price |
	| -- | ---- | ----- |
	| 1  | ANN  | 1.5   |
	| 2  | BOB  | 2.25  |
	EOF
    test_cmp expect actual &&
    dango show --select people --limit 10 --project-dir p --profiles-dir . >out && norm <out | tail -n +2 >actual &&
    cat >expect <<-\EOF &&
	Previewing node '"'"'people'"'"':
	| id | name | price |
	| -- | ---- | ----- |
	| 1  | ann  | 1.5   |
	| 2  | bob  | 2.25  |
	| 3  | cy   | 4.0   |
	EOF
    test_cmp expect actual
'

test_expect_success 'show --inline: refs and introspection render, and it runs read-only' '
    cat >p/models/cols.sql <<-\EOF &&
	{% set cols = adapter.get_columns_in_relation(ref("m")) %}
	select {% for c in cols %}'"'"'{{ c.name }}:{{ c.data_type }}'"'"' as c{{ loop.index }}{{ "," if not loop.last }}{% endfor %}
	EOF
    dango show --select cols --project-dir p --profiles-dir . >out && norm <out | tail -n +2 >actual &&
    cat >expect <<-\EOF &&
	Previewing node '"'"'cols'"'"':
	| c1         | c2                         | c3                     |
	| ---------- | -------------------------- | ---------------------- |
	| id:integer | name:character varying(10) | price:double precision |
	EOF
    test_cmp expect actual &&
    dango show --inline "select count(*) as n, max(name) as top from {{ ref(\"m\") }}" \
        --project-dir p --profiles-dir . >out && norm <out | tail -n +2 >actual &&
    printf "Previewing inline node:\n| n | top |\n| - | --- |\n| 3 | CY  |\n" >expect &&
    test_cmp expect actual &&
    test_expect_code 1 dango show --inline "select 1 as x from (select {{ run_query(\"delete from \" ~ ref(\"m\")) }} 1) q" \
        --project-dir p --profiles-dir . >out 2>err &&
    test_grep "read-only transaction" err &&
    pgcsv "SELECT count(*) FROM analytics.m" >actual && echo 3 >expect && test_cmp expect actual
'

test_expect_success 'show: a query that fails is a runtime error, exit 1' '
    test_expect_code 1 dango show --inline "select nosuch from {{ ref(\"m\") }}" \
        --project-dir p --profiles-dir . >out 2>err &&
    test_grep "Runtime Error: .*nosuch" err
'

test_done
