#!/usr/bin/env bash
# Custom materializations: {% materialization name, default %} in the
# project or a package, run with dbt's materialization context (this,
# config, sql, pre_hooks/post_hooks and run_hooks, statement('main'),
# load_cached_relation, make_temp_relation, adapter, should_full_refresh,
# load_result) and dbt's return({'relations': [...]}) contract; the root
# project's overrides a built-in one, a package's does not
. "$(dirname "$0")/lib.sh"

mkdir -p p/models p/macros p/seeds p/dbt_packages
printf 'name: p\nprofile: p\n' >p/dbt_project.yml
printf 'p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: e.duckdb\n' >profiles.yml
cp -r "$TESTS_DIR/fixtures/dbt/periods" p/dbt_packages/periods
printf 'id,ts\n1,2024-01-01 12:00:00\n2,2024-01-02 12:00:00\n3,2024-01-03 12:00:00\n' >p/seeds/ev.csv
cat >p/macros/swap.sql <<\EOF
{% materialization swap_table, default %}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set tmp_relation = make_temp_relation(target_relation) -%}
  {%- set backup_relation = make_backup_relation(target_relation, 'table') -%}
  {{ drop_relation_if_exists(load_cached_relation(tmp_relation)) }}
  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}
  {% call statement('main') -%}
    {{ create_table_as(False, tmp_relation, sql) }}
  {%- endcall %}
  {% if config.get('fail_after_build') %}
    {{ exceptions.raise_compiler_error("failing on purpose after the build") }}
  {% endif %}
  {% if existing_relation is not none %}
    {{ adapter.rename_relation(existing_relation, backup_relation) }}
  {% endif %}
  {{ adapter.rename_relation(tmp_relation, target_relation) }}
  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {% do adapter.commit() %}
  {% if existing_relation is not none %}
    {{ adapter.drop_relation(backup_relation) }}
  {% endif %}
  {{ run_hooks(post_hooks, inside_transaction=False) }}
  {% if config.get('bad_return') %}
    {{ return('done') }}
  {% endif %}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}

{% materialization table, default %}
  {%- set target_relation = this.incorporate(type='table') -%}
  {{ drop_relation_if_exists(load_cached_relation(this)) }}
  {% call statement('main') -%}
    {{ create_table_as(False, target_relation, sql) }}
  {%- endcall %}
  {% call statement('audit') -%}
    insert into {{ target_relation }} select 0, 'built by the project''s table materialization'
  {%- endcall %}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
EOF
mkdir -p p/dbt_packages/overrider/macros
printf 'name: overrider\nversion: 1.0.0\n' >p/dbt_packages/overrider/dbt_project.yml
printf "{%% materialization view, default %%}\n  {{ exceptions.raise_compiler_error('a package must not override view') }}\n{%% endmaterialization %%}\n" >p/dbt_packages/overrider/macros/view.sql
cat >p/models/swapped.sql <<\EOF
{{ config(materialized='swap_table', pre_hook="create table if not exists main.audit (what varchar)",
          post_hook=["insert into main.audit values ('after {{ this.identifier }}')",
                     {"sql": "insert into main.audit values ('outside')", "transaction": false}]) }}
select id, 'v{{ var("round", 1) }}' as v from {{ ref('ev') }}
EOF
echo "select * from {{ ref('swapped') }}" >p/models/downstream.sql
dango init peek >/dev/null
# the views name their database (three-part relations): attach the file under its own name
sq() { (cd peek && dango query --write --csv "attach '../e.duckdb' as e (read_only); use e; $1"); }

test_expect_success 'a project materialization builds the model, with its hooks, as dbt runs it' '
    dango build --project-dir p --profiles-dir . -s ev swapped downstream >out &&
    test_grep "OK created sql swap_table model main.swapped" out &&
    test_grep "OK created sql view model main.downstream" out &&
    test_grep "Finished running 1 view, 1 swap_table model, 1 seed" out &&
    sq "select * from main.downstream order by id" >actual &&
    printf "id,v\n1,v1\n2,v1\n3,v1\n" >expect && test_cmp expect actual &&
    sq "select * from main.audit" >actual &&
    printf "what\nafter swapped\noutside\n" >expect && test_cmp expect actual &&
    grep -q "create table" p/target/run/p/models/swapped.sql
'

test_expect_success 'the second run swaps the new table in and drops the old' '
    dango run --project-dir p --profiles-dir . -s swapped --vars "{round: 2}" >out &&
    sq "select id, v from main.swapped order by id" >actual &&
    printf "id,v\n1,v2\n2,v2\n3,v2\n" >expect && test_cmp expect actual &&
    sq "select table_name from information_schema.tables where table_name like '"'"'swapped%'"'"' order by 1" >actual &&
    printf "table_name\nswapped\n" >expect && test_cmp expect actual
'

test_expect_success 'a failing materialization leaves the warehouse as it was (one transaction)' '
    printf "{{ config(fail_after_build=true) }}\n" >>p/models/swapped.sql &&
    test_expect_code 1 dango run --project-dir p --profiles-dir . -s swapped --vars "{round: 3}" >out &&
    test_grep "failing on purpose after the build" out &&
    sq "select id, v from main.swapped order by id" >actual &&
    printf "id,v\n1,v2\n2,v2\n3,v2\n" >expect && test_cmp expect actual &&
    sq "select count(*) as n from information_schema.tables where table_name like '"'"'swapped__dbt%'"'"'" >actual &&
    printf "n\n0\n" >expect && test_cmp expect actual
'

test_expect_success 'a materialization that returns no relations is an error, as in dbt' '
    sed -i "s/fail_after_build=true/bad_return=true/" p/models/swapped.sql &&
    test_expect_code 1 dango run --project-dir p --profiles-dir . -s swapped >out &&
    test_grep "The materialization (\"swap_table\") did not explicitly return a list of relations to add to the cache." out
'

test_expect_success 'a package materialization (insert_by_period) inserts period by period' '
    cat >p/models/ibp.sql <<-\EOF &&
	{{ config(materialized="insert_by_period", timestamp_field="ts", start_date="2024-01-01", stop_date="2024-01-05", period="day") }}
	select id, ts from {{ ref("ev") }} where __PERIOD_FILTER__
	EOF
    dango run --project-dir p --profiles-dir . -s ibp >out &&
    test_grep "Ran for day 1 of 4; 1 records inserted" out &&
    test_grep "Ran for day 4 of 4; 0 records inserted" out &&
    test_grep "OK created sql insert_by_period model main.ibp" out &&
    sq "select * from main.ibp order by id" >actual &&
    printf "id,ts\n1,2024-01-01 12:00:00\n2,2024-01-02 12:00:00\n3,2024-01-03 12:00:00\n" >expect && test_cmp expect actual &&
    printf "id,ts\n1,2024-01-01 12:00:00\n2,2024-01-02 12:00:00\n3,2024-01-03 12:00:00\n4,2024-01-03 18:00:00\n5,2024-01-04 06:00:00\n" >p/seeds/ev.csv &&
    dango seed --project-dir p --profiles-dir . -s ev >out &&
    dango run --project-dir p --profiles-dir . -s ibp >out &&
    test_grep "Ran for day 1 of 2; 2 records inserted" out &&
    sq "select id from main.ibp order by id" >actual &&
    printf "id\n1\n2\n3\n4\n5\n" >expect && test_cmp expect actual &&
    dango run --project-dir p --profiles-dir . -s ibp --full-refresh >out &&
    sq "select count(*) as n from main.ibp" >actual && printf "n\n5\n" >expect && test_cmp expect actual
'

test_expect_success 'the project overrides the built-in table materialization; a package cannot override view' '
    echo "{{ config(materialized=\"table\") }} select 1 as id, '"'"'model row'"'"' as what" >p/models/t.sql &&
    echo "select 2 as id" >p/models/vw.sql &&
    dango run --project-dir p --profiles-dir . -s t vw >out &&
    test_grep "OK created sql table model main.t" out &&
    test_grep "OK created sql view model main.vw" out &&
    sq "select * from main.t order by id" >actual &&
    printf "id,what\n0,built by the project'"'"'s table materialization\n1,model row\n" >expect && test_cmp expect actual
'

test_expect_success 'adapter="duckdb" wins over default, as dbt picks the adapter'"'"'s first' '
    cat >p/macros/both.sql <<-\EOF &&
	{% materialization both, default %}
	  {{ exceptions.raise_compiler_error("the default one ran") }}
	{% endmaterialization %}
	{% materialization both, adapter="duckdb" %}
	  {% call statement("main") %}{{ create_view_as(this, sql) }}{% endcall %}
	  {{ return({"relations": [this.incorporate(type="view")]}) }}
	{% endmaterialization %}
	EOF
    echo "{{ config(materialized=\"both\") }} select 5 as five" >p/models/b.sql &&
    dango run --project-dir p --profiles-dir . -s b >out &&
    sq "select five from main.b" >actual && printf "five\n5\n" >expect && test_cmp expect actual
'

test_expect_success 'a materialization no one defines still fails its model' '
    echo "{{ config(materialized=\"nonesuch\") }} select 1 as id" >p/models/x.sql &&
    test_expect_code 1 dango run --project-dir p --profiles-dir . -s x >out &&
    test_grep "materialization .nonesuch. is not supported by Dango" out
'

test_done
