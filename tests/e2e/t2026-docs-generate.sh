#!/usr/bin/env bash
# dango docs generate: target/catalog.json with every relation's columns,
# types, comments and row counts, and manifest.json
. "$(dirname "$0")/lib.sh"

mkdir -p p/models p/seeds
printf 'name: p\nprofile: p\nmodels:\n  p:\n    +persist_docs: {relation: true, columns: true}\n' >p/dbt_project.yml
printf 'p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: g.duckdb\n' >profiles.yml
printf 'id,name\n1,a\n2,b\n3,c\n' >p/seeds/people.csv
echo "{{ config(materialized='table') }} select id, upper(name) as name from {{ ref('people') }}" >p/models/t.sql
echo "select id from {{ ref('t') }}" >p/models/v.sql
echo "{{ config(materialized='ephemeral') }} select 1 as x" >p/models/e.sql
echo "select 1 as never" >p/models/notbuilt.sql
cat >p/models/schema.yml <<\EOF
models:
  - name: t
    description: "people, shouting"
    columns:
      - {name: name, description: "in capitals"}
EOF

test_expect_success 'docs generate writes catalog.json from the warehouse, and manifest.json' '
    dango build --project-dir p --profiles-dir . --exclude notbuilt >/dev/null &&
    rm -f p/target/manifest.json &&
    dango docs generate --project-dir p --profiles-dir . >out &&
    test_grep "Catalog written to .*/p/target/catalog.json (3 relations)" out &&
    test -f p/target/manifest.json &&
    jq -c ".nodes | to_entries | sort_by(.key)[] | [.key, .value.metadata.type, .value.metadata.schema, .value.metadata.comment, [.value.columns[] | [.name, .type, .index, .comment]], .value.stats.row_count.value]" \
        p/target/catalog.json >actual &&
    cat >expect <<-\EOF &&
	["model.p.t","BASE TABLE","main","people, shouting",[["id","INTEGER",1,null],["name","VARCHAR",2,"in capitals"]],3]
	["model.p.v","VIEW","main",null,[["id","INTEGER",1,null]],null]
	["seed.p.people","BASE TABLE","main",null,[["id","INTEGER",1,null],["name","VARCHAR",2,null]],3]
	EOF
    test_cmp expect actual &&
    jq -r ".metadata.dbt_schema_version" p/target/catalog.json >actual &&
    echo "https://schemas.getdbt.com/dbt/catalog/v1.json" >expect && test_cmp expect actual
'

test_expect_success 'docs serve is refused with a pointer to dango web; a bad subcommand is usage' '
    test_expect_code 2 dango docs serve --project-dir p --profiles-dir . 2>err &&
    test_grep "open the project with .dango web." err &&
    test_expect_code 2 dango docs --project-dir p --profiles-dir . 2>err &&
    test_grep "usage: dango docs generate" err
'

test_done
