#!/usr/bin/env bash
# dbt-duckdb's external files: sources with meta.external_location or
# config.external_location (formatted with the table's attributes, as
# dbt-duckdb formats them), and materialized: external (COPY to a file,
# and a view over it)
. "$(dirname "$0")/lib.sh"

mkdir -p p/models data
printf 'name: p\nprofile: p\n' >p/dbt_project.yml
printf 'p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: e.duckdb\n' >profiles.yml
printf 'id,name,ts\n1,ann,2024-01-01 10:00:00\n2,bob,2024-01-02 10:00:00\n' >data/people.csv
printf '{"id": 1, "v": "x"}\n{"id": 2, "v": "y"}\n' >data/things.json
printf 'id;city\n1;Oslo\n2;Rome\n' >data/raw_cities.txt
D=$PWD/data
cat >p/models/src.yml <<EOF
sources:
  - name: ext
    meta: {external_location: "$D/{name}.csv"}
    tables:
      - name: people
        config: {event_time: ts}
      - name: things
        meta: {external_location: "read_json('$D/{name}.json')"}
      - name: cities
        identifier: raw_cities
        config:
          external_location: "read_csv('$D/%(identifier)s.txt', delim=';', header=true)"
          formatter: oldstyle
      - name: pq
        meta: {external_location: "$D/\${name}_file.parquet", formatter: template}
EOF
echo "select p.id, p.name, t.v, c.city from {{ source('ext','people') }} p join {{ source('ext','things') }} t using (id) join {{ source('ext','cities') }} c using (id)" >p/models/joined.sql
dango init peek >/dev/null
sq() { cp e.duckdb peek/data/warehouse.duckdb && (cd peek && dango query --write --csv "$1"); }

test_expect_success 'sources read their external_location, formatted with the table name, identifier and meta' '
    dango run --project-dir p --profiles-dir . -s joined >out &&
    sq "select * from main.joined order by id" >actual &&
    printf "id,name,v,city\n1,ann,x,Oslo\n2,bob,y,Rome\n" >expect &&
    test_cmp expect actual &&
    grep -q "from .$D/people.csv. p join read_json(.$D/things.json.) t using (id) join read_csv(.$D/raw_cities.txt., delim=.;., header=true) c" p/target/compiled/p/models/joined.sql
'

test_expect_success 'materialized external writes parquet to the target folder by default, with a view over it' '
    echo "{{ config(materialized=\"external\") }} select id, name from {{ source(\"ext\", \"people\") }}" >p/models/people_pq.sql &&
    dango run --project-dir p --profiles-dir . -s people_pq >out &&
    test_grep "OK created sql external model main.people_pq" out &&
    test_grep "Finished running 1 external model" out &&
    test -f p/target/people_pq.parquet &&
    sq "select table_type from information_schema.tables where table_name = '"'"'people_pq'"'"'" >actual &&
    printf "table_type\nVIEW\n" >expect && test_cmp expect actual &&
    sq "select * from main.people_pq order by id" >actual &&
    printf "id,name\n1,ann\n2,bob\n" >expect && test_cmp expect actual &&
    sq "select * from read_parquet('"'"'$PWD/p/target/people_pq.parquet'"'"') order by id" >actual &&
    test_cmp expect actual &&
    sq "select contains(sql, '"'"'read_parquet('"'"') and contains(sql, '"'"'union_by_name'"'"') as ok from duckdb_views() where view_name = '"'"'people_pq'"'"'" >actual &&
    printf "ok\ntrue\n" >expect && test_cmp expect actual
'

test_expect_success 'a source can read what an external model wrote (template formatter)' '
    echo "{{ config(materialized=\"external\", location=\"$D/pq_file.parquet\") }} select 7 as n" >p/models/writer.sql &&
    dango run --project-dir p --profiles-dir . -s writer >out &&
    echo "select n * 2 as m from {{ source(\"ext\", \"pq\") }}" >p/models/reader.sql &&
    dango run --project-dir p --profiles-dir . -s reader >out &&
    sq "select * from main.reader" >actual && printf "m\n14\n" >expect && test_cmp expect actual
'

test_expect_success 'csv and json with a location, format and options; an empty result keeps its columns' '
    echo "{{ config(materialized=\"external\", location=\"$PWD/outdir/people.csv\", options={\"delimiter\": \"|\"}) }} select id, name from {{ source(\"ext\", \"people\") }} order by id" >p/models/people_csv.sql &&
    echo "{{ config(materialized=\"external\", location=\"$PWD/outdir/people_js\", format=\"json\") }} select id, name from {{ source(\"ext\", \"people\") }} where id = 2" >p/models/people_json.sql &&
    echo "{{ config(materialized=\"external\") }} select id, name from {{ source(\"ext\", \"people\") }} where false" >p/models/nobody.sql &&
    dango run --project-dir p --profiles-dir . -s people_csv people_json nobody >out &&
    printf "id|name\n1|ann\n2|bob\n" >expect && test_cmp expect outdir/people.csv &&
    printf "{\"id\":2,\"name\":\"bob\"}\n" >expect && test_cmp expect outdir/people_js &&
    sq "select (select count(*) from main.people_csv) as c, (select name from main.people_json) as j, (select count(*) from main.nobody) as e" >actual &&
    printf "c,j,e\n2,bob,0\n" >expect && test_cmp expect actual &&
    sq "select column_name from information_schema.columns where table_name = '"'"'nobody'"'"' order by ordinal_position" >actual &&
    printf "column_name\nid\nname\n" >expect && test_cmp expect actual
'

test_expect_success 'an external model replaces a table of its name; a bad format fails the model' '
    echo "{{ config(materialized=\"table\") }} select 1 as id" >p/models/flip.sql &&
    dango run --project-dir p --profiles-dir . -s flip >out &&
    echo "{{ config(materialized=\"external\") }} select 2 as id" >p/models/flip.sql &&
    dango run --project-dir p --profiles-dir . -s flip >out &&
    sq "select id from main.flip" >actual && printf "id\n2\n" >expect && test_cmp expect actual &&
    echo "{{ config(materialized=\"external\", format=\"xlsx\") }} select 1 as id" >p/models/badfmt.sql &&
    test_expect_code 1 dango run --project-dir p --profiles-dir . -s badfmt >out &&
    test_grep "Invalid format: xlsx. Allowed formats are: csv, parquet, json" out
'

test_expect_success 'a microbatch model reads a source with an event_time a batch at a time' '
    printf "{{ config(materialized=\"incremental\", incremental_strategy=\"microbatch\", event_time=\"ts\", batch_size=\"day\", begin=\"2024-01-01\") }}\nselect id, ts from {{ source(\"ext\", \"people\") }}\n" >p/models/mb.sql &&
    DANGO_NOW=2024-01-02T12:00:00Z dango run --project-dir p --profiles-dir . -s mb >out &&
    test_grep "Batch 2 of 2 OK created batch 2024-01-02 of main.mb" out &&
    grep -q "from (select \* from .$D/people.csv. where ts >= .2024-01-02 00:00:00+00:00. and ts < .2024-01-03 00:00:00+00:00.)" p/target/compiled/p/models/mb.sql &&
    sq "select count(*) as n from main.mb" >actual && printf "n\n2\n" >expect && test_cmp expect actual
'

test_expect_success 'an external_location naming an attribute the source does not have is an error' '
    printf "sources:\n  - name: bad\n    tables:\n      - name: t\n        meta: {external_location: \"data/{nope}.csv\"}\n" >p/models/bad.yml &&
    test_expect_code 1 dango run --project-dir p --profiles-dir . -s joined >out 2>err &&
    test_grep "models/bad.yml: source table .bad.t.: external_location .data/{nope}.csv.: the source has no attribute .nope." err &&
    rm p/models/bad.yml
'

test_done
