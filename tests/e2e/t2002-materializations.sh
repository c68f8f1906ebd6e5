#!/usr/bin/env bash
# incremental strategies, on_schema_change, --full-refresh, ephemeral, hooks, vars and the dbt context
. "$(dirname "$0")/lib.sh"

dango init p >/dev/null </dev/null
cd p
dango query --write "CREATE SCHEMA raw_ev; CREATE TABLE raw_ev.events AS
  SELECT * FROM (VALUES (1, 'a', 10), (2, 'b', 20)) t(id, kind, ts)" >/dev/null
mkdir -p dbt/models/marts dbt/models/staging
cat >dbt/models/staging/src.yml <<'EOF'
version: 2
sources:
  - name: ev
    schema: raw_ev
    tables: [{name: events}]
EOF
cat >dbt/models/marts/ev_append.sql <<'EOF'
{{ config(materialized='incremental') }}
select id, kind, ts from {{ source('ev', 'events') }}
{% if is_incremental() %} where ts > (select max(ts) from {{ this }}) {% endif %}
EOF
cat >dbt/models/marts/ev_delins.sql <<'EOF'
{{ config(materialized='incremental', unique_key='id', incremental_strategy='delete+insert') }}
select id, kind, ts from {{ source('ev', 'events') }}
EOF
cat >dbt/models/marts/ev_merge.sql <<'EOF'
{{ config(materialized='incremental', unique_key=['id'], incremental_strategy='merge') }}
select id, kind, ts from {{ source('ev', 'events') }}
EOF
cat >dbt/models/marts/ev_sync.sql <<'EOF'
{{ config(materialized='incremental', unique_key='id', on_schema_change='sync_all_columns') }}
select * from {{ source('ev', 'events') }}
EOF
cat >dbt/models/marts/ev_fail.sql <<'EOF'
{{ config(materialized='incremental', unique_key='id', on_schema_change='fail') }}
select * from {{ source('ev', 'events') }}
EOF

test_expect_success 'the first incremental run builds tables' '
    dango run >out && test_grep "Done. PASS=5 WARN=0 ERROR=0 SKIP=0 TOTAL=5" out &&
    test_grep "OK created sql incremental model marts.ev_append" out &&
    test_grep "Finished running 5 incremental models in" out &&
    q "SELECT count(*) FROM marts.ev_append" >n && echo 2 >expect && test_cmp expect n
'

test_expect_success 'append adds only the new rows; delete+insert and merge replace by key' '
    dango query --write "UPDATE raw_ev.events SET kind = '"'"'B'"'"' WHERE id = 2; INSERT INTO raw_ev.events VALUES (3, '"'"'c'"'"', 30)" >/dev/null &&
    dango run -s ev_append ev_delins ev_merge >/dev/null &&
    q "SELECT string_agg(id || kind, '"'"' '"'"' ORDER BY id) FROM marts.ev_append" >out && echo "1a 2b 3c" >expect && test_cmp expect out &&
    q "SELECT string_agg(id || kind, '"'"' '"'"' ORDER BY id) FROM marts.ev_delins" >out && echo "1a 2B 3c" >expect && test_cmp expect out &&
    q "SELECT string_agg(id || kind, '"'"' '"'"' ORDER BY id) FROM marts.ev_merge" >out && echo "1a 2B 3c" >expect && test_cmp expect out
'

test_expect_success 'on_schema_change: sync_all_columns follows, fail stops with a message' '
    dango query --write "ALTER TABLE raw_ev.events ADD COLUMN extra INT DEFAULT 7" >/dev/null &&
    test_expect_code 1 dango run -s ev_sync ev_fail >out &&
    test_grep "OK created sql incremental model marts.ev_sync" out &&
    test_grep "ERROR creating sql incremental model marts.ev_fail" out &&
    test_grep "Runtime Error in model ev_fail (models/marts/ev_fail.sql)" out &&
    test_grep "out of sync" out && test_grep "new column: extra INTEGER" out &&
    q "SELECT string_agg(id || '"'"':'"'"' || extra, '"'"' '"'"' ORDER BY id) FROM marts.ev_sync" >out && echo "1:7 2:7 3:7" >expect && test_cmp expect out &&
    q "SELECT count(*) FROM information_schema.columns WHERE table_name = '"'"'ev_fail'"'"'" >out && echo 3 >expect && test_cmp expect out
'

test_expect_success '--full-refresh rebuilds incremental models' '
    dango query --write "DELETE FROM raw_ev.events WHERE id = 1" >/dev/null &&
    dango run -s ev_append >/dev/null &&
    q "SELECT count(*) FROM marts.ev_append" >n && echo 3 >expect && test_cmp expect n &&
    dango run -s ev_append ev_fail --full-refresh >/dev/null &&
    q "SELECT count(*) FROM marts.ev_append" >n && echo 2 >expect && test_cmp expect n &&
    q "SELECT count(*) FROM information_schema.columns WHERE table_name = '"'"'ev_fail'"'"'" >out && echo 4 >expect && test_cmp expect out
'

test_expect_success 'ephemeral models are inlined as CTEs and never built' '
    cat >dbt/models/staging/eph_base.sql <<-\EOF &&
	{{ config(materialized="ephemeral") }}
	select id, kind from {{ source("ev", "events") }}
	EOF
    cat >dbt/models/staging/eph_top.sql <<-\EOF &&
	{{ config(materialized="ephemeral") }}
	select id, upper(kind) as k from {{ ref("eph_base") }}
	EOF
    cat >dbt/models/marts/uses_eph.sql <<-\EOF &&
	{{ config(materialized="table") }}
	with x as (select * from {{ ref("eph_top") }})
	select string_agg(k, '"'"'|'"'"' order by id) as ks from x join {{ ref("eph_base") }} using (id)
	EOF
    dango run -s +uses_eph >out && test_grep "1 of 1 OK created sql table model marts.uses_eph" out &&
    q "SELECT ks FROM marts.uses_eph" >out && echo "B|C" >expect && test_cmp expect out &&
    q "SELECT count(*) FROM information_schema.tables WHERE table_name LIKE '"'"'eph%'"'"'" >out && echo 0 >expect && test_cmp expect out &&
    grep -c "__dbt__cte__eph_base as (" dbt/target/compiled/p/models/marts/uses_eph.sql >n && echo 1 >expect && test_cmp expect n &&
    dango ls -s eph_base --output name >out && echo eph_base >expect && test_cmp expect out
'

test_expect_success 'pre- and post-hooks run around the model, with this' '
    cat >dbt/models/marts/hooked.sql <<-\EOF &&
	{{ config(materialized="table",
	          pre_hook="create table if not exists main.hook_log (msg varchar)",
	          post_hook=["insert into main.hook_log values ('"'"'built {{ this }}'"'"')"]) }}
	select 1 as x
	EOF
    dango run -s hooked >/dev/null &&
    q "SELECT replace(msg, chr(34), '"'"''"'"') FROM main.hook_log" >out && echo "built warehouse.marts.hooked" >expect && test_cmp expect out
'

test_expect_success 'vars (project, --vars JSON and YAML, defaults) and env_var' '
    cat >>dbt/dbt_project.yml <<-\EOF &&
	vars:
	  region: EU
	  p:
	    year: 2023
	EOF
    cat >dbt/models/marts/vars_m.sql <<-\EOF &&
	{{ config(materialized="table") }}
	select '"'"'{{ var("region") }}'"'"' as region, {{ var("year") }} as year, '"'"'{{ var("missing", "dflt") }}'"'"' as d,
	       '"'"'{{ env_var("DANGO_T_ENV", "none") }}'"'"' as e, {{ target.threads }} as th, '"'"'{{ target.name }}/{{ target.schema }}/{{ target.type }}'"'"' as t
	EOF
    dango run -s vars_m >/dev/null &&
    q "SELECT * FROM marts.vars_m" >out && echo "EU,2023,dflt,none,4,dev/main/duckdb" >expect && test_cmp expect out &&
    DANGO_T_ENV=set dango run -s vars_m --vars "{\"year\": 2024, \"region\": \"US\"}" >/dev/null &&
    q "SELECT * FROM marts.vars_m" >out && echo "US,2024,dflt,set,4,dev/main/duckdb" >expect && test_cmp expect out &&
    dango run -s vars_m --vars "year: 2025" >/dev/null &&
    q "SELECT year FROM marts.vars_m" >out && echo 2025 >expect && test_cmp expect out
'

test_expect_success 'run_query, statement blocks, adapter, macros, log and modules.datetime' '
    cat >dbt/macros/helpers.sql <<-\EOF &&
	{% macro cents(col) %}({{ col }} * 100){% endmacro %}
	{% macro kinds() %}
	  {% set rows = run_query("select distinct kind from raw_ev.events order by 1") %}
	  {% if execute %}{% do return(rows | map(attribute=0) | list) %}{% else %}{% do return([]) %}{% endif %}
	{% endmacro %}
	EOF
    cat >dbt/models/marts/ctx_m.sql <<-\EOF &&
	{{ config(materialized="table") }}
	{% call statement("mx", fetch_result=True) %}select max(ts) from raw_ev.events{% endcall %}
	{% set mx = load_result("mx")["data"][0][0] if execute else 0 %}
	{% set rel = adapter.get_relation(database=target.database, schema="marts", identifier="ev_merge") %}
	{% set cols = adapter.get_columns_in_relation(rel) if rel else [] %}
	{% do log("ctx_m sees " ~ (cols | length) ~ " columns", info=True) %}
	select {{ cents("ts") }} as c, {{ mx }} as mx, '"'"'{{ kinds() | join("|") }}'"'"' as kinds,
	       '"'"'{{ cols | map(attribute="name") | join(",") }}'"'"' as cols, {{ adapter.quote("ts") }} as q,
	       {{ modules.datetime.datetime.now().year >= 2024 }} as y
	from {{ source("ev", "events") }} where id = 2
	EOF
    dango run -s ctx_m >out && test_grep "ctx_m sees 3 columns" out &&
    q "SELECT * FROM marts.ctx_m" >out && echo "2000,30,B|c,\"id,kind,ts\",20,true" >expect && test_cmp expect out
'

test_expect_success 'generate_schema_name can be overridden by a project macro' '
    cat >dbt/macros/generate_schema_name.sql <<-\EOF &&
	{% macro generate_schema_name(custom_schema_name, node) -%}
	  {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}x_{{ custom_schema_name | trim }}{%- endif -%}
	{%- endmacro %}
	EOF
    dango run -s vars_m >out && test_grep "OK created sql table model x_marts.vars_m" out &&
    q "SELECT region FROM x_marts.vars_m" >out && echo EU >expect && test_cmp expect out
'

test_done
