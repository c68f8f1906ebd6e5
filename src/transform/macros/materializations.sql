{#- dbt's macros for materializations, as dbt-duckdb has them, for the
    custom materializations of projects and packages (src/transform/custom.c).
    Hooks come rendered: run_hooks runs their SQL. -#}

{% macro run_hooks(hooks, inside_transaction=True) %}
  {% for hook in hooks | selectattr('transaction', 'equalto', inside_transaction) %}
    {% set rendered = hook.get('sql') | trim %}
    {% if (rendered | length) > 0 %}
      {% call statement(auto_begin=inside_transaction) %}
        {{ rendered }}
      {% endcall %}
    {% endif %}
  {% endfor %}
{% endmacro %}

{% macro load_cached_relation(relation) %}
  {% do return(adapter.get_relation(database=relation.database, schema=relation.schema, identifier=relation.identifier)) -%}
{% endmacro %}

{% macro create_table_as(temporary, relation, compiled_code, language='sql') -%}
  {{ adapter.dispatch('create_table_as', 'dbt')(temporary, relation, compiled_code, language) }}
{%- endmacro %}
{% macro default__create_table_as(temporary, relation, compiled_code, language='sql') -%}
  create {% if temporary %}temporary {% endif %}table
    {{ relation.include(database=(not temporary), schema=(not temporary)) }}
  as (
    {{ compiled_code }}
  );
{%- endmacro %}

{% macro get_create_table_as_sql(temporary, relation, sql) -%}
  {{ return(create_table_as(temporary, relation, sql)) }}
{%- endmacro %}

{% macro create_view_as(relation, sql) -%}
  {{ adapter.dispatch('create_view_as', 'dbt')(relation, sql) }}
{%- endmacro %}
{% macro default__create_view_as(relation, sql) -%}
  create view {{ relation }} as (
    {{ sql }}
  );
{%- endmacro %}

{% macro get_create_view_as_sql(relation, sql) -%}
  {{ return(create_view_as(relation, sql)) }}
{%- endmacro %}

{% macro drop_relation_if_exists(relation) %}
  {% if relation is not none %}
    {{ adapter.drop_relation(relation) }}
  {% endif %}
{% endmacro %}

{% macro truncate_relation(relation) -%}
  {% call statement('truncate_relation') -%}
    truncate table {{ relation }}
  {%- endcall %}
{%- endmacro %}

{% macro get_quoted_csv(column_names) %}
  {% set quoted = [] %}
  {% for col in column_names -%}
    {%- do quoted.append(adapter.quote(col)) -%}
  {%- endfor %}
  {%- set dest_cols_csv = quoted | join(', ') -%}
  {{ return(dest_cols_csv) }}
{% endmacro %}

{#- persist_docs is applied by Dango after the materialization, from the
    model's config, for every materialization -#}
{% macro persist_docs(relation, model, for_relation=true, for_columns=true) -%}
{%- endmacro %}

{% macro apply_grants(relation, grant_config, should_revoke=True) %}
  {% if grant_config %}
    {{ exceptions.warn("grants are not supported by DuckDB: the grants config of " ~ relation ~ " is ignored") }}
  {% endif %}
{% endmacro %}

{% macro should_revoke(existing_relation, full_refresh_mode=True) %}
  {{ return(false) }}
{% endmacro %}

{% macro create_indexes(relation) %}
{% endmacro %}

{% macro drop_indexes_on_relation(relation) %}
{% endmacro %}
