#!/usr/bin/env bash
# Custom materializations on a postgres target (#19), against a real
# server: {% materialization name, adapter='postgres' %} before the
# default one, run with dbt's context on the node's connection (this,
# load_cached_relation, make_temp_relation, create_table_as, statement,
# adapter.rename_relation/drop_relation/commit, hooks) in one transaction:
# a failure leaves the previous table as it was.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_start || { echo "not ok - PostgreSQL could not start"; exit 1; }
psql_do "CREATE DATABASE wh"

mkdir -p p/models p/macros p/seeds
printf 'name: p\nprofile: p\n' >p/dbt_project.yml
pg_dbt_profile
printf 'id,name\n1,ann\n2,bob\n' >p/seeds/people.csv
cat >p/macros/swap.sql <<\EOF
{% materialization swap_table, default %}
  {{ exceptions.raise_compiler_error("the default swap_table, not the postgres one") }}
{% endmaterialization %}

{% materialization swap_table, adapter='postgres' %}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set tmp_relation = make_temp_relation(target_relation) -%}
  {%- set backup_relation = make_backup_relation(target_relation, 'table') -%}
  {{ drop_relation_if_exists(load_cached_relation(tmp_relation)) }}
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
  {% if existing_relation is not none %}
    {{ adapter.drop_relation(backup_relation) }}
  {% endif %}
  {% do adapter.commit() %}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
EOF
cat >p/models/sw.sql <<\EOF
{{ config(materialized='swap_table', post_hook="insert into {{ this }} values (99, 'hook')") }}
select id, upper(name) as name from {{ ref('people') }}
EOF
echo "select count(*) as n from {{ ref('sw') }}" >p/models/after.sql
pgcsv() { PGDB=wh psql_do "COPY ($1) TO STDOUT WITH CSV"; }

test_expect_success 'the postgres materialization builds the table, swapped in, with its hooks' '
    dango build --project-dir p --profiles-dir . >out 2>err &&
    test_grep "OK created sql swap_table model analytics.sw " out &&
    test_grep "OK created sql view model analytics.after " out &&
    pgcsv "SELECT * FROM analytics.sw ORDER BY id" >actual &&
    printf "1,ANN\n2,BOB\n99,hook\n" >expect && test_cmp expect actual &&
    pgcsv "SELECT * FROM analytics.after" >actual && echo 3 >expect && test_cmp expect actual &&
    pgcsv "SELECT relname FROM pg_class WHERE relname LIKE '"'"'sw__dbt%'"'"'" >actual &&
    test ! -s actual &&
    grep -q "upper(name) as name from \"wh\".\"analytics\".\"people\"" p/target/compiled/p/models/sw.sql
'

test_expect_success 'a second run swaps the new rows in' '
    printf "id,name\n1,ann\n2,bob\n3,cy\n" >p/seeds/people.csv &&
    dango build --project-dir p --profiles-dir . >out 2>err &&
    pgcsv "SELECT * FROM analytics.sw ORDER BY id" >actual &&
    printf "1,ANN\n2,BOB\n3,CY\n99,hook\n" >expect && test_cmp expect actual
'

test_expect_success 'a failing materialization leaves the previous table, its dependents skip' '
    printf "id,name\n7,zed\n" >p/seeds/people.csv &&
    cat >p/models/sw.sql <<-\EOF &&
	{{ config(materialized="swap_table", fail_after_build=true) }}
	select id, upper(name) as name from {{ ref("people") }}
	EOF
    test_expect_code 1 dango build --project-dir p --profiles-dir . >out 2>err &&
    test_grep "ERROR creating sql swap_table model analytics.sw " out &&
    test_grep "failing on purpose after the build" out &&
    test_grep "SKIP relation analytics.after " out &&
    pgcsv "SELECT * FROM analytics.sw ORDER BY id" >actual &&
    printf "1,ANN\n2,BOB\n3,CY\n99,hook\n" >expect && test_cmp expect actual &&
    pgcsv "SELECT relname FROM pg_class WHERE relname LIKE '"'"'sw__dbt%'"'"'" >actual &&
    test ! -s actual
'

test_done
