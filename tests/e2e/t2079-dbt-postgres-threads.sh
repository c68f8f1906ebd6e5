#!/usr/bin/env bash
# --threads on a postgres target (#19), against a real server: N
# connections, independent nodes built at once in dependency order, each
# on its own connection; a failing node fails only itself and skips what
# depends on it; run_results.json has every node; target/compiled/ and
# target/run/ are written during the run, as on DuckDB.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/e2e/db_lib.sh"

pg_start || { echo "not ok - PostgreSQL could not start"; exit 1; }
psql_do "CREATE DATABASE wh"

mkdir -p p/models p/seeds
printf 'name: p\nprofile: p\nmodels:\n  p:\n    +materialized: table\n' >p/dbt_project.yml
pg_dbt_profile
echo "      threads: 4" >>profiles.yml
printf 'id,grp\n1,a\n2,b\n3,a\n4,c\n' >p/seeds/base.csv
# four branches off the seed; each holds its builder's backend pid, and
# sleeps a little so that the others are handed to the other workers
for b in b1 b2 b3 b4; do
    echo "select id, grp, '$b' as branch, pg_backend_pid() as pid from {{ ref('base') }}, pg_sleep(1)" >p/models/$b.sql
    echo "select grp, count(*) as n, max(branch) as branch from {{ ref('$b') }} group by grp" >p/models/${b}_agg.sql
done
echo "select nosuch from {{ ref('base') }}" >p/models/bad.sql
echo "select * from {{ ref('bad') }}" >p/models/bad_child.sql
echo "{{ config(materialized='view') }} select b1.id, b4.branch from {{ ref('b1') }} b1 join {{ ref('b4') }} b4 using (id)" >p/models/joined.sql
cat >p/models/schema.yml <<\EOF
models:
  - name: b2
    columns:
      - name: id
        tests: [unique, not_null]
  - name: bad_child
    columns:
      - name: nosuch
        tests: [not_null]
EOF
pgcsv() { PGDB=wh psql_do "COPY ($1) TO STDOUT WITH CSV"; }

test_expect_success 'profile threads: 4: the branches on their own connections, every row right' '
    test_expect_code 1 dango build --project-dir p --profiles-dir . >out 2>err &&
    pgcsv "SELECT count(DISTINCT pid) > 1 FROM (SELECT pid FROM analytics.b1 UNION ALL SELECT pid FROM analytics.b2
           UNION ALL SELECT pid FROM analytics.b3 UNION ALL SELECT pid FROM analytics.b4) q" >actual &&
    echo t >expect && test_cmp expect actual &&
    for b in b1 b2 b3 b4; do
        pgcsv "SELECT id, grp, branch FROM analytics.$b ORDER BY id" >actual &&
        printf "1,a,$b\n2,b,$b\n3,a,$b\n4,c,$b\n" >expect && test_cmp expect actual &&
        pgcsv "SELECT * FROM analytics.${b}_agg ORDER BY grp" >actual &&
        printf "a,2,$b\nb,1,$b\nc,1,$b\n" >expect && test_cmp expect actual || return 1
    done &&
    pgcsv "SELECT * FROM analytics.joined ORDER BY id" >actual &&
    printf "1,b4\n2,b4\n3,b4\n4,b4\n" >expect && test_cmp expect actual
'

test_expect_success 'a failing node fails only itself and skips what depends on it' '
    test_grep "ERROR creating sql table model analytics.bad " out &&
    test_grep "SKIP relation analytics.bad_child " out &&
    test_grep "SKIP test not_null_bad_child_nosuch " out &&
    test_grep "PASS unique_b2_id " out &&
    test_grep "Done. PASS=12 WARN=0 ERROR=1 SKIP=2 TOTAL=15" out &&
    pgcsv "SELECT count(*) FROM pg_class WHERE relname IN ('"'"'bad'"'"', '"'"'bad_child'"'"')" >actual &&
    echo 0 >expect && test_cmp expect actual &&
    grep -c " of 15 " out >n && echo 15 >expect && test_cmp expect n
'

test_expect_success 'run_results.json has every node, with its status' '
    jq -r ".results[] | [.unique_id, .status] | @tsv" p/target/run_results.json | sort >actual &&
    {
        for b in b1 b2 b3 b4; do printf "model.p.$b\tsuccess\nmodel.p.${b}_agg\tsuccess\n"; done
        printf "model.p.bad\terror\nmodel.p.bad_child\tskipped\nmodel.p.joined\tsuccess\nseed.p.base\tsuccess\n"
    } | sort >expect.m &&
    grep -v "^test" actual >models && test_cmp expect.m models &&
    grep "^test" actual | cut -f2 | sort | uniq -c | sed "s/^ *//" >actual.t &&
    printf "2 pass\n1 skipped\n" >expect.t && test_cmp expect.t actual.t &&
    jq -r ".results | length" p/target/run_results.json >n && echo 15 >expect && test_cmp expect n
'

test_expect_success 'target/compiled/ and target/run/ are written during the run' '
    grep -q "from \"wh\".\"analytics\".\"base\"" p/target/compiled/p/models/b1.sql &&
    ! grep -q "create table" p/target/compiled/p/models/b1.sql &&
    grep -q "create table \"analytics\".\"b1__dbt_tmp\"" p/target/run/p/models/b1.sql &&
    grep -q "rename to \"b1\"" p/target/run/p/models/b1.sql &&
    grep -q "create or replace view \"analytics\".\"joined\"" p/target/run/p/models/joined.sql &&
    test -f p/target/compiled/p/models/schema.yml/unique_b2_id.sql &&
    grep -q "nosuch" p/target/compiled/p/models/bad.sql
'

test_expect_success '--threads 1: one connection, the same rows' '
    test_expect_code 1 dango run --threads 1 --project-dir p --profiles-dir . >out 2>err &&
    pgcsv "SELECT count(DISTINCT pid) FROM (SELECT pid FROM analytics.b1 UNION ALL SELECT pid FROM analytics.b2
           UNION ALL SELECT pid FROM analytics.b3 UNION ALL SELECT pid FROM analytics.b4) q" >actual &&
    echo 1 >expect && test_cmp expect actual &&
    pgcsv "SELECT * FROM analytics.b3_agg ORDER BY grp" >actual &&
    printf "a,2,b3\nb,1,b3\nc,1,b3\n" >expect && test_cmp expect actual &&
    test_grep "Done. PASS=9 WARN=0 ERROR=1 SKIP=1 TOTAL=11" out
'

test_done
