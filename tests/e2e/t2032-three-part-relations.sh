#!/usr/bin/env bash
# Relations have three parts as in dbt-duckdb: refs, sources and this render
# "db"."schema"."name" with db the DuckDB file's stem; this.database is
# set; Relation's database/schema/identifier, include(), quote(), render();
# api.Relation.create(database=...); and the compiled SQL runs
. "$(dirname "$0")/lib.sh"

mkdir -p proj/models proj/seeds
printf 'name: proj\nprofile: proj\n' >proj/dbt_project.yml
printf 'proj:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: dev.duckdb\n' >profiles.yml
printf 'id,v\n1,a\n2,b\n' >proj/seeds/raw.csv
cat >proj/models/sources.yml <<\EOF
sources:
  - name: landing
    schema: main
    tables:
      - name: raw
EOF
echo "select * from {{ ref('raw') }}" >proj/models/base.sql
cat >proj/models/rels.sql <<\EOF
{{ config(materialized='table') }}
{% set r = ref('base') %}
{% set c = api.Relation.create(database='dev', schema='main', identifier='base') %}
{% set two = api.Relation.create(schema='main', identifier='base') %}
select
  '{{ r }}' as ref_sql, '{{ source('landing', 'raw') }}' as source_sql, '{{ this }}' as this_sql,
  '{{ this.database }}' as this_db, '{{ this.schema }}' as this_schema, '{{ this.identifier }}' as this_ident,
  '{{ r.database }}.{{ r.schema }}.{{ r.identifier }}' as parts,
  '{{ r.include(database=false) }}' as no_db, '{{ r.include(database=false, schema=false) }}' as ident_only,
  '{{ r.quote(database=false, schema=false, identifier=false) }}' as unquoted,
  '{{ r.render() }}' as rendered, '{{ c }}' as created, '{{ two }}' as created_two,
  {{ c.render() == r.render() }} as same, '{{ target.database }}' as target_db,
  (select count(*) from {{ r }}) as n_ref, (select count(*) from {{ c }}) as n_created,
  '{{ builtins.ref('base') }}' as via_builtins
EOF
cat >proj/models/uses_source.sql <<\EOF
select v from {{ source('landing', 'raw') }} join {{ ref('base') }} using (id, v)
EOF

test_expect_success 'refs, sources and this render with the database, and the SQL runs' '
    dango build --project-dir proj --profiles-dir . >out 2>err &&
    test_grep "Completed successfully" out &&
    dango init peek >/dev/null && cp dev.duckdb peek/data/warehouse.duckdb &&
    (cd peek && dango query --csv "select * from main.rels") >actual &&
    cat >expect <<-\EOF &&
	ref_sql,source_sql,this_sql,this_db,this_schema,this_ident,parts,no_db,ident_only,unquoted,rendered,created,created_two,same,target_db,n_ref,n_created,via_builtins
	"""dev"".""main"".""base""","""dev"".""main"".""raw""","""dev"".""main"".""rels""",dev,main,rels,dev.main.base,"""main"".""base""","""base""",dev.main.base,"""dev"".""main"".""base""","""dev"".""main"".""base""","""main"".""base""",true,dev,2,2,"""dev"".""main"".""base"""
	EOF
    test_cmp expect actual
'

test_expect_success 'compiled SQL names the database as dbt-duckdb writes it, and views over it read' '
    dango show --select uses_source --project-dir proj --profiles-dir . >out &&
    test_grep "^| a |" out && test_grep "^| b |" out &&
    grep -q "from \"dev\".\"main\".\"raw\"" proj/target/compiled/proj/models/base.sql &&
    grep -q "from \"dev\".\"main\".\"raw\" join \"dev\".\"main\".\"base\"" proj/target/compiled/proj/models/uses_source.sql
'

test_expect_success 'a profile database other than the file stem is dbt-duckdb'"'"'s error' '
    printf "proj:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: dev.duckdb\n      database: analytics\n" >profiles2.yml &&
    mkdir p2 && cp profiles2.yml p2/profiles.yml &&
    test_expect_code 1 dango run --project-dir proj --profiles-dir p2 >out 2>err &&
    test_grep "the .database. property must be set to .dev. to match the .path." err &&
    printf "proj:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: dev.duckdb\n      database: dev\n" >p2/profiles.yml &&
    dango run --project-dir proj --profiles-dir p2 -s rels >out &&
    test_grep "OK created sql table model main.rels" out
'

test_done
