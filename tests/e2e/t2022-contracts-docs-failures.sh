#!/usr/bin/env bash
# contracts (enforced: the columns and types checked, dbt's mismatch table;
# not_null and primary_key as DDL), persist_docs (COMMENT ON relations and
# columns), store_failures (the failing rows in <schema>_dbt_test__audit)
. "$(dirname "$0")/lib.sh"

mkdir -p p/models
printf 'name: p\nprofile: p\nmodels:\n  p:\n    +persist_docs: {relation: true, columns: true}\n' >p/dbt_project.yml
printf 'p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: c.duckdb\n' >profiles.yml
echo "select 1 as id, 'a' as name" >p/models/good.sql
echo "select 1 as id, 'a' as name, 2.5 as extra" >p/models/bad.sql
echo "select null::int as id, 'a' as name" >p/models/nulls.sql
echo "select 1 as id union all select 1 union all select 2" >p/models/dups.sql
cat >p/models/schema.yml <<\EOF
models:
  - name: good
    description: "The good model"
    config: {materialized: table, contract: {enforced: true}}
    columns:
      - name: id
        description: "the key"
        data_type: int
        constraints: [{type: not_null}, {type: primary_key}]
      - name: name
        data_type: text
  - name: bad
    config: {contract: {enforced: true}}
    columns:
      - {name: id, data_type: varchar}
      - {name: name, data_type: text}
      - {name: gone, data_type: int}
  - name: nulls
    config: {materialized: table, contract: {enforced: true}}
    columns:
      - {name: id, data_type: integer, constraints: [{type: not_null}]}
      - {name: name, data_type: varchar}
  - name: dups
    description: "a view with duplicates"
    columns:
      - name: id
        description: "not unique"
        tests:
          - unique:
              config: {store_failures: true}
EOF
dango init peek >/dev/null
sq() { cp c.duckdb peek/data/warehouse.duckdb && (cd peek && dango query --csv "$1"); }

test_expect_success 'an enforced contract: a mismatch fails the model with dbt'"'"'s table; constraints are DDL' '
    test_expect_code 1 dango build --project-dir p --profiles-dir . >out 2>err &&
    sed -n "/Error in model bad/,/missing in definition/p" out | cut -c11- >actual &&
    cat >expect <<-\EOF &&
	Runtime Error in model bad (models/bad.sql)
	  This model has an enforced contract that failed.
	  Please ensure the name, data_type, and number of columns in your contract match the columns in your model'"'"'s definition.
	  
	  | column_name          | definition_type      | contract_type        | mismatch_reason       |
	  | -------------------- | -------------------- | -------------------- | --------------------- |
	  | id                   | INTEGER              | VARCHAR              | data type mismatch    |
	  | extra                | DECIMAL(2,1)         |                      | missing in contract   |
	  | gone                 |                      | INTEGER              | missing in definition |
	EOF
    test_cmp expect actual &&
    test_grep "NOT NULL constraint failed: nulls__dbt_tmp.id" out &&
    test_grep "OK created sql table model main.good" out &&
    sq "select constraint_type, constraint_column_names from duckdb_constraints() where table_name = '"'"'good'"'"' order by 1" >actual &&
    printf "constraint_type,constraint_column_names\nNOT NULL,[id]\nPRIMARY KEY,[id]\n" >expect && test_cmp expect actual &&
    sq "select column_name, data_type from information_schema.columns where table_name = '"'"'good'"'"' order by ordinal_position" >actual &&
    printf "column_name,data_type\nid,INTEGER\nname,VARCHAR\n" >expect && test_cmp expect actual &&
    sq "select count(*) from information_schema.tables where table_name in ('"'"'bad'"'"', '"'"'nulls'"'"')" >actual &&
    printf "count_star()\n0\n" >expect && test_cmp expect actual
'

test_expect_success 'persist_docs: the descriptions are the relations'"'"' and columns'"'"' comments' '
    sq "select table_name, comment from duckdb_tables() where table_name = '"'"'good'"'"' union all select view_name, comment from duckdb_views() where view_name = '"'"'dups'"'"'" >actual &&
    printf "table_name,comment\ngood,The good model\ndups,a view with duplicates\n" >expect && test_cmp expect actual &&
    sq "select table_name, column_name, comment from duckdb_columns() where table_name in ('"'"'good'"'"', '"'"'dups'"'"') order by 1, 2" >actual &&
    printf "table_name,column_name,comment\ndups,id,not unique\ngood,id,the key\ngood,name,\n" >expect && test_cmp expect actual
'

test_expect_success 'store_failures: the failing rows are a table in <schema>_dbt_test__audit' '
    test_grep "FAIL 1 unique_dups_id" out &&
    sq "select * from main_dbt_test__audit.unique_dups_id" >actual &&
    printf "unique_field,n_records\n1,2\n" >expect && test_cmp expect actual
'

test_done
