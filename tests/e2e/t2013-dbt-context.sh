#!/usr/bin/env bash
# dbt's runtime context as packages use it: agate-like run_query tables,
# adapter introspection and DDL, api.Relation / api.Column, zip, set,
# tojson/fromjson, toyaml/fromyaml, local_md5, modules.re, run_started_at,
# invocation_id, graph; config() in a generic test (fail_calc, warn_if)
. "$(dirname "$0")/lib.sh"

mkdir -p proj/models proj/macros proj/seeds
cat >proj/dbt_project.yml <<\EOF
name: proj
profile: proj
EOF
printf 'proj:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: c.duckdb\n' >profiles.yml
printf 'id,name,amount\n1,one,1.5\n2,two,2.5\n3,three,\n' >proj/seeds/s.csv
cat >proj/models/ctx.sql <<\EOF
{% set t = run_query("select id, name, amount from " ~ ref('s') ~ " order by id") %}
{% if execute %}
{% set cols = adapter.get_columns_in_relation(ref('s')) %}
{% set rel = api.Relation.create(schema='main', identifier='s') %}
select
  '{{ t.column_names | join("|") }}' as names,
  {{ t.rows | length }} as nrows,
  {{ t | length }} as len_table,
  '{{ t.columns[1].values() | join("|") }}' as col1,
  '{{ t.columns["name"].values()[2] }}' as by_name,
  {{ t.rows[1][0] + 40 }} as typed_int,
  '{{ t.rows[0].name }}' as row_attr,
  {{ t.rows[2].amount is none }} as null_is_none,
  '{% for row in t %}{{ row["id"] }}{% endfor %}' as iterated,
  '{% for k, c in t.columns.items() %}{{ k }}{% endfor %}' as items,
  '{{ cols | map(attribute="name") | join("|") }}' as col_names,
  {{ cols[0].is_integer() }} as id_is_int, {{ cols[1].is_string() }} as name_is_str,
  '{{ rel }}' as rel_sql, '{{ rel.include(schema=false) }}' as rel_ident,
  {{ rel is mapping }} as rel_mapping,
  {{ adapter.get_relation(database=this.database, schema='main', identifier='nope') is none }} as missing_none,
  '{{ adapter.get_relation(database=this.database, schema='main', identifier='s').type }}' as s_type,
  '{{ zip([1, 2], ["a", "b"]) | list | tojson }}' as zipped,
  {{ set([3, 1, 3, 2]) | list | length }} as set_len,
  '{{ fromjson('{"a": [1, 2]}')["a"][1] }}' as fromjson_v,
  '{{ fromyaml("a:\n  - x\n  - y\n")["a"] | join("|") }}' as fromyaml_v,
  '{{ toyaml({"k": [1, "two"]}) | replace("\n", "~") }}' as toyaml_v,
  '{{ local_md5("abc") }}' as md5,
  '{{ modules.re.sub("[^a-z0-9_]+", "_", "Hello World-2") }}' as re_sub,
  {{ modules.re.match("^h", "hello") is not none }} as re_match,
  {{ run_started_at.year > 2000 }} as started,
  {{ invocation_id | length }} as inv_len,
  {{ "model.proj.ctx" in graph.nodes }} as in_graph,
  '{{ graph.nodes["seed.proj.s"].resource_type }}' as graph_kind,
  '{{ adapter.type() }}' as adapter_type,
  {{ "model.proj.ctx" in selected_resources }} as selected
{% else %}
select 1 as parse_time
{% endif %}
EOF

test_expect_success 'run_query tables, adapter, api and the context globals render as in dbt' '
    dango build --project-dir proj --profiles-dir . >out 2>err &&
    dango init peek >/dev/null && cp c.duckdb peek/data/warehouse.duckdb &&
    (cd peek && dango query --csv "select * from main.ctx") >actual &&
    cat >expect <<-\EOF &&
	names,nrows,len_table,col1,by_name,typed_int,row_attr,null_is_none,iterated,items,col_names,id_is_int,name_is_str,rel_sql,rel_ident,rel_mapping,missing_none,s_type,zipped,set_len,fromjson_v,fromyaml_v,toyaml_v,md5,re_sub,re_match,started,inv_len,in_graph,graph_kind,adapter_type,selected
	id|name|amount,3,3,one|two|three,three,42,one,true,123,idnameamount,id|name|amount,true,true,"""main"".""s""","""s""",true,true,table,"[[1, ""a""], [2, ""b""]]",3,2,x|y,k:~- 1~- two~,900150983cd24fb0d6963f7d28e17f72,_ello_orld_2,true,true,36,true,seed,duckdb,true
	EOF
    test_cmp expect actual
'

test_expect_success 'adapter DDL: drop_relation in a post-hook, create_schema' '
    cat >proj/models/ddl.sql <<-\EOF &&
	{{ config(post_hook="{% do adapter.drop_relation(api.Relation.create(schema=\"main\", identifier=\"s\", type=\"table\")) %}") }}
	{% do adapter.create_schema(api.Relation.create(schema="made_here")) %}
	select 1 as x from {{ ref("ctx") }}
	EOF
    dango build --project-dir proj --profiles-dir . -s ddl >out 2>err &&
    cp c.duckdb peek/data/warehouse.duckdb &&
    (cd peek && dango query --csv "select count(*) from information_schema.tables where table_name = '"'"'s'"'"'") >actual &&
    printf "count_star()\n0\n" >expect && test_cmp expect actual &&
    (cd peek && dango query --csv "select count(*) from information_schema.schemata where schema_name = '"'"'made_here'"'"'") >actual &&
    printf "count_star()\n1\n" >expect && test_cmp expect actual &&
    rm proj/models/ddl.sql
'

test_expect_success 'config() in a generic test sets fail_calc and warn_if; the YAML wins' '
    cat >proj/macros/t.sql <<-\EOF &&
	{% test sum_is_small(model, column_name, limit_to=3) %}
	{{ config(fail_calc="sum(n)", warn_if=">" ~ limit_to, error_if=">100", severity="error") }}
	select {{ column_name }} as n from {{ model }}
	{% endtest %}
	EOF
    cat >proj/seeds/schema.yml <<-\EOF &&
	version: 2
	seeds:
	  - name: s
	    columns:
	      - name: id
	        data_tests:
	          - sum_is_small
	          - sum_is_small:
	              limit_to: 10
	          - sum_is_small:
	              limit_to: 11
	              config: {error_if: ">1"}
	EOF
    test_expect_code 1 dango build --project-dir proj --profiles-dir . -s s >out 2>err &&
    test_grep "WARN 6 sum_is_small_s_id " out &&
    test_grep "PASS sum_is_small_s_id__10 " out &&
    test_grep "Got 6 results, configured to warn if >3" out &&
    grep -E "FAIL 6 sum_is_small_s_id_[0-9a-f_]*" out
'

test_done
