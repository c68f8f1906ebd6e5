#!/usr/bin/env bash
# On a postgres target (#19), against a real server: enforced model
# contracts as dbt-postgres has them. The table is created with the
# declared types and constraints before its rows go in; a model whose
# columns differ from its contract fails with dbt's mismatch table and
# builds nothing; a row that breaks a constraint fails the model and
# leaves the previous table; a contracted view is checked, not
# constrained; incremental runs keep the contracted table.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_start || { echo "not ok - PostgreSQL could not start"; exit 1; }
psql_do "CREATE DATABASE wh"
PGDB=wh psql_do "CREATE TABLE public.people (id int, name text, age int);
  INSERT INTO public.people VALUES (1, 'ann', 30), (2, 'bob', 40)"

mkdir -p p/models
cat >p/dbt_project.yml <<\EOF
name: p
profile: p
EOF
pg_dbt_profile
cat >p/models/schema.yml <<\EOF
sources:
  - name: raw
    schema: public
    tables:
      - name: people
models:
  - name: people_t
    config:
      materialized: table
      contract: {enforced: true}
    constraints:
      - type: check
        columns: [age]
        expression: "age >= 0"
    columns:
      - name: id
        data_type: int
        constraints:
          - type: not_null
          - type: primary_key
      - name: name
        data_type: varchar(20)
      - name: age
        data_type: integer
  - name: people_v
    config:
      materialized: view
      contract: {enforced: true}
    columns:
      - name: id
        data_type: integer
      - name: name
        data_type: text
  - name: people_inc
    config:
      materialized: incremental
      unique_key: id
      contract: {enforced: true}
    columns:
      - name: id
        data_type: integer
        constraints:
          - type: not_null
      - name: age
        data_type: integer
EOF
echo "select id, name::varchar(20) as name, age from {{ source('raw', 'people') }}" >p/models/people_t.sql
echo "select id, name from {{ source('raw', 'people') }}" >p/models/people_v.sql
echo "select id, age from {{ source('raw', 'people') }}" >p/models/people_inc.sql

pgcsv() { PGDB=wh psql_do "COPY ($1) TO STDOUT WITH CSV"; }
columns_of() {
    pgcsv "SELECT column_name, data_type, character_maximum_length, is_nullable FROM information_schema.columns
           WHERE table_schema = 'analytics' AND table_name = '$1' ORDER BY ordinal_position"
}

test_expect_success 'a contracted table is created with its declared types and constraints, then filled' '
    dango run --project-dir p --profiles-dir . >out 2>err &&
    test_grep "OK created sql table model analytics.people_t " out &&
    test_grep "OK created sql view model analytics.people_v " out &&
    test_grep "OK created sql incremental model analytics.people_inc " out &&
    columns_of people_t >actual &&
    cat >expect <<-\EOF &&
	id,integer,,NO
	name,character varying,20,YES
	age,integer,,YES
	EOF
    test_cmp expect actual &&
    pgcsv "SELECT contype, pg_get_constraintdef(oid) FROM pg_constraint
           WHERE conrelid = '"'"'analytics.people_t'"'"'::regclass ORDER BY contype" >actual &&
    cat >expect <<-\EOF &&
	c,CHECK ((age >= 0))
	p,PRIMARY KEY (id)
	EOF
    test_cmp expect actual &&
    pgcsv "SELECT * FROM analytics.people_t ORDER BY id" >actual &&
    printf "1,ann,30\n2,bob,40\n" >expect && test_cmp expect actual &&
    columns_of people_inc >actual &&
    printf "id,integer,,NO\nage,integer,,YES\n" >expect && test_cmp expect actual
'

test_expect_success 'a row breaking a constraint fails the model; the previous table stays' '
    PGDB=wh psql_do "INSERT INTO public.people VALUES (3, '"'"'cy'"'"', -1)" &&
    test_expect_code 1 dango run --project-dir p --profiles-dir . -s people_t >out 2>err &&
    test_grep "ERROR creating sql table model analytics.people_t " out &&
    test_grep "violates check constraint" out &&
    pgcsv "SELECT * FROM analytics.people_t ORDER BY id" >actual &&
    printf "1,ann,30\n2,bob,40\n" >expect && test_cmp expect actual &&
    PGDB=wh psql_do "DELETE FROM public.people WHERE id = 3"
'

test_expect_success 'columns that differ from the contract: dbt'"'"'s mismatch table, nothing built' '
    echo "select id, name, age::bigint as age, 1 as extra from {{ source('"'"'raw'"'"', '"'"'people'"'"') }}" >p/models/people_t.sql &&
    test_expect_code 1 dango run --project-dir p --profiles-dir . -s people_t >out 2>err &&
    test_grep "This model has an enforced contract that failed." out &&
    test_grep "| name                 | text                 | character varying(20) | data type mismatch" out &&
    test_grep "| age                  | bigint               | integer              | data type mismatch" out &&
    test_grep "| extra                | integer              |                      | missing in contract" out &&
    columns_of people_t >actual &&
    printf "id,integer,,NO\nname,character varying,20,YES\nage,integer,,YES\n" >expect && test_cmp expect actual
'

test_expect_success 'a contracted view is checked against its contract' '
    echo "select id::bigint as id, name from {{ source('"'"'raw'"'"', '"'"'people'"'"') }}" >p/models/people_v.sql &&
    test_expect_code 1 dango run --project-dir p --profiles-dir . -s people_v >out 2>err &&
    test_grep "| id                   | bigint               | integer              | data type mismatch" out
'

test_expect_success 'an incremental run inserts into the contracted table, which keeps its constraints' '
    PGDB=wh psql_do "INSERT INTO public.people VALUES (4, '"'"'dee'"'"', 50)" &&
    dango run --project-dir p --profiles-dir . -s people_inc >out 2>err &&
    pgcsv "SELECT * FROM analytics.people_inc ORDER BY id" >actual &&
    printf "1,30\n2,40\n4,50\n" >expect && test_cmp expect actual &&
    columns_of people_inc >actual &&
    printf "id,integer,,NO\nage,integer,,YES\n" >expect && test_cmp expect actual
'

test_done
