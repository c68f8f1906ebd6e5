#!/usr/bin/env bash
# Seeds on a postgres target (#19), against a real server: the CSV typed as
# dbt-postgres types it (integer, bigint when too big, float8, boolean, date,
# timestamp without time zone, text; column_types as written), loaded with
# COPY, truncated and reloaded on the next seed, rebuilt with --full-refresh,
# a failed load leaving the old rows; and the adapter's introspection
# (get_columns_in_relation, get_relation, load_relation, drop_relation,
# list_relations_without_caching) on the live connection.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_start || { echo "not ok - PostgreSQL could not start"; exit 1; }
psql_do "CREATE DATABASE wh"

mkdir -p p/models p/seeds
cat >p/dbt_project.yml <<\EOF
name: p
profile: p
seeds:
  p:
    people:
      +column_types:
        nick: varchar(10)
    loud:
      +quote_columns: false
    gone:
      +post-hook: "{% do adapter.drop_relation(this.incorporate(type='table')) %}"
    other:
      +schema: extra
EOF
pg_dbt_profile
cat >p/seeds/people.csv <<\EOF
id,name,nick,score,joined,active,seen_at,big
1,Ann,annie,1.5,2024-01-02,true,2024-01-02 03:04:05,3000000000
2,"Bo, ""Jr""",,2.25,2024-02-29,false,,1
3,C\D,cd,,,,2024-03-01 00:00:00,
EOF
printf 'Id,MiXed\n1,x\n' >p/seeds/loud.csv
printf 'a\n1\n' >p/seeds/gone.csv
printf 'a\n7\n' >p/seeds/other.csv

pgcsv() { PGDB=wh psql_do "COPY ($1) TO STDOUT WITH CSV"; }

test_expect_success 'dango seed loads every seed with COPY, typed as dbt-postgres types them' '
    dango seed --project-dir p --profiles-dir . >out 2>err &&
    test_grep "OK loaded seed file analytics.people .* \[INSERT 3 in" out &&
    test_grep "OK loaded seed file analytics_extra.other .* \[INSERT 1 in" out &&
    test_grep "Done. PASS=4 WARN=0 ERROR=0 SKIP=0 TOTAL=4" out &&
    pgcsv "SELECT * FROM analytics.people ORDER BY id" >actual &&
    cat >expect <<-\EOF &&
	1,Ann,annie,1.5,2024-01-02,t,2024-01-02 03:04:05,3000000000
	2,"Bo, ""Jr""",,2.25,2024-02-29,f,,1
	3,C\D,cd,,,,2024-03-01 00:00:00,
	EOF
    test_cmp expect actual &&
    pgcsv "SELECT column_name, data_type, character_maximum_length FROM information_schema.columns
           WHERE table_schema = '"'"'analytics'"'"' AND table_name = '"'"'people'"'"' ORDER BY ordinal_position" >actual &&
    cat >expect <<-\EOF &&
	id,integer,
	name,text,
	nick,character varying,10
	score,double precision,
	joined,date,
	active,boolean,
	seen_at,timestamp without time zone,
	big,bigint,
	EOF
    test_cmp expect actual &&
    pgcsv "SELECT id, mixed FROM analytics.loud" >actual &&
    echo "1,x" >expect && test_cmp expect actual &&
    pgcsv "SELECT a FROM analytics_extra.other" >actual &&
    echo 7 >expect && test_cmp expect actual
'

test_expect_success 'a post-hook drops its seed through the adapter, on the same connection' '
    pgcsv "SELECT count(*) FROM pg_class WHERE relname = '"'"'gone'"'"'" >actual &&
    echo 0 >expect && test_cmp expect actual
'

test_expect_success 'a second seed truncates and reloads: a view on the seed survives' '
    echo "select id, name from {{ ref('"'"'people'"'"') }}" >p/models/people_v.sql &&
    dango run --project-dir p --profiles-dir . >out &&
    printf "id,name,nick,score,joined,active,seen_at,big\n9,Zed,z,0.5,2024-05-05,true,2024-05-05 05:05:05,4\n" >p/seeds/people.csv &&
    dango seed --project-dir p --profiles-dir . -s people >out &&
    test_grep "\[INSERT 1 in" out &&
    pgcsv "SELECT * FROM analytics.people_v" >actual &&
    echo "9,Zed" >expect && test_cmp expect actual
'

test_expect_success 'a seed that does not load leaves the old rows and says why' '
    printf "id,name,nick,score,joined,active,seen_at,big\n10,Yan,far_too_long_nick,1,2024-01-01,true,,1\n" >p/seeds/people.csv &&
    test_expect_code 1 dango seed --project-dir p --profiles-dir . -s people >out &&
    test_grep "ERROR loading seed file analytics.people " out &&
    test_grep "value too long for type character varying(10)" out &&
    pgcsv "SELECT id FROM analytics.people" >actual &&
    echo 9 >expect && test_cmp expect actual
'

test_expect_success '--full-refresh drops the table (its views too, as dbt-postgres) and creates it again' '
    printf "id,name,nick,score,joined,active,seen_at,big,extra\n11,Xi,x,1.5,2024-01-01,true,2024-01-01 00:00:00,1,new\n" >p/seeds/people.csv &&
    dango seed --project-dir p --profiles-dir . -s people --full-refresh >out &&
    pgcsv "SELECT id, extra FROM analytics.people" >actual &&
    echo "11,new" >expect && test_cmp expect actual &&
    pgcsv "SELECT count(*) FROM pg_class WHERE relname = '"'"'people_v'"'"'" >actual &&
    echo 0 >expect && test_cmp expect actual
'

test_expect_success 'adapter introspection reads the live database' '
    cat >p/models/introspect.sql <<-\EOF &&
	{% set rel = adapter.get_relation(database=target.database, schema=target.schema, identifier="people") %}
	{% set none_rel = adapter.get_relation(database=target.database, schema=target.schema, identifier="nope") %}
	{% set loaded = load_relation(ref("people")) %}
	{% set rels = adapter.list_relations_without_caching(api.Relation.create(database=target.database, schema=target.schema)) %}
	{% set cols = adapter.get_columns_in_relation(ref("people")) if execute else [] %}
	{% for c in cols %}
	select {{ loop.index }} as pos, '"'"'{{ c.name }}'"'"' as name, '"'"'{{ c.data_type }}'"'"' as data_type,
	  '"'"'{{ rel.type }}'"'"' as kind, {{ none_rel is none }} as none_is_none, '"'"'{{ loaded.identifier }}'"'"' as loaded,
	  '"'"'{{ rels | map(attribute="identifier") | join(" ") }}'"'"' as rels
	{% if not loop.last %}union all{% endif %}
	{% endfor %}
	{% if not execute %}select 1 as pos{% endif %}
	EOF
    dango run --project-dir p --profiles-dir . -s introspect >out &&
    pgcsv "SELECT pos, name, data_type, kind, none_is_none, loaded FROM analytics.introspect ORDER BY pos" >actual &&
    cat >expect <<-\EOF &&
	1,id,integer,table,t,people
	2,name,text,table,t,people
	3,nick,character varying(10),table,t,people
	4,score,double precision,table,t,people
	5,joined,date,table,t,people
	6,active,boolean,table,t,people
	7,seen_at,timestamp without time zone,table,t,people
	8,big,integer,table,t,people
	9,extra,text,table,t,people
	EOF
    test_cmp expect actual &&
    pgcsv "SELECT DISTINCT rels FROM analytics.introspect" >actual &&
    echo "loud people" >expect && test_cmp expect actual
'

test_done
